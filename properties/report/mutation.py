"""The report's mutation section, from ``reports/mutation.json`` (written by ``make mutation``).

Mutation testing is long (tens of minutes here), so ``make report`` does not run it: it
shows the last summary ``make mutation`` left (``properties/meta/mutation_summary.py``),
or says how to make one. Every piece of text from the summary is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from properties.report.markup import pre, table


def _survivor_row(s: dict[str, Any]) -> list[str]:
    """One survivor: where, the mutation, and why it may survive."""
    argument = s.get("argument")
    return [
        f"<code>{escape(s['function'])}</code><br><span class=meta>{escape(s['id'])}</span>",
        pre(s.get("diff", ""), "long"),
        escape(argument) if argument else "<b class=failed>no argument written</b>",
    ]


#: where ``make mutation`` writes its summary (``properties/meta/mutation_summary.py``)
MUTATION_JSON = Path("reports/mutation.json")


def render_mutation(path: Path = MUTATION_JSON) -> str:
    """The mutation section (heading included) for the summary at ``path``, if any."""
    heading = "<h2 id=mutation>Mutation score</h2>"
    if not path.is_file():
        missing = escape(str(path))
        return f"{heading}<p>No mutation summary ({missing}): run <code>make mutation</code>.</p>"
    summary = json.loads(path.read_text(encoding="utf-8"))
    score = summary.get("score")
    shown = f"{100 * score:.1f} %" if score is not None else "n/a"
    modules = [
        [escape(m), *(f"num:{counts.get(k, 0)}" for k in ("killed", "survived"))]
        for m, counts in summary.get("by_module", {}).items()
    ]
    unchecked = summary.get("not_checked", 0)
    return (
        f"{heading}<p>Mutants of <code>reference/</code> killed by the properties "
        f"(mutmut, <code>make mutation</code>): <b>{shown}</b> ({summary['killed']} killed, "
        f"{summary['survived']} survived of {summary['total']})."
        + (f" <b class=failed>{unchecked} not checked (interrupted run).</b>" if unchecked else "")
        + "</p>"
        + table(["file", "killed", "survived"], modules)
        + "<h3>Surviving mutants and why</h3>"
        + table(["function", "mutation", "argument"], map(_survivor_row, summary["survivors"]))
    )

"""What an audit shows: progress lines, the terminal matrix, JSON, JUnit XML and HTML.

All outputs say the same things: per implementation, per theorem, how many applicable
properties held and how many did not; then, per implementation, each property that did
not hold, first thing to fix first (see ``fix_order``), with its message and Hypothesis's
shrunk counterexample; and each property's accuracy grade where it recorded one
("componentwise accurate", or "backward stable only" naming the weaker quantities).

The JSON follows ``schema.json`` beside this module (``SCHEMA_ID``); the HTML page
reuses the look of ``make report`` (``properties.report.render``: its CSS and helpers,
imported), is self-contained (no script, no network) and filters by theorem with CSS
alone (radio buttons).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict
from html import escape
from typing import Any

from properties.auditing.runner import FAILING, Result, Settings, Verdict
from properties.report import render

SCHEMA_ID = "https://nnlaws.invalid/schemas/audit-1.json"
#: failure kinds, most blocking first (an import error hides everything else)
SEVERITY = ("timed out", "error", "failed")
#: at most this many lines of a counterexample in a progress line
PROGRESS_LINES = 14


def _contract_order() -> dict[str, int]:
    from reference import CONTRACT_NAMES

    return {name: i for i, name in enumerate(CONTRACT_NAMES)}


def fix_order(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """Failing verdicts, first thing to fix first.

    The contract lists forward functions before their gradients and building blocks
    before what uses them (``conv2d_output_shape``, ``conv2d``, ... ``cross_entropy_grad``),
    and gradient properties call the forward function too: so failures are ordered by
    the earliest contract name they use, then by fewer names (a property about one
    function points at it), then hangs before exceptions before wrong values.
    """
    rank = _contract_order()
    failing = [v for v in verdicts if v.verdict in FAILING]
    return sorted(
        failing,
        key=lambda v: (
            min(rank.get(n, 99) for n in v.uses),
            len(v.uses),
            SEVERITY.index(v.verdict),
        ),
    )


def grade(v: Verdict) -> str:
    """``componentwise accurate``, ``backward stable only (weaker: dx)``, or nothing."""
    if not v.accuracy:
        return ""
    weaker = v.accuracy.get("weaker") or []
    return v.accuracy["grade"] + (f" (weaker: {', '.join(weaker)})" if weaker else "")


def progress_line(label: str, v: Verdict | list[str]) -> str:
    """What an implementation's names resolved to; a finished property (with its example)."""
    if isinstance(v, list):
        return "\n".join(f"[{label}] {line}" for line in v)
    shown = v.verdict.upper() if v.verdict == "failed" else v.verdict
    head = f"[{label}] {v.theorem}::{v.name}: {shown}"
    held = v.verdict == "held"  # a grade qualifies a property that holds, nothing else
    head += f" ({v.duration:.1f} s)" + (f", {grade(v)}" if held and grade(v) else "")
    if v.verdict not in FAILING:
        return head
    body = (v.counterexample + "\n" + v.message).strip().splitlines()
    if len(body) > PROGRESS_LINES:
        body = [*body[:PROGRESS_LINES], "... (in full at the end)"]
    return "\n".join([head, *(f"    {line}" for line in body)])


def _applicable(result: Result, theorem: str) -> list[Verdict]:
    return [
        v
        for v in result.verdicts.values()
        if v.theorem == theorem and v.verdict != "not applicable"
    ]


def cell(result: Result, theorem: str) -> str:
    """A matrix cell: ``5/5 held``, ``3/5 held``, ``-`` where no property applies."""
    applicable = _applicable(result, theorem)
    if result.status != "audited":
        return result.status
    if not applicable:
        return "-"
    held = sum(v.verdict == "held" for v in applicable)
    return f"{held}/{len(applicable)} held"


def cell_class(result: Result, theorem: str) -> str:
    """``na`` (nothing applies), ``ok`` (all held) or ``bad``."""
    applicable = _applicable(result, theorem)
    if result.status == "audited" and not applicable:
        return "na"
    held = result.status == "audited" and all(v.verdict == "held" for v in applicable)
    return "ok" if held else "bad"


def theorems_of(results: Sequence[Result]) -> list[str]:
    """The theorems seen in any result, in suite order."""
    seen: dict[str, None] = {}
    for result in results:
        for v in result.verdicts.values():
            seen.setdefault(v.theorem)
    return list(seen)


def terminal(results: Sequence[Result]) -> str:
    """The matrix, then every implementation's failures, first thing to fix first."""
    theorems = theorems_of(results)
    rows = [["implementation", *theorems, "verdict"]]
    for r in results:
        rows.append([r.target.label, *(cell(r, t) for t in theorems), verdict_of(r)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in results:
        if not r.failing:
            continue
        lines += ["", f"== {r.target.label} ({r.target.named}): {verdict_of(r)}"]
        lines += [f"   {s}" for s in r.substitutions]
        if r.status != "audited":
            lines.append(f"   {r.status}: {r.message}")
        for i, v in enumerate(fix_order(list(r.verdicts.values())), 1):
            lines.append(f"-- {i}. {v.theorem}::{v.name}: {v.verdict} (uses {', '.join(v.uses)})")
            lines += [f"   {x}" for x in (v.counterexample + "\n" + v.message).strip().splitlines()]
    return "\n".join(lines)


def verdict_of(r: Result) -> str:
    """An implementation's overall verdict in a few words."""
    if r.status != "audited":
        return r.status
    counts = {k: sum(v.verdict == k for v in r.verdicts.values()) for k in FAILING}
    bad = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    return f"FAILED ({bad})" if bad else "held"


# --- JSON ----------------------------------------------------------------------------


def as_json(results: Sequence[Result], s: Settings, started: float, exit_status: int) -> dict:
    """The whole audit as the dict ``schema.json`` describes."""
    from reference import __version__

    return {
        "$schema": SCHEMA_ID,
        "nnlaws": __version__,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration": round(time.time() - started, 3),
        "exit_status": exit_status,
        "settings": {
            "profile": s.profile,
            "timeout": s.timeout,
            "memory_limit_mb": s.memory_mb,
            "max_examples": s.max_examples or None,
            "shrink_seconds": s.shrink_seconds,
            "jobs": s.jobs,
        },
        "theorems": theorems_of(results),
        "implementations": [
            {
                "label": r.target.label,
                "target": r.target.named,
                "status": r.status,
                "message": r.message,
                "verdict": "held" if not r.failing else "failed",
                "substitutions": r.substitutions,
                "duration": round(r.duration, 3),
                "properties": [asdict(v) for v in r.verdicts.values()],
            }
            for r in results
        ],
    }


# --- JUnit XML -----------------------------------------------------------------------


def junit(results: Sequence[Result]) -> str:
    """One ``testsuite`` per implementation, one ``testcase`` per applicable property."""
    suites = ET.Element("testsuites", name="nnlaws audit")
    for r in results:
        applicable = [v for v in r.verdicts.values() if v.verdict != "not applicable"]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=r.target.label,
            tests=str(max(len(applicable), 1)),
            failures=str(sum(v.verdict == "failed" for v in applicable)),
            errors=str(sum(v.verdict in ("error", "timed out") for v in applicable)),
            time=f"{r.duration:.3f}",
        )
        if r.status != "audited":
            case = ET.SubElement(suite, "testcase", classname=r.target.label, name="import")
            ET.SubElement(case, "error", message=f"{r.status}: {r.message}"[:500]).text = r.message
        for v in applicable:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{r.target.label}.{v.theorem}",
                name=v.name,
                time=f"{v.duration:.3f}",
            )
            if v.accuracy:
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="accuracy", value=grade(v))
            if v.verdict in FAILING:
                tag = "failure" if v.verdict == "failed" else "error"
                first = (v.message.splitlines() or [v.verdict])[0][:500]
                element = ET.SubElement(case, tag, message=first, type=v.verdict)
                element.text = (v.counterexample + "\n" + v.message).strip()
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


# --- HTML ----------------------------------------------------------------------------

HTML_CSS = """
.filters{margin:10px 0}.filters label{margin-right:8px;cursor:pointer;background:#fff;
 border:1px solid #d0d7de;border-radius:6px;padding:2px 10px}
td.ok{color:#1a7f37;font-weight:600}td.bad{color:#cf222e;font-weight:700}td.na{color:#57606a}
section.impl{background:#fff;border:1px solid #d0d7de;border-left:5px solid #1a7f37;
 border-radius:6px;padding:10px 16px 12px;margin:14px 0}
section.impl.is-failed{border-left-color:#cf222e}
"""


def _filter_css(theorems: Sequence[str]) -> str:
    """Per theorem: when its radio button is checked, hide every other theorem's rows."""
    rules = [
        f"#only-{i}:checked~main .by-theorem:not(.t-{i}){{display:none}}"
        for i in range(len(theorems))
    ]
    chosen = ",".join(
        f"#only-{i}:checked~main label[for=only-{i}]" for i in ["all", *range(len(theorems))]
    )
    return "\n".join([*rules, chosen + "{background:#0969da;color:#fff}"])


def _matrix_html(results: Sequence[Result], theorems: Sequence[str]) -> str:
    head = "".join(f'<th class="by-theorem t-{i}">{escape(t)}</th>' for i, t in enumerate(theorems))
    rows = []
    for r in results:
        cells = []
        for i, t in enumerate(theorems):
            cells.append(
                f'<td class="by-theorem t-{i} {cell_class(r, t)}">{escape(cell(r, t))}</td>'
            )
        mark = "held" if not r.failing else "failed"
        rows.append(
            f'<tr><td><a href="#impl-{escape(r.target.label)}">{escape(r.target.label)}</a></td>'
            f'{"".join(cells)}<td class="{mark}">{escape(verdict_of(r))}</td></tr>'
        )
    return f"<table><tr><th>implementation</th>{head}<th>verdict</th></tr>{''.join(rows)}</table>"


def _verdict_html(v: Verdict, index: dict[str, int]) -> str:
    cls = f"by-theorem t-{index[v.theorem]}"
    title = f"{v.theorem}::{v.name}"
    if v.verdict not in FAILING:
        extra = f' <span class="meta">{escape(grade(v))}</span>' if grade(v) else ""
        mark = "held" if v.verdict == "held" else "not-run"
        return (
            f'<li class="{cls}"><span class="{mark}">{escape(v.verdict)}</span> '
            f"{escape(title)}{extra}</li>"
        )
    example = render.pre(v.counterexample) if v.counterexample else ""
    return (
        f'<div class="fail {cls}"><b>{escape(title)}</b> '
        f'<span class="failed">{escape(v.verdict)}</span> '
        f'<span class="meta">uses {escape(", ".join(v.uses))}; {v.duration:.1f} s</span>'
        f"{'<br>Shrunk counterexample:' + example if example else ''}"
        f"<details open><summary>message</summary>{render.pre(v.message[:8000], 'long')}</details>"
        "</div>"
    )


def html(results: Sequence[Result], s: Settings) -> str:
    """The audit as one self-contained page in the look of ``make report``."""
    theorems = theorems_of(results)
    index = {t: i for i, t in enumerate(theorems)}
    radios = '<input type="radio" name="theorem" id="only-all" checked hidden>' + "".join(
        f'<input type="radio" name="theorem" id="only-{i}" hidden>' for i in range(len(theorems))
    )
    labels = '<label for="only-all">all theorems</label>' + "".join(
        f'<label for="only-{i}">{escape(t)}</label>' for i, t in enumerate(theorems)
    )
    sections = []
    for r in results:
        failing = fix_order(list(r.verdicts.values()))
        others = [v for v in r.verdicts.values() if v not in failing]
        status = (
            f'<p class="failed">{escape(r.status)}: </p>{render.pre(r.message)}'
            if r.status != "audited"
            else ""
        )
        sections.append(
            f'<section class="impl {"is-failed" if r.failing else ""}" '
            f'id="impl-{escape(r.target.label)}"><h3>{escape(r.target.label)}: '
            f"{escape(verdict_of(r))}</h3>"
            f'<p class="meta">{escape(r.target.named)}; {r.duration:.1f} s</p>'
            f"{render.pre(chr(10).join(r.substitutions))}{status}"
            + "".join(_verdict_html(v, index) for v in failing)
            + f'<ul class="props">{"".join(_verdict_html(v, index) for v in others)}</ul>'
            + "</section>"
        )
    settings_line = (
        f"profile {s.profile}; per-property limit {s.timeout:g} s; memory limit "
        f"{s.memory_mb or 'none'} MB; shrink budget {s.shrink_seconds:g} s"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>nnlaws audit</title><style>{render.CSS}{HTML_CSS}{_filter_css(theorems)}"
        f"</style></head><body>{radios}<main><h1>nnlaws audit</h1>"
        f'<p class="meta">{escape(settings_line)}</p>'
        f'<div class="filters">Show: {labels}</div>'
        f"<h2>Matrix: properties held per theorem</h2>{_matrix_html(results, theorems)}"
        f"<h2>Implementations</h2>{''.join(sections)}</main></body></html>"
    )


def write_json(path: str, payload: dict[str, Any]) -> None:
    """Write the JSON record."""
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(payload, stream, indent=1)

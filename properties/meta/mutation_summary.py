"""Summarise a mutmut run of ``reference/`` into ``reports/mutation.json``.

``make mutation`` runs mutmut 3 (configured in ``pyproject.toml``, ``[tool.mutmut]``),
which leaves one ``mutants/reference/<module>.py.meta`` file per mutated module: the
exit code of the tests against each mutant. This script reads those files, classifies
each mutant as mutmut does (``mutmut.stats.status_by_exit_code``), and writes

* the score: killed / (killed + survived), where a timeout counts as killed (the
  mutant made the properties loop: detected) and a mutant no selected test calls
  ("no tests") counts as survived;
* per module, the same counts;
* each survivor with its mutmut id (``mutmut show ID`` prints it again), file,
  function, the mutation as a unified diff, and the written argument for it
  (``properties.meta.mutation_survivors.ARGUMENTS``: an equivalent mutant, or the
  property that now kills it) or ``null`` when nobody has argued it yet.

Exit status 1 when a survivor has no argument, or a mutant was never checked (an
interrupted run): ``make mutation`` then fails and says which. Usage:
``python -m properties.meta.mutation_summary [--out FILE]`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

from properties.meta.mutation_survivors import ARGUMENTS

#: statuses that count as killed: the suite noticed the mutant
KILLED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
#: statuses that count as survived: the suite did not notice it
SURVIVED = frozenset({"survived", "no tests", "suspicious"})


def change_key(function: str, diff: str) -> str:
    """The stable name of a mutation: ``function: mutated code`` (the ``+`` lines, stripped).

    mutmut's ids (``..._mutmut_7``) move when the function changes; the mutated code
    does not, so the written arguments are keyed by it (the removed lines when the
    mutation only deletes).
    """
    lines = [x for x in diff.splitlines() if x[:1] in "+-" and x[:3] not in ("+++", "---")]
    added = [x[1:].strip() for x in lines if x.startswith("+")]
    removed = [x[1:].strip() for x in lines if x.startswith("-")]
    return f"{function}: " + (" / ".join(added) if added else "deleted " + " / ".join(removed))


def _mutants() -> list[tuple[str, str, int | None]]:
    """``(source file, mutant id, exit code)`` of every mutant of the files mutmut mutates.

    The files are those of mutmut's own configuration (``walk_mutatable_files``: a file
    excluded since an earlier run keeps its old ``.meta`` file, which is not counted).
    """
    found = []
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        found.extend((path.as_posix(), key, code) for key, code in data.exit_code_by_key.items())
    return found


def _function(mutant_id: str) -> str:
    """``module.function`` (or ``module.Class.method``) of a mutant id."""
    module = mutant_id.partition(".x")[0]
    name, cls = orig_function_and_class_names_from_key(mutant_id)
    return ".".join(p for p in (module, cls, name) if p)


def summarise() -> dict[str, Any]:
    """The summary of mutmut's recorded results (run from the repository root)."""
    counts: Counter[str] = Counter()
    by_module: dict[str, Counter[str]] = {}
    survivors = []
    for source, mutant_id, code in _mutants():
        status = status_by_exit_code[code]
        verdict = "killed" if status in KILLED else "survived" if status in SURVIVED else status
        counts[verdict] += 1
        by_module.setdefault(source, Counter())[verdict] += 1
        if verdict == "survived":
            function = _function(mutant_id)
            diff = get_diff_for_mutant(mutant_id, path=source)
            key = change_key(function, diff)
            survivors.append(
                {
                    "id": mutant_id,
                    "status": status,
                    "file": source,
                    "function": function,
                    "key": key,
                    "diff": diff,
                    "argument": ARGUMENTS.get(key),
                }
            )
    decided = counts["killed"] + counts["survived"]
    return {
        "tool": "mutmut 3 (make mutation; configuration in pyproject.toml [tool.mutmut])",
        "score": counts["killed"] / decided if decided else None,
        "total": sum(counts.values()),
        "killed": counts["killed"],
        "survived": counts["survived"],
        "not_checked": counts["not checked"],
        "by_module": {m: dict(c) for m, c in sorted(by_module.items())},
        "survivors": survivors,
        "unargued": [s["key"] for s in survivors if s["argument"] is None],
    }


def main(argv: list[str] | None = None) -> int:
    """Write the summary; print the score and any survivor without an argument."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("reports/mutation.json"))
    args = parser.parse_args(argv)
    summary = summarise()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    score = summary["score"]
    print(
        f"mutation: {summary['killed']} killed, {summary['survived']} survived of "
        f"{summary['total']} mutants of reference/: score "
        + (f"{score:.1%}" if score is not None else "n/a")
        + f"; written to {args.out}"
    )
    for key in summary["unargued"]:
        print(f"  survivor without an argument (properties/meta/mutation_survivors.py): {key!r}")
    if summary["not_checked"]:
        print(f"  {summary['not_checked']} mutants not checked: the run was interrupted")
    return 1 if summary["unargued"] or summary["not_checked"] else 0


if __name__ == "__main__":
    sys.exit(main())

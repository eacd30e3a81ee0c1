"""Timings of ``nnlaws audit`` (issue 11, point 5): a script, not a timed test.

Usage: ``python benchmarks/bench_audit.py [one-wrong] [reference] [forty] [--out PATH]``.

Scenarios, each run as a user would (the ``nnlaws`` console script, profile ``ci``):

* ``one-wrong``: a module with one wrong function (softmax without the max
  subtracted, from the catalogue): seconds until its first counterexample is printed,
  and until the audit ends (targets: 30 s and 60 s);
* ``reference``: a correct module of all ten names (``reference``) (target: 120 s);
* ``forty``: a folder of forty one-name submissions, ``--jobs 2``: every catalogue
  entry and peer of the suite, then reference re-exports, one name per file
  (target: 10 minutes).

No assertion: the machine these run on is shared, so the numbers are measurements to
report (with the load average at the start), not pass/fail criteria. pytest collects
this file (``bench_*.py``) and finds no test in it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIOS = ("one-wrong", "reference", "forty")
COUNT = 40


def nnlaws() -> list[str]:
    """The console script beside this interpreter, or the module route."""
    script = Path(sys.executable).with_name("nnlaws")
    return [str(script)] if script.exists() else [sys.executable, "-m", "properties.auditing"]


def timed(args: list[str], cwd: Path) -> dict[str, float | int | None]:
    """Run ``nnlaws audit ARGS``; wall time, time of the first failing line, exit status."""
    started = time.monotonic()
    first_failure = None
    process = subprocess.Popen(
        [*nnlaws(), "audit", *args], cwd=cwd, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if first_failure is None and line.startswith("[") and ": FAILED" in line:
            first_failure = time.monotonic() - started
    status = process.wait()
    return {
        "seconds": round(time.monotonic() - started, 1),
        "first_counterexample_seconds": None if first_failure is None else round(first_failure, 1),
        "exit_status": status,
        "load_average_at_start": os.getloadavg()[0],
    }


def forty_submissions(folder: Path) -> None:
    """Forty one-name files: catalogue entries and peers first, then reference re-exports."""
    from properties.catalogue import all_peers, all_wrong_implementations
    from reference import CONTRACT_NAMES

    lines = [
        f"from {e.func.__module__} import {e.func.__name__} as {e.name}  # noqa: F401\n"
        for e in [*all_wrong_implementations(), *all_peers()]
    ]
    lines += [f"from reference import {n}  # noqa: F401\n" for n in CONTRACT_NAMES] * COUNT
    for i, line in enumerate(lines[:COUNT]):
        (folder / f"submission_{i:02d}.py").write_text(line)


def run(scenario: str, work: Path) -> dict[str, float | int | None]:
    """One scenario in the folder ``work``."""
    if scenario == "one-wrong":
        (work / "wrong.py").write_text(
            "from properties.catalogue.softmax import no_max_subtraction as softmax  # noqa\n"
        )
        return timed(["wrong.py"], work)
    if scenario == "reference":
        return timed(["reference"], work)
    folder = work / "submissions"
    folder.mkdir()
    forty_submissions(folder)
    return timed([str(folder), "--jobs", "2", "-q", "--json", str(work / "forty.json")], work)


def main() -> None:
    """Run the scenarios asked for (all by default) and print/write their timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS), help=str(SCENARIOS))
    parser.add_argument("--out", default="reports/benchmarks/audit.json")
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; expected some of {SCENARIOS}")
    results = {}
    for scenario in args.scenarios:
        work = Path(tempfile.mkdtemp(prefix="nnlaws-bench-audit-"))
        try:
            results[scenario] = run(scenario, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(scenario, results[scenario], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

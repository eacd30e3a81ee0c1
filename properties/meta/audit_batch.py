"""Run several audits in one interpreter and record every property's outcome in each.

Usage: ``python -m properties.meta.audit_batch OUT.json OPTIONS...`` where each OPTIONS
argument is one audit's options as one string (``"--impl softmax=m:f"``). Each audit is
``pytest.main`` with exactly the options a user would type, in this process, one after
the other: numpy, SciPy, Hypothesis and the theorem modules are imported once for the
batch instead of once per audit, which is most of an audit's cost when it runs in its
own process. An audit is still a fresh pytest session (its own configuration,
substitutions, collection and deselection), and the ``catalogue`` profile is
derandomized with no database, so the verdict is the one its own process would give.

OUT.json maps each OPTIONS string to ``{"exit": status, "outcomes": {nodeid: outcome},
"failures": {nodeid: message tail}}``, for the catalogue meta test to judge.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

#: the options every catalogue audit runs with (besides its own --impl / --impl-module):
#: the catalogue profile (derandomized, no shrinking) and no stop at the first failure,
#: so each run says which properties reject the implementation, not only whether one does
COMMON_OPTIONS = (
    "-q",
    "-p",
    "no:cacheprovider",
    "--hypothesis-profile=catalogue",
    "--benchmark-disable",
)
#: the tail of a failure kept for the meta test's message
TAIL = 3000


class Outcomes:
    """A pytest plugin recording the outcome of each item of one session."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}
        self.failures: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the worst outcome per item (a failure in any phase is a failure)."""
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
            self.failures[report.nodeid] = report.longreprtext[-TAIL:]
        elif report.when == "call" and report.nodeid not in self.outcomes:
            self.outcomes[report.nodeid] = "skipped" if report.skipped else "passed"


def run_audit(options: str) -> dict[str, Any]:
    """One audit, in this process."""
    recorder = Outcomes()
    status = pytest.main([*COMMON_OPTIONS, *shlex.split(options)], plugins=[recorder])
    return {"exit": int(status), "outcomes": recorder.outcomes, "failures": recorder.failures}


def main(argv: list[str]) -> int:
    """Run each audit of ``argv[1:]``; write their records to ``argv[0]``."""
    out, audits = Path(argv[0]), argv[1:]
    results = {options: run_audit(options) for options in audits}
    out.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run several audits in one interpreter and record every property's outcome in each.

Usage: ``python -m properties.meta.audit_batch OUT.json OPTIONS...`` where each OPTIONS
argument is one audit's options as one string (``"--impl softmax=m:f"``). Each audit is
``pytest.main`` with exactly the options a user would type, in this process, one after
the other: numpy, SciPy, Hypothesis and the theorem modules are imported once for the
batch instead of once per audit, which is most of an audit's cost when it runs in its
own process. An audit is still a fresh pytest session (its own configuration,
substitutions, collection and deselection), and the ``catalogue`` profile is
derandomized with no database, so the verdict is the one its own process would give.

One saving changes what is run, never a verdict: once an audit has failed a property
(its implementation is rejected), a property that an earlier audit of the batch has
already failed is skipped. The audit's verdict (exit 1) is already settled, and the
property is already shown to be failable; a property nobody has failed yet still runs
for every audit, so the set of properties failed by some audit is exactly the one
full runs would give.

OUT.json maps each OPTIONS string to ``{"exit": status, "collected": [nodeid, ...],
"outcomes": {nodeid: outcome}, "failures": {nodeid: message tail}}``, for the catalogue
meta test to judge.
"""

from __future__ import annotations

import gc
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

#: the options every catalogue audit runs with (besides its own --impl / --impl-module):
#: the catalogue profile (derandomized, no shrinking: only pass/fail matters), no stop at
#: the first failure (each run says which properties reject the implementation, as far
#: as the skip rule above needs), no cache written between audits
COMMON_OPTIONS = (
    "-q",
    "-p",
    "no:cacheprovider",
    "--hypothesis-profile=catalogue",
    "--benchmark-disable",
)
#: the tail of a failure kept for the meta test's message
TAIL = 3000
#: why a skipped property was not run
ALREADY_FAILED = "nnlaws catalogue: rejected already, and this property failed an earlier audit"


def prop(nodeid: str) -> str:
    """The property an item belongs to: its test function (parametrized cases are one)."""
    return nodeid.split("[", 1)[0]


class Outcomes:
    """A pytest plugin recording the outcome of each item of one audit session.

    ``witnessed`` holds the properties earlier audits of the batch failed; once this
    audit has failed an item, items of those properties are skipped.
    """

    def __init__(self, witnessed: set[str]) -> None:
        self.witnessed = witnessed
        self.collected: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.failures: dict[str, str] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Keep the selected items' ids (the properties this audit exercises)."""
        self.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(tryfirst=True)  # before any fixture is set up
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Skip a property already failed elsewhere, once this audit is rejected."""
        if self.failures and prop(item.nodeid) in self.witnessed:
            pytest.skip(ALREADY_FAILED)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the worst outcome per item (a failure in any phase is a failure).

        A skip in setup (such as the rule above) is the item's outcome too.
        """
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
            self.failures[report.nodeid] = report.longreprtext[-TAIL:]
        elif report.nodeid not in self.outcomes and (report.when == "call" or report.skipped):
            self.outcomes[report.nodeid] = "skipped" if report.skipped else "passed"

    def record(self, status: int | pytest.ExitCode) -> dict[str, Any]:
        """The audit's record; its failed properties join the batch's witnessed ones."""
        self.witnessed.update(prop(nodeid) for nodeid in self.failures)
        return {
            "exit": int(status),
            "collected": self.collected,
            "outcomes": self.outcomes,
            "failures": self.failures,
        }


def run_audit(options: str, witnessed: set[str]) -> dict[str, Any]:
    """One audit, in this process.

    What the previous audits left alive is collected, then frozen: pytest's own
    ``gc.collect()`` at the end of each session then scans only this audit's objects,
    not the whole interpreter's (about 0.3 s an audit, a quarter of a cheap one).
    """
    gc.collect()
    gc.freeze()
    recorder = Outcomes(witnessed)
    status = pytest.main([*COMMON_OPTIONS, *shlex.split(options)], plugins=[recorder])
    return recorder.record(status)


def main(argv: list[str]) -> int:
    """Run each audit of ``argv[1:]`` in order; write their records to ``argv[0]``."""
    out, audits = Path(argv[0]), argv[1:]
    witnessed: set[str] = set()
    results = {options: run_audit(options, witnessed) for options in audits}
    out.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

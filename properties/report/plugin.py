"""Pytest plugin recording what the theorem report needs: ``-p properties.report.plugin``.

For every test it records the node id, module file, outcome, duration, Hypothesis's
statistics (examples tried per phase, taken from Hypothesis's own statistics collector,
chained so ``--hypothesis-show-statistics`` and the JUnit properties still work), the
failure text with the shrunk counterexample (the exception's notes, where Hypothesis
puts "Falsifying example" / "Failing test case" and labelled draws), and the test's user
properties (errata recorded with ``properties.errata.record_erratum``) and the contract
names it declares with ``@uses`` (``properties.audit.declared_names``: the report maps
catalogue entries to theorems through them), and its ``@proves(subject, claim)``
markers (``properties.symbolic``: the "proved for small sizes" mark). Its accuracy
grade arrives among the user properties (``properties.audit`` records it). Collection errors
are recorded per file. At the end of the session everything is written as JSON to
``--report-results`` (default ``reports/results.json`` under the rootdir).
"""

from __future__ import annotations

import base64
import json
import platform
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from _hypothesis_pytestplugin import STATS_KEY
from _pytest.junitxml import xml_key
from hypothesis.statistics import collector

from properties.audit import declared_names
from properties.report.model import PROOFS
from properties.symbolic import MARKER as PROVES

#: cap on stored failure text per test, so one huge array cannot bloat the report
MAX_TEXT = 20_000
#: the phases whose test cases count as "examples tried" (shrinking is counted apart)
EXAMPLE_PHASES = ("explicit", "reuse", "generate")
#: the report attribute carrying a test's record from the process that ran it (an
#: xdist worker) to the one that writes the file (the controller): xdist sends every
#: attribute of a report, and the record is plain JSON data
RECORD = "nnlaws_record"
_STATS = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--report-results``."""
    parser.getgroup("nnlaws report").addoption(
        "--report-results",
        default="reports/results.json",
        metavar="PATH",
        help="where to write the per-test record for the report (relative to rootdir)",
    )


@contextmanager
def catching_statistics(item: pytest.Item, key: pytest.StashKey[dict[str, Any]]) -> Iterator[None]:
    """Store Hypothesis's statistics for ``item`` (summarised) under ``key`` while it runs.

    Wrap the call from a ``trylast`` hook wrapper, inside Hypothesis's own, so this is
    the callback the engine calls; the callback it replaced still gets the dict.
    """
    previous = collector.value

    def note(stats: dict[str, Any]) -> None:
        item.stash[key] = summarise_statistics(stats)
        if previous is not None:
            previous(stats)

    with collector.with_value(note):
        yield


def summarise_statistics(stats: dict[str, Any]) -> dict[str, Any]:
    """Reduce Hypothesis's raw statistics dict to counts per phase.

    ``examples`` counts passing and failing test cases of the explicit, reuse and generate
    phases; ``invalid`` those rejected (filtered or overrun); ``shrinks`` the test cases
    tried while shrinking; ``stopped_because`` is Hypothesis's own reason.
    """
    phases: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.endswith("-phase") and isinstance(value, dict):
            counts = Counter(case["status"] for case in value.get("test-cases", []))
            phases[key.removesuffix("-phase")] = {
                "passing": counts["valid"],
                "failing": counts["interesting"],
                "invalid": counts["invalid"] + counts["overrun"],
            }
    examples = sum(
        phases[p]["passing"] + phases[p]["failing"] for p in EXAMPLE_PHASES if p in phases
    )
    invalid = sum(phases[p]["invalid"] for p in EXAMPLE_PHASES if p in phases)
    shrink = phases.get("shrink", {})
    return {
        "examples": examples,
        "invalid": invalid,
        "shrinks": sum(shrink.values()),
        "stopped_because": str(stats.get("stopped-because", "")),
        "phases": phases,
    }


def counterexample_text(error: BaseException) -> str:
    """The exception's notes: Hypothesis's shrunk example, labelled draws, explanations.

    When Hypothesis found several distinct failures it raises an exception group; each
    member carries its own notes, and all are kept, one block per failure.
    """
    notes = [str(note) for note in getattr(error, "__notes__", None) or []]
    if isinstance(error, BaseExceptionGroup):
        notes += [counterexample_text(member) for member in error.exceptions]
    return "\n".join(note for note in notes if note)[:MAX_TEXT]


def exception_message(error: BaseException) -> str:
    """The assertion message (for an exception group, each member's, with its type)."""
    if isinstance(error, BaseExceptionGroup):
        parts = [f"{type(m).__name__}: {exception_message(m)}" for m in error.exceptions]
        return "\n".join([str(error), *parts])[:MAX_TEXT]
    return str(error)[:MAX_TEXT]


class Recorder:
    """Accumulates one record per test node id and writes them as JSON (a pytest plugin).

    A record is built where its test runs and travels on the test's reports; the
    process that writes the file takes it from the reports it logs. Without xdist that
    is one process; with ``-n`` the workers build and the controller writes.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rootdir = Path(str(config.rootpath)).resolve()
        self.tests: dict[str, dict[str, Any]] = {}
        self.collection_errors: list[dict[str, str]] = []
        self.started = time.time()

    def record(self, item: pytest.Item) -> dict[str, Any]:
        """The (new or existing) record of ``item``."""
        path = Path(str(item.path)).resolve()
        module = path.relative_to(self.rootdir) if path.is_relative_to(self.rootdir) else path
        return self.tests.setdefault(
            item.nodeid,
            {
                "nodeid": item.nodeid,
                "module": module.as_posix(),
                "name": item.name,
                "outcome": "passed",
                "duration": 0.0,
                "hypothesis": None,
                "message": "",
                "counterexample": "",
                "longrepr": "",
                "user_properties": [],
                "uses": sorted(declared_names(item)),
                PROOFS: [list(mark.args) for mark in item.iter_markers(PROVES)],
            },
        )

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        """Catch Hypothesis's statistics for this item, then pass them on.

        ``trylast`` puts this wrapper inside Hypothesis's, so ours is the callback the
        engine calls; it forwards the dict to the callback it replaced.
        """
        with catching_statistics(item, _STATS):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[pytest.TestReport]:
        """Fold each phase's report (setup, call, teardown) into the item's record."""
        report: pytest.TestReport = yield
        entry = self.record(item)
        setattr(report, RECORD, entry)
        entry["duration"] += report.duration
        entry["user_properties"] = [[str(k), v] for k, v in report.user_properties]
        if _STATS in item.stash:
            entry["hypothesis"] = item.stash[_STATS]
        if report.when == "call" and report.passed and hasattr(report, "wasxfail"):
            entry["outcome"] = "xpassed"
        if not (report.failed or report.skipped) or entry["outcome"] in ("failed", "error"):
            return report
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
        else:
            entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        entry["longrepr"] = report.longreprtext[-MAX_TEXT:]
        if call.excinfo is not None:
            entry["message"] = exception_message(call.excinfo.value)
            entry["counterexample"] = counterexample_text(call.excinfo.value)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the record the report carries (the same object, in the running process).

        Under xdist, also put Hypothesis's statistics into the JUnit file: Hypothesis
        adds them only in the process that ran the test, and an xdist worker writes no
        JUnit file (pytest issue 7767); the teardown report brings them here.
        """
        if hasattr(report, RECORD):
            self.tests[report.nodeid] = getattr(report, RECORD)
        xml = self.config.stash.get(xml_key, None)
        stats = getattr(report, STATS_KEY, None)
        if xml is not None and stats and hasattr(report, "node"):  # from an xdist worker
            encoded = base64.b64encode(stats.encode()).decode()
            xml.add_global_property(f"hypothesis-statistics-{report.nodeid}", encoded)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Record files that failed to collect: their theorem shows as broken, not absent.

        Under xdist every worker collects, so the same failure can arrive once per worker.
        """
        if report.failed and all(e["nodeid"] != report.nodeid for e in self.collection_errors):
            self.collection_errors.append(
                {"nodeid": report.nodeid, "longrepr": str(report.longrepr)[:MAX_TEXT]}
            )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the record (always, whatever the outcome) to ``--report-results``.

        An xdist worker writes nothing: its records went to the controller.
        """
        if hasattr(self.config, "workerinput"):
            return
        target = Path(self.config.getoption("report_results"))
        if not target.is_absolute():
            target = self.rootdir / target
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "session": {
                "started": self.started,
                "duration": time.time() - self.started,
                "exitstatus": int(exitstatus),
                "hypothesis_profile": hypothesis.settings.get_current_profile_name(),
                "max_examples": hypothesis.settings.default.max_examples,
                "python": platform.python_version(),
                "hypothesis": hypothesis.__version__,
                "pytest": pytest.__version__,
                "args": list(self.config.invocation_params.args),
            },
            "tests": list(self.tests.values()),
            "collection_errors": self.collection_errors,
        }
        target.write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"nnlaws report: test record written to {target}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the session's recorder."""
    config.pluginmanager.register(Recorder(config), "nnlaws-report-recorder")

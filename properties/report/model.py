"""The report's data: what ``build`` reads from a run and ``render`` turns into a page.

Its own module so that ``build`` (which reads) and ``render`` (which writes) both import
it and neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: the user property under which a test records its ``@proves(subject, claim)`` markers
PROOFS = "proofs"


@dataclass(frozen=True)
class CatalogueEntry:
    """A catalogue entry (a wrong implementation, or a correct peer) and its audit's outcome."""

    name: str  # the contract name it implements (or pretends to)
    func: str  # its function name in properties/catalogue/<chapter>.py
    note: str  # one line: the mistake, or the peer's algorithm
    outcome: str  # the outcome of its catalogue test item; "not run" when absent
    peer: bool = False  # a correct implementation every property must accept

    @property
    def id(self) -> str:
        """``NAME:func``, the catalogue test's parameter id."""
        return f"{self.name}:{self.func}"

    @property
    def verdict(self) -> str:
        """Rejected / NOT rejected (wrong), accepted / NOT accepted (peer), or not run."""
        if self.outcome not in ("passed", "failed", "error"):
            return self.outcome  # "not run", "skipped"
        good = self.outcome == "passed"
        word = "accepted" if self.peer else "rejected"
        return word if good else f"NOT {word}"

    @property
    def as_expected(self) -> bool:
        """Its audit said what the catalogue claims (a wrong one rejected, a peer accepted)."""
        return self.outcome == "passed"


@dataclass
class Theorem:
    """One theorem module and what the run recorded for it."""

    path: str  # relative to the project root, e.g. properties/test_softmax.py
    title: str
    statement: str
    problem: tuple[float, ...]  # sort key from "Problem N.M"
    tests: list[dict[str, Any]] = field(default_factory=list)
    collection_error: str = ""
    catalogue: list[CatalogueEntry] = field(default_factory=list)  # entries for its names

    @property
    def status(self) -> str:
        """held, failed, broken (did not collect) or not run."""
        if self.collection_error:
            return "broken"
        if any(t["outcome"] in ("failed", "error", "xpassed") for t in self.tests):
            return "failed"
        return "held" if any(t["outcome"] == "passed" for t in self.tests) else "not run"

    @property
    def examples(self) -> int:
        """Examples Hypothesis tried, summed over the module's properties."""
        return sum((t.get("hypothesis") or {}).get("examples", 0) for t in self.tests)

    @property
    def duration(self) -> float:
        """Seconds spent in the module's tests (setup, call and teardown)."""
        return sum(t["duration"] for t in self.tests)

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The records of failing tests."""
        return [t for t in self.tests if t["outcome"] in ("failed", "error", "xpassed")]

    @property
    def uses(self) -> set[str]:
        """The contract names its properties declare (``@uses``, as the plugin recorded)."""
        return {name for t in self.tests for name in t.get("uses") or ()}

    @property
    def wrong(self) -> list[CatalogueEntry]:
        """Its wrong implementations (each must be rejected)."""
        return [e for e in self.catalogue if not e.peer]

    @property
    def peers(self) -> list[CatalogueEntry]:
        """Its correct peers (each must be accepted)."""
        return [e for e in self.catalogue if e.peer]

    @property
    def proofs(self) -> list[tuple[str, str]]:
        """``(subject, claim)`` of its symbolic proofs for small sizes that passed."""
        return [
            (subject, claim)
            for t in self.tests
            if t["outcome"] == "passed"
            for subject, claim in t.get(PROOFS) or ()
        ]


def grades(test: dict[str, Any]) -> list[dict[str, Any]]:
    """The accuracy grades recorded for a test (``properties.audit``: nnlaws-accuracy)."""
    from properties.tolerance.common import ACCURACY_PROPERTY

    found = []
    for key, value in test.get("user_properties") or []:
        if key == ACCURACY_PROPERTY:
            found.append(json.loads(value) if isinstance(value, str) else dict(value))
    return found


@dataclass(frozen=True)
class Coverage:
    """Totals of a coverage.py XML report."""

    percent: float  # (covered lines + covered branches) / (lines + branches), as coverage.py
    lines: tuple[int, int]  # covered, valid
    branches: tuple[int, int]
    files: list[tuple[str, float, float]]  # filename, line rate, branch rate


@dataclass(frozen=True)
class Bench:
    """One pytest-benchmark measurement."""

    group: str
    name: str
    label: str  # the implementation: function name plus implementation parameters
    case: str  # what is measured: the other parameters ("" when not parametrized)
    size: float | None
    median: float
    mean: float
    stddev: float
    rounds: int
    ratio: float = 1.0  # median / the fastest median of the same group and case
    size_name: str = ""  # what the size is: the parameter's name, or "size"
    q1: float | None = None  # quartiles of the rounds (spread on the scaling plot)
    q3: float | None = None

    @property
    def is_reference(self) -> bool:
        """A benchmark of the reference implementation (by its name)."""
        return "reference" in self.name


@dataclass
class Figure:
    """An embedded figure (SVG) or the reason it is absent."""

    title: str
    svg: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything the page shows."""

    results: dict[str, Any]
    theorems: list[Theorem]
    errata: list[dict[str, str]]
    coverage: Coverage | None
    coverage_link: str
    benches: list[Bench]
    bench_figures: list[Figure]
    figures: list[Figure]
    unclaimed: list[CatalogueEntry] = field(default_factory=list)  # catalogue, no theorem
    catalogue_note: str = ""  # why there is no catalogue, when there is none

    @property
    def other_failures(self) -> list[dict[str, Any]]:
        """Failing tests outside theorem modules (meta tests, benchmarks)."""
        paths = {t.path for t in self.theorems}
        return [
            x
            for x in self.results.get("tests", [])
            if x["outcome"] in ("failed", "error") and x["module"] not in paths
        ]

    @property
    def other_collection_errors(self) -> list[dict[str, str]]:
        """Collection errors outside theorem modules."""
        paths = {t.path for t in self.theorems}
        return [
            e
            for e in self.results.get("collection_errors", [])
            if e["nodeid"].split("::")[0] not in paths
        ]

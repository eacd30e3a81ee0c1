"""Build ``reports/index.html`` and ``reports/summary.md`` from one ``make report`` run.

Inputs, each optional (a missing one is said on the page, never an error):

* ``results.json`` written by ``properties.report.plugin`` (per-test outcome, duration,
  Hypothesis statistics, counterexamples, errata);
* the theorem modules themselves, ``properties/test_*.py``: the first line of each module
  docstring is the title ("Theorem (Problem N): ..."), the rest the statement;
* ``coverage.xml`` from pytest-cov (branch coverage of ``reference/`` and the strategies);
* ``benchmarks.json`` from pytest-benchmark;
* the catalogue of wrong implementations (``properties.catalogue``): each entry is shown
  under every theorem whose properties declare its contract name (``@uses``, recorded by
  the plugin), as rejected or not by its audit in the same run
  (``properties/meta/test_catalogue.py::test_wrong_implementation_is_rejected[NAME:func]``).

The page is one self-contained HTML file: inline CSS, figures as inline SVG, no script,
no network. Every piece of text that comes from a run (counterexamples, messages,
statements) is HTML-escaped. Usage: ``python -m properties.report.build [--help]``.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from properties.errata import ERRATUM_PROPERTY
from properties.report import render

#: for the step-size plot: reference module -> (theorem module, attributes naming its
#: fixed finite-difference step, first found wins). A module choosing h per example has
#: none: the page then says so.
GRADIENT_MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "reference.batchnorm": ("properties.test_batchnorm", ("FD_STEP", "STEP_X")),
    "reference.softmax_ce": ("properties.test_cross_entropy", ("FD_STEP", "STEP")),
}
#: parameter names taken as the problem size of a benchmark (else extra_info["size"])
SIZE_PARAMS = ("size", "n", "m", "N", "B")
#: the meta test whose parametrized items audit the catalogue entries, id ``NAME:func``
CATALOGUE_TEST = "test_wrong_implementation_is_rejected"
#: parameter names that choose the implementation rather than the case measured
IMPLEMENTATION_PARAMS = ("impl", "implementation", "method", "variant", "func", "fn", "baseline")


# --- reading the inputs ------------------------------------------------------------


@dataclass(frozen=True)
class WrongEntry:
    """A catalogued wrong implementation and what its audit did in this run."""

    name: str  # the contract name it pretends to implement
    func: str  # its function name in properties/catalogue/<theorem>.py
    mistake: str  # one line: what is wrong
    outcome: str  # the outcome of its catalogue test item; "not run" when absent

    @property
    def id(self) -> str:
        """``NAME:func``, the catalogue test's parameter id."""
        return f"{self.name}:{self.func}"

    @property
    def verdict(self) -> str:
        """The audit's verdict: rejected (some property failed it), NOT rejected, or not run."""
        if self.outcome == "passed":
            return "rejected"
        if self.outcome in ("failed", "error"):
            return "NOT rejected"
        return self.outcome  # "not run", "skipped"


@dataclass
class Theorem:
    """One theorem module and what the run recorded for it."""

    path: str  # relative to the project root, e.g. properties/test_softmax.py
    title: str
    statement: str
    problem: tuple[float, ...]  # sort key from "Problem N.M"
    tests: list[dict[str, Any]] = field(default_factory=list)
    collection_error: str = ""
    catalogue: list[WrongEntry] = field(default_factory=list)  # entries for its names

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
    def rejected(self) -> int:
        """How many of its catalogue entries the audits rejected."""
        return sum(e.verdict == "rejected" for e in self.catalogue)


def read_theorem(path: Path, root: Path) -> Theorem:
    """Title and statement from the module docstring, read without importing the module."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except SyntaxError as error:
        return Theorem(rel, path.stem, "", (float("inf"),), collection_error=str(error))
    title, _, statement = doc.strip().partition("\n")
    numbers = re.search(r"Problem\s+(\d+(?:\.\d+)*)", title)
    key = tuple(float(n) for n in numbers.group(1).split(".")) if numbers else (float("inf"),)
    return Theorem(rel, title.strip() or path.stem, statement.strip(), key)


def load_json(path: Path) -> Any:
    """Parsed JSON, or None when the file does not exist."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def theorems(root: Path, theorem_dir: Path, results: dict[str, Any]) -> list[Theorem]:
    """Every ``test_*.py`` of ``theorem_dir`` as a theorem, with its recorded tests."""
    found = [read_theorem(p, root) for p in sorted(theorem_dir.glob("test_*.py"))]
    by_path = {t.path: t for t in found}
    for test in results.get("tests", []):
        if test["module"] in by_path:
            by_path[test["module"]].tests.append(test)
    for error in results.get("collection_errors", []):
        module = error["nodeid"].split("::")[0]
        if module in by_path:
            by_path[module].collection_error = error["longrepr"]
    return sorted(found, key=lambda t: (t.problem, t.path))


def load_catalogue() -> tuple[list[tuple[str, str, str]], str]:
    """``(name, func, mistake)`` of every ``properties.catalogue`` entry, and a note.

    The note is empty, or says why there is no catalogue (a broken catalogue module must
    not stop the report: the page says so instead).
    """
    try:
        from properties.catalogue import all_wrong_implementations

        found = all_wrong_implementations()
    except Exception as error:  # shown on the page
        return [], f"properties.catalogue failed to import ({type(error).__name__}: {error})."
    return [(e.name, e.func.__name__, e.mistake) for e in found], ""


def catalogue_outcomes(results: dict[str, Any]) -> dict[str, str]:
    """``NAME:func`` -> outcome of its ``test_wrong_implementation_is_rejected`` item."""
    found = {}
    for test in results.get("tests", []):
        base, _, rest = test["name"].partition("[")
        if base == CATALOGUE_TEST and rest.endswith("]"):
            found[rest[:-1]] = test["outcome"]
    return found


def attach_catalogue(
    found: list[Theorem], entries: Sequence[tuple[str, str, str]], results: dict[str, Any]
) -> list[WrongEntry]:
    """Give each theorem the entries whose name its properties declare; return the rest.

    An entry goes under every theorem whose recorded ``uses`` contain its contract name
    (one name may be exercised by several theorems); entries no theorem declares are
    returned, so the page can list them apart rather than lose them.
    """
    outcomes = catalogue_outcomes(results)
    wrong = [WrongEntry(n, f, m, outcomes.get(f"{n}:{f}", "not run")) for n, f, m in entries]
    unclaimed = []
    for entry in wrong:
        owners = [t for t in found if entry.name in t.uses]
        for theorem in owners:
            theorem.catalogue.append(entry)
        if not owners:
            unclaimed.append(entry)
    return unclaimed


def errata(results: dict[str, Any]) -> list[dict[str, str]]:
    """Every erratum recorded by a test, with the test's node id and outcome."""
    found = []
    for test in results.get("tests", []):
        for key, value in test.get("user_properties", []):
            if key == ERRATUM_PROPERTY:
                record = json.loads(value) if isinstance(value, str) else dict(value)
                found.append({**record, "test": test["nodeid"], "outcome": test["outcome"]})
    return found


@dataclass(frozen=True)
class Coverage:
    """Totals of a coverage.py XML report."""

    percent: float  # (covered lines + covered branches) / (lines + branches), as coverage.py
    lines: tuple[int, int]  # covered, valid
    branches: tuple[int, int]
    files: list[tuple[str, float, float]]  # filename, line rate, branch rate


def read_coverage(path: Path) -> Coverage | None:
    """Parse pytest-cov's Cobertura XML (None when absent)."""
    if not path.exists():
        return None
    root = ET.parse(path).getroot()
    lines = (int(root.get("lines-covered", 0)), int(root.get("lines-valid", 0)))
    branches = (int(root.get("branches-covered", 0)), int(root.get("branches-valid", 0)))
    total = lines[1] + branches[1]
    percent = 100.0 * (lines[0] + branches[0]) / total if total else 100.0
    files = [
        (c.get("filename", "?"), float(c.get("line-rate", 0)), float(c.get("branch-rate", 0)))
        for c in root.iter("class")
    ]
    return Coverage(percent, lines, branches, sorted(files))


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


def _size(entry: dict[str, Any]) -> tuple[float | None, str]:
    """The problem size and its name, ``(None, "")`` when the benchmark declares none.

    ``extra_info["size"]`` first, else a parameter named in ``SIZE_PARAMS``, else the
    only numeric parameter that does not choose the implementation.
    """
    extra = entry.get("extra_info") or {}
    if isinstance(extra.get("size"), int | float):
        return float(extra["size"]), "size"
    params = entry.get("params") or {}
    numeric = {
        k: v
        for k, v in params.items()
        if k not in IMPLEMENTATION_PARAMS and isinstance(v, int | float) and not isinstance(v, bool)
    }
    for name in SIZE_PARAMS:
        if name in numeric:
            return float(numeric[name]), name
    if len(numeric) == 1:
        name, value = next(iter(numeric.items()))
        return float(value), name
    return None, ""


def read_benchmarks(path: Path) -> list[Bench]:
    """Benchmarks with their ratio to the fastest of the same group and case.

    Parameters named in ``IMPLEMENTATION_PARAMS`` say which implementation runs; every
    other parameter (and ``extra_info["size"]``) says what is measured, so only
    benchmarks of the same group measuring the same case are compared.
    """
    raw = []
    for entry in (load_json(path) or {}).get("benchmarks", []):
        params = entry.get("params") or {}
        impl = [f"{k}={v}" for k, v in params.items() if k in IMPLEMENTATION_PARAMS]
        case = [f"{k}={v}" for k, v in params.items() if k not in IMPLEMENTATION_PARAMS]
        size, size_name = _size(entry)
        if size is not None and not case:
            case = [f"size={size:g}"]
        base = entry["name"].split("[")[0]
        stats = entry["stats"]
        raw.append(
            Bench(
                group=entry.get("group") or "(no group)",
                name=entry["name"],
                label=base + (f"[{','.join(impl)}]" if impl else ""),
                case=",".join(case),
                size=size,
                median=float(stats["median"]),
                mean=float(stats["mean"]),
                stddev=float(stats["stddev"]),
                rounds=int(stats["rounds"]),
                size_name=size_name,
                q1=float(stats["q1"]) if "q1" in stats else None,
                q3=float(stats["q3"]) if "q3" in stats else None,
            )
        )
    fastest: dict[tuple[str, str], float] = {}
    for b in raw:
        fastest[b.group, b.case] = min(fastest.get((b.group, b.case), b.median), b.median)
    return [replace(b, ratio=b.median / fastest[b.group, b.case]) for b in raw]


# --- the figures -------------------------------------------------------------------


def module_exists(name: str) -> bool:
    """Whether ``name`` can be imported (its file exists), without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def suite_step(test_module: str, names: tuple[str, ...]) -> tuple[float | None, str]:
    """The fixed finite-difference step a theorem module exposes, with a note for the page."""
    if not module_exists(test_module):
        return None, f"{test_module} does not exist yet: no suite step to mark."
    try:
        module = importlib.import_module(test_module)
    except Exception as error:  # shown on the page: a broken module must not stop the report
        return None, f"{test_module} failed to import ({type(error).__name__}: {error})."
    for name in names:
        step = getattr(module, name, None)
        if isinstance(step, int | float):
            return float(step), f"Dotted line: the suite's step {test_module}.{name} = {step:.3g}."
    return None, (
        f"{test_module} defines none of {', '.join(names)} (it may choose h per example): "
        "no suite step to mark."
    )


@dataclass
class Figure:
    """An embedded figure (SVG) or the reason it is absent."""

    title: str
    svg: str = ""
    notes: list[str] = field(default_factory=list)


def special_figures() -> list[Figure]:
    """The Ky Fan and gradient-check plots, each only when its reference module exists."""
    from properties.report import plots  # matplotlib: imported only when building figures

    figures = []
    ky = Figure("Ky Fan: trace(Φᵀ Σ Φ) over random orthonormal frames against the bound")
    if module_exists("reference.mahalanobis"):
        from reference.mahalanobis import min_trace_frame

        ky.svg = plots.ky_fan(min_trace_frame)
        ky.notes.append(
            "Grey dots: random orthonormal frames (QR of Gaussian matrices); red: the lower "
            "bound, sum of the k smallest eigenvalues; blue cross: the reference min_trace_frame."
        )
    else:
        ky.notes.append("Absent: its theorem is absent (reference/mahalanobis.py does not exist).")
    figures.append(ky)

    grad = Figure("Gradient check: central-difference error against the step h")
    cases = []
    if module_exists("reference.batchnorm"):
        from reference.batchnorm import batchnorm_backward, batchnorm_forward

        step, note = suite_step(*GRADIENT_MODULES["reference.batchnorm"])
        cases.append(plots.batchnorm_case(batchnorm_forward, batchnorm_backward, step))
        grad.notes.append(note)
    else:
        grad.notes.append("Batch norm curve absent: reference/batchnorm.py does not exist.")
    if module_exists("reference.softmax_ce"):
        from reference.softmax_ce import cross_entropy, cross_entropy_grad

        step, note = suite_step(*GRADIENT_MODULES["reference.softmax_ce"])
        cases.append(plots.cross_entropy_case(cross_entropy, cross_entropy_grad, step))
        grad.notes.append(note)
    else:
        grad.notes.append("Cross-entropy curve absent: reference/softmax_ce.py does not exist.")
    if cases:
        grad.svg = plots.gradient_check(cases)
        grad.notes.insert(
            0,
            "Error falls like h² (Taylor truncation) until float64 rounding, about "
            "EPS·scale/h, takes over; dashed: the bound properties.tolerance."
            "directional_difference allows at each h.",
        )
    else:
        grad.notes.insert(
            0, "Absent: its theorems are absent (no batch norm or softmax reference)."
        )
    figures.append(grad)
    return figures


def benchmark_figures(benches: list[Bench]) -> list[Figure]:
    """Per group: bars of every benchmark's time, and time against size where it varies."""
    from properties.report import plots

    groups: dict[str, list[Bench]] = defaultdict(list)
    for b in benches:
        groups[b.group].append(b)
    figures = []
    for group, members in sorted(groups.items()):
        points = [
            plots.BenchPoint(
                b.name, b.label, b.case, b.size, b.median, b.ratio, b.is_reference, b.q1, b.q3
            )
            for b in members
        ]
        figures.append(Figure(f"{group}: each benchmark", plots.benchmark_bars(group, points)))
        if len({b.size for b in members if b.size is not None}) >= 2:
            names = sorted({b.size_name for b in members if b.size is not None})
            scaling = plots.benchmark_scaling(
                group, [p for p in points if p.size is not None], " or ".join(names)
            )
            figures.append(
                Figure(
                    f"{group}: time against size",
                    scaling,
                    [
                        f"Median time per call against {' or '.join(names)}, log-log, one line "
                        "per implementation; bars span the quartiles of the rounds; the legend "
                        "gives each line's fitted slope p (time ∝ size^p)."
                    ],
                )
            )
    return figures


# --- the report --------------------------------------------------------------------


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
    unclaimed: list[WrongEntry] = field(default_factory=list)  # catalogue, no theorem
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


def build(
    root: Path,
    out: Path,
    results_path: Path,
    coverage_path: Path,
    benchmarks_path: Path,
    theorem_dir: Path,
    special: bool = True,
    catalogue: Sequence[tuple[str, str, str]] | None = None,
) -> tuple[Path, Path]:
    """Write ``index.html`` and ``summary.md`` into ``out``; return their paths.

    ``special=False`` skips the Ky Fan and gradient-check figures (they need the real
    reference modules; the builder's own tests draw them with stand-ins).
    ``catalogue`` is ``(name, func, mistake)`` per wrong implementation; by default
    ``properties.catalogue``'s entries.
    """
    results = load_json(results_path) or {}
    benches = read_benchmarks(benchmarks_path)
    note = ""
    if catalogue is None:
        catalogue, note = load_catalogue()
    found = theorems(root, theorem_dir, results)
    unclaimed = attach_catalogue(found, catalogue, results)
    report = Report(
        results=results,
        theorems=found,
        errata=errata(results),
        coverage=read_coverage(coverage_path),
        coverage_link=os.path.relpath(coverage_path.parent / "html" / "index.html", out),
        benches=benches,
        bench_figures=benchmark_figures(benches),
        figures=special_figures() if special else [],
        unclaimed=unclaimed,
        catalogue_note=note,
    )
    out.mkdir(parents=True, exist_ok=True)
    page, summary = out / "index.html", out / "summary.md"
    page.write_text(render.html_page(report), encoding="utf-8")
    summary.write_text(render.markdown(report), encoding="utf-8")
    return page, summary


# --- entry point -------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: paths default to the layout ``make report`` writes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--results", type=Path, default=Path("reports/results.json"))
    parser.add_argument("--coverage", type=Path, default=Path("reports/coverage/coverage.xml"))
    parser.add_argument(
        "--benchmarks", type=Path, default=Path("reports/benchmarks/benchmarks.json")
    )
    parser.add_argument("--theorems", type=Path, default=Path("properties"))
    parser.add_argument(
        "--no-special-plots", action="store_true", help="skip Ky Fan and gradient plots"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    root = args.root.resolve()
    page, summary = build(
        root,
        (root / args.out).resolve(),
        root / args.results,
        root / args.coverage,
        root / args.benchmarks,
        root / args.theorems,
        special=not args.no_special_plots,
    )
    print(f"nnlaws report: {page} and {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

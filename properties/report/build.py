"""Build ``reports/index.html`` and ``reports/summary.md`` from one ``make report`` run.

Inputs, each optional (a missing one is said on the page, never an error):

* ``results.json`` written by ``properties.report.plugin`` (per-test outcome, duration,
  Hypothesis statistics, counterexamples, errata);
* the theorem modules themselves, ``properties/test_*.py``: the first line of each module
  docstring is the title ("Theorem (Problem N): ..."), the rest the statement;
* ``coverage.xml`` from pytest-cov (branch coverage of ``reference/`` and the strategies);
* ``benchmarks.json`` from pytest-benchmark;
* the catalogue (``properties.catalogue``): each wrong implementation and each correct
  peer is shown under every theorem whose properties declare its contract name
  (``@uses``, recorded by the plugin), as rejected / accepted or not by its audit in the
  same run (``properties/meta/test_catalogue.py``: ``test_wrong_implementation_is_rejected``
  and ``test_peer_is_accepted``, item ids ``NAME:func``);
* per property, its accuracy grade and ``@proves`` claims (recorded by the plugin);
* the contract records (``reference.contract``): the special figures draw the reference
  functions they name.

The page is one self-contained HTML file: inline CSS, figures as inline SVG, no script,
no network. Every piece of text that comes from a run (counterexamples, messages,
statements) is HTML-escaped. Usage: ``python -m properties.report.build [--help]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from properties.errata import ERRATUM_PROPERTY
from properties.report import render
from properties.report.model import (
    Bench,
    CatalogueEntry,
    Coverage,
    Figure,
    Report,
    Theorem,
)

#: parameter names taken as the problem size of a benchmark (else extra_info["size"])
SIZE_PARAMS = ("size", "n", "m", "N", "B")
#: the meta tests whose parametrized items audit the catalogue entries and the peers,
#: each item's id ``NAME:func`` (properties/meta/test_catalogue.py)
CATALOGUE_TEST = "test_wrong_implementation_is_rejected"
PEER_TEST = "test_peer_is_accepted"
#: parameter names that choose the implementation rather than the case measured
IMPLEMENTATION_PARAMS = ("impl", "implementation", "method", "variant", "func", "fn", "baseline")


# --- reading the inputs ------------------------------------------------------------


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


def load_catalogue() -> tuple[list[CatalogueEntry], str]:
    """Every ``properties.catalogue`` entry and peer (not yet run), and a note.

    The note is empty, or says why there is no catalogue (a broken catalogue module must
    not stop the report: the page says so instead).
    """
    try:
        from properties.catalogue import all_peers, all_wrong_implementations

        wrong, peers = all_wrong_implementations(), all_peers()
    except Exception as error:  # shown on the page
        return [], f"properties.catalogue failed to import ({type(error).__name__}: {error})."
    entries = [CatalogueEntry(e.name, e.func.__name__, e.mistake, "not run") for e in wrong]
    entries += [
        CatalogueEntry(p.name, p.func.__name__, p.algorithm, "not run", True) for p in peers
    ]
    return entries, ""


def catalogue_outcomes(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``(catalogue test, NAME:func)`` -> outcome of that parametrized item."""
    found = {}
    for test in results.get("tests", []):
        base, _, rest = test["name"].partition("[")
        if base in (CATALOGUE_TEST, PEER_TEST) and rest.endswith("]"):
            found[base, rest[:-1]] = test["outcome"]
    return found


def attach_catalogue(
    found: list[Theorem], entries: Sequence[CatalogueEntry], results: dict[str, Any]
) -> list[CatalogueEntry]:
    """Give each theorem the entries whose name its properties declare; return the rest.

    An entry goes under every theorem whose recorded ``uses`` contain its contract name
    (one name may be exercised by several theorems), with the outcome of its audit in
    this run; entries no theorem declares are returned, so the page can list them apart
    rather than lose them.
    """
    outcomes = catalogue_outcomes(results)
    unclaimed = []
    for entry in entries:
        test = PEER_TEST if entry.peer else CATALOGUE_TEST
        ran = replace(entry, outcome=outcomes.get((test, entry.id), "not run"))
        owners = [t for t in found if ran.name in t.uses]
        for theorem in owners:
            theorem.catalogue.append(ran)
        if not owners:
            unclaimed.append(ran)
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


def special_figures() -> list[Figure]:
    """The Ky Fan and gradient-check plots, drawn on the reference functions (the records)."""
    from properties.report import plots  # matplotlib: imported only when building figures
    from reference.contract import record

    def reference(name: str) -> Any:
        return record(name).reference()

    ky = Figure(
        "Ky Fan: trace(Φᵀ Σ Φ) over random orthonormal frames against the bound",
        plots.ky_fan(reference("min_trace_frame")),
        [
            "Grey dots: random orthonormal frames (QR of Gaussian matrices); red: the lower "
            "bound, sum of the k smallest eigenvalues; blue cross: the reference min_trace_frame."
        ],
    )
    cases = [
        plots.batchnorm_case(reference("batchnorm_forward"), reference("batchnorm_backward")),
        plots.cross_entropy_case(reference("cross_entropy"), reference("cross_entropy_grad")),
    ]
    grad = Figure(
        "Gradient check: central-difference error against the step h",
        plots.gradient_check(cases),
        [
            "Error falls like h² (Taylor truncation) until float64 rounding, about "
            "EPS·scale/h, takes over; dashed: the bound properties.tolerance."
            "directional_difference allows at each h (the properties choose h per example)."
        ],
    )
    return [ky, grad]


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


def build(
    root: Path,
    out: Path,
    results_path: Path,
    coverage_path: Path,
    benchmarks_path: Path,
    theorem_dir: Path,
    special: bool = True,
    catalogue: Sequence[CatalogueEntry] | None = None,
) -> tuple[Path, Path]:
    """Write ``index.html`` and ``summary.md`` into ``out``; return their paths.

    ``special=False`` skips the Ky Fan and gradient-check figures (they need the real
    reference modules; the builder's own tests draw them with stand-ins).
    ``catalogue`` lists the entries (wrong implementations and peers); by default
    ``properties.catalogue``'s.
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

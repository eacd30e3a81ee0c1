"""The report builder, tested on a small run of a fake suite of its own.

A throwaway suite (written to a temporary directory) has three theorem modules, one
with a failing property whose shrunk counterexample contains HTML, one erratum, a
benchmark group at two sizes, and a stand-in of ``properties/meta/test_catalogue.py``
auditing a small fake catalogue (one entry rejected, one not). It runs in a
subprocess with the report plugin and coverage, exactly as ``make report`` runs the
real suite, and the builder turns the run into ``index.html`` and ``summary.md``. The
tests check that every theorem is on the page as its own block with its statement,
that the numbers were parsed, that the failure shows its counterexample, that each
theorem lists the wrong implementations tried against its contract names with the
audit's verdict, that text from the run is escaped, that a group measured at several
sizes gets a time-against-size plot, that the special plots draw what they claim, and
that headless Chromium renders the page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the report needs the `report` extra (matplotlib)")

from properties.report import build, plots, plugin

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")

FAKE_SUITE = {
    "test_alpha.py": '''
        """Theorem (Problem 2): Addition commutes.

        For all integers a, b:  a + b = b + a.
        """
        import pytest
        from hypothesis import given, settings, strategies as st

        @pytest.mark.uses("add")
        @settings(max_examples=37)  # a number the report test can recognise
        @given(st.integers(), st.integers())
        def test_commutes(a, b):
            assert a + b == b + a
        ''',
    "test_beta.py": '''
        """Theorem (Problem 1): Every string is short.

        For all strings s:  len(s) < 3.
        """
        from hypothesis import given, strategies as st
        from properties.errata import record_erratum

        @given(st.text(alphabet="<>&ab", min_size=1))
        def test_short(s):
            assert len(s) < 3, f"len({s!r}) = {len(s)} <script>alert(1)</script>"

        def test_erratum_short(record_property):
            record_erratum(record_property, problem="Problem 1", claim="len(s) < 3 for <all> s",
                           correction="len(s) is unbounded", counterexample="s = '<&>'")
        ''',
    "test_gamma.py": '''
        """Theorem (Problem 10): Squares are non-negative.

        For all floats x:  x * x >= 0.
        """
        import fakeref
        import pytest
        from hypothesis import given, strategies as st
        from properties.symbolic import proves
        from properties.tolerance.common import Bound, assert_close

        @pytest.mark.uses("square")
        @given(st.floats(allow_nan=False, allow_infinity=False, max_value=1e100, min_value=-1e100))
        def test_square(x):
            assert fakeref.square(x) >= 0
            assert_close(fakeref.square(x), x * x, Bound(abs(x * x) * 1e-15, "rounding"),
                         what="square", componentwise=Bound(abs(x * x) * 1e-16, "exact"))

        @proves("square", "x**2 >= 0 for real x")
        def test_square_is_non_negative_symbolically():
            pass
        ''',
    "bench_fake.py": """
        import pytest

        @pytest.mark.benchmark(group="sum")
        @pytest.mark.parametrize("n", [10, 1000])
        def test_sum_reference(benchmark, n):
            benchmark(sum, range(n))

        @pytest.mark.benchmark(group="sum")
        @pytest.mark.parametrize("n", [10, 1000])
        def test_sum_loop(benchmark, n):
            def loop():
                total = 0
                for i in range(n):
                    total += i
                return total
            benchmark(loop)
        """,
    "meta/test_catalogue.py": """
        import pytest

        # the verdict of each audit, as properties/meta/test_catalogue.py would find it
        REJECTED = {"square:square_identity": True, "square:square_negated": False,
                    "add:add_subtracts": True}

        @pytest.mark.parametrize("entry", sorted(REJECTED))
        def test_wrong_implementation_is_rejected(entry):
            assert REJECTED[entry], f"no property rejected {entry}"

        @pytest.mark.parametrize("peer", ["square:square_by_abs"])
        def test_peer_is_accepted(peer):
            pass
        """,
    "fakeref.py": """
        def square(x):
            if x < 0:
                return (-x) * (-x)
            return x * x
        """,
}


#: the fake catalogue (wrong implementations and a peer), as properties.catalogue has it
CATALOGUE = [
    build.CatalogueEntry("square", "square_identity", "returns x, not x * x", "not run"),
    build.CatalogueEntry("square", "square_negated", "returns -x * x <b>negated</b>", "not run"),
    build.CatalogueEntry("add", "add_subtracts", "a - b", "not run"),
    build.CatalogueEntry("cube", "cube_orphan", "no theorem declares cube", "not run"),
    build.CatalogueEntry("square", "square_by_abs", "|x| * |x|", "not run", peer=True),
]


class Run(NamedTuple):
    """The fake run and what the builder made of it."""

    root: Path
    process: subprocess.CompletedProcess[str]
    html: str
    summary: str
    results: dict[str, Any]


def run_fake_suite(
    root: Path, *options: str, database: str = ".hypothesis"
) -> subprocess.CompletedProcess[str]:
    """Run pytest on the fake suite in ``root`` with ``options``.

    ``database``: Hypothesis's storage directory, relative to ``root``.
    """
    # not an xdist worker's variables: pytest-benchmark would think the fake run distributed
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env = {
        **inherited,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(root / "suite")]),
        "HYPOTHESIS_STORAGE_DIRECTORY": str(root / database),
    }
    command = [
        sys.executable, "-m", "pytest", "-p", "properties.audit", "-p", "no:cacheprovider",
        "-o", "python_files=test_*.py bench_*.py", "--hypothesis-seed=0", *options, "suite",
    ]  # fmt: skip
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run the fake suite as ``make report`` runs the real one; build the report.

    Two runs, as there: the suite on two xdist workers with coverage (benchmarks run
    once as tests), then the benchmarks alone, timed.
    """
    root = tmp_path_factory.mktemp("fake-suite")
    suite = root / "suite"
    suite.mkdir()
    for name, source in FAKE_SUITE.items():
        (suite / name).parent.mkdir(exist_ok=True)
        (suite / name).write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    out = root / "reports"
    (out / "benchmarks").mkdir(parents=True)
    process = run_fake_suite(
        root, "-p", "properties.report.plugin", "-n", "2", "--dist", "loadfile",
        "--benchmark-disable", "--cov=fakeref", "--cov-branch",
        "--cov-report=xml:reports/coverage/coverage.xml",
        "--junitxml=reports/junit.xml", "-o", "junit_family=xunit1",
    )  # fmt: skip
    timed = run_fake_suite(
        root, "--benchmark-only", "--benchmark-json=reports/benchmarks/benchmarks.json",
        "--benchmark-max-time=0.001", "--benchmark-min-rounds=3", "--benchmark-warmup=off",
    )  # fmt: skip
    assert timed.returncode == 0, timed.stdout + timed.stderr
    build.build(
        root,
        out,
        out / "results.json",
        out / "coverage" / "coverage.xml",
        out / "benchmarks" / "benchmarks.json",
        suite,
        special=False,  # the special plots need the real references: tested below
        catalogue=CATALOGUE,
    )
    return Run(
        root,
        process,
        (out / "index.html").read_text(encoding="utf-8"),
        (out / "summary.md").read_text(encoding="utf-8"),
        build.load_json(out / "results.json"),
    )


def test_fake_run_fails_exactly_where_it_should(run: Run) -> None:
    assert run.process.returncode == 1, run.process.stdout + run.process.stderr
    outcomes = {t["name"]: t["outcome"] for t in run.results["tests"]}
    assert outcomes["test_short"] == "failed"
    assert outcomes["test_commutes"] == "passed"
    assert outcomes["test_wrong_implementation_is_rejected[square:square_negated]"] == "failed"
    assert run.results["session"]["exitstatus"] == 1
    # the plugin chains Hypothesis's statistics callback: its JUnit properties survive
    junit = (run.root / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert "hypothesis-statistics-suite/test_alpha.py::test_commutes" in junit


def test_records_are_the_same_with_and_without_xdist(run: Run) -> None:
    # each record is built in the worker that ran the test and carried to the controller
    # on its reports: one process must record exactly what two workers do (from an empty
    # example database, as the first run started: no failure is replayed)
    single = run.root / "single.json"
    run_fake_suite(
        run.root, "-p", "properties.report.plugin", "--benchmark-disable",
        f"--report-results={single}", database="single-run-database",
    )  # fmt: skip
    kept = ("module", "outcome", "uses", "proofs", "user_properties", "counterexample")

    def records(results: dict[str, Any]) -> dict[str, Any]:
        return {
            t["nodeid"]: ({k: t[k] for k in kept}, (t["hypothesis"] or {}).get("examples"))
            for t in results["tests"]
        }

    assert records(build.load_json(single)) == records(run.results)
    assert len(run.results["tests"]) == 13


def test_a_collection_error_is_recorded_once_under_xdist(tmp_path: Path) -> None:
    # every worker collects every file, so each reports the broken one to the controller
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "suite" / "test_broken.py").write_text("raise RuntimeError('broken')\n")
    results = tmp_path / "results.json"
    run_fake_suite(
        tmp_path, "-p", "properties.report.plugin", "-n", "2", f"--report-results={results}"
    )
    errors = build.load_json(results)["collection_errors"]
    assert [e["nodeid"] for e in errors] == ["suite/test_broken.py"]
    assert "RuntimeError: broken" in errors[0]["longrepr"]


def test_every_theorem_is_on_the_page_in_problem_order(run: Run) -> None:
    titles = ["Every string is short", "Addition commutes", "Squares are non-negative"]
    for text in (run.html, run.summary):
        positions = [text.find(title) for title in titles]
        assert -1 not in positions, f"missing theorem among {titles}"
        assert positions == sorted(positions), "theorems not in problem order 1, 2, 10"
    assert "For all integers a, b:  a + b = b + a." in run.html
    # each theorem is a full-width block; its statement a monospace block kept verbatim
    assert run.html.count('<section class="theorem') == 3
    assert '<pre class="statement">For all integers a, b:  a + b = b + a.</pre>' in run.html


def theorem_block(html: str, module: str) -> str:
    """The HTML of one theorem's block."""
    found = re.search(
        rf'<section class="theorem[^"]*" id="theorem-{module}">.*?</section>', html, re.S
    )
    assert found is not None, f"no block for {module}"
    return found.group(0)


def test_the_statement_is_split_from_what_the_properties_check() -> None:
    from properties.report import render

    doc = "Let x > 0.\n\n    x^2 > 0.\n\nProperties (oracles):\n- x * x > 0 [the law]"
    checks = "Properties (oracles):\n- x * x > 0 [the law]"
    assert render.split_statement(doc) == ("Let x > 0.\n\n    x^2 > 0.", checks)
    assert render.split_statement("Let x > 0. Then x^2 > 0.") == ("Let x > 0. Then x^2 > 0.", "")


def test_each_theorem_lists_the_wrong_implementations_tried(run: Run) -> None:
    uses = {t["name"]: t["uses"] for t in run.results["tests"]}
    assert uses["test_square"] == ["square"] and uses["test_short"] == []

    gamma = theorem_block(run.html, "test_gamma")
    cells = (
        r'<span class="([a-z-]+)">[^<]*</span></td><td><code>\w+</code></td><td><code>(.*?)</code>'
    )
    rows = re.findall(cells, gamma)
    verdicts = {func.replace("<wbr>", ""): verdict for verdict, func in rows}
    assert verdicts == {
        "square_identity": "rejected",
        "square_negated": "not-rejected",
        "square_by_abs": "accepted",
    }
    assert "1 / 2 rejected, 1 / 1 peers accepted" in gamma and "NOT rejected" in gamma
    assert "correct peer: |x| * |x|" in gamma
    assert "returns -x * x &lt;b&gt;negated&lt;/b&gt;" in gamma  # the mistake, escaped
    alpha = theorem_block(run.html, "test_alpha")
    assert "add_<wbr>subtracts" in alpha and "1 / 1 rejected" in alpha
    assert "NOT rejected" not in alpha and "square" not in alpha
    assert "declare no contract name" in theorem_block(run.html, "test_beta")
    # an entry no theorem declares is listed apart, not lost; its audit did not run
    assert "no theorem declares" in run.html and "cube_<wbr>orphan" in run.html
    assert "not run" in run.html.split("cube_<wbr>orphan")[0].rsplit("<tr>", 1)[-1]

    assert "| **NOT rejected** | `square:square_negated` |" in run.summary
    assert "| rejected | `add:add_subtracts` |" in run.summary
    assert "| 1 / 2 rejected, 1 / 1 peers accepted |" in run.summary  # the theorem table


def test_numbers_are_parsed(run: Run) -> None:
    found = {t.title: t for t in build.theorems(run.root, run.root / "suite", run.results)}
    alpha = found["Theorem (Problem 2): Addition commutes."]
    assert (alpha.status, alpha.examples) == ("held", 37)
    assert alpha.duration > 0
    assert found["Theorem (Problem 1): Every string is short."].status == "failed"
    row = re.search(r"Addition commutes.*?</tr>", run.html, re.S)
    assert row is not None and '<td class="num">37</td>' in row.group(0)

    cov = build.read_coverage(run.root / "reports" / "coverage" / "coverage.xml")
    assert cov is not None and 0 < cov.percent <= 100
    assert f"{cov.percent:.1f} %" in run.html

    benches = build.read_benchmarks(run.root / "reports" / "benchmarks" / "benchmarks.json")
    assert {b.size for b in benches} == {10.0, 1000.0}
    for size in (10.0, 1000.0):
        ratios = sorted(b.ratio for b in benches if b.size == size)
        assert ratios[0] == 1.0 and len(ratios) == 2 and ratios[1] >= 1.0
    assert "sum: time against size" in run.html and run.html.count("<svg") >= 2
    assert "time against n" in run.html  # the size is named after its parameter


def test_a_failure_is_rendered_with_its_shrunk_counterexample(run: Run) -> None:
    failed = next(t for t in run.results["tests"] if t["name"] == "test_short")
    assert re.search(r"Falsifying example|Failing test case", failed["counterexample"])
    shrunk = re.search(r"s=('.*?')", failed["counterexample"])
    assert shrunk is not None and len(eval(shrunk.group(1))) == 3  # minimal: length 3
    from html import escape

    assert escape(failed["counterexample"]) in run.html
    assert "test_short" in run.summary and shrunk.group(1) in run.summary


def test_text_from_the_run_is_escaped(run: Run) -> None:
    assert "<script" not in run.html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in run.html
    assert "len(s) &lt; 3 for &lt;all&gt; s" in run.html  # the erratum's claim


def test_errata_are_listed_with_their_correction(run: Run) -> None:
    errata = build.errata(run.results)
    assert [e["problem"] for e in errata] == ["Problem 1"]
    assert "len(s) is unbounded" in run.html and "s = &#x27;&lt;&amp;&gt;&#x27;" in run.html
    assert "nnlaws-erratum" in (run.root / "reports" / "junit.xml").read_text(encoding="utf-8")


def test_benchmarks_compare_implementations_within_one_case(tmp_path: Path) -> None:
    def entry(impl: str, shape: str, median: float) -> dict[str, Any]:
        stats = {"median": median, "mean": median, "stddev": 0.0, "rounds": 5}
        params = {"impl": impl, "shape": shape}
        return {"group": "conv", "name": f"test_conv[{impl}-{shape}]", "params": params,
                "extra_info": {}, "stats": stats}  # fmt: skip

    path = tmp_path / "bench.json"
    runs = [("reference", "small", 1.0), ("loop", "small", 4.0), ("reference", "big", 8.0),
            ("loop", "big", 80.0)]  # fmt: skip
    path.write_text(json.dumps({"benchmarks": [entry(*r) for r in runs]}), encoding="utf-8")
    ratios = {(b.label, b.case): b.ratio for b in build.read_benchmarks(path)}
    assert ratios == {
        ("test_conv[impl=reference]", "shape=small"): 1.0,
        ("test_conv[impl=loop]", "shape=small"): 4.0,
        ("test_conv[impl=reference]", "shape=big"): 1.0,
        ("test_conv[impl=loop]", "shape=big"): 10.0,
    }


def test_time_against_size_only_where_a_group_has_several_sizes() -> None:
    def bench(group: str, label: str, size: float, median: float) -> build.Bench:
        name = f"{label}[{size:g}]"
        return build.Bench(group, name, label, f"n={size:g}", size, median, median, 0.0, 5,
                           size_name="n", q1=0.9 * median, q3=1.1 * median)  # fmt: skip

    benches = [bench("scaling", "test_reference", n, 1e-6 * n) for n in (10, 100, 1000)]
    benches += [bench("scaling", "test_loop", n, 1e-8 * n**2) for n in (10, 100, 1000)]
    benches += [bench("fixed", "test_reference", 64, 1e-3), bench("fixed", "test_loop", 64, 2e-3)]
    figures = {f.title: f for f in build.benchmark_figures(benches)}
    assert set(figures) == {
        "fixed: each benchmark",
        "scaling: each benchmark",
        "scaling: time against size",
    }
    svg = figures["scaling: time against size"].svg
    assert svg.startswith("<svg") and "time against n" in svg
    # one line per implementation, labelled with its fitted log-log slope
    assert "test_reference (slope 1.00)" in svg and "test_loop (slope 2.00)" in svg
    assert plots.scaling_slope([10, 100, 1000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)


def test_several_distinct_failures_keep_every_counterexample() -> None:
    first, second = ValueError("big"), KeyError("small")
    first.add_note("Falsifying example: f(n=6)")
    second.add_note("Falsifying example: f(n=-6)")
    group = ExceptionGroup("Hypothesis found 2 distinct failures.", [first, second])
    assert plugin.counterexample_text(group).splitlines() == [
        "Falsifying example: f(n=6)",
        "Falsifying example: f(n=-6)",
    ]
    assert plugin.exception_message(group).splitlines()[1:] == [
        "ValueError: big",
        "KeyError: 'small'",
    ]


def test_an_empty_run_still_builds_a_page(tmp_path: Path) -> None:
    page, summary = build.build(
        tmp_path, tmp_path / "out", tmp_path / "none.json", tmp_path / "none.xml",
        tmp_path / "none-bench.json", tmp_path, special=False,
    )  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert "No test record" in html and "No coverage XML" in html
    assert "No theorem module" in html and summary.exists()


# --- the special plots, on stand-in implementations written from the definitions ---


def eigen_frame(sigma: np.ndarray, k: int) -> np.ndarray:
    """Eigenvectors of the k smallest eigenvalues: the Ky Fan minimiser."""
    return np.linalg.eigh(sigma)[1][:, :k]


def cross_entropy(y: np.ndarray, z: np.ndarray) -> float:
    """-sum y log softmax(z), with the log-sum-exp computed stably."""
    top = z.max()
    return float(-(y * z).sum() + top + np.log(np.exp(z - top).sum()))


def cross_entropy_grad(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """softmax(z) - y for y on the simplex."""
    s = np.exp(z - z.max())
    return s / s.sum() - y


def test_ky_fan_plot_draws_frames_and_the_bound() -> None:
    svg = plots.ky_fan(eigen_frame, m=4, frames=20)
    assert svg.startswith("<svg") and "Ky Fan" in svg


def test_gradient_check_plot_shows_both_regimes() -> None:
    case = plots.cross_entropy_case(cross_entropy, cross_entropy_grad)
    errors, bounds = plots.gradient_errors(case, plots.STEPS)
    best = int(np.argmin(errors))
    assert 1e-8 < plots.STEPS[best] < 1e-2, "the optimum step lies between the two regimes"
    big = plots.STEPS > 1e-2  # truncation: error ~ h^2, slope 2 on log-log axes
    slope = np.polyfit(np.log(plots.STEPS[big]), np.log(errors[big]), 1)[0]
    assert 1.5 < slope < 2.5
    assert errors[0] > 1e3 * errors[best], "rounding dominates at h = 1e-12"
    useful = (plots.STEPS >= 1e-8) & (plots.STEPS <= 1e-2)
    assert (errors[useful] <= bounds[useful]).all(), "the dashed bound covers the error"
    svg = plots.gradient_check([case])
    assert svg.startswith("<svg") and "bound allowed" in svg


def test_special_figures_draw_the_reference_functions_of_the_records() -> None:
    figures = build.special_figures()
    assert [f.svg.startswith("<svg") for f in figures] == [True, True]


def test_proofs_and_accuracy_grades_are_shown_per_theorem(run: Run) -> None:
    gamma = theorem_block(run.html, "test_gamma")
    assert "Proved for small sizes" in gamma and "x**2 &gt;= 0 for real x" in gamma
    assert "proved for small sizes" in gamma  # the mark in the header line
    assert "componentwise accurate" in gamma or "backward stable only" in gamma
    assert "Proved for small sizes" not in theorem_block(run.html, "test_alpha")


# --- headless Chromium --------------------------------------------------------------


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium not installed (Debian: apt install chromium)"
)
def test_page_renders_in_headless_chromium(run: Run, tmp_path: Path) -> None:
    import matplotlib.image

    png = tmp_path / "page.png"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
        "--window-size=1366,900", (run.root / "reports" / "index.html").as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    image = matplotlib.image.imread(png)
    assert image.shape[:2] == (900, 1366)
    assert image[..., :3].std() > 0.05, "the screenshot is blank"

"""Adding a theorem is adding four files: the records, not lists, tell the suite about it.

Claim (of the suite itself). In a copy of the repository, add a toy theorem as four new
files and touch nothing else:

* ``reference/toy.py``: the reference function ``double`` and its contract record;
* ``properties/strategies/toy.py``: a strategies chapter;
* ``properties/test_toy.py``: the theorem module (statement, then a property);
* ``properties/catalogue/toy.py``: a wrong implementation of ``double``.

Then ``double`` is a contract name (``--impl`` accepts it, the registry serves it), an
audit of it selects the toy property and deselects the others, an audit of a wrong
``double`` fails, its error inputs are tried on the reference, the report lists the
theorem with its catalogue entry, and the README checks notice the new name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: what a copy of the repository leaves out (generated, or the environment)
NOT_COPIED = (
    ".git",
    ".venv",
    "reports",
    ".hypothesis",
    ".pytest_cache",
    "__pycache__",
    "*.egg-info",
)

TOY = {
    "reference/toy.py": '''
        """Doubling (the toy theorem's reference)."""

        import numpy as np

        from reference.contract import Record, bad


        def double(x):
            """2 x, for a finite float64 array x."""
            x = np.asarray(x, dtype=np.float64)
            if not np.isfinite(x).all():
                raise ValueError(f"x: expected finite values, got {x!r}")
            return 2.0 * x


        CONTRACT = [Record("double", "(x)", error_inputs=[bad("x", x=np.array([np.nan]))])]
        ''',
    "properties/strategies/toy.py": '''
        """Strategies for the toy chapter."""

        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp

        __all__ = ["toy_vectors"]


        def toy_vectors():
            """Small finite vectors. Example: ``toy_vectors().example()``; shrinks to [0.]."""
            return hnp.arrays(float, st.integers(1, 4), elements=st.floats(-1e3, 1e3))
        ''',
    "properties/test_toy.py": '''
        """Theorem (Problem 99): doubling is adding a vector to itself.

        For every finite x in R^n:  double(x) = x + x.
        """

        import numpy as np
        from hypothesis import given

        from properties.audit import uses
        from properties.strategies import toy_vectors


        @uses("double")
        @given(x=toy_vectors())
        def test_double_is_x_plus_x(impl, x):
            assert np.array_equal(impl.double(x), x + x)
        ''',
    "properties/catalogue/toy.py": '''
        """Wrong doublings."""

        from properties.catalogue import WrongImplementation


        def triple(x):
            return 3 * x


        CATALOGUE = [WrongImplementation("double", triple, "multiplies by 3")]
        ''',
}


class Copy(NamedTuple):
    """The repository copy with the toy theorem, and how to run things in it."""

    root: Path
    env: dict[str, str]

    def pytest(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``pytest ARGS`` in the copy, as a user would type it there."""
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
        return subprocess.run(
            command, cwd=self.root, env=self.env, capture_output=True, text=True, check=False
        )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Copy:
    """A copy of the repository with the four toy files added, nothing else changed."""
    root = tmp_path_factory.mktemp("repo") / "nnlaws"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(*NOT_COPIED))
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    for name, source in TOY.items():
        assert not (root / name).exists(), f"{name} exists already"
        (root / name).write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    after = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert sorted(set(after) - set(before)) == sorted(TOY)
    # the copy's packages first: ahead of the editable install of this checkout
    env = {**os.environ, "PYTHONPATH": str(root)}
    return Copy(root, env)


def test_an_audit_of_the_new_name_selects_its_property_and_rejects_the_wrong_one(copy) -> None:
    theorems = ["properties/test_toy.py", "properties/test_softmax.py"]
    wrong = copy.pytest("--impl", "double=properties.catalogue.toy:triple", "-q", *theorems)
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "1 failed" in wrong.stdout and "deselected" in wrong.stdout, wrong.stdout
    assert "test_double_is_x_plus_x" in wrong.stdout
    right = copy.pytest("--impl", "double=reference.toy:double", "-q", *theorems)
    assert right.returncode == 0, right.stdout + right.stderr
    assert "1 passed" in right.stdout and "deselected" in right.stdout, right.stdout


def test_the_reference_audit_and_the_registry_include_the_new_name(copy) -> None:
    listed = copy.pytest("--impl-module", "reference", "--collect-only", "-q")
    assert "properties/test_toy.py::test_double_is_x_plus_x" in listed.stdout, listed.stdout
    records = copy.pytest(
        "properties/meta/test_contract.py", "properties/meta/test_registry.py", "-q", "-k", "double"
    )
    assert records.returncode == 0, records.stdout + records.stderr
    assert "passed" in records.stdout  # its error input and signature, checked generically


def test_the_readme_checks_notice_the_new_name(copy) -> None:
    checks = copy.pytest(
        "properties/meta/test_contract.py::test_readme_contract_table_matches_the_records",
        "properties/meta/test_strategies.py::test_readme_strategy_table_is_the_public_strategies",
        "-q",
    )
    assert checks.returncode == 1
    assert "missing ['double']" in checks.stdout, checks.stdout
    assert "missing ['toy_vectors']" in checks.stdout, checks.stdout


def test_the_report_lists_the_new_theorem_with_its_catalogue_entry(copy) -> None:
    ran = copy.pytest("-p", "properties.report.plugin", "properties/test_toy.py", "-q")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    build = subprocess.run(
        [sys.executable, "-m", "properties.report.build", "--no-special-plots"],
        cwd=copy.root, env=copy.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    summary = (copy.root / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "doubling is adding a vector to itself" in summary
    assert "`double:triple`" in summary and "multiplies by 3" in summary
    results = json.loads((copy.root / "reports" / "results.json").read_text(encoding="utf-8"))
    assert [t["uses"] for t in results["tests"]] == [["double"]]

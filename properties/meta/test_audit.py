"""The audit interface behaves as the contract says.

Each test runs pytest in a fresh interpreter on a tiny suite written into a temporary
directory: one property declaring ``@uses("softmax")``, one declaring
``@uses("conv2d_output_shape")``, and one with no declaration. The implementations
come from modules written beside it, so these tests do not depend on any theorem.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import numpy as np
from hypothesis import given, strategies as st
from properties.audit import uses

@uses("softmax")
@given(st.integers(1, 5))
def test_softmax_sums_to_one(impl, n):
    z = np.zeros(n)
    s = impl.softmax(z)
    assert isinstance(s, np.ndarray)
    assert not np.isnan(z).any(), "the implementation wrote into the property's own array"
    assert abs(s.sum() - 1.0) < 1e-12, f"sum {s.sum()}"

@uses("conv2d_output_shape")
def test_shape(impl):
    assert tuple(int(v) for v in impl.conv2d_output_shape((1, 5, 5, 1), 2, (3, 3))) == (1, 3, 3, 2)

def test_undeclared(impl):
    impl.softmax(np.zeros(2))

def test_plain():
    pass
"""

GOOD = """
import numpy as np
def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    z[...] = np.nan  # writes into its input: the suite must have passed a copy
    return (e / e.sum(axis=axis, keepdims=True)).tolist()  # a list: passed through asarray
"""

BAD = """
import numpy as np
def softmax(z, axis=-1):
    return np.exp(z)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A tiny suite using the audit plugin, with a good and a bad implementation module."""
    pytester.makeconftest('pytest_plugins = ["properties.audit"]')
    pytester.makepyfile(test_tiny=textwrap.dedent(SUITE), good_impl=GOOD, bad_impl=BAD)
    return pytester


def _run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--impl", "nope=x:y"], "unknown contract name 'nope'"),
        (["--impl", "softmax=no_such_module:f"], "cannot import module 'no_such_module'"),
        (["--impl", "softmax=good_impl:missing"], "has no attribute 'missing'"),
        (["--impl", "softmax"], "expected NAME=MODULE:ATTR"),
        (["--impl-module", "json"], "module defines no contract name"),
        (["--impl", "softmax=good_impl:softmax", "--impl", "softmax=bad_impl:softmax"], "twice"),
    ],
)
def test_usage_error_exits_4_with_one_line(suite, args, message) -> None:
    result = _run(suite, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.errlines if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.errlines
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()


def test_without_substitution_nothing_is_deselected_and_declarations_are_enforced(suite) -> None:
    result = _run(suite, "-k", "undeclared or plain")  # the others would need the reference
    result.assert_outcomes(passed=1, failed=1)  # test_undeclared fails: it broke the rule
    result.stdout.fnmatch_lines(["*auditing the reference implementations*"])
    result.stdout.fnmatch_lines(["*UndeclaredNameError*declares only @uses()*"])


def test_audit_runs_only_properties_using_the_substituted_name(suite) -> None:
    result = _run(suite, "--impl-module", "good_impl", "-v")
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(["*softmax <- good_impl.softmax*via --impl-module good_impl*"])
    result.stdout.fnmatch_lines(["*test_softmax_sums_to_one PASSED*"])


def test_audit_failure_exits_1_and_shows_the_shrunk_counterexample(suite) -> None:
    result = _run(suite, "--impl", "softmax=bad_impl:softmax")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, deselected=3)
    # Hypothesis shrinks to the smallest failing n, and the failure names the implementation
    result.stdout.fnmatch_lines(["*AssertionError: sum 2.0*", "*Failing test case*", "*n=2,*"])
    result.stdout.fnmatch_lines(
        ["*impl=<implementations under test: softmax <- bad_impl.softmax>*"]
    )


def test_imported_names_are_substituted_and_the_header_says_where_from(suite) -> None:
    suite.makepyfile(reexport="from good_impl import softmax  # noqa: F401")
    result = _run(suite, "--impl-module", "reexport")
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(["*softmax <- good_impl.softmax*via --impl-module reexport*"])

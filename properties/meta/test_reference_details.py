"""Details of the reference and the strategies that no theorem states, checked once each.

Claim (of the suite itself). The branches that the theorem properties never reach, and
the mutants of ``reference/`` that they cannot see (``make mutation``), are not left to
chance; each test here is the smallest statement of one such detail:

* the plumbing says what is wrong: the registry and the record scan refuse unknown,
  duplicated or unreadable names; the strategies refuse arguments of the wrong type;
* the reference's behaviour beyond one block of work: softmax over more rows than one
  block of ``_BLOCK_ENTRIES`` entries is row by row the softmax of each row;
* the reference is silent where its docstring says so: logits spanning the whole float64
  range give no overflow warning (the overflow to ``-inf`` there is exact);
* the batch-norm thread pool: its CPU count off Linux, its reset in a forked child;
* conv2d takes integer and float32 arrays and computes in float64;
* cross-entropy labels exactly at the simplex tolerance are accepted (the bound is
  inclusive: ``|sum y - 1| <= N EPS``).

These are tests of this repository's reference, not properties any implementation
must have: no ``@uses``, never part of an audit.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import reference
from properties.strategies import ConvConfig, conv2d_arrays, conv2d_problems
from properties.strategies._args import StrategyArgumentError, finite_number
from reference import batchnorm, contract
from reference.conv import conv2d
from reference.softmax_ce import _BLOCK_ENTRIES, EPS, cross_entropy, softmax

# --- the registry and the records --------------------------------------------------------


def test_registry_refuses_an_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"^name: 'nope' is not a contract name"):
        reference.reference_impl("nope")


def test_an_unknown_attribute_of_the_package_is_an_attribute_error() -> None:
    assert not hasattr(reference, "nope")  # a KeyError here would break hasattr and getattr
    with pytest.raises(AttributeError, match=r"^module 'reference' has no attribute 'nope'$"):
        _ = reference.nope


def test_dir_of_the_package_lists_every_contract_name() -> None:
    assert set(reference.CONTRACT_NAMES) <= set(dir(reference))


def _chapter(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(body, encoding="utf-8")


def test_record_scan_refuses_a_computed_name(tmp_path: Path) -> None:
    _chapter(tmp_path, "toy", "CONTRACT = [Record(NAME, '(x)')]\n")
    with pytest.raises(ValueError, match=r"must be Record\('name', \.\.\.\) calls"):
        contract._declarations.__wrapped__(tmp_path)


def test_record_scan_refuses_a_name_declared_twice(tmp_path: Path) -> None:
    _chapter(tmp_path, "a", "CONTRACT = [Record('double', '(x)')]\n")
    _chapter(tmp_path, "b", "CONTRACT = [Record('double', '(x)')]\n")
    with pytest.raises(ValueError, match=r"^contract name 'double' declared twice"):
        contract._declarations.__wrapped__(tmp_path)


def test_record_of_an_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^name: 'nope' is not a contract name"):
        contract.record("nope")


def test_record_missing_from_its_module_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    scan = {"ghost": ("reference.softmax_ce", "reference.softmax_ce")}
    monkeypatch.setattr(contract, "_declarations", lambda: scan)
    with pytest.raises(TypeError, match="expected one Record named 'ghost'"):
        contract.record("ghost")


# --- the strategies refuse arguments of the wrong type -------------------------------------

#: the smallest valid configuration: one 1x1 image, one channel, a 1x1 kernel
_ONE_BY_ONE = ConvConfig(1, 1, 1, 1, 1, (1, 1), (1, 1), (0, 0), (1, 1), 1, 1)


def test_finite_number_refuses_a_number_out_of_range() -> None:
    with pytest.raises(StrategyArgumentError, match=r"^h: expected a finite number > 0"):
        finite_number("h", float("nan"))
    with pytest.raises(StrategyArgumentError, match=r"^h: expected a finite number >= 1"):
        finite_number("h", 0.5, low=1.0, inclusive=True)
    with pytest.raises(StrategyArgumentError, match=r"^h: .*, got '1'$"):
        finite_number("h", "1")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: conv2d_arrays("not a config"), "^config: expected a ConvConfig, got str"),
        (lambda: conv2d_arrays(_ONE_BY_ONE, elements=1.0), r"^elements:"),
        (lambda: conv2d_problems(kinds=()), "^kinds: expected a non-empty subset"),
    ],
    ids=["arrays-config", "arrays-elements", "problems-kinds"],
)
def test_conv_strategies_refuse_bad_arguments(make, match) -> None:
    with pytest.raises(StrategyArgumentError, match=match):
        make()


# --- softmax beyond one block, silently -----------------------------------------------------


def test_softmax_over_many_blocks_is_the_softmax_of_each_row() -> None:
    n = 2  # rows of 2 entries: one block holds _BLOCK_ENTRIES / 2 rows
    rows = 2 * _BLOCK_ENTRIES // n + 3  # two full blocks and a partial one
    z = np.random.default_rng(0).normal(size=(rows, n)) * 10
    expected = np.concatenate([softmax(z[i : i + 1]) for i in (0, rows // 2, rows - 1)])
    out = softmax(z)
    assert out.shape == z.shape
    np.testing.assert_array_equal(out[[0, rows // 2, rows - 1]], expected)
    assert np.isfinite(out).all() and np.all(out.sum(axis=-1) > 0.5)


@pytest.mark.parametrize("function", [softmax, lambda z: cross_entropy([0.0, 1.0], z)])
def test_extreme_logits_give_no_overflow_warning(function) -> None:
    z = np.array([-1e308, 1e308])  # z - max z overflows to -inf: exact, and silenced
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        function(z)


def test_labels_exactly_at_the_simplex_tolerance_are_accepted() -> None:
    y = np.array([1.0, 2 * EPS])  # sum 1 + 2 EPS exactly: |sum - 1| = N EPS with N = 2
    assert abs(y.sum() - 1.0) == 2 * EPS
    assert np.isfinite(cross_entropy(y, np.zeros(2)))


# --- the batch-norm thread pool -------------------------------------------------------------


def test_cpu_count_without_an_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert batchnorm._available_cpus() == (os.cpu_count() or 1)


def test_a_forked_child_starts_a_pool_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    inherited = batchnorm._executor()
    monkeypatch.setattr(batchnorm, "_pool", inherited)
    monkeypatch.setattr(batchnorm, "_pool_lock", batchnorm._pool_lock)
    batchnorm._forget_pool_after_fork()  # what os.register_at_fork runs in the child
    fresh = batchnorm._executor()
    try:
        assert fresh is not inherited
        assert fresh._max_workers == batchnorm._WORKERS
    finally:
        fresh.shutdown()


# --- conv2d reads integer and float32 arrays as their float64 values ------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.float32], ids=["int64", "float32"])
def test_conv2d_computes_in_float64_from_other_real_dtypes(dtype) -> None:
    x = np.arange(32).reshape(1, 4, 4, 2) % 5
    w = np.arange(8).reshape(2, 2, 2, 1) % 3 - 1
    expected = conv2d(x.astype(np.float64), w.astype(np.float64))
    observed = conv2d(x.astype(dtype), w.astype(dtype))
    assert observed.dtype == np.float64
    np.testing.assert_array_equal(observed, expected)  # small integers: every sum is exact

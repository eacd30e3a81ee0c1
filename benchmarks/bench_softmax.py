"""Softmax on a (4096, 1000) batch: the reference against SciPy and one exp pass.

All three are in one group, so pytest-benchmark reports them as ratios of one another:
``scipy.special.softmax`` is the baseline to beat (target: the reference at <= 0.8x its
time) and ``np.exp`` over the same array, written into a preallocated buffer, is the
floor any softmax must pay (it has to exponentiate every entry at least once). Not
audited (no ``@uses``) and never asserting on time: the numbers are for the report.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from reference.softmax_ce import softmax

SHAPE = (4096, 1000)


@pytest.fixture(scope="module")
def z() -> np.ndarray:
    """Logits of a typical classifier batch: N(0, 10^2), fixed seed."""
    return np.random.default_rng(20261122).normal(scale=10.0, size=SHAPE)


@pytest.mark.benchmark(group="softmax (4096, 1000)")
def test_reference_softmax(benchmark, z):
    S = benchmark(softmax, z, -1)
    assert S.shape == SHAPE


@pytest.mark.benchmark(group="softmax (4096, 1000)")
def test_scipy_softmax(benchmark, z):
    S = benchmark(scipy.special.softmax, z, -1)
    assert S.shape == SHAPE


@pytest.mark.benchmark(group="softmax (4096, 1000)")
def test_one_exp_pass(benchmark, z):
    out = np.empty_like(z)
    benchmark(np.exp, z, out=out)
    assert np.isfinite(out).all()

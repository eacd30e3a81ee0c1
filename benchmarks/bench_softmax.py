"""Softmax on a (4096, 1000) batch: the reference against SciPy and one exp pass; and scaling.

All three are in one group, so pytest-benchmark reports them as ratios of one another:
``scipy.special.softmax`` is the baseline to beat (target: the reference at <= 0.8x its
time) and ``np.exp`` over the same array, written into a preallocated buffer, is the
floor any softmax must pay (it has to exponentiate every entry at least once).

Group "softmax scaling (256, N)" times the reference and SciPy on (256, N) logits for
N = 10, 100, 1000, 10000: the report plots time against N (parameter ``N``), one line
per implementation (parameter ``impl``).

Not audited (no ``@uses``) and never asserting on time: the numbers are for the report.
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


# --- how time grows with the number of classes ---------------------------------------

#: class counts of the scaling group: four decades, batch of 256 rows each
SCALING_N = (10, 100, 1000, 10_000)
SCALING_IMPLEMENTATIONS = {"reference": softmax, "scipy": scipy.special.softmax}


# max_time 0.25 s per benchmark (pytest-benchmark's default is 1 s): eight points stay
# cheap in `make report`, and the median of >= 5 rounds is enough to draw a slope
@pytest.mark.benchmark(group="softmax scaling (256, N)", max_time=0.25)
@pytest.mark.parametrize("N", SCALING_N)
@pytest.mark.parametrize("impl", sorted(SCALING_IMPLEMENTATIONS))
def test_softmax_scaling(benchmark, impl, N):
    """Time against the number of classes N: both should grow like N (one exp per entry)."""
    z = np.random.default_rng(N).normal(scale=10.0, size=(256, N))
    S = benchmark(SCALING_IMPLEMENTATIONS[impl], z, -1)
    assert S.shape == (256, N)

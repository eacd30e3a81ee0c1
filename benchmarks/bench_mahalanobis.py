"""Benchmarks for Problem 4: min_trace_frame at m = 512, k = 16, and moment matching.

Group "min_trace_frame m=512 k=16" compares the reference (full ``numpy.linalg.eigh``)
with computing only the k wanted eigenpairs (``scipy.linalg.eigh(subset_by_index)``,
LAPACK syevr) and with SciPy's full eigh. The subset route is faster but not used by
the reference: it raised ``LinAlgError`` on a valid repeated-eigenvalue sigma and
loses orthogonality on clusters (see ``reference.mahalanobis.min_trace_frame``).
Group "moment matching m=512" compares the rank + 1 simplex construction with the
corrected symmetric 2r-point one. Group "min_trace_frame scaling k=16" times the
reference and the subset eigh for m = 64, 128, 256, 512 (parameter ``m``, the size the
report plots time against; parameter ``impl``, the implementation). Inputs are fixed
(seeded outside any strategy).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import reference.mahalanobis as ref

M, K = 512, 16


@pytest.fixture(scope="module")
def sigma() -> np.ndarray:
    A = np.random.default_rng(0).standard_normal((M, M))
    S = A @ A.T / M
    return (S + S.T) / 2.0


@pytest.mark.benchmark(group="min_trace_frame m=512 k=16")
def test_reference_full_eigh(benchmark, sigma) -> None:
    Phi = benchmark(ref.min_trace_frame, sigma, K)
    assert Phi.shape == (M, K)


@pytest.mark.benchmark(group="min_trace_frame m=512 k=16")
def test_scipy_subset_eigh(benchmark, sigma) -> None:
    _, Phi = benchmark(scipy.linalg.eigh, sigma, subset_by_index=[0, K - 1])
    assert Phi.shape == (M, K)


@pytest.mark.benchmark(group="min_trace_frame m=512 k=16")
def test_scipy_full_eigh(benchmark, sigma) -> None:
    _, U = benchmark(scipy.linalg.eigh, sigma)
    assert U.shape == (M, M)


@pytest.mark.benchmark(group="moment matching m=512")
def test_simplex_rank_plus_one(benchmark, sigma) -> None:
    X = benchmark(ref.moment_matching_points, np.zeros(M), sigma)
    assert X.shape == (M + 1, M)


@pytest.mark.benchmark(group="moment matching m=512")
def test_symmetric_two_rank(benchmark, sigma) -> None:
    X = benchmark(ref.symmetric_moment_matching_points, np.zeros(M), sigma)
    assert X.shape == (2 * M, M)


# --- how time grows with the dimension m -----------------------------------------------

#: dimensions of the scaling group (k = K = 16 throughout)
SCALING_M = (64, 128, 256, 512)


def _sigma(m: int) -> np.ndarray:
    """A random symmetric PSD m x m matrix (Wishart-like, scaled to O(1) entries)."""
    A = np.random.default_rng(m).standard_normal((m, m))
    S = A @ A.T / m
    return (S + S.T) / 2.0


def _subset_frame(sigma: np.ndarray, k: int) -> np.ndarray:
    """Eigenvectors of the k smallest eigenvalues only (LAPACK syevr)."""
    return scipy.linalg.eigh(sigma, subset_by_index=[0, k - 1])[1]


SCALING_IMPLEMENTATIONS = {"reference": ref.min_trace_frame, "scipy_subset_eigh": _subset_frame}


# max_time 0.25 s per benchmark (pytest-benchmark's default is 1 s): eight points stay
# cheap in `make report`, and the median of >= 5 rounds is enough to draw a slope
@pytest.mark.benchmark(group="min_trace_frame scaling k=16", max_time=0.25)
@pytest.mark.parametrize("m", SCALING_M)
@pytest.mark.parametrize("impl", sorted(SCALING_IMPLEMENTATIONS))
def test_min_trace_frame_scaling(benchmark, impl, m) -> None:
    """Time against m: a dense symmetric eigensolver costs O(m^3) either way."""
    Phi = benchmark(SCALING_IMPLEMENTATIONS[impl], _sigma(m), K)
    assert Phi.shape == (m, K)

"""Theorem (Problem 4.1): points with a prescribed mean and PSD covariance.

Let sigma in R^{m x m} be symmetric positive semi-definite of rank r and mu in R^m.
Write sigma = sum_{i=1}^r d_i u_i u_i^T (d_i > 0, u_i orthonormal). Then for
n = r + 1 there are points x_1, ..., x_n in R^m with

    (1/n) sum_i x_i = mu   and   (1/n) sum_i (x_i - mu)(x_i - mu)^T = sigma,

for example x_i = mu + sqrt(n) sum_j sqrt(d_j) H_ij u_j with H the n x r Helmert matrix
(orthonormal columns orthogonal to the all-ones vector). No smaller n works: the n
centred points sum to zero, so they span at most n - 1 dimensions and their covariance
has rank <= n - 1. The symmetric set mu ± sqrt(r d_i) u_i (n = 2r) works too; the
answer key's mu ± sqrt(d_i) u_i (n = 2m) has covariance sigma / m, wrong when m > 1.

Properties (oracles):
- the mean of the implementation's points is mu (a float64 sum, tolerance
  ``moment_mean``);
- their covariance about mu is sigma (the definition, an einsum of outer products,
  tolerance ``moment_covariance``);
- the implementation returns n >= rank(sigma) + 1 points (the rank the strategy built
  sigma with);
- lower bound, for arbitrary points: n centred points have at most n - 1 singular values
  above ``rank_threshold`` (numpy SVD);
- the reference attains n = rank + 1 exactly, and its corrected symmetric
  construction matches the moments with n = 2 rank (reference only: the contract
  allows any n);
- erratum: Hypothesis finds, and shrinks, a sigma on which the key's construction has
  covariance sigma / m, not sigma;
- the reference's bad-input table is its contract record (reference.contract).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import reference.mahalanobis as ref
from properties.audit import uses
from properties.errata import record_erratum, smallest_counterexample
from properties.oracles import covariance_about, key_construction, spectral_norm
from properties.strategies import MomentProblem, PSDMatrix, moment_problems, psd_matrices
from properties.tolerance import (
    assert_close,
    moment_covariance,
    moment_covariance_tight,
    moment_mean,
    rank_threshold,
)


def _check_points(X: np.ndarray, m: int, what: str) -> int:
    """Shape (n, m) with n >= 1 and finite entries; return n."""
    __tracebackhide__ = True
    assert X.ndim == 2 and X.shape[1] == m and X.shape[0] >= 1, (
        f"{what}: X.shape={X.shape}, but should be (n, {m}) with n >= 1"
    )
    assert np.all(np.isfinite(X)), f"{what}: X has non-finite entries:\n{X}"
    return X.shape[0]


def _scales(problem: MomentProblem) -> tuple[int, float, float]:
    """m, |sigma|_2 and |mu|_max: the sizes every bound of this theorem is relative to."""
    m = problem.psd.sigma.shape[0]
    norm, mu_max = spectral_norm(problem.psd.sigma), float(np.max(np.abs(problem.mu)))
    note(f"|sigma|_2 = {norm!r}, |mu|_max = {mu_max!r}")
    return m, norm, mu_max


def assert_mean(X: np.ndarray, problem: MomentProblem, what: str) -> None:
    """The mean of the points X is mu within ``moment_mean``."""
    __tracebackhide__ = True
    m, norm, mu_max = _scales(problem)
    n = _check_points(X, m, what)
    assert_close(
        X.mean(axis=0),
        problem.mu,
        moment_mean(m, n, norm, mu_max),
        what=f"mean of the {n} points returned by {what}",
    )


def assert_covariance(X: np.ndarray, problem: MomentProblem, what: str) -> None:
    """The covariance of the points X about mu (the definition) is sigma."""
    __tracebackhide__ = True
    m, norm, mu_max = _scales(problem)
    n = _check_points(X, m, what)
    assert_close(
        covariance_about(X, problem.mu),
        problem.psd.sigma,
        moment_covariance(m, n, norm, mu_max),
        what=f"covariance (1/n) sum (x_i - mu)(x_i - mu)^T of the {n} points from {what}",
        componentwise=moment_covariance_tight(m, n, norm, mu_max),
    )


@uses("moment_matching_points")
@given(problem=moment_problems())
def test_points_have_mean_mu(impl, problem) -> None:
    X = impl.moment_matching_points(problem.mu, problem.psd.sigma)
    assert_mean(X, problem, "moment_matching_points(mu, sigma)")


@uses("moment_matching_points")
@given(problem=moment_problems())
def test_points_have_covariance_sigma(impl, problem) -> None:
    X = impl.moment_matching_points(problem.mu, problem.psd.sigma)
    assert_covariance(X, problem, "moment_matching_points(mu, sigma)")


@uses("moment_matching_points")
@given(problem=moment_problems())
def test_at_least_rank_plus_one_points(impl, problem) -> None:
    mu, psd = problem
    X = impl.moment_matching_points(mu, psd.sigma)
    n = _check_points(X, psd.sigma.shape[0], "moment_matching_points(mu, sigma)")
    assert n >= psd.rank + 1, (
        f"moment_matching_points returned n={n} points for a sigma of rank {psd.rank}, "
        f"but n points have a covariance of rank <= n - 1, so n must be >= {psd.rank + 1}"
    )


@given(
    points=st.integers(1, 6).flatmap(
        lambda n: st.integers(1, 6).flatmap(
            lambda m: npst.arrays(
                np.float64,
                (n, m),
                elements=st.floats(-1e3, 1e3, allow_subnormal=False),
                fill=st.nothing(),
            )
        )
    )
)
def test_n_points_have_covariance_rank_at_most_n_minus_one(points) -> None:
    # The lower bound behind n = rank + 1: a theorem about all point sets, no implementation.
    n, m = points.shape
    Y = points - points.mean(axis=0)
    s = np.linalg.svd(Y, compute_uv=False)  # descending, min(n, m) values
    threshold = rank_threshold(n, m, float(np.max(np.abs(points))), float(np.linalg.norm(Y)))
    note(f"singular values {s.tolist()}, threshold {threshold.tol!r}")
    rank = int(np.count_nonzero(s > threshold.tol))
    assert rank <= n - 1, (
        f"{n} centred points have {rank} singular values above {threshold.tol:.3e} "
        f"({threshold.why}): {s}; the covariance of n points should have rank <= n - 1"
    )


@given(problem=moment_problems())
def test_reference_uses_exactly_rank_plus_one_points(problem) -> None:
    # Minimality is a property of the reference, not of the contract (which allows any n).
    mu, psd = problem
    X = ref.moment_matching_points(mu, psd.sigma)
    assert X.shape == (psd.rank + 1, psd.sigma.shape[0]), (
        f"reference returned X.shape={X.shape}, but should be ({psd.rank + 1}, "
        f"{psd.sigma.shape[0]}) for sigma of rank {psd.rank}"
    )
    assert_mean(X, problem, "reference moment_matching_points")
    assert_covariance(X, problem, "reference moment_matching_points")


@given(problem=moment_problems())
def test_corrected_symmetric_construction_matches_moments(problem) -> None:
    X = ref.symmetric_moment_matching_points(problem.mu, problem.psd.sigma)
    expected_n = max(2 * problem.psd.rank, 1)
    assert X.shape[0] == expected_n, (
        f"symmetric construction returned {X.shape[0]} points, expected 2 r = {expected_n}"
    )
    what = "symmetric_moment_matching_points (mu ± sqrt(r d_i) u_i)"
    assert_mean(X, problem, what)
    assert_covariance(X, problem, what)


# --- Erratum: the answer key's construction ----------------------------------------


def _key_is_wrong(psd: PSDMatrix) -> bool:
    m = psd.sigma.shape[0]
    mu = np.zeros(m)
    X = key_construction(mu, psd.sigma)
    bound = moment_covariance(m, X.shape[0], spectral_norm(psd.sigma), 0.0)
    return bool(np.max(np.abs(covariance_about(X, mu) - psd.sigma)) > bound.tol)


def test_erratum_key_construction_has_covariance_sigma_over_m(record_property) -> None:
    # m = 1 has no counterexample (sigma / 1 = sigma); at m = 2 any sigma != 0 fails.
    psd = smallest_counterexample(lambda m: psd_matrices(m=m), _key_is_wrong, range(1, 7))
    m = psd.sigma.shape[0]
    X = key_construction(np.zeros(m), psd.sigma)
    covariance = covariance_about(X, np.zeros(m))
    # The correction: the key's covariance is exactly sigma / m.
    assert_close(
        covariance,
        psd.sigma / m,
        moment_covariance(m, X.shape[0], spectral_norm(psd.sigma), 0.0),
        what="covariance of the key's points against sigma / m",
    )
    record_erratum(
        record_property,
        problem="Problem 4.1",
        claim="x_i = sqrt(d_i) u_i, x_{m+i} = -sqrt(d_i) u_i (n = 2m) have "
        "(1/n) sum x_i x_i^T = sum d_i u_i u_i^T = Sigma",
        correction="(1/2m) sum_i 2 d_i u_i u_i^T = Sigma / m; scale by sqrt(m): "
        "x = mu ± sqrt(m d_i) u_i (or ± sqrt(r d_i) u_i over the r nonzero d_i), "
        "and n = rank + 1 points suffice",
        counterexample=f"m = {m}, mu = 0, Sigma = {psd.sigma.tolist()}: "
        f"the key's points {X.tolist()} have covariance {covariance.tolist()}",
    )
    assert m == 2, f"the minimal counterexample should have m = 2, found m = {m}"


# --- Validation of the reference ---------------------------------------------------

# The bad-input table is in the contract records (reference/*.py: CONTRACT),
# run by properties/meta/test_contract.py.


def test_reference_accepts_rounding_level_negative_eigenvalue() -> None:
    # The contract: the smallest eigenvalue may be about -m eps |sigma|.
    sigma = np.diag([1.0, -2.0 * ref.EPS])
    X = ref.moment_matching_points(np.zeros(2), sigma)
    assert X.shape == (2, 2)


@pytest.mark.parametrize(
    "function", [ref.moment_matching_points, ref.symmetric_moment_matching_points]
)
def test_reference_is_right_for_entries_near_the_float64_maximum(function) -> None:
    # sigma = 1.7e308 [[1, 1], [1, 1]]: finite, symmetric, PSD, rank 1; (sigma + sigma^T)
    # overflows, and so does its eigenvalue 3.4e308, but the points do not. The
    # covariance is checked at the scale 2**-1024 (a power of 2: exact).
    sigma = np.full((2, 2), 1.7e308)
    X = function(np.zeros(2), sigma)
    Y = X * 2.0**-512
    assert X.shape[0] == 2 and np.all(np.isfinite(X)), X
    assert_close(
        covariance_about(Y, np.zeros(2)),
        sigma * 2.0**-1024,
        moment_covariance(2, 2, 2 * 1.7e308 * 2.0**-1024, 0.0),
        what=f"covariance of {function.__name__} at 1.7e308, scaled by 2**-1024",
    )

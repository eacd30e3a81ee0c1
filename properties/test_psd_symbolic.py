"""Proofs for m = 2 (SymPy): the moment-matching construction and the Ky Fan minimum.

Theorem (Problem 4, m = 2). Let sigma = U diag(d_1, d_2) U^T with U the rotation by an
angle theta and d_1, d_2 >= 0 (every symmetric PSD 2 x 2 matrix is of this form), and
mu in R^2. Then

1. the points mu ± sqrt(2 d_i) u_i (n = 4), and the simplex points
   mu + sqrt(3) (H D^{1/2} U^T)_i (n = 3, H the 3 x 2 Helmert basis), have mean mu and
   covariance (1/n) sum (x_i - mu)(x_i - mu)^T = sigma, identically in
   mu, d, theta;
2. with d_1 <= d_2 and Phi = (cos t, sin t)^T, trace(Phi^T sigma Phi)
   = d_1 + (d_2 - d_1) sin^2(t - theta) >= d_1, with equality at t = theta: the minimum
   over t is the smallest eigenvalue (Ky Fan for m = 2, k = 1).

Each proof function takes the construction or the claimed minimum as an argument, and
the tests below show that it fails for the answer key's versions (points without the
sqrt(m) factor; the minimum stated as the largest listed eigenvalue).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from properties.symbolic import proves

sympy = pytest.importorskip("sympy")

#: a construction: (mu, eigenvalues, eigenvector matrix) -> list of points (2 x 1 each)
Construction = Callable[[object, list, object], list]

MU = sympy.Matrix(sympy.symbols("mu1 mu2", real=True))
D = list(sympy.symbols("d1 d2", nonnegative=True))
THETA, T = sympy.symbols("theta t", real=True)
U = sympy.Matrix([[sympy.cos(THETA), -sympy.sin(THETA)], [sympy.sin(THETA), sympy.cos(THETA)]])
SIGMA = U * sympy.diag(*D) * U.T


def corrected_symmetric_points(mu, d, u) -> list:
    """The corrected key: mu ± sqrt(m d_i) u_i, n = 2m."""
    m = len(d)
    half = [sympy.sqrt(m * d[i]) * u[:, i] for i in range(m)]
    return [mu + h for h in half] + [mu - h for h in half]


def helmert_simplex_points(mu, d, u) -> list:
    """The reference: mu + sqrt(n) (H D^{1/2} U^T)_i, n = m + 1 (full rank)."""
    m = len(d)
    n = m + 1
    H = sympy.Matrix([[1, 1], [-1, 1], [0, -2]]) * sympy.diag(1 / sympy.sqrt(2), 1 / sympy.sqrt(6))
    factor = u * sympy.diag(*[sympy.sqrt(x) for x in d])
    return [mu + sympy.sqrt(n) * factor * H[i, :].T for i in range(n)]


def key_points(mu, d, u) -> list:
    """The answer key, verbatim: mu ± sqrt(d_i) u_i (covariance sigma / m)."""
    half = [sympy.sqrt(d[i]) * u[:, i] for i in range(len(d))]
    return [mu + h for h in half] + [mu - h for h in half]


def _zero(expression):
    """Expand and reduce with sin^2 + cos^2 = 1: a cheap normal form for these identities."""
    return sympy.trigsimp(sympy.expand(expression))


def prove_moment_matching(construction: Construction) -> None:
    """Mean and covariance of ``construction(mu, d, U)`` are mu and sigma, identically."""
    points = construction(MU, D, U)
    n = len(points)
    mean = sum(points, sympy.zeros(2, 1)) / n
    covariance = sum(((x - MU) * (x - MU).T for x in points), sympy.zeros(2, 2)) / n
    assert _zero(mean - MU) == sympy.zeros(2, 1), f"mean - mu = {mean - MU}"
    difference = _zero(covariance - SIGMA)
    assert difference == sympy.zeros(2, 2), f"covariance - sigma = {difference}"


@proves("moment_matching_points", "for m = 2: mu ± sqrt(2 d_i) u_i have mean mu, covariance sigma")
def test_corrected_symmetric_points_match_the_moments() -> None:
    prove_moment_matching(corrected_symmetric_points)


@proves(
    "moment_matching_points",
    "for m = 2: the Helmert simplex points (n = 3) have mean mu and covariance sigma",
)
def test_helmert_simplex_points_match_the_moments() -> None:
    prove_moment_matching(helmert_simplex_points)


def test_moment_proof_fails_for_the_keys_points() -> None:
    with pytest.raises(AssertionError, match="covariance - sigma"):
        prove_moment_matching(key_points)


# --- Ky Fan, m = 2, k = 1 -------------------------------------------------------------


def smallest_eigenvalue(d1, d2):
    """The theorem's minimum for k = 1: the smallest eigenvalue (d1 <= d2)."""
    return d1


def key_reading_largest(d1, d2):
    """A wrong reading: the largest eigenvalue, the first entry of the key's descending list."""
    return d2


def prove_ky_fan_minimum(claimed_minimum: Callable[[object, object], object]) -> None:
    """Prove min_t trace(Phi^T sigma Phi) = claimed_minimum(d1, d2), Phi = (cos t, sin t).

    With d2 = d1 + g (g >= 0), trace - claimed must equal the certificate
    g sin^2(t - theta), non-negative by SymPy's assumptions (g >= 0, a real square),
    and vanish at t = theta (where Phi is the eigenvector of d1): a lower bound that is
    attained is the minimum.
    """
    g = sympy.symbols("g", nonnegative=True)
    sigma = SIGMA.subs(D[1], D[0] + g)
    phi = sympy.Matrix([sympy.cos(T), sympy.sin(T)])
    excess = (phi.T * sigma * phi)[0, 0] - claimed_minimum(D[0], D[0] + g)
    certificate = g * sympy.sin(T - THETA) ** 2
    assert certificate.is_nonnegative
    residual = _zero(sympy.expand_trig(excess - certificate))
    assert residual == 0, f"trace - claimed minimum - g sin^2(t - theta) = {residual}, not 0"
    at_theta = _zero(excess.subs(T, THETA))
    assert at_theta == 0, f"at t = theta (the eigenvector of d1) trace - claimed = {at_theta}"


@proves(
    "min_trace_frame", "for m = 2, k = 1: min_t trace((cos t, sin t) sigma (cos t, sin t)^T) = d_1"
)
def test_ky_fan_minimum_is_the_smallest_eigenvalue() -> None:
    prove_ky_fan_minimum(smallest_eigenvalue)


def test_ky_fan_proof_fails_for_the_largest_eigenvalue() -> None:
    with pytest.raises(AssertionError, match="trace - claimed minimum"):
        prove_ky_fan_minimum(key_reading_largest)

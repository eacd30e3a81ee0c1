"""Error models of the psd chapter."""

from __future__ import annotations

import numpy as np

from properties.tolerance.common import EPS

__all__ = [
    "ORTHONORMALITY_FACTOR",
    "davis_kahan_projector_tol",
    "frame_orthonormality_tol",
    "ky_fan_trace_tol",
    "lemma_weight_tol",
    "moment_covariance_tol",
    "moment_deviation",
    "moment_mean_tol",
    "rank_threshold",
]


# --- PSD matrices (Problem 4: moment matching and the Ky Fan trace minimum) --------
#
# Notation: m the size of sigma, |sigma| its spectral norm |sigma|_2 (largest
# eigenvalue), eps = EPS. Two facts carry every bound below.
# (1) Forming an inner product of length L in float64 errs by at most L * eps times the
#     sum of the absolute products (Higham, Accuracy and Stability, 3.1: gamma_L ~ L u,
#     u = eps / 2; we keep eps as a factor-2 margin).
# (2) The symmetric eigensolvers (LAPACK syevd/syevr behind numpy/scipy eigh/eigvalsh)
#     are backward stable: the computed eigenpairs are those of sigma + E with
#     |E|_2 <= p(m) eps |sigma|; we take p(m) = m (LAPACK's bounds are "modest
#     functions of m"; observed errors are far below m eps |sigma|). By Weyl, each
#     computed eigenvalue is within m eps |sigma| of the exact one, and the computed
#     eigenvectors are orthonormal to about m eps.

#: |Phi^T Phi - I|_max allowed for a frame built by a backward-stable method
#: (Householder reflections, eigh): its columns are orthonormal to ~m eps, and forming
#: Phi^T Phi adds an inner product of length m (fact 1): 2 m eps; doubled for margin.
ORTHONORMALITY_FACTOR: float = 4.0


def frame_orthonormality_tol(m: int) -> float:
    """Tolerance on ``|Phi^T Phi - I_k|_max`` for a stably computed (m, k) frame: 4 m eps."""
    return ORTHONORMALITY_FACTOR * m * EPS


def moment_deviation(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Bound delta on the error of one coordinate of a computed point minus mu.

    The exact centred points y_i = x_i - mu satisfy y_i y_i^T <= n sigma (their average
    is sigma), so |y_i|_2 <= a = sqrt(n |sigma|). Forming y_i as a combination of at most
    m eigenvectors errs by m eps a (fact 1); adding mu and, in the oracle, subtracting it
    again err by eps (a + |mu|_max) each: delta = (m + 2) eps (a + |mu|_max).
    """
    a = np.sqrt(n * sigma_norm)
    return (m + 2) * EPS * (a + mu_max)


def moment_mean_tol(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Tolerance on ``|X.mean(0) - mu|_max`` for n points in R^m matching (mu, sigma).

    Each coordinate is off by delta (``moment_deviation``); summing n coordinates of
    size <= a + |mu|_max and dividing by n adds n eps (a + |mu|_max) (fact 1):
    tol = (m + n + 2) eps (sqrt(n |sigma|) + |mu|_max).
    """
    return (m + n + 2) * EPS * (np.sqrt(n * sigma_norm) + mu_max)


def moment_covariance_tol(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Tolerance on ``|(X - mu)^T (X - mu) / n - sigma|_max``.

    With y the exact centred points and delta the per-coordinate error
    (``moment_deviation``), entry (a, b) of the computed covariance differs from the
    exact one by at most (1/n) sum_i (|y_ia| + |y_ib|) delta + delta^2 plus the
    rounding of the n-term sum, n eps (1/n) sum_i |y_ia y_ib|. Cauchy–Schwarz bounds
    (1/n) sum_i |y_ia| by sqrt(sigma_aa) <= sqrt(|sigma|) and (1/n) sum |y_ia y_ib| by
    |sigma|. An eigendecomposition-based construction reproduces sigma only up to its
    backward error m eps |sigma| (fact 2) plus the eigenvalues clipped to zero below the
    rank threshold m eps |sigma|: another 2 m eps |sigma|. Total:
    tol = 2 delta sqrt(|sigma|) + delta^2 + (n + 2m) eps |sigma|.
    """
    delta = moment_deviation(m, n, sigma_norm, mu_max)
    return 2.0 * delta * np.sqrt(sigma_norm) + delta**2 + (n + 2 * m) * EPS * sigma_norm


def rank_threshold(n: int, m: int, x_max: float, y_fro: float) -> float:
    """Singular values of n centred points (n, m) below this count as zero.

    The centred rows y_i = x_i - mean sum to zero exactly, so the n-th singular value is
    0 in exact arithmetic. Computed centring errs by (n + 1) eps |x|_max per entry (the
    mean is an n-term sum), so |Y^T 1 / sqrt(n)|_2 <= sqrt(m n) (n + 1) eps |x|_max;
    the SVD adds its backward error m eps |Y|_2 <= m eps |Y|_F (fact 2). Doubled:
    tol = 2 eps (sqrt(m n) (n + 1) |x|_max + m |Y|_F).
    """
    return 2.0 * EPS * (np.sqrt(m * n) * (n + 1) * x_max + m * y_fro)


def ky_fan_trace_tol(m: int, k: int, sigma_norm: float) -> float:
    """Tolerance on trace(Phi^T sigma Phi) against the sum of k eigenvalues: 8 k m eps |sigma|.

    Three contributions, each per column of Phi and so multiplied by k: forming
    phi^T sigma phi is a two-stage product of length m (fact 1): 2 m eps |sigma|; a
    frame orthonormal only to eta = 4 m eps (``frame_orthonormality_tol``) changes
    the trace by up to eta |sigma|; the oracle's eigenvalues (eigvalsh) are each within
    m eps |sigma| (fact 2, Weyl). Sum: (2 + 4 + 1) k m eps |sigma|, rounded up to 8.
    """
    return 8.0 * k * m * EPS * sigma_norm


def lemma_weight_tol(m: int) -> float:
    """Tolerance on each c_j = sum_i <u_j, phi_i>^2 against [0, 1] (the key's lemma).

    c_j <= |u_j|^2 |P_Phi|, exact 1 for orthonormal u_j and Phi; both are orthonormal to
    4 m eps (``frame_orthonormality_tol``), and forming the k inner products of length
    m adds 2 m eps (fact 1): 10 m eps. The sum over j is k times this.
    """
    return 2.0 * frame_orthonormality_tol(m) + 2.0 * m * EPS


def davis_kahan_projector_tol(m: int, sigma_norm: float, gap: float) -> float:
    """Tolerance on |Phi Phi^T - U_k U_k^T|_max when eigenvalue k < eigenvalue k+1 by gap.

    U_k are the eigenvectors sigma was built from. The float sigma differs from
    U diag(d) U^T by at most m eps |sigma| per entry (fact 1 with Cauchy–Schwarz on the
    eigenvector entries), so by at most m^2 eps |sigma| in 2-norm; the solver adds its
    backward error m eps |sigma| (fact 2): E = (m^2 + m) eps |sigma|. Davis–Kahan
    sin-theta: |sin Theta|_2 <= E / (gap - 2E) (the perturbed gap, by Weyl), and for
    orthonormal bases |P - P_ref|_2 = |sin Theta|_2 >= the max entry. Frames that are
    orthonormal only to eta = 4 m eps each move their projectors by up to 2 eta: tol =
    E / (gap - 2E) + 4 eta. Meaningful only when gap > 2E (the strategies guarantee
    gap >= |sigma| / 2).
    """
    E = (m * m + m) * EPS * sigma_norm
    if gap <= 2.0 * E:
        raise ValueError(f"gap: {gap:.3e} must exceed 2E = {2 * E:.3e} for a Davis–Kahan bound")
    return E / (gap - 2.0 * E) + 4.0 * frame_orthonormality_tol(m)

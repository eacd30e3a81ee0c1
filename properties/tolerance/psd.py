"""Error models of the PSD chapter (Problem 4: moment matching, the Ky Fan trace minimum).

Every bound is the accuracy policy of ``properties.tolerance.common`` applied to one
quantity: what a backward-stable algorithm may return, measured normwise, relative to
the spectral norm ``|sigma| = |sigma|_2`` (the only scale the outputs depend on, besides
``|mu|_max`` for the points), plus the rounding of the comparison itself, plus a
flush-to-zero floor. Each function returns a ``Bound(tol, why)``; the ``*_tight``
functions are the informational componentwise grade (what the reference's Householder
eigensolver meets), passed as ``componentwise=``.

Notation: m the size of sigma, k the number of columns of a frame, n the number of
points, eps = EPS. Three facts carry every bound below.

(1) Rounding of sums. A float64 inner product of length L errs by at most L eps times
    the sum of the absolute products (Higham, *Accuracy and Stability*, 3.1:
    gamma_L ~ L u, u = eps / 2; eps keeps a factor-2 margin).
(2) Backward error of a symmetric eigensolver. LAPACK's syevd / syevr / syev (behind
    ``numpy.linalg.eigh`` and ``scipy.linalg.eigh``) return eigenpairs with a residual
    and eigenvalue errors bounded by p(m) eps |sigma| with p(m) "a modestly growing
    function of m" (LAPACK Users' Guide, 3rd ed., section 4.7); we take p(m) = m, the
    rank threshold of ``numpy.linalg.matrix_rank``.
(3) Orthonormality of computed eigenvectors. Householder-based solvers (syevd, syev)
    return eigenvectors orthonormal to a few m eps. SciPy's default driver, syevr, uses
    MRRR (multiple relatively robust representations), whose guarantee is weaker: each
    computed eigenvector is within an angle O(m eps / gaptol) of a true one, where
    gaptol is the relative gap below which eigenvalues are treated as a cluster,
    ``MINRGP = 1e-3`` in LAPACK's ``dlarrv.f`` (Dhillon, Parlett and Vömel, "The design
    and implementation of the MRRR algorithm", ACM TOMS 32(4), 2006). An inner product
    of two computed vectors picks up both angles: |Phi^T Phi - I|_max <= 2 m eps /
    MINRGP = 2000 m eps. Measured: 55 m eps at m = 5 on a plain spectrum (6.1e-14), 834
    m eps at m = 3 on a cluster of relative width 1e-11 (150,000 clustered spectra).
    That is the pass/fail bound; 4 m eps (Householder quality) is the tight grade.
"""

from __future__ import annotations

import numpy as np

from properties.tolerance.common import EPS, FLUSH_FLOOR, Bound

__all__ = [
    "MINRGP",
    "davis_kahan_projector",
    "eigenvector_orthonormality",
    "frame_orthonormality",
    "frame_orthonormality_tight",
    "ky_fan_trace",
    "ky_fan_trace_tight",
    "lemma_trace",
    "lemma_weight",
    "moment_covariance",
    "moment_covariance_tight",
    "moment_mean",
    "rank_threshold",
]

#: LAPACK's relative-gap threshold for clusters in MRRR (``dlarrv.f``, ``dstemr``)
MINRGP: float = 1e-3


def eigenvector_orthonormality(m: int) -> float:
    """eta(m) = 2 m eps / MINRGP: how far from orthonormal LAPACK's eigenvectors may be (3)."""
    return 2.0 * m * EPS / MINRGP


def frame_orthonormality(m: int) -> Bound:
    """``|Phi^T Phi - I_k|_max`` for a frame a backward-stable eigensolver may return.

    eta(m) (fact 3) plus forming Phi^T Phi, an inner product of length m (fact 1):
    (2 / MINRGP + 1) m eps. Rejects a float32 eigensolver (1e-7) and a frame orthonormal
    only to 1e-10 for every m <= 37,000.
    """
    return Bound(
        eigenvector_orthonormality(m) + m * EPS,
        "frame_orthonormality: (2 / MINRGP + 1) m eps, LAPACK MRRR eigenvectors "
        "(MINRGP = 1e-3) and forming Phi^T Phi",
    )


def frame_orthonormality_tight(m: int) -> Bound:
    """``|Phi^T Phi - I_k|_max`` for Householder-quality vectors: 4 m eps (the tight grade).

    Householder products and syevd are orthonormal to ~m eps; forming Phi^T Phi adds
    m eps (fact 1); doubled for margin. The strategies' frames meet it.
    """
    return Bound(4.0 * m * EPS, "frame_orthonormality_tight: 4 m eps (Householder quality)")


def _moment_deviation(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Bound delta on the error of one coordinate of a computed point minus mu.

    The exact centred points y_i = x_i - mu satisfy y_i y_i^T <= n sigma (their average
    is sigma), so |y_i|_2 <= a = sqrt(n |sigma|). Forming y_i as a combination of at most
    m vectors errs by m eps a (fact 1); adding mu and, in the oracle, subtracting it
    again err by eps (a + |mu|_max) each: delta = (m + 2) eps (a + |mu|_max).
    """
    return (m + 2) * EPS * (np.sqrt(n * sigma_norm) + mu_max)


def moment_mean(m: int, n: int, sigma_norm: float, mu_max: float) -> Bound:
    """``|X.mean(0) - mu|_max`` for n points in R^m matching (mu, sigma).

    Each coordinate is off by delta (``_moment_deviation``); summing n coordinates of
    size <= a + |mu|_max and dividing by n adds n eps (a + |mu|_max) (fact 1); a
    flushed subnormal coordinate moves the mean by at most FLUSH_FLOOR:
    tol = (m + n + 2) eps (sqrt(n |sigma|) + |mu|_max) + FLUSH_FLOOR.
    """
    return Bound(
        (m + n + 2) * EPS * (np.sqrt(n * sigma_norm) + mu_max) + FLUSH_FLOOR,
        "moment_mean: (m + n + 2) eps (sqrt(n |sigma|) + |mu|_max) + FLUSH_FLOOR",
    )


def _covariance_rounding(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """What rounding the points and forming their covariance costs, whatever the method.

    With y the exact centred points and delta the per-coordinate error, entry (a, b) of
    the computed covariance differs from the exact one by at most
    (1/n) sum_i (|y_ia| + |y_ib|) delta + delta^2, plus the rounding of the n-term sum,
    n eps (1/n) sum_i |y_ia y_ib| (fact 1). Cauchy–Schwarz bounds (1/n) sum_i |y_ia| by
    sqrt(sigma_aa) <= sqrt(|sigma|) and (1/n) sum |y_ia y_ib| by |sigma|; a flushed
    subnormal coordinate adds FLUSH_FLOOR (2 sqrt(|sigma|) + 1).
    """
    delta = _moment_deviation(m, n, sigma_norm, mu_max)
    root = np.sqrt(sigma_norm)
    return 2.0 * delta * root + delta**2 + n * EPS * sigma_norm + FLUSH_FLOOR * (2 * root + 1)


def moment_covariance(m: int, n: int, sigma_norm: float, mu_max: float) -> Bound:
    """``|(X - mu)^T (X - mu) / n - sigma|_max`` for a backward-stable construction.

    A construction through an eigendecomposition sigma U = U D + R reproduces sigma as
    U D U^T = sigma U U^T - R U^T: the residual (fact 2, m eps |sigma|), the eigenvalues
    clipped to 0 below the rank threshold (m eps |sigma|), and U U^T - I, at most
    m eta(m) in 2-norm (fact 3: m columns, each off by eta). Plus the rounding of points
    and covariance (``_covariance_rounding``):
    tol = 2 delta sqrt|sigma| + delta^2 + (n + 2m) eps |sigma| + m eta(m) |sigma| + floor.
    """
    return Bound(
        _covariance_rounding(m, n, sigma_norm, mu_max)
        + (2 * m * EPS + m * eigenvector_orthonormality(m)) * sigma_norm,
        "moment_covariance: 2 delta sqrt|sigma| + delta^2 + (n + 2m) eps |sigma| "
        "+ m eta(m) |sigma| (LAPACK eigenvectors orthonormal to eta(m) = 2000 m eps)",
    )


def moment_covariance_tight(m: int, n: int, sigma_norm: float, mu_max: float) -> Bound:
    """As ``moment_covariance`` with Householder-quality eigenvectors (the tight grade).

    U U^T - I is then m eps, inside the clipping term: tol = 2 delta sqrt|sigma| +
    delta^2 + (n + 2m) eps |sigma| + floor.
    """
    return Bound(
        _covariance_rounding(m, n, sigma_norm, mu_max) + 2 * m * EPS * sigma_norm,
        "moment_covariance_tight: 2 delta sqrt|sigma| + delta^2 + (n + 2m) eps |sigma|",
    )


def rank_threshold(n: int, m: int, x_max: float, y_fro: float) -> Bound:
    """Singular values of n centred points (n, m) at or below this count as zero.

    The centred rows y_i = x_i - mean sum to zero exactly, so the n-th singular value is
    0 in exact arithmetic. Computed centring errs by (n + 1) eps |x|_max per entry (the
    mean is an n-term sum), so |Y^T 1 / sqrt(n)|_2 <= sqrt(m n) (n + 1) eps |x|_max;
    the SVD adds its backward error m eps |Y|_2 <= m eps |Y|_F (fact 2). Doubled:
    tol = 2 eps (sqrt(m n) (n + 1) |x|_max + m |Y|_F).
    """
    return Bound(
        2.0 * EPS * (np.sqrt(m * n) * (n + 1) * x_max + m * y_fro),
        "rank_threshold: 2 eps (sqrt(m n) (n + 1) |x|_max + m |Y|_F), centring and SVD",
    )


def _trace_rounding(m: int, k: int, sigma_norm: float) -> float:
    """Rounding of a trace comparison: 3 k m eps |sigma|.

    Forming trace(Phi^T sigma Phi) is two products of length m per column (fact 1); the
    oracle's eigenvalues (eigvalsh) are each within m eps |sigma| (fact 2 and Weyl).
    """
    return 3.0 * k * m * EPS * sigma_norm


def ky_fan_trace(m: int, k: int, sigma_norm: float, minimum: float) -> Bound:
    """trace(Phi^T sigma Phi) of a backward-stable frame against the sum of k eigenvalues.

    A backward-stable frame is Phi = Q (I + F)^{1/2}: Q exactly orthonormal spanning an
    invariant subspace of sigma + E (|E| <= m eps |sigma|, fact 2), and |F|_max <= eta(m)
    (fact 3). trace(Q^T sigma Q) is within 2 k |E| of the minimum (the k eigenvalues of
    sigma + E, Weyl, and E itself); F changes the trace by trace(F Q^T sigma Q) <=
    |F|_2 trace(Q^T sigma Q) <= k eta(m) |minimum| (to first order). With the rounding
    of the comparison (``_trace_rounding``):
    tol = 5 k m eps |sigma| + k eta(m) |minimum|.
    """
    return Bound(
        _trace_rounding(m, k, sigma_norm)
        + 2.0 * k * m * EPS * sigma_norm
        + k * eigenvector_orthonormality(m) * abs(minimum),
        "ky_fan_trace: 5 k m eps |sigma| (backward error, product, eigvalsh) "
        "+ k eta(m) |minimum| (frame orthonormal to eta(m) = 2000 m eps)",
    )


def ky_fan_trace_tight(m: int, k: int, sigma_norm: float) -> Bound:
    """The tight grade of ``ky_fan_trace``: Householder-quality frame, 8 k m eps |sigma|.

    As ``ky_fan_trace`` with eta = 4 m eps (``frame_orthonormality_tight``) bounded by
    eta |sigma| per column instead of eta(m) |minimum|: (5 + 3) k m eps |sigma|.
    """
    return Bound(
        8.0 * k * m * EPS * sigma_norm,
        "ky_fan_trace_tight: 8 k m eps |sigma| (Householder-quality frame)",
    )


def lemma_weight(m: int, k: int) -> Bound:
    """Each c_j = sum_i <u_j, phi_i>^2 against [0, 1] (the key's lemma).

    c_j = u_j^T Phi Phi^T u_j <= |u_j|^2 |Phi|_2^2 <= (1 + 4 m eps)(1 + k eta(m)): the
    u_j (the strategy's Householder eigenvectors) are orthonormal to 4 m eps, Phi to
    eta(m) (|Phi^T Phi - I|_2 <= k eta(m) by Gershgorin); forming the k inner products
    of length m adds 2 m eps (fact 1): tol = k eta(m) + 6 m eps. The sum over j is k
    times this.
    """
    return Bound(
        k * eigenvector_orthonormality(m) + 6.0 * m * EPS,
        "lemma_weight: k eta(m) + 6 m eps (orthonormality of Phi and u, inner products)",
    )


def lemma_trace(m: int, k: int, sigma_norm: float) -> Bound:
    """sum_j c_j lambda_j against trace(Phi^T sigma Phi), lambda and u as sigma was built.

    The float sigma differs from U diag(lambda) U^T by at most m eps |sigma| per entry
    (fact 1 with Cauchy–Schwarz on the eigenvector entries), m^2 eps |sigma| in 2-norm,
    which moves the trace over k columns of norm <= 1 + eta by k m^2 eps |sigma|;
    forming the trace (2 k m eps |sigma|) and sum_j c_j lambda_j (m terms summing to at
    most k |sigma|: k m eps |sigma|) adds 3 k m eps |sigma|. Doubled for the frame's
    norm and margin: tol = 2 k (m^2 + 3m) eps |sigma|. No eigensolver is involved.
    """
    return Bound(
        2.0 * k * (m * m + 3 * m) * EPS * sigma_norm,
        "lemma_trace: 2 k (m^2 + 3m) eps |sigma| (sigma as built from U and lambda)",
    )


def davis_kahan_projector(m: int, k: int, sigma_norm: float, gap: float) -> Bound:
    """``|Phi Phi^T - U_k U_k^T|_max`` when eigenvalue k < eigenvalue k+1 by ``gap``.

    U_k are the eigenvectors sigma was built from. The float sigma differs from
    U diag(d) U^T by at most m^2 eps |sigma| in 2-norm (as in ``lemma_trace``); the
    solver adds its backward error m eps |sigma| (fact 2): E = (m^2 + m) eps |sigma|.
    Davis–Kahan sin-theta: |sin Theta|_2 <= E / (gap - 2E) (the perturbed gap, by
    Weyl), and for orthonormal bases |P - P_ref|_2 = |sin Theta|_2 >= the max entry.
    A frame orthonormal only to eta has Phi Phi^T = Q (I + F) Q^T with Q its polar
    factor, |F|_2 <= k eta: k eta(m) for Phi, 4 k m eps for U_k.
    tol = E / (gap - 2E) + k (eta(m) + 4 m eps). Meaningful only when gap > 2E (the
    strategies guarantee gap >= |sigma| / 2).
    """
    E = (m * m + m) * EPS * sigma_norm
    if gap <= 2.0 * E:
        raise ValueError(f"gap: {gap:.3e} must exceed 2E = {2 * E:.3e} for a Davis–Kahan bound")
    return Bound(
        E / (gap - 2.0 * E) + k * (eigenvector_orthonormality(m) + 4.0 * m * EPS),
        "davis_kahan_projector: E / (gap - 2E) + k (eta(m) + 4 m eps), E = (m^2 + m) eps |sigma|",
    )

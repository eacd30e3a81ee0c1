"""Problem 4: moment matching for a PSD covariance, and the Ky Fan trace minimum.

``moment_matching_points(mu, sigma)`` returns n points whose mean is ``mu`` and whose
covariance ``(1/n) sum (x_i - mu)(x_i - mu)^T`` is ``sigma``, with the smallest possible
n = rank(sigma) + 1 (n points have a covariance of rank <= n - 1, because the n centred
points sum to zero). ``symmetric_moment_matching_points`` is the answer key's
symmetric construction, corrected (its scale is sqrt(r d_i), not sqrt(d_i)).
``min_trace_frame(sigma, k)`` returns an orthonormal frame of eigenvectors of the k
smallest eigenvalues, which minimises trace(Phi^T sigma Phi) (Ky Fan).

Everything goes through one symmetric eigendecomposition (``eigh``), which is
backward stable: the computed eigenpairs are exact for ``sigma + E`` with
``|E|_2 <= p(m) eps |sigma|_2``. That is why the tolerances below are multiples of
``m * eps * |sigma|_2``.

Tolerances (all stated in terms of m, float64 eps and the spectral norm |sigma|_2):

* symmetry: the contract sends an exactly symmetric sigma; we accept
  ``|sigma - sigma^T|_max <= m * eps * |sigma|_max`` (what forming ``A @ A.T`` with a
  non-symmetric BLAS kernel can leave) and use ``sigma / 2 + sigma^T / 2`` divided by a
  power of 2 that brings the entries below 2 (exact, and no overflow for entries near
  the float64 maximum, where ``(sigma + sigma^T) / 2`` overflows);
* PSD: the smallest eigenvalue may be negative by rounding; we reject it below
  ``-PSD_FACTOR * m * eps * |sigma|_2`` (``PSD_FACTOR = 10``: a few units of
  eigh's backward error plus the rounding of forming sigma, with room to spare;
  a genuinely indefinite sigma has a negative eigenvalue of the order of |sigma|);
* rank: eigenvalues ``<= m * eps * |sigma|_2`` count as zero (the default of
  ``numpy.linalg.matrix_rank``: below it an eigenvalue is indistinguishable from
  the rounding of the decomposition) and are clipped to 0 before square roots.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from reference.contract import Record, bad

#: float64 machine epsilon
EPS: float = float(np.finfo(np.float64).eps)

#: sigma is rejected as not PSD when its smallest eigenvalue is below
#: ``-PSD_FACTOR * m * EPS * |sigma|_2`` (see the module docstring)
PSD_FACTOR: float = 10.0


def _as_real_array(name: str, value: ArrayLike) -> np.ndarray:
    """``value`` as a float64 array, or ValueError naming it (bool and complex included).

    Booleans are not numbers here, and a complex array would lose its imaginary part in
    the conversion (NumPy only warns), so both are rejected before converting.
    """
    try:
        raw = np.asarray(value)
        if raw.dtype == np.bool_:
            raise ValueError(f"{name}: expected real numbers, got a boolean array")
        if np.iscomplexobj(raw):
            raise ValueError(f"{name}: expected real numbers, got complex entries")
        return raw.astype(np.float64)
    except (TypeError, ValueError) as error:
        if str(error).startswith(f"{name}:"):
            raise
        raise ValueError(f"{name}: cannot be read as a float64 array ({error})") from None


def _as_square_matrix(sigma: ArrayLike) -> tuple[np.ndarray, float]:
    """Validate ``sigma``; return its symmetric part divided by a power of 2, and that power.

    ``(b, scale)`` with ``b = (sigma + sigma^T) / 2 / scale`` computed exactly (halves
    and a power of 2, so no overflow for entries near the float64 maximum, where
    ``(sigma + sigma^T) / 2`` overflows) and ``max|b|`` in [1, 2) (``scale = 1`` for
    the zero matrix). Eigenvectors are unchanged by the scale and eigenvalues scale
    with it, so everything downstream works on ``b`` without overflow.
    """
    a = _as_real_array("sigma", sigma)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"sigma: expected a non-empty square (m, m) matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("sigma: contains non-finite entries (nan or inf)")
    m = a.shape[0]
    top = float(np.max(np.abs(a)))
    scale = float(np.ldexp(1.0, np.frexp(top)[1] - 1)) if top > 0 else 1.0
    b = a / scale  # exact: a power of 2, entries in (-2, 2)
    asymmetry = float(np.max(np.abs(b - b.T)))
    allowed = m * EPS * top / scale
    if asymmetry > allowed:
        raise ValueError(
            f"sigma: not symmetric: max |sigma - sigma^T| = {asymmetry * scale:.3e} > "
            f"m * eps * max|sigma| = {allowed * scale:.3e}"
        )
    return 0.5 * b + 0.5 * b.T, scale


def _check_psd(smallest: float, norm: float, m: int) -> None:
    """Raise unless the smallest eigenvalue is >= -PSD_FACTOR * m * eps * norm."""
    allowed = PSD_FACTOR * m * EPS * norm
    if smallest < -allowed:
        raise ValueError(
            f"sigma: not positive semi-definite: smallest eigenvalue {smallest:.3e} "
            f"< -{PSD_FACTOR:g} * m * eps * |sigma| = {-allowed:.3e}"
        )


def _psd_eigh(sigma: ArrayLike) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Validated eigendecomposition of a PSD ``sigma``: ascending (d, U), the rank, the scale.

    The eigenvalues of sigma are ``d * scale`` (see ``_as_square_matrix``); they are
    returned unscaled so that they cannot overflow. Eigenvalues at or below
    ``m * eps * |sigma|_2`` are set to exactly 0 and not counted in the rank (they are
    rounding, not signal).
    """
    b, scale = _as_square_matrix(sigma)
    m = b.shape[0]
    d, U = np.linalg.eigh(b)
    norm = float(np.max(np.abs(d)))  # |sigma|_2 / scale
    _check_psd(float(d[0]) * scale, norm * scale, m)
    d = np.where(d > m * EPS * norm, d, 0.0)
    return d, U, int(np.count_nonzero(d)), scale


def _as_mean(mu: ArrayLike, m: int) -> np.ndarray:
    """Validate ``mu`` as a finite vector of length m."""
    v = _as_real_array("mu", mu)
    if v.shape != (m,):
        raise ValueError(f"mu: expected shape ({m},) to match sigma (m, m), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("mu: contains non-finite entries (nan or inf)")
    return v


def moment_matching_points(mu: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """Return n = rank(sigma) + 1 points with mean ``mu`` and covariance ``sigma`` (divide by n).

    Construction: write sigma = U_r D_r U_r^T over its r nonzero eigenvalues and take
    the Helmert basis H (n x r, n = r + 1): orthonormal columns, each orthogonal to the
    all-ones vector (the vertices of a regular simplex, centred). Then

        x_i = mu + sqrt(n) * U_r D_r^{1/2} h_i,   h_i the i-th row of H,

    has mean mu (since H^T 1 = 0) and covariance (1/n) n U_r D_r^{1/2} H^T H D_r^{1/2}
    U_r^T = sigma (since H^T H = I_r). No fewer points can work: n centred points sum
    to zero, so they span at most n - 1 dimensions. sigma = 0 gives the single point mu.

    Returns an (n, m) float64 array. Raises ``ValueError`` naming ``mu`` or ``sigma``
    when an argument has the wrong shape, is non-finite, not symmetric or not PSD.
    """
    d, U, r, scale = _psd_eigh(sigma)
    m = U.shape[0]
    centre = _as_mean(mu, m)
    n = r + 1
    if r == 0:
        return centre[None, :].copy()
    # eigh sorts ascending, so the r nonzero eigenvalues are the last r; the scale's
    # square root is applied separately so that no eigenvalue of sigma is formed.
    factor = U[:, m - r :] * (np.sqrt(d[m - r :]) * np.sqrt(scale))  # (m, r): U_r D_r^{1/2}
    H = scipy.linalg.helmert(n).T  # (n, r): orthonormal columns orthogonal to ones
    # finite: |offsets| <= sqrt(n m max|sigma|) < 2**520, far below half an ulp of the
    # float64 maximum (2**970), so even mu at the maximum cannot overflow
    return centre + np.sqrt(n) * (H @ factor.T)


def symmetric_moment_matching_points(mu: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """The answer key's symmetric construction, corrected: 2r points mu ± sqrt(r d_i) u_i.

    The key takes x = mu ± sqrt(d_i) u_i over all m eigenpairs (n = 2m), whose
    covariance is (1/2m) sum 2 d_i u_i u_i^T = sigma / m. Scaling by sqrt(r) over the
    r nonzero eigenpairs restores (1/2r) sum 2 r d_i u_i u_i^T = sigma with n = 2r
    points (one point, mu, when sigma = 0). Validation as in
    ``moment_matching_points``.
    """
    d, U, r, scale = _psd_eigh(sigma)
    m = U.shape[0]
    centre = _as_mean(mu, m)
    if r == 0:
        return centre[None, :].copy()
    root = np.sqrt(r * d[m - r :]) * np.sqrt(scale)
    half = (U[:, m - r :] * root).T  # (r, m): rows sqrt(r d_i) u_i^T
    # finite, as in moment_matching_points
    return centre + np.concatenate([half, -half])


def min_trace_frame(sigma: ArrayLike, k: int) -> np.ndarray:
    """An (m, k) orthonormal frame minimising trace(Phi^T sigma Phi): k smallest eigenvectors.

    Ky Fan: the minimum over Phi^T Phi = I_k is the sum of the k smallest eigenvalues,
    attained by their eigenvectors, here from the full ``numpy.linalg.eigh`` (LAPACK
    ``syevd``), whose eigenvectors are orthonormal to ~2 m eps even on repeated
    eigenvalues.

    Computing only the k wanted pairs (``scipy.linalg.eigh(subset_by_index=[0, k-1])``)
    measured 2.6x faster at m = 512, k = 16 (min 14.8 ms vs 39.2 ms, bench_mahalanobis),
    but it is not used: on valid input it fails. Both subset drivers (``syevr``,
    ``syevx``) raised ``LinAlgError`` on 4.2e-11 * I_5 plus rounding (a repeated
    eigenvalue at a small scale, found by the PSD strategy), and on clusters of equal
    eigenvalues their eigenvectors were orthonormal only to ~340 m eps. Correct on
    every valid input beats fast on most of them.

    Raises ``ValueError`` naming ``sigma`` (shape, non-finite, not symmetric, not PSD)
    or ``k`` (not an integer in [1, m]).
    """
    b, scale = _as_square_matrix(sigma)
    m = b.shape[0]
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"k: expected an integer, got {type(k).__name__}")
    if not 1 <= k <= m:
        raise ValueError(f"k: expected 1 <= k <= m = {m}, got {k}")
    d, U = np.linalg.eigh(b)  # sigma / scale: the same eigenvectors
    _check_psd(float(d[0]) * scale, float(np.max(np.abs(d))) * scale, m)
    return U[:, :k].copy()


# --- the contract records (reference.contract) ---------------------------------------

#: sigma at the scale 2**40 (so the internal power-of-2 scale is not 1), where the error
#: message must report sigma's own numbers: the asymmetry 1 against m eps max|sigma|, the
#: smallest eigenvalue against -10 m eps |sigma|
_BIG = 2.0**40
_REPORTED = [
    bad(
        "sigma",
        np.zeros(2),
        np.array([[_BIG, 1.0], [0.0, _BIG]]),
        match=r"^sigma: not symmetric: max \|sigma - sigma\^T\| = 1\.000e\+00 > "
        r"m \* eps \* max\|sigma\| = 4\.883e-04$",
        id="not-symmetric-at-2**40",
    ),
    bad(
        "sigma",
        np.zeros(2),
        np.diag([_BIG, -(2.0**30)]),
        match=r"^sigma: not positive semi-definite: smallest eigenvalue -1\.074e\+09 < "
        r"-10 \* m \* eps \* \|sigma\| = -4\.883e-03$",
        id="not-psd-at-2**40",
    ),
]

CONTRACT = [
    Record(
        "moment_matching_points",
        "(mu, sigma)",
        error_inputs=[
            bad("sigma", np.zeros(2), np.zeros((2, 3)), id="sigma-not-square"),
            bad("sigma", np.zeros(2), np.zeros(2), id="sigma-1d"),
            bad("sigma", np.zeros(0), np.zeros((0, 0)), id="sigma-empty"),
            bad("sigma", np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), id="not-symmetric"),
            bad("sigma", np.zeros(2), np.array([[1.0, 0.0], [0.0, -1e-3]]), id="not-psd"),
            bad("sigma", np.zeros(2), np.array([[1.0, np.nan], [np.nan, 1.0]]), id="nan"),
            bad("sigma", np.zeros(2), np.array([[np.inf, 0.0], [0.0, 1.0]]), id="inf"),
            bad("mu", np.zeros(3), np.eye(2), id="mu-wrong-length"),
            bad("mu", np.zeros((2, 1)), np.eye(2), id="mu-2d"),
            bad("mu", np.array([0.0, np.nan]), np.eye(2), id="mu-nan"),
            # complex input would lose its imaginary part in a float64 conversion (NumPy
            # only warns); booleans are not numbers here
            bad("sigma", np.zeros(2), np.eye(2) * (1 + 1j), match="^sigma: expected real"),
            bad("mu", np.array([1j, 0.0]), np.eye(2), match="^mu: expected real"),
            bad("sigma", np.zeros(2), np.eye(2, dtype=bool), match="^sigma: expected real"),
            bad("mu", np.array([True, False]), np.eye(2), match="^mu: expected real"),
            bad("sigma", np.zeros(2), [[1.0, 0.0], [0.0]], id="sigma-ragged"),
            bad("mu", ["a", "b"], np.eye(2), id="mu-not-numbers"),
            *_REPORTED,
        ],
        also=["symmetric_moment_matching_points"],
    ),
    Record(
        "min_trace_frame",
        "(sigma, k)",
        error_inputs=[
            bad("sigma", np.zeros((2, 3)), 1, id="not-square"),
            bad("sigma", np.zeros(3), 1, id="1d"),
            bad("sigma", np.array([[1.0, 0.5], [0.0, 1.0]]), 1, id="not-symmetric"),
            bad("sigma", np.diag([1.0, -1e-3]), 1, id="not-psd"),
            bad("sigma", np.diag([1.0, np.nan]), 1, id="nan"),
            bad("sigma", np.diag([1.0, -np.inf]), 1, id="inf"),
            bad("k", np.eye(2), 0, id="k-zero"),
            bad("k", np.eye(2), 3, id="k-above-m"),
            bad("k", np.eye(2), 1.0, id="k-float"),
            bad("k", np.eye(2), True, id="k-bool"),
            bad("sigma", np.eye(2) * (1 + 1j), 1, match="^sigma: expected real"),
            bad("sigma", np.eye(2, dtype=bool), 1, match="^sigma: expected real"),
            bad("k", np.eye(2), 1.0, match="^k: expected an integer, got float$"),
            *(bad(c.argument, c.args[1], 1, match=c.match, id=c.id) for c in _REPORTED),
        ],
    ),
]

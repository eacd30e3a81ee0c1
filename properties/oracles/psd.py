"""Independent oracles of the PSD chapter (Problem 4: moment matching, Ky Fan).

Each quantity is computed another way than an implementation would: covariances from
the definition (a sum of outer products), eigenvalue sums from SciPy's ``eigvalsh``
(LAPACK, not the eigenvector route of ``min_trace_frame``), an adversary that minimises
the trace by general-purpose optimisation over frames, and the answer key's own
formulas, verbatim, so that errata tests and the catalogue use them from one place.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg  # scipy.optimize loads on first use (SciPy's lazy submodules): 0.3 s

__all__ = [
    "ADVERSARY_ITERATIONS",
    "adversarial_min_trace",
    "covariance_about",
    "frame_of",
    "frame_trace",
    "key_construction",
    "key_minimum",
    "largest_eigenvalue_sum",
    "lemma_weights",
    "smallest_eigenvalue_sum",
    "spectral_norm",
]


# --- Definitions ------------------------------------------------------------------


def covariance_about(X: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """(1/n) sum_i (x_i - mu)(x_i - mu)^T, term by term from the definition (an einsum)."""
    Y = X - mu
    return np.einsum("ia,ib->ab", Y, Y) / X.shape[0]


def frame_trace(Phi: np.ndarray, sigma: np.ndarray) -> float:
    """trace(Phi^T sigma Phi), the objective of the Ky Fan problem, by two matrix products."""
    return float(np.trace(Phi.T @ sigma @ Phi))


def spectral_norm(sigma: np.ndarray) -> float:
    """|sigma|_2, the largest singular value (numpy's SVD; 0 for the zero matrix)."""
    return float(np.linalg.norm(sigma, 2))


def lemma_weights(eigenvectors: np.ndarray, Phi: np.ndarray) -> np.ndarray:
    """The key's lemma weights c_j = sum_i <u_j, phi_i>^2, for the columns u_j given."""
    return np.sum((eigenvectors.T @ Phi) ** 2, axis=1)


# --- SciPy routes -----------------------------------------------------------------


def smallest_eigenvalue_sum(sigma: np.ndarray, k: int) -> float:
    """lambda_1 + ... + lambda_k, the k smallest eigenvalues from ``scipy.linalg.eigvalsh``."""
    return float(np.sum(scipy.linalg.eigvalsh(sigma)[:k]))


def largest_eigenvalue_sum(sigma: np.ndarray, k: int) -> float:
    """lambda_{m-k+1} + ... + lambda_m from ``scipy.linalg.eigvalsh``."""
    return float(np.sum(scipy.linalg.eigvalsh(sigma)[sigma.shape[0] - k :]))


# --- The adversary ----------------------------------------------------------------

#: BFGS steps the adversary takes: it only has to be honest, not to converge, and a
#: bounded number of steps from a drawn start keeps each example to a few milliseconds
ADVERSARY_ITERATIONS = 20


def frame_of(a: np.ndarray, m: int, k: int) -> np.ndarray:
    """Q factor of the free (m, k) matrix ``a`` with the sign fix (diag R >= 0).

    Every (m, k) matrix maps to an orthonormal frame (QR is defined for every A, a
    nearly rank-deficient one included), so the optimiser below searches all of R^{mk}.
    """
    Q, R = np.linalg.qr(a.reshape(m, k))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def adversarial_min_trace(sigma: np.ndarray, k: int, start: np.ndarray) -> np.ndarray:
    """A frame found by minimising trace(Q(A)^T sigma Q(A)) over A with BFGS from ``start``.

    ``scipy.optimize.minimize`` knows nothing about eigenvectors: whatever it finds is an
    orthonormal frame, so its trace can never go below the Ky Fan bound, and a correct
    ``min_trace_frame`` is never beaten by it.
    """
    m = sigma.shape[0]
    result = scipy.optimize.minimize(
        lambda a: frame_trace(frame_of(a, m, k), sigma),
        start.ravel(),
        method="BFGS",
        options={"maxiter": ADVERSARY_ITERATIONS},
    )
    return frame_of(result.x, m, k)


# --- The answer key, verbatim -----------------------------------------------------


def key_construction(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The answer key's points: n = 2m points x_i = mu ± sqrt(d_i) u_i over all i.

    Its covariance is sigma / m (see ``test_moment_matching``'s erratum). The
    rounding-level negative eigenvalues a PSD sigma may have are clipped to 0, as the
    key's "d_i >= 0" assumes.
    """
    d, U = np.linalg.eigh(sigma)
    half = (U * np.sqrt(np.clip(d, 0.0, None))).T
    return mu + np.concatenate([half, -half])


def key_minimum(sigma: np.ndarray, k: int) -> list[float]:
    """The key's "minimum" of the Ky Fan problem: the list d_{m-k+1}, ..., d_m, d descending."""
    d = np.sort(np.linalg.eigvalsh(sigma))[::-1]
    return [float(x) for x in d[d.size - k :]]

"""Wrong and correct implementations of Problem 4: moment matching and Ky Fan.

``CATALOGUE``: plausible mistakes (the answer key's among them), and near the accuracy
policy's boundary a float32 eigensolver, a frame orthonormal only to 1e-10, a frame from
an iteration stopped early (trace off by about 1e-10 |sigma|), eigenvalues off by a
relative 1e-10; each must be rejected. ``PEERS``: correct implementations by other
algorithms (SciPy's default MRRR eigensolver, an SVD, a pivoted Cholesky factor, a
flush-to-zero variant), each must be accepted. Written against the contract so
``pytest --impl NAME=MODULE:FUNC`` audits each.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from properties.catalogue import Peer, WrongImplementation
from properties.oracles.psd import key_construction
from properties.tolerance import FLUSH_FLOOR

# --- moment_matching_points --------------------------------------------------------


def _eigh_clipped(sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d, U = np.linalg.eigh(sigma)
    return np.clip(d, 0.0, None), U


def mean_forgotten(mu, sigma):
    """The corrected symmetric points ± sqrt(m d_i) u_i, but centred at 0, not at mu."""
    d, U = _eigh_clipped(sigma)
    half = (U * np.sqrt(sigma.shape[0] * d)).T
    return np.concatenate([half, -half])


def cholesky_on_singular_sigma(mu, sigma):
    """Points mu ± sqrt(m) L e_i with sigma = L L^T: Cholesky fails on singular sigma."""
    L = np.linalg.cholesky(sigma)
    half = np.sqrt(sigma.shape[0]) * L.T
    return mu + np.concatenate([half, -half])


def eigen_points_without_mirror(mu, sigma):
    """x_i = mu + sqrt(m d_i) u_i, n = m: the key's own warning (mean is not mu)."""
    d, U = _eigh_clipped(sigma)
    return mu + (U * np.sqrt(sigma.shape[0] * d)).T


def negative_eigenvalues_not_clipped(mu, sigma):
    """Correct symmetric construction, but sqrt of a rounding-level negative d_i is NaN."""
    d, U = np.linalg.eigh(sigma)
    with np.errstate(invalid="ignore"):
        half = (U * np.sqrt(sigma.shape[0] * d)).T
    return mu + np.concatenate([half, -half])


def eigenvalues_paired_in_reverse(mu, sigma):
    """Eigenvalues sorted descending but eigenvectors left ascending: d_i paired with u_{m-i}."""
    d, U = _eigh_clipped(sigma)
    half = (U * np.sqrt(sigma.shape[0] * d[::-1])).T
    return mu + np.concatenate([half, -half])


def unbiased_scale(mu, sigma):
    """Symmetric points scaled for the n - 1 (unbiased) covariance: sqrt((2m - 1) d_i / 2)."""
    d, U = _eigh_clipped(sigma)
    n = 2 * sigma.shape[0]
    half = (U * np.sqrt((n - 1) * d / 2.0)).T
    return mu + np.concatenate([half, -half])


def too_few_points(mu, sigma):
    """Simplex construction with n = rank points instead of rank + 1 (drops a vertex)."""
    d, U = _eigh_clipped(sigma)
    m = sigma.shape[0]
    n = m + 1
    ones = np.ones((n, 1)) / np.sqrt(n)
    basis = np.linalg.qr(np.hstack([ones, np.eye(n)[:, :m]]))[0][:, 1:]  # (n, m)
    points = mu + np.sqrt(n) * basis @ (U * np.sqrt(d)).T
    return points[:-1]


# --- min_trace_frame ---------------------------------------------------------------


def largest_eigenvectors(sigma, k):
    """Eigenvectors of the k largest eigenvalues: maximises the trace instead."""
    return np.linalg.eigh(sigma)[1][:, -k:]


def eig_first_k_unsorted(sigma, k):
    """np.linalg.eig, whose eigenvalues come in no particular order: takes the first k."""
    return np.real(np.linalg.eig(sigma)[1][:, :k])


def frame_not_orthonormal(sigma, k):
    """Eigenvectors of the k smallest eigenvalues scaled by sqrt(k): not unit columns."""
    return np.sqrt(k) * np.linalg.eigh(sigma)[1][:, :k]


def constraint_ignored(sigma, k):
    """The unconstrained minimiser of a PSD quadratic form: Phi = 0 (trace 0)."""
    return np.zeros((sigma.shape[0], k))


def eigenvector_matrix_transposed(sigma, k):
    """Rows of U read as eigenvectors: the first k rows of U instead of its first k columns."""
    return np.linalg.eigh(sigma)[1][:k, :].T


def first_coordinate_axes(sigma, k):
    """The first k coordinate axes: orthonormal, but optimal only for diagonal sigma."""
    return np.eye(sigma.shape[0])[:, :k]


def float32_eigensolver_points(mu, sigma):
    """The symmetric construction mu ± sqrt(m d_i) u_i with eigh run in float32."""
    d, U = np.linalg.eigh(sigma.astype(np.float32))
    d, U = np.clip(d.astype(np.float64), 0.0, None), U.astype(np.float64)
    half = (U * np.sqrt(sigma.shape[0] * d)).T
    return mu + np.concatenate([half, -half])


def eigenvalues_off_by_1e10(mu, sigma):
    """The symmetric construction with eigenvalues refined only to a relative 1e-10."""
    d, U = _eigh_clipped(sigma)
    half = (U * np.sqrt(sigma.shape[0] * d * (1.0 + 1e-10))).T
    return mu + np.concatenate([half, -half])


def float32_eigensolver_frame(sigma, k):
    """Eigenvectors of the k smallest eigenvalues from eigh run in float32."""
    return np.linalg.eigh(sigma.astype(np.float32))[1][:, :k].astype(np.float64)


def frame_orthonormal_to_1e10(sigma, k):
    """The right eigenvectors, normalised only to 1e-10 (a loose stopping rule)."""
    return np.linalg.eigh(sigma)[1][:, :k] * (1.0 + 1e-10)


def early_stopped_iteration_frame(sigma, k):
    """An iteration stopped 1e-5 away from the subspace: trace off by ~1e-10 |sigma|.

    Each wanted eigenvector keeps a 1e-5 component along the top eigenvector (re-
    orthonormalised by QR), so the frame is orthonormal to eps but its trace exceeds the
    minimum by about 1e-10 (lambda_max - lambda_i) per column.
    """
    U = np.linalg.eigh(sigma)[1]
    if k == sigma.shape[0]:
        return U
    return np.linalg.qr(U[:, :k] + 1e-5 * U[:, -1:])[0]


# --- Peers: correct implementations by other algorithms -------------------------------


def _helmert_points(mu, factor):
    """The r + 1 points mu + sqrt(r + 1) H F^T for sigma = F F^T, F (m, r) any factor."""
    n = factor.shape[1] + 1
    return mu + np.sqrt(n) * (scipy.linalg.helmert(n).T @ factor.T)


def svd_points(mu, sigma):
    """Simplex points from an SVD: sigma = U S V^T, factor U S^{1/2} over all m columns.

    n = m + 1 points, not rank + 1: zero singular values give zero columns, which the
    contract allows (any n with the right moments).
    """
    U, s, _ = np.linalg.svd(sigma)
    return _helmert_points(mu, U * np.sqrt(s))


def pivoted_cholesky_points(mu, sigma):
    """Points mu ± sqrt(r) R_i, R_i the rows of a pivoted Cholesky factor (LAPACK dpstrf).

    P^T sigma P = R^T R with R (r, m) upper trapezoidal; the rank r is where dpstrf
    stops (its default tolerance m eps max(diag)); points mu ± sqrt(r) (R P^T)_i, n = 2r.
    """
    R, piv, rank, _ = scipy.linalg.lapack.dpstrf(sigma, lower=0)
    if rank == 0:
        return mu[None, :].copy()
    factor = np.zeros((rank, sigma.shape[0]))
    factor[:, piv - 1] = np.triu(R)[:rank]  # rows of R P^T
    half = np.sqrt(rank) * factor
    return mu + np.concatenate([half, -half])


def mrrr_eigh_frame(sigma, k):
    """``scipy.linalg.eigh`` with its default driver (syevr, MRRR): orthonormal to ~m eps / 1e-3."""
    return scipy.linalg.eigh(sigma)[1][:, :k]


def svd_frame(sigma, k):
    """Right singular vectors of the k smallest singular values (equal to the eigenvalues)."""
    return np.linalg.svd(sigma)[2][::-1][:k].T


def flush_to_zero_frame(sigma, k):
    """The reference's frame with results below the smallest normal number flushed to 0."""
    Phi = np.linalg.eigh(sigma)[1][:, :k]
    return np.where(np.abs(Phi) < FLUSH_FLOOR, 0.0, Phi)


CATALOGUE: list[WrongImplementation] = [
    WrongImplementation(
        "moment_matching_points",
        key_construction,
        "the answer key: mu ± sqrt(d_i) u_i has covariance sigma / m",
    ),
    WrongImplementation(
        "moment_matching_points", mean_forgotten, "points centred at 0: mu forgotten"
    ),
    WrongImplementation(
        "moment_matching_points",
        cholesky_on_singular_sigma,
        "Cholesky factor: LinAlgError on a singular (PSD, not PD) sigma",
    ),
    WrongImplementation(
        "moment_matching_points",
        eigen_points_without_mirror,
        "m points mu + sqrt(m d_i) u_i without their mirror images: mean is not mu",
    ),
    WrongImplementation(
        "moment_matching_points",
        negative_eigenvalues_not_clipped,
        "sqrt of a rounding-level negative eigenvalue: NaN points",
    ),
    WrongImplementation(
        "moment_matching_points",
        eigenvalues_paired_in_reverse,
        "eigenvalues in descending order paired with ascending eigenvectors",
    ),
    WrongImplementation(
        "moment_matching_points",
        unbiased_scale,
        "scaled for the unbiased (n - 1) covariance instead of the contract's 1/n",
    ),
    WrongImplementation(
        "moment_matching_points",
        too_few_points,
        "m points of the m + 1 simplex: fewer than rank + 1 points",
    ),
    WrongImplementation(
        "min_trace_frame", largest_eigenvectors, "eigenvectors of the k largest eigenvalues"
    ),
    WrongImplementation(
        "min_trace_frame",
        eig_first_k_unsorted,
        "np.linalg.eig's first k eigenvectors, eigenvalues unsorted",
    ),
    WrongImplementation(
        "min_trace_frame", frame_not_orthonormal, "columns of norm sqrt(k), not orthonormal"
    ),
    WrongImplementation(
        "min_trace_frame", constraint_ignored, "Phi = 0: the constraint Phi^T Phi = I ignored"
    ),
    WrongImplementation(
        "min_trace_frame",
        eigenvector_matrix_transposed,
        "rows of the eigenvector matrix taken as eigenvectors",
    ),
    WrongImplementation("min_trace_frame", first_coordinate_axes, "the first k coordinate axes"),
    WrongImplementation(
        "moment_matching_points",
        float32_eigensolver_points,
        "eigendecomposition in float32: covariance off by ~1e-7 |sigma|",
    ),
    WrongImplementation(
        "moment_matching_points",
        eigenvalues_off_by_1e10,
        "eigenvalues off by a relative 1e-10: covariance off by 1e-10 |sigma|",
    ),
    WrongImplementation(
        "min_trace_frame", float32_eigensolver_frame, "eigenvectors from a float32 eigh"
    ),
    WrongImplementation("min_trace_frame", frame_orthonormal_to_1e10, "columns of norm 1 + 1e-10"),
    WrongImplementation(
        "min_trace_frame",
        early_stopped_iteration_frame,
        "eigenvectors 1e-5 off the subspace: trace above the minimum by ~1e-10 |sigma|",
    ),
]

PEERS: list[Peer] = [
    Peer("moment_matching_points", svd_points, "Helmert simplex on an SVD factor, n = m + 1"),
    Peer(
        "moment_matching_points",
        pivoted_cholesky_points,
        "mu ± sqrt(r) rows of a pivoted Cholesky factor (dpstrf), n = 2 rank",
    ),
    Peer("min_trace_frame", mrrr_eigh_frame, "scipy.linalg.eigh default driver (syevr, MRRR)"),
    Peer("min_trace_frame", svd_frame, "right singular vectors of the k smallest singular values"),
    Peer("min_trace_frame", flush_to_zero_frame, "the reference with subnormal entries flushed"),
]

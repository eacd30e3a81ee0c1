"""Wrong implementations of Problem 4: moment matching and the Ky Fan trace minimum.

Each is a plausible mistake (the answer key's among them), written against the
contract so ``pytest --impl NAME=properties.catalogue.mahalanobis:FUNC`` audits it.
"""

from __future__ import annotations

import numpy as np

from properties.catalogue import WrongImplementation

# --- moment_matching_points --------------------------------------------------------


def _eigh_clipped(sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d, U = np.linalg.eigh(sigma)
    return np.clip(d, 0.0, None), U


def key_construction(mu, sigma):
    """The answer key: x = mu ± sqrt(d_i) u_i, n = 2m (covariance sigma / m)."""
    d, U = _eigh_clipped(sigma)
    half = (U * np.sqrt(d)).T
    return mu + np.concatenate([half, -half])


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
]

"""Public, reusable Hypothesis strategies for the mathematics of deep learning.

Every strategy here draws structure first (sizes, ranks, spectra, spreads) and values
second, so that a failure shrinks to a small, readable case. Values come from
``hypothesis.extra.numpy.arrays`` with ``fill=st.nothing()`` (every entry drawn, not a
repeated fill value) or are built by construction; nothing filters with ``assume``.
Strategies validate their arguments eagerly and raise ``ValueError`` before drawing.
Results with several parts are NamedTuples, so properties and users read them by name.

Sections: convolution; batch normalisation; softmax and cross-entropy; symmetric
positive semi-definite matrices and orthonormal frames.
"""

from __future__ import annotations

from typing import NamedTuple

import hypothesis.extra.numpy as npst
import numpy as np
from hypothesis import strategies as st

# --- Convolution -------------------------------------------------------------------


# --- Batch normalisation -----------------------------------------------------------


# --- Softmax and cross-entropy -----------------------------------------------------


# --- Symmetric positive semi-definite matrices and orthonormal frames -------------


class PSDMatrix(NamedTuple):
    """A symmetric PSD matrix with the spectrum and eigenbasis it was built from.

    ``sigma = eigenvectors @ diag(eigenvalues) @ eigenvectors.T`` up to float64
    rounding (about ``m * eps * max(eigenvalues)`` per entry), and ``sigma`` is exactly
    symmetric. ``eigenvalues`` is ascending and exact as drawn (zeros are exact
    zeros); ``rank`` counts its nonzero entries. Because of the rounding of the
    product, the float matrix's own eigenvalues may differ from ``eigenvalues`` by that
    much, and a zero eigenvalue may come out as a tiny negative number.
    """

    sigma: np.ndarray  # (m, m)
    eigenvalues: np.ndarray  # (m,), ascending
    eigenvectors: np.ndarray  # (m, m), orthonormal columns, paired with eigenvalues
    rank: int


def _validate_size(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def _householder_product(vectors: np.ndarray) -> np.ndarray:
    """Product H_1 ... H_j of the reflections I - 2 v v^T / |v|^2 for the columns v.

    A product of reflections is orthogonal whatever the vectors are, so a rank-deficient
    drawn matrix needs no ``assume``: a zero column is skipped (its reflection replaced
    by the identity, a deterministic fallback), and every column is first divided by its
    largest entry so that ``v v^T / |v|^2`` neither underflows nor overflows. Every
    orthogonal m x m matrix is such a product of at most m reflections (Householder QR),
    so no orthogonal matrix is out of reach; an all-zero draw, where shrinking goes,
    gives the identity.
    """
    m = vectors.shape[0]
    Q = np.eye(m)
    for v in vectors.T:
        top = np.max(np.abs(v))
        if top == 0.0:
            continue
        v = v / top
        Q = Q - np.outer(Q @ v, (2.0 / (v @ v)) * v)
    return Q


def orthogonal_matrices(m: int) -> st.SearchStrategy[np.ndarray]:
    """Orthogonal (m, m) matrices: products of Householder reflections of drawn vectors.

    Orthonormal to about ``m * eps``. Shrinks towards the identity.

    >>> orthogonal_matrices(3).example().shape
    (3, 3)
    """
    _validate_size("m", m, 1)
    return orthonormal_frames(m, m)


def orthonormal_frames(m: int, k: int) -> st.SearchStrategy[np.ndarray]:
    """Frames Phi (m, k) with Phi^T Phi = I_k (the Stiefel manifold), up to ``m * eps``.

    Built as the first k columns of a product of k Householder reflections whose vectors
    are the columns of a drawn (m, k) matrix: Householder QR shows every frame is of
    that form, so the whole manifold is reachable. Shrinks towards ``I[:, :k]``.

    >>> orthonormal_frames(4, 2).example().shape
    (4, 2)
    """
    _validate_size("m", m, 1)
    _validate_size("k", k, 1)
    if k > m:
        raise ValueError(f"k: expected k <= m = {m}, got {k}")
    return _frame_vectors(m, k).map(lambda v: _householder_product(v)[:, :k].copy())


def _frame_vectors(m: int, k: int) -> st.SearchStrategy[np.ndarray]:
    return npst.arrays(
        np.float64,
        (m, k),
        elements=st.floats(-1.0, 1.0, allow_subnormal=False),
        fill=st.nothing(),
    )


def spectra(
    m: int, *, max_condition: float = 1e12, min_scale: float = 1e-6, max_scale: float = 1e6
) -> st.SearchStrategy[np.ndarray]:
    """Ascending spectra of m eigenvalues of a PSD matrix, drawn structure first.

    Draws the number of zero eigenvalues (exact zeros; shrinks to none), a scale
    ``s = 10**e`` in [min_scale, max_scale], a pool of distinct levels
    ``s * 10**(-t)`` with ``t`` in [0, log10(max_condition)], and assigns every nonzero
    eigenvalue a level from the pool, so repeated eigenvalues are common and the
    condition number of the nonzero part is at most ``max_condition``. The zero
    spectrum (the zero matrix) is included. Shrinks towards all eigenvalues equal to 1.

    >>> spectra(3).example().shape
    (3,)
    """
    _validate_size("m", m, 1)
    if not (np.isfinite(max_condition) and max_condition >= 1.0):
        raise ValueError(f"max_condition: expected a finite number >= 1, got {max_condition!r}")
    if not (0.0 < min_scale <= max_scale < np.inf):
        raise ValueError(
            f"min_scale, max_scale: expected 0 < min_scale <= max_scale < inf, "
            f"got {min_scale!r}, {max_scale!r}"
        )
    low, high = int(np.ceil(np.log10(min_scale))), int(np.floor(np.log10(max_scale)))
    if low > high:
        raise ValueError(f"min_scale, max_scale: no power of 10 in [{min_scale}, {max_scale}]")
    digits = float(np.log10(max_condition))

    @st.composite
    def draw_spectrum(draw: st.DrawFn) -> np.ndarray:
        nullity = draw(st.integers(0, m), label="number of zero eigenvalues")
        rank = m - nullity
        if rank == 0:
            return np.zeros(m)
        scale = 10.0 ** draw(st.integers(low, high), label="scale exponent")
        n_levels = draw(st.integers(1, rank), label="distinct nonzero eigenvalues")
        levels = draw(
            st.lists(st.floats(0.0, digits), min_size=n_levels, max_size=n_levels, unique=True),
            label="levels (decades below scale)",
        )
        picks = draw(
            st.lists(st.integers(0, n_levels - 1), min_size=rank, max_size=rank),
            label="level of each nonzero eigenvalue",
        )
        nonzero = scale * 10.0 ** (-np.asarray(levels)[np.asarray(picks)])
        return np.concatenate([np.zeros(nullity), np.sort(nonzero)])

    return draw_spectrum()


def psd_from_spectrum(eigenvalues: np.ndarray) -> st.SearchStrategy[PSDMatrix]:
    """PSD matrices ``U diag(eigenvalues) U^T`` with a drawn orthogonal U (Householder).

    ``eigenvalues`` must be finite, >= 0 and ascending (as ``spectra`` draws them).
    sigma is symmetrised, ``(S + S^T) / 2``, so it is exactly symmetric.

    >>> psd_from_spectrum(np.array([0.0, 1.0, 1.0])).example().rank
    2
    """
    d = np.asarray(eigenvalues, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"eigenvalues: expected a non-empty 1-d array, got shape {d.shape}")
    if not (np.all(np.isfinite(d)) and np.all(d >= 0.0) and np.all(np.diff(d) >= 0.0)):
        raise ValueError(f"eigenvalues: expected finite, >= 0 and ascending, got {d}")
    m = d.size

    @st.composite
    def build(draw: st.DrawFn) -> PSDMatrix:
        U = draw(orthogonal_matrices(m), label="eigenvectors")
        S = (U * d) @ U.T
        return PSDMatrix((S + S.T) / 2.0, d.copy(), U, int(np.count_nonzero(d)))

    return build()


def psd_matrices(
    *, min_size: int = 1, max_size: int = 6, max_condition: float = 1e12
) -> st.SearchStrategy[PSDMatrix]:
    """Symmetric PSD matrices by construction: size, then spectrum, then eigenbasis.

    Size m in [min_size, max_size]; spectrum from ``spectra`` (exact zeros, so singular
    and rank-deficient matrices, repeated eigenvalues, condition numbers up to
    ``max_condition``, the zero matrix); basis from ``orthogonal_matrices``. Never
    ``assume``: every draw is a valid PSD matrix. Shrinks towards the 1 x 1 identity
    (then I_m, then diagonal matrices).

    >>> p = psd_matrices(max_size=3).example()
    >>> p.sigma.shape == (p.eigenvalues.size,) * 2
    True
    """
    _validate_size("min_size", min_size, 1)
    _validate_size("max_size", max_size, min_size)

    @st.composite
    def draw_psd(draw: st.DrawFn) -> PSDMatrix:
        m = draw(st.integers(min_size, max_size), label="m")
        d = draw(spectra(m, max_condition=max_condition), label="eigenvalues")
        return draw(psd_from_spectrum(d), label="sigma")

    return draw_psd()


def mean_vectors(m: int, *, max_magnitude: float = 1e3) -> st.SearchStrategy[np.ndarray]:
    """Finite mean vectors mu of shape (m,) with entries in [-max_magnitude, max_magnitude].

    >>> mean_vectors(2).example().shape
    (2,)
    """
    _validate_size("m", m, 1)
    if not (np.isfinite(max_magnitude) and max_magnitude >= 0.0):
        raise ValueError(f"max_magnitude: expected a finite number >= 0, got {max_magnitude!r}")
    return npst.arrays(
        np.float64,
        (m,),
        elements=st.floats(-max_magnitude, max_magnitude, allow_subnormal=False),
        fill=st.nothing(),
    )

"""Strategies for the PSD chapter: spectra, PSD matrices, orthonormal frames, means."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from properties.strategies._args import (
    Size,
    StrategyArgumentError,
    check_pinned_count,
    checked_int,
    finite_number,
    size_strategy,
)

__all__ = [
    "PSDMatrix",
    "mean_vectors",
    "orthogonal_matrices",
    "orthonormal_frames",
    "psd_from_spectrum",
    "psd_matrices",
    "spectra",
]


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


#: default matrix sizes: small enough that every property stays fast, large enough for
#: ties, rank deficiency and 2-D rotations to be common
_MATRIX_SIZES: SearchStrategy[int] = st.integers(1, 6)


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


@functools.cache
def _frames(m: int, k: int) -> SearchStrategy[np.ndarray]:
    """(m, k) frames from the Householder product of a drawn (m, k) matrix (cached)."""
    vectors = hnp.arrays(
        np.float64, (m, k), elements=st.floats(-1.0, 1.0, allow_subnormal=False), fill=st.nothing()
    )
    return vectors.map(lambda v: _householder_product(v)[:, :k].copy())


def orthonormal_frames(
    *, m: Size = _MATRIX_SIZES, k: Size | None = None
) -> SearchStrategy[np.ndarray]:
    """Frames Phi (m, k) with Phi^T Phi = I_k (the Stiefel manifold), up to ``m * eps``.

    ``m >= 1``; ``1 <= k <= m``, drawn in [1, m] when None. Built as the first k columns
    of a product of k Householder reflections whose vectors are the columns of a drawn
    (m, k) matrix: Householder QR shows every frame is of that form, so the whole
    manifold is reachable. Shrinks towards ``I[:, :k]``.

    >>> phi = orthonormal_frames(m=4, k=2).example()
    >>> phi.shape, bool(np.allclose(phi.T @ phi, np.eye(2)))
    ((4, 2), True)
    """
    sizes = size_strategy("m", m, 1)
    check_pinned_count("k", k, 1, m)
    return _orthonormal_frames(sizes, k if k is None else size_strategy("k", k, 1))


@st.composite
def _orthonormal_frames(
    draw: st.DrawFn, sizes: SearchStrategy[int], columns: SearchStrategy[int] | None
) -> np.ndarray:
    m = draw(sizes, label="m")
    k = draw(st.integers(1, m) if columns is None else columns, label="k")
    return draw(_frames(m, checked_int("k", 1, m, k)), label="Phi")


def orthogonal_matrices(*, m: Size = _MATRIX_SIZES) -> SearchStrategy[np.ndarray]:
    """Orthogonal (m, m) matrices: products of Householder reflections of drawn vectors.

    Orthonormal to about ``m * eps``. Shrinks towards the identity.

    >>> orthogonal_matrices(m=3).example().shape
    (3, 3)
    """
    return size_strategy("m", m, 1).flatmap(lambda n: _frames(n, n))


class _SpectrumLimits(NamedTuple):
    """Validated scale and condition limits of ``spectra``."""

    low: int  # smallest decade of the scale
    high: int  # largest decade of the scale
    digits: float  # log10(max_condition)


def _spectrum_limits(max_condition: float, min_scale: float, max_scale: float) -> _SpectrumLimits:
    condition = finite_number("max_condition", max_condition, low=1.0, inclusive=True)
    low_scale = finite_number("min_scale", min_scale)
    high_scale = finite_number("max_scale", max_scale)
    if low_scale > high_scale:
        raise StrategyArgumentError(
            f"max_scale: expected >= min_scale = {min_scale!r}, got {max_scale!r}"
        )
    low, high = math.ceil(math.log10(low_scale)), math.floor(math.log10(high_scale))
    if low > high:
        raise StrategyArgumentError(
            f"min_scale, max_scale: no power of 10 in [{min_scale}, {max_scale}]"
        )
    return _SpectrumLimits(low, high, math.log10(condition))


def spectra(
    *,
    m: Size = _MATRIX_SIZES,
    rank: Size | None = None,
    max_condition: float = 1e12,
    min_scale: float = 1e-6,
    max_scale: float = 1e6,
) -> SearchStrategy[np.ndarray]:
    """Ascending spectra of m eigenvalues of a PSD matrix, drawn structure first.

    ``m >= 1``; ``rank`` (``0 <= rank <= m``, the number of nonzero eigenvalues; by
    default m minus a drawn number of exact zeros, shrinking to full rank); a scale
    ``s = 10**e`` in [min_scale, max_scale]; a pool of distinct levels ``s * 10**(-t)``
    with ``t`` in [0, log10(max_condition)]; every nonzero eigenvalue takes a level from
    the pool, so repeated eigenvalues are common and the condition number of the
    nonzero part is at most ``max_condition``. Rank 0 is the zero matrix. Shrinks
    towards the zero spectrum (the shortest draw), and when a property needs nonzero
    eigenvalues, towards eigenvalues equal to 1.

    >>> spectra(m=4, rank=2).example()[:2]
    array([0., 0.])
    """
    sizes = size_strategy("m", m, 1)
    check_pinned_count("rank", rank, 0, m)
    limits = _spectrum_limits(max_condition, min_scale, max_scale)
    return _spectra(sizes, rank if rank is None else size_strategy("rank", rank, 0), limits)


@st.composite
def _spectra(
    draw: st.DrawFn,
    sizes: SearchStrategy[int],
    ranks: SearchStrategy[int] | None,
    limits: _SpectrumLimits,
) -> np.ndarray:
    m = draw(sizes, label="m")
    if ranks is None:
        rank = m - draw(st.integers(0, m), label="number of zero eigenvalues")
    else:
        rank = checked_int("rank", 0, m, draw(ranks, label="rank"))
    if rank == 0:
        return np.zeros(m)
    scale = 10.0 ** draw(st.integers(limits.low, limits.high), label="scale exponent")
    n_levels = draw(st.integers(1, rank), label="distinct nonzero eigenvalues")
    levels = draw(
        st.lists(st.floats(0.0, limits.digits), min_size=n_levels, max_size=n_levels, unique=True),
        label="levels (decades below scale)",
    )
    picks = draw(
        st.lists(st.integers(0, n_levels - 1), min_size=rank, max_size=rank),
        label="level of each nonzero eigenvalue",
    )
    nonzero = scale * 10.0 ** (-np.asarray(levels)[np.asarray(picks)])
    return np.concatenate([np.zeros(m - rank), np.sort(nonzero)])


def psd_from_spectrum(eigenvalues: np.ndarray) -> SearchStrategy[PSDMatrix]:
    """PSD matrices ``U diag(eigenvalues) U^T`` with a drawn orthogonal U (Householder).

    ``eigenvalues`` must be finite, >= 0 and ascending (as ``spectra`` draws them).
    sigma is symmetrised, ``(S + S^T) / 2``, so it is exactly symmetric.

    >>> psd_from_spectrum(np.array([0.0, 1.0, 1.0])).example().rank
    2
    """
    d = np.asarray(eigenvalues, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise StrategyArgumentError(
            f"eigenvalues: expected a non-empty 1-d array, got shape {d.shape}"
        )
    if not (np.all(np.isfinite(d)) and np.all(d >= 0.0) and np.all(np.diff(d) >= 0.0)):
        raise StrategyArgumentError(f"eigenvalues: expected finite, >= 0 and ascending, got {d}")
    return _frames(d.size, d.size).map(lambda U: _psd(d.copy(), U))


def _psd(d: np.ndarray, U: np.ndarray) -> PSDMatrix:
    S = (U * d) @ U.T
    return PSDMatrix((S + S.T) / 2.0, d, U, int(np.count_nonzero(d)))


def psd_matrices(
    *,
    m: Size = _MATRIX_SIZES,
    rank: Size | None = None,
    max_condition: float = 1e12,
    min_scale: float = 1e-6,
    max_scale: float = 1e6,
) -> SearchStrategy[PSDMatrix]:
    """Symmetric PSD matrices by construction: size, then spectrum, then eigenbasis.

    Size ``m >= 1``; the spectrum from ``spectra`` with the same ``rank``,
    ``max_condition``, ``min_scale`` and ``max_scale`` (exact zeros, so singular and
    rank-deficient matrices, repeated eigenvalues, condition numbers up to
    ``max_condition``, the zero matrix); the basis from ``orthogonal_matrices``. Never
    ``assume``: every draw is a valid PSD matrix. Shrinks towards the 1 x 1 zero matrix;
    when a property needs a nonzero eigenvalue, towards the identity, then diagonal
    matrices.

    >>> psd = psd_matrices(m=3, rank=1).example()
    >>> psd.sigma.shape, psd.rank, bool(np.array_equal(psd.sigma, psd.sigma.T))
    ((3, 3), 1, True)
    """
    eigenvalues = spectra(
        m=m, rank=rank, max_condition=max_condition, min_scale=min_scale, max_scale=max_scale
    )
    return eigenvalues.flatmap(psd_from_spectrum)


def mean_vectors(
    *, m: Size = _MATRIX_SIZES, max_magnitude: float = 1e3
) -> SearchStrategy[np.ndarray]:
    """Finite mean vectors mu of shape (m,) with entries in [-max_magnitude, max_magnitude].

    >>> mean_vectors(m=2).example().shape
    (2,)
    """
    bound = finite_number("max_magnitude", max_magnitude, inclusive=True)
    elements = st.floats(-bound, bound, allow_subnormal=False)
    return size_strategy("m", m, 1).flatmap(
        lambda n: hnp.arrays(np.float64, (n,), elements=elements, fill=st.nothing())
    )

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

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# --- Convolution -------------------------------------------------------------------


# --- Batch normalisation -----------------------------------------------------------


# --- Softmax and cross-entropy -----------------------------------------------------

#: the contract's bound on logits sent to audited implementations (CONTRACT.md)
CONTRACT_MAX_LOGIT: float = 1e4
#: the largest finite float64, for reference-only properties ("every finite logit")
FLOAT64_MAX: float = float(np.finfo(np.float64).max)


def _check_softmax_sizes(max_n: int, max_batch_dims: int, max_batch: int) -> None:
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n: expected an int >= 1, got {max_n!r}")
    if isinstance(max_batch_dims, bool) or not isinstance(max_batch_dims, int):
        raise ValueError(f"max_batch_dims: expected an int >= 0, got {max_batch_dims!r}")
    if max_batch_dims < 0:
        raise ValueError(f"max_batch_dims: expected an int >= 0, got {max_batch_dims!r}")
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise ValueError(f"max_batch: expected an int >= 1, got {max_batch!r}")


def softmax_shapes(
    *, min_n: int = 1, max_n: int = 8, max_batch_dims: int = 2, max_batch: int = 3
) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes ``(*batch, N)``: up to ``max_batch_dims`` batch axes of 1..``max_batch``.

    >>> softmax_shapes(max_n=4).example()  # doctest: +SKIP
    (2, 4)
    """
    _check_softmax_sizes(max_n, max_batch_dims, max_batch)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or not 1 <= min_n <= max_n:
        raise ValueError(f"min_n: expected an int in [1, max_n={max_n}], got {min_n!r}")
    return st.tuples(
        hnp.array_shapes(min_dims=0, max_dims=max_batch_dims, min_side=1, max_side=max_batch),
        st.integers(min_n, max_n),
    ).map(lambda parts: (*parts[0], parts[1]))


def logits(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    *,
    max_magnitude: float = CONTRACT_MAX_LOGIT,
) -> st.SearchStrategy[np.ndarray]:
    """Finite float64 logits with a controlled spread, ``|z| <= max_magnitude``.

    Structure first: a *centre* c and a *spread* 2 * 10**k (k uniform in exponent,
    from 1e-12, nearly equal logits, to 2 * max_magnitude, gaps far beyond the 745 where exp
    underflows), then unit values v in [-1, 1] per entry, and z = c + spread * v, clipped
    to the range. Or, in one draw out of four, raw floats from the whole range (Hypothesis
    favours boundary values: 0, subnormals, +-max_magnitude). Shrinks toward
    z = 0 with spread 1. ``max_magnitude`` defaults to the contract's 1e4 (what audits
    may send); pass ``FLOAT64_MAX`` for reference-only properties about every finite logit.

    >>> logits((2, 3)).example()  # doctest: +SKIP
    array([[ 0.5, 0.5, -812.25], [0., 0., 0.]])
    """
    if not (isinstance(max_magnitude, int | float) and 0 < max_magnitude <= FLOAT64_MAX):
        raise ValueError(f"max_magnitude: expected a float in (0, 1.8e308], got {max_magnitude}")
    _check_shape_argument(shape)
    return _logits(softmax_shapes() if shape is None else shape, float(max_magnitude))


def _check_shape_argument(shape: object) -> None:
    if shape is None or isinstance(shape, st.SearchStrategy):
        return
    if (
        not isinstance(shape, tuple)
        or not shape
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
    ):
        raise ValueError(f"shape: expected a non-empty tuple of ints >= 1, got {shape!r}")


@st.composite
def _logits(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    bound: float,
) -> np.ndarray:
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape, label="shape")
    if draw(st.integers(0, 3), label="mode (3 = raw floats)") == 3:
        elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        return draw(hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()), label="z")
    half = bound / 2  # work in halves: c/2 + spread/2 * v cannot overflow near 1.8e308
    centre = draw(st.floats(-half, half), label="centre/2")
    top = min(float(np.log10(bound)), 308.0)  # 10**308.25 would round past FLOAT64_MAX
    half_spread = 10.0 ** draw(st.floats(-12.0, top), label="log10 (spread/2)")
    unit = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0), fill=st.nothing()),
        label="unit values",
    )
    return np.clip(centre + half_spread * unit, -half, half) * 2.0


class LabelledLogits(NamedTuple):
    """Labels ``y`` on the simplex and logits ``z`` of the same shape ``(*batch, N)``."""

    y: np.ndarray
    z: np.ndarray
    kind: str  # how y was built: "one-hot", "soft", "smoothed"


LABEL_KINDS: tuple[str, ...] = ("one-hot", "soft", "smoothed")


def simplex_labels(
    shape: tuple[int, ...], kind: str | None = None
) -> st.SearchStrategy[np.ndarray]:
    """Label vectors along the last axis of ``shape``: ``y >= 0``, summing to 1 up to rounding.

    ``kind`` (drawn when None): ``"one-hot"`` (exact 0 and 1), ``"soft"`` (weights from
    [0, 1] with exact zeros mixed in and one entry per row raised by 1 so the row is
    never all zero, divided by their sum), ``"smoothed"`` (``(1 - alpha) onehot +
    alpha / N``, alpha in [0, 1]). By construction the rows sum to 1 within
    ``reference.softmax.simplex_tolerance(N) = N EPS`` (the normalisation's rounding).

    >>> simplex_labels((3,), kind="soft").example()  # doctest: +SKIP
    array([0.25, 0. , 0.75])
    """
    if shape is None or isinstance(shape, st.SearchStrategy):
        raise ValueError(f"shape: expected a non-empty tuple of ints >= 1, got {shape!r}")
    _check_shape_argument(shape)
    if kind is not None and kind not in LABEL_KINDS:
        raise ValueError(f"kind: expected one of {LABEL_KINDS} or None, got {kind!r}")
    return _simplex_labels(shape, kind)


@st.composite
def _simplex_labels(draw: st.DrawFn, shape: tuple[int, ...], kind: str | None) -> np.ndarray:
    if kind is None:
        kind = draw(st.sampled_from(LABEL_KINDS), label="label kind")
    *batch, n = shape
    hot = draw(
        hnp.arrays(np.int64, tuple(batch), elements=st.integers(0, n - 1), fill=st.nothing()),
        label="hot index",
    )
    onehot = np.eye(n)[hot]
    if kind == "one-hot":
        return onehot
    if kind == "smoothed":
        alpha = draw(st.floats(0.0, 1.0), label="alpha")
        return (1.0 - alpha) * onehot + alpha / n
    weights = draw(
        hnp.arrays(
            np.float64, shape, elements=st.just(0.0) | st.floats(0.0, 1.0), fill=st.nothing()
        ),
        label="weights",
    )
    weights = weights + onehot  # the hot entry is >= 1: no row sums to 0
    return weights / weights.sum(axis=-1, keepdims=True)


def labelled_logits(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    *,
    kind: str | None = None,
    max_magnitude: float = CONTRACT_MAX_LOGIT,
) -> st.SearchStrategy[LabelledLogits]:
    """``(y, z, kind)`` for the cross-entropy: ``simplex_labels`` and ``logits`` of one shape.

    >>> labelled_logits((2,), kind="one-hot").example()  # doctest: +SKIP
    LabelledLogits(y=array([0., 1.]), z=array([ 800., -3.]), kind='one-hot')
    """
    if kind is not None and kind not in LABEL_KINDS:
        raise ValueError(f"kind: expected one of {LABEL_KINDS} or None, got {kind!r}")
    logits(shape, max_magnitude=max_magnitude)  # validates shape and max_magnitude
    return _labelled_logits(softmax_shapes() if shape is None else shape, kind, max_magnitude)


@st.composite
def _labelled_logits(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    kind: str | None,
    max_magnitude: float,
) -> LabelledLogits:
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape, label="shape")
    if kind is None:
        kind = draw(st.sampled_from(LABEL_KINDS), label="label kind")
    z = draw(logits(shape, max_magnitude=max_magnitude), label="z")
    y = draw(simplex_labels(shape, kind), label="y")
    return LabelledLogits(y, z, kind)


# --- Symmetric positive semi-definite matrices and orthonormal frames -------------

"""Strategies for the softmax and cross-entropy chapter: logits and simplex labels."""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from properties.strategies._args import Size, StrategyArgumentError, finite_number, size_strategy
from reference.contract import record

__all__ = [
    "CONTRACT_MAX_LOGIT",
    "FLOAT64_MAX",
    "LABEL_KINDS",
    "SUBNORMAL_GAPS",
    "LabelledLogits",
    "labelled_logits",
    "logits",
    "probe_directions",
    "simplex_labels",
    "softmax_shapes",
]


# --- Softmax and cross-entropy -----------------------------------------------------

#: the contract's bound on logits sent to audited implementations (its record's limit)
CONTRACT_MAX_LOGIT: float = record("softmax").limits["max_abs_logit"]
#: the largest finite float64, for reference-only properties ("every finite logit")
FLOAT64_MAX: float = float(np.finfo(np.float64).max)

#: how ``simplex_labels`` builds a label vector (see there)
LABEL_KINDS: tuple[str, ...] = ("one-hot", "soft", "smoothed")

Shape: TypeAlias = int | tuple[int, ...] | SearchStrategy[tuple[int, ...]]


#: the gaps |z_i - max z| where exp underflows into the subnormal range: exp(-708.4) is the
#: smallest normal float64 (2**-1022), exp(-745.1) the smallest subnormal (2**-1074)
SUBNORMAL_GAPS: tuple[float, float] = (708.4, 745.1)


@st.composite
def _classes(draw: st.DrawFn) -> int:
    """N in [1, 8], with N = 1 (S = [1], every check trivial) at a small share.

    Hypothesis draws the low end of a range often (half of the draws gave N = 1); a
    drawn N = 1 is kept only when a second draw confirms it (about one time in four), so
    the share falls to about 10% while N = 1 stays the shrink target.
    """
    n = draw(st.integers(1, 8), label="N")
    if n == 1 and draw(st.integers(0, 3), label="keep N = 1 (0)") != 0:
        n = draw(st.integers(2, 8), label="N >= 2")
    return n


def softmax_shapes(
    *,
    n: Size | None = None,
    batch_dims: Size = st.integers(0, 2),
    batch_size: Size = st.integers(1, 3),
) -> SearchStrategy[tuple[int, ...]]:
    """Shapes ``(*batch, N)`` for softmax and cross-entropy inputs.

    ``batch_dims`` batch axes (>= 0) of ``batch_size`` (>= 1) each, then N = ``n`` (>= 1)
    classes; by default N in [1, 8] with N = 1 in about one draw in ten (``_classes``).
    Shrinks towards ``(1,)``.

    >>> softmax_shapes(n=4, batch_dims=1, batch_size=2).example()
    (2, 4)
    """
    return _softmax_shapes(
        _classes() if n is None else size_strategy("n", n, 1),
        size_strategy("batch_dims", batch_dims, 0),
        size_strategy("batch_size", batch_size, 1),
    )


@st.composite
def _softmax_shapes(
    draw: st.DrawFn,
    n: SearchStrategy[int],
    batch_dims: SearchStrategy[int],
    batch_size: SearchStrategy[int],
) -> tuple[int, ...]:
    dims = draw(batch_dims, label="batch axes")
    batch = tuple(draw(batch_size, label=f"batch axis {i}") for i in range(dims))
    return (*batch, draw(n, label="N"))


def _checked_shape(value: object) -> tuple[int, ...]:
    """A shape as a non-empty tuple of ints >= 1 (an int n means ``(n,)``), or ValueError."""
    shape = (value,) if isinstance(value, int | np.integer) else value
    if (
        not isinstance(shape, tuple)
        or not shape
        or not all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in shape)
        or min(shape) < 1
    ):
        raise StrategyArgumentError(
            f"shape: expected an int or a non-empty tuple of ints >= 1, got {value!r}"
        )
    return tuple(int(n) for n in shape)


def _shapes(shape: Shape | None) -> SearchStrategy[tuple[int, ...]]:
    """``shape`` as a strategy: None draws ``softmax_shapes()``; a fixed shape is pinned."""
    if shape is None:
        return softmax_shapes()
    if isinstance(shape, SearchStrategy):
        return shape.map(_checked_shape)
    return st.just(_checked_shape(shape))


def _checked_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in LABEL_KINDS:
        raise StrategyArgumentError(f"kind: expected one of {LABEL_KINDS} or None, got {kind!r}")
    return kind


def logits(
    shape: Shape | None = None, *, max_magnitude: float = CONTRACT_MAX_LOGIT
) -> SearchStrategy[np.ndarray]:
    """Finite float64 logits of ``shape`` with a controlled spread, ``|z| <= max_magnitude``.

    ``shape``: an int N (one vector), a tuple ``(*batch, N)``, a strategy of those, or
    None (``softmax_shapes()``). Structure first: a *centre* c and a *spread*
    2 * 10**k (k uniform in exponent, from 1e-12, nearly equal logits, to
    2 * max_magnitude, gaps far beyond the 745 where exp underflows), then unit values
    v in [-1, 1] per entry, and z = c + spread * v, clipped to the range. The last draw
    picks the mode: structured (3 in 5), raw floats from the whole range (Hypothesis
    favours boundary values: 0, subnormals, +-max_magnitude), or the *subnormal edge*:
    the entry with the largest v at c, every other at a gap in ``SUBNORMAL_GAPS`` (its
    probability between 5e-324 and 2.2e-308, where flush-to-zero and gradual underflow
    differ). Shrinks toward z = 0 with spread 1. ``max_magnitude``
    defaults to the contract's 1e4 (what audits may send); pass ``FLOAT64_MAX`` for
    properties about every finite logit.

    >>> z = logits((2, 3), max_magnitude=10.0).example()
    >>> z.shape, bool(np.all(np.abs(z) <= 10.0))
    ((2, 3), True)
    """
    bound = finite_number("max_magnitude", max_magnitude)
    return _logits(_shapes(shape), bound)


@st.composite
def _logits(draw: st.DrawFn, shapes: SearchStrategy[tuple[int, ...]], bound: float) -> np.ndarray:
    """Structured logits, or raw floats when the last draw says so.

    The structured values are always drawn first and the mode last: the shrinker then
    reaches the structured mode by shortening the tail, where a mode drawn first would
    make it reinterpret every later draw (it got stuck at raw draws like [397., 0.41]).
    """
    shape = draw(shapes, label="shape")
    half = bound / 2  # work in halves: c/2 + spread/2 * v cannot overflow near 1.8e308
    centre = draw(st.floats(-half, half), label="centre/2")
    top = min(float(np.log10(bound)), 308.0)  # 10**308.25 would round past FLOAT64_MAX
    half_spread = 10.0 ** draw(st.floats(-12.0, top), label="log10 (spread/2)")
    unit = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0), fill=st.nothing()),
        label="unit values",
    )
    mode = draw(st.integers(0, 4), label="mode (3 = raw floats, 4 = subnormal edge)")
    if mode == 3:
        elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        return draw(hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()), label="z")
    if mode == 4:
        low, high = SUBNORMAL_GAPS
        gaps = low + (high - low) * (1.0 - unit) / 2
        top = unit == unit.max(axis=-1, keepdims=True)
        return np.clip(centre * 2.0 - np.where(top, 0.0, gaps), -bound, bound)
    return np.clip(centre + half_spread * unit, -half, half) * 2.0


def simplex_labels(
    shape: Shape | None = None, *, kind: str | None = None
) -> SearchStrategy[np.ndarray]:
    """Label vectors along the last axis of ``shape``: ``y >= 0``, each summing to 1.

    ``shape`` as for ``logits`` (None draws ``softmax_shapes()``). ``kind`` (drawn when
    None): ``"one-hot"`` (exact 0 and 1), ``"soft"`` (weights from [0, 1] with exact
    zeros mixed in and one entry per row raised by 1 so the row is never all zero,
    divided by their sum), ``"smoothed"``
    (``(1 - alpha) onehot + alpha / N``, alpha in [0, 1]). By construction the rows sum
    to 1 within ``N EPS`` (the normalisation's rounding). Shrinks towards one-hot on the
    first class.

    >>> simplex_labels().example().ndim >= 1
    True
    >>> y = simplex_labels((2, 3), kind="soft").example()
    >>> y.shape, bool(np.all(y >= 0)), bool(np.allclose(y.sum(axis=-1), 1.0))
    ((2, 3), True, True)
    """
    return _simplex_labels(_shapes(shape), _checked_kind(kind))


@st.composite
def _simplex_labels(
    draw: st.DrawFn, shapes: SearchStrategy[tuple[int, ...]], kind: str | None
) -> np.ndarray:
    shape = draw(shapes, label="shape")
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


class LabelledLogits(NamedTuple):
    """Labels ``y`` on the simplex and logits ``z`` of the same shape ``(*batch, N)``.

    Its ``repr`` prints both in full with the key facts of each row: the label kind, the
    largest logit, the widest gap ``max z - min z`` (beyond 708 a probability is
    subnormal, beyond 745 it is 0 in float64) and the class the labels weigh most.
    """

    y: np.ndarray
    z: np.ndarray
    kind: str  # how y was built: "one-hot", "soft", "smoothed"

    def __repr__(self) -> str:
        with np.printoptions(precision=17, floatmode="unique", threshold=200, linewidth=100):
            facts = (
                f"{self.kind} labels, shape {self.z.shape}; per row: max z "
                f"{np.max(self.z, axis=-1).tolist()}, widest gap "
                f"{np.ptp(self.z, axis=-1).tolist()}, heaviest class "
                f"{np.argmax(self.y, axis=-1).tolist()}"
            )
            body = f"y={self.y!r},\n  z={self.z!r},\n  kind={self.kind!r}"
            return f"LabelledLogits(\n  {body})  # {facts}"


def labelled_logits(
    shape: Shape | None = None,
    *,
    kind: str | None = None,
    max_magnitude: float = CONTRACT_MAX_LOGIT,
) -> SearchStrategy[LabelledLogits]:
    """``(y, z, kind)`` for the cross-entropy: ``simplex_labels`` and ``logits`` of one shape.

    >>> pair = labelled_logits(3, kind="one-hot").example()
    >>> pair.y.shape == pair.z.shape == (3,), float(pair.y.sum()), pair.kind
    (True, 1.0, 'one-hot')
    """
    bound = finite_number("max_magnitude", max_magnitude)
    return _labelled_logits(_shapes(shape), _checked_kind(kind), bound)


@st.composite
def _labelled_logits(
    draw: st.DrawFn, shapes: SearchStrategy[tuple[int, ...]], kind: str | None, bound: float
) -> LabelledLogits:
    shape = draw(shapes, label="shape")
    if kind is None:
        kind = draw(st.sampled_from(LABEL_KINDS), label="label kind")
    z = draw(_logits(st.just(shape), bound), label="z")
    y = draw(_simplex_labels(st.just(shape), kind), label="y")
    return LabelledLogits(y, z, kind)


def probe_directions(z: np.ndarray) -> SearchStrategy[np.ndarray]:
    """Directions ``v`` of ``z``'s shape, ``|v|_inf <= 1``, never constant along a row.

    A direction constant along a row lies in the null space of the softmax Jacobian
    (``J 1 = 0``) and of ``<grad L, .>`` restricted to it: a probe that cannot detect
    anything. By construction the entry at each row's largest logit (its most probable
    class) is set to 1, or to -1 when every other entry is already 1: it differs from
    some other entry whenever ``N >= 2``. So ``<v, J v> = sum_rows Var_S(v) > 0`` wherever
    two classes have positive probability. Shrinks towards ``v = e_argmax``.

    >>> v = probe_directions(np.array([0.0, 2.0, 1.0])).example()
    >>> bool(np.ptp(v) > 0) and bool(np.all(np.abs(v) <= 1))
    True
    """
    z = np.asarray(z, dtype=np.float64)
    return hnp.arrays(np.float64, z.shape, elements=st.floats(-1.0, 1.0), fill=st.nothing()).map(
        lambda w: _off_ones(w, z)
    )


def _off_ones(w: np.ndarray, z: np.ndarray) -> np.ndarray:
    if z.shape[-1] == 1:
        return w
    top = np.argmax(z, axis=-1)[..., None]
    others_all_one = (
        np.sum(w == 1.0, axis=-1, keepdims=True) - (np.take_along_axis(w, top, -1) == 1.0)
    ) == z.shape[-1] - 1
    v = w.copy()
    np.put_along_axis(v, top, np.where(others_all_one, -1.0, 1.0), axis=-1)
    return v


def note_logit_regions(z: np.ndarray) -> None:
    """Record with ``hypothesis.event`` which regions of the logit space a test reached.

    N = 1 (trivial), probabilities in the subnormal range (a gap in ``SUBNORMAL_GAPS``),
    probabilities that are 0 in float64 (a gap beyond 745.1), and the size of the logits
    (the normwise bounds grow with ``||z||``). ``--hypothesis-show-statistics`` shows the
    shares; call it from a test body. Not a strategy, so not in ``__all__``: import it from
    ``properties.strategies.softmax``.
    """
    z = np.asarray(z, dtype=np.float64)
    event(f"N = {z.shape[-1]}" if z.shape[-1] <= 2 else "N >= 3")
    with np.errstate(over="ignore"):
        gaps = z.max(axis=-1, keepdims=True) - z
    low, high = SUBNORMAL_GAPS
    if ((gaps >= low) & (gaps <= high)).any():
        event("a probability in the subnormal range")
    if (gaps > high).any():
        event("a probability that is 0 in float64")
    magnitude = float(np.abs(z).max())
    event(
        "||z|| <= 1"
        if magnitude <= 1
        else "||z|| in (1, 1000]"
        if magnitude <= 1e3
        else "||z|| > 1000"
    )

"""Public, reusable Hypothesis strategies for the mathematics of deep learning.

One import path: ``from properties.strategies import psd_matrices, ...`` (``__all__``
lists the public names). Every strategy:

* takes keyword arguments for its sizes and structure, each an ``int`` (pinned) or a
  strategy of ints (drawn), e.g. ``psd_matrices(m=st.integers(2, 5), rank=1)``;
* validates its arguments eagerly and raises ``ValueError`` naming the argument before
  anything is drawn (a size given as a strategy is checked as each value is drawn);
* draws structure first (sizes, ranks, spectra, spreads) and values second, so a
  failure shrinks to a small, readable case: a 1 x 1 identity, a one-feature batch,
  small integers;
* builds values by construction, or with ``hypothesis.extra.numpy.arrays`` and
  ``fill=st.nothing()`` (every entry drawn, not one repeated fill value); nothing
  filters with ``assume``;
* returns a NamedTuple when a draw has several parts, so users read them by name.

Sections: convolution; batch normalisation; softmax and cross-entropy; symmetric
positive semi-definite matrices and orthonormal frames.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple, TypeAlias

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

__all__ = [
    "BATCHNORM_DEFAULT_EPS",
    "CONTRACT_MAX_LOGIT",
    "CONV_VALUES",
    "FEATURE_KINDS",
    "FLOAT64_MAX",
    "LABEL_KINDS",
    "Batch",
    "ConvArrays",
    "ConvConfig",
    "LabelledLogits",
    "PSDMatrix",
    "Size",
    "batches",
    "conv2d_arrays",
    "conv2d_configs",
    "empty_conv2d_configs",
    "feature_shifts",
    "labelled_logits",
    "logits",
    "mean_vectors",
    "orthogonal_matrices",
    "orthonormal_frames",
    "psd_from_spectrum",
    "psd_matrices",
    "simplex_labels",
    "softmax_shapes",
    "spectra",
]

#: A size or structural count: an int pins it, a strategy of ints draws it.
Size: TypeAlias = int | SearchStrategy[int]


# --- Arguments -----------------------------------------------------------------------


def _checked_int(name: str, low: int, high: int | None, value: object) -> int:
    """``value`` as an int in [low, high] (no upper bound if None), or ValueError naming it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name}: expected an int {bound}, got {value!r}")
    return int(value)


def _sizes(name: str, value: Size, low: int, high: int | None = None) -> SearchStrategy[int]:
    """A size argument as a strategy of ints in [low, high].

    An int is validated now and pinned with ``st.just``; a strategy is used as given,
    each drawn value checked as it is drawn.
    """
    if isinstance(value, SearchStrategy):
        return value.map(functools.partial(_checked_int, name, low, high))
    return st.just(_checked_int(name, low, high, value))


def _check_pinned_count(name: str, value: Size | None, low: int, m: Size) -> None:
    """Eagerly check ``low <= value <= m`` when both are pinned ints (else at draw time)."""
    if isinstance(m, int) and value is not None and not isinstance(value, SearchStrategy):
        _checked_int(name, low, m, value)


def _finite_number(name: str, value: object, *, low: float = 0.0, inclusive: bool = False) -> float:
    """A finite real > low (>= low if ``inclusive``), or ValueError naming the argument."""
    if isinstance(value, int | float | np.floating) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and (number >= low if inclusive else number > low):
            return number
    relation = ">=" if inclusive else ">"
    raise ValueError(f"{name}: expected a finite number {relation} {low}, got {value!r}")


# --- Convolution -------------------------------------------------------------------


class ConvConfig(NamedTuple):
    """A Conv2D configuration and the output size the theorem predicts for it.

    ``W_out``/``H_out`` are ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` per axis; for
    configurations drawn by ``empty_conv2d_configs`` at least one of them is < 1.
    """

    B: int
    W: int
    H: int
    C_in: int
    C_out: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    W_out: int
    H_out: int

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """``(B, W, H, C_in)``."""
        return (self.B, self.W, self.H, self.C_in)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """``(k1, k2, C_in, C_out)``."""
        return (*self.kernel_size, self.C_in, self.C_out)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        """``(B, W_out, H_out, C_out)``."""
        return (self.B, self.W_out, self.H_out, self.C_out)

    @property
    def K(self) -> int:
        """Products summed per output entry: ``k1 * k2 * C_in``."""
        return self.kernel_size[0] * self.kernel_size[1] * self.C_in

    def geometry(self) -> dict[str, tuple[int, int]]:
        """``stride``, ``padding``, ``dilation`` as keyword arguments for conv2d."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation}


def _conv_out(n: int, k: int, s: int, p: int, d: int) -> int:
    """The theorem's output size along one axis (< 1 means empty)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


class _Geometry(NamedTuple):
    """Validated size strategies shared by both configuration strategies."""

    batch: SearchStrategy[int]
    in_channels: SearchStrategy[int]
    out_channels: SearchStrategy[int]
    kernel: SearchStrategy[int]
    stride: SearchStrategy[int]
    padding: SearchStrategy[int]
    dilation: SearchStrategy[int]
    slack: SearchStrategy[int]


def _geometry(*sizes: Size, min_kernel: int) -> _Geometry:
    """Validate the size arguments of a configuration strategy, in ``_Geometry`` order."""
    lows = (1, 1, 1, min_kernel, 1, 0, 1, 0)  # the smallest valid value of each field
    fields = zip(_Geometry._fields, sizes, lows, strict=True)
    return _Geometry(*(_sizes(name, size, low) for name, size, low in fields))


#: padding and slack of the non-empty axis of ``empty_conv2d_configs``
_EMPTY_PADDING: SearchStrategy[int] = st.integers(0, 3)
_EMPTY_SLACK: SearchStrategy[int] = st.integers(0, 3)


@st.composite
def _axis(draw: st.DrawFn, axis: str, g: _Geometry) -> tuple[int, int, int, int, int]:
    """One axis of a valid configuration: (size, k, s, p, d) with a non-empty output.

    Geometry first, then the size: the smallest size with a non-empty output is
    ``max(1, d (k - 1) + 1 - 2p)``, and the size is that plus ``slack`` (so shrinking
    moves towards the tightest fit, where off-by-one mistakes show).
    """
    k = draw(g.kernel, label=f"k along {axis}")
    d = draw(g.dilation, label=f"d along {axis}")
    s = draw(g.stride, label=f"s along {axis}")
    p = draw(g.padding, label=f"p along {axis}")
    smallest = max(1, d * (k - 1) + 1 - 2 * p)
    return smallest + draw(g.slack, label=f"slack along {axis}"), k, s, p, d


@st.composite
def _empty_axis(draw: st.DrawFn, axis: str, g: _Geometry) -> tuple[int, int, int, int, int]:
    """One axis whose output is empty: the padded size is below the dilated kernel's span.

    With span ``d (k - 1) + 1 >= 2`` (so ``k >= 2``), padding ``p <= (span - 2) // 2``
    leaves room for a size ``1 <= n <= span - 2p - 1``, and every such n is empty.
    """
    k = draw(g.kernel, label=f"k along {axis}")
    d = draw(g.dilation, label=f"d along {axis}")
    s = draw(g.stride, label=f"s along {axis}")
    span = d * (k - 1) + 1
    p = draw(st.integers(0, (span - 2) // 2), label=f"p along {axis}")
    n = draw(st.integers(1, span - 2 * p - 1), label=f"size along {axis}")
    return n, k, s, p, d


@st.composite
def _config(draw: st.DrawFn, g: _Geometry, empty_along: SearchStrategy[str] | None) -> ConvConfig:
    """Channels and batch first, then each axis (empty ones where ``empty_along`` says)."""
    B = draw(g.batch, label="B")
    C_in = draw(g.in_channels, label="C_in")
    C_out = draw(g.out_channels, label="C_out")
    which = "" if empty_along is None else draw(empty_along, label="empty along")
    W, k1, s1, p1, d1 = draw(
        _empty_axis("W", g) if which in ("W", "both") else _axis("W", g), label="W axis"
    )
    H, k2, s2, p2, d2 = draw(
        _empty_axis("H", g) if which in ("H", "both") else _axis("H", g), label="H axis"
    )
    return ConvConfig(
        B, W, H, C_in, C_out, (k1, k2), (s1, s2), (p1, p2), (d1, d2),
        _conv_out(W, k1, s1, p1, d1), _conv_out(H, k2, s2, p2, d2),
    )  # fmt: skip


def conv2d_configs(
    *,
    batch: Size = st.integers(1, 2),
    in_channels: Size = st.integers(1, 3),
    out_channels: Size = st.integers(1, 3),
    kernel: Size = st.integers(1, 3),
    stride: Size = st.integers(1, 3),
    padding: Size = st.integers(0, 3),
    dilation: Size = st.integers(1, 3),
    slack: Size = st.integers(0, 5),
) -> SearchStrategy[ConvConfig]:
    """Valid Conv2D configurations (non-empty output), built constructively.

    ``batch`` (B), ``in_channels``, ``out_channels`` >= 1 are drawn once; ``kernel``,
    ``stride``, ``dilation`` (>= 1) and ``padding`` (>= 0) are drawn independently for
    each axis, so W != H, k1 != k2, s1 != s2, p1 != p2, stride > kernel, padding >= kernel
    and dilation > 1 are all common; then each axis's size is the smallest with a
    non-empty output plus ``slack`` (>= 0). An int pins a quantity on both axes
    (``conv2d_configs(stride=1, padding=0)``); a strategy draws it. Shrinks towards
    B = C = k = s = d = 1, p = 0 and the tightest sizes.

    >>> c = conv2d_configs(kernel=3, dilation=2, padding=0).example()
    >>> c.kernel_size, c.dilation, c.W_out >= 1 and c.H_out >= 1
    ((3, 3), (2, 2), True)
    """
    sizes = (batch, in_channels, out_channels, kernel, stride, padding, dilation, slack)
    return _config(_geometry(*sizes, min_kernel=1), None)


def empty_conv2d_configs(
    *,
    batch: Size = st.integers(1, 2),
    in_channels: Size = st.integers(1, 3),
    out_channels: Size = st.integers(1, 3),
    kernel: Size = st.integers(2, 4),
    stride: Size = st.integers(1, 3),
    dilation: Size = st.integers(1, 3),
) -> SearchStrategy[ConvConfig]:
    """Configurations whose output is empty along W, H or both, built constructively.

    For every draw ``W_out < 1 or H_out < 1``, with every argument otherwise valid
    (sizes >= 1, kernel/stride/dilation >= 1, padding >= 0): these are the inputs for
    which ``conv2d_output_shape`` must raise. ``kernel >= 2`` (a 1-wide kernel always
    fits). An empty axis draws a padding and size too small for the dilated kernel; a
    non-empty one draws like ``conv2d_configs`` (padding 0-3, slack 0-3).

    >>> c = empty_conv2d_configs(batch=1).example()
    >>> c.B, c.W_out < 1 or c.H_out < 1
    (1, True)
    """
    sizes = (batch, in_channels, out_channels, kernel, stride, _EMPTY_PADDING, dilation)
    geometry = _geometry(*sizes, _EMPTY_SLACK, min_kernel=2)
    return _config(geometry, st.sampled_from(["W", "H", "both"]))


class ConvArrays(NamedTuple):
    """Inputs of ``conv2d`` for one configuration: ``x (B, W, H, C_in)``, ``w``, ``b``."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray


#: Default entries: finite float64 of either sign in [-1e3, 1e3], no subnormals (their
#: products underflow to 0 and would need an absolute error term in every tolerance).
CONV_VALUES: SearchStrategy[float] = st.floats(
    -1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False
)


def conv2d_arrays(
    config: ConvConfig, *, elements: SearchStrategy[float] = CONV_VALUES
) -> SearchStrategy[ConvArrays]:
    """Dense float64 ``x``, ``w``, ``b`` for ``config``; every entry drawn from ``elements``.

    Use ``conv2d_configs().flatmap(conv2d_arrays)`` for configurations with their arrays.

    >>> config = conv2d_configs(batch=1, kernel=2).example()
    >>> arrays = conv2d_arrays(config).example()
    >>> arrays.x.shape == config.input_shape and arrays.w.shape == config.weight_shape
    True
    """
    if not isinstance(config, ConvConfig):
        raise ValueError(f"config: expected a ConvConfig, got {type(config).__name__}")
    if not isinstance(elements, SearchStrategy):
        raise ValueError(f"elements: expected a strategy of floats, got {elements!r}")

    def array(shape: tuple[int, ...]) -> SearchStrategy[np.ndarray]:
        return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())

    return st.builds(
        ConvArrays, array(config.input_shape), array(config.weight_shape), array((config.C_out,))
    )


# --- Batch normalisation -----------------------------------------------------------

#: the contract's default eps for batch norm (``batchnorm_forward(x, gamma, beta)``)
BATCHNORM_DEFAULT_EPS = 1e-5

#: per-feature structure of a drawn batch: "spread" (sigma^2 >> eps possible), "nearly
#: constant" (sigma^2 between 1e-8 and 1e-2 times eps), "constant" (sigma^2 = 0 exactly)
FEATURE_KINDS: tuple[str, ...] = ("spread", "nearly constant", "constant")

#: eps when not given: None (call without eps: the contract default) or a value in
#: [1e-8, 1e-1]
_EPS_VALUES: SearchStrategy[float | None] = st.none() | st.floats(1e-8, 1e-1)


class Batch(NamedTuple):
    """One batch-norm problem: a batch, the parameters, an upstream gradient and eps."""

    x: np.ndarray  # (m, d)
    gamma: np.ndarray  # (d,)
    beta: np.ndarray  # (d,)
    dy: np.ndarray  # (m, d) upstream gradient dl/dy, drawn (never all-ones)
    eps: float | None  # None: call without eps, so the contract default 1e-5 applies

    @property
    def eps_value(self) -> float:
        """The eps in effect (the contract default when ``eps`` is None)."""
        return BATCHNORM_DEFAULT_EPS if self.eps is None else self.eps

    @property
    def eps_kwargs(self) -> dict[str, float]:
        """Keyword arguments that pass eps, or none at all to exercise the default."""
        return {} if self.eps is None else {"eps": self.eps}


def _exponents(low: float, high: float) -> SearchStrategy[float]:
    """Exponents in [low, high], with 0 and the extremes themselves drawn often.

    Rounding trouble lives at the corners (an offset of 1e3 on a spread of 1e-3), which
    uniform exponents would reach only rarely.
    """
    return st.sampled_from([0.0, float(low), float(high)]) | st.floats(low, high)


# Array strategies are cached per shape: building (and validating) a fresh
# ``hnp.arrays`` strategy on every draw costs more than the properties themselves.


@functools.cache
def _exponent_arrays(d: int, low: float, high: float) -> SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=_exponents(low, high), fill=st.nothing())


@functools.cache
def _uniform_arrays(d: int, low: float, high: float) -> SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=st.floats(low, high), fill=st.nothing())


@functools.cache
def _signed_magnitudes(d: int, low: int, high: int) -> SearchStrategy[np.ndarray]:
    """Arrays of +-10**e with e drawn in [low, high] (or exactly 0), one per feature."""
    signs = hnp.arrays(np.int8, d, elements=st.sampled_from([0, 1, -1]), fill=st.nothing())
    return st.tuples(_exponent_arrays(d, low, high), signs).map(lambda es: es[1] * 10.0 ** es[0])


@functools.cache
def _grid_values(shape: int | tuple[int, ...], steps: int) -> SearchStrategy[np.ndarray]:
    """Arrays of k / steps with integer k in [-steps, steps]: values in [-1, 1], 0 included.

    A grid rather than arbitrary floats keeps every nonzero magnitude >= 1 / steps, so
    no product in batch norm underflows into the subnormals (where relative rounding
    bounds fail); the properties are about the formulas, not about underflow.
    """
    ks = hnp.arrays(np.int64, shape, elements=st.integers(-steps, steps), fill=st.nothing())
    return ks.map(lambda k: k / steps)


@functools.cache
def _feature_kinds(d: int, kinds: tuple[str, ...]) -> SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(kinds), min_size=d, max_size=d)


def _eps_strategy(eps: object) -> SearchStrategy[float | None]:
    """``eps`` as a strategy: None or a finite number > 0 is pinned, a strategy is checked."""
    if isinstance(eps, SearchStrategy):
        return eps.map(lambda e: e if e is None else _finite_number("eps", e))
    return st.just(eps if eps is None else _finite_number("eps", eps))


def batches(
    *,
    m: Size = st.integers(1, 16),
    d: Size = st.integers(1, 4),
    eps: float | SearchStrategy[float | None] | None = _EPS_VALUES,
    kinds: Sequence[str] = FEATURE_KINDS,
) -> SearchStrategy[Batch]:
    """Batch-norm problems ``(x, gamma, beta, dy, eps)``, per-feature structure before values.

    ``m`` examples (>= 1) and ``d`` features (>= 1). For each feature: a kind from
    ``kinds`` (see ``FEATURE_KINDS``), a spread 10**e with e in [-3, 3], and an offset
    that is 0 or +-10**e with e in [-3, 3] (so up to 1e3 away from 0 with a spread down
    to 1e-3). Values are ``offset + spread * z`` with every z drawn on a grid of step
    1e-3 in [-1, 1]. ``gamma`` is drawn on a grid of step 1e-2 in [-10, 10] (0 and
    negatives included), ``beta`` is 0 or +-10**e with e in [-3, 3], and ``dy`` is drawn
    entry by entry on the same grid as gamma (never a constant: an all-ones dy makes the
    true dx identically 0). ``eps``: a number > 0, ``None`` (call without eps, so the
    contract default applies: ``Batch.eps_kwargs``), or a strategy of those; by default
    None or a value in [1e-8, 1e-1]. Shrinks towards a 1 x 1 batch, zero offsets, unit
    spreads and zeros.

    >>> batch = batches(m=4, d=2, eps=1e-3).example()
    >>> batch.x.shape, batch.gamma.shape, batch.dy.shape, batch.eps
    ((4, 2), (2,), (4, 2), 0.001)
    """
    if (
        isinstance(kinds, str)
        or not kinds
        or not all(isinstance(k, str) and k in FEATURE_KINDS for k in kinds)
    ):
        raise ValueError(
            f"kinds: expected a non-empty sequence from {FEATURE_KINDS}, got {kinds!r}"
        )
    return _batches(_sizes("m", m, 1), _sizes("d", d, 1), _eps_strategy(eps), tuple(kinds))


@st.composite
def _batches(
    draw: st.DrawFn,
    m_sizes: SearchStrategy[int],
    d_sizes: SearchStrategy[int],
    eps_values: SearchStrategy[float | None],
    kinds: tuple[str, ...],
) -> Batch:
    """Draw one batch (arguments validated by ``batches``)."""
    m = draw(m_sizes, label="m")
    d = draw(d_sizes, label="d")
    eps = draw(eps_values, label="eps")
    effective_eps = BATCHNORM_DEFAULT_EPS if eps is None else eps
    kind = np.array(draw(_feature_kinds(d, kinds), label="feature kinds"))
    spread_exp = draw(_exponent_arrays(d, -3, 3), label="log10 spread")
    below_eps_exp = draw(
        _uniform_arrays(d, -4, -1), label="log10 (spread / sqrt(eps)) of nearly constant features"
    )
    spread = np.select(
        [kind == "spread", kind == "nearly constant"],
        [10.0**spread_exp, math.sqrt(effective_eps) * 10.0**below_eps_exp],
        0.0,
    )
    offset = draw(_signed_magnitudes(d, -3, 3), label="offset")
    z = draw(_grid_values((m, d), 1000), label="z")
    x = offset + spread * z
    gamma = 10 * draw(_grid_values(d, 1000), label="gamma / 10")
    beta = draw(_signed_magnitudes(d, -3, 3), label="beta")
    dy = 10 * draw(_grid_values((m, d), 1000), label="dy / 10")
    return Batch(x, gamma, beta, dy, eps)


def feature_shifts(*, d: Size, max_abs: float = 1e3) -> SearchStrategy[np.ndarray]:
    """Per-feature constants c (shape (d,), |c_j| <= max_abs) to add to every row of x.

    >>> feature_shifts(d=3).example().shape
    (3,)
    """
    sizes = _sizes("d", d, 1)
    bound = _finite_number("max_abs", max_abs, inclusive=True)
    return sizes.flatmap(
        lambda n: hnp.arrays(
            np.float64,
            n,
            elements=st.floats(-bound, bound, allow_subnormal=False),
            fill=st.nothing(),
        )
    )


# --- Softmax and cross-entropy -----------------------------------------------------

#: the contract's bound on logits sent to audited implementations (CONTRACT.md)
CONTRACT_MAX_LOGIT: float = 1e4
#: the largest finite float64, for reference-only properties ("every finite logit")
FLOAT64_MAX: float = float(np.finfo(np.float64).max)

#: how ``simplex_labels`` builds a label vector (see there)
LABEL_KINDS: tuple[str, ...] = ("one-hot", "soft", "smoothed")

Shape: TypeAlias = int | tuple[int, ...] | SearchStrategy[tuple[int, ...]]


def softmax_shapes(
    *,
    n: Size = st.integers(1, 8),
    batch_dims: Size = st.integers(0, 2),
    batch_size: Size = st.integers(1, 3),
) -> SearchStrategy[tuple[int, ...]]:
    """Shapes ``(*batch, N)`` for softmax and cross-entropy inputs.

    ``batch_dims`` batch axes (>= 0) of ``batch_size`` (>= 1) each, then N = ``n`` (>= 1)
    classes. Shrinks towards ``(1,)``.

    >>> softmax_shapes(n=4, batch_dims=1, batch_size=2).example()
    (2, 4)
    """
    return _softmax_shapes(
        _sizes("n", n, 1), _sizes("batch_dims", batch_dims, 0), _sizes("batch_size", batch_size, 1)
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
        raise ValueError(f"shape: expected an int or a non-empty tuple of ints >= 1, got {value!r}")
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
        raise ValueError(f"kind: expected one of {LABEL_KINDS} or None, got {kind!r}")
    return kind


def logits(
    shape: Shape | None = None, *, max_magnitude: float = CONTRACT_MAX_LOGIT
) -> SearchStrategy[np.ndarray]:
    """Finite float64 logits of ``shape`` with a controlled spread, ``|z| <= max_magnitude``.

    ``shape``: an int N (one vector), a tuple ``(*batch, N)``, a strategy of those, or
    None (``softmax_shapes()``). Structure first: a *centre* c and a *spread*
    2 * 10**k (k uniform in exponent, from 1e-12, nearly equal logits, to
    2 * max_magnitude, gaps far beyond the 745 where exp underflows), then unit values
    v in [-1, 1] per entry, and z = c + spread * v, clipped to the range. Or, in one draw
    out of four, raw floats from the whole range (Hypothesis favours boundary values: 0,
    subnormals, +-max_magnitude). Shrinks toward z = 0 with spread 1. ``max_magnitude``
    defaults to the contract's 1e4 (what audits may send); pass ``FLOAT64_MAX`` for
    properties about every finite logit.

    >>> z = logits((2, 3), max_magnitude=10.0).example()
    >>> z.shape, bool(np.all(np.abs(z) <= 10.0))
    ((2, 3), True)
    """
    bound = _finite_number("max_magnitude", max_magnitude)
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
    if draw(st.integers(0, 3), label="mode (3 = raw floats)") == 3:
        elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        return draw(hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()), label="z")
    return np.clip(centre + half_spread * unit, -half, half) * 2.0


def simplex_labels(shape: Shape, *, kind: str | None = None) -> SearchStrategy[np.ndarray]:
    """Label vectors along the last axis of ``shape``: ``y >= 0``, each summing to 1.

    ``shape`` as for ``logits``. ``kind`` (drawn when None): ``"one-hot"`` (exact 0 and
    1), ``"soft"`` (weights from [0, 1] with exact zeros mixed in and one entry per row
    raised by 1 so the row is never all zero, divided by their sum), ``"smoothed"``
    (``(1 - alpha) onehot + alpha / N``, alpha in [0, 1]). By construction the rows sum
    to 1 within ``N EPS`` (the normalisation's rounding). Shrinks towards one-hot on the
    first class.

    >>> y = simplex_labels((2, 3), kind="soft").example()
    >>> y.shape, bool(np.all(y >= 0)), bool(np.allclose(y.sum(axis=-1), 1.0))
    ((2, 3), True, True)
    """
    if shape is None:
        raise ValueError("shape: expected an int, a tuple of ints >= 1 or a strategy, got None")
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
    """Labels ``y`` on the simplex and logits ``z`` of the same shape ``(*batch, N)``."""

    y: np.ndarray
    z: np.ndarray
    kind: str  # how y was built: "one-hot", "soft", "smoothed"


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
    bound = _finite_number("max_magnitude", max_magnitude)
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
    sizes = _sizes("m", m, 1)
    _check_pinned_count("k", k, 1, m)
    return _orthonormal_frames(sizes, k if k is None else _sizes("k", k, 1))


@st.composite
def _orthonormal_frames(
    draw: st.DrawFn, sizes: SearchStrategy[int], columns: SearchStrategy[int] | None
) -> np.ndarray:
    m = draw(sizes, label="m")
    k = draw(st.integers(1, m) if columns is None else columns, label="k")
    return draw(_frames(m, _checked_int("k", 1, m, k)), label="Phi")


def orthogonal_matrices(*, m: Size = _MATRIX_SIZES) -> SearchStrategy[np.ndarray]:
    """Orthogonal (m, m) matrices: products of Householder reflections of drawn vectors.

    Orthonormal to about ``m * eps``. Shrinks towards the identity.

    >>> orthogonal_matrices(m=3).example().shape
    (3, 3)
    """
    return _sizes("m", m, 1).flatmap(lambda n: _frames(n, n))


class _SpectrumLimits(NamedTuple):
    """Validated scale and condition limits of ``spectra``."""

    low: int  # smallest decade of the scale
    high: int  # largest decade of the scale
    digits: float  # log10(max_condition)


def _spectrum_limits(max_condition: float, min_scale: float, max_scale: float) -> _SpectrumLimits:
    condition = _finite_number("max_condition", max_condition, low=1.0, inclusive=True)
    low_scale = _finite_number("min_scale", min_scale)
    high_scale = _finite_number("max_scale", max_scale)
    if low_scale > high_scale:
        raise ValueError(f"max_scale: expected >= min_scale = {min_scale!r}, got {max_scale!r}")
    low, high = math.ceil(math.log10(low_scale)), math.floor(math.log10(high_scale))
    if low > high:
        raise ValueError(f"min_scale, max_scale: no power of 10 in [{min_scale}, {max_scale}]")
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
    sizes = _sizes("m", m, 1)
    _check_pinned_count("rank", rank, 0, m)
    limits = _spectrum_limits(max_condition, min_scale, max_scale)
    return _spectra(sizes, rank if rank is None else _sizes("rank", rank, 0), limits)


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
        rank = _checked_int("rank", 0, m, draw(ranks, label="rank"))
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
        raise ValueError(f"eigenvalues: expected a non-empty 1-d array, got shape {d.shape}")
    if not (np.all(np.isfinite(d)) and np.all(d >= 0.0) and np.all(np.diff(d) >= 0.0)):
        raise ValueError(f"eigenvalues: expected finite, >= 0 and ascending, got {d}")
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
    bound = _finite_number("max_magnitude", max_magnitude, inclusive=True)
    elements = st.floats(-bound, bound, allow_subnormal=False)
    return _sizes("m", m, 1).flatmap(
        lambda n: hnp.arrays(np.float64, (n,), elements=elements, fill=st.nothing())
    )

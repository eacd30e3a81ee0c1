"""Strategies for the convolution chapter: Conv2D configurations and arrays.

The output size along an axis is ``reference.conv.output_size``, imported (one formula,
one place); configurations carry it as ``W_out``/``H_out``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from properties.strategies._args import Size, StrategyArgumentError, size_strategy
from reference.conv import output_size

__all__ = [
    "ARRAY_KINDS",
    "CONV_VALUES",
    "HUGE",
    "LINEAR_SCALARS",
    "ConvArrays",
    "ConvConfig",
    "ConvProblem",
    "conv2d_arrays",
    "conv2d_configs",
    "conv2d_problems",
    "conv2d_shape_configs",
    "empty_conv2d_configs",
]


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

    def call(self, name: str = "conv2d") -> str:
        """How ``name`` is called on this configuration, for failure messages."""
        if name == "conv2d_output_shape":
            args = f"{self.input_shape}, {self.C_out}, {self.kernel_size}"
        else:
            args = f"x: {self.input_shape}, w: {self.weight_shape}"
        geometry = f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}"
        return f"{name}({args}, {geometry})"

    def __repr__(self) -> str:
        """The geometry and the output the theorem predicts (empty shows as W' < 1)."""
        return (
            f"ConvConfig(x {self.input_shape} * w {self.weight_shape} -> y {self.output_shape}: "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation})"
        )


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
    return _Geometry(*(size_strategy(name, size, low) for name, size, low in fields))


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
        output_size(W, k1, s1, p1, d1), output_size(H, k2, s2, p2, d2),
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


#: Sizes and geometry of any magnitude, for ``conv2d_output_shape`` alone (no array of
#: such a shape could exist; the formula is pure integer arithmetic): half the draws up
#: to 3, half up to 10**30, far beyond int64 and float64's 2**53.
HUGE: SearchStrategy[int] = st.one_of(st.integers(1, 3), st.integers(1, 10**30))


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

#: The regions ``conv2d_arrays`` draws from: every entry drawn ("dense"); some entries
#: exact zeros ("zeros", as after a ReLU, where a componentwise bound is 0 but an FFT
#: still rounds); "cancelling": each x plane constant and each kernel's taps in +v/-v
#: pairs, so interior outputs are exactly 0 while their terms are large.
ARRAY_KINDS: tuple[str, ...] = ("dense", "zeros", "cancelling")


def _cancelling_kernel(w: np.ndarray) -> np.ndarray:
    """The kernel with its taps (flattened over k1, k2) paired as v and -v: sum exactly 0."""
    k1, k2, C_in, C_out = w.shape
    taps = w.reshape(k1 * k2, C_in, C_out).copy()
    half = k1 * k2 // 2
    taps[k1 * k2 - half :] = -taps[:half][::-1]
    if k1 * k2 % 2:
        taps[half] = 0.0
    return taps.reshape(w.shape)


@st.composite
def _arrays(
    draw: st.DrawFn, config: ConvConfig, elements: SearchStrategy[float], kind: str
) -> ConvArrays:
    def array(shape: tuple[int, ...], label: str) -> np.ndarray:
        return draw(
            hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()), label=label
        )

    event(f"conv2d_arrays: {kind}")
    if kind == "cancelling":
        level = array((config.B, 1, 1, config.C_in), "x plane levels")
        x = np.broadcast_to(level, config.input_shape).copy()
        return ConvArrays(
            x, _cancelling_kernel(array(config.weight_shape, "w")), array((config.C_out,), "b")
        )
    x, w = array(config.input_shape, "x"), array(config.weight_shape, "w")
    if kind == "zeros":
        zero = hnp.arrays(np.bool_, config.input_shape, elements=st.booleans(), fill=st.nothing())
        x = np.where(draw(zero, label="x zero mask"), 0.0, x)
        kernel_zero = hnp.arrays(
            np.bool_, config.weight_shape, elements=st.booleans(), fill=st.nothing()
        )
        w = np.where(draw(kernel_zero, label="w zero mask"), 0.0, w)
    return ConvArrays(x, w, array((config.C_out,), "b"))


def conv2d_arrays(
    config: ConvConfig,
    *,
    elements: SearchStrategy[float] = CONV_VALUES,
    kinds: tuple[str, ...] = ARRAY_KINDS,
) -> SearchStrategy[ConvArrays]:
    """Float64 ``x``, ``w``, ``b`` for ``config``, from one of the regions ``kinds``.

    Entries are drawn from ``elements``. ``kinds`` (a subset of ``ARRAY_KINDS``): "dense"
    draws every entry; "zeros" zeroes a drawn subset of x and w; "cancelling" makes each
    x plane constant and each kernel's taps cancel in +v/-v pairs (exact outputs 0 away
    from the borders). The region is reported with ``event()``. Shrinks towards "dense"
    arrays of zeros. Use ``conv2d_configs().flatmap(conv2d_arrays)`` for configurations with
    their arrays.

    >>> config = conv2d_configs(batch=1, kernel=2).example()
    >>> arrays = conv2d_arrays(config, kinds=("zeros",)).example()
    >>> arrays.x.shape == config.input_shape and arrays.w.shape == config.weight_shape
    True
    """
    if not isinstance(config, ConvConfig):
        raise StrategyArgumentError(f"config: expected a ConvConfig, got {type(config).__name__}")
    if not isinstance(elements, SearchStrategy):
        raise StrategyArgumentError(f"elements: expected a strategy of floats, got {elements!r}")
    if not kinds or not set(kinds) <= set(ARRAY_KINDS):
        raise StrategyArgumentError(
            f"kinds: expected a non-empty subset of {ARRAY_KINDS}, got {kinds!r}"
        )
    return st.sampled_from(kinds).flatmap(lambda kind: _arrays(config, elements, kind))


class ConvProblem(NamedTuple):
    """A configuration and arrays for it: everything one ``conv2d`` call needs."""

    config: ConvConfig
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray


def conv2d_problems(
    *,
    kinds: tuple[str, ...] = ARRAY_KINDS,
    kernel: Size | None = None,
    padding: Size | None = None,
    stride: Size | None = None,
) -> SearchStrategy[ConvProblem]:
    """A valid configuration from ``conv2d_configs``, then arrays for it.

    ``kernel``, ``padding``, ``stride`` (None: ``conv2d_configs``' own default) pin or
    draw those sizes; ``kinds`` as in ``conv2d_arrays``. Shrinks towards unit geometry
    and zero arrays.

    >>> problem = conv2d_problems(kernel=1, kinds=("dense",)).example()
    >>> problem.x.shape == problem.config.input_shape, problem.w.shape[:2]
    (True, (1, 1))
    """
    if not kinds or not set(kinds) <= set(ARRAY_KINDS):
        raise StrategyArgumentError(
            f"kinds: expected a non-empty subset of {ARRAY_KINDS}, got {kinds!r}"
        )
    given = {"kernel": kernel, "padding": padding, "stride": stride}
    configs = conv2d_configs(**{name: size for name, size in given.items() if size is not None})
    return configs.flatmap(
        lambda config: conv2d_arrays(config, kinds=kinds).map(lambda a: ConvProblem(config, *a))
    )


#: Scalars for linear combinations: 0, or 1/4 <= |a| <= 4 (no underflow from scaling).
LINEAR_SCALARS: SearchStrategy[float] = st.one_of(
    st.just(0.0), st.floats(0.25, 4.0), st.floats(-4.0, -0.25)
)

#: Padding and slack of any magnitude (>= 0), as ``HUGE`` for sizes >= 1.
_HUGE_OR_ZERO: SearchStrategy[int] = st.one_of(st.integers(0, 3), st.integers(0, 10**30))


def _magnitude_event(config: ConvConfig) -> ConvConfig:
    largest = max(config.input_shape + config.kernel_size + config.stride + config.dilation)
    region = "<= 3" if largest <= 3 else "< 2**53" if largest < 2**53 else ">= 2**53"
    event(f"conv2d_shape_configs: largest size {region}")
    return config


def conv2d_shape_configs(*, empty: bool = False) -> SearchStrategy[ConvConfig]:
    """Configurations of any integer magnitude, for ``conv2d_output_shape`` alone.

    Every size, kernel, stride, dilation and padding is drawn from ``HUGE`` (up to
    10**30: no array of such a shape could exist, but the formula is integer arithmetic
    and Python ints have any size), so float rounding (exact only below 2**53) and int64
    overflow show. ``empty=True`` draws configurations whose output is empty (as
    ``empty_conv2d_configs``). The magnitude region is reported with ``event()``.
    Shrinks towards unit geometry.

    >>> c = conv2d_shape_configs().example()
    >>> c.W_out >= 1 and c.H_out >= 1
    True
    """
    if empty:
        big_kernel = st.one_of(st.integers(2, 4), st.integers(2, 10**30))
        configs = empty_conv2d_configs(
            batch=HUGE, in_channels=HUGE, out_channels=HUGE, kernel=big_kernel,
            stride=HUGE, dilation=HUGE,
        )  # fmt: skip
    else:
        configs = conv2d_configs(
            batch=HUGE, in_channels=HUGE, out_channels=HUGE, kernel=HUGE, stride=HUGE,
            padding=_HUGE_OR_ZERO, dilation=HUGE, slack=_HUGE_OR_ZERO,
        )  # fmt: skip
    return configs.map(_magnitude_event)

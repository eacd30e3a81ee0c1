"""Strategies for the convolution chapter: Conv2D configurations and arrays."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from properties.strategies._args import Size, StrategyArgumentError, size_strategy

__all__ = [
    "CONV_VALUES",
    "ConvArrays",
    "ConvConfig",
    "conv2d_arrays",
    "conv2d_configs",
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
        raise StrategyArgumentError(f"config: expected a ConvConfig, got {type(config).__name__}")
    if not isinstance(elements, SearchStrategy):
        raise StrategyArgumentError(f"elements: expected a strategy of floats, got {elements!r}")

    def array(shape: tuple[int, ...]) -> SearchStrategy[np.ndarray]:
        return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())

    return st.builds(
        ConvArrays, array(config.input_shape), array(config.weight_shape), array((config.C_out,))
    )

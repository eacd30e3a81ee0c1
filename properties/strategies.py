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


class ConvConfig(NamedTuple):
    """A Conv2D configuration and the output size the theorem predicts for it.

    ``W_out``/``H_out`` are ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` per axis; for
    configurations drawn by ``empty_conv_configs`` at least one of them is < 1.
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


def _check_limits(**limits: int) -> None:
    for name, (value, minimum) in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")


@st.composite
def _axis(
    draw: st.DrawFn,
    axis: str,
    max_kernel: int,
    max_stride: int,
    max_padding: int,
    max_dilation: int,
    max_extra: int,
    min_kernel: int = 1,
) -> tuple[int, int, int, int, int]:
    """One axis of a valid configuration: (size, k, s, p, d) with a non-empty output.

    Geometry first, then the size: the smallest size with a non-empty output is
    ``max(1, d (k - 1) + 1 - 2p)``, and the size is that plus ``extra`` (so shrinking
    moves towards the tightest fit, where off-by-one mistakes show).
    """
    k = draw(st.integers(min_kernel, max_kernel), label=f"k along {axis}")
    d = draw(st.integers(1, max_dilation), label=f"d along {axis}")
    s = draw(st.integers(1, max_stride), label=f"s along {axis}")
    p = draw(st.integers(0, max_padding), label=f"p along {axis}")
    smallest = max(1, d * (k - 1) + 1 - 2 * p)
    n = smallest + draw(st.integers(0, max_extra), label=f"extra size along {axis}")
    return n, k, s, p, d


def _config(
    B: int, C_in: int, C_out: int, w_axis: tuple[int, ...], h_axis: tuple[int, ...]
) -> ConvConfig:
    (W, k1, s1, p1, d1), (H, k2, s2, p2, d2) = w_axis, h_axis
    return ConvConfig(
        B,
        W,
        H,
        C_in,
        C_out,
        (k1, k2),
        (s1, s2),
        (p1, p2),
        (d1, d2),
        _conv_out(W, k1, s1, p1, d1),
        _conv_out(H, k2, s2, p2, d2),
    )


def conv_configs(
    *,
    max_batch: int = 2,
    max_channels: int = 3,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_padding: int | None = None,
    max_dilation: int = 3,
    max_extra: int = 5,
) -> st.SearchStrategy[ConvConfig]:
    """Valid Conv2D configurations (non-empty output), built constructively.

    Each axis draws its kernel, dilation, stride and padding independently (so W != H,
    k1 != k2, s1 != s2, p1 != p2, stride > kernel, padding >= kernel and dilation > 1 are
    all common), then a size that fits: see ``_axis``. ``max_padding`` defaults to
    ``max_kernel`` (padding as large as the kernel). Limits of 1 pin a feature: for
    example ``conv_configs(max_stride=1, max_padding=0)``.

    >>> conv_configs(max_kernel=1).example().kernel_size  # doctest: +SKIP
    (1, 1)
    """
    max_padding = max_kernel if max_padding is None else max_padding
    _check_limits(
        max_batch=(max_batch, 1),
        max_channels=(max_channels, 1),
        max_kernel=(max_kernel, 1),
        max_stride=(max_stride, 1),
        max_padding=(max_padding, 0),
        max_dilation=(max_dilation, 1),
        max_extra=(max_extra, 0),
    )
    limits = (max_kernel, max_stride, max_padding, max_dilation, max_extra)

    @st.composite
    def configs(draw: st.DrawFn) -> ConvConfig:
        # composite rather than builds: failures then print ConvConfig(B=..., W=...).
        return _config(
            draw(st.integers(1, max_batch), label="B"),
            draw(st.integers(1, max_channels), label="C_in"),
            draw(st.integers(1, max_channels), label="C_out"),
            draw(_axis("W", *limits), label="W axis"),
            draw(_axis("H", *limits), label="H axis"),
        )

    return configs()


@st.composite
def _empty_axis(
    draw: st.DrawFn, axis: str, max_kernel: int, max_stride: int, max_dilation: int
) -> tuple[int, int, int, int, int]:
    """One axis whose output is empty: the padded size is below the dilated kernel's span.

    With span ``d (k - 1) + 1 >= 2`` (so ``k >= 2``), padding ``p <= (span - 2) // 2``
    leaves room for a size ``1 <= n <= span - 2p - 1``, and every such n is empty.
    """
    k = draw(st.integers(2, max_kernel), label=f"k along {axis}")
    d = draw(st.integers(1, max_dilation), label=f"d along {axis}")
    s = draw(st.integers(1, max_stride), label=f"s along {axis}")
    span = d * (k - 1) + 1
    p = draw(st.integers(0, (span - 2) // 2), label=f"p along {axis}")
    n = draw(st.integers(1, span - 2 * p - 1), label=f"size along {axis}")
    return n, k, s, p, d


@st.composite
def _empty_config(
    draw: st.DrawFn,
    max_batch: int,
    max_channels: int,
    max_kernel: int,
    max_stride: int,
    max_dilation: int,
) -> ConvConfig:
    which = draw(st.sampled_from(["W", "H", "both"]), label="empty along")

    def axis(name: str, is_empty: bool) -> st.SearchStrategy[tuple[int, int, int, int, int]]:
        if is_empty:
            return _empty_axis(name, max_kernel, max_stride, max_dilation)
        return _axis(name, max_kernel, max_stride, max_kernel, max_dilation, 3)

    w_axis = draw(axis("W", which != "H"), label="W axis")
    h_axis = draw(axis("H", which != "W"), label="H axis")
    return _config(
        draw(st.integers(1, max_batch), label="B"),
        draw(st.integers(1, max_channels), label="C_in"),
        draw(st.integers(1, max_channels), label="C_out"),
        w_axis,
        h_axis,
    )


def empty_conv_configs(
    *,
    max_batch: int = 2,
    max_channels: int = 3,
    max_kernel: int = 4,
    max_stride: int = 3,
    max_dilation: int = 3,
) -> st.SearchStrategy[ConvConfig]:
    """Configurations whose output would be empty along W, H or both, built constructively.

    For every drawn config, ``W_out < 1 or H_out < 1``; all arguments are otherwise valid
    (sizes >= 1, kernel/stride/dilation >= 1, padding >= 0). ``max_kernel >= 2`` (a 1-wide
    kernel always fits).

    >>> c = empty_conv_configs().example()  # doctest: +SKIP
    >>> c.W_out < 1 or c.H_out < 1  # doctest: +SKIP
    True
    """
    _check_limits(
        max_batch=(max_batch, 1),
        max_channels=(max_channels, 1),
        max_kernel=(max_kernel, 2),
        max_stride=(max_stride, 1),
        max_dilation=(max_dilation, 1),
    )
    return _empty_config(max_batch, max_channels, max_kernel, max_stride, max_dilation)


class ConvArrays(NamedTuple):
    """Inputs of ``conv2d`` for one configuration: ``x (B, W, H, C_in)``, ``w``, ``b``."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray


#: Default entries: finite float64 of either sign in [-1e3, 1e3], no subnormals (their
#: products underflow to 0 and would need an absolute error term in every tolerance).
CONV_VALUES = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def conv_arrays(
    config: ConvConfig, elements: st.SearchStrategy[float] = CONV_VALUES
) -> st.SearchStrategy[ConvArrays]:
    """Dense float64 ``x``, ``w``, ``b`` for ``config`` (``fill=st.nothing()``: every entry drawn).

    >>> conv_arrays(conv_configs().example()).example().x.dtype  # doctest: +SKIP
    dtype('float64')
    """
    if not isinstance(config, ConvConfig):
        raise ValueError(f"config: expected a ConvConfig, got {type(config).__name__}")

    def array(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
        return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())

    return st.builds(
        ConvArrays, array(config.input_shape), array(config.weight_shape), array((config.C_out,))
    )


# --- Batch normalisation -----------------------------------------------------------


# --- Softmax and cross-entropy -----------------------------------------------------


# --- Symmetric positive semi-definite matrices and orthonormal frames -------------

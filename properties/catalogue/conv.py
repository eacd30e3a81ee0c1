"""Wrong Conv2D implementations: the shape formula's and the convolution's usual mistakes.

Shape mistakes implement ``conv2d_output_shape``; value mistakes implement ``conv2d`` and
mostly get the shape right, so only the value properties (oracles and laws) can reject
them. Value mistakes reuse the reference's pieces where the mistake is elsewhere, so each
entry is wrong in exactly one way.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from properties.catalogue import WrongImplementation
from reference.conv import conv2d as _conv2d

# --- conv2d_output_shape -----------------------------------------------------------


def _shape(input_shape, out_channels, sizes) -> tuple[int, int, int, int]:
    """Assemble (B, W', H', C_out), raising on an empty output as the contract asks."""
    if min(sizes) < 1:
        raise ValueError(f"kernel_size: empty output {sizes}")
    return (input_shape[0], *sizes, out_channels)


def shape_ceil(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Rounds up: ceil((n + 2p - d(k-1) - 1)/s) + 1."""
    sizes = [
        math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1
        for n, k, s, p, d in zip(
            input_shape[1:3], kernel_size, stride, padding, dilation, strict=True
        )
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_no_plus_one(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Forgets the + 1: floor((n + 2p - d(k-1) - 1)/s)."""
    sizes = [
        (n + 2 * p - d * (k - 1) - 1) // s
        for n, k, s, p, d in zip(
            input_shape[1:3], kernel_size, stride, padding, dilation, strict=True
        )
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_padding_once(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Counts the padding on one side only: n + p instead of n + 2p."""
    sizes = [
        (n + p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(
            input_shape[1:3], kernel_size, stride, padding, dilation, strict=True
        )
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_axes_swapped(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Pairs W with (k2, s2, p2, d2) and H with (k1, s1, p1, d1)."""
    sizes = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(
            input_shape[1:3],
            kernel_size[::-1],
            stride[::-1],
            padding[::-1],
            dilation[::-1],
            strict=False,
        )
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_ignores_dilation(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """The undilated formula floor((n + 2p - k)/s) + 1 whatever the dilation."""
    sizes = [
        (n + 2 * p - k) // s + 1
        for n, k, s, p in zip(input_shape[1:3], kernel_size, stride, padding, strict=True)
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_dilation_times_kernel(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Takes the dilated span to be d k instead of d (k - 1) + 1."""
    sizes = [
        (n + 2 * p - d * k) // s + 1
        for n, k, s, p, d in zip(
            input_shape[1:3], kernel_size, stride, padding, dilation, strict=True
        )
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_no_empty_check(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """The right formula, but returns W' <= 0 instead of raising for an empty output."""
    sizes = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(
            input_shape[1:3], kernel_size, stride, padding, dilation, strict=True
        )
    ]
    return (input_shape[0], *sizes, out_channels)


# --- conv2d --------------------------------------------------------------------------


def conv_flipped_kernel(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """True (mathematical) convolution: the kernel flipped along both spatial axes."""
    return _conv2d(x, w[::-1, ::-1], b, stride, padding, dilation)


def conv_ignores_dilation(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Treats every kernel as undilated."""
    return _conv2d(x, w, b, stride, padding, (1, 1))


def conv_stride_ignored_in_values(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Right output shape, but the values are the top-left corner of the stride-1 output."""
    y = _conv2d(x, w, b, (1, 1), padding, dilation)
    span = [d * (k - 1) + 1 for k, d in zip(w.shape[:2], dilation, strict=True)]
    W_out, H_out = (
        (n + 2 * p - sp) // s + 1
        for n, p, sp, s in zip(x.shape[1:3], padding, span, stride, strict=True)
    )
    return y[:, :W_out, :H_out]


def conv_bias_ignored(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Drops the bias."""
    return _conv2d(x, w, None, stride, padding, dilation)


def conv_padding_one_side(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Puts all 2p zeros before the data (left/top) instead of p on each side."""
    (p1, p2) = padding
    x = np.pad(x, ((0, 0), (2 * p1, 0), (2 * p2, 0), (0, 0)))
    return _conv2d(x, w, b, stride, (0, 0), dilation)


def conv_axes_swapped(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Applies stride, padding and dilation (s1, p1, d1) along H and (s2, p2, d2) along W."""
    return _conv2d(x, w, b, stride[::-1], padding[::-1], dilation[::-1])


def conv_float32(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The same im2col algorithm in float32, a framework's default precision."""
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    k1, k2, C_in, C_out = w.shape
    xpad = np.pad(x.astype(np.float32), ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    windows = sliding_window_view(xpad, (d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1), axis=(1, 2))
    patches = windows[:, ::s1, ::s2, :, ::d1, ::d2].transpose(0, 1, 2, 4, 5, 3)
    y = patches.reshape(-1, k1 * k2 * C_in) @ w.astype(np.float32).reshape(-1, C_out)
    y = y.reshape(*patches.shape[:3], C_out)
    return (y if b is None else y + b.astype(np.float32)).astype(np.float64)


CATALOGUE: list[WrongImplementation] = [
    WrongImplementation("conv2d_output_shape", shape_ceil, "ceil instead of floor"),
    WrongImplementation("conv2d_output_shape", shape_no_plus_one, "the + 1 forgotten"),
    WrongImplementation(
        "conv2d_output_shape", shape_padding_once, "padding counted once (p, not 2p)"
    ),
    WrongImplementation("conv2d_output_shape", shape_axes_swapped, "W paired with k2, s2, p2, d2"),
    WrongImplementation("conv2d_output_shape", shape_ignores_dilation, "dilation ignored"),
    WrongImplementation(
        "conv2d_output_shape", shape_dilation_times_kernel, "dilated span d k, not d (k-1) + 1"
    ),
    WrongImplementation(
        "conv2d_output_shape", shape_no_empty_check, "returns W' < 1 instead of raising"
    ),
    WrongImplementation(
        "conv2d", conv_flipped_kernel, "kernel flipped: convolution, not cross-correlation"
    ),
    WrongImplementation("conv2d", conv_ignores_dilation, "dilation ignored"),
    WrongImplementation("conv2d", conv_stride_ignored_in_values, "stride ignored in the values"),
    WrongImplementation("conv2d", conv_bias_ignored, "bias ignored"),
    WrongImplementation("conv2d", conv_padding_one_side, "all 2p zeros on one side"),
    WrongImplementation(
        "conv2d", conv_axes_swapped, "stride/padding/dilation applied to the wrong axes"
    ),
    WrongImplementation("conv2d", conv_float32, "computed in float32"),
]

"""Wrong Conv2D implementations: the shape formula's and the convolution's usual mistakes.

Shape mistakes implement ``conv2d_output_shape``; value mistakes implement ``conv2d`` and
mostly get the shape right, so only the value properties (oracles and laws) can reject
them. Value mistakes reuse the reference's pieces where the mistake is elsewhere, so each
entry is wrong in exactly one way.
"""

from __future__ import annotations

import math

import numpy as np
import scipy  # scipy.signal loads on first use (SciPy's lazy submodules): 1.5 s a process
from numpy.lib.stride_tricks import sliding_window_view

from properties.catalogue import Peer, WrongImplementation
from reference.conv import conv2d as _conv2d
from reference.conv import output_size

# --- conv2d_output_shape -----------------------------------------------------------
# Each wrong shape function applies one wrong per-axis size formula (or the right one
# with a wrong type or check); the formulas are also handed to the exhaustive proof of
# the right one (test_conv_shape.py), which must reject each.


def size_ceil(n: int, k: int, s: int, p: int, d: int) -> int:
    """Rounds up: ceil((n + 2p - d(k-1) - 1)/s) + 1 (exact: -(-a // s))."""
    return -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1


def size_no_plus_one(n: int, k: int, s: int, p: int, d: int) -> int:
    """Forgets the + 1: floor((n + 2p - d(k-1) - 1)/s)."""
    return (n + 2 * p - d * (k - 1) - 1) // s


def size_padding_once(n: int, k: int, s: int, p: int, d: int) -> int:
    """Counts the padding on one side only: n + p instead of n + 2p."""
    return (n + p - d * (k - 1) - 1) // s + 1


def size_ignores_dilation(n: int, k: int, s: int, p: int, d: int) -> int:
    """The answer key's undilated formula floor((n + 2p - k)/s) + 1 whatever the dilation."""
    return (n + 2 * p - k) // s + 1


def size_dilation_times_kernel(n: int, k: int, s: int, p: int, d: int) -> int:
    """Takes the dilated span to be d k instead of d (k - 1) + 1."""
    return (n + 2 * p - d * k) // s + 1


#: wrong per-axis size formulas, by name: each must fail the exhaustive proof
WRONG_SIZE_FORMULAS = {
    f.__name__: f
    for f in (
        size_ceil,
        size_no_plus_one,
        size_padding_once,
        size_ignores_dilation,
        size_dilation_times_kernel,
    )
}


def _axes(kernel_size, stride, padding, dilation, input_shape, swap: bool = False):
    """Per-axis ``(n, k, s, p, d)``; ``swap`` pairs W with the second element of each pair."""
    order = slice(None, None, -1 if swap else 1)
    return zip(
        input_shape[1:3],
        kernel_size[order],
        stride[order],
        padding[order],
        dilation[order],
        strict=True,
    )


def _shape(input_shape, out_channels, sizes, check_empty: bool = True):
    """Assemble (B, W', H', C_out), raising on an empty output as the contract asks."""
    sizes = list(sizes)
    if check_empty and min(sizes) < 1:
        raise ValueError(f"kernel_size: empty output {sizes}")
    return (input_shape[0], *sizes, out_channels)


def shape_ceil(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Rounds up: ceil((n + 2p - d(k-1) - 1)/s) + 1."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    return _shape(input_shape, out_channels, (size_ceil(*a) for a in axes))


def shape_no_plus_one(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Forgets the + 1: floor((n + 2p - d(k-1) - 1)/s)."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    return _shape(input_shape, out_channels, (size_no_plus_one(*a) for a in axes))


def shape_padding_once(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Counts the padding on one side only: n + p instead of n + 2p."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    return _shape(input_shape, out_channels, (size_padding_once(*a) for a in axes))


def shape_axes_swapped(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Pairs W with (k2, s2, p2, d2) and H with (k1, s1, p1, d1)."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape, swap=True)
    return _shape(input_shape, out_channels, (output_size(*a) for a in axes))


def shape_ignores_dilation(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """The undilated formula floor((n + 2p - k)/s) + 1 whatever the dilation."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    return _shape(input_shape, out_channels, (size_ignores_dilation(*a) for a in axes))


def shape_dilation_times_kernel(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """Takes the dilated span to be d k instead of d (k - 1) + 1."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    return _shape(input_shape, out_channels, (size_dilation_times_kernel(*a) for a in axes))


def shape_no_empty_check(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """The right formula, but returns W' <= 0 instead of raising for an empty output."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    return _shape(input_shape, out_channels, (output_size(*a) for a in axes), check_empty=False)


def shape_returns_floats(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """The right values as floats, (8.0, 16.0, ...): a float is not a shape."""
    axes = _axes(kernel_size, stride, padding, dilation, input_shape)
    shape = _shape(input_shape, out_channels, (output_size(*a) for a in axes))
    return tuple(float(n) for n in shape)


def shape_unfloored(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """True division without the floor: 3.5 where the answer is 3 (an int when s divides)."""
    sizes = [
        (a // s if a % s == 0 else a / s) + 1
        for a, s in (
            (n + 2 * p - d * (k - 1) - 1, s)
            for n, k, s, p, d in _axes(kernel_size, stride, padding, dilation, input_shape)
        )
    ]
    return _shape(input_shape, out_channels, sizes)


def shape_through_float(
    input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)
):
    """math.floor of a float division: returns ints, exact below 2**53, wrong beyond."""
    sizes = [
        math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1
        for n, k, s, p, d in _axes(kernel_size, stride, padding, dilation, input_shape)
    ]
    return _shape(input_shape, out_channels, sizes)


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
    W_out, H_out = (output_size(*a) for a in _axes(w.shape[:2], stride, padding, dilation, x.shape))
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


def _columns(x, w, stride, padding, dilation) -> tuple[np.ndarray, tuple[int, ...]]:
    """im2col: the ``(B W' H', k1 k2 C_in)`` patch matrix and the output's leading shape."""
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    k1, k2, C_in, _ = w.shape
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    windows = sliding_window_view(xpad, (d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1), axis=(1, 2))
    patches = windows[:, ::s1, ::s2, :, ::d1, ::d2].transpose(0, 1, 2, 4, 5, 3)
    return patches.reshape(-1, k1 * k2 * C_in), patches.shape[:3]


def conv_float32(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The same im2col algorithm in float32, a framework's default precision."""
    columns, lead = _columns(x.astype(np.float32), w, stride, padding, dilation)
    y = (columns @ w.astype(np.float32).reshape(columns.shape[1], -1)).reshape(*lead, -1)
    return (y if b is None else y + b.astype(np.float32)).astype(np.float64)


def conv_relative_error_1e10(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The right output times (1 + 1e-10): the sharpness the policy promises to keep."""
    return _conv2d(x, w, b, stride, padding, dilation) * (1 + 1e-10)


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
    WrongImplementation("conv2d_output_shape", shape_returns_floats, "floats, not ints (8.0)"),
    WrongImplementation(
        "conv2d_output_shape", shape_unfloored, "true division, no floor (3.5 for 3)"
    ),
    WrongImplementation(
        "conv2d_output_shape", shape_through_float, "floor of a float division (big ints)"
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
    WrongImplementation("conv2d", conv_relative_error_1e10, "relative error 1e-10"),
]


# --- Peers: correct conv2d by other algorithms (every property must accept them) ------


def _flush(values: np.ndarray) -> np.ndarray:
    """Flush-to-zero: results below the smallest normal float64 become (signed) zero."""
    return np.where(np.abs(values) < np.finfo(np.float64).smallest_normal, 0.0 * values, values)


def conv_fft(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """FFT correlation (``scipy.signal.fftconvolve``), all batch/channel pairs at once.

    Correlation is convolution with the flipped kernel; dilation inserts zeros between
    taps, stride subsamples the stride-1 result, the C_in planes are summed after the
    inverse transforms. Errors spread over the whole plane (accurate normwise only).
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    k1, k2, C_in, C_out = w.shape
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    dilated = np.zeros((d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1, C_in, C_out))
    dilated[::d1, ::d2] = w
    planes = scipy.signal.fftconvolve(
        xpad[..., None], dilated[None, ::-1, ::-1], mode="valid", axes=(1, 2)
    )  # (B, W'', H'', C_in, C_out)
    y = planes.sum(axis=3)[:, ::s1, ::s2]
    return y if b is None else y + b


def conv_flush_to_zero(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """A direct sum in flush-to-zero arithmetic, as XLA on CPU computes.

    Every product, partial sum and result below the smallest normal number becomes zero,
    and so do subnormal inputs (denormals-are-zero).
    """
    columns, lead = _columns(_flush(x), _flush(w), stride, padding, dilation)
    kernel = _flush(w).reshape(columns.shape[1], -1)
    total = np.zeros((columns.shape[0], kernel.shape[1]))
    for t in range(columns.shape[1]):  # tap by tap, flushing each product and partial sum
        total = _flush(total + _flush(columns[:, t, None] * kernel[t]))
    if b is not None:
        total = _flush(total + _flush(b))
    return total.reshape(*lead, -1)


def conv_einsum(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """float64 ``np.einsum`` over the window view: another summation order than BLAS."""
    columns, lead = _columns(x, w, stride, padding, dilation)
    y = np.einsum("pk,ko->po", columns, w.reshape(columns.shape[1], -1), optimize=False)
    y = y.reshape(*lead, -1)
    return y if b is None else y + b


PEERS: list[Peer] = [
    Peer("conv2d", conv_fft, "FFT correlation (scipy.signal.fftconvolve): normwise accurate"),
    Peer("conv2d", conv_flush_to_zero, "flush-to-zero direct sum: subnormals become 0"),
    Peer("conv2d", conv_einsum, "float64 einsum, tap-major summation order"),
]

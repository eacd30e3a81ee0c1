"""Wrong Conv2D backward passes, and correct ones by other algorithms.

Every entry here is built on one textbook route, the one a student derives on paper:
both gradients are themselves forward convolutions (``reference.conv.conv2d``, trusted
for the forward pass), so each mistake is one flag of that route and each entry is wrong
in exactly one way.

* dx: spread dy onto the stride grid (s - 1 zeros between entries), pad it by the
  dilated span minus one in front and up to the padded input's size behind, and
  correlate it with the kernel flipped in both spatial axes (channels transposed,
  C_out -> C_in), with the forward's dilation; then crop the padding.
* dw: a correlation of the padded input with dy used as a kernel: batch plays the
  channel being summed, dy's positions are spread by the stride (the dilation of this
  convolution) and the kernel's taps are d apart (its stride).

The peers compute the same gradients correctly by that route and by FFT
(``scipy.signal.fftconvolve``), whose errors spread normwise over the whole plane.
"""

from __future__ import annotations

import numpy as np
import scipy  # scipy.signal loads on first use (SciPy's lazy submodules): 1.5 s a process

from properties.catalogue import Peer, WrongImplementation
from reference.conv import conv2d

_DEFAULTS = {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1)}


def _input_gradient(
    dy,
    w,
    x_shape,
    stride,
    padding,
    dilation,
    *,
    flip: bool = True,
    spread: bool = True,
    kernel_dilation: bool = True,
    to_full_size: bool = True,
    crop_offset: bool = True,
    dtype=np.float64,
):
    """The input gradient by the transposed convolution written as a forward one.

    Each keyword, when False, is one classic mistake: the kernel not flipped, dy not
    spread by the stride, the kernel's dilation forgotten, the trailing rows the stride
    skipped dropped (the result ends with the last window), the padding not cropped off
    the front (the padded gradient simply truncated to x's size).
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    B, W, H, _ = x_shape
    k1, k2 = w.shape[:2]
    e1, e2 = (d1, d2) if kernel_dilation else (1, 1)
    if spread:
        z = np.zeros((B, s1 * (dy.shape[1] - 1) + 1, s2 * (dy.shape[2] - 1) + 1, dy.shape[3]))
        z[:, ::s1, ::s2] = dy
    else:
        z = dy
    lead = (e1 * (k1 - 1), e2 * (k2 - 1))
    # behind: up to the padded input's size (rows no window reached get 0), or not at all
    trail = (W + 2 * p1 - z.shape[1], H + 2 * p2 - z.shape[2]) if to_full_size else lead
    zpad = np.pad(z, ((0, 0), (lead[0], max(trail[0], 0)), (lead[1], max(trail[1], 0)), (0, 0)))
    kernel = w[::-1, ::-1] if flip else w
    kernel = kernel.transpose(0, 1, 3, 2)  # (k1, k2, C_out, C_in)
    if dtype != np.float64:
        zpad, kernel = zpad.astype(dtype), kernel.astype(dtype)
    dxpad = conv2d(zpad, kernel, None, dilation=(e1, e2)).astype(np.float64)
    if not crop_offset:
        return dxpad[:, :W, :H]
    return dxpad[:, p1 : p1 + W, p2 : p2 + H]


def _weight_gradient(dy, x, w_shape, stride, padding, dilation, *, use_stride: bool = True):
    """The kernel gradient dw as the correlation of the padded input with dy (module docstring).

    ``use_stride=False``: dy's positions are taken as adjacent, as if the stride were 1.
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    k1, k2, _, _ = w_shape
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    spread = (s1, s2) if use_stride else (1, 1)
    # input (C_in, Wp, Hp, B) with kernel (W', H', B, C_out): output (C_in, >= k1, >= k2, C_out)
    lags = conv2d(
        xpad.transpose(3, 1, 2, 0), dy.transpose(1, 2, 0, 3), None, (d1, d2), (0, 0), spread
    )
    return lags[:, :k1, :k2].transpose(1, 2, 0, 3)


def _backward(dy, x, w, stride, padding, dilation, **mistake):
    dx = _input_gradient(dy, w, x.shape, stride, padding, dilation, **mistake)
    dw = _weight_gradient(dy, x, w.shape, stride, padding, dilation)
    return dx, dw, dy.sum(axis=(0, 1, 2))


# --- correct peers -------------------------------------------------------------------


def backward_as_forward_convolutions(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """dx: conv2d of the spread, padded dy with the flipped kernel; dw: conv2d with dy as kernel."""
    return _backward(dy, x, w, stride, padding, dilation)


def backward_by_fft(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Both gradients by ``scipy.signal.fftconvolve`` over the spatial axes, all channels at once.

    dx: the full convolution of the spread dy with the dilated kernel, placed in the
    padded input and cropped. dw: the valid correlation (convolution with the flipped
    spread dy) of the padded input, read at the dilation grid's lags.
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    B, W, H, C_in = x.shape
    k1, k2, _, C_out = w.shape
    z = np.zeros((B, s1 * (dy.shape[1] - 1) + 1, s2 * (dy.shape[2] - 1) + 1, C_out))
    z[:, ::s1, ::s2] = dy
    kernel = np.zeros((d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1, C_in, C_out))
    kernel[::d1, ::d2] = w
    full = scipy.signal.fftconvolve(z[:, :, :, None, :], kernel[None], axes=(1, 2)).sum(axis=4)
    dxpad = np.zeros((B, W + 2 * p1, H + 2 * p2, C_in))
    dxpad[:, : full.shape[1], : full.shape[2]] = full
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    lags = scipy.signal.fftconvolve(
        xpad[:, :, :, :, None], z[:, ::-1, ::-1, None, :], mode="valid", axes=(1, 2)
    ).sum(axis=0)
    dw = lags[::d1, ::d2][:k1, :k2]
    return dxpad[:, p1 : p1 + W, p2 : p2 + H], dw, dy.sum(axis=(0, 1, 2))


# --- wrong backward passes -----------------------------------------------------------


def dx_drops_unread_border(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Input gradient ends with the last window: trailing rows the stride skipped go missing."""
    return _backward(dy, x, w, stride, padding, dilation, to_full_size=False)


def dx_kernel_not_flipped(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The transposed convolution correlates with w instead of the flipped w."""
    return _backward(dy, x, w, stride, padding, dilation, flip=False)


def dx_dilation_forgotten(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The transposed convolution uses the undilated kernel."""
    return _backward(dy, x, w, stride, padding, dilation, kernel_dilation=False)


def dx_dy_not_spread_by_stride(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The entries of dy placed side by side instead of s apart (no zeros inserted)."""
    return _backward(dy, x, w, stride, padding, dilation, spread=False)


def dx_padding_not_cropped(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The padded input gradient truncated to x's size instead of cropped by p on each side."""
    return _backward(dy, x, w, stride, padding, dilation, crop_offset=False)


def dx_float32(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The transposed convolution computed in float32, a framework's default precision."""
    return _backward(dy, x, w, stride, padding, dilation, dtype=np.float32)


def dw_stride_ignored(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Kernel gradient correlating x with dy as if output positions were adjacent (stride 1)."""
    dx, _, db = _backward(dy, x, w, stride, padding, dilation)
    return dx, _weight_gradient(dy, x, w.shape, stride, padding, dilation, use_stride=False), db


def dw_channels_transposed(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Kernel gradient computed as (k1, k2, C_out, C_in), reshaped (not transposed) to w's shape."""
    dx, dw, db = _backward(dy, x, w, stride, padding, dilation)
    return dx, np.ascontiguousarray(dw.transpose(0, 1, 3, 2)).reshape(w.shape), db


def dw_averaged_over_batch(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Kernel gradient divided by B, as if the loss were a batch mean, not sum(dy * y)."""
    dx, dw, db = _backward(dy, x, w, stride, padding, dilation)
    return dx, dw / x.shape[0], db


def db_summed_over_wrong_axes(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The bias gradient dy.sum(axis=(0, 2, 3)): NCHW code on channels-last dy (sums C, not W)."""
    dx, dw, _ = _backward(dy, x, w, stride, padding, dilation)
    return dx, dw, dy.sum(axis=(0, 2, 3))


def db_first_batch_element_only(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The bias gradient sums dy over space only, for the first batch element."""
    dx, dw, _ = _backward(dy, x, w, stride, padding, dilation)
    return dx, dw, dy[0].sum(axis=(0, 1))


CATALOGUE: list[WrongImplementation] = [
    WrongImplementation(
        "conv2d_backward", dx_drops_unread_border, "dx stops at the last window: border dropped"
    ),
    WrongImplementation("conv2d_backward", dx_kernel_not_flipped, "kernel not flipped in dx"),
    WrongImplementation(
        "conv2d_backward", dx_dilation_forgotten, "dilation forgotten in the transposed conv"
    ),
    WrongImplementation(
        "conv2d_backward", dx_dy_not_spread_by_stride, "dy not dilated by the stride in dx"
    ),
    WrongImplementation("conv2d_backward", dx_padding_not_cropped, "padding not cropped from dx"),
    WrongImplementation("conv2d_backward", dx_float32, "dx computed in float32"),
    WrongImplementation("conv2d_backward", dw_stride_ignored, "stride ignored in dw"),
    WrongImplementation(
        "conv2d_backward", dw_channels_transposed, "dw with C_in and C_out swapped (reshaped)"
    ),
    WrongImplementation("conv2d_backward", dw_averaged_over_batch, "dw averaged over the batch"),
    WrongImplementation(
        "conv2d_backward", db_summed_over_wrong_axes, "db summed over (B, H', C), not (B, W', H')"
    ),
    WrongImplementation(
        "conv2d_backward", db_first_batch_element_only, "db of the first batch element only"
    ),
]

PEERS: list[Peer] = [
    Peer(
        "conv2d_backward",
        backward_as_forward_convolutions,
        "both gradients as forward convolutions (spread dy, flipped kernel): other summation order",
    ),
    Peer(
        "conv2d_backward",
        backward_by_fft,
        "scipy.signal.fftconvolve: errors spread normwise over the plane, not entrywise",
    ),
]

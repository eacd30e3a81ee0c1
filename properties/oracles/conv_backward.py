"""Independent oracles of the conv-backward chapter: the definition looped, and SciPy's route.

Both start from the forward definition (``reference.conv``'s docstring)

    y[b, j, k, o] = bias[o] + sum_{u, v, i} xpad[b, s1 j + d1 u, s2 k + d2 v, i] w[u, v, i, o]

and differentiate ``l = sum(dy * y)`` term by term: each term's partial derivative with
respect to ``x[b, r, c, i]`` (where ``r = s1 j + d1 u - p1``, ``c = s2 k + d2 v - p2``)
is ``dy[b, j, k, o] w[u, v, i, o]``, with respect to ``w[u, v, i, o]`` it is
``dy[b, j, k, o] xpad[b, s1 j + d1 u, s2 k + d2 v, i]``, and with respect to
``bias[o]`` it is ``dy[b, j, k, o]``. Neither imports the reference.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy  # scipy.signal loads on first use (SciPy's lazy submodules): 1.5 s a process

__all__ = ["ConvGradients", "conv2d_backward_definition", "conv2d_backward_scipy"]

Pair = tuple[int, int]


class ConvGradients(NamedTuple):
    """``(dx, dw, db)``: gradients of ``sum(dy * conv2d(x, w, b))``, or their magnitudes."""

    dx: np.ndarray  # (B, W, H, C_in)
    dw: np.ndarray  # (k1, k2, C_in, C_out)
    db: np.ndarray  # (C_out,)


def conv2d_backward_definition(
    dy: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> tuple[ConvGradients, ConvGradients]:
    """The definition, looped: ``(gradients, sums of |terms|)`` (the second for tolerances).

    For every output position (j, k) of dy and every tap (u, v), the input entry the tap
    read is found by index arithmetic, and a tap that fell in the padding (outside x)
    contributes to dw nothing and to dx nowhere: no ``np.pad``, no transposed
    convolution, no flipped kernel. Loops over output positions and taps; the batch and
    channel axes are vectorised.
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    _, W, H, _ = x.shape
    k1, k2 = w.shape[:2]
    grad = ConvGradients(np.zeros(x.shape), np.zeros(w.shape), np.zeros(w.shape[3]))
    size = ConvGradients(np.zeros(x.shape), np.zeros(w.shape), np.zeros(w.shape[3]))
    for j in range(dy.shape[1]):
        for k in range(dy.shape[2]):
            g = dy[:, j, k, :]  # (B, C_out)
            grad.db[:] += g.sum(axis=0)
            size.db[:] += np.abs(g).sum(axis=0)
            for u in range(k1):
                for v in range(k2):
                    r, c = s1 * j + d1 * u - p1, s2 * k + d2 * v - p2
                    if 0 <= r < W and 0 <= c < H:
                        grad.dx[:, r, c, :] += g @ w[u, v].T
                        size.dx[:, r, c, :] += np.abs(g) @ np.abs(w[u, v]).T
                        grad.dw[u, v] += x[:, r, c, :].T @ g
                        size.dw[u, v] += np.abs(x[:, r, c, :]).T @ np.abs(g)
    return grad, size


def conv2d_backward_scipy(
    dy: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> ConvGradients:
    """The textbook route with SciPy (direct method, per channel pair), no loop over positions.

    ``dy`` is spread onto the stride grid (``s - 1`` zeros between entries: the output
    positions in padded input coordinates), the kernel onto the dilation grid. Then
    ``dx`` is the *full convolution* of the spread dy with the dilated kernel (the
    kernel flipped, as convolution does), placed in the padded input and cropped; ``dw``
    is the *valid correlation* of the padded input with the spread dy, read at the
    dilation grid's lags; ``db`` sums dy. ``method='direct'``: the error model is that
    of sums of products. Applied to ``|dy|, |x|, |w|`` it returns the sums of |terms|.
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    B, W, H, C_in = x.shape
    k1, k2, _, C_out = w.shape
    _, W_out, H_out, _ = dy.shape
    spread = np.zeros((B, s1 * (W_out - 1) + 1, s2 * (H_out - 1) + 1, C_out))
    spread[:, ::s1, ::s2] = dy
    kernel = np.zeros((d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1, C_in, C_out))
    kernel[::d1, ::d2] = w
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    dxpad = np.zeros(xpad.shape)
    reach = (spread.shape[1] + kernel.shape[0] - 1, spread.shape[2] + kernel.shape[1] - 1)
    dw = np.zeros(w.shape)
    for n in range(B):
        for i in range(C_in):
            for o in range(C_out):
                dxpad[n, : reach[0], : reach[1], i] += scipy.signal.convolve(
                    spread[n, :, :, o], kernel[:, :, i, o], mode="full", method="direct"
                )
                lags = scipy.signal.correlate(
                    xpad[n, :, :, i], spread[n, :, :, o], mode="valid", method="direct"
                )
                dw[:, :, i, o] += lags[::d1, ::d2][:k1, :k2]
    dx = dxpad[:, p1 : p1 + W, p2 : p2 + H]
    return ConvGradients(dx, dw, dy.sum(axis=(0, 1, 2)))

"""The gradient of a 2-D convolution: ``conv2d_backward(dy, x, w) -> (dx, dw, db)``.

For ``y = conv2d(x, w, b)`` (``reference.conv``: channels-last, zero-padded
cross-correlation with stride s, padding p, dilation d) and an upstream gradient ``dy``
of y's shape, the gradients of the scalar ``l = sum(dy * y)`` are

    dx[b, r, c, i]  = sum_{j, k, u, v, o : s1 j + d1 u = r + p1, s2 k + d2 v = c + p2}
                      dy[b, j, k, o] w[u, v, i, o]
    dw[u, v, i, o]  = sum_{b, j, k} xpad[b, s1 j + d1 u, s2 k + d2 v, i] dy[b, j, k, o]
    db[o]           = sum_{b, j, k} dy[b, j, k, o]

dx is the transposed convolution of dy with the dilated kernel (each output entry sends
``dy @ w[u, v].T`` back to the input entry its tap u, v read), cropped to x's shape:
input rows that no window reaches (the stride can leave trailing ones) get exactly 0.
dw is the correlation of the padded input with dy, db the sum of dy over batch and space.

Vectorised; the only Python loop is over the k1 k2 kernel taps. Tap (u, v) reads
the strided slice ``xpad[:, d1 u :: s1, d2 v :: s2]`` of W' x H' positions, so

* dx: one BLAS product ``dy (B W' H', C_out) @ w (C_out, k1 k2 C_in)`` gives every
  tap's contribution at once; each tap's block is scatter-added into its strided slice
  of the padded gradient (k1 k2 strided additions, no ``np.add.at``);
* dw: the forward's im2col patch matrix (``sliding_window_view`` of the padded input,
  stride and dilation as slices of the view, one copy) transposed times dy:
  ``(k1 k2 C_in, B W' H') @ (B W' H', C_out)``, one BLAS product.

Two BLAS calls in all. One product per tap for dw (no im2col copy) is as fast on one
thread but makes k1 k2 + 1 calls, and each threaded OpenBLAS call stalls when the cores
are shared (measured 1.2-8x slower than im2col on the 2-core development machine under
load); see ``benchmarks/bench_conv_backward.py``.

Measured against PyTorch's autograd conv backward in ``benchmarks/bench_conv_backward.py``.
Validation is ``reference.conv``'s own (imported, not copied): the same argument names,
the same messages, and dy must have exactly the shape conv2d would return.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference.contract import Record, bad
from reference.conv import _CHANNELS, _LAYOUT, _W, _X, Pair, _finite_array, _geometry, _with


def conv2d_backward(
    dy: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dw, db)`` of ``sum(dy * conv2d(x, w, b, stride, padding, dilation))``.

    Shapes: ``x (B, W, H, C_in)``, ``w (k1, k2, C_in, C_out)``, ``dy (B, W', H', C_out)``
    (conv2d's output shape); returns float64 ``dx`` of x's shape, ``dw`` of w's shape and
    ``db (C_out,)`` (the bias gradient does not depend on b, so b is not an argument).
    Raises ValueError naming the argument for wrong ranks, a channel mismatch, dy not of
    the output shape, non-finite or non-real values, and every geometric error of
    ``conv2d`` (the same validation).

    >>> dx, dw, db = conv2d_backward(np.ones((1, 2, 2, 1)), np.ones((1, 3, 3, 1)),
    ...                              np.ones((2, 2, 1, 1)))
    >>> dx[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dw[:, :, 0, 0], db
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    x = _finite_array("x", x, 4, "(B, W, H, C_in)")
    w = _finite_array("w", w, 4, "(k1, k2, C_in, C_out)")
    if w.shape[2] != x.shape[3]:
        raise ValueError(
            f"w: has {w.shape[2]} input channels (axis 2) but x has {x.shape[3]} (axis 3)"
        )
    out_shape, (k1, k2), (s1, s2), (p1, p2), (d1, d2) = _geometry(
        x.shape, w.shape[3], w.shape[:2], stride, padding, dilation,
        input_name="x", out_name="w", kernel_name="w",
    )  # fmt: skip
    dy = _finite_array("dy", dy, 4, "(B, W', H', C_out)")
    if dy.shape != out_shape:
        raise ValueError(
            f"dy: expected conv2d's output shape {out_shape} (B, W', H', C_out) for x "
            f"{x.shape}, w {w.shape} and this geometry, got {dy.shape}"
        )
    B, W, H, C_in = x.shape
    _, W_out, H_out, C_out = out_shape
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    dy_rows = dy.reshape(B * W_out * H_out, C_out)
    # every tap's input gradient at once: (B, W', H', k1, k2, C_in)
    taps = (dy_rows @ w.reshape(k1 * k2 * C_in, C_out).T).reshape(B, W_out, H_out, k1, k2, C_in)
    dxpad = np.zeros_like(xpad)
    for u in range(k1):
        rows = slice(d1 * u, d1 * u + s1 * (W_out - 1) + 1, s1)
        for v in range(k2):
            cols = slice(d2 * v, d2 * v + s2 * (H_out - 1) + 1, s2)
            dxpad[:, rows, cols, :] += taps[:, :, :, u, v, :]
    dx = np.ascontiguousarray(dxpad[:, p1 : p1 + W, p2 : p2 + H, :])
    # (B, W', H', C_in, k1, k2) view -> (B W' H', k1 k2 C_in) patch matrix, w's order
    windows = sliding_window_view(xpad, (d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1), axis=(1, 2))
    patches = windows[:, ::s1, ::s2, :, ::d1, ::d2].transpose(0, 1, 2, 4, 5, 3)
    dw = (patches.reshape(B * W_out * H_out, k1 * k2 * C_in).T @ dy_rows).reshape(w.shape)
    return dx, dw, dy_rows.sum(axis=0)


# --- the contract record (reference.contract) ----------------------------------------

_DY = np.zeros((1, 3, 3, 3))  # the output gradient for conv2d(_X, _W)

CONTRACT = [
    Record(
        "conv2d_backward",
        "(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1))",
        error_inputs=[
            bad("dy", dy=np.zeros((1, 3, 3)), x=_X, w=_W, match=_LAYOUT["dy"], id="dy-rank"),
            bad("dy", dy=np.zeros((1, 2, 3, 3)), x=_X, w=_W, id="dy-not-output-shape"),
            bad("dy", dy=np.zeros((1, 3, 3, 2)), x=_X, w=_W, id="dy-wrong-C_out"),
            bad("dy", dy=_DY, x=_X, w=_W, stride=(2, 1), id="dy-shape-for-stride-1"),
            bad("dy", dy=_with(_DY, np.nan), x=_X, w=_W),
            bad("dy", dy=_DY.astype(complex), x=_X, w=_W),
            bad("x", dy=_DY, x=_with(_X, np.inf), w=_W),
            bad("x", dy=_DY, x=np.zeros((4, 4, 2)), w=_W, match=_LAYOUT["x"]),
            bad("x", dy=_DY, x=np.zeros((0, 4, 4, 2)), w=_W, id="empty-batch"),
            bad("w", dy=_DY, x=_X, w=np.zeros((2, 2, 2)), match=_LAYOUT["w"]),
            bad("w", dy=_DY, x=_X, w=_with(_W, np.nan)),
            bad(
                "w", dy=_DY, x=_X, w=np.zeros((2, 2, 3, 4)), match=_CHANNELS, id="channel-mismatch"
            ),
            bad("w", dy=_DY, x=_X, w=np.zeros((2, 2, 2, 0)), id="no-output-channel"),
            bad("w", dy=_DY, x=_X, w=np.zeros((5, 2, 2, 3)), id="empty-output"),
            bad("stride", dy=_DY, x=_X, w=_W, stride=(0, 1)),
            bad("padding", dy=_DY, x=_X, w=_W, padding=(-1, 0)),
            bad("dilation", dy=_DY, x=_X, w=_W, dilation=(1, 1.5)),
        ],
    ),
]

"""The contract on SciPy and NumPy: ``pytest --impl-module properties.adapters.scipy_adapter``.

Layouts. SciPy has no deep-learning layer, so nothing needs permuting: the contract's
channels-last arrays are plain N-d arrays, and ``scipy.signal.correlate`` correlates
over every axis at once. A Conv2D output channel ``o`` is the ``'valid'`` correlation
of the zero-padded image ``(B, W + 2 p1, H + 2 p2, C_in)`` with the kernel
``w[None, :, :, :, o]`` of shape ``(1, k1, k2, C_in)``: equal sizes along the batch
axis (1) and the channel axis (C_in) leave one position there, which is the sum over
channels. Dilation inserts ``d - 1`` zeros between kernel taps; stride keeps every
``s``-th position of the stride-1 output. ``method`` is SciPy's default (``'auto'``:
direct or FFT, whichever SciPy predicts is faster), as a user would call it.

The rest maps one to one: ``scipy.special.softmax`` / ``log_softmax`` on the last
axis, ``scipy.linalg.eigh`` (default driver) for the PSD problems, NumPy for batch
norm (statistics over axis 0, biased variance, gradients written out).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.signal
import scipy.special

Pair = tuple[int, int]


# --- Conv2D ------------------------------------------------------------------------


def conv2d_output_shape(
    input_shape: tuple[int, int, int, int],
    out_channels: int,
    kernel_size: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> tuple[int, int, int, int]:
    """``(B, W', H', C_out)`` by the formula (SciPy has no layer to ask); ValueError if empty."""
    B, W, H, _ = input_shape
    sizes = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip((W, H), kernel_size, stride, padding, dilation, strict=True)
    ]
    if min(sizes) < 1:
        raise ValueError(f"kernel_size: the dilated kernel does not fit; output sizes {sizes}")
    return (B, sizes[0], sizes[1], out_channels)


def _dilated(w: np.ndarray, dilation: Pair) -> np.ndarray:
    """The kernel with ``d - 1`` zeros inserted between taps along W and H."""
    (d1, d2), (k1, k2, C_in, C_out) = dilation, w.shape
    out = np.zeros((d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1, C_in, C_out))
    out[::d1, ::d2] = w
    return out


def _padded(x: np.ndarray, padding: Pair) -> np.ndarray:
    (p1, p2) = padding
    return np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)) -> np.ndarray:
    """One ``'valid'`` N-d correlation per output channel, then stride subsampling."""
    xpad, kernel = _padded(x, padding), _dilated(w, dilation)
    y = np.stack(
        [
            scipy.signal.correlate(xpad, kernel[None, ..., o], mode="valid")[..., 0]
            for o in range(w.shape[3])
        ],
        axis=-1,
    )[:, :: stride[0], :: stride[1]]
    return y if b is None else y + b


def conv2d_backward(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The adjoints of the correlation: ``(dx, dw, db)``.

    Put ``dy`` back on the stride-1 grid (zeros between strided positions). Then
    ``dw[..., o]`` is the 'valid' correlation of the padded image with that grid's
    channel ``o`` (sampled every ``d``-th tap), and the padded ``dx`` is the full
    convolution of the grid with the kernel: a 'valid' correlation of the grid, padded
    by the dilated kernel size - 1, with the spatially flipped kernel, summed over
    C_out; cropping the padding gives ``dx``.
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    xpad, kernel = _padded(x, padding), _dilated(w, dilation)
    K1, K2 = kernel.shape[:2]
    grid = np.zeros((dy.shape[0], xpad.shape[1] - K1 + 1, xpad.shape[2] - K2 + 1, dy.shape[3]))
    grid[:, ::s1, ::s2] = dy
    dw = np.stack(
        [
            scipy.signal.correlate(xpad, grid[..., o, None], mode="valid")[0, ::d1, ::d2]
            for o in range(dy.shape[3])
        ],
        axis=-1,
    )
    framed = np.pad(grid, ((0, 0), (K1 - 1, K1 - 1), (K2 - 1, K2 - 1), (0, 0)))
    flipped = kernel[::-1, ::-1]
    dxpad = np.stack(
        [
            scipy.signal.correlate(framed, flipped[None, :, :, c, :], mode="valid")[..., 0]
            for c in range(x.shape[3])
        ],
        axis=-1,
    )
    dx = dxpad[:, p1 : p1 + x.shape[1], p2 : p2 + x.shape[2]]
    return dx, dw, dy.sum(axis=(0, 1, 2))


# --- Batch norm (NumPy) ------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` over axis 0 (biased variance)."""
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return gamma * xhat + beta


def batchnorm_backward(dy, x, gamma, eps=1e-5):
    """``dx = gamma / sigma * (dy - mean(dy) - xhat * mean(dy * xhat))``, dgamma, dbeta."""
    sigma = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / sigma
    dgamma, dbeta = (dy * xhat).sum(axis=0), dy.sum(axis=0)
    dx = gamma / sigma * (dy - dy.mean(axis=0) - xhat * (dy * xhat).mean(axis=0))
    return dx, dgamma, dbeta


# --- Softmax and cross-entropy (scipy.special) -------------------------------------


def softmax(z, axis=-1) -> np.ndarray:
    """``scipy.special.softmax``."""
    return scipy.special.softmax(z, axis=axis)


def softmax_jacobian(z) -> np.ndarray:
    """``diag(S) - S S^T`` per row, with ``S = scipy.special.softmax(z)``."""
    S = scipy.special.softmax(z, axis=-1)
    return S[..., :, None] * np.eye(S.shape[-1]) - S[..., :, None] * S[..., None, :]


def cross_entropy(y, z) -> np.ndarray:
    """``-sum y * log_softmax(z)``: finite terms, so ``y_i = 0`` contributes exactly 0."""
    return -(y * scipy.special.log_softmax(z, axis=-1)).sum(axis=-1)


def cross_entropy_grad(y, z) -> np.ndarray:
    """``softmax(z) - y`` (the gradient when ``y`` sums to 1)."""
    return scipy.special.softmax(z, axis=-1) - y


# --- PSD problems (scipy.linalg.eigh) ----------------------------------------------


def moment_matching_points(mu, sigma) -> np.ndarray:
    """The 2m points ``mu ± sqrt(m d_i) u_i`` (eigenvalues clipped at 0)."""
    d, U = scipy.linalg.eigh(sigma)
    half = (U * np.sqrt(sigma.shape[0] * np.clip(d, 0.0, None))).T
    return mu + np.concatenate([half, -half])


def min_trace_frame(sigma, k) -> np.ndarray:
    """Eigenvectors of the k smallest eigenvalues (``eigh`` sorts them ascending).

    SciPy's default driver ``"evr"`` (LAPACK ``syevr``, MRRR): its frames are orthonormal
    to about m eps / 1e-3 on clustered eigenvalues (LAPACK's documented MINRGP), within
    the accuracy policy (``properties.tolerance.psd``).
    """
    return scipy.linalg.eigh(sigma)[1][:, :k]

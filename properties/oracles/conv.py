"""Independent oracles of the convolution chapter: the definition looped, and SciPy's route."""

from __future__ import annotations

import numpy as np
import scipy  # scipy.signal loads on first use (SciPy's lazy submodules): 1.5 s a process

__all__ = ["conv2d_definition", "conv2d_scipy", "count_windows"]


def window_starts(n: int, k: int, s: int, p: int, d: int) -> list[int]:
    """Output positions along one axis, found by trying every start (no size formula).

    Output position ``i`` reads padded positions ``s i + d u`` for ``u < k``; it exists
    when the last of them, ``s i + d (k - 1)``, is inside the ``n + 2p`` padded positions.
    """
    return [i for i in range(n + 2 * p) if s * i + d * (k - 1) <= n + 2 * p - 1]


def count_windows(n: int, k: int, s: int, p: int, d: int) -> int:
    """How many dilated windows fit along one axis: the definition's own output size."""
    return len(window_starts(n, k, s, p, d))


def conv2d_definition(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    dilation: tuple[int, int] = (1, 1),
) -> tuple[np.ndarray, np.ndarray]:
    """The definition, looped: returns ``(y, sum of |terms|)`` (the second for tolerances).

    Output positions are those whose dilated window fits in the padded input, found by
    trying every start (no formula); padding is index checking (a tap outside the input
    reads zero), not ``np.pad``. Loops over output positions and kernel taps; only the
    batch and channel axes are vectorised.
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    B, W, H, _ = x.shape
    k1, k2, _, C_out = w.shape
    rows = window_starts(W, k1, s1, p1, d1)
    cols = window_starts(H, k2, s2, p2, d2)
    y = np.zeros((B, len(rows), len(cols), C_out))
    size = np.zeros_like(y)
    for i in rows:
        for j in cols:
            for u in range(k1):
                for v in range(k2):
                    r, c = s1 * i + d1 * u - p1, s2 * j + d2 * v - p2  # unpadded index
                    if 0 <= r < W and 0 <= c < H:
                        y[:, i, j, :] += x[:, r, c, :] @ w[u, v]
                        size[:, i, j, :] += np.abs(x[:, r, c, :]) @ np.abs(w[u, v])
    if b is not None:
        y += b
        size += np.abs(b)
    return y, size


def conv2d_scipy(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    dilation: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """SciPy's 2D correlation, mode 'valid' on the ``np.pad``-ed input, summed over c.

    Dilation inserts ``d - 1`` zeros between kernel taps; stride keeps every s-th
    stride-1 output. ``method='direct'`` so the error model is that of a sum of products
    (FFT would err relative to the norm of the whole array).
    """
    (s1, s2), (p1, p2), (d1, d2) = stride, padding, dilation
    B, _, _, C_in = x.shape
    k1, k2, _, C_out = w.shape
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    dilated = np.zeros((d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1, C_in, C_out))
    dilated[::d1, ::d2] = w
    y = np.zeros(
        (B, xpad.shape[1] - dilated.shape[0] + 1, xpad.shape[2] - dilated.shape[1] + 1, C_out)
    )
    for n in range(B):
        for c in range(C_in):
            for o in range(C_out):
                y[n, :, :, o] += scipy.signal.correlate(
                    xpad[n, :, :, c], dilated[:, :, c, o], mode="valid", method="direct"
                )
    y = y[:, ::s1, ::s2]
    return y if b is None else y + b

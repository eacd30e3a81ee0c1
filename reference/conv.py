"""Conv2D, channels-last: the output shape and the zero-padded cross-correlation.

Conventions (the contract): images are ``(B, W, H, C)``; ``kernel_size=(k1, k2)``,
``stride=(s1, s2)``, ``padding=(p1, p2)``, ``dilation=(d1, d2)``, the first element
acting along W and the second along H; ``p1`` zeros are added on both sides along W,
``p2`` on both sides along H. Along one axis a dilated kernel spans
``d (k - 1) + 1`` input positions, so the number of output positions is

    W' = floor((W + 2 p1 - d1 (k1 - 1) - 1) / s1) + 1        (and H' likewise)

and the output is empty (an error here) when ``W + 2 p1 < d1 (k1 - 1) + 1``.

``conv2d`` computes, for every batch b, output position (i, j) and channel o,

    y[b, i, j, o] = bias[o] + sum_{u, v, c} xpad[b, s1 i + d1 u, s2 j + d2 v, c] w[u, v, c, o]

(cross-correlation: the kernel is not flipped, as deep-learning frameworks define it).
It is vectorised as im2col: ``np.pad``, a strided window view from
``sliding_window_view`` (stride and dilation are slices of that view, so nothing is
copied yet), then one BLAS matrix product of the ``(B W' H', k1 k2 C_in)`` patch
matrix with the ``(k1 k2 C_in, C_out)`` kernel matrix. Measured fastest of the NumPy
options for float64 on this machine (see ``benchmarks/bench_conv.py``).

One validation mechanism serves both functions: ``conv2d`` derives its geometry from the
same private routine as ``conv2d_output_shape`` and only adds the checks that concern
array values (real, finite, bias shape, an output that fits in float64).

The size formula is written once, in ``output_size``: the suite's strategies, tests and
catalogue import it from here (the independent check is the count of fitting windows in
``properties/oracles/conv.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference.contract import Record, bad

Pair = tuple[int, int]

__all__ = ["conv2d", "conv2d_output_shape", "output_size"]


def output_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """The theorem's output size along one axis: ``floor((n + 2p - d(k - 1) - 1) / s) + 1``.

    Exact integer arithmetic (Python's ``//`` floors), so any magnitude is exact. A
    result < 1 means the output is empty (the dilated kernel, spanning ``d (k - 1) + 1``
    positions, does not fit in the ``n + 2p`` padded ones).

    >>> output_size(32, 3, 2, 1, 1), output_size(10**30, 3, 7, 0, 2)
    (16, 142857142857142857142857142857)
    """
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _is_int(value: Any) -> bool:
    """A plain integer (Python or NumPy), not a bool and not a float that happens to be whole."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _pair(name: str, value: Any, minimum: int) -> Pair:
    """Validate a 2-tuple of ints >= ``minimum`` (kernel_size, stride, padding, dilation)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"{name}: expected a tuple of two ints, got {value!r}")
    if not all(_is_int(v) for v in value):
        raise ValueError(f"{name}: expected ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{name}: every element must be >= {minimum}, got {tuple(value)!r}")
    return int(value[0]), int(value[1])


def _geometry(
    input_shape: Any,
    out_channels: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    *,
    input_name: str = "input_shape",
    out_name: str = "out_channels",
    kernel_name: str = "kernel_size",
) -> tuple[tuple[int, int, int, int], Pair, Pair, Pair, Pair]:
    """Validate every geometric argument and return (output shape, k, s, p, d).

    ``conv2d`` passes the names of its own arguments (``x``, ``w``) so that errors name
    what the caller actually wrote.
    """
    if not isinstance(input_shape, tuple | list):
        raise ValueError(
            f"{input_name}: expected a tuple of 4 Python ints (B, W, H, C_in), "
            f"got a {type(input_shape).__module__}.{type(input_shape).__qualname__} "
            f"{input_shape!r}"
        )
    if len(input_shape) != 4:
        raise ValueError(
            f"{input_name}: expected 4 dimensions (B, W, H, C_in), got {input_shape!r}"
        )
    if not all(_is_int(n) for n in input_shape) or min(input_shape) < 1:
        raise ValueError(f"{input_name}: (B, W, H, C_in) must be ints >= 1, got {input_shape!r}")
    if not _is_int(out_channels) or out_channels < 1:
        raise ValueError(
            f"{out_name}: the number of output channels must be an int >= 1, got {out_channels!r}"
        )
    k = _pair(kernel_name, kernel_size, 1)
    s = _pair("stride", stride, 1)
    p = _pair("padding", padding, 0)
    d = _pair("dilation", dilation, 1)
    B, W, H, _ = (int(n) for n in input_shape)
    out = []
    for axis, n, ka, sa, pa, da in (
        ("W", W, k[0], s[0], p[0], d[0]),
        ("H", H, k[1], s[1], p[1], d[1]),
    ):
        size = output_size(n, ka, sa, pa, da)
        if size < 1:
            raise ValueError(
                f"{kernel_name}: empty output along {axis}: the dilated kernel spans "
                f"{da * (ka - 1) + 1} positions but the padded input has only "
                f"{n} + 2*{pa} = {n + 2 * pa}"
            )
        out.append(size)
    return (B, out[0], out[1], int(out_channels)), k, s, p, d


def conv2d_output_shape(
    input_shape: Sequence[int],
    out_channels: int,
    kernel_size: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> tuple[int, int, int, int]:
    """Shape ``(B, W', H', C_out)`` of a Conv2D output on inputs of shape ``(B, W, H, C_in)``.

    ``W' = floor((W + 2 p1 - d1 (k1 - 1) - 1) / s1) + 1``, likewise H' with index 2.
    Raises ValueError naming the argument when an argument is invalid (wrong length,
    non-int, kernel/stride/dilation < 1, padding < 0, sizes < 1) or the output would be
    empty.

    >>> conv2d_output_shape((8, 32, 30, 3), 16, (3, 5), stride=(2, 1), padding=(1, 0))
    (8, 16, 26, 16)
    """
    return _geometry(input_shape, out_channels, kernel_size, stride, padding, dilation)[0]


def _finite_array(name: str, value: Any, ndim: int, layout: str) -> np.ndarray:
    """Convert to float64 after checking rank, real dtype and finiteness."""
    array = np.asarray(value)
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions {layout}, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains non-finite values (NaN or inf)")
    return array


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> np.ndarray:
    """Zero-padded 2D cross-correlation of ``x: (B, W, H, C_in)`` with ``w: (k1, k2, C_in, C_out)``.

    Returns ``(B, W', H', C_out)`` float64 with
    ``y[n, i, j, o] = b[o] + sum_{u,v,c} xpad[n, s1 i + d1 u, s2 j + d2 v, c] w[u, v, c, o]``.
    Raises ValueError naming the argument for wrong ranks, a channel mismatch between x
    and w, a bias not of shape ``(C_out,)``, non-finite, complex or bool values, finite
    inputs so large that the output overflows float64, and every geometric error of
    ``conv2d_output_shape`` (the same validation, shared).

    >>> conv2d(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), np.array([0.5]))[0, :, :, 0]
    array([[4.5, 4.5],
           [4.5, 4.5]])
    """
    x = _finite_array("x", x, 4, "(B, W, H, C_in)")
    w = _finite_array("w", w, 4, "(k1, k2, C_in, C_out)")
    if w.shape[2] != x.shape[3]:
        raise ValueError(
            f"w: has {w.shape[2]} input channels (axis 2) but x has {x.shape[3]} (axis 3)"
        )
    if b is not None:
        b = _finite_array("b", b, 1, "(C_out,)")
        if b.shape != (w.shape[3],):
            raise ValueError(f"b: expected shape ({w.shape[3]},) (C_out), got {b.shape}")
    (_, W_out, H_out, _), (k1, k2), (s1, s2), (p1, p2), (d1, d2) = _geometry(
        x.shape,
        w.shape[3],
        w.shape[:2],
        stride,
        padding,
        dilation,
        input_name="x",
        out_name="w",
        kernel_name="w",
    )
    xpad = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    # (B, Wp - span1 + 1, Hp - span2 + 1, C_in, span1, span2): a view, no copy.
    windows = sliding_window_view(xpad, (d1 * (k1 - 1) + 1, d2 * (k2 - 1) + 1), axis=(1, 2))
    patches = windows[:, ::s1, ::s2, :, ::d1, ::d2]  # still a view: (B, W', H', C_in, k1, k2)
    assert patches.shape[1:3] == (W_out, H_out)
    # im2col: order the patch axes (k1, k2, C_in) like w's first three, so the one copy
    # (the reshape) reads C_in contiguously and w is already the (K, C_out) kernel matrix.
    B, C_out = x.shape[0], w.shape[3]
    K = k1 * k2 * x.shape[3]
    columns = patches.transpose(0, 1, 2, 4, 5, 3).reshape(B * W_out * H_out, K)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        y = (columns @ w.reshape(K, C_out)).reshape(B, W_out, H_out, C_out)  # one BLAS GEMM
        if b is not None:
            y += b
    if not np.isfinite(y).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
        raise ValueError(
            f"x: finite inputs, but the output overflows float64 at index {where} "
            f"(max|x| = {np.abs(x).max():.3g}, max|w| = {np.abs(w).max():.3g}, "
            f"K = k1 k2 C_in = {K} products per entry): scale x or w down"
        )
    return y


# --- the contract records (reference.contract) ---------------------------------------

_X = np.zeros((1, 4, 4, 2))
_W = np.zeros((2, 2, 2, 3))
_SHAPE = (1, 4, 4, 2)


def _with(array: np.ndarray, value: float) -> np.ndarray:
    """``array`` with its first entry replaced by ``value``."""
    out = array.copy()
    out.flat[0] = value
    return out


#: a wrong rank's message spells the argument's layout
_LAYOUT = {
    "x": r"^x: expected 4 dimensions \(B, W, H, C_in\), got shape",
    "w": r"^w: expected 4 dimensions \(k1, k2, C_in, C_out\), got shape",
    "b": r"^b: expected 1 dimensions \(C_out,\), got shape",
    "dy": r"^dy: expected 4 dimensions \(B, W', H', C_out\), got shape",
}
#: the message of w = zeros((2, 2, 3, 4)) against x = _X: both channel counts
_CHANNELS = r"^w: has 3 input channels \(axis 2\) but x has 2 \(axis 3\)$"

CONTRACT = [
    Record(
        "conv2d_output_shape",
        "(input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1))",
        error_inputs=[
            bad("input_shape", (1, 4, 4), 3, (2, 2)),
            bad("input_shape", (1, 4, 0, 2), 3, (2, 2)),
            bad("input_shape", (1, 4.0, 4, 2), 3, (2, 2)),
            bad("out_channels", _SHAPE, 0, (2, 2)),
            bad("out_channels", _SHAPE, 3.0, (2, 2)),
            bad("kernel_size", _SHAPE, 3, (0, 2)),
            bad("kernel_size", _SHAPE, 3, (2, 2, 2)),
            bad("kernel_size", _SHAPE, 3, 2),
            bad("kernel_size", _SHAPE, 3, (9, 1), id="empty-output"),
            # the message's numbers: the kernel's span against the padded size, per axis
            bad(
                "kernel_size",
                _SHAPE,
                3,
                (9, 1),
                padding=(1, 0),
                match=r"^kernel_size: empty output along W: the dilated kernel spans 9 "
                r"positions but the padded input has only 4 \+ 2\*1 = 6$",
            ),
            bad(
                "kernel_size",
                _SHAPE,
                3,
                (1, 9),
                padding=(0, 2),
                match=r"^kernel_size: empty output along H: the dilated kernel spans 9 "
                r"positions but the padded input has only 4 \+ 2\*2 = 8$",
            ),
            bad("stride", _SHAPE, 3, (2, 2), (1, 0)),
            bad("padding", _SHAPE, 3, (2, 2), (1, 1), (1.5, 0)),
            bad("dilation", _SHAPE, 3, (2, 2), (1, 1), (0, 0), (1, -1)),
            bad(
                "input_shape",
                np.array(_SHAPE),
                3,
                (2, 2),
                match=r"^input_shape: .*a tuple of 4 Python ints .*, got a numpy\.ndarray ",
            ),
            bad("input_shape", (1, True, 4, 2), 3, (2, 2), match=r"^input_shape: .*must be ints"),
            bad("out_channels", _SHAPE, True, (2, 2), match=r"^out_channels: .*an int >= 1"),
            bad("kernel_size", _SHAPE, 3, (2, False), match=r"^kernel_size: .*expected ints"),
        ],
    ),
    Record(
        "conv2d",
        "(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1))",
        error_inputs=[
            bad("x", x=np.zeros((4, 4, 2)), w=_W, match=_LAYOUT["x"]),
            bad("x", x=np.zeros((0, 4, 4, 2)), w=_W),
            bad("x", x=np.where(np.eye(4)[None, :, :, None] > 0, np.nan, _X), w=_W),
            bad("x", x=_with(_X, np.inf), w=_W),
            bad("x", x=_X.astype(complex), w=_W),
            bad("w", x=_X, w=np.zeros((2, 2, 2)), match=_LAYOUT["w"]),
            bad("w", x=_X, w=np.zeros((2, 2, 3, 4)), match=_CHANNELS, id="channel-mismatch"),
            bad("w", x=_X, w=np.zeros((0, 2, 2, 3)), id="empty-kernel"),
            bad("w", x=_X, w=np.zeros((2, 2, 2, 0)), id="no-output-channel"),
            bad("w", x=_X, w=_with(_W, -np.inf)),
            bad("w", x=_X, w=np.zeros((5, 2, 2, 3)), id="empty-output-W"),
            bad("w", x=_X, w=_W, dilation=(1, 4), id="empty-output-H"),
            bad("b", x=_X, w=_W, b=np.zeros(2)),
            bad("b", x=_X, w=_W, b=np.zeros((3, 1)), match=_LAYOUT["b"]),
            bad("b", x=_X, w=_W, b=_with(np.zeros(3), np.nan)),
            bad("stride", x=_X, w=_W, stride=(0, 1)),
            bad("stride", x=_X, w=_W, stride=(1,)),
            bad("stride", x=_X, w=_W, stride=(1.0, 1)),
            bad("stride", x=_X, w=_W, stride=(True, 1)),
            bad("stride", x=_X, w=_W, stride=2),
            bad("padding", x=_X, w=_W, padding=(-1, 0)),
            bad("padding", x=_X, w=_W, padding=(0, 0, 0)),
            bad("dilation", x=_X, w=_W, dilation=(0, 1)),
            bad("dilation", x=_X, w=_W, dilation=(1, 1.5)),
            bad("x", x=np.zeros((1, 4, 4, 2), dtype=bool), w=_W, match="^x: expected real"),
            bad("w", x=_X, w=_W.astype(np.complex128), match="^w: expected real"),
            bad("b", x=_X, w=_W, b=np.zeros(3, dtype=bool), match="^b: expected real"),
            bad(
                "x",
                x=np.full((1, 2, 2, 1), 1e308),
                w=np.full((2, 2, 1, 1), 2.0),
                match=r"^x: finite inputs, but the output overflows float64 "
                r"at index \(0, 0, 0, 0\) ",
                id="overflow",
            ),
        ],
    ),
]

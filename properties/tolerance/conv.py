"""Error models of the conv chapter: the normwise pass/fail bound and the componentwise grade.

Pass/fail (the policy of ``tolerance.common``, normwise). An output entry
``y[b, i, j, o] = bias[o] + sum_c corr(x[b, :, :, c], w[:, :, c, o])[i, j]`` depends on the
whole padded plane ``x[b, :, :, c]`` and the kernel ``w[:, :, c, o]`` of every input
channel: an FFT or Winograd convolution spreads its rounding over them, so its error is
small relative to their norms, not to the entry's own terms. With the *normwise size*

    M[b, o] = sum_c ||x[b, :, :, c]||_2 ||w[:, :, c, o]||_1 + |bias[o]|

(the plane's 2-norm and the kernel's 1-norm: zero padding and the zeros of a dilated
kernel add nothing), one computed convolution may differ from the exact one by

    |y_hat - y| <= c u M + floor,        c = max(c_direct, c_fft),

where, with ``u`` the unit roundoff and ``gamma_n = n u / (1 - n u)``:

* ``c_direct u = gamma_{K+1}`` (K = k1 k2 C_in): a sum of the entry's K products and the
  bias in any order (Higham, *Accuracy and Stability*, eq. 3.5), since the entry's
  ``sum |terms|`` is at most ``sum_c ||window||_2 ||w_co||_2 <= M`` (Cauchy-Schwarz);
* ``c_fft u = 3 eps_L + sqrt(2) gamma_2 + gamma_{C_in} + u``: correlation by FFT of total
  length ``N = N1 N2`` with ``L = log2 N`` butterfly stages. Higham (ch. 24, Thm 24.2):
  a computed FFT has ``||fl(F x) - F x||_2 <= eps_L ||F x||_2``, ``eps_L = L eta / (1 -
  L eta)``, ``eta = mu + gamma_4 (sqrt(2) + mu)`` with twiddle factors accurate to
  ``mu = u``; the same argument entrywise (each output of the transform is a sum of
  unit-modulus multiples of the inputs, rounded along L butterflies) gives
  ``|fl(F w) - F w| <= eps_L ||w||_1`` in every entry. Per channel pair, with ``X = F x``
  (``||X||_2 = sqrt(N) ||x||_2``) and ``W = F w`` (``|W| <= ||w||_1``): the forward
  transforms err by ``eps_L sqrt(N) ||x||_2`` and ``eps_L ||w||_1`` (entrywise), the
  complex product by ``sqrt(2) gamma_2`` (Higham Lemma 3.5), the inverse (``F* / N``)
  by ``eps_L``, so ``||z_hat - z||_2 <= (3 eps_L + sqrt(2) gamma_2) ||x||_2 ||w||_1`` to
  first order, and one entry is at most the 2-norm. Summing the ``C_in`` channels (in space
  or in frequency) adds ``gamma_{C_in}``, adding the bias ``u``. ``N_i`` is at most the
  power of two at or above the full correlation length ``W + 2p + d(k - 1)`` (SciPy's
  ``next_fast_len`` and every radix-2 route stay below it), so ``L = sum_i
  ceil(log2 N_i)``.

The exact value then lies within ``c u M`` of each computation, so two computations
(an implementation and an oracle, or two calls of an implementation in a law) differ
by at most twice that. ``floor`` lets subnormal results and intermediates flush to zero:
each flushed value errs by less than ``FLUSH_FLOOR``; a direct sum rounds ``2(K + 1)``
times, an FFT route ``2 C_in N L`` times at most, and a flushed spectrum value is
multiplied by the kernel's transform (at most ``||w||_1``), hence
``floor = FLUSH_FLOOR (2(K + 1) + 2 C_in N L) (1 + max_o sum_c ||w_co||_1)``.

A float32 intermediate errs by ``2**-24 |y|`` and a 1e-10 relative error of a typical
output is far above ``c u M`` (about 1e-12 relative for the suite's sizes), so both are
still rejected; see the chapter's catalogue.

Accuracy grade (componentwise, recorded only): a direct sum of K products is within
``gamma_{K+1} sum |terms|`` of the exact entry, so two such computations differ by
``2 gamma_{K+1} sum |terms|`` (``dot_product_tol``, ``conv_difference_tol``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from properties.tolerance.common import (
    EPS,
    FLUSH_FLOOR,
    TINY,
    UNIT_ROUNDOFF,
    Bound,
    higham_gamma,
    safe_norm,
)

__all__ = [
    "ConvRounding",
    "assert_int_shape",
    "conv2d_bound",
    "conv2d_componentwise_bound",
    "conv2d_linearity_bound",
    "conv2d_linearity_componentwise_bound",
    "conv2d_rounding",
    "conv_difference_tol",
    "conv_linearity_tol",
    "dot_product_tol",
    "fft_error",
]

Pair = tuple[int, int]


# --- The normwise (pass/fail) model ---------------------------------------------------


def fft_error(L: int) -> float:
    """Higham's ``eps_L = L eta / (1 - L eta)`` for an FFT of ``L`` stages (Thm 24.2).

    ``eta = mu + gamma_4 (sqrt(2) + mu)`` with twiddle factors accurate to ``mu = u``.
    """
    u = UNIT_ROUNDOFF
    eta = u + higham_gamma(4) * (math.sqrt(2) + u)
    return L * eta / (1 - L * eta)


class ConvRounding(NamedTuple):
    """The normwise error model of one computed ``conv2d(x, w, b)`` (see the module doc)."""

    size: np.ndarray  # M[b, o] as (B, 1, 1, C_out): sum_c ||x_bc||_2 ||w_co||_1 + |b_o|
    c: float  # max(c_direct, c_fft) u: the relative error allowed against M
    floor: float  # FLUSH_FLOOR * (roundings that may flush) * (1 + max_o ||w_o||_1)
    K: int  # products per output entry, k1 k2 C_in
    L: int  # FFT stages, sum_i ceil(log2 N_i)

    @property
    def tol(self) -> np.ndarray:
        """``c M + floor``: how far one computation may be from the exact output."""
        return self.c * self.size + self.floor

    def why(self, computations: int) -> str:
        """The reason, in one line, for ``computations`` computations compared."""
        return (
            f"normwise: {computations} x (c u M + floor), c u = max(gamma_(K+1), "
            f"3 eps_L + sqrt2 gamma_2 + gamma_Cin + u) = {self.c:.3g} with K = {self.K}, "
            f"L = {self.L} FFT stages; M = sum_c ||x_plane||_2 ||w_co||_1 + |b|"
        )


def conv2d_rounding(
    x_abs: np.ndarray,
    w_abs: np.ndarray,
    b_abs: np.ndarray | None = None,
    *,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> ConvRounding:
    """The normwise model for inputs of entrywise magnitudes ``x_abs``, ``w_abs``, ``b_abs``.

    Magnitudes rather than values, so that a law can pass ``|a| |x1| + |x2|``: ``M`` is
    monotone in them. ``stride`` does not enter (a strided FFT route subsamples the
    stride-1 result).
    """
    del stride  # the stride-1 result bounds every strided one
    _, W, H, C_in = np.shape(x_abs)
    k1, k2, _, _ = np.shape(w_abs)
    plane = safe_norm(x_abs, (1, 2))  # (B, C_in): ||x_bc||_2
    kernel = np.sum(w_abs, axis=(0, 1))  # (C_in, C_out): ||w_co||_1
    size = (plane @ kernel)[:, None, None, :]
    if b_abs is not None:
        size = size + b_abs
    K = k1 * k2 * C_in
    lengths = [
        n + 2 * p + d * (k - 1)
        for n, p, k, d in zip((W, H), padding, (k1, k2), dilation, strict=True)
    ]
    L = sum(max(1, math.ceil(math.log2(n))) for n in lengths)
    N = math.prod(2 ** math.ceil(math.log2(n)) for n in lengths)
    u = UNIT_ROUNDOFF
    c_fft = 3 * fft_error(L) + math.sqrt(2) * higham_gamma(2) + higham_gamma(C_in) + u
    c = max(higham_gamma(K + 1), c_fft)
    flushes = 2 * (K + 1) + 2 * C_in * N * L
    floor = FLUSH_FLOOR * flushes * (1 + float(kernel.sum(axis=0).max(initial=0.0)))
    return ConvRounding(np.asarray(size, dtype=np.float64), c, floor, K, L)


def conv2d_bound(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    *,
    computations: int = 2,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> Bound:
    """Pass/fail bound on the difference of ``computations`` computations of ``conv2d``.

    Each computation (the implementation under audit, an oracle: a direct sum is within
    ``gamma_{K+1} sum|terms| <= c u M`` too) is within ``c u M + floor`` of the exact
    output, so two differ by at most twice that. Broadcasts against ``(B, W', H', C_out)``.
    """
    model = conv2d_rounding(
        np.abs(x),
        np.abs(w),
        None if b is None else np.abs(b),
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    return Bound(computations * model.tol, model.why(computations))


def conv2d_linearity_bound(
    x_abs: np.ndarray,
    w_abs: np.ndarray,
    *,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> Bound:
    """Pass/fail bound on ``|conv(a x1 + x2) - (a conv(x1) + conv(x2))|`` (likewise in w).

    Pass ``x_abs = |a| |x1| + |x2|`` (or ``w_abs = |a| |w1| + |w2|``), whose normwise size
    ``M`` bounds those of all three convolutions. Forming ``z = fl(a x1 + x2)`` errs by
    ``gamma_2 (|a x1| + |x2|)``, carried to ``gamma_2 M``; ``conv(z)`` errs by
    ``c (1 + gamma_2) M``; the right side by ``c M`` and its combination by
    ``gamma_2 (1 + c) M``. Total ``(2c + 2 gamma_2 + 2 c gamma_2) M <= (2c + 3 gamma_2) M``
    (``c <= 1/2``), plus three floors.
    """
    model = conv2d_rounding(x_abs, w_abs, stride=stride, padding=padding, dilation=dilation)
    g2 = higham_gamma(2)
    tol = (2 * model.c + 3 * g2) * model.size + 3 * model.floor
    return Bound(tol, f"(2 c u + 3 gamma_2) M + 3 floor, {model.why(3)}")


# --- The componentwise (accuracy grade) model ----------------------------------------


def dot_product_tol(abs_sum: ArrayLike, K: int) -> np.ndarray:
    """Bound on the error of one computed sum of ``K`` products, given ``sum |products|``.

    ``gamma_K * sum |x_i w_i|``. ``abs_sum`` is itself computed in float64; as a sum of
    non-negative terms it is below the exact one by a factor at most ``1 - gamma_K``,
    hence the division. A Conv2D output entry is such a sum with ``K = k1 k2 C_in``
    products, plus one more term when a bias is added (``K + 1``, with ``|b|`` in
    ``abs_sum``). Tiny normal values have products that may underflow: each such
    product is off by at most half the smallest subnormal, hence the absolute term
    ``K * TINY``.
    """
    g = higham_gamma(K)
    return g * np.asarray(abs_sum, dtype=np.float64) / (1 - g) + K * TINY


def conv_difference_tol(abs_sum: ArrayLike, K: int) -> np.ndarray:
    """Allowed difference of two computations of the same sum of ``K`` products.

    Twice ``dot_product_tol``: each computation is within it of the exact value.
    """
    return 2 * dot_product_tol(abs_sum, K)


def conv_linearity_tol(abs_sum: ArrayLike, K: int) -> np.ndarray:
    """Allowed ``|conv(a x1 + x2) - (a conv(x1) + conv(x2))|`` (likewise in w), entrywise.

    ``abs_sum = |a| A1 + A2`` with ``Ai`` the sums of |terms| of ``conv(xi)``. Forming
    ``z = fl(a x1 + x2)`` errs by ``<= EPS (|a x1| + |x2|)`` per entry, which conv carries
    to ``EPS * abs_sum``; computing ``conv(z)`` adds ``gamma_K (1 + EPS) abs_sum``. On the
    right, ``conv(x1)``, ``conv(x2)`` err by ``gamma_K Ai`` and ``fl(a c1 + c2)`` by
    ``EPS (1 + gamma_K) abs_sum``. Total ``(2 gamma_K + 2 EPS) abs_sum`` to first order;
    ``3 EPS`` covers the second-order terms, and ``4 K`` TINY the underflows of four convs.
    """
    g = higham_gamma(K)
    return (2 * g + 3 * EPS) * np.asarray(abs_sum, dtype=np.float64) / (1 - g) + 4 * K * TINY


def conv2d_componentwise_bound(abs_sum: ArrayLike, K: int) -> Bound:
    """The grade: two direct computations differ by ``2 gamma_{K+1} sum |terms|``."""
    return Bound(
        conv_difference_tol(abs_sum, K + 1),
        f"componentwise: 2 gamma_(K+1) sum|terms|, K = k1 k2 C_in = {K}, plus underflows",
    )


def conv2d_linearity_componentwise_bound(abs_sum: ArrayLike, K: int) -> Bound:
    """The grade of the linearity laws: ``conv_linearity_tol`` with its reason."""
    return Bound(
        conv_linearity_tol(abs_sum, K),
        "componentwise: (2 gamma_K + 3 EPS)(|a| A1 + A2), see conv_linearity_tol",
    )


# --- Shapes ---------------------------------------------------------------------------


def assert_int_shape(observed: object, expected: tuple[int, ...], *, call: str) -> None:
    """Assert ``observed`` is a tuple of integers equal to ``expected``, exactly.

    A shape is a tuple of ints: a float (``2.0``, or an unfloored ``3.5``) is not one,
    whatever its value. The contract passes results through ``numpy.asarray`` element by
    element, so each element arrives as a 0-d array: an integer dtype, or ``object``
    holding a Python int when it exceeds int64 (Python ints have any size).
    """
    __tracebackhide__ = True
    assert isinstance(observed, tuple), (
        f"{call} returned {observed!r} ({type(observed).__name__}), but should return "
        f"the tuple {expected}"
    )
    values = []
    for part in observed:
        value = np.asarray(part)
        item = value.item() if value.ndim == 0 else None
        is_int = value.dtype.kind in "iu" or (
            value.dtype == object and isinstance(item, int) and not isinstance(item, bool)
        )
        assert value.ndim == 0 and is_int, (
            f"{call} returned {observed!r}: {part!r} is not an int (dtype {value.dtype}); "
            f"a shape is a tuple of ints, here {expected}"
        )
        values.append(int(item))
    assert tuple(values) == tuple(expected), (
        f"out={tuple(values)}, but should be {tuple(expected)} [{call}]"
    )

"""Error models of the conv-backward chapter: bounds on dx, dw, db (and the forward y).

Notation: x (B, W, H, C_in), w (k1, k2, C_in, C_out), dy (B, W', H', C_out); padded
sides Wp = W + 2 p1, Hp = H + 2 p2; dilated spans span_a = d_a (k_a - 1) + 1;
u = EPS / 2.

Every quantity is, entry by entry, a sum of products of two arrays A and B:

    quantity         A (all it depends on)     B                       products n
    dx[b, ., ., i]   dy[b]  (W' H' C_out)      w[:, :, i, :]           k1 k2 C_out
    dw[., ., i, o]   x[..., i]  (B W H)        dy[..., o]  (B W' H')   B W' H'
    db[o]            dy[..., o]                ones                    B W' H'
    y[b, ., ., o]    x[b]  (W H C_in)          w[..., o]  (and b[o])   k1 k2 C_in (+ 1)

(n counts the nonzero products at most: a tap in the padding or a dilation hole adds
none). ``||.||`` is the Frobenius norm over the whole of A and of B, as the accuracy
policy asks for convolution (the whole image plane and kernel, because FFT and Winograd
errors spread across the plane).

Pass/fail (normwise, ``conv_backward_bounds``). A backward-stable algorithm returns the
exact value for A + dA, B + dB with ``||dA|| <= c u ||A||`` and ``||dB|| <= c u ||B||``;
an entry's partial derivatives with respect to A are entries of B (and vice versa), so
by Cauchy-Schwarz its error is ``<= c u ||A|| ||B||`` to first order, plus ``u |value|``
(the output's own rounding), plus ``FLUSH_FLOOR c`` (each of the c rounded operations
may flush a subnormal result to zero and lose less than FLUSH_FLOOR). The count c:

* a direct sum (loop, GEMM, scatter-add, in any order) of n products errs by at most
  ``gamma_n sum |a_k b_k| <= gamma_n ||A|| ||B||`` (Higham, eq. 3.5, then
  Cauchy-Schwarz): n roundings;
* an FFT route: a 2-D transform of N points has normwise relative error
  ``log2(N) eta`` with ``eta = mu + gamma_4 (sqrt 2 + mu) < 7 u`` for twiddle factors
  accurate to ``mu <= u`` (Higham, Thm 24.2): ``FFT_LEVEL_ROUNDINGS = 7`` per level.
  Transforming both operands carries ``2 log2(N) 7 u ||A|| ||B||`` to each entry
  (Parseval); the inverse transform adds ``log2(N) 7 u ||a * b||_2`` and
  ``||a * b||_2 <= ||a||_2 ||b||_1 <= sqrt(m) ||a||_2 ||b||_2`` (Young), m the support
  of the smaller operand; the spectral product one more u. N is the padded plane plus
  the span per axis, each side possibly rounded up to a power of two:
  ``log2 N <= ceil(log2((Wp + span1)(Hp + span2))) + 2``.

  c = n + ceil(7 log2(N) (2 + sqrt(m))) + 1 covers both (the channel sum after an FFT
  has fewer than n terms).

Grade (componentwise, ``conv_backward_componentwise``): ``gamma_n sum |terms|``, the
bound a direct sum meets entry by entry; ``sum |terms|`` is an oracle's output on
``|dy|, |x|, |w|``.

Comparisons: against an oracle (a direct sum, within its componentwise bound) the
allowed difference is the implementation's bound plus the oracle's (``combined_bound``); a scalar
identity such as ``<x, dx> = <dy, y>`` is compared through ``inner_product_tol``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from properties.tolerance.common import FLUSH_FLOOR, UNIT_ROUNDOFF, Bound, higham_gamma, safe_norm

__all__ = [
    "FFT_LEVEL_ROUNDINGS",
    "ConvGradientBounds",
    "ConvRoundings",
    "combined_bound",
    "conv_backward_bounds",
    "conv_backward_componentwise",
    "conv_backward_roundings",
    "inner_product_tol",
    "linear_difference_step",
    "linear_difference_tol",
]

#: relative error of one radix-2 FFT level, in units of u: Higham's eta = mu +
#: gamma_4 (sqrt 2 + mu) = (1 + 4 sqrt 2) u = 6.66 u to first order, rounded up
FFT_LEVEL_ROUNDINGS = 7

Pair = tuple[int, int]


class ConvRoundings(NamedTuple):
    """Counts c of roundings (see the module docstring) and products n, per quantity."""

    dx: int
    dw: int
    db: int
    y: int  # the forward output with a bias
    n_dx: int  # products per entry of a direct sum: k1 k2 C_out
    n_dw: int  # B W' H'
    n_db: int  # B W' H'


class ConvGradientBounds(NamedTuple):
    """One ``Bound`` per gradient, each broadcasting against it."""

    dx: Bound
    dw: Bound
    db: Bound


def _fft_roundings(levels: int, support: int) -> int:
    return math.ceil(FFT_LEVEL_ROUNDINGS * levels * (2 + math.sqrt(support))) + 1


def conv_backward_roundings(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    dy_shape: tuple[int, ...],
    padding: Pair,
    dilation: Pair,
) -> ConvRoundings:
    """The counts c of the module docstring for one configuration (shapes and geometry)."""
    B, W, H, C_in = x_shape
    k1, k2, _, C_out = w_shape
    _, W_out, H_out, _ = dy_shape
    (p1, p2), (d1, d2) = padding, dilation
    reach = (W + 2 * p1 + d1 * (k1 - 1) + 1) * (H + 2 * p2 + d2 * (k2 - 1) + 1)
    levels = math.ceil(math.log2(reach)) + 2
    n_dx, n_dw, n_y = k1 * k2 * C_out, B * W_out * H_out, k1 * k2 * C_in + 1
    return ConvRoundings(
        dx=n_dx + _fft_roundings(levels, min(k1 * k2, W_out * H_out)),
        dw=n_dw + _fft_roundings(levels, min(W_out * H_out, W * H)),
        db=n_dw + 1,
        y=n_y + _fft_roundings(levels, min(k1 * k2, W * H)),
        n_dx=n_dx,
        n_dw=n_dw,
        n_db=n_dw,
    )


def _normwise(c: int, norm_product: np.ndarray, value: np.ndarray) -> np.ndarray:
    return higham_gamma(c) * norm_product + UNIT_ROUNDOFF * np.abs(value) + FLUSH_FLOOR * c


def conv_backward_bounds(
    dy: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    grads: tuple[np.ndarray, np.ndarray, np.ndarray],
    padding: Pair,
    dilation: Pair,
) -> ConvGradientBounds:
    """Pass/fail bounds on ``|computed - exact|`` for ``grads = (dx, dw, db)`` (normwise).

    ``gamma_c ||A|| ||B|| + u |value| + FLUSH_FLOOR c`` per entry, with A, B and c as in
    the module docstring; ``grads`` supplies ``|value|`` (the computed gradients: their
    own rounding is u |value| to first order either way).
    """
    c = conv_backward_roundings(x.shape, w.shape, dy.shape, padding, dilation)
    dy_b = safe_norm(dy, (1, 2, 3))  # (B,)
    w_i = safe_norm(w, (0, 1, 3))  # (C_in,)
    x_i = safe_norm(x, (0, 1, 2))  # (C_in,)
    dy_o = safe_norm(dy, (0, 1, 2))  # (C_out,)
    n_pos = dy.shape[0] * dy.shape[1] * dy.shape[2]
    dx, dw, db = grads
    return ConvGradientBounds(
        Bound(
            _normwise(c.dx, (dy_b[:, None] * w_i[None, :])[:, None, None, :], dx),
            f"normwise: gamma_c ||dy[b]|| ||w[:, :, i, :]|| + u|dx|, c = {c.dx} "
            f"(k1 k2 C_out = {c.n_dx} products + FFT levels)",
        ),
        Bound(
            _normwise(c.dw, x_i[:, None] * dy_o[None, :], dw),
            f"normwise: gamma_c ||x[..., i]|| ||dy[..., o]|| + u|dw|, c = {c.dw} "
            f"(B W' H' = {c.n_dw} products + FFT levels)",
        ),
        Bound(
            _normwise(c.db, math.sqrt(n_pos) * dy_o, db),
            f"normwise: gamma_c sqrt(B W' H') ||dy[..., o]|| + u|db|, c = {c.db}",
        ),
    )


def conv_backward_componentwise(
    sizes: tuple[np.ndarray, np.ndarray, np.ndarray], roundings: ConvRoundings
) -> ConvGradientBounds:
    """The grade's bounds: ``gamma_n sum |terms|`` per entry, a direct sum's guarantee.

    ``sizes = (|dy| *T |w|, |xpad| * |dy|, sum |dy|)``, an oracle's output on absolute
    values. ``sum |terms|`` computed in float64 is below the exact one by a factor at most
    ``1 - gamma_n`` (a sum of non-negative terms), hence the division.
    """
    n = (roundings.n_dx, roundings.n_dw, roundings.n_db)
    tols = [
        higham_gamma(k) * np.asarray(s) / (1 - higham_gamma(k)) + FLUSH_FLOOR * k
        for s, k in zip(sizes, n, strict=True)
    ]
    names = ("k1 k2 C_out", "B W' H'", "B W' H'")
    return ConvGradientBounds(
        *(
            Bound(t, f"componentwise: gamma_n sum|terms|, n = {name} = {k}")
            for t, name, k in zip(tols, names, n, strict=True)
        )
    )


def combined_bound(first: Bound, second: Bound) -> Bound:
    """Allowed difference of two results within ``first`` and ``second`` of the same value."""
    return Bound(np.asarray(first.tol) + np.asarray(second.tol), f"{first.why}; plus {second.why}")


def inner_product_tol(a: np.ndarray, b_hat: np.ndarray, b_tol: np.ndarray | float) -> float:
    """Bound on ``|math.fsum(a * b_hat) - <a, b>|`` when ``|b_hat - b| <= b_tol``, a exact.

    ``sum |a| b_tol`` (the error carried in ``b_hat``) + ``u sum |a b_hat|`` (each
    product rounds once; ``fsum`` adds exactly, then rounds once: ``u |result|``) +
    ``FLUSH_FLOOR`` per product (a product in the subnormal range).
    """
    a, b_hat = np.asarray(a, dtype=np.float64), np.asarray(b_hat, dtype=np.float64)
    products = np.abs(a * b_hat)
    result = abs(math.fsum((a * b_hat).ravel()))
    carried = float((np.abs(a) * np.broadcast_to(b_tol, a.shape)).sum())
    return (
        carried
        + UNIT_ROUNDOFF * (float(products.sum()) + result) * (1 + 2 * UNIT_ROUNDOFF)
        + FLUSH_FLOOR * a.size
    )


def linear_difference_step(x: np.ndarray, v: np.ndarray) -> float:
    """Step h for a central difference of a function LINEAR in x along v: a power of two.

    A linear function's central difference has no truncation error, so h only weighs
    the rounding at ``x +- h v`` (proportional to ``||x|| + h ||v||``, divided by h):
    ``h >= ||x|| / ||v||`` keeps it within twice its floor ``||v||``. A power of two makes
    ``h v`` and the division by ``2 h`` exact; ``h >= 1`` keeps the stencil's values
    from underflowing.
    """
    ratio = float(np.linalg.norm(x)) / max(float(np.linalg.norm(v)), 1e-300)
    return 2.0 ** max(0, math.ceil(math.log2(ratio))) if ratio > 0 else 1.0


def linear_difference_tol(tol_plus: float, tol_minus: float, h: float, estimate: float) -> float:
    """Bound on the error of ``(l(x + h v) - l(x - h v)) / (2 h)`` for l LINEAR in x.

    No truncation error: the exact difference quotient IS the directional derivative.
    Each evaluation is within ``tol_plus``, ``tol_minus`` of the exact value (including
    the rounding of forming ``x +- h v``); their difference rounds once (``u |estimate|``
    after the division) and dividing by ``2 h``, a power of two, is exact.
    """
    return (tol_plus + tol_minus) / (2 * h) + UNIT_ROUNDOFF * abs(estimate)

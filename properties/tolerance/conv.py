"""Error models of the conv chapter."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from properties.tolerance.common import EPS, TINY, higham_gamma

__all__ = [
    "conv_difference_tol",
    "conv_linearity_tol",
    "dot_product_tol",
]


# --- Convolution (Problem 1) -------------------------------------------------------


def dot_product_tol(abs_sum: ArrayLike, K: int) -> np.ndarray:
    """Bound on the error of one computed sum of ``K`` products, given ``sum |products|``.

    ``gamma_K * sum |x_i w_i|``. ``abs_sum`` is itself computed in float64; as a sum of
    non-negative terms it is below the exact one by a factor at most ``1 - gamma_K``,
    hence the division. A Conv2D output entry is such a sum with ``K = k1 k2 C_in``
    products, plus one more term when a bias is added (``K + 1``, with ``|b|`` in
    ``abs_sum``). The strategies keep ``|values| <= 1e3`` (no overflow) but allow tiny
    normal values, whose products may underflow: each such product is off by at most
    half the smallest subnormal, hence the absolute term ``K * TINY``.
    """
    g = higham_gamma(K)
    return g * np.asarray(abs_sum, dtype=np.float64) / (1 - g) + K * TINY


def conv_difference_tol(abs_sum: ArrayLike, K: int) -> np.ndarray:
    """Allowed difference of two computations of the same sum of ``K`` products.

    Twice ``dot_product_tol``: each computation is within it of the exact value.
    """
    return 2 * dot_product_tol(abs_sum, K)


def conv_linearity_tol(abs_sum: ArrayLike, K: int) -> np.ndarray:
    """Allowed ``|conv(a x1 + x2) - (a conv(x1) + conv(x2))|`` (likewise in w).

    ``abs_sum = |a| A1 + A2`` with ``Ai`` the sums of |terms| of ``conv(xi)``. Forming
    ``z = fl(a x1 + x2)`` errs by ``<= EPS (|a x1| + |x2|)`` per entry, which conv carries
    to ``EPS * abs_sum``; computing ``conv(z)`` adds ``gamma_K (1 + EPS) abs_sum``. On the
    right, ``conv(x1)``, ``conv(x2)`` err by ``gamma_K Ai`` and ``fl(a c1 + c2)`` by
    ``EPS (1 + gamma_K) abs_sum``. Total ``(2 gamma_K + 2 EPS) abs_sum`` to first order;
    ``3 EPS`` covers the second-order terms, and ``4 K`` TINY the underflows of four convs.
    """
    g = higham_gamma(K)
    return (2 * g + 3 * EPS) * np.asarray(abs_sum, dtype=np.float64) / (1 - g) + 4 * K * TINY

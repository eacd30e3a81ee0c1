"""Error models of the batchnorm chapter."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from properties.tolerance.common import EPS

__all__ = [
    "BatchNormErrorBounds",
    "batchnorm_error_bounds",
    "batchnorm_loss_rounding_scale",
]


# --- Batch normalisation -------------------------------------------------------------
#
# One first-order rounding model serves every batch-norm comparison. Notation, per
# feature j of a batch x of shape (m, d): mu, sigma^2 (biased), s = sqrt(sigma^2 + eps),
# xhat = (x - mu) / s, k = |gamma| / s, and xmax = max_i |x_ij| (the offset of the
# feature, not its spread, sets the rounding of the mean).
#
# Any float64 implementation that follows the definition (in any summation order,
# folded or not) computes:
#   * mu with error <= (m - 1) u mean|x| <= m u xmax (a sum of m terms, one division);
#   * x - mu (or the folded a*x - a*mu) with error <= 2 u xmax, so xhat is off by
#     about (m + 2) u xmax / s: the offset term, which dominates when xmax >> s;
#   * sigma^2 from centred values with relative error <= (m + 2) u, so s and xhat
#     carry a further relative error <= (m + 4) u.
# We write n = m + 10 for "the longest chain of roundings any entry goes through":
# m - 1 additions of a column sum plus fewer than ten elementwise operations. Each
# bound is stated with EPS = 2u where the analysis gives u; that factor 2 absorbs the
# second-order terms (O(n^2 u^2)) a first-order analysis drops. Results that underflow
# carry an absolute error of up to one subnormal spacing per operation, added as
# ``_subnormal_floor``.


def _subnormal_floor(n: int) -> float:
    """Absolute error of n operations whose results may land among the subnormals."""
    return n * float(np.finfo(np.float64).smallest_subnormal)


class BatchNormErrorBounds(NamedTuple):
    """Elementwise bounds on the rounding error of a float64 batch-norm computation."""

    xhat: np.ndarray  # (m, d) |computed xhat - xhat|
    y: np.ndarray  # (m, d) |computed y - y|
    dx: np.ndarray  # (m, d) |computed dx - dx|
    dgamma: np.ndarray  # (d,)
    dbeta: np.ndarray  # (d,)
    grad_bound: np.ndarray  # (m, d) G >= |dl/dx| for l = sum(dy * y), from the data alone


def batchnorm_error_bounds(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    dy: np.ndarray,
    eps: float,
    *,
    x_pad: ArrayLike = 0.0,
) -> BatchNormErrorBounds:
    """Rounding bounds for batch norm of ``x`` (m, d), as derived in the section header.

    ``x_pad`` (broadcast to x) widens |x| when the bound must hold at every point
    ``x + t v`` of a finite-difference stencil (``x_pad = 2 h |v|``).

    * ``xhat``: ``EPS n (xmax / s + |xhat|)`` (offset term + relative term).
    * ``y = gamma xhat + beta``: ``|gamma| err(xhat) + EPS (2 |gamma xhat| + |beta|)``.
    * ``dx = k (dy - mean(dy) - xhat mean(dy xhat))``: with
      ``A = |dy| + mean|dy| + |xhat| mean|dy xhat|`` (so ``|dx| <= G = k A``),
      ``k (EPS n A + err(xhat) mean|dy xhat| + |xhat| mean(|dy| err(xhat)))``: relative
      rounding of every term, plus the propagated error of xhat through both places
      it appears.
    * ``dgamma = sum dy xhat``: ``sum |dy| err(xhat) + EPS n sum |dy xhat|``;
      ``dbeta = sum dy``: ``EPS n sum |dy|``.
    """
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[0]
    n = m + 10
    floor = _subnormal_floor(n)
    mu = x.mean(axis=0)
    xc = x - mu
    s = np.sqrt((xc * xc).mean(axis=0) + eps)
    xhat = xc / s
    xmax = (np.abs(x) + np.asarray(x_pad)).max(axis=0)
    err_xhat = EPS * n * (xmax / s + np.abs(xhat)) + floor
    abs_gamma = np.abs(gamma)
    err_y = abs_gamma * err_xhat + EPS * (2 * np.abs(gamma * xhat) + np.abs(beta)) + floor
    ady = np.abs(dy)
    mean_dy_xhat = np.abs(dy * xhat).mean(axis=0)
    A = ady + ady.mean(axis=0) + np.abs(xhat) * mean_dy_xhat
    k = abs_gamma / s
    err_dx = (
        k * (EPS * n * A + err_xhat * mean_dy_xhat + np.abs(xhat) * (ady * err_xhat).mean(axis=0))
        + floor
    )
    err_dgamma = (ady * err_xhat).sum(axis=0) + EPS * n * np.abs(dy * xhat).sum(axis=0) + floor
    err_dbeta = EPS * n * ady.sum(axis=0) + floor
    return BatchNormErrorBounds(err_xhat, err_y, err_dx, err_dgamma, err_dbeta, k * A)


def batchnorm_loss_rounding_scale(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    dy: np.ndarray,
    eps: float,
    *,
    x_pad: ArrayLike = 0.0,
    gamma_pad: ArrayLike = 0.0,
    beta_pad: ArrayLike = 0.0,
) -> float:
    """``S`` with |computed l - l| <= EPS * S for ``l = fsum(dy * forward(x', gamma', beta'))``.

    Valid at every stencil point ``x' = fl(x + t v)`` (and likewise gamma', beta') with
    ``|t v| <= pad``: the ``rounding_scale`` that ``directional_difference`` needs. Terms:

    * the forward's own rounding, ``sum |dy| err(y)`` (``batchnorm_error_bounds``) — for
      an offset feature with tiny spread this is the ``m u xmax / s`` error of the mean
      times ``sum |dy gamma|``, far above ``u sum |dy y|``;
    * forming the stencil point rounds every input by ``u |x'|``, which moves l by at
      most ``u sum G |x'|`` (G bounds the gradient), and ``u sum |dy xhat| |gamma'|``,
      ``u sum |dy| |beta'|`` for the parameters;
    * the loss itself: each product ``dy * y`` rounds (u each) and ``math.fsum`` adds
      them exactly but for one final rounding: ``EPS sum |dy y|``.

    The first two terms are not optional. Measured with h = 1e-3 s on 2000 random
    batches with offset 1e3, spread 1e-3, m = 16, eps = 1e-8: the rule of thumb
    ``S = sum |dy y|`` was exceeded 207 times, by up to 1100x; with this S the worst
    observed error was 2.6% of the bound.
    """
    gamma_abs = np.abs(gamma) + np.asarray(gamma_pad)
    beta_abs = np.abs(beta) + np.asarray(beta_pad)
    bounds = batchnorm_error_bounds(x, gamma_abs, beta_abs, dy, eps, x_pad=x_pad)
    x_abs = np.abs(x) + np.asarray(x_pad)
    mu = x.mean(axis=0)
    s = np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    xhat = (x - mu) / s
    ady = np.abs(dy)
    y_abs = gamma_abs * np.abs(xhat) + beta_abs
    scale = (
        (ady * bounds.y).sum() / EPS
        + 0.5 * (bounds.grad_bound * x_abs).sum()
        + 0.5 * (np.abs(dy * xhat) * gamma_abs).sum()
        + 0.5 * (ady * beta_abs).sum()
        + (ady * y_abs).sum()
    )
    return float(scale)

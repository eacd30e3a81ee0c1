"""Error models of the batch-normalisation chapter, and the finite-difference steps.

Notation, per feature j of a batch x of shape (m, d) (the index j is dropped): mu,
sigma^2 (biased), s = sqrt(sigma^2 + eps), xhat = (x - mu) / s, g = dgamma =
<dy, xhat>, and P = I - 11^T/m - xhat xhat^T/m, so that the exact derivatives are

    dxhat = P dx' / s                        (the derivative of xhat along dx'),
    dx    = (gamma / s) P dy,   dgamma = <dy, xhat>,   dbeta = <dy, 1>.

P is symmetric with eigenvalues 0 (on 1), 1 - sigma^2/s^2 (on xhat) and 1: each row has
norm <= 1, and ||xhat||^2 = m sigma^2 / s^2 <= m.

We write n = m + 10 for "the longest chain of roundings any entry goes through": m - 1
additions of a column sum plus fewer than ten elementwise operations. Each bound is
stated with EPS = 2u where the analysis gives u; that factor 2 absorbs the
second-order terms a first-order analysis drops.

The pass/fail bound: backward stability, normwise per feature
-------------------------------------------------------------
The policy of ``properties.tolerance.common``: a correct implementation returns the
exact result for inputs perturbed by a few roundings measured normwise, plus u|output|,
plus a flush-to-zero floor. For batch norm, per feature column:

* x and dy perturbed by ``rho_x = n EPS ||x||_2`` and ``rho_dy = n EPS ||dy||_2`` in
  the 2-norm of the column (so a large offset of the feature counts: it is what sets
  the rounding of the mean), gamma and beta relatively by n EPS;
* and the two statistics, whose rounding is not a perturbation of x: ``x - fl(mu)``
  need not sum to zero, and ``fl(sigma^2)`` is not the variance of any nearby x. The
  mean is off by ``delta_mu = n EPS ||x|| / sqrt(m)`` (a sum of m terms,
  ``(m - 1) u mean|x|``), and s^2 = sigma^2 + eps relatively by n EPS (the sum of
  squares, the addition of eps, the sqrt).

Propagated through the exact derivatives, per entry (``batchnorm_stable_bounds``):

    y_i:    |gamma| (rho_x + delta_mu) / s + n EPS (|gamma xhat_i| (1 + 1/2) + |beta|)
    dx_i:   rho_x / (m s) (|dx_i| ||xhat|| + |gamma| (|g| + |xhat_i| ||P dy||) / s)
            + delta_mu |gamma| (|g| + |xhat_i| |dbeta|) / (m s^2)
            + |gamma| rho_dy / s + n EPS |dx_i| + (3/2) n EPS (|gamma| / s) A_i
    dgamma: ||xhat|| rho_dy + rho_x ||P dy|| / s + delta_mu |dbeta| / s + n EPS |g| / 2
    dbeta:  sqrt(m) rho_dy

with ``A_i = |dy_i| + |mean dy| + |xhat_i| |g| / m`` (so |dx_i| <= (|gamma|/s) A_i; the
3/2 is d log(xhat_i g / s) / d log s^2 for the 1/s^3 term of dx), each plus u|output|
and ``n FLUSH_FLOOR (1 + scale)`` (n operations may each flush a result below the
smallest normal; scale: the magnitudes that form the output). A one-pass variance
``E[x^2] - mu^2`` is off by about u mu^2, while the model allows sigma^2 to move by
about 2 n EPS sigma |mu| + n EPS s^2: it is rejected once |mu| >> 4 n sigma.

The componentwise grade (informational)
---------------------------------------
The tighter entrywise model that a straightforward algorithm meets
(``batchnorm_error_bounds``): the mean with error <= (m - 1) u mean|x| <= m u xmax, the
centring 2 u xmax, so xhat is off by about (m + 2) u xmax / s (the offset term), the
variance from centred values with relative error (m + 2) u; each product and sum
relative. Results that underflow carry one subnormal spacing (TINY) per operation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from properties.tolerance.common import (
    EPS,
    FLUSH_FLOOR,
    TINY,
    UNIT_ROUNDOFF,
    Bound,
    DirectionalDifference,
    safe_norm,
)

__all__ = [
    "STEP_AFFINE",
    "STEP_KEY",
    "STEP_X",
    "BatchNormBounds",
    "BatchNormErrorBounds",
    "KeyStatisticsBounds",
    "batchnorm_error_bounds",
    "batchnorm_exact_bounds",
    "batchnorm_loss_rounding_scale",
    "batchnorm_stable_bounds",
    "directional_bound",
    "dx_column_sum_bound",
    "eps_term_bound",
    "forward_mean_bound",
    "forward_variance_bound",
    "key_assembly_bounds",
    "key_dmu_bound",
    "key_dmu_loss_rounding_scale",
    "key_dmu_second_bound",
    "key_dvar_bound",
    "key_dvar_loss_rounding_scale",
    "key_dxhat_bound",
    "key_dxhat_loss_rounding_scale",
    "key_statistics_bounds",
    "shift_invariance_bounds",
    "twice",
]


# --- finite-difference steps ------------------------------------------------------------

#: finite-difference step for x, as a fraction of s = sqrt(sigma^2 + eps) per feature.
#: xhat depends on x only through (x - mu) / s, so s is the length over which l bends:
#: truncation is about (h/s)^2 = 1e-6 of the derivative, while rounding costs
#: EPS * m * (xmax / s) / (h/s) relative, at most ~1e-5 for an offset of 1e3 on a spread
#: near sqrt(1e-8). 1e-3 keeps both far below the O(1) relative error of any wrong formula.
STEP_X = 1e-3

#: step for gamma, beta and xhat, along directions of their own scale: l is affine in
#: each of them, so truncation is exactly 0 and a large step only shrinks rounding / h
#: (the Richardson term still measures any curvature a wrong forward would have).
STEP_AFFINE = 0.5

#: step for sigma^2 and mu in the key's partial derivatives, relative to s^2 and s: the
#: same reasoning as STEP_X (l bends over s in mu, over s^2 in sigma^2).
STEP_KEY = 1e-3


def _roundings(m: int) -> int:
    """Return n = m + 10, the longest chain of roundings of one entry (module docstring)."""
    return m + 10


class _Columns(NamedTuple):
    """Per-feature statistics in float64 (first order: their own rounding is negligible)."""

    mu: np.ndarray
    s: np.ndarray
    xhat: np.ndarray


def _columns(x: np.ndarray, eps: float) -> _Columns:
    mu = x.mean(axis=0)
    xc = x - mu
    s = np.sqrt((xc * xc).mean(axis=0) + eps)
    return _Columns(mu, s, xc / s)


# --- the pass/fail bound: backward stable, normwise per feature ---------------------------


class BatchNormBounds(NamedTuple):
    """Pass/fail bounds on each output of batch norm, each with its reason."""

    y: Bound  # (m, d)
    dx: Bound  # (m, d)
    dgamma: Bound  # (d,)
    dbeta: Bound  # (d,)
    grad_bound: np.ndarray  # (m, d) G >= |dl/dx| for l = sum(dy * y): (|gamma| / s) A


def batchnorm_stable_bounds(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    dy: np.ndarray,
    eps: float,
    *,
    x_pad: ArrayLike = 0.0,
    gamma_pad: ArrayLike = 0.0,
    beta_pad: ArrayLike = 0.0,
) -> BatchNormBounds:
    """Backward-stability bounds of y, dx, dgamma, dbeta (module docstring, first part).

    The pads (broadcast to x, gamma, beta) widen the magnitudes when the bound must hold
    at every point of a finite-difference stencil (``x_pad = 2 h |v|``).
    """
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[0]
    n = _roundings(m)
    col = _columns(x, eps)
    s, xhat = col.s, col.xhat
    abs_gamma = np.abs(gamma) + np.asarray(gamma_pad)
    abs_beta = np.abs(beta) + np.asarray(beta_pad)
    x_norm = safe_norm(np.abs(x) + np.asarray(x_pad), 0)
    rho_x = n * EPS * x_norm
    rho_dy = n * EPS * safe_norm(dy, 0)
    delta_mu = rho_x / np.sqrt(m)
    g = (dy * xhat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    xhat_norm = safe_norm(xhat, 0)
    p_dy = dy - dbeta / m - xhat * g / m
    p_dy_norm = safe_norm(p_dy, 0)
    k = abs_gamma / s
    A = np.abs(dy) + np.abs(dbeta) / m + np.abs(xhat) * np.abs(g) / m
    dx_abs = k * np.abs(p_dy)
    y_abs = abs_gamma * np.abs(xhat) + abs_beta

    def floor(scale: np.ndarray) -> np.ndarray:
        return n * FLUSH_FLOOR * (1 + scale)

    err_y = (
        k * (rho_x + delta_mu)
        + n * EPS * (1.5 * abs_gamma * np.abs(xhat) + abs_beta)
        + UNIT_ROUNDOFF * y_abs
        + floor(y_abs.max(axis=0))
    )
    err_dx = (
        rho_x / (m * s) * (dx_abs * xhat_norm + k * (np.abs(g) + np.abs(xhat) * p_dy_norm))
        + delta_mu * k * (np.abs(g) + np.abs(xhat) * np.abs(dbeta)) / (m * s)
        + k * rho_dy
        + n * EPS * dx_abs
        + 1.5 * n * EPS * k * A
        + UNIT_ROUNDOFF * dx_abs
        + floor(k * A)
    )
    dgamma_scale = np.abs(dy * xhat).sum(axis=0)
    err_dgamma = (
        xhat_norm * rho_dy
        + rho_x * p_dy_norm / s
        + delta_mu * np.abs(dbeta) / s
        + (n * EPS / 2 + UNIT_ROUNDOFF) * np.abs(g)
        + floor(dgamma_scale)
    )
    dbeta_scale = np.abs(dy).sum(axis=0)
    err_dbeta = np.sqrt(m) * rho_dy + UNIT_ROUNDOFF * np.abs(dbeta) + floor(dbeta_scale)
    why = (
        "backward stable, normwise per feature: x, dy moved by n EPS ||column||, gamma, "
        "beta by n EPS relative, mu by n EPS ||x|| / sqrt(m), s^2 by n EPS relative "
        f"(n = m + 10 = {n}), through the exact derivatives; + u|out| + n FLUSH_FLOOR scale"
    )
    return BatchNormBounds(
        Bound(err_y, why),
        Bound(err_dx, why),
        Bound(err_dgamma, why),
        Bound(err_dbeta, why),
        k * A,
    )


def batchnorm_exact_bounds(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dy: np.ndarray, eps: float
) -> tuple[BatchNormBounds, BatchNormBounds]:
    """(pass/fail, componentwise) bounds for a comparison with the 40-digit oracle.

    The oracle's own error is its one rounding to float64, ``u |exact|`` (the 40-digit
    evaluation adds ~1e-40 relative); it is added to both grades.
    """
    stable = batchnorm_stable_bounds(x, gamma, beta, dy, eps)
    tight = batchnorm_error_bounds(x, gamma, beta, dy, eps)
    oracle = (
        "; + u|exact| for the 40-digit oracle's rounding to float64",
        "componentwise rounding model + u|exact| (the oracle's rounding)",
    )
    col = _columns(np.asarray(x, dtype=np.float64), eps)
    exact_abs = (
        np.abs(gamma * col.xhat + beta),
        stable.grad_bound,
        np.abs(dy * col.xhat).sum(axis=0),
        np.abs(dy).sum(axis=0),
    )
    widened = [
        Bound(bound.tol + UNIT_ROUNDOFF * size, bound.why + oracle[0])
        for bound, size in zip(stable[:4], exact_abs, strict=True)
    ]
    graded = [
        Bound(err + UNIT_ROUNDOFF * size, oracle[1])
        for err, size in zip((tight.y, tight.dx, tight.dgamma, tight.dbeta), exact_abs, strict=True)
    ]
    return (
        BatchNormBounds(*widened, stable.grad_bound),
        BatchNormBounds(*graded, tight.grad_bound),
    )


# --- the componentwise model (the accuracy grade, and the answer key's terms) -------------


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
    """Componentwise rounding bounds for batch norm of ``x`` (m, d) (module docstring).

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
    n = _roundings(m)
    floor = n * TINY
    col = _columns(x, eps)
    s, xhat = col.s, col.xhat
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


# --- directional differences of l = sum(dy * y) ---------------------------------------------


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
    ``|t v| <= pad``, for any backward-stable forward: the ``rounding_scale`` that
    ``directional_difference`` needs. Terms:

    * the forward's own error, ``sum |dy| err(y)`` with the pass/fail bound of y
      (``batchnorm_stable_bounds``): for an offset feature with tiny spread this is the
      ``n EPS ||x|| / s`` error of the mean times ``sum |dy gamma|``, far above
      ``u sum |dy y|``;
    * forming the stencil point rounds every input by ``u |x'|``, which moves l by at
      most ``u sum G |x'|`` (G bounds the gradient), and ``u sum |dy xhat| |gamma'|``,
      ``u sum |dy| |beta'|`` for the parameters;
    * the loss itself: each product ``dy * y`` rounds (u each) and ``math.fsum`` adds
      them exactly but for one final rounding: ``EPS sum |dy y|``.

    The first two terms are not optional. Measured with h = 1e-3 s on 2000 random
    batches with offset 1e3, spread 1e-3, m = 16, eps = 1e-8: the rule of thumb
    ``S = sum |dy y|`` was exceeded 207 times, by up to 1100x.
    """
    pads = {"x_pad": x_pad, "gamma_pad": gamma_pad, "beta_pad": beta_pad}
    bounds = batchnorm_stable_bounds(x, gamma, beta, dy, eps, **pads)
    gamma_abs = np.abs(gamma) + np.asarray(gamma_pad)
    beta_abs = np.abs(beta) + np.asarray(beta_pad)
    x_abs = np.abs(x) + np.asarray(x_pad)
    xhat = _columns(np.asarray(x, dtype=np.float64), eps).xhat
    ady = np.abs(dy)
    y_abs = gamma_abs * np.abs(xhat) + beta_abs
    scale = (
        (ady * bounds.y.tol).sum() / EPS
        + 0.5 * (bounds.grad_bound * x_abs).sum()
        + 0.5 * (np.abs(dy * xhat) * gamma_abs).sum()
        + 0.5 * (ady * beta_abs).sum()
        + (ady * y_abs).sum()
    )
    return float(scale)


def directional_bound(
    fd: DirectionalDifference, own: np.ndarray, v: np.ndarray, magnitude: np.ndarray
) -> Bound:
    """Bound on ``|<grad, v> - fd|``: the difference's, the gradient's, the product's.

    ``fd.tol`` bounds the central difference's error (Richardson truncation estimate +
    ``EPS S / h`` rounding, ``directional_difference``); ``own`` is the pass/fail
    bound of each gradient entry, so ``<own, |v|>`` bounds what it moves <grad, v>;
    ``magnitude`` bounds |grad| entrywise, and the float64 inner product rounds by at
    most ``EPS <magnitude, |v|>`` (then summed exactly).
    """
    tol = fd.tol + float(np.sum(own * np.abs(v))) + EPS * float(np.sum(magnitude * np.abs(v)))
    return Bound(
        tol,
        "Richardson truncation + EPS * S / h (S: the forward's pass/fail error at every "
        "stencil point) + the gradient's pass/fail bound along |v| + the inner product's "
        "rounding",
    )


# --- the answer key's partial derivatives (componentwise: the key is float64 formulas) ----


def key_dxhat_loss_rounding_scale(
    xhat: np.ndarray, u: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dy: np.ndarray
) -> float:
    """S for ``l(t) = fsum(dy (gamma t + beta))`` on the stencil ``xhat +- 2 STEP_AFFINE u``.

    Three roundings per entry of l (the product with gamma, the sum with beta, the
    product with dy), each of at most u times the term's magnitude; the 3 EPS covers
    them with the usual factor 2.
    """
    xhat_abs = np.abs(xhat) + 2 * STEP_AFFINE * np.abs(u)
    return float(3 * np.sum(np.abs(dy) * (np.abs(gamma) * xhat_abs + np.abs(beta))))


def key_dxhat_bound(fd: DirectionalDifference, u: np.ndarray, dxhat_abs: np.ndarray) -> Bound:
    """``<key dxhat, u>`` against the central difference: affine in xhat, so no truncation."""
    return Bound(
        fd.tol + EPS * float(np.sum(dxhat_abs * np.abs(u))),
        "affine: Richardson term + 3 roundings per entry of l over h + EPS <|dxhat|, |u|>",
    )


def key_dvar_loss_rounding_scale(
    xhat: np.ndarray,
    s: np.ndarray,
    w: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    dy: np.ndarray,
) -> float:
    """S for ``l(t) = fsum(dy (gamma (x - mu) / sqrt(t + eps) + beta))``, mu fixed.

    On the stencil ``sigma^2 +- 2 STEP_KEY w`` xhat grows by at most the factor
    ``1 + 2 STEP_KEY |w| / s^2`` (bounded by 2 here); the sqrt, the division, two
    products and one addition round each term five times.
    """
    spread = 1 + 2 * STEP_KEY * np.abs(w) / s**2
    return float(5 * np.sum(np.abs(dy) * (np.abs(gamma * xhat) * 2 * spread + np.abs(beta))))


def key_dvar_bound(
    fd: DirectionalDifference,
    w: np.ndarray,
    xhat: np.ndarray,
    s: np.ndarray,
    dxhat_abs: np.ndarray,
    err_xhat: np.ndarray,
) -> Bound:
    """``<key dvar, w>`` against the central difference of l in sigma^2.

    The key's dvar = -1/2 sum dxhat (x - mu) s^-3 centres x with its own mean: (x - mu)
    carries ``s err(xhat)`` of the mean, and its products and sum ``EPS n`` relative;
    each side computes it, hence the 2.
    """
    n = _roundings(xhat.shape[0])
    dvar_err = 0.5 / s**2 * (dxhat_abs * (err_xhat + EPS * n * np.abs(xhat))).sum(0)
    return Bound(
        fd.tol + float(np.sum(2 * dvar_err * np.abs(w))),
        "Richardson truncation + rounding / h; key and oracle centre x differently",
    )


def key_dmu_second_bound(x: np.ndarray, centred: np.ndarray, dvar: np.ndarray) -> Bound:
    """The key's dvar (-2/m) sum(x - mu) is 0 exactly; bound its float64 value.

    ``|sum_i (x_i - fl(mu))| <= m |mu - fl(mu)| + (m - 1) u sum |x - mu|
    <= EPS n (sum|x| + sum|x - mu|)``: the error of the mean, m times, plus that of the sum.
    """
    m = x.shape[0]
    n = _roundings(m)
    tol = np.abs(dvar) * 2 / m * EPS * n * (np.abs(x).sum(0) + np.abs(centred).sum(0))
    return Bound(tol, "sum(x - mu) = 0 exactly; in float64 it is m times the mean's rounding")


class KeyStatisticsBounds(NamedTuple):
    """Componentwise bounds on the key's statistics and its direct term of dl/dmu."""

    mu: Bound  # (d,)
    var: Bound  # (d,)
    xhat: Bound  # (m, d)
    dmu_direct: Bound  # (d,)


def key_statistics_bounds(
    x: np.ndarray, dy: np.ndarray, gamma: np.ndarray, eps: float
) -> KeyStatisticsBounds:
    """The key's mu, sigma^2, xhat and -sum dxhat / s against the definition (exact sums).

    The componentwise model of the module docstring, plus the oracle's own roundings
    (``Definition``: exactly rounded sums, so one rounding per operation):

    * mu: a sum of m terms, ``delta = EPS n xmax`` (the oracle's rounding included);
    * sigma^2 = mean((x - fl(mu))^2): the centred values are off by ``delta + EPS |x - mu|``,
      so the mean of squares by ``2 delta mean|x - mu| + 4 delta^2`` (mean|x - mu| <=
      sigma) plus ``EPS n sigma^2`` for the sum of squares;
    * xhat: ``batchnorm_error_bounds``' model plus 2 EPS of the same terms for the oracle;
    * -sum dxhat / s: the sum of m products ``EPS n``, and 1/s relatively by half the
      relative error of sigma^2 + eps, both of ``sum |dy gamma| / s``.
    """
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[0]
    n = _roundings(m)
    floor = n * TINY
    col = _columns(x, eps)
    xmax = np.abs(x).max(axis=0)
    var = ((x - col.mu) ** 2).mean(axis=0)
    delta = EPS * n * xmax
    err_var = 2 * delta * np.sqrt(var) + 4 * delta**2 + EPS * n * var + floor
    model = batchnorm_error_bounds(x, gamma, np.zeros_like(gamma), dy, eps).xhat
    err_xhat = model + 2 * EPS * (xmax / col.s + np.abs(col.xhat))
    rel_s = err_var / (2 * col.s**2) + EPS
    err_direct = (EPS * n + rel_s) * np.abs(dy * gamma).sum(axis=0) / col.s + floor
    why = "componentwise rounding model of the key's statistics + the oracle's roundings"
    return KeyStatisticsBounds(
        Bound(delta + floor, why), Bound(err_var, why), Bound(err_xhat, why), Bound(err_direct, why)
    )


def key_dmu_loss_rounding_scale(
    x: np.ndarray,
    mu: np.ndarray,
    xhat: np.ndarray,
    s: np.ndarray,
    w: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    dy: np.ndarray,
) -> float:
    """S for ``l(c) = fsum(dy (gamma (x - c) / sqrt(mean((x - c)^2) + eps) + beta))``.

    On the stencil ``mu +- 2 STEP_KEY w``: x - c rounds by u(|x| + |c|), moving xhat by
    that / s (and sigma^2 through mean|xhat| <= 1); the variance sum, sqrt and division
    add EPS n |xhat|; the affine map and the product with dy two roundings more.
    """
    n = _roundings(x.shape[0])
    xmax = np.abs(x).max(0) + np.abs(mu) + 2 * STEP_KEY * np.abs(w)
    big_xhat = np.abs(xhat) + 2 * STEP_KEY * np.abs(w) / s
    return float(
        np.sum(np.abs(dy * gamma) * (xmax * (1 + big_xhat) / s + n * big_xhat))
        + 2 * np.sum(np.abs(dy) * (np.abs(gamma) * big_xhat + np.abs(beta)))
    )


def key_dmu_bound(
    fd: DirectionalDifference,
    w: np.ndarray,
    mu: np.ndarray,
    s: np.ndarray,
    dxhat_abs: np.ndarray,
    dvar: np.ndarray,
    second: Bound,
) -> Bound:
    """``<key dmu, w>`` against the central difference of l in mu (sigma^2 recomputed).

    The key's dmu: EPS n relative rounding of sum dxhat / s, plus its second term's
    bound; the oracle differentiates at fl(mu), where dvar 2 (c - mu) adds
    ``|dvar| EPS |mu|``.
    """
    n = _roundings(dxhat_abs.shape[0])
    dmu_err = EPS * n * dxhat_abs.sum(0) / s + second.tol + 2 * np.abs(dvar) * EPS * np.abs(mu)
    return Bound(
        fd.tol + float(np.sum(dmu_err * np.abs(w))),
        "Richardson truncation + rounding / h, incl. the |x| / s rounding of x - c",
    )


# --- the structural laws -----------------------------------------------------------------


def twice(bound: Bound) -> Bound:
    """Two results of the same implementation (default and explicit eps): both may err."""
    return Bound(2 * np.asarray(bound.tol), f"2 x ({bound.why}): each side within it")


def key_assembly_bounds(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dy: np.ndarray, eps: float
) -> BatchNormBounds:
    """The implementation's pass/fail bound plus the key's componentwise rounding model."""
    stable = batchnorm_stable_bounds(x, gamma, beta, dy, eps)
    key = batchnorm_error_bounds(x, gamma, beta, dy, eps)
    why = "the implementation's pass/fail bound + the key's componentwise rounding model"
    return BatchNormBounds(
        Bound(stable.y.tol + key.y, why),
        Bound(stable.dx.tol + key.dx, why),
        Bound(stable.dgamma.tol + key.dgamma, why),
        Bound(stable.dbeta.tol + key.dbeta, why),
        stable.grad_bound,
    )


def dx_column_sum_bound(stable: BatchNormBounds) -> Bound:
    """``sum_i dx_i`` is 0 exactly; fsum adds no error to it, so the entries' bounds add."""
    return Bound(
        np.asarray(stable.dx.tol).sum(axis=0),
        "sum over the column of dx's pass/fail bounds; fsum adds no error to a 0 sum",
    )


def eps_term_bound(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dy: np.ndarray, eps: float
) -> Bound:
    """``fsum(dx * xhat)`` (xhat from the float64 definition) against gamma g eps / s^3.

    Left: dx's pass/fail bound times |xhat|, |dx| <= G times xhat's componentwise
    error, and the rounding of the products (EPS G |xhat|). Right: the oracle's dgamma =
    fsum(dy xhat) carries sum |dy| err(xhat) + EPS |dy xhat| per term, and the factor
    gamma eps / s^3 six roundings (EPS |g| per unit of |gamma| eps / s^3).
    """
    stable = batchnorm_stable_bounds(x, gamma, beta, dy, eps)
    tight = batchnorm_error_bounds(x, gamma, beta, dy, eps)
    col = _columns(np.asarray(x, dtype=np.float64), eps)
    abs_xhat = np.abs(col.xhat)
    lhs = (stable.dx.tol * abs_xhat + stable.grad_bound * tight.xhat).sum(0)
    lhs += EPS * (stable.grad_bound * abs_xhat).sum(0)
    rhs = (
        np.abs(gamma)
        * eps
        / col.s**3
        * ((np.abs(dy) * tight.xhat).sum(0) + 6 * EPS * np.abs(dy * col.xhat).sum(0))
    )
    return Bound(
        lhs + rhs,
        "dx's pass/fail bound times |xhat|, |dx| times xhat's rounding, and the oracle "
        "dgamma's rounding",
    )


def shift_invariance_bounds(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float], shifted_x: np.ndarray
) -> BatchNormBounds:
    """Outputs at x and at fl(x + c): the pass/fail bound at x + twice the bound at x + c.

    fl(x + c) = x + c + delta with |delta| <= u |x + c|: a normwise perturbation of the
    shifted column far inside the bound at x + c, which covers its effect once more;
    the outputs at x + c carry their own error once, those at x theirs.
    """
    x, gamma, beta, dy, eps = case
    at_x = batchnorm_stable_bounds(x, gamma, beta, dy, eps)
    at_shift = batchnorm_stable_bounds(shifted_x, gamma, beta, dy, eps)
    why = "pass/fail bound at x + twice the bound at fl(x + c) (its rounding, its error)"
    parts = [Bound(a.tol + 2 * b.tol, why) for a, b in zip(at_x[:4], at_shift[:4], strict=True)]
    return BatchNormBounds(*parts, at_x.grad_bound)


def forward_mean_bound(y: np.ndarray, stable: BatchNormBounds) -> Bound:
    """mean_i y_i (one fsum) against beta: mean of y's pass/fail bounds + one rounding."""
    return Bound(
        np.asarray(stable.y.tol).mean(0) + EPS * np.abs(y).mean(0),
        "mean of y's pass/fail bounds + one rounding of the exact sum",
    )


def forward_variance_bound(
    y: np.ndarray,
    var_y: np.ndarray,
    expected: np.ndarray,
    x: np.ndarray,
    gamma: np.ndarray,
    eps: float,
    stable: BatchNormBounds,
) -> Bound:
    """The variance of y (fsum, centred) against gamma^2 sigma^2 / s^2 (float64 definition).

    y - ybar carries E = err(y) + EPS (|y| + |ybar|); the variance moves by at most
    2 mean(|y - ybar| E) + mean(E^2), and its own sum rounds by EPS n var_y. The
    oracle's sigma^2: its centred values are off by e = EPS (|mu| + |x - mu|) (one
    rounding of the exact mean, one of the subtraction), so sigma^2 is off by
    dvar <= 2 mean(|x - mu| e) + mean(e^2) + 2 EPS sigma^2, and the expected value,
    whose derivative in sigma^2 is gamma^2 eps / s^4 <= gamma^2 / s^2, by that much.
    """
    m = y.shape[0]
    n = _roundings(m)
    ybar = y.mean(0)
    E = np.asarray(stable.y.tol) + EPS * (np.abs(y) + np.abs(ybar))
    centred_y = np.abs(y - ybar)
    tol = 2 * (centred_y * E).mean(0) + (E * E).mean(0) + EPS * n * var_y
    col = _columns(np.asarray(x, dtype=np.float64), eps)
    centred = np.abs(x - col.mu)
    var = (centred**2).mean(0)
    e = EPS * (np.abs(col.mu) + centred)
    dvar = 2 * (centred * e).mean(0) + (e * e).mean(0) + 2 * EPS * var
    tol = tol + gamma**2 * eps / col.s**4 * dvar + EPS * n * np.abs(expected)
    return Bound(
        tol, "propagated pass/fail error of y through the variance + rounding of both sides"
    )

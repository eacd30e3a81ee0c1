"""Error models behind every numerical comparison, and the assertion that uses them.

A tolerance here is never a tuned constant: each function states where its bound
comes from (float64 unit roundoff, problem size, magnitude of the data, conditioning,
finite-difference step) so that a failure means a wrong formula, not bad luck.

``assert_close`` reports what was expected, what came out, where they differ most and
why the bound is what it is, so a shrunk counterexample reads on its own.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

#: float64 machine epsilon, 2**-52: the spacing of floats at 1.0 (twice the unit roundoff)
EPS: float = float(np.finfo(np.float64).eps)


def assert_close(
    observed: ArrayLike, expected: ArrayLike, tol: ArrayLike, *, what: str, why: str
) -> None:
    """Assert ``|observed - expected| <= tol`` elementwise, with a readable failure.

    ``tol`` broadcasts against the arrays; ``what`` names the quantity compared and
    ``why`` the error model that sets ``tol`` (both appear in the failure message).
    Shapes must agree exactly and NaN never compares equal.
    """
    __tracebackhide__ = True
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert observed.shape == expected.shape, (
        f"{what}: shape {observed.shape}, but should be {expected.shape}"
    )
    error = np.abs(observed - expected)
    bound = np.broadcast_to(np.asarray(tol, dtype=np.float64), error.shape)
    bad = ~(error <= bound)  # catches NaN too
    if bad.any():
        score = np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0)
        where = np.unravel_index(int(np.argmax(score)), error.shape)
        with np.printoptions(precision=17, threshold=60, linewidth=100):
            raise AssertionError(
                f"{what}: {int(bad.sum())} of {error.size} entries outside tolerance; "
                f"worst at index {tuple(int(i) for i in where)}: "
                f"observed {observed[where]!r}, expected {expected[where]!r}, "
                f"|difference| {error[where]:.3e} > tol {bound[where]:.3e} ({why})\n"
                f"expected:\n{expected}\nobserved:\n{observed}"
            )


# --- Directional finite differences ------------------------------------------------


class DirectionalDifference(NamedTuple):
    """A central-difference estimate of ``<grad l(x), v>`` and a bound on its error."""

    estimate: float  # (l(x + h v) - l(x - h v)) / 2h
    tol: float  # truncation estimate + rounding bound (see directional_difference)


def _central(loss: Callable[[np.ndarray], float], x: np.ndarray, v: np.ndarray, h: float) -> float:
    return (float(loss(x + h * v)) - float(loss(x - h * v))) / (2.0 * h)


def directional_difference(
    loss: Callable[[np.ndarray], float],
    x: np.ndarray,
    v: np.ndarray,
    h: float,
    rounding_scale: float,
) -> DirectionalDifference:
    """Central difference of a scalar ``loss`` at ``x`` along ``v``, with a derived bound.

    Error model (Taylor): ``fd(h) = <g, v> + (h**2 / 6) l'''[v, v, v] + O(h**4)``, so
    truncation is unknown but ``fd(2h) - fd(h) = 3 (h**2 / 6) l''' + O(h**4)``: the
    Richardson difference ``|fd(h) - fd(2h)|`` is three times the truncation error of
    ``fd(h)``, a bound with a factor-3 margin that adapts to the curvature actually met.

    Rounding: each float64 evaluation of ``loss`` is off by at most about
    ``EPS * rounding_scale``, where ``rounding_scale`` bounds the magnitudes summed to
    form the loss (for ``l = sum(dy * y)`` it is ``sum |dy * y|``). Dividing the
    difference of two evaluations by ``2h`` gives ``EPS * rounding_scale / h``; doubling
    it covers the rounding of ``fd(2h)`` inside the Richardson term. Total:
    ``tol = |fd(h) - fd(2h)| + 2 * EPS * rounding_scale / h``.

    Two extra evaluations buy the truncation estimate: four per check whatever the size
    of ``x``, against ``2 * x.size`` for a full finite-difference gradient.
    """
    estimate = _central(loss, x, v, h)
    richardson = abs(estimate - _central(loss, x, v, 2.0 * h))
    return DirectionalDifference(estimate, richardson + 2.0 * EPS * rounding_scale / h)


# --- Softmax and cross-entropy -----------------------------------------------------
#
# Notation: u = EPS / 2 (unit roundoff); N the length of the softmax axis; g_i = z_i - max z
# (the gaps, <= 0); s = sum_k exp(g_k), in [1, N]; lambda = log s, in [0, log N].
# Two families of correct implementations are admitted by every bound below, because a
# correct user implementation may take either route:
#   A. exp(g) / sum(exp(g))            (the reference, SciPy, most frameworks)
#   B. exp(g - log sum(exp(g)))        (through log-softmax)
# NumPy's float64 exp and log are accurate to 2.52 and 3.83 ulp (NumPy 1.20 release notes,
# AVX512F kernels); the bounds take kappa_exp = 3 ulp = 6 u and kappa_log = 4 ulp = 8 u.
# Summation of N terms is taken in the worst (recursive) order: relative (N - 1) u.

#: relative error of one float64 exp, in units of u (3 ulp)
KAPPA_EXP: float = 6.0
#: relative error of one float64 log, in units of u (4 ulp)
KAPPA_LOG: float = 8.0
#: absolute floor for results in the subnormal range, where relative bounds stop holding:
#: a few rounding steps of 2**-1074 each (exp results below 2**-1022 are subnormal)
SUBNORMAL_FLOOR: float = 16 * float(np.finfo(np.float64).smallest_subnormal)
#: beyond this gap exp(g) is exactly 0 in float64 (exp(-745.2) < 2**-1075); gaps are
#: clipped there so that bounds stay finite for logits near 1e308 without changing them
_GAP_CLIP: float = 1e3


def softmax_gaps(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``|z_i - max z|`` along ``axis``, clipped at 1000 (where exp(-gap) is exactly 0).

    Formed as ``2 (max/2 - z/2)`` so that logits spanning the whole float64 range do not
    overflow; the clip only affects entries whose softmax is 0 in float64 anyway.
    """
    z = np.asarray(z, dtype=np.float64)
    half = z.max(axis=axis, keepdims=True) * 0.5 - z * 0.5
    return np.minimum(2.0 * np.minimum(half, _GAP_CLIP), _GAP_CLIP)


def softmax_relative_error(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Bound ``r_i`` on ``|S_hat_i - S_i| / S_i`` for a correct float64 softmax (A or B).

    Family A: ``fl(z_i - m)`` is off by ``u |g_i|``, which exp turns into a relative
    ``u |g_i|``; exp itself adds ``kappa_exp u``; the sum ``s`` is off by at most
    ``sum_k (e_k / s)(|g_k| + kappa_exp) u + (N - 1) u <= (N/e + kappa_exp + N - 1) u``
    (``e_k / s <= exp(-|g_k|)`` and ``|g| exp(-|g|) <= 1/e``); the division (or a
    reciprocal and a product) adds ``2 u``. Family B: the same ``s``, then ``log`` adds
    ``kappa_log u lambda``, ``g_i - lambda`` and ``fl(g_i)`` add ``u (2 |g_i| + log N)``, and
    exp ``kappa_exp u``. The larger of the two is
    ``r_i = u (2 |g_i| + 1.37 N + 9 log N + 2 kappa_exp + 1)``.
    Entries below the normal range get the absolute ``SUBNORMAL_FLOOR`` on top (the caller
    multiplies ``r`` by ``S``; see ``softmax_error``).
    """
    n = np.asarray(z).shape[axis]
    u = EPS / 2
    return u * (2 * softmax_gaps(z, axis) + 1.37 * n + 9 * np.log(n) + 2 * KAPPA_EXP + 1)


def softmax_error(S: np.ndarray, z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Absolute bound on ``|S_hat_i - S_i|`` for a correct float64 softmax of ``z``.

    ``S`` is the exact softmax (or any approximation of it with relative error ``r << 1``:
    using it in place of the exact one changes the bound by a factor ``1 + r``).
    """
    return np.asarray(S) * softmax_relative_error(z, axis) + SUBNORMAL_FLOOR


def softmax_sum_tol(n: int) -> float:
    """Bound on ``|fl(sum_i S_hat_i) - 1|`` for a correct float64 softmax of length ``n``.

    Family A: the computed ``e_i`` appear in both numerator and denominator, so their
    errors cancel: ``sum_i e_i / s_hat = s / s_hat``, off by the ``(n - 1) u`` of the
    denominator's sum, plus ``2 u`` for the division, plus ``(n - 1) u`` to sum the
    result: ``2 n u``. Family B: ``sum_i S_i r_i + (n - 1) u`` with
    ``sum_i S_i |g_i| <= n / e``: ``u (3.1 n + 9 log n + 12)``. The larger, rounded up:
    ``EPS (1.6 n + 4.5 log n + 6)``. Independent of the logits' magnitude: the sum
    property holds to the same bound at ``z = 800`` or ``z = -1e300``.
    """
    return EPS * (1.6 * n + 4.5 * float(np.log(n)) + 6)


def shifted_softmax_tol(S: np.ndarray, z: np.ndarray, shifted: np.ndarray) -> np.ndarray:
    """Bound on ``|S_hat(fl(z + c)) - S_hat(z)|`` along the last axis (shift invariance).

    Exactly ``S(z + c) = S(z)``. In float64 the shifted logits are rounded,
    ``fl(z_k + c) = z_k + c + delta_k`` with ``|delta_k| <= u |fl(z_k + c)|``, so the
    exact softmax of what the implementation receives is ``S_i exp(delta_i - <S, delta>)``:
    a relative change of at most ``2 u max_k |fl(z_k + c)|`` (to first order; that is
    below 1e-11 for logits within the contract's 1e4). Each side is also off by its own
    ``softmax_error``.
    """
    moved = EPS * np.abs(shifted).max(axis=-1, keepdims=True)
    return softmax_error(S, z) + softmax_error(S, shifted) + S * moved


def jacobian_error(S: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Bound on ``|J_hat_ij - J_ij|`` for a correct float64 softmax Jacobian.

    ``J_ij = S_i delta_ij - S_i S_j`` formed from a softmax whose entries carry relative
    errors ``r_i`` (``softmax_relative_error``): perturbing ``S_i -> S_i (1 + rho_i)``
    moves ``J_ij`` by ``S_i delta_ij |rho_i| + S_i S_j (|rho_i| + |rho_j|)``; the one or two
    float operations per entry (``S_i - S_i S_i``, ``S_i (1 - S_i)``) add
    ``2 u (S_i delta_ij + S_i S_j)``. Shapes: ``S, r (..., N)`` -> ``(..., N, N)``.
    """
    Si, Sj = S[..., :, None], S[..., None, :]
    ri, rj = r[..., :, None], r[..., None, :]
    eye = np.eye(S.shape[-1])
    return Si * eye * ri + Si * Sj * (ri + rj) + EPS * (Si * eye + Si * Sj) + SUBNORMAL_FLOOR


def cross_entropy_error(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Bound on ``|L_hat - L|`` for a correct float64 cross-entropy, shape ``z.shape[:-1]``.

    With ``d = max z - z >= 0``, ``A = sum_i y_i d_i`` and ``lambda = log s``,
    ``L = A + c lambda``. Forming ``d_i``, ``y_i d_i`` and their sum costs
    ``(N + 1) u A``; ``s`` is off by ``(1.37 N + kappa_exp) u`` relative (as in
    ``softmax_relative_error``), so ``lambda`` by that plus ``kappa_log u lambda``; the
    product by ``c`` and the final sum add ``u (A + c lambda)``. Through log-softmax
    (``-sum y_i (g_i - lambda)``) the terms are the same with ``A + lambda`` in place of
    ``A``, and forming ``z - logsumexp(z)`` directly rounds ``lse ~ max z`` once more:
    ``u max |z|``. Together:
    ``u [(N + 2)(A + lambda) + 1.37 N + 8 log N + kappa_exp + 2 max|z|]``.
    """
    n = z.shape[-1]
    with np.errstate(over="ignore"):  # a gap beyond 1.8e308 makes the bound (and L) inf
        d = 2.0 * (z.max(axis=-1, keepdims=True) * 0.5 - z * 0.5)
        A = (y * d).sum(axis=-1)
    lam = np.log(np.exp(-d).sum(axis=-1))
    u = EPS / 2
    size = np.abs(z).max(axis=-1)
    # scaled by u term by term: (N + 2) A would overflow for the losses near 1e308 that the
    # reference-only properties reach, and an infinite bound would pass anything
    return (
        (u * (n + 2)) * A
        + (u * (n + 2)) * lam
        + u * (1.37 * n + 8 * np.log(n) + KAPPA_EXP)
        + (2 * u) * size
    )


def central_difference_step(rounding_scale: float, third_derivative: float) -> float:
    """Step ``h`` minimising ``h**2 M3 / 6 + 2 EPS R / h`` (truncation + rounding).

    ``M3`` bounds the third directional derivative of the loss, ``R`` is the
    ``rounding_scale`` of ``directional_difference``; the minimum is at
    ``h = (6 EPS R / M3)**(1/3)``. Capped at 1e-2 so that the Richardson truncation
    estimate (which assumes the ``h**4`` term is negligible at ``2h``) stays valid, and
    floored at 1e-6 so that a vanishing ``R`` (a zero probe) cannot make ``h`` zero; a
    step off the optimum costs accuracy, never soundness, since the Richardson term
    measures the truncation actually met and the rounding term is ``EPS R / h``.
    """
    h = (6.0 * EPS * rounding_scale / third_derivative) ** (1 / 3)
    return float(min(max(h, 1e-6), 1e-2))


# Exact oracles: softmax and cross-entropy evaluated from their definitions in 40-digit
# decimal arithmetic with an unbounded exponent range, one entry at a time. Their own
# error (1e-40 relative, then one rounding to float64: u) is negligible beside the bounds
# above, and they share no code path with any float64 implementation.

_DECIMAL = decimal.Context(
    prec=40, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX, traps=[decimal.InvalidOperation]
)


def _exact_rows(z: np.ndarray) -> Iterator[tuple[tuple[int, ...], list[decimal.Decimal]]]:
    """Each row ``z[idx, :]`` as decimals ``z_i - max z`` (floats convert exactly)."""
    for idx in np.ndindex(z.shape[:-1]):
        row = [decimal.Decimal(float(x)) for x in z[idx]]
        top = max(row)
        yield idx, [x - top for x in row]


def exact_softmax(z: np.ndarray) -> np.ndarray:
    """``exp(z_i) / sum_k exp(z_k)`` along the last axis, to 40 digits, rounded to float64."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    with decimal.localcontext(_DECIMAL):
        for idx, gaps in _exact_rows(z):
            e = [g.exp() for g in gaps]
            s = sum(e, decimal.Decimal(0))
            out[idx] = [float(x / s) for x in e]
    return out


def exact_cross_entropy(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``-sum_i y_i log S(z)_i`` along the last axis, to 40 digits, rounded to float64.

    Terms with ``y_i = 0`` are 0 (the ``0 log 0 = 0`` convention): they are skipped, so
    the oracle never takes the log of an underflowed probability.
    """
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    out = np.empty(z.shape[:-1])
    with decimal.localcontext(_DECIMAL):
        for idx, gaps in _exact_rows(z):
            log_s = sum((g.exp() for g in gaps), decimal.Decimal(0)).ln()
            terms = (
                decimal.Decimal(float(w)) * (log_s - g)
                for w, g in zip(y[idx], gaps, strict=True)
                if w != 0
            )
            out[idx] = float(sum(terms, decimal.Decimal(0)))
    return out


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


# --- PSD matrices (Problem 4: moment matching and the Ky Fan trace minimum) --------
#
# Notation: m the size of sigma, |sigma| its spectral norm |sigma|_2 (largest
# eigenvalue), eps = EPS. Two facts carry every bound below.
# (1) Forming an inner product of length L in float64 errs by at most L * eps times the
#     sum of the absolute products (Higham, Accuracy and Stability, 3.1: gamma_L ~ L u,
#     u = eps / 2; we keep eps as a factor-2 margin).
# (2) The symmetric eigensolvers (LAPACK syevd/syevr behind numpy/scipy eigh/eigvalsh)
#     are backward stable: the computed eigenpairs are those of sigma + E with
#     |E|_2 <= p(m) eps |sigma|; we take p(m) = m (LAPACK's bounds are "modest
#     functions of m"; observed errors are far below m eps |sigma|). By Weyl, each
#     computed eigenvalue is within m eps |sigma| of the exact one, and the computed
#     eigenvectors are orthonormal to about m eps.

#: |Phi^T Phi - I|_max allowed for a frame built by a backward-stable method
#: (Householder reflections, eigh): its columns are orthonormal to ~m eps, and forming
#: Phi^T Phi adds an inner product of length m (fact 1): 2 m eps; doubled for margin.
ORTHONORMALITY_FACTOR: float = 4.0


def frame_orthonormality_tol(m: int) -> float:
    """Tolerance on ``|Phi^T Phi - I_k|_max`` for a stably computed (m, k) frame: 4 m eps."""
    return ORTHONORMALITY_FACTOR * m * EPS


def moment_deviation(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Bound delta on the error of one coordinate of a computed point minus mu.

    The exact centred points y_i = x_i - mu satisfy y_i y_i^T <= n sigma (their average
    is sigma), so |y_i|_2 <= a = sqrt(n |sigma|). Forming y_i as a combination of at most
    m eigenvectors errs by m eps a (fact 1); adding mu and, in the oracle, subtracting it
    again err by eps (a + |mu|_max) each: delta = (m + 2) eps (a + |mu|_max).
    """
    a = np.sqrt(n * sigma_norm)
    return (m + 2) * EPS * (a + mu_max)


def moment_mean_tol(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Tolerance on ``|X.mean(0) - mu|_max`` for n points in R^m matching (mu, sigma).

    Each coordinate is off by delta (``moment_deviation``); summing n coordinates of
    size <= a + |mu|_max and dividing by n adds n eps (a + |mu|_max) (fact 1):
    tol = (m + n + 2) eps (sqrt(n |sigma|) + |mu|_max).
    """
    return (m + n + 2) * EPS * (np.sqrt(n * sigma_norm) + mu_max)


def moment_covariance_tol(m: int, n: int, sigma_norm: float, mu_max: float) -> float:
    """Tolerance on ``|(X - mu)^T (X - mu) / n - sigma|_max``.

    With y the exact centred points and delta the per-coordinate error
    (``moment_deviation``), entry (a, b) of the computed covariance differs from the
    exact one by at most (1/n) sum_i (|y_ia| + |y_ib|) delta + delta^2 plus the
    rounding of the n-term sum, n eps (1/n) sum_i |y_ia y_ib|. Cauchy–Schwarz bounds
    (1/n) sum_i |y_ia| by sqrt(sigma_aa) <= sqrt(|sigma|) and (1/n) sum |y_ia y_ib| by
    |sigma|. An eigendecomposition-based construction reproduces sigma only up to its
    backward error m eps |sigma| (fact 2) plus the eigenvalues clipped to zero below the
    rank threshold m eps |sigma|: another 2 m eps |sigma|. Total:
    tol = 2 delta sqrt(|sigma|) + delta^2 + (n + 2m) eps |sigma|.
    """
    delta = moment_deviation(m, n, sigma_norm, mu_max)
    return 2.0 * delta * np.sqrt(sigma_norm) + delta**2 + (n + 2 * m) * EPS * sigma_norm


def rank_threshold(n: int, m: int, x_max: float, y_fro: float) -> float:
    """Singular values of n centred points (n, m) below this count as zero.

    The centred rows y_i = x_i - mean sum to zero exactly, so the n-th singular value is
    0 in exact arithmetic. Computed centring errs by (n + 1) eps |x|_max per entry (the
    mean is an n-term sum), so |Y^T 1 / sqrt(n)|_2 <= sqrt(m n) (n + 1) eps |x|_max;
    the SVD adds its backward error m eps |Y|_2 <= m eps |Y|_F (fact 2). Doubled:
    tol = 2 eps (sqrt(m n) (n + 1) |x|_max + m |Y|_F).
    """
    return 2.0 * EPS * (np.sqrt(m * n) * (n + 1) * x_max + m * y_fro)


def ky_fan_trace_tol(m: int, k: int, sigma_norm: float) -> float:
    """Tolerance on trace(Phi^T sigma Phi) against the sum of k eigenvalues: 8 k m eps |sigma|.

    Three contributions, each per column of Phi and so multiplied by k: forming
    phi^T sigma phi is a two-stage product of length m (fact 1): 2 m eps |sigma|; a
    frame orthonormal only to eta = 4 m eps (``frame_orthonormality_tol``) changes
    the trace by up to eta |sigma|; the oracle's eigenvalues (eigvalsh) are each within
    m eps |sigma| (fact 2, Weyl). Sum: (2 + 4 + 1) k m eps |sigma|, rounded up to 8.
    """
    return 8.0 * k * m * EPS * sigma_norm


def lemma_weight_tol(m: int) -> float:
    """Tolerance on each c_j = sum_i <u_j, phi_i>^2 against [0, 1] (the key's lemma).

    c_j <= |u_j|^2 |P_Phi|, exact 1 for orthonormal u_j and Phi; both are orthonormal to
    4 m eps (``frame_orthonormality_tol``), and forming the k inner products of length
    m adds 2 m eps (fact 1): 10 m eps. The sum over j is k times this.
    """
    return 2.0 * frame_orthonormality_tol(m) + 2.0 * m * EPS


def davis_kahan_projector_tol(m: int, sigma_norm: float, gap: float) -> float:
    """Tolerance on |Phi Phi^T - U_k U_k^T|_max when eigenvalue k < eigenvalue k+1 by gap.

    U_k are the eigenvectors sigma was built from. The float sigma differs from
    U diag(d) U^T by at most m eps |sigma| per entry (fact 1 with Cauchy–Schwarz on the
    eigenvector entries), so by at most m^2 eps |sigma| in 2-norm; the solver adds its
    backward error m eps |sigma| (fact 2): E = (m^2 + m) eps |sigma|. Davis–Kahan
    sin-theta: |sin Theta|_2 <= E / (gap - 2E) (the perturbed gap, by Weyl), and for
    orthonormal bases |P - P_ref|_2 = |sin Theta|_2 >= the max entry. Frames that are
    orthonormal only to eta = 4 m eps each move their projectors by up to 2 eta: tol =
    E / (gap - 2E) + 4 eta. Meaningful only when gap > 2E (the strategies guarantee
    gap >= |sigma| / 2).
    """
    E = (m * m + m) * EPS * sigma_norm
    if gap <= 2.0 * E:
        raise ValueError(f"gap: {gap:.3e} must exceed 2E = {2 * E:.3e} for a Davis–Kahan bound")
    return E / (gap - 2.0 * E) + 4.0 * frame_orthonormality_tol(m)


# --- Convolution (Problem 1) -------------------------------------------------------


#: the smallest positive subnormal float64, 2**-1074: the absolute error of an underflow
TINY: float = float(np.finfo(np.float64).smallest_subnormal)


def gamma(n: int) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)`` with unit roundoff ``u = EPS / 2``.

    A float64 sum of ``n`` products, in ANY order (BLAS blocking, FMA, pairwise or
    recursive), differs from the exact sum by at most ``gamma_n * sum |products|``
    (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5), as long
    as nothing overflows or underflows. Terms that are exact zeros (padding, the holes of
    a dilated kernel) add no rounding, so ``n`` counts the nonzero terms at most.
    """
    nu = n * EPS / 2
    if not 0 <= nu < 1:
        raise ValueError(f"n: gamma_n needs 0 <= n u < 1, got n = {n}")
    return nu / (1 - nu)


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
    g = gamma(K)
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
    g = gamma(K)
    return (2 * g + 3 * EPS) * np.asarray(abs_sum, dtype=np.float64) / (1 - g) + 4 * K * TINY

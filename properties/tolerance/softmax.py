"""Error models of the softmax chapter."""

from __future__ import annotations

import numpy as np

from properties.tolerance.common import EPS

__all__ = [
    "KAPPA_EXP",
    "KAPPA_LOG",
    "SUBNORMAL_FLOOR",
    "central_difference_step",
    "cross_entropy_error",
    "jacobian_error",
    "shifted_softmax_tol",
    "softmax_error",
    "softmax_gaps",
    "softmax_relative_error",
    "softmax_sum_tol",
]


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

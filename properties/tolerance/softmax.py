"""Error models of the softmax chapter: each returns a ``Bound`` (tolerance and reason).

Notation: ``u = UNIT_ROUNDOFF``; ``N`` the length of the softmax axis; ``g_i = z_i - max z``
(the gaps, ``<= 0``); ``s = sum_k exp(g_k)`` in ``[1, N]``; ``lambda = log s`` in
``[0, log N]``; ``||z||`` the infinity norm of one row of logits (the input the row's
outputs depend on).

Two grades (``properties.tolerance.common``). Every bound function takes
``componentwise=``:

* ``False`` (the pass/fail bound): what a *backward-stable* softmax may return. Each
  logit of a row is perturbed by ``c u ||z||`` with ``c = NORMWISE_ROUNDINGS = 2``; to
  first order ``S_i(z + dz) = S_i (1 + dz_i - <S, dz>)``, so ``|dS_i| <= S_i (|dz_i| +
  sum_k S_k |dz_k|) <= 2 c u ||z|| S_i``. ``c = 2`` covers the logsumexp route
  ``exp(z_i - lse(z))``, whose three roundings of exponents (``fl(lse)``, ``fl(z_i -
  lse)``, ``fl(z_i - max z)``) move each exponent by at most ``u (|lse| + |z_i - lse| +
  |g_i|) <= 4 u ||z||`` (+ ``u log N``). On top comes the output's own rounding
  (exp, the N-term sum, the division: ``K_N u S_i`` below) and ``FLUSH_FLOOR`` times the
  output's scale (at most 1 for probabilities): a flush-to-zero implementation is correct.
* ``True`` (the informational grade): the tighter entrywise bound a max-subtracting
  softmax meets: the gap ``|g_i|`` replaces ``2 ||z||`` and the floor is a few steps of
  gradual underflow (``16 TINY``) instead of ``FLUSH_FLOOR``.

NumPy's float64 exp and log are accurate to 2.52 and 3.83 ulp (NumPy 1.20 release notes,
AVX512F kernels); the bounds take ``KAPPA_EXP = 3 ulp = 6 u`` and ``KAPPA_LOG = 4 ulp =
8 u``. Summation of N terms is taken in the worst (recursive) order: relative
``(N - 1) u``. Since ``|g_i| <= 2 ||z||``, every normwise bound is at least the
componentwise one: an implementation that meets the grade passes.

Worked examples (tested in ``test_softmax.py`` / ``test_cross_entropy.py``): a logsumexp
softmax returns ``softmax([2000, 2000]) = 0.5000000000000275`` (error 2.8e-14; the
componentwise bound is 1.3e-15, the normwise one 4.4e-13); the logsumexp gradient at
``y = [1, 0], z = [62, 64]`` is off by 4.4e-15 (componentwise bound 3.0e-15, normwise
2.9e-14).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from properties.tolerance.common import (
    EPS,
    FLUSH_FLOOR,
    TINY,
    UNIT_ROUNDOFF,
    Bound,
    DirectionalDifference,
)

__all__ = [
    "KAPPA_EXP",
    "KAPPA_LOG",
    "NORMWISE_ROUNDINGS",
    "ORACLE_ROUNDING",
    "Probe",
    "convexity_bound",
    "coordinate_probe",
    "cross_entropy_bound",
    "cross_entropy_probe",
    "gradient_bound",
    "gradient_probe_bound",
    "gradient_sum_bound",
    "hessian_probe_bound",
    "jacobian_bound",
    "jacobian_eigenvalue_bound",
    "jacobian_probe_bound",
    "jacobian_row_sum_bound",
    "jacobian_trace_bound",
    "label_difference_bound",
    "off_simplex_gradient_bound",
    "row_norm",
    "shifted_softmax_bound",
    "softmax_bound",
    "softmax_gaps",
    "softmax_probe",
    "softmax_relative_error",
    "softmax_sum_bound",
]

#: relative error of one float64 exp, in units of u (3 ulp)
KAPPA_EXP: float = 6.0
#: relative error of one float64 log, in units of u (4 ulp)
KAPPA_LOG: float = 8.0
#: c: each logit of a row may be perturbed by c u ||z_row||_inf (see the module docstring)
NORMWISE_ROUNDINGS: float = 2.0
#: the float64 rounding of a high-precision oracle's result: half an ulp, relative
ORACLE_ROUNDING: float = UNIT_ROUNDOFF
#: the componentwise grade's floor: a few rounding steps of gradual underflow
_GRADUAL_UNDERFLOW: float = 16 * TINY
#: beyond this gap exp(g) is exactly 0 in float64 (exp(-745.2) < 2**-1075); gaps are
#: clipped there so that bounds stay finite for logits near 1e308 without changing them
_GAP_CLIP: float = 1e3

_GRADES = {False: "normwise backward stable", True: "componentwise"}


def _floor(componentwise: bool) -> float:
    """Absolute floor for outputs of scale 1: flush to zero allowed, or gradual underflow."""
    return _GRADUAL_UNDERFLOW if componentwise else FLUSH_FLOOR


def row_norm(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``||z_row||_inf`` along ``axis`` (kept as an axis of length 1, for broadcasting)."""
    return np.abs(np.asarray(z, dtype=np.float64)).max(axis=axis, keepdims=True)


def softmax_gaps(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``|z_i - max z|`` along ``axis``, clipped at 1000 (where exp(-gap) is exactly 0).

    Formed as ``2 (max/2 - z/2)`` so that logits spanning the whole float64 range do not
    overflow; the clip only affects entries whose softmax is 0 in float64 anyway.
    """
    z = np.asarray(z, dtype=np.float64)
    half = z.max(axis=axis, keepdims=True) * 0.5 - z * 0.5
    return np.minimum(2.0 * np.minimum(half, _GAP_CLIP), _GAP_CLIP)


def _output_roundings(n: int) -> float:
    """K_N: exp, the N-term sum and the division (or log and exp of the logsumexp route).

    Max-subtracting route: the sum ``s`` is off by ``sum_k (e_k / s)(|g_k| + kappa_exp) u +
    (N - 1) u <= (N/e + kappa_exp + N - 1) u`` (``|g| exp(-|g|) <= 1/e``), exp adds
    ``kappa_exp u``, the division ``2 u``. Logsumexp route: the same ``s``, ``log`` adds
    ``kappa_log u lambda``, forming ``g_i - lambda`` ``u log N``, exp ``kappa_exp u``.
    The larger: ``1.37 N + (kappa_log + 1) log N + 2 kappa_exp + 1``.
    """
    return 1.37 * n + (KAPPA_LOG + 1) * float(np.log(n)) + 2 * KAPPA_EXP + 1


def softmax_relative_error(
    z: np.ndarray, axis: int = -1, *, componentwise: bool = False
) -> np.ndarray:
    """Bound ``r_i`` on ``|S_hat_i - S_i| / S_i`` for a correct float64 softmax.

    Normwise: ``u (2 c ||z|| + K_N)``; componentwise: ``u (2 |g_i| + K_N)`` (module
    docstring; ``K_N`` in ``_output_roundings``).
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[axis]
    if componentwise:
        spread = 2 * softmax_gaps(z, axis)
    else:
        with np.errstate(over="ignore"):  # |z| near 1.8e308: the bound is inf, honestly
            spread = 2 * NORMWISE_ROUNDINGS * row_norm(z, axis)
    return UNIT_ROUNDOFF * (spread + _output_roundings(n))


def softmax_bound(
    exact: np.ndarray, z: np.ndarray, axis: int = -1, *, componentwise: bool = False
) -> Bound:
    """``|S_hat_i - S_i|`` for a correct softmax, against ``exact`` (the 40-digit oracle).

    ``S_i r_i`` (``softmax_relative_error``), the oracle's own rounding, and the floor.
    """
    r = softmax_relative_error(z, axis, componentwise=componentwise)
    tol = np.abs(exact) * (r + ORACLE_ROUNDING) + _floor(componentwise)
    spread = "2|gap|" if componentwise else f"2 c ||z||, c = {NORMWISE_ROUNDINGS:g}"
    floor = "16 TINY" if componentwise else "FLUSH_FLOOR"
    return Bound(tol, f"{_GRADES[componentwise]}: S u ({spread} + 1.37 N + 9 log N + 13) + {floor}")


def softmax_sum_bound(z: np.ndarray, axis: int = -1, *, componentwise: bool = False) -> Bound:
    """``|fl(sum_i S_hat_i) - 1|`` along ``axis`` for a correct softmax.

    Max-subtracting route: the computed ``e_i`` appear in numerator and denominator, so
    their errors cancel: ``sum_i e_i / s_hat = s / s_hat``, off by the ``(N - 1) u`` of the
    denominator's sum, plus ``2 u`` for the division, plus ``(N - 1) u`` to sum the
    result: ``2 N u``. Logsumexp route: ``sum_i S_i r_i + (N - 1) u`` with ``sum_i S_i
    |g_i| <= N / e``: ``u (3.1 N + 9 log N + 12)``; the larger, rounded up, is ``EPS (1.6 N
    + 4.5 log N + 6)`` (componentwise). Normwise: the exact softmax of perturbed logits
    sums to 1, but the logsumexp route scales every entry by the rounding of ``lse``
    (``u |lse|``, up to ``u (||z|| + log N)``): add ``2 c u ||z||``, and ``N FLUSH_FLOOR``.
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[axis]
    tol = EPS * (1.6 * n + 4.5 * float(np.log(n)) + 6)
    if componentwise:
        return Bound(tol, "componentwise: EPS (1.6 N + 4.5 log N + 6)")
    norm = np.squeeze(row_norm(z, axis), axis=axis)
    tol = tol + 2 * NORMWISE_ROUNDINGS * UNIT_ROUNDOFF * norm + n * FLUSH_FLOOR
    return Bound(tol, "normwise: EPS (1.6 N + 4.5 log N + 6) + 2 c u ||z|| + N FLUSH_FLOOR")


def shifted_softmax_bound(
    exact: np.ndarray, z: np.ndarray, shifted: np.ndarray, *, componentwise: bool = False
) -> Bound:
    """``|S_hat(fl(z + c)) - S_hat(z)|`` along the last axis (shift invariance).

    Exactly ``S(z + c) = S(z)``. In float64 the shifted logits are rounded,
    ``fl(z_k + c) = z_k + c + delta_k`` with ``|delta_k| <= u |fl(z_k + c)|``: a relative
    change of at most ``2 u max_k |fl(z_k + c)|`` (first order). Each side is also off by
    its own ``softmax_bound``.
    """
    moved = EPS * row_norm(shifted)
    own = softmax_bound(exact, z, componentwise=componentwise)
    other = softmax_bound(exact, shifted, componentwise=componentwise)
    return Bound(
        own.tol + other.tol + np.abs(exact) * moved,
        f"rounding z + c moves exponents by u|z + c|, plus each side's {own.why}",
    )


def jacobian_bound(
    S: np.ndarray, z: np.ndarray, *, componentwise: bool = False, oracle: bool = True
) -> Bound:
    """``|J_hat_ij - J_ij|`` for a correct softmax Jacobian of ``z`` (``S``: exact softmax).

    ``J = diag(S) - S S^T`` is a function of ``S`` alone, so a backward-stable Jacobian is
    the exact one at a softmax with relative errors ``rho_i``, ``|rho_i| <= r_i``
    (``softmax_relative_error``): ``J_ij`` moves by ``S_i delta_ij r_i + S_i S_j (r_i +
    r_j)``; the one or two operations per entry (``S_i - S_i S_i``, ``S_i (1 - S_i)``) add
    ``2 u (S_i delta_ij + S_i S_j)``; the oracle's rounding (when ``oracle``) ``u |J_ij|``;
    and the floor. Shapes: ``S, z (..., N)`` -> ``(..., N, N)``.
    """
    r = softmax_relative_error(z, componentwise=componentwise)
    Si, Sj = S[..., :, None], S[..., None, :]
    ri, rj = r[..., :, None], r[..., None, :]
    eye = np.eye(S.shape[-1])
    diag, outer = Si * eye, Si * Sj
    tol = diag * ri + outer * (ri + rj) + EPS * (diag + outer) + _floor(componentwise)
    if oracle:
        tol = tol + ORACLE_ROUNDING * np.abs(diag - outer)
    return Bound(
        tol,
        f"{_GRADES[componentwise]}: S_i d_ij r_i + S_i S_j (r_i + r_j) + 2u (S_i d_ij + S_i S_j)"
        f", r = softmax_relative_error",
    )


def jacobian_row_sum_bound(S: np.ndarray, z: np.ndarray) -> Bound:
    """``|sum_j J_hat_ij|`` (exactly 0): the row's ``jacobian_bound`` plus its summation.

    Summing N entries rounds by ``(N - 1) u sum_j |J_ij| <= (N - 1) u 2 S_i``.
    """
    n = S.shape[-1]
    entry = jacobian_bound(S, z, oracle=False)
    return Bound(entry.tol.sum(-1) + n * EPS * S, f"sum_j ({entry.why}) + N EPS S_i")


def jacobian_eigenvalue_bound(S: np.ndarray, z: np.ndarray) -> Bound:
    """Distance of ``eigvalsh(J_hat)`` from ``[0, 1/2]`` (where J's eigenvalues lie).

    Weyl: a perturbation E moves eigenvalues by at most ``|E|_2 <= |E|_F`` with E bounded
    entrywise by ``jacobian_bound``; ``eigvalsh`` is backward stable with error about
    ``N u |J|_2 <= N u / 2``: ``N EPS`` covers it with margin.
    """
    n = S.shape[-1]
    entry = jacobian_bound(S, z, oracle=False)
    tol = np.sqrt((entry.tol**2).sum((-1, -2))) + n * EPS
    return Bound(tol[..., None], "Weyl with |jacobian_bound|_F, plus N EPS for eigvalsh")


def jacobian_trace_bound(S: np.ndarray, z: np.ndarray) -> Bound:
    """``|trace J_hat - (1 - |S|^2)|``: the diagonal's bounds plus two N-term sums."""
    n = S.shape[-1]
    entry = jacobian_bound(S, z, oracle=False)
    tol = np.trace(entry.tol, axis1=-2, axis2=-1) + (n + 1) * EPS
    return Bound(tol, "sum of diagonal jacobian_bound, plus N u for each of two N-term sums")


# --- Directional finite differences ----------------------------------------------------


class Probe(NamedTuple):
    """The step and rounding scale of one directional central difference."""

    h: float  # the step along the probe direction
    rounding_scale: float  # bound on the magnitudes summed in one evaluation, over EPS


#: third directional derivative of S_i along v with |v|_inf <= 1: S_i (w^3 - 3 w k2 - k3)
#: with w = v_i - <S, v> in [-2, 2] and the cumulants k2 <= 1, k3 <= 2: at most 16 S_i
_SOFTMAX_THIRD_DERIVATIVE = 16.0
#: third directional derivative of L along v with |v|_inf <= 1, per row: c times the
#: third cumulant of v under yhat, at most (max v - min v)^3 / (6 sqrt 3) < 1
_LOSS_THIRD_DERIVATIVE = 1.0


def _step(rounding_scale: float, third_derivative: float) -> float:
    """Step ``h`` minimising ``h**2 M3 / 6 + 2 EPS R / h`` (truncation + rounding).

    The minimum is at ``h = (6 EPS R / M3)**(1/3)``. Capped at 1e-2 so that the Richardson
    truncation estimate (which assumes the ``h**4`` term is negligible at ``2h``) stays
    valid, and floored at 1e-6 so that a vanishing ``R`` cannot make ``h`` zero; a step
    off the optimum costs accuracy, never soundness (``directional_difference``).
    """
    h = (6.0 * EPS * rounding_scale / third_derivative) ** (1 / 3)
    return float(min(max(h, 1e-6), 1e-2))


def softmax_probe(z: np.ndarray, v: np.ndarray, S: np.ndarray) -> Probe:
    """Step and rounding scale for the central difference of ``l(x) = <v, softmax(x)>``.

    One evaluation at ``x = fl(z +- h v)`` rounds by: the softmax entries ``S r`` (``r``
    normwise, grown by < u as the logits move by ``2h <= 0.04``), the products and the sum
    of M terms ``(M + 1) u |v S|``; rounding x itself moves ``x_i`` by ``u |x_i|``, which
    moves ``l`` by ``|dl/dz_i| u |x_i|`` with ``|dl/dz_i| = S_i |v_i - <v, S>|``.
    """
    r = softmax_relative_error(z) + EPS
    M = z.size
    centred = np.abs(v - (v * S).sum(-1, keepdims=True))
    scale = float(
        (np.abs(v) * S * (r / EPS + (M + 1) / 2)).sum()
        + (S * centred * (np.abs(z) + 0.02)).sum() / 2
    )
    rows = M // z.shape[-1]
    return Probe(_step(scale, _SOFTMAX_THIRD_DERIVATIVE * rows), scale)


def _quadratic_form_rounding(v: np.ndarray, J: np.ndarray, S: np.ndarray, z: np.ndarray) -> float:
    """Error of ``<v, J_hat v>`` itself: J within ``jacobian_bound``, N + 1 roundings a term."""
    terms = np.abs(v)[..., :, None] * np.abs(v)[..., None, :]
    entry = jacobian_bound(S, z, oracle=False).tol
    return float((terms * (entry + (z.shape[-1] + 1) * UNIT_ROUNDOFF * np.abs(J))).sum())


def jacobian_probe_bound(
    fd: DirectionalDifference, v: np.ndarray, J: np.ndarray, S: np.ndarray, z: np.ndarray
) -> Bound:
    """``|fd - <v, J_hat v>|``: the difference's own bound plus the quadratic form's error."""
    return Bound(
        fd.tol + _quadratic_form_rounding(v, J, S, z),
        "Richardson truncation estimate + rounding of softmax, of z +- h v, and of <v, J v>",
    )


def hessian_probe_bound(
    fd: DirectionalDifference,
    y: np.ndarray,
    v: np.ndarray,
    J: np.ndarray,
    S: np.ndarray,
    z: np.ndarray,
) -> Bound:
    """``|fd of <v, grad L> along v - <v, J_hat v>|`` (the Hessian is the softmax Jacobian).

    As ``jacobian_probe_bound``, with the labels' part ``<v, y>`` of each evaluation
    rounding once more (``u sum |v y|``, inside ``fd.tol`` through the rounding scale) and
    the gradient's ``N EPS S`` for ``c = sum y`` (``gradient_bound``): ``N EPS sum |v| S``.
    """
    n = z.shape[-1]
    cterm = float(n * EPS * (np.abs(v) * S).sum())
    return Bound(
        fd.tol + _quadratic_form_rounding(v, J, S, z) + cterm,
        "Richardson truncation estimate + rounding of the gradient, of z +- h v, and of <v, J v>",
    )


def cross_entropy_probe(y: np.ndarray, z: np.ndarray, S: np.ndarray, L: np.ndarray) -> Probe:
    """Step and rounding scale for the central difference of ``l(x) = sum_rows L(y, x)``.

    Each row's loss is within ``cross_entropy_bound`` (its logits move by < 0.04: add
    ``u`` per row), the sum over rows rounds by ``(rows - 1) u sum L``, and rounding
    ``x = fl(z +- h v)`` moves ``l`` by ``sum_i |dL/dz_i| u |x_i|``.
    """
    rows = z.size // z.shape[-1]
    scale = float(
        (cross_entropy_bound(y, z, L).tol / EPS + 1.0).sum()
        + (rows - 1) / 2 * L.sum()
        + (np.abs(S - y) * (np.abs(z) + 0.02)).sum() / 2
    )
    return Probe(_step(scale, _LOSS_THIRD_DERIVATIVE * rows), scale)


def gradient_probe_bound(
    fd: DirectionalDifference, y: np.ndarray, z: np.ndarray, v: np.ndarray, g: np.ndarray
) -> Bound:
    """``|fd - <g_hat, v>|``: the difference's own bound plus the error of ``<g_hat, v>``.

    ``g`` is within ``gradient_bound``, and the sum of M products rounds M times.
    """
    exact = g  # within gradient_bound of the exact gradient: same magnitudes to first order
    own = float(
        (gradient_bound(y, z, exact, oracle=False).tol * np.abs(v)).sum()
        + z.size * UNIT_ROUNDOFF * np.abs(g * v).sum()
    )
    return Bound(
        fd.tol + own,
        "Richardson truncation estimate + rounding of L, of z +- h v, and of <g, v>",
    )


def coordinate_probe(y: np.ndarray, z: np.ndarray, loss: float) -> Probe:
    """Step and rounding scale for central differences of the 40-digit loss of one row.

    The oracle rounds its result once (``u L``), and rounding ``z +- h e_i`` moves ``L`` by
    ``|dL/dz_i| u |z_i|`` with ``|dL/dz_i| <= c + 1`` (``c = sum y``, on or off the simplex).
    """
    c = float(y.sum())
    scale = loss + (c + 1) * (float(np.abs(z).max()) + 0.02) / 2
    return Probe(_step(scale, _LOSS_THIRD_DERIVATIVE * (c + 1)), scale)


def off_simplex_gradient_bound(tol: np.ndarray, y: np.ndarray) -> Bound:
    """``|fd_i - (c yhat_i - y_i)|`` for coordinate differences of the 40-digit loss.

    The differences' own bounds (``tol``), plus forming ``c yhat - y`` in float64 from the
    rounded 40-digit softmax: a few roundings of magnitude ``1 + |y_i|``: ``4 EPS``.
    """
    return Bound(
        tol + 4 * EPS * (1 + np.abs(y)),
        "Richardson + rounding of the 40-digit loss, and 4 EPS (1 + |y|) for c yhat - y",
    )


# --- Cross-entropy -------------------------------------------------------------------


def cross_entropy_bound(
    y: np.ndarray, z: np.ndarray, exact: np.ndarray, *, componentwise: bool = False
) -> Bound:
    """``|L_hat - L|`` for a correct cross-entropy, shape ``z.shape[:-1]``.

    With ``d = max z - z >= 0``, ``A = sum_i y_i d_i``: ``L = A + c lambda``. Output
    rounding (both grades): forming ``d_i``, ``y_i d_i`` and their sum costs
    ``(N + 1) u A``; ``s`` is off by ``(1.37 N + kappa_exp) u``, ``lambda`` by that plus
    ``kappa_log u lambda``; the product by ``c`` and the final sum ``u (A + c lambda)``.
    Through log-softmax (``-sum y_i (g_i - lambda)``) the terms are the same with ``A +
    lambda`` in place of ``A``, and forming ``z - lse(z)`` rounds ``lse ~ max z`` once
    more: ``u max|z|`` per unit of ``c``. Componentwise total:
    ``u [(N + 2)(A + lambda) + 1.37 N + kappa_log log N + kappa_exp + 2 max|z|]``.
    Normwise adds the perturbation of the logits, ``|dL| <= ||S - y||_1 c u ||z||``
    (``dL/dz = S - y``), at most ``2 c u ||z||`` (``||S - y||_1 <= 2``), and the floor.
    """
    n = z.shape[-1]
    with np.errstate(over="ignore"):  # a gap beyond 1.8e308 makes the bound (and L) inf
        d = 2.0 * (z.max(axis=-1, keepdims=True) * 0.5 - z * 0.5)
        A = (y * d).sum(axis=-1)
    lam = np.log(np.exp(-d).sum(axis=-1))
    u = UNIT_ROUNDOFF
    size = np.abs(z).max(axis=-1)
    # scaled by u term by term: (N + 2) A would overflow for the losses near 1e308 that the
    # reference-only properties reach, and an infinite bound would pass anything
    tol = (
        (u * (n + 2)) * A
        + (u * (n + 2)) * lam
        + u * (1.37 * n + KAPPA_LOG * np.log(n) + KAPPA_EXP)
        + (2 * u) * size
        + ORACLE_ROUNDING * np.abs(exact)
    )
    if componentwise:
        return Bound(tol, "componentwise: u [(N + 2)(A + log s) + 1.37 N + 8 log N + 6 + 2 max|z|]")
    with np.errstate(over="ignore"):
        tol = tol + (2 * NORMWISE_ROUNDINGS * u) * size + FLUSH_FLOOR
    return Bound(
        tol, "normwise: componentwise + ||S - y||_1 c u ||z|| (<= 2 c u ||z||) + FLUSH_FLOOR"
    )


def gradient_bound(
    y: np.ndarray,
    z: np.ndarray,
    exact: np.ndarray,
    *,
    componentwise: bool = False,
    oracle: bool = True,
) -> Bound:
    """``|g_hat_i - g_i|`` for a correct gradient against ``exact = c S - y`` (the oracle).

    ``g = c S - y`` depends on ``z`` through ``S`` only: a backward-stable gradient is the
    exact one at a softmax off by ``S_i r_i`` (``softmax_relative_error``, normwise or
    componentwise). An implementation may return ``S - y`` (the assignment's formula,
    exact on the simplex) instead of ``c S - y``, and ``|c - 1| <= N EPS`` on the simplex
    (``reference.softmax_ce.simplex_tolerance``): ``N EPS S``. The subtraction and a
    product by ``c`` round once each, ``u (S_i + y_i)`` apiece, and the oracle's rounding
    adds ``u |g_i|`` (when ``oracle``); then the floor.
    """
    n = z.shape[-1]
    S = np.abs(exact + y)  # c S, within N EPS of S: same magnitudes to first order
    r = softmax_relative_error(z, componentwise=componentwise)
    tol = S * r + n * EPS * S + EPS * (S + y) + _floor(componentwise)
    if oracle:
        tol = tol + ORACLE_ROUNDING * np.abs(exact)
    return Bound(
        tol, f"{_GRADES[componentwise]}: S r + N EPS S (c = 1 +- N EPS) + EPS (S + y) + floor"
    )


def gradient_sum_bound(y: np.ndarray, z: np.ndarray, g: np.ndarray) -> Bound:
    """``|sum_i g_hat_i|`` (exactly 0 on the simplex).

    ``sum_i (S_i - y_i) = (sum S - 1) + (1 - c)``: ``softmax_sum_bound`` and the simplex's
    ``N EPS``; the N subtractions and the N-term sum add ``N u sum |g_i|``.
    """
    n = z.shape[-1]
    sums = softmax_sum_bound(z)
    tol = sums.tol + n * EPS + n * UNIT_ROUNDOFF * np.abs(g).sum(-1)
    return Bound(tol, f"{sums.why} + N EPS + N u sum |g|")


def label_difference_bound(
    y1: np.ndarray, y2: np.ndarray, z: np.ndarray, g1: np.ndarray, g2: np.ndarray
) -> Bound:
    """``|(g_hat(y1, z) - g_hat(y2, z)) - (y2 - y1)|``: exactly 0 (the Hessian ignores y).

    Each gradient within ``gradient_bound`` of its exact value (the softmax parts are the
    same exact ``S``, but two implementations calls may round differently), the two
    differences round by ``u |g1 - g2|`` and ``u |y2 - y1|``.
    """
    one = gradient_bound(y1, z, g1, oracle=False)
    two = gradient_bound(y2, z, g2, oracle=False)
    tol = one.tol + two.tol + UNIT_ROUNDOFF * (np.abs(g1 - g2) + np.abs(y2 - y1))
    return Bound(tol, f"each gradient within ({one.why}), plus the two subtractions")


def convexity_bound(
    y: np.ndarray,
    points: tuple[np.ndarray, np.ndarray, np.ndarray],
    losses: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> Bound:
    """How far below 0 the computed ``L(z+) - 2 L(z) + L(z-)`` may fall (exactly >= 0).

    ``L`` is convex in z, so the second difference along any line is ``>= 0`` for every
    step. Each of the three losses is within its normwise ``cross_entropy_bound`` (the
    middle one counted twice), rounding the points ``z +- t v`` moves the outer losses by
    ``sum_i |dL/dz_i| u |x_i| <= 2 u ||x||`` per unit of c, and the two additions round
    by ``u (|L+| + 2 |L| + |L-|)``.
    """
    tol = np.zeros(points[0].shape[:-1])
    for weight, x, L in zip((1, 2, 1), points, losses, strict=True):
        tol = tol + weight * (cross_entropy_bound(y, x, L).tol + UNIT_ROUNDOFF * np.abs(L))
        tol = tol + weight * 2 * UNIT_ROUNDOFF * row_norm(x)[..., 0]
    return Bound(tol, "normwise cross_entropy_bound at the three points + rounding of z +- t v")

"""Independent oracles of the softmax chapter: the definitions, evaluated at 40 digits.

Values: ``exact_softmax`` and ``exact_cross_entropy`` evaluate ``exp(z_i) / sum exp(z_k)``
and ``-sum y_i log S_i`` in 40-digit decimal arithmetic. Derivatives:
``exact_softmax_jacobian`` and ``exact_cross_entropy_grad`` differentiate the same
definitions numerically by the *complex step* (Squire and Trapp 1998) in 40-digit mpmath:
``f'(x) e_j = Im f(x + i h e_j) / h`` with ``h = 1e-30`` has truncation error
``h**2 |f'''| ~ 1e-60`` and no cancellation, so it is exact to the working precision
while sharing no formula with ``diag(S) - S S^T`` or ``S - y``. All are exact to far below
a float64 ulp before their one final rounding (``ORACLE_ROUNDING``).

Cost (measured on this machine, N = 8): about 0.9 ms per row for the Jacobian and 1.8 ms
per row for the gradient, so the properties that use them draw at most 3 rows.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator

import mpmath
import numpy as np

from properties.tolerance.common import directional_difference
from properties.tolerance.softmax import coordinate_probe

__all__ = [
    "exact_cross_entropy",
    "exact_cross_entropy_grad",
    "exact_softmax",
    "exact_softmax_jacobian",
    "finite_difference_gradient",
]

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


# 40-digit mpmath context of its own (the global mpmath.mp is left alone)
_MP = mpmath.MPContext()
_MP.dps = 40
#: the complex step: Im f(x + i h) / h = f'(x) + O(h**2 f''') with no cancellation
_STEP = _MP.mpf("1e-30")


#: gaps are clipped here: exp(-1000) = 5e-435 and everything it touches (S_i, S_i S_j, its
#: share of the sum) rounds to the same float64 as for any wider gap, while mpmath's
#: additions of numbers 1e11 binary orders apart would exhaust memory
_GAP_CLIP = _MP.mpf(1000)


def _mp_rows(z: np.ndarray) -> Iterator[tuple[tuple[int, ...], list]]:
    """Each row ``z[idx, :]`` as 40-digit ``exp(max(z_i - max z, -1000))``."""
    for idx in np.ndindex(z.shape[:-1]):
        row = [_MP.mpf(float(x)) for x in z[idx]]  # floats convert exactly
        top = max(row)
        yield idx, [_MP.exp(max(x - top, -_GAP_CLIP)) for x in row]


def _stepped(e: list, j: int, kick: mpmath.mpc) -> list:
    """The row of exponentials at ``z + i h e_j``: only the j-th term changes."""
    return [x * kick if k == j else x for k, x in enumerate(e)]


def exact_softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """``dS_i/dz_j`` of the definition ``exp(z_i) / sum exp(z_k)``, by the complex step.

    Shape ``(..., N)`` -> ``(..., N, N)``; column j is ``Im S(z + i h e_j) / h``.
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[-1]
    out = np.empty((*z.shape, n))
    kick = _MP.exp(_MP.mpc(0, _STEP))
    for idx, e in _mp_rows(z):
        for j in range(n):
            stepped = _stepped(e, j, kick)
            inverse = 1 / _MP.fsum(stepped)  # S_i(z + i h e_j) = stepped_i * inverse
            out[(*idx, slice(None), j)] = [float((x * inverse).imag / _STEP) for x in stepped]
    return out


def exact_cross_entropy_grad(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``dL/dz_j`` of the definition ``L = -sum_i y_i log(exp(z_i) / sum exp(z_k))``.

    By the complex step in each ``z_j``; terms with ``y_i = 0`` are 0 (``0 log 0 = 0``)
    and skipped. The exact gradient for the ``y`` given, on the simplex or not.
    """
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    kick = _MP.exp(_MP.mpc(0, _STEP))
    for idx, e in _mp_rows(z):
        weights = [(i, _MP.mpf(float(w))) for i, w in enumerate(y[idx]) if w != 0]
        logs = [_MP.log(x) for x in e]
        for j in range(z.shape[-1]):
            stepped = _stepped(e, j, kick)
            log_s = _MP.log(_MP.fsum(stepped))
            # log(stepped_i / s) = log stepped_i - log s: only the j-th log changes
            terms = (w * ((_MP.log(stepped[i]) if i == j else logs[i]) - log_s) for i, w in weights)
            out[(*idx, j)] = float(-_MP.fsum(terms).imag / _STEP)
    return out


def finite_difference_gradient(y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of the 40-digit loss of one row along each axis.

    Returns ``(estimates, bounds)``: each estimate with its Richardson truncation and
    rounding bound (``directional_difference``, step from ``coordinate_probe``). Slow
    (4 N decimal losses): for the statement-level test of the hypothesis ``sum y = 1``.
    """
    probe = coordinate_probe(y, z, float(exact_cross_entropy(y, z)))
    differences = [
        directional_difference(lambda x: float(exact_cross_entropy(y, x)), z, e, *probe)
        for e in np.eye(z.size)
    ]
    return np.array([d.estimate for d in differences]), np.array([d.tol for d in differences])

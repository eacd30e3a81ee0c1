"""Independent oracles of the softmax chapter."""

from __future__ import annotations

import decimal
from collections.abc import Iterator

import numpy as np

__all__ = [
    "exact_cross_entropy",
    "exact_softmax",
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

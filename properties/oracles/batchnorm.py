"""Independent oracles of the batch-normalisation chapter.

Three ways to compute batch norm that no implementation under audit shares:

* ``exact_batchnorm``: the *definition* (mean, biased variance, sqrt, affine map)
  evaluated in 40-digit decimal arithmetic, and its derivatives by forward-mode
  differentiation of that same evaluation (dual numbers: every elementary step carries
  its exact derivative along), so dx, dgamma and dbeta come from the chain rule applied
  mechanically to the definition, never from a closed form. Rounded to float64 once.
* ``Definition`` / ``forward_by_definition``: the definition in float64 with exactly
  rounded sums (``math.fsum``), column by column; a cheap float64 route for the
  structural laws.
* the answer key's own formulas, term by term: ``batchnorm_key_terms`` (kept beside the
  reference, which validates its input and benchmarks it; re-exported here because the
  properties use it as an oracle for the key's intermediates).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from reference.batchnorm import KeyTerms, batchnorm_key_terms

__all__ = [
    "Definition",
    "ExactBatchNorm",
    "KeyTerms",
    "batchnorm_key_terms",
    "column_fsums",
    "exact_batchnorm",
    "forward_by_definition",
    "fsum",
]


# --- float64 with exact sums ----------------------------------------------------------


def fsum(a: np.ndarray) -> float:
    """Exactly rounded sum of all entries (the oracle's sums carry one rounding)."""
    return math.fsum(np.asarray(a, dtype=np.float64).ravel())


def column_fsums(a: np.ndarray) -> np.ndarray:
    """Exactly rounded column sums of an (m, d) array."""
    return np.array([math.fsum(column) for column in np.asarray(a).T])


class Definition:
    """Batch statistics evaluated column by column from the definition, with exact sums."""

    def __init__(self, x: np.ndarray, eps: float) -> None:
        m = x.shape[0]
        self.mu = column_fsums(x) / m
        self.centred = x - self.mu
        self.var = column_fsums(self.centred * self.centred) / m
        self.s = np.sqrt(self.var + eps)
        self.xhat = self.centred / self.s


def forward_by_definition(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> np.ndarray:
    """Evaluate y = gamma (x - mu) / sqrt(sigma^2 + eps) + beta, float64 with exact sums."""
    return gamma * Definition(x, eps).xhat + beta


# --- 40 digits, forward-mode derivatives of the definition ----------------------------

_DECIMAL = decimal.Context(
    prec=40, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX, traps=[decimal.InvalidOperation]
)
_D = decimal.Decimal


class _Dual:
    """A 40-digit number with its exact gradient in the chosen inputs (forward mode).

    Each operation applies the derivative rule of that one elementary operation
    (sum, product, quotient, sqrt), nothing more: composed along the definition, the
    tangents are the definition's derivatives.
    """

    __slots__ = ("grad", "value")

    def __init__(self, value: decimal.Decimal, grad: Sequence[decimal.Decimal]) -> None:
        self.value = value
        self.grad = grad

    def __add__(self, other: _Dual) -> _Dual:
        return _Dual(
            self.value + other.value, [a + b for a, b in zip(self.grad, other.grad, strict=True)]
        )

    def __sub__(self, other: _Dual) -> _Dual:
        return _Dual(
            self.value - other.value, [a - b for a, b in zip(self.grad, other.grad, strict=True)]
        )

    def __mul__(self, other: _Dual) -> _Dual:
        u, v = self.value, other.value
        return _Dual(u * v, [a * v + u * b for a, b in zip(self.grad, other.grad, strict=True)])

    def __truediv__(self, other: _Dual) -> _Dual:
        q, v = self.value / other.value, other.value
        return _Dual(q, [(a - q * b) / v for a, b in zip(self.grad, other.grad, strict=True)])

    def sqrt(self) -> _Dual:
        r = self.value.sqrt()
        return _Dual(r, [a / (2 * r) for a in self.grad])


def _constant(value: float, n: int) -> _Dual:
    return _Dual(_D(value), [_D(0)] * n)


def _variable(value: float, index: int, n: int) -> _Dual:
    grad = [_D(0)] * n
    grad[index] = _D(1)
    return _Dual(_D(value), grad)


def _total(terms: list[_Dual]) -> _Dual:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _centred(column: np.ndarray, n: int) -> list[_Dual]:
    """``x_i - mu`` for one feature, gradient over (x_1, ..., x_m, ...) in n slots.

    The mean and the differences are exact rationals (``Fraction`` holds every float and
    their sums exactly), rounded once to 40 digits; their derivatives are the elementary
    rule d(x_i - (1/m) sum_k x_k)/dx_k = delta_ik - 1/m. Exact centring keeps the
    oracle exact where the definition gives exact zeros (m = 1, constant features).
    """
    m = len(column)
    xs = [Fraction(float(v)) for v in column]
    mu = sum(xs, Fraction(0)) / m
    minus_mean = -_D(1) / _D(m)
    centred = []
    for i, xi in enumerate(xs):
        c = xi - mu
        grad = [minus_mean] * m + [_D(0)] * (n - m)
        grad[i] = 1 + minus_mean
        centred.append(_Dual(_D(c.numerator) / _D(c.denominator), grad))
    return centred


def _column_by_definition(
    centred: list[_Dual], gamma: _Dual, beta: _Dual, dy: Sequence[_Dual], eps: _Dual
) -> tuple[list[_Dual], _Dual]:
    """One feature, as the definition reads: y_i and l = sum_i dy_i y_i."""
    var = _total([c * c for c in centred]) / _constant(len(centred), len(eps.grad))
    s = (var + eps).sqrt()
    y = [gamma * (c / s) + beta for c in centred]
    return y, _total([g * yi for g, yi in zip(dy, y, strict=True)])


class ExactBatchNorm(NamedTuple):
    """The definition and its derivatives at 40 digits, each rounded once to float64."""

    y: np.ndarray  # (m, d)
    dx: np.ndarray  # (m, d) dl/dx for l = sum(dy * y)
    dgamma: np.ndarray  # (d,)
    dbeta: np.ndarray  # (d,)


def exact_batchnorm(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dy: np.ndarray, eps: float
) -> ExactBatchNorm:
    """The output y and the gradients of ``l = sum(dy * y)``, from the definition at 40 digits.

    Each column is centred exactly (rationals), then evaluated once with dual numbers
    whose gradient runs over (x_1j, ..., x_mj, gamma_j, beta_j), so the cost is O(m^2)
    decimal operations per feature. After the exact centring nothing cancels but the
    final sums, whose 40-digit rounding (1e-40 of the magnitudes summed) is far below
    float64's; the conversion to float64 adds u |value|, nothing else.
    """
    m, d = x.shape
    n = m + 2
    y = np.empty((m, d))
    dx = np.empty((m, d))
    dgamma = np.empty(d)
    dbeta = np.empty(d)
    with decimal.localcontext(_DECIMAL):
        for j in range(d):
            ys, loss = _column_by_definition(
                _centred(x[:, j], n),
                _variable(float(gamma[j]), m, n),
                _variable(float(beta[j]), m + 1, n),
                [_constant(float(v), n) for v in dy[:, j]],
                _constant(float(eps), n),
            )
            y[:, j] = [float(v.value) for v in ys]
            dx[:, j] = [float(g) for g in loss.grad[:m]]
            dgamma[j] = float(loss.grad[m])
            dbeta[j] = float(loss.grad[m + 1])
    return ExactBatchNorm(y, dx, dgamma, dbeta)

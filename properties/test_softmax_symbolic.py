"""Symbolic proofs for small sizes: the softmax Jacobian and the cross-entropy gradient.

For N = 2, 3, 4 classes, with z_1..z_N real symbols and y_1..y_N symbols constrained by
sum_i y_i = 1 (substituted: y_N = 1 - y_1 - ... - y_{N-1}), SymPy checks as identities

    d/dz_j [exp(z_i) / sum_k exp(z_k)] = S_i (delta_ij - S_j),
    d/dz_j [-sum_i y_i log(exp(z_i) / sum_k exp(z_k))] = S_j - y_j.

Each proof takes the closed form as an argument; the tests below also hand it a broken
formula and show the proof then fails (a missing transpose in the Jacobian cannot be
told apart, J being symmetric, so the broken Jacobian drops the delta term; the broken
gradient is c yhat - y with c = 2, i.e. the formula without sum y = 1).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from properties.symbolic import proves

sympy = pytest.importorskip("sympy")

SIZES = (2, 3, 4)


def _softmax(z: list) -> list:
    total = sum(sympy.exp(zk) for zk in z)
    return [sympy.exp(zi) / total for zi in z]


def _is_zero(expression) -> bool:
    """Exact zero test: rewrite in e_k = exp(z_k) (positive symbols) and cancel."""
    return sympy.cancel(sympy.together(sympy.expand(expression))) == 0


def jacobian_identity_holds(n: int, formula: Callable[[list, int, int], object]) -> bool:
    """True when ``formula(S, i, j)`` equals d S_i / d z_j of the definition for N = n."""
    z = sympy.symbols(f"z1:{n + 1}", real=True)
    S = _softmax(list(z))
    return all(
        _is_zero(sympy.diff(S[i], z[j]) - formula(S, i, j)) for i in range(n) for j in range(n)
    )


def gradient_identity_holds(n: int, formula: Callable[[list, list, int], object]) -> bool:
    """True when ``formula(S, y, j)`` equals dL/dz_j of the definition with sum y = 1."""
    z = sympy.symbols(f"z1:{n + 1}", real=True)
    free = sympy.symbols(f"y1:{n}", real=True)
    y = [*free, 1 - sum(free)]  # the hypothesis sum y = 1, substituted
    S = _softmax(list(z))
    loss = -sum(yi * sympy.log(Si) for yi, Si in zip(y, S, strict=True))
    loss = sympy.expand_log(loss, force=True)
    return all(_is_zero(sympy.diff(loss, z[j]) - formula(S, y, j)) for j in range(n))


def _jacobian(S: list, i: int, j: int):
    return S[i] * (int(i == j) - S[j])


def _gradient(S: list, y: list, j: int):
    return S[j] - y[j]


@proves("softmax_jacobian", "for N = 2..4: dS_i/dz_j = S_i (delta_ij - S_j)")
@pytest.mark.parametrize("n", SIZES)
def test_softmax_jacobian_formula_is_an_identity(n):
    assert jacobian_identity_holds(n, _jacobian)


@proves("cross_entropy_grad", "for N = 2..4 with sum y = 1: dL/dz = yhat - y")
@pytest.mark.parametrize("n", SIZES)
def test_cross_entropy_gradient_formula_is_an_identity(n):
    assert gradient_identity_holds(n, _gradient)


def test_proofs_fail_for_broken_formulas():
    """Each proof can fail: -S_i S_j (delta dropped) and 2 yhat - y (c != 1) are refuted."""
    assert not jacobian_identity_holds(2, lambda S, i, j: -S[i] * S[j])
    assert not gradient_identity_holds(2, lambda S, y, j: 2 * S[j] - y[j])

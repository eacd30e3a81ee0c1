"""Proved for small sizes: the answer key's batch-norm gradients are the derivatives.

Claim. For one feature and m = 2 or 3 examples, with symbols x_1..x_m, gamma, beta,
dy_1..dy_m and eps > 0, let l = sum_i dy_i y_i with y the definition of batch norm
(mean, biased variance, s = sqrt(sigma^2 + eps), y_i = gamma (x_i - mu) / s + beta). Then,
as identities of expressions in x, gamma, dy and eps,

    dl/dx_i   = (gamma / s) (dy_i - (1/m) sum_k dy_k - xhat_i (1/m) sum_k dy_k xhat_k),
    dl/dgamma = sum_i dy_i xhat_i,    dl/dbeta = sum_i dy_i,

the answer key's chain rule through dl/dxhat, dl/dsigma^2 and dl/dmu, assembled. SymPy
differentiates the definition and the difference simplifies to 0. Each proof takes the
formula as an argument; a broken formula (dx without its dl/dmu / m term) is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from properties.symbolic import proves

sympy = pytest.importorskip("sympy")

Gradients = Callable[[list, object, list, object], tuple[list, object, object]]


def symbols(m: int):
    """x_1..x_m, dy_1..dy_m real; gamma, beta real; eps positive."""
    xs = list(sympy.symbols(f"x1:{m + 1}", real=True))
    dys = list(sympy.symbols(f"dy1:{m + 1}", real=True))
    gamma, beta = sympy.symbols("gamma beta", real=True)
    eps = sympy.Symbol("eps", positive=True)
    return xs, gamma, beta, dys, eps


def statistics(xs: list, eps):
    """Mu and s = sqrt(sigma^2 + eps) of the definition."""
    m = len(xs)
    mu = sum(xs) / m
    var = sum((x - mu) ** 2 for x in xs) / m
    return mu, sympy.sqrt(var + eps)


def loss_by_definition(xs, gamma, beta, dys, eps):
    """L = sum_i dy_i y_i with y the definition of batch norm."""
    mu, s = statistics(xs, eps)
    return sum(dy * (gamma * (x - mu) / s + beta) for x, dy in zip(xs, dys, strict=True))


def key_gradients(xs, gamma, dys, eps, *, mean_term: bool = True):
    """The answer key's chain rule, term by term (``mean_term=False``: dl/dmu / m dropped).

    dl/dxhat_i = dy_i gamma; dl/dsigma^2 = -1/2 sum dl/dxhat_i (x_i - mu) s^-3;
    dl/dmu = -sum dl/dxhat_i / s + dl/dsigma^2 (-2/m) sum (x_i - mu);
    dl/dx_i = dl/dxhat_i / s + dl/dsigma^2 2 (x_i - mu) / m + dl/dmu / m.
    """
    m = len(xs)
    mu, s = statistics(xs, eps)
    dxhat = [dy * gamma for dy in dys]
    dvar = -sum(g * (x - mu) for g, x in zip(dxhat, xs, strict=True)) / (2 * s**3)
    dmu = -sum(dxhat) / s + dvar * (-2 * sum(x - mu for x in xs) / m)
    dx = [
        g / s + dvar * 2 * (x - mu) / m + (dmu / m if mean_term else 0)
        for g, x in zip(dxhat, xs, strict=True)
    ]
    xhat = [(x - mu) / s for x in xs]
    return dx, sum(dy * xh for dy, xh in zip(dys, xhat, strict=True)), sum(dys)


def closed_form_gradients(xs, gamma, dys, eps):
    """The folded closed form: (gamma / s) (dy_i - dbeta / m - xhat_i dgamma / m)."""
    m = len(xs)
    mu, s = statistics(xs, eps)
    xhat = [(x - mu) / s for x in xs]
    dbeta = sum(dys)
    dgamma = sum(dy * xh for dy, xh in zip(dys, xhat, strict=True))
    dx = [gamma / s * (dy - dbeta / m - xh * dgamma / m) for dy, xh in zip(dys, xhat, strict=True)]
    return dx, dgamma, dbeta


def is_zero(expression) -> bool:
    """Whether an expression in x, dy, gamma, eps is identically 0.

    The difference is a rational function of the symbols and s; with s^2 = sigma^2 + eps
    substituted by a positive symbol t squared it becomes rational, and ``cancel``
    decides it exactly.
    """
    t = sympy.Symbol("t", positive=True)
    radicals = expression.atoms(sympy.Pow)
    roots = {r for r in radicals if r.exp.is_Rational and r.exp.q == 2}
    bases = {r.base for r in roots}
    assert len(bases) <= 1, f"more than one square root: {bases}"
    if bases:
        (base,) = bases
        expression = expression.subs({r: t ** (2 * r.exp) for r in roots})
        # t^2 stands for base: eliminate the symbol whose value base determines (eps)
        eps = sympy.Symbol("eps", positive=True)
        expression = expression.subs(eps, sympy.solve(sympy.Eq(base, t**2), eps)[0])
    return sympy.cancel(sympy.together(expression)) == 0


def prove_gradients(m: int, gradients: Gradients) -> None:
    """Assert that ``gradients`` are dl/dx_i, dl/dgamma, dl/dbeta of the definition."""
    xs, gamma, beta, dys, eps = symbols(m)
    loss = loss_by_definition(xs, gamma, beta, dys, eps)
    dx, dgamma, dbeta = gradients(xs, gamma, dys, eps)
    for i, x in enumerate(xs):
        assert is_zero(sympy.diff(loss, x) - dx[i]), f"dl/dx_{i + 1} differs (m = {m})"
    assert is_zero(sympy.diff(loss, gamma) - dgamma), f"dl/dgamma differs (m = {m})"
    assert is_zero(sympy.diff(loss, beta) - dbeta), f"dl/dbeta differs (m = {m})"


@proves(
    "batchnorm_backward",
    "for m = 2, 3 and one feature, the key's dx (chain rule through dxhat, dsigma^2, dmu), "
    "dgamma, dbeta are the derivatives of l = sum dy * batchnorm(x) (identities in x, "
    "gamma, dy, eps)",
)
@pytest.mark.parametrize("m", [2, 3])
def test_key_gradients_are_the_derivatives(m: int) -> None:
    prove_gradients(m, key_gradients)


@proves(
    "batchnorm_backward",
    "for m = 2, 3 and one feature, the folded closed form (gamma / s)(dy - dbeta/m - "
    "xhat dgamma/m) is dl/dx",
)
@pytest.mark.parametrize("m", [2, 3])
def test_closed_form_is_the_derivative(m: int) -> None:
    prove_gradients(m, closed_form_gradients)


@pytest.mark.parametrize("m", [2, 3])
def test_proof_refuses_dx_without_the_mean_term(m: int) -> None:
    """The proof can fail: the key's dx without its dl/dmu / m term is not a derivative."""

    def broken(xs, gamma, dys, eps):
        return key_gradients(xs, gamma, dys, eps, mean_term=False)

    with pytest.raises(AssertionError, match="dl/dx_1 differs"):
        prove_gradients(m, broken)

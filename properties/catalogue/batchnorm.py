"""Batch-norm implementations (Problem 2): wrong ones to reject, correct peers to accept.

CATALOGUE: each backward is the answer key's chain rule with one step changed, or a
numerically unsound route (a one-pass variance, a float32 intermediate, a finite-
difference gradient); each forward is the definition with one numerical or API slip.
Every one is rejected by some property of ``properties/test_batchnorm.py``.

PEERS: correct implementations by other legitimate algorithms (Welford's variance, the
folded affine form, flush-to-zero arithmetic, an autograd-style unfolded chain rule);
every property must accept them. ``properties/meta/test_catalogue.py`` checks both.
"""

from __future__ import annotations

import numpy as np

from properties.catalogue import Peer, WrongImplementation
from reference.batchnorm import DEFAULT_EPS


def _key_backward(
    dy,
    x,
    gamma,
    eps=DEFAULT_EPS,
    *,
    ddof=0,
    eps_in_backward=True,
    dvar_sign=-1.0,
    with_dmu=True,
    with_gamma=True,
    dgamma_from_x=False,
):
    """The key's chain rule, with switches for the catalogued mistakes."""
    m = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc * xc).sum(axis=0) / (m - ddof)
    shifted = var + eps if eps_in_backward else var
    xhat = xc / np.sqrt(shifted)
    dxhat = dy * gamma if with_gamma else dy
    dvar = dvar_sign * 0.5 * (dxhat * xc).sum(axis=0) * shifted**-1.5
    dmu = -(dxhat / np.sqrt(shifted)).sum(axis=0) + dvar * (-2.0 / m) * xc.sum(axis=0)
    dx = dxhat / np.sqrt(shifted) + dvar * 2.0 * xc / m
    if with_dmu:
        dx = dx + dmu / m
    dgamma = (dy * (x if dgamma_from_x else xhat)).sum(axis=0)
    return dx, dgamma, dy.sum(axis=0)


def backward_without_dmu_term(dy, x, gamma, eps=DEFAULT_EPS):
    """Drops the dmu / m term: dx = dxhat / s + dvar 2 (x - mu) / m, the dmu / m term dropped."""
    return _key_backward(dy, x, gamma, eps, with_dmu=False)


def backward_unbiased_variance(dy, x, gamma, eps=DEFAULT_EPS):
    """sigma^2 divided by m - 1 (torch.var's default) instead of m."""
    return _key_backward(dy, x, gamma, eps, ddof=1)


def backward_without_eps(dy, x, gamma, eps=DEFAULT_EPS):
    """Leaves eps out of the backward only: s = sqrt(sigma^2)."""
    return _key_backward(dy, x, gamma, eps, eps_in_backward=False)


def backward_dgamma_from_x(dy, x, gamma, eps=DEFAULT_EPS):
    """Takes dgamma = sum dy * x instead of sum dy * xhat."""
    return _key_backward(dy, x, gamma, eps, dgamma_from_x=True)


def backward_dvar_sign_error(dy, x, gamma, eps=DEFAULT_EPS):
    """dl/dsigma^2 = +1/2 sum dxhat (x - mu) s^-3: the sign of the power rule lost."""
    return _key_backward(dy, x, gamma, eps, dvar_sign=1.0)


def backward_without_gamma(dy, x, gamma, eps=DEFAULT_EPS):
    """dl/dxhat = dy, forgetting the factor gamma of y = gamma xhat + beta."""
    return _key_backward(dy, x, gamma, eps, with_gamma=False)


def forward_float32(x, gamma, beta, eps=DEFAULT_EPS):
    """The definition computed in float32 (a GPU-style kernel), returned as float64."""
    x32, g32, b32 = (np.asarray(a, dtype=np.float32) for a in (x, gamma, beta))
    mu = x32.mean(axis=0)
    var = ((x32 - mu) ** 2).mean(axis=0)
    y = g32 * (x32 - mu) / np.sqrt(var + np.float32(eps)) + b32
    return y.astype(np.float64)


def forward_default_eps_1e_3(x, gamma, beta, eps=1e-3):
    """Correct, but its default eps is 1e-3 instead of the contract's 1e-5."""
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_unbiased_variance(x, gamma, beta, eps=DEFAULT_EPS):
    """sigma^2 divided by m - 1 (and so undefined for m = 1)."""
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).sum(axis=0) / (x.shape[0] - 1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_one_pass_variance(x, gamma, beta, eps=DEFAULT_EPS):
    """sigma^2 = mean(x^2) - mu^2: cancels catastrophically when |mu| >> sigma."""
    mu = x.mean(axis=0)
    var = (x * x).mean(axis=0) - mu * mu
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def backward_one_pass_variance(dy, x, gamma, eps=DEFAULT_EPS):
    """The closed form with sigma^2 = mean(x^2) - mu^2 (clipped at 0, as some frameworks do).

    Cancels catastrophically when |mu| >> sigma: the variance is off by about u mu^2.
    """
    m = x.shape[0]
    mu = x.mean(axis=0)
    var = np.maximum((x * x).mean(axis=0) - mu * mu, 0.0)
    s = np.sqrt(var + eps)
    xhat = (x - mu) / s
    dgamma = (dy * xhat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    dx = gamma / s * (dy - dbeta / m - xhat * dgamma / m)
    return dx, dgamma, dbeta


def backward_float32_xhat(dy, x, gamma, eps=DEFAULT_EPS):
    """The closed form with xhat saved in float32 (a mixed-precision activation cache)."""
    m = x.shape[0]
    mu = x.mean(axis=0)
    s = np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    xhat = ((x - mu) / s).astype(np.float32).astype(np.float64)
    dgamma = (dy * xhat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    dx = gamma / s * (dy - dbeta / m - xhat * dgamma / m)
    return dx, dgamma, dbeta


def _forward_two_pass(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def backward_central_differences(dy, x, gamma, eps=DEFAULT_EPS):
    """Every gradient entry by a central difference of l = sum(dy * y), at its best step.

    The step for x is u^(1/3) s per feature (s = sqrt(sigma^2 + eps), the scale over which
    l bends), which balances truncation against rounding: relative error about u^(2/3),
    some 1e-11, the best a finite-difference gradient can do.
    """
    step = np.finfo(np.float64).eps ** (1 / 3)
    beta = np.zeros_like(gamma)

    def loss(x_, gamma_, beta_):
        return float(np.sum(dy * _forward_two_pass(x_, gamma_, beta_, eps)))

    h = step * np.sqrt(x.var(axis=0) + eps)
    dx = np.empty_like(x)
    for i, j in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i, j] = h[j]
        dx[i, j] = (loss(x + e, gamma, beta) - loss(x - e, gamma, beta)) / (2 * h[j])
    dgamma = np.empty_like(gamma)
    dbeta = np.empty_like(gamma)
    for j in range(gamma.shape[0]):
        e = np.zeros_like(gamma)
        e[j] = step * max(1.0, abs(gamma[j]))
        dgamma[j] = (loss(x, gamma + e, beta) - loss(x, gamma - e, beta)) / (2 * e[j])
        dbeta[j] = (loss(x, gamma, beta + e) - loss(x, gamma, beta - e)) / (2 * e[j])
    return dx, dgamma, dbeta


# --- correct peers ----------------------------------------------------------------------


def _welford(x):
    """Mean and biased variance by Welford's one-pass update, row by row."""
    mu = np.zeros(x.shape[1])
    m2 = np.zeros(x.shape[1])
    for count, row in enumerate(x, start=1):
        delta = row - mu
        mu = mu + delta / count
        m2 = m2 + delta * (row - mu)
    return mu, m2 / x.shape[0]


def forward_welford(x, gamma, beta, eps=DEFAULT_EPS):
    """The definition with Welford's streaming mean and variance (stable in one pass)."""
    mu, var = _welford(x)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def backward_welford(dy, x, gamma, eps=DEFAULT_EPS):
    """The closed form with Welford's statistics."""
    m = x.shape[0]
    mu, var = _welford(x)
    s = np.sqrt(var + eps)
    xhat = (x - mu) / s
    dgamma = (dy * xhat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    return gamma / s * (dy - dbeta / m - xhat * dgamma / m), dgamma, dbeta


def forward_folded(x, gamma, beta, eps=DEFAULT_EPS):
    """Fold the affine map: y = a x + (beta - a mu), a = gamma / s (inference style).

    a x and a mu are large and cancel when |mu| >> s: the error is u |a| |x|, a normwise
    perturbation of the column, not a componentwise one.
    """
    mu = x.mean(axis=0)
    a = gamma / np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    return a * x + (beta - a * mu)


def _flush(a):
    """Results below the smallest normal float64 flushed to zero (XLA on CPU, FTZ/DAZ)."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.abs(a) < np.finfo(np.float64).smallest_normal, 0.0, a)


def forward_flush_to_zero(x, gamma, beta, eps=DEFAULT_EPS):
    """The definition with every intermediate result flushed to zero below the normals."""
    x, gamma, beta = _flush(x), _flush(gamma), _flush(beta)
    mu = _flush(x.mean(axis=0))
    xc = _flush(x - mu)
    var = _flush(_flush(xc * xc).mean(axis=0))
    xhat = _flush(xc / np.sqrt(var + eps))
    return _flush(_flush(gamma * xhat) + beta)


def backward_flush_to_zero(dy, x, gamma, eps=DEFAULT_EPS):
    """The closed form with every intermediate result flushed to zero below the normals."""
    dy, x, gamma = _flush(dy), _flush(x), _flush(gamma)
    m = x.shape[0]
    mu = _flush(x.mean(axis=0))
    xc = _flush(x - mu)
    s = np.sqrt(_flush(_flush(xc * xc).mean(axis=0)) + eps)
    xhat = _flush(xc / s)
    dgamma = _flush(_flush(dy * xhat).sum(axis=0))
    dbeta = _flush(dy.sum(axis=0))
    inner = _flush(_flush(dy - _flush(dbeta / m)) - _flush(xhat * _flush(dgamma / m)))
    return _flush(_flush(gamma / s) * inner), dgamma, dbeta


def backward_autograd_style(dy, x, gamma, eps=DEFAULT_EPS):
    """Reverse mode through the forward's graph, node by node, as autograd records it.

    mu = mean(x), xc = x - mu, var = mean(xc^2), inv = (var + eps)^(-1/2), xhat = xc inv,
    y = gamma xhat + beta; the adjoints flow back through each node, and the mean's
    adjoint is -sum(adjoint of xc) (nothing is simplified by hand: the terms that cancel
    in exact arithmetic are computed and added).
    """
    m = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc * xc).mean(axis=0)
    inv = (var + eps) ** -0.5
    xhat = xc * inv
    dgamma = (dy * xhat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    dxhat = dy * gamma
    dinv = (dxhat * xc).sum(axis=0)
    dvar = dinv * -0.5 * (var + eps) ** -1.5
    dxc = dxhat * inv + dvar * 2.0 * xc / m
    dmu = -dxc.sum(axis=0)
    return dxc + dmu / m, dgamma, dbeta


CATALOGUE: list[WrongImplementation] = [
    WrongImplementation("batchnorm_backward", backward_without_dmu_term, "dmu / m term dropped"),
    WrongImplementation(
        "batchnorm_backward", backward_unbiased_variance, "unbiased variance (m - 1)"
    ),
    WrongImplementation("batchnorm_backward", backward_without_eps, "eps dropped in backward"),
    WrongImplementation(
        "batchnorm_backward", backward_dgamma_from_x, "dgamma from x instead of xhat"
    ),
    WrongImplementation("batchnorm_backward", backward_dvar_sign_error, "sign error in dvar"),
    WrongImplementation("batchnorm_backward", backward_without_gamma, "dxhat = dy, gamma lost"),
    WrongImplementation("batchnorm_forward", forward_float32, "computed in float32"),
    WrongImplementation("batchnorm_forward", forward_default_eps_1e_3, "default eps 1e-3"),
    WrongImplementation(
        "batchnorm_forward", forward_unbiased_variance, "unbiased variance (m - 1)"
    ),
    WrongImplementation(
        "batchnorm_forward", forward_one_pass_variance, "one-pass variance E[x^2] - mu^2"
    ),
    WrongImplementation(
        "batchnorm_backward", backward_one_pass_variance, "one-pass variance E[x^2] - mu^2"
    ),
    WrongImplementation("batchnorm_backward", backward_float32_xhat, "xhat kept in float32"),
    WrongImplementation(
        "batchnorm_backward",
        backward_central_differences,
        "central-difference gradient (best step, relative error ~u^(2/3))",
    ),
]

PEERS: list[Peer] = [
    Peer("batchnorm_forward", forward_welford, "Welford's one-pass mean and variance"),
    Peer("batchnorm_backward", backward_welford, "Welford's statistics, folded closed form"),
    Peer("batchnorm_forward", forward_folded, "folded a x + (beta - a mu), a = gamma / s"),
    Peer("batchnorm_forward", forward_flush_to_zero, "subnormal results flushed to zero"),
    Peer("batchnorm_backward", backward_flush_to_zero, "subnormal results flushed to zero"),
    Peer(
        "batchnorm_backward",
        backward_autograd_style,
        "reverse mode node by node, float64, unfolded (autograd's order)",
    ),
]

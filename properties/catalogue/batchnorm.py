"""Wrong batch-norm implementations (Problem 2): the mistakes of hand-derived backwards.

Each backward is the answer key's chain rule with one step changed; each forward is
the definition with one numerical or API slip. Every one is rejected by some property
of ``properties/test_batchnorm.py`` (``properties/meta/test_catalogue.py`` checks it).
"""

from __future__ import annotations

import numpy as np

from properties.catalogue import WrongImplementation


def _key_backward(
    dy,
    x,
    gamma,
    eps=1e-5,
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


def backward_without_dmu_term(dy, x, gamma, eps=1e-5):
    """Drops the dmu / m term: dx = dxhat / s + dvar 2 (x - mu) / m, the dmu / m term dropped."""
    return _key_backward(dy, x, gamma, eps, with_dmu=False)


def backward_unbiased_variance(dy, x, gamma, eps=1e-5):
    """sigma^2 divided by m - 1 (torch.var's default) instead of m."""
    return _key_backward(dy, x, gamma, eps, ddof=1)


def backward_without_eps(dy, x, gamma, eps=1e-5):
    """Leaves eps out of the backward only: s = sqrt(sigma^2)."""
    return _key_backward(dy, x, gamma, eps, eps_in_backward=False)


def backward_dgamma_from_x(dy, x, gamma, eps=1e-5):
    """Takes dgamma = sum dy * x instead of sum dy * xhat."""
    return _key_backward(dy, x, gamma, eps, dgamma_from_x=True)


def backward_dvar_sign_error(dy, x, gamma, eps=1e-5):
    """dl/dsigma^2 = +1/2 sum dxhat (x - mu) s^-3: the sign of the power rule lost."""
    return _key_backward(dy, x, gamma, eps, dvar_sign=1.0)


def backward_without_gamma(dy, x, gamma, eps=1e-5):
    """dl/dxhat = dy, forgetting the factor gamma of y = gamma xhat + beta."""
    return _key_backward(dy, x, gamma, eps, with_gamma=False)


def forward_float32(x, gamma, beta, eps=1e-5):
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


def forward_unbiased_variance(x, gamma, beta, eps=1e-5):
    """sigma^2 divided by m - 1 (and so undefined for m = 1)."""
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).sum(axis=0) / (x.shape[0] - 1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_one_pass_variance(x, gamma, beta, eps=1e-5):
    """sigma^2 = mean(x^2) - mu^2: cancels catastrophically when |mu| >> sigma."""
    mu = x.mean(axis=0)
    var = (x * x).mean(axis=0) - mu * mu
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


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
]

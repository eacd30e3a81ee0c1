"""Theorem (Problem 2): the gradient of batch normalisation.

Let x be a batch of m >= 1 examples with d >= 1 features (an m x d real matrix), gamma and
beta real d-vectors, and eps > 0. Per feature j (column; the index j is dropped below),

    mu = (1/m) sum_i x_i,   sigma^2 = (1/m) sum_i (x_i - mu)^2,   s = sqrt(sigma^2 + eps),
    xhat_i = (x_i - mu) / s,   y_i = gamma xhat_i + beta.

For any upstream gradient dy = dl/dy (an arbitrary m x d matrix), the gradients of
l = sum_ij dy_ij y_ij are

    dl/dbeta = sum_i dy_i,    dl/dgamma = sum_i dy_i xhat_i,
    dl/dx_i = (gamma / s) (dy_i - (1/m) dl/dbeta - xhat_i (1/m) dl/dgamma),

which is the answer key's chain rule through dl/dxhat_i = dy_i gamma,
dl/dsigma^2 = -1/2 sum_i dl/dxhat_i (x_i - mu) s^-3 and
dl/dmu = -sum_i dl/dxhat_i / s + dl/dsigma^2 (-2/m) sum_i (x_i - mu), assembled as
dl/dx_i = dl/dxhat_i / s + dl/dsigma^2 2 (x_i - mu) / m + dl/dmu / m. The second term of
dl/dmu vanishes because sum_i (x_i - mu) = 0 by the definition of mu.

Consequences (derived from the closed form; write dx_i = dl/dx_i, dgamma = dl/dgamma):

* sum_i dx_i = 0, since sum_i xhat_i = 0: l is unchanged when x moves along (1, ..., 1).
* sum_i dx_i xhat_i = (gamma / s) dgamma (1 - (1/m) sum_i xhat_i^2)
  = gamma dgamma eps / (sigma^2 + eps)^(3/2), since sum_i xhat_i^2 = m sigma^2 / s^2.
  Equivalently sum_i dx_i (x_i - mu) = gamma dgamma eps / (sigma^2 + eps): the derivative
  of l when the batch is scaled about its mean, 0 only when eps = 0 (scale invariance
  is what eps breaks).
* y, dx, dgamma and dbeta are unchanged when a constant c_j is added to feature j.
* m = 1: xhat = 0, so y = beta, dx = 0, dgamma = 0 and dbeta = dy.
* The forward: mean_i y_i = beta and (1/m) sum_i (y_i - beta)^2 = gamma^2 sigma^2 / (sigma^2 +
  eps); eps defaults to 1e-5.

What the properties check, and their oracles (every tolerance comes from the rounding
model of ``properties.tolerance``, section Batch normalisation, and the step sizes below):

* (a) dx, dgamma, dbeta against directional central differences of the implementation's
  own forward, ``l = fsum(dy * y)``, along a random direction (Richardson truncation
  estimate plus a rounding bound that includes the offset of x).
* (b) the key's dl/dxhat, dl/dsigma^2 and dl/dmu against central differences of l as a
  function of xhat, of sigma^2 (mu fixed) and of mu (sigma^2 recomputed from mu); the
  key's second dl/dmu term against its rounding bound; the key's assembly of dx,
  dgamma, dbeta against the implementation under test.
* (c) the structural laws above, with sums taken by ``math.fsum``.
* (d) the forward against a column-by-column float64 evaluation of the definition with
  exact sums (``math.fsum``), its moments, and the default eps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference.batchnorm as bn
from properties.audit import uses
from properties.strategies import (
    BATCHNORM_DEFAULT_EPS,
    Batch,
    batches,
    feature_shifts,
)
from properties.tolerance import (
    EPS,
    Bound,
    assert_close,
    batchnorm_error_bounds,
    batchnorm_loss_rounding_scale,
    directional_difference,
)

#: finite-difference step for x, as a fraction of s = sqrt(sigma^2 + eps) per feature.
#: xhat depends on x only through (x - mu) / s, so s is the length over which l bends:
#: truncation is about (h/s)^2 = 1e-6 of the derivative, while rounding costs
#: EPS * m * (xmax / s) / (h/s) relative, at most ~1e-5 for an offset of 1e3 on a spread
#: near sqrt(1e-8). 1e-3 keeps both far below the O(1) relative error of any wrong formula.
STEP_X = 1e-3

#: step for gamma, beta and xhat, along directions of their own scale: l is affine in
#: each of them, so truncation is exactly 0 and a large step only shrinks rounding / h
#: (the Richardson term still measures any curvature a wrong forward would have).
STEP_AFFINE = 0.5

#: step for sigma^2 and mu in the key's partial derivatives, relative to s^2 and s.
STEP_KEY = 1e-3


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


def directions(data: st.DataObject) -> np.random.Generator:
    """A random generator for finite-difference directions, seeded by a labelled draw.

    Directions are dense Gaussian vectors rather than Hypothesis arrays: a direction
    that shrinks to 0 (or to a sparse vector) would make the check vacuous.
    """
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="direction seed"))


def backward(impl, case: Batch):
    dx, dgamma, dbeta = impl.batchnorm_backward(case.dy, case.x, case.gamma, **case.eps_kwargs)
    m, d = case.x.shape
    for name, value, shape in (
        ("dx", dx, (m, d)),
        ("dgamma", dgamma, (d,)),
        ("dbeta", dbeta, (d,)),
    ):
        assert value.shape == shape, f"{name}.shape={value.shape}, but should be {shape}"
    return dx, dgamma, dbeta


def forward(impl, case: Batch, x=None, gamma=None, beta=None) -> np.ndarray:
    return impl.batchnorm_forward(
        case.x if x is None else x,
        case.gamma if gamma is None else gamma,
        case.beta if beta is None else beta,
        **case.eps_kwargs,
    )


# --- (a) the gradient against directional differences ------------------------------


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(), data=st.data())
def test_gradient_matches_directional_differences(impl, case, data):
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    dx, dgamma, dbeta = backward(impl, case)
    rng = directions(data)
    bounds = batchnorm_error_bounds(x, gamma, beta, dy, eps)

    # dx: direction v scaled per feature by s, step STEP_X (see there).
    v = rng.standard_normal(x.shape) * Definition(x, eps).s
    scale = batchnorm_loss_rounding_scale(x, gamma, beta, dy, eps, x_pad=2 * STEP_X * np.abs(v))
    fd = directional_difference(
        lambda xp: fsum(dy * forward(impl, case, x=xp)), x, v, STEP_X, scale
    )
    assert_close(
        fsum(dx * v),
        fd.estimate,
        Bound(
            fd.tol + fsum(bounds.dx * np.abs(v)) + EPS * fsum(bounds.grad_bound * np.abs(v)),
            "Richardson truncation + EPS * S / h with S the forward's rounding incl. "
            "the m u |x|max / s error of the mean, + the rounding of dx itself",
        ),
        what="<dx, v> against the central difference of l = sum(dy * y) along v",
    )

    # dgamma and dbeta: l is affine in each, directions of the parameters' own scale.
    for name, grad, param, other in (
        ("dgamma", dgamma, gamma, "gamma"),
        ("dbeta", dbeta, beta, "beta"),
    ):
        w = rng.standard_normal(param.shape) * max(1.0, float(np.abs(param).max()))
        pad = {f"{other}_pad": 2 * STEP_AFFINE * np.abs(w)}
        scale = batchnorm_loss_rounding_scale(x, gamma, beta, dy, eps, **pad)

        def loss(p, other=other):
            return fsum(dy * forward(impl, case, **{other: p}))

        fd = directional_difference(loss, param, w, STEP_AFFINE, scale)
        own = bounds.dgamma if name == "dgamma" else bounds.dbeta
        magnitude = np.abs(dy * Definition(x, eps).xhat) if name == "dgamma" else np.abs(dy)
        assert_close(
            fsum(grad * w),
            fd.estimate,
            Bound(
                fd.tol + fsum(own * np.abs(w)) + EPS * fsum(magnitude.sum(axis=0) * np.abs(w)),
                "l is affine in the parameter: Richardson term + EPS * S / h rounding",
            ),
            what=f"<{name}, w> against the central difference of l as a function of {other}",
        )


# --- (b) the answer key's formulas, term by term ------------------------------------


@given(case=batches(), data=st.data())
def test_key_terms_are_the_partial_derivatives(case, data):
    """The key's dl/dxhat, dl/dsigma^2, dl/dmu are derivatives of the right functions.

    Checks the answer key's mathematics (as ``reference.batchnorm.batchnorm_key_terms``
    writes it down), not an implementation under test: no ``@uses``, not audited.
    """
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    m, d = x.shape
    n = m + 10
    key = bn.batchnorm_key_terms(dy, x, gamma, eps)
    ref = Definition(x, eps)
    bounds = batchnorm_error_bounds(x, gamma, beta, dy, eps)
    rng = directions(data)
    dxhat_abs = np.abs(dy * gamma)

    # dl/dxhat: l(xhat) = sum dy (gamma xhat + beta) is affine in xhat.
    u = rng.standard_normal(x.shape)
    xhat_abs = np.abs(ref.xhat) + 2 * STEP_AFFINE * np.abs(u)
    fd = directional_difference(
        lambda t: fsum(dy * (gamma * t + beta)),
        ref.xhat,
        u,
        STEP_AFFINE,
        3 * fsum(np.abs(dy) * (np.abs(gamma) * xhat_abs + np.abs(beta))),
    )
    assert_close(
        fsum(key.dxhat * u),
        fd.estimate,
        Bound(
            fd.tol + EPS * fsum(dxhat_abs * np.abs(u)),
            "affine: Richardson term + 3 roundings per entry of l over h",
        ),
        what="<dl/dxhat, u> (key: dy * gamma) against l as a function of xhat",
    )

    # dl/dsigma^2: l(t) = sum dy (gamma (x - mu) / sqrt(t + eps) + beta), mu fixed.
    w = rng.standard_normal(d) * ref.s**2
    spread = 1 + 2 * STEP_KEY * np.abs(w) / ref.s**2  # how far xhat moves on the stencil
    fd = directional_difference(
        lambda t: fsum(dy * (gamma * (ref.centred / np.sqrt(t + eps)) + beta)),
        ref.var,
        w,
        STEP_KEY,
        # sqrt, division, two products, one addition: 5 roundings of each term.
        5 * fsum(np.abs(dy) * (np.abs(gamma * ref.xhat) * 2 * spread + np.abs(beta))),
    )
    # key's dvar is -1/2 sum dxhat (x - mu) s^-3 with its own mean: (x - mu) carries the
    # error s * err(xhat) of the mean and the products/sum EPS n relative.
    dvar_err = 0.5 / ref.s**2 * (dxhat_abs * (bounds.xhat + EPS * n * np.abs(ref.xhat))).sum(0)
    assert_close(
        fsum(key.dvar * w),
        fd.estimate,
        Bound(
            fd.tol + fsum(2 * dvar_err * np.abs(w)),
            "Richardson truncation + rounding / h; key and oracle centre x differently",
        ),
        what="<dl/dsigma^2, w> (key's formula) against l as a function of sigma^2",
    )

    # the second term of dl/dmu: dvar (-2/m) sum (x - mu), zero but for rounding.
    # |sum_i (x_i - fl(mu))| <= m |mu - fl(mu)| + (m - 1) u sum |x - mu| <= EPS n (sum|x| +
    # sum|x - mu|): the error of the mean, m times, plus that of the sum.
    second_bound = (
        np.abs(key.dvar) * 2 / m * EPS * n * (np.abs(x).sum(0) + np.abs(ref.centred).sum(0))
    )
    assert_close(
        key.dmu_second,
        np.zeros(d),
        Bound(
            second_bound, "sum(x - mu) = 0 exactly; in float64 it is m times the mean's rounding"
        ),
        what="the key's second term of dl/dmu, dvar * (-2/m) * sum(x - mu)",
    )

    # dl/dmu: l(c) = sum dy (gamma (x - c) / sqrt(mean((x - c)^2) + eps) + beta), total.
    w = rng.standard_normal(d) * ref.s
    xmax = np.abs(x).max(0) + np.abs(ref.mu) + 2 * STEP_KEY * np.abs(w)
    big_xhat = np.abs(ref.xhat) + 2 * STEP_KEY * np.abs(w) / ref.s

    def loss_mu(c):
        centred = x - c
        return fsum(dy * (gamma * (centred / np.sqrt((centred**2).mean(0) + eps)) + beta))

    # rounding of l(c): x - c rounds by u(|x| + |c|), moving xhat by that / s (and sigma^2
    # through mean|xhat| <= 1); the variance sum, sqrt and division add EPS n |xhat|.
    scale = fsum(np.abs(dy * gamma) * (xmax * (1 + big_xhat) / ref.s + n * big_xhat)) + 2 * fsum(
        np.abs(dy) * (np.abs(gamma) * big_xhat + np.abs(beta))
    )
    fd = directional_difference(loss_mu, ref.mu, w, STEP_KEY, scale)
    # key's dmu: EPS n relative rounding of sum dxhat / s, plus its second term's bound;
    # the oracle differentiates at fl(mu), where dvar * 2 (c - mu) adds |dvar| EPS |mu|.
    dmu_err = (
        EPS * n * dxhat_abs.sum(0) / ref.s
        + second_bound
        + 2 * np.abs(key.dvar) * EPS * np.abs(ref.mu)
    )
    assert_close(
        fsum(key.dmu * w),
        fd.estimate,
        Bound(
            fd.tol + fsum(dmu_err * np.abs(w)),
            "Richardson truncation + rounding / h, incl. the |x| / s rounding of x - c",
        ),
        what="<dl/dmu, w> (key's formula, both terms) against l as a function of mu",
    )


@uses("batchnorm_backward")
@given(case=batches())
def test_key_assembly_equals_backward(impl, case):
    """The key's dx = dxhat / s + dvar 2 (x - mu) / m + dmu / m equals the backward's dx."""
    dx, dgamma, dbeta = backward(impl, case)
    key = bn.batchnorm_key_terms(case.dy, case.x, case.gamma, case.eps_value)
    bounds = batchnorm_error_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    why = "both sides carry the rounding model's error (EPS n relative + the mean's offset term)"
    assert_close(dx, key.dx, Bound(2 * bounds.dx, why), what="dx against the key's assembly")
    assert_close(dgamma, key.dgamma, Bound(2 * bounds.dgamma, why), what="dgamma = sum dy xhat")
    assert_close(dbeta, key.dbeta, Bound(2 * bounds.dbeta, why), what="dbeta = sum dy")


# --- (c) structural laws -------------------------------------------------------------


@uses("batchnorm_backward")
@given(case=batches())
def test_dx_sums_to_zero(impl, case):
    dx, _, _ = backward(impl, case)
    bounds = batchnorm_error_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    assert_close(
        column_fsums(dx),
        np.zeros(case.x.shape[1]),
        Bound(
            bounds.dx.sum(0),
            "sum of the per-entry rounding bounds of dx; fsum adds no error to a 0 sum",
        ),
        what="sum_i dx_i per feature (l is invariant along (1, ..., 1))",
    )


@uses("batchnorm_backward")
@given(case=batches())
def test_dx_against_xhat_is_the_eps_term(impl, case):
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    dx, _, _ = backward(impl, case)
    ref = Definition(x, eps)
    bounds = batchnorm_error_bounds(x, gamma, beta, dy, eps)
    dgamma = column_fsums(dy * ref.xhat)
    expected = gamma * dgamma * eps / ref.s**3
    lhs_err = (bounds.dx * np.abs(ref.xhat) + bounds.grad_bound * bounds.xhat).sum(0)
    lhs_err += EPS * (bounds.grad_bound * np.abs(ref.xhat)).sum(0)
    rhs_err = (
        np.abs(gamma)
        * eps
        / ref.s**3
        * ((np.abs(dy) * bounds.xhat).sum(0) + 6 * EPS * np.abs(dy * ref.xhat).sum(0))
    )
    assert_close(
        column_fsums(dx * ref.xhat),
        expected,
        Bound(
            lhs_err + rhs_err,
            "dx's rounding bound times |xhat|, |dx| times xhat's, and the oracle dgamma's",
        ),
        what="sum_i dx_i xhat_i against gamma dgamma eps / (sigma^2 + eps)^(3/2)",
    )


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(), data=st.data())
def test_invariance_under_per_feature_shift(impl, case, data):
    """Adding c_j to feature j changes nothing, up to the rounding of x + c.

    fl(x + c) = x + c + delta with |delta| <= u |x + c|: the shifted batch is the
    original one moved by delta, which moves xhat by at most u |x + c|max (2 + |xhat|
    sqrt(m)) / s, within err(xhat) of the shifted batch (n = m + 10 >= 2 + sqrt(m)).
    So each output may differ by its own rounding bound at x, plus twice the bound at
    x + c (its rounding there, and the effect of delta through the same formulas).
    """
    c = data.draw(feature_shifts(d=case.x.shape[1]), label="c")
    shifted = case._replace(x=case.x + c)
    at_x = batchnorm_error_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    at_shift = batchnorm_error_bounds(shifted.x, case.gamma, case.beta, case.dy, case.eps_value)
    why = "rounding bound at x + twice the bound at fl(x + c)"
    assert_close(
        forward(impl, shifted),
        forward(impl, case),
        Bound(at_x.y + 2 * at_shift.y, why),
        what="y(x + c) against y(x)",
    )
    for name, after, before, err_x, err_s in zip(
        ("dx", "dgamma", "dbeta"),
        backward(impl, shifted),
        backward(impl, case),
        (at_x.dx, at_x.dgamma, at_x.dbeta),
        (at_shift.dx, at_shift.dgamma, at_shift.dbeta),
        strict=True,
    ):
        assert_close(
            after, before, Bound(err_x + 2 * err_s, why), what=f"{name}(x + c) against {name}(x)"
        )


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(m=1))
def test_single_example_batch(impl, case):
    """With m = 1: xhat = 0, so y = beta, dx = 0, dgamma = 0, dbeta = dy (up to rounding)."""
    bounds = batchnorm_error_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    why = "the rounding model at xhat = 0 (a folded a*x + (beta - a*mu) may round)"
    assert_close(
        forward(impl, case),
        np.broadcast_to(case.beta, case.x.shape),
        Bound(bounds.y, why),
        what="y",
    )
    dx, dgamma, dbeta = backward(impl, case)
    assert_close(dx, np.zeros_like(case.x), Bound(bounds.dx, why), what="dx")
    assert_close(dgamma, np.zeros_like(case.gamma), Bound(bounds.dgamma, why), what="dgamma")
    assert_close(dbeta, case.dy[0], Bound(bounds.dbeta, why), what="dbeta")


@given(case=batches(m=1))
def test_reference_single_example_batch_is_exact(case):
    """The reference centres before scaling, so for m = 1 its outputs are exact."""
    y = bn.batchnorm_forward(case.x, case.gamma, case.beta, **case.eps_kwargs)
    dx, dgamma, dbeta = bn.batchnorm_backward(case.dy, case.x, case.gamma, **case.eps_kwargs)
    assert np.array_equal(y, np.broadcast_to(case.beta, y.shape)), f"y={y}, beta={case.beta}"
    assert np.array_equal(dx, np.zeros_like(dx)), f"dx={dx}"
    assert np.array_equal(dgamma, np.zeros_like(dgamma)), f"dgamma={dgamma}"
    assert np.array_equal(dbeta, case.dy[0]), f"dbeta={dbeta}, dy={case.dy}"


# --- (d) the forward -------------------------------------------------------------------


@uses("batchnorm_forward")
@given(case=batches())
def test_forward_matches_definition(impl, case):
    """The forward is within float64 rounding of the definition evaluated with exact sums.

    The bound is about EPS (m + 10) |gamma| (|x|max / s + |xhat|): an implementation that
    rounds to float32 anywhere is off by ~6e-8 relative, about 1e7 times more.
    """
    bounds = batchnorm_error_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    assert_close(
        forward(impl, case),
        forward_by_definition(case.x, case.gamma, case.beta, case.eps_value),
        Bound(2 * bounds.y, "float64 rounding model of the implementation + that of the oracle"),
        what="y against the float64 definition (eps: "
        + ("default 1e-5" if case.eps is None else repr(case.eps))
        + ")",
    )


@uses("batchnorm_forward")
@given(case=batches())
def test_forward_moments(impl, case):
    x, gamma, beta, eps = case.x, case.gamma, case.beta, case.eps_value
    m = x.shape[0]
    n = m + 10
    y = forward(impl, case)
    bounds = batchnorm_error_bounds(x, gamma, beta, case.dy, eps)
    ybar = column_fsums(y) / m
    assert_close(
        ybar,
        beta,
        Bound(
            bounds.y.mean(0) + EPS * np.abs(y).mean(0),
            "mean of y's rounding bounds + one rounding of the exact sum",
        ),
        what="mean_i y_i against beta",
    )
    ref = Definition(x, eps)
    expected = gamma**2 * ref.var / ref.s**2
    # y - ybar carries E = err(y) + EPS (|y| + |ybar|); the variance moves by at most
    # 2 mean(|y - ybar| E) + mean(E^2), and its own sum rounds by EPS n var_y.
    E = bounds.y + EPS * (np.abs(y) + np.abs(ybar))
    centred = y - ybar
    var_y = column_fsums(centred * centred) / m
    tol = 2 * (np.abs(centred) * E).mean(0) + (E * E).mean(0) + EPS * n * var_y
    # the oracle's sigma^2: its centred values are off by e = EPS (|mu| + |x - mu|) (one
    # rounding of the exact mean, one of the subtraction), so sigma^2 is off by
    # dvar <= 2 mean(|x - mu| e) + mean(e^2) + 2 EPS sigma^2, and the expected value,
    # whose derivative in sigma^2 is gamma^2 eps / s^4 <= gamma^2 / s^2, by that much.
    e = EPS * (np.abs(ref.mu) + np.abs(ref.centred))
    dvar = 2 * (np.abs(ref.centred) * e).mean(0) + (e * e).mean(0) + 2 * EPS * ref.var
    tol += gamma**2 * eps / ref.s**4 * dvar + EPS * n * np.abs(expected)
    assert_close(
        var_y,
        expected,
        Bound(tol, "propagated error of y through the variance + relative rounding of both sides"),
        what="variance of y against gamma^2 sigma^2 / (sigma^2 + eps)",
    )


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(eps=None))
def test_default_eps_is_1e_5(impl, case):
    x, gamma, beta, dy = case.x, case.gamma, case.beta, case.dy
    bounds = batchnorm_error_bounds(x, gamma, beta, dy, BATCHNORM_DEFAULT_EPS)
    assert_close(
        impl.batchnorm_forward(x, gamma, beta),
        forward_by_definition(x, gamma, beta, BATCHNORM_DEFAULT_EPS),
        Bound(2 * bounds.y, "float64 rounding model, both sides"),
        what="batchnorm_forward(x, gamma, beta) against the definition with eps = 1e-5",
    )
    for name, default, explicit, err in zip(
        ("dx", "dgamma", "dbeta"),
        impl.batchnorm_backward(dy, x, gamma),
        impl.batchnorm_backward(dy, x, gamma, BATCHNORM_DEFAULT_EPS),
        (bounds.dx, bounds.dgamma, bounds.dbeta),
        strict=True,
    ):
        assert_close(
            default,
            explicit,
            Bound(2 * err, "float64 rounding model, both sides"),
            what=f"{name} of batchnorm_backward(dy, x, gamma) against eps=1e-5 passed",
        )


# --- the reference's input validation (not audited) ----------------------------------

# The bad-input table is in the contract records (reference/*.py: CONTRACT),
# run by properties/meta/test_contract.py.


def test_reference_rejects_zero_eps_on_constant_feature():
    x = np.array([[1.0, 2.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match=r"^eps:.*feature 0"):
        bn.batchnorm_forward(x, np.ones(2), np.zeros(2), eps=0.0)
    # eps = 0 is fine when every feature varies
    y = bn.batchnorm_forward(x[:, 1:], np.ones(1), np.zeros(1), eps=0.0)
    assert np.array_equal(y, [[-1.0], [1.0]])

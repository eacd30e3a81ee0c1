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

What the properties check, and their oracles. Every pass/fail bound is the accuracy
policy's backward-stability bound (normwise per feature column,
``properties.tolerance.batchnorm``), with the tighter componentwise model recorded as the
accuracy grade; steps and bounds live in ``properties.tolerance.batchnorm``, oracles in
``properties.oracles.batchnorm``:

* (a) y, dx, dgamma, dbeta against the definition and its derivatives evaluated at 40
  digits (forward-mode differentiation of the definition: no closed form shared); and
  dx, dgamma, dbeta against directional central differences of the implementation's
  own forward, ``l = fsum(dy * y)``, along a random direction (Richardson truncation
  estimate plus a rounding bound that includes the offset of x).
* (b) the key's dl/dxhat, dl/dsigma^2 and dl/dmu against central differences of l as a
  function of xhat, of sigma^2 (mu fixed) and of mu (sigma^2 recomputed from mu); the
  key's mu, sigma^2, xhat and first dl/dmu term against the definition with exact
  sums; the key's second dl/dmu term against its rounding bound; the key's assembly of dx,
  dgamma, dbeta against the implementation under test.
* (c) the structural laws above, with sums taken by ``math.fsum``.
* (d) the forward's moments, and the default eps.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import reference.batchnorm as bn
from properties.audit import uses
from properties.oracles import (
    Definition,
    batchnorm_key_terms,
    column_fsums,
    exact_batchnorm,
    fsum,
)
from properties.strategies import (
    BATCHNORM_DEFAULT_EPS,
    Batch,
    batches,
    feature_shifts,
)
from properties.tolerance import (
    STEP_AFFINE,
    STEP_KEY,
    STEP_X,
    assert_close,
    assert_shape,
    batchnorm_error_bounds,
    batchnorm_exact_bounds,
    batchnorm_loss_rounding_scale,
    batchnorm_stable_bounds,
    directional_bound,
    directional_difference,
    dx_column_sum_bound,
    eps_term_bound,
    forward_mean_bound,
    forward_variance_bound,
    key_assembly_bounds,
    key_dmu_bound,
    key_dmu_loss_rounding_scale,
    key_dmu_second_bound,
    key_dvar_bound,
    key_dvar_loss_rounding_scale,
    key_dxhat_bound,
    key_dxhat_loss_rounding_scale,
    key_statistics_bounds,
    shift_invariance_bounds,
    twice,
)


def directions(data: st.DataObject) -> np.random.Generator:
    """A random generator for finite-difference directions, seeded by a labelled draw.

    Directions are dense Gaussian vectors rather than Hypothesis arrays: a direction
    that shrinks to 0 (or to a sparse vector) would make the check vacuous.
    """
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="direction seed"))


def backward(impl, case: Batch):
    dx, dgamma, dbeta = impl.batchnorm_backward(case.dy, case.x, case.gamma, **case.eps_kwargs)
    m, d = case.x.shape
    call = "batchnorm_backward(dy, x, gamma)"
    assert_shape(dx, (m, d), call=f"dx of {call}")
    assert_shape(dgamma, (d,), call=f"dgamma of {call}")
    assert_shape(dbeta, (d,), call=f"dbeta of {call}")
    return dx, dgamma, dbeta


def forward(impl, case: Batch, x=None, gamma=None, beta=None) -> np.ndarray:
    return impl.batchnorm_forward(
        case.x if x is None else x,
        case.gamma if gamma is None else gamma,
        case.beta if beta is None else beta,
        **case.eps_kwargs,
    )


def eps_words(case: Batch) -> str:
    return "default 1e-5" if case.eps is None else repr(case.eps)


# --- (a) against the 40-digit definition, and against directional differences ---------


@uses("batchnorm_forward")
@given(case=batches())
def test_forward_matches_definition(impl, case):
    """The forward is what a backward-stable algorithm returns for the definition."""
    exact = exact_batchnorm(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    stable, tight = batchnorm_exact_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    note(f"exact y (40 digits, rounded) = {exact.y!r}")
    assert_close(
        forward(impl, case),
        exact.y,
        stable.y,
        what=f"y from batchnorm_forward against the 40-digit definition (eps {eps_words(case)})",
        componentwise=tight.y,
    )


@uses("batchnorm_backward")
@given(case=batches())
def test_backward_matches_exact_derivatives(impl, case):
    """dx, dgamma, dbeta are the derivatives of the definition (forward mode, 40 digits)."""
    exact = exact_batchnorm(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    stable, tight = batchnorm_exact_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    note(f"exact dx = {exact.dx!r}, dgamma = {exact.dgamma!r}, dbeta = {exact.dbeta!r}")
    for name, observed, expected, bound, grade in zip(
        ("dx", "dgamma", "dbeta"),
        backward(impl, case),
        exact[1:],
        stable[1:4],
        tight[1:4],
        strict=True,
    ):
        assert_close(
            observed,
            expected,
            bound,
            what=f"{name} from batchnorm_backward against the 40-digit derivative of the "
            "definition of l = sum(dy * y)",
            componentwise=grade,
        )


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(), data=st.data())
def test_gradient_matches_directional_differences(impl, case, data):
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    dx, dgamma, dbeta = backward(impl, case)
    rng = directions(data)
    stable = batchnorm_stable_bounds(x, gamma, beta, dy, eps)

    # dx: direction v scaled per feature by s, step STEP_X (see there).
    v = rng.standard_normal(x.shape) * Definition(x, eps).s
    scale = batchnorm_loss_rounding_scale(x, gamma, beta, dy, eps, x_pad=2 * STEP_X * np.abs(v))
    fd = directional_difference(
        lambda xp: fsum(dy * forward(impl, case, x=xp)), x, v, STEP_X, scale
    )
    note(f"x: step h = {STEP_X} (times v, scaled by s), rounding scale S = {scale:.6g}")
    assert_close(
        fsum(dx * v),
        fd.estimate,
        directional_bound(fd, stable.dx.tol, v, stable.grad_bound),
        what="<dx, v> from batchnorm_backward (observed) against the central difference of "
        "l = sum(dy * batchnorm_forward(x + t v)) at t = 0 (expected)",
    )

    # dgamma and dbeta: l is affine in each, directions of the parameters' own scale.
    magnitudes = {"gamma": np.abs(dy * Definition(x, eps).xhat).sum(0), "beta": np.abs(dy).sum(0)}
    for name, grad, param, other, own in (
        ("dgamma", dgamma, gamma, "gamma", stable.dgamma.tol),
        ("dbeta", dbeta, beta, "beta", stable.dbeta.tol),
    ):
        w = rng.standard_normal(param.shape) * max(1.0, float(np.abs(param).max()))
        pad = {f"{other}_pad": 2 * STEP_AFFINE * np.abs(w)}
        scale = batchnorm_loss_rounding_scale(x, gamma, beta, dy, eps, **pad)
        note(f"{other}: step h = {STEP_AFFINE}, rounding scale S = {scale:.6g}")

        def loss(p, other=other):
            return fsum(dy * forward(impl, case, **{other: p}))

        fd = directional_difference(loss, param, w, STEP_AFFINE, scale)
        assert_close(
            fsum(grad * w),
            fd.estimate,
            directional_bound(fd, own, w, magnitudes[other]),
            what=f"<{name}, w> from batchnorm_backward (observed) against the central "
            f"difference of l = sum(dy * batchnorm_forward(.., {other} + t w, ..)) (expected)",
        )


# --- (b) the answer key's formulas, term by term ------------------------------------
#
# These check the answer key's mathematics (as ``reference.batchnorm.batchnorm_key_terms``
# writes it down), not an implementation under test: no ``@uses``, not audited.


@given(case=batches(), data=st.data())
def test_key_dxhat_is_dl_dxhat(case, data):
    """dl/dxhat = dy * gamma: l(xhat) = sum dy (gamma xhat + beta) is affine in xhat."""
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    key = batchnorm_key_terms(dy, x, gamma, eps)
    xhat = Definition(x, eps).xhat
    u = directions(data).standard_normal(x.shape)
    scale = key_dxhat_loss_rounding_scale(xhat, u, gamma, beta, dy)
    note(f"step h = {STEP_AFFINE}, rounding scale S = {scale:.6g}")
    fd = directional_difference(
        lambda t: fsum(dy * (gamma * t + beta)), xhat, u, STEP_AFFINE, scale
    )
    assert_close(
        fsum(key.dxhat * u),
        fd.estimate,
        key_dxhat_bound(fd, u, np.abs(dy * gamma)),
        what="<dl/dxhat, u> (key: dy * gamma) against l as a function of xhat",
    )


@given(case=batches(), data=st.data())
def test_key_dvar_is_dl_dsigma2(case, data):
    """dl/dsigma^2 = -1/2 sum dxhat (x - mu) s^-3: l(t) with sigma^2 = t, mu fixed."""
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    key = batchnorm_key_terms(dy, x, gamma, eps)
    ref = Definition(x, eps)
    w = directions(data).standard_normal(x.shape[1]) * ref.s**2
    scale = key_dvar_loss_rounding_scale(ref.xhat, ref.s, w, gamma, beta, dy)
    note(f"step h = {STEP_KEY} (times w, scaled by s^2), rounding scale S = {scale:.6g}")
    fd = directional_difference(
        lambda t: fsum(dy * (gamma * (ref.centred / np.sqrt(t + eps)) + beta)),
        ref.var,
        w,
        STEP_KEY,
        scale,
    )
    err_xhat = batchnorm_error_bounds(x, gamma, beta, dy, eps).xhat
    assert_close(
        fsum(key.dvar * w),
        fd.estimate,
        key_dvar_bound(fd, w, ref.xhat, ref.s, np.abs(dy * gamma), err_xhat),
        what="<dl/dsigma^2, w> (key's formula) against l as a function of sigma^2",
    )


@given(case=batches())
def test_key_statistics_are_the_definitions(case):
    """The key's mu, sigma^2, xhat and first dl/dmu term -sum dxhat / s are the definitions'."""
    x, gamma, dy, eps = case.x, case.gamma, case.dy, case.eps_value
    key = batchnorm_key_terms(dy, x, gamma, eps)
    ref = Definition(x, eps)
    bounds = key_statistics_bounds(x, dy, gamma, eps)
    assert_close(key.mu, ref.mu, bounds.mu, what="the key's mu against mean(x) (exact sum)")
    assert_close(key.var, ref.var, bounds.var, what="the key's sigma^2 against mean((x - mu)^2)")
    assert_close(key.xhat, ref.xhat, bounds.xhat, what="the key's xhat against (x - mu) / s")
    assert_close(
        key.dmu_direct,
        -column_fsums(dy * gamma) / ref.s,
        bounds.dmu_direct,
        what="the key's first dl/dmu term against -sum(dy gamma) / s (exact sum)",
    )


@given(case=batches())
def test_key_dmu_second_term_vanishes(case):
    """The second term of dl/dmu, dvar (-2/m) sum(x - mu), is 0 by the definition of mu."""
    key = batchnorm_key_terms(case.dy, case.x, case.gamma, case.eps_value)
    ref = Definition(case.x, case.eps_value)
    assert_close(
        key.dmu_second,
        np.zeros(case.x.shape[1]),
        key_dmu_second_bound(case.x, ref.centred, key.dvar),
        what="the key's second term of dl/dmu, dvar * (-2/m) * sum(x - mu)",
    )


@given(case=batches(), data=st.data())
def test_key_dmu_is_dl_dmu(case, data):
    """dl/dmu (both terms) against l(c) = sum dy (gamma (x - c) / sqrt(mean((x - c)^2) + eps))."""
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    key = batchnorm_key_terms(dy, x, gamma, eps)
    ref = Definition(x, eps)
    w = directions(data).standard_normal(x.shape[1]) * ref.s

    def loss_mu(c):
        centred = x - c
        return fsum(dy * (gamma * (centred / np.sqrt((centred**2).mean(0) + eps)) + beta))

    scale = key_dmu_loss_rounding_scale(x, ref.mu, ref.xhat, ref.s, w, gamma, beta, dy)
    note(f"step h = {STEP_KEY} (times w, scaled by s), rounding scale S = {scale:.6g}")
    fd = directional_difference(loss_mu, ref.mu, w, STEP_KEY, scale)
    second = key_dmu_second_bound(x, ref.centred, key.dvar)
    assert_close(
        fsum(key.dmu * w),
        fd.estimate,
        key_dmu_bound(fd, w, ref.mu, ref.s, np.abs(dy * gamma), key.dvar, second),
        what="<dl/dmu, w> (key's formula, both terms) against l as a function of mu",
    )


@uses("batchnorm_backward")
@given(case=batches())
def test_key_assembly_equals_backward(impl, case):
    """The key's dx = dxhat / s + dvar 2 (x - mu) / m + dmu / m equals the backward's dx."""
    dx, dgamma, dbeta = backward(impl, case)
    key = batchnorm_key_terms(case.dy, case.x, case.gamma, case.eps_value)
    bounds = key_assembly_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    assert_close(dx, key.dx, bounds.dx, what="dx from batchnorm_backward against the key's")
    assert_close(dgamma, key.dgamma, bounds.dgamma, what="dgamma against the key's sum dy xhat")
    assert_close(dbeta, key.dbeta, bounds.dbeta, what="dbeta against the key's sum dy")


# --- (c) structural laws -------------------------------------------------------------


@uses("batchnorm_backward")
@given(case=batches())
def test_dx_sums_to_zero(impl, case):
    dx, _, _ = backward(impl, case)
    stable = batchnorm_stable_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    assert_close(
        column_fsums(dx),
        np.zeros(case.x.shape[1]),
        dx_column_sum_bound(stable),
        what="sum_i dx_i per feature (l is invariant along (1, ..., 1))",
    )


@uses("batchnorm_backward")
@given(case=batches())
def test_dx_against_xhat_is_the_eps_term(impl, case):
    x, gamma, beta, dy, eps = case.x, case.gamma, case.beta, case.dy, case.eps_value
    dx, _, _ = backward(impl, case)
    ref = Definition(x, eps)
    expected = gamma * column_fsums(dy * ref.xhat) * eps / ref.s**3
    assert_close(
        column_fsums(dx * ref.xhat),
        expected,
        eps_term_bound(x, gamma, beta, dy, eps),
        what="sum_i dx_i xhat_i against gamma dgamma eps / (sigma^2 + eps)^(3/2)",
    )


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(), data=st.data())
def test_invariance_under_per_feature_shift(impl, case, data):
    """Adding c_j to feature j changes nothing, up to the rounding of x + c."""
    c = data.draw(feature_shifts(d=case.x.shape[1]), label="c")
    shifted = case._replace(x=case.x + c)
    bounds = shift_invariance_bounds(
        (case.x, case.gamma, case.beta, case.dy, case.eps_value), shifted.x
    )
    assert_close(
        forward(impl, shifted), forward(impl, case), bounds.y, what="y(x + c) against y(x)"
    )
    for name, after, before, bound in zip(
        ("dx", "dgamma", "dbeta"),
        backward(impl, shifted),
        backward(impl, case),
        bounds[1:4],
        strict=True,
    ):
        assert_close(after, before, bound, what=f"{name}(x + c) against {name}(x)")


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(m=1))
def test_single_example_batch(impl, case):
    """With m = 1: xhat = 0, so y = beta, dx = 0, dgamma = 0, dbeta = dy (up to rounding)."""
    stable = batchnorm_stable_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    assert_close(forward(impl, case), np.broadcast_to(case.beta, case.x.shape), stable.y, what="y")
    dx, dgamma, dbeta = backward(impl, case)
    assert_close(dx, np.zeros_like(case.x), stable.dx, what="dx")
    assert_close(dgamma, np.zeros_like(case.gamma), stable.dgamma, what="dgamma")
    assert_close(dbeta, case.dy[0], stable.dbeta, what="dbeta")


@given(case=batches(m=1))
def test_reference_single_example_batch_is_exact(case):
    """The reference centres before scaling, so for m = 1 its outputs are exact."""
    y = bn.batchnorm_forward(case.x, case.gamma, case.beta, **case.eps_kwargs)
    dx, dgamma, dbeta = bn.batchnorm_backward(case.dy, case.x, case.gamma, **case.eps_kwargs)
    assert np.array_equal(y, np.broadcast_to(case.beta, y.shape)), f"y={y}, beta={case.beta}"
    assert np.array_equal(dx, np.zeros_like(dx)), f"dx={dx}"
    assert np.array_equal(dgamma, np.zeros_like(dgamma)), f"dgamma={dgamma}"
    assert np.array_equal(dbeta, case.dy[0]), f"dbeta={dbeta}, dy={case.dy}"


# --- (d) the forward's moments and the default eps ---------------------------------------


@uses("batchnorm_forward")
@given(case=batches())
def test_forward_moments(impl, case):
    x, gamma, beta, eps = case.x, case.gamma, case.beta, case.eps_value
    m = x.shape[0]
    y = forward(impl, case)
    stable = batchnorm_stable_bounds(x, gamma, beta, case.dy, eps)
    assert_close(
        column_fsums(y) / m,
        beta,
        forward_mean_bound(y, stable),
        what="mean_i y_i against beta",
    )
    ref = Definition(x, eps)
    expected = gamma**2 * ref.var / ref.s**2
    centred = y - column_fsums(y) / m
    var_y = column_fsums(centred * centred) / m
    assert_close(
        var_y,
        expected,
        forward_variance_bound(y, var_y, expected, x, gamma, eps, stable),
        what="variance of y against gamma^2 sigma^2 / (sigma^2 + eps)",
    )


@uses("batchnorm_forward", "batchnorm_backward")
@given(case=batches(eps=None))
def test_default_eps_is_1e_5(impl, case):
    x, gamma, beta, dy = case.x, case.gamma, case.beta, case.dy
    exact = exact_batchnorm(x, gamma, beta, dy, BATCHNORM_DEFAULT_EPS)
    stable, _ = batchnorm_exact_bounds(x, gamma, beta, dy, BATCHNORM_DEFAULT_EPS)
    assert_close(
        impl.batchnorm_forward(x, gamma, beta),
        exact.y,
        stable.y,
        what="batchnorm_forward(x, gamma, beta) against the definition with eps = 1e-5",
    )
    for name, default, explicit, bound in zip(
        ("dx", "dgamma", "dbeta"),
        impl.batchnorm_backward(dy, x, gamma),
        impl.batchnorm_backward(dy, x, gamma, BATCHNORM_DEFAULT_EPS),
        stable[1:4],
        strict=True,
    ):
        assert_close(
            default,
            explicit,
            twice(bound),
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

"""Theorem (Problem 3.2): the gradient of the softmax cross-entropy is yhat - y.

Let N >= 1, z in R^N, yhat = S(z) the softmax of z, and y in R^N with y_i >= 0 and
sum_i y_i = 1. The cross-entropy L(y, z) = -sum_i y_i log yhat_i (a term with y_i = 0 is 0,
the convention 0 log 0 = 0) is smooth in z, and

    dL / dz_i = yhat_i - y_i.

Consequently sum_i dL/dz_i = 0, and L >= 0 is finite for every z. The hypothesis
sum_i y_i = 1 is necessary: for y >= 0 with sum_i y_i = c the gradient is c yhat - y.

Properties (oracle in brackets; every tolerance is an error model of properties.tolerance):

- the loss equals its definition [-sum y_i log S_i in 40-digit decimal arithmetic];
  it is >= 0 and finite for logits within the contract, including probabilities that
  underflow to 0 where y_i = 0 [the law itself];
- the gradient equals yhat - y [yhat from the 40-digit softmax] and matches directional
  central differences of the loss [finite differences with a Richardson truncation
  estimate: the independent oracle]; its entries sum to 0;
- the reference is exact for every finite float64 logit up to 4.5e307 (beyond, the exact
  loss can exceed the float64 range) [decimal oracle; reference only];
- the hypothesis sum y = 1 is necessary: Hypothesis finds a minimal y >= 0 off the simplex
  where yhat - y disagrees with finite differences of L while c yhat - y agrees [finite
  differences of the 40-digit loss; not audited: it is about the statement, not an
  implementation].
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference.softmax_ce as ref
from properties.audit import uses
from properties.oracles import exact_cross_entropy, exact_softmax
from properties.strategies import FLOAT64_MAX, labelled_logits
from properties.tolerance import (
    EPS,
    SUBNORMAL_FLOOR,
    Bound,
    assert_close,
    central_difference_step,
    cross_entropy_error,
    directional_difference,
    softmax_relative_error,
    softmax_sum_tol,
)

#: the float64 rounding of the 40-digit oracle itself: half an ulp, relative
ORACLE_ROUNDING = EPS / 2
#: bound on the third directional derivative of L along v with |v|_inf <= 1, per row: it is
#: c times the third cumulant of v under yhat, at most (max v - min v)^3 / (6 sqrt 3) < 1
THIRD_DERIVATIVE_PER_ROW = 1.0


def gradient_error(y: np.ndarray, z: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Bound on ``|g_hat_i - (S_i - y_i)|`` for a correct gradient (S: the exact softmax).

    The softmax inside is off by ``S_i r_i`` (``softmax_relative_error``); an
    implementation may use ``c S - y`` (the exact gradient for the ``y`` it was given)
    instead of ``S - y``, and ``|c - 1| <= N EPS`` on the simplex (the reference's
    ``simplex_tolerance``); the subtraction, a product by ``c``, and the oracle's own
    ``S - y`` round once each: ``u (S_i + y_i)`` apiece.
    """
    n = z.shape[-1]
    r = softmax_relative_error(z)
    return S * r + n * EPS * S + 1.5 * EPS * (S + y) + SUBNORMAL_FLOOR


# --- loss --------------------------------------------------------------------------


@uses("cross_entropy")
@given(data=labelled_logits())
def test_cross_entropy_equals_definition(impl, data):
    y, z, kind = data
    L = impl.cross_entropy(y, z)
    exact = exact_cross_entropy(y, z)
    assert_close(
        L,
        exact,
        Bound(
            cross_entropy_error(y, z) + ORACLE_ROUNDING * exact,
            "cross_entropy_error: u [(N + 2)(A + log s) + 1.37 N + 8 log N + 6 + 2 max|z|]",
        ),
        what=f"cross_entropy(y, z) for {kind} labels",
    )


@uses("cross_entropy")
@given(data=labelled_logits())
def test_cross_entropy_nonnegative_and_finite(impl, data):
    y, z, kind = data
    L = impl.cross_entropy(y, z)
    assert L.shape == z.shape[:-1], (
        f"cross_entropy(y, z).shape={L.shape}, but should be {z.shape[:-1]} ({kind} labels)"
    )
    assert np.isfinite(L).all(), f"cross_entropy is not finite for {kind} labels: {L!r}"
    # L = sum y_i d_i + c log s with every term >= 0; a log-softmax route may round log s
    # (>= 0) down by its error, so allow -cross_entropy_error and no more.
    floor = -cross_entropy_error(y, z)
    assert (floor <= L).all(), f"cross_entropy < 0 for {kind} labels: {L!r}"


@pytest.mark.parametrize(
    ("y", "z"),
    [
        ([0.0, 1.0], [800.0, 0.0]),  # the true class has probability exp(-800): underflows
        ([1.0, 0.0], [800.0, 0.0]),  # y_i = 0 where softmax underflows: 0 log 0 = 0
        ([0.0, 0.5, 0.5], [1e4, -1e4, 0.0]),  # contract's extreme logits
    ],
)
@uses("cross_entropy")
def test_cross_entropy_where_probabilities_underflow(impl, y, z):
    """Fixed witnesses beside the random search: a naive -sum y log(softmax) is inf or NaN."""
    y, z = np.array(y), np.array(z)
    exact = exact_cross_entropy(y, z)
    assert_close(
        impl.cross_entropy(y, z),
        exact,
        Bound(cross_entropy_error(y, z) + ORACLE_ROUNDING * exact, "cross_entropy_error"),
        what="cross_entropy(y, z)",
    )


# --- gradient ------------------------------------------------------------------------


@uses("cross_entropy_grad")
@given(data=labelled_logits())
def test_gradient_equals_yhat_minus_y(impl, data):
    y, z, kind = data
    S = exact_softmax(z)
    assert_close(
        impl.cross_entropy_grad(y, z),
        S - y,
        Bound(
            gradient_error(y, z, S),
            "gradient_error: S r + N EPS S (c = 1 +- N EPS) + 1.5 EPS (S + y)",
        ),
        what=f"cross_entropy_grad(y, z) against yhat - y for {kind} labels",
    )


@uses("cross_entropy_grad")
@given(data=labelled_logits())
def test_gradient_sums_to_zero(impl, data):
    y, z, kind = data
    g = impl.cross_entropy_grad(y, z)
    n = z.shape[-1]
    # sum_i (S_i - y_i) = (sum S - 1) + (1 - c): softmax_sum_tol and the simplex's N EPS;
    # the N subtractions and the N-term sum add N u sum |g_i|.
    tol = softmax_sum_tol(n) + n * EPS + n * EPS / 2 * np.abs(g).sum(-1)
    assert_close(
        g.sum(-1),
        np.zeros(z.shape[:-1]),
        Bound(tol, "softmax_sum_tol(N) + N EPS + N u sum |g|"),
        what=f"sum of dL/dz for {kind} labels",
    )


@uses("cross_entropy", "cross_entropy_grad")
@given(data=labelled_logits(), v=st.data())
def test_gradient_matches_finite_differences(impl, data, v):
    y, z, kind = data
    v = v.draw(
        hnp.arrays(np.float64, z.shape, elements=st.floats(-1.0, 1.0), fill=st.nothing()),
        label="v",
    )
    g = impl.cross_entropy_grad(y, z)
    assert g.shape == z.shape, f"cross_entropy_grad(y, z).shape={g.shape}, but should be {z.shape}"
    expected = float((g * v).sum())

    S = exact_softmax(z)
    rows = z.size // z.shape[-1]
    # Rounding of one evaluation of l(x) = sum_rows cross_entropy(y, x), in units of EPS:
    # each loss within cross_entropy_error (its gaps move by < 2 * 2h <= 0.04: add 0.04 u
    # per unit of sum y, covered by adding EPS), the sum over rows (rows - 1) u sum L, and
    # rounding x = fl(z +- h v) itself moves l by sum_i |dL/dz_i| u |x_i|.
    losses = exact_cross_entropy(y, z)
    rounding_scale = float(
        (cross_entropy_error(y, z) / EPS + 1.0).sum()
        + (rows - 1) / 2 * losses.sum()
        + (np.abs(S - y) * (np.abs(z) + 0.02)).sum() / 2
    )
    h = central_difference_step(rounding_scale, THIRD_DERIVATIVE_PER_ROW * rows)
    fd = directional_difference(
        lambda x: float(impl.cross_entropy(y, x).sum()), z, v, h, rounding_scale
    )
    # <g, v> itself: g within gradient_error, and M roundings to sum M products
    own = float(
        (gradient_error(y, z, S) * np.abs(v)).sum() + z.size * EPS / 2 * np.abs(g * v).sum()
    )
    assert_close(
        fd.estimate,
        expected,
        Bound(
            fd.tol + own,
            "Richardson truncation estimate + rounding of L, of z +- h v, and of <g, v>",
        ),
        what=f"<dL/dz, v> against the central difference (h = {h:.3e}, {kind} labels)",
    )


# --- reference: every finite logit ---------------------------------------------------


@given(data=labelled_logits(max_magnitude=FLOAT64_MAX / 4))
def test_reference_cross_entropy_exact_for_every_finite_logit(data):
    """Reference only (no @uses): audits send |z| <= 1e4, the reference promises more.

    |z| <= max/4 keeps the exact loss (<= max gap + log N <= max/2 + log N) representable;
    beyond, the exact loss itself can exceed 1.8e308.
    """
    y, z, kind = data
    L = ref.cross_entropy(y, z)
    exact = exact_cross_entropy(y, z)
    assert np.isfinite(L).all() and (L >= 0).all(), f"cross_entropy = {L!r} ({kind} labels)"
    assert_close(
        L,
        exact,
        Bound(cross_entropy_error(y, z) + ORACLE_ROUNDING * exact, "cross_entropy_error"),
        what="cross_entropy",
    )
    S = exact_softmax(z)
    g = ref.cross_entropy_grad(y, z)
    assert_close(
        g, S - y, Bound(gradient_error(y, z, S), "gradient_error"), what="cross_entropy_grad"
    )


# --- the hypothesis sum y = 1 is necessary --------------------------------------------


def _fd_gradient(y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of the 40-digit loss along each axis: (estimates, bounds)."""
    estimates, bounds = [], []
    # rounding scale: the oracle's u L, and rounding z +- h e_i moves L by |dL/dz_i| u |z_i|
    # with |dL/dz_i| <= c + 1
    c = float(y.sum())
    scale = float(exact_cross_entropy(y, z)) + (c + 1) * (np.abs(z).max() + 0.02) / 2
    h = central_difference_step(scale, THIRD_DERIVATIVE_PER_ROW * (c + 1))
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = 1.0
        fd = directional_difference(lambda x: float(exact_cross_entropy(y, x)), z, e, h, scale)
        estimates.append(fd.estimate)
        bounds.append(fd.tol)
    return np.array(estimates), np.array(bounds)


def _key_formula_fails(yz: tuple[np.ndarray, np.ndarray]) -> bool:
    y, z = yz
    fd, tol = _fd_gradient(y, z)
    key = exact_softmax(z) - y
    return bool((np.abs(fd - key) > tol + 4 * EPS).any())


def test_hypothesis_sum_to_one_is_necessary():
    """Not an erratum: the key's last line uses sum_j y_j = 1, which the assignment assumes.

    Off the simplex the key's formula yhat - y is not the gradient; Hypothesis finds a
    minimal y >= 0 with y_1 >= 1 (sum c != 1) where it disagrees with finite differences of
    L = -sum y_i log yhat_i, and the true gradient c yhat - y agrees there.
    """
    # y = e_1 + w with w >= 0: a nonzero label (the all-zero y, c = 0, would be a
    # degenerate witness) that leaves the simplex exactly when w != 0
    off_simplex = st.integers(2, 4).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, (n,), elements=st.floats(0.0, 2.0), fill=st.nothing()).map(
                lambda w: w + np.eye(w.size)[0]
            ),
            hnp.arrays(np.float64, (n,), elements=st.floats(-5.0, 5.0), fill=st.nothing()),
        )
    )
    # find() shrinks to the minimal example; derandomized so the witness is stable
    y, z = find(
        off_simplex,
        _key_formula_fails,
        settings=settings(max_examples=500, derandomize=True, database=None),
    )
    c = float(y.sum())
    fd, tol = _fd_gradient(y, z)
    yhat = exact_softmax(z)
    print(f"minimal counterexample: y = {y!r} (sum {c}), z = {z!r}")
    print(f"finite differences {fd!r}; key yhat - y = {yhat - y!r}; c yhat - y = {c * yhat - y!r}")
    assert abs(c - 1.0) > ref.simplex_tolerance(y.size), f"y = {y!r} is on the simplex"
    assert_close(
        c * yhat - y,
        fd,
        Bound(
            tol + 4 * EPS * (1 + np.abs(y)),
            "the true gradient off the simplex: Richardson + rounding of the 40-digit loss",
        ),
        what="c yhat - y against finite differences",
    )


# --- validation of the reference (not audited) -----------------------------------------


# The bad-input table is in the contract records (reference/*.py: CONTRACT),
# run by properties/meta/test_contract.py.


def test_reference_accepts_labels_within_simplex_tolerance():
    """sum(y) = 1 up to N EPS (reference.softmax_ce.simplex_tolerance) is on the simplex."""
    n = 10
    y = np.full(n, 0.1)  # fl(0.1) * 10 sums to 1 - 1.1e-16 in float64
    assert abs(y.sum() - 1.0) <= ref.simplex_tolerance(n)
    assert np.isfinite(ref.cross_entropy(y, np.arange(n, dtype=float)))

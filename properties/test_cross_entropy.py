"""Theorem (Problem 3.2): the gradient of the softmax cross-entropy is yhat - y.

Let N >= 1, z in R^N, yhat = S(z) the softmax of z, and y in R^N with y_i >= 0 and
sum_i y_i = 1. The cross-entropy L(y, z) = -sum_i y_i log yhat_i (a term with y_i = 0 is 0,
the convention 0 log 0 = 0) is smooth in z, and

    dL / dz_i = yhat_i - y_i.

Consequently sum_i dL/dz_i = 0, and L >= 0 is finite for every z. The hypothesis
sum_i y_i = 1 is necessary: for y >= 0 with sum_i y_i = c the gradient is c yhat - y.

Properties (oracle in brackets; every tolerance is a Bound of properties.tolerance.softmax,
normwise backward stable to pass, componentwise as the recorded grade):

- the loss equals its definition [-sum y_i log S_i in 40-digit decimal arithmetic];
  it is >= 0 and finite for logits within the contract, including probabilities that
  underflow to 0 where y_i = 0 [the law itself];
- the gradient equals the derivative of the loss's definition [complex step of
  -sum y_i log(exp(z_i) / sum exp(z_k)) in 40-digit mpmath] and matches directional
  central differences of the loss [finite differences with a Richardson truncation
  estimate]; its entries sum to 0;
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
from hypothesis import find, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference.softmax_ce as ref
from properties.audit import uses
from properties.oracles import (
    exact_cross_entropy,
    exact_cross_entropy_grad,
    exact_softmax,
    finite_difference_gradient,
)
from properties.strategies import (
    FLOAT64_MAX,
    labelled_logits,
    probe_directions,
    softmax_shapes,
)
from properties.strategies.softmax import note_logit_regions
from properties.tolerance import (
    assert_close,
    assert_finite,
    assert_shape,
    cross_entropy_bound,
    cross_entropy_probe,
    directional_difference,
    gradient_bound,
    gradient_probe_bound,
    gradient_sum_bound,
    off_simplex_gradient_bound,
)

#: shapes for the properties whose oracle is the 40-digit gradient (about 2 ms a row)
SMALL_BATCHES = softmax_shapes(batch_dims=st.integers(0, 1))


def loss_of(impl, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``impl.cross_entropy(y, z)``, checked for shape and finiteness."""
    L = np.asarray(impl.cross_entropy(y, z), dtype=np.float64)
    assert_shape(L, z.shape[:-1], call="cross_entropy(y, z)")
    assert_finite(L, call="cross_entropy(y, z)")
    return L


def gradient_of(impl, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``impl.cross_entropy_grad(y, z)``, checked for shape and finiteness."""
    g = np.asarray(impl.cross_entropy_grad(y, z), dtype=np.float64)
    assert_shape(g, z.shape, call="cross_entropy_grad(y, z)")
    assert_finite(g, call="cross_entropy_grad(y, z)")
    return g


# --- loss --------------------------------------------------------------------------


@uses("cross_entropy")
@given(data=labelled_logits())
def test_cross_entropy_equals_definition(impl, data):
    y, z, kind = data
    note_logit_regions(z)
    exact = exact_cross_entropy(y, z)
    note(f"exact loss (40 digits) = {exact!r}")
    assert_close(
        loss_of(impl, y, z),
        exact,
        cross_entropy_bound(y, z, exact),
        what=f"cross_entropy(y, z) for {kind} labels against its 40-digit definition",
        componentwise=cross_entropy_bound(y, z, exact, componentwise=True),
    )


@uses("cross_entropy")
@given(data=labelled_logits())
def test_cross_entropy_nonnegative_and_finite(impl, data):
    y, z, kind = data
    L = loss_of(impl, y, z)
    # L = sum y_i d_i + c log s with every term >= 0; a log-softmax route may round log s
    # (>= 0) down by its error, so allow -cross_entropy_bound and no more.
    floor = -cross_entropy_bound(y, z, L).tol
    assert (floor <= L).all(), f"cross_entropy < 0 for {kind} labels: {L!r} (floor {floor!r})"


@pytest.mark.parametrize(
    ("y", "z"),
    [
        ([0.0, 1.0], [800.0, 0.0]),  # the true class has probability exp(-800): underflows
        ([1.0, 0.0], [800.0, 0.0]),  # y_i = 0 where softmax underflows: 0 log 0 = 0
        ([0.0, 0.5, 0.5], [1e4, -1e4, 0.0]),  # contract's extreme logits
        ([0.0, 1.0], [720.0, 0.0]),  # the true class's probability is subnormal
    ],
)
@uses("cross_entropy")
def test_cross_entropy_where_probabilities_underflow(impl, y, z):
    """Fixed witnesses beside the random search: a naive -sum y log(softmax) is inf or NaN."""
    y, z = np.array(y), np.array(z)
    exact = exact_cross_entropy(y, z)
    assert_close(
        loss_of(impl, y, z),
        exact,
        cross_entropy_bound(y, z, exact),
        what="cross_entropy(y, z)",
        componentwise=cross_entropy_bound(y, z, exact, componentwise=True),
    )


# --- gradient ------------------------------------------------------------------------


@uses("cross_entropy_grad")
@given(data=labelled_logits(SMALL_BATCHES))
def test_gradient_equals_derivative_of_definition(impl, data):
    y, z, kind = data
    note_logit_regions(z)
    exact = exact_cross_entropy_grad(y, z)
    note(f"dL/dz by the complex step of the 40-digit definition = {exact!r}")
    assert_close(
        gradient_of(impl, y, z),
        exact,
        gradient_bound(y, z, exact),
        what=f"cross_entropy_grad(y, z) against the derivative of the loss, {kind} labels",
        componentwise=gradient_bound(y, z, exact, componentwise=True),
    )


def test_logsumexp_gradient_worked_example_is_backward_stable():
    """Issue 12: y = [1, 0], z = [62, 64] through exp(z - lse(z)) - y, lse = m + log sum.

    Off by 4.4e-15 in the second entry: outside the componentwise grade (3.0e-15), inside
    the normwise bound (2.9e-14), as perturbing the logits by an ulp of 64 allows.
    """
    y, z = np.array([1.0, 0.0]), np.array([62.0, 64.0])
    lse = z.max() + np.log(np.exp(z - z.max()).sum())
    observed = np.exp(z - lse) - y
    exact = exact_cross_entropy_grad(y, z)
    assert_close(observed, exact, gradient_bound(y, z, exact), what="logsumexp gradient")
    grade = gradient_bound(y, z, exact, componentwise=True)
    assert (np.abs(observed - exact) > grade.tol).any(), grade


@uses("cross_entropy_grad")
@given(data=labelled_logits())
def test_gradient_sums_to_zero(impl, data):
    y, z, kind = data
    g = gradient_of(impl, y, z)
    assert_close(
        g.sum(-1),
        np.zeros(z.shape[:-1]),
        gradient_sum_bound(y, z, g),
        what=f"sum of cross_entropy_grad(y, z) for {kind} labels",
    )


@uses("cross_entropy", "cross_entropy_grad")
@given(data=labelled_logits(), probe=st.data())
def test_gradient_matches_finite_differences(impl, data, probe):
    """<g, v> from cross_entropy_grad against the central difference of cross_entropy."""
    y, z, kind = data
    v = probe.draw(probe_directions(z), label="v")
    note_logit_regions(z)
    g = gradient_of(impl, y, z)
    expected = float((g * v).sum())
    S, L = exact_softmax(z), exact_cross_entropy(y, z)
    step = cross_entropy_probe(y, z, S, L)
    note(f"step h = {step.h:.3e}, rounding scale = {step.rounding_scale:.3e}")
    fd = directional_difference(
        lambda x: float(np.asarray(impl.cross_entropy(y, x)).sum()), z, v, *step
    )
    note(
        f"<g, v> from cross_entropy_grad = {expected!r}; central difference of "
        f"cross_entropy along v = {fd.estimate!r} (its own bound {fd.tol:.3e})"
    )
    assert_close(
        fd.estimate,
        expected,
        gradient_probe_bound(fd, y, z, v, g),
        what=f"central difference of cross_entropy along v (h = {step.h:.3e}, {kind} labels) "
        "against <g, v> from cross_entropy_grad",
    )


# --- reference: every finite logit ---------------------------------------------------


@given(data=labelled_logits(SMALL_BATCHES, max_magnitude=FLOAT64_MAX / 4))
def test_reference_cross_entropy_exact_for_every_finite_logit(data):
    """Reference only (no @uses): audits send |z| <= 1e4, the reference promises more.

    |z| <= max/4 keeps the exact loss (<= max gap + log N <= max/2 + log N) representable;
    beyond, the exact loss itself can exceed 1.8e308. Componentwise: the normwise bound is
    meaningless at |z| ~ 1e308.
    """
    y, z, kind = data
    L = ref.cross_entropy(y, z)
    exact = exact_cross_entropy(y, z)
    assert_finite(L, call="cross_entropy(y, z)")
    assert (L >= 0).all(), f"cross_entropy = {L!r} ({kind} labels)"
    assert_close(
        L, exact, cross_entropy_bound(y, z, exact, componentwise=True), what="cross_entropy"
    )
    g = ref.cross_entropy_grad(y, z)
    exact_g = exact_cross_entropy_grad(y, z)
    assert_close(
        g, exact_g, gradient_bound(y, z, exact_g, componentwise=True), what="cross_entropy_grad"
    )


# --- the hypothesis sum y = 1 is necessary --------------------------------------------


def _key_formula_fails(yz: tuple[np.ndarray, np.ndarray]) -> bool:
    y, z = yz
    fd, tol = finite_difference_gradient(y, z)
    key = exact_softmax(z) - y
    return bool((np.abs(fd - key) > off_simplex_gradient_bound(tol, y).tol).any())


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
    fd, tol = finite_difference_gradient(y, z)
    yhat = exact_softmax(z)
    print(f"minimal counterexample: y = {y!r} (sum {c}), z = {z!r}")
    print(f"finite differences {fd!r}; key yhat - y = {yhat - y!r}; c yhat - y = {c * yhat - y!r}")
    assert abs(c - 1.0) > ref.simplex_tolerance(y.size), f"y = {y!r} is on the simplex"
    assert_close(
        c * yhat - y,
        fd,
        off_simplex_gradient_bound(tol, y),
        what="c yhat - y (the true gradient off the simplex) against finite differences",
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

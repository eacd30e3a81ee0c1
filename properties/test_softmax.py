"""Theorem (Problem 3.1): the softmax Jacobian is diag(S) - S S^T.

Let N >= 1 and S: R^N -> R^N, S(z)_i = exp(z_i) / sum_k exp(z_k). S is smooth and

    dS_i / dz_j = S_i (delta_ij - S_j),   that is   J(z) = diag(S) - S S^T.

Consequently J is symmetric, J 1 = 0 (S is constant along 1), J is positive semi-definite
with eigenvalues in [0, 1/2] (Gershgorin: row i is centred at S_i (1 - S_i) with radius
S_i (1 - S_i)), and trace J = 1 - |S|^2. S itself obeys: S(z + c 1) = S(z) for every real c;
S(P z) = P S(z) for every permutation P; 0 <= S_i <= 1 and sum_i S_i = 1; z_i < z_j implies
S_i < S_j; and S(z) is defined for every z in R^N, however large.

Properties (oracle in brackets; every tolerance is a Bound of properties.tolerance.softmax,
normwise backward stable to pass, componentwise as the recorded grade):

- softmax, along any axis of a batched array, equals its definition [exp(z_i)/sum exp(z_k)
  in 40-digit decimal arithmetic, entry by entry];
- the laws: entries in [0, 1] and finite, summing to 1; shift invariance; permutation
  equivariance; order preservation [the laws themselves];
- the reference is exact (componentwise) for every finite float64 logit up to 1.8e308
  [decimal oracle; reference only, since audits send |z| <= 1e4];
- the Jacobian equals the derivative of the definition [complex step of exp(z_i)/sum
  exp(z_k) in 40-digit mpmath], matches directional central differences of softmax
  [finite differences with a Richardson truncation estimate], is symmetric with J 1 = 0,
  has eigenvalues in [0, 1/2] [numpy.linalg.eigvalsh] and trace 1 - |S|^2.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import reference.softmax_ce as ref
from properties.audit import uses
from properties.oracles import exact_softmax, exact_softmax_jacobian
from properties.strategies import (
    CONTRACT_MAX_LOGIT,
    FLOAT64_MAX,
    labelled_logits,
    logits,
    probe_directions,
    softmax_shapes,
)
from properties.strategies.softmax import note_logit_regions
from properties.tolerance import (
    assert_close,
    assert_finite,
    assert_shape,
    directional_difference,
    jacobian_bound,
    jacobian_eigenvalue_bound,
    jacobian_probe_bound,
    jacobian_row_sum_bound,
    jacobian_trace_bound,
    shifted_softmax_bound,
    softmax_bound,
    softmax_probe,
    softmax_sum_bound,
)

#: shapes for the properties whose oracle is the 40-digit Jacobian (about 1 ms a row):
#: at most 3 rows
SMALL_BATCHES = softmax_shapes(batch_dims=st.integers(0, 1))


@st.composite
def logits_and_axis(draw: st.DrawFn, max_magnitude: float = CONTRACT_MAX_LOGIT):
    """Batched logits and an axis of them (negative or not) to apply softmax along."""
    z = draw(logits(softmax_shapes(), max_magnitude=max_magnitude), label="z")
    axis = draw(st.integers(-z.ndim, z.ndim - 1), label="axis")
    return z, axis


def exact_softmax_along(z: np.ndarray, axis: int) -> np.ndarray:
    """The 40-digit oracle along any axis (it works on the last one)."""
    return np.moveaxis(exact_softmax(np.moveaxis(z, axis, -1)), -1, axis)


def softmax_along(impl, z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``impl.softmax(z, axis)``, checked for shape and finiteness before any comparison."""
    S = np.asarray(impl.softmax(z, axis=axis), dtype=np.float64)
    call = f"softmax(z, axis={axis})"
    assert_shape(S, z.shape, call=call)
    assert_finite(S, call=call)
    return S


# --- softmax: value ------------------------------------------------------------------


@uses("softmax")
@given(data=logits_and_axis())
def test_softmax_equals_definition_along_any_axis(impl, data):
    z, axis = data
    note_logit_regions(np.moveaxis(z, axis, -1))
    S = softmax_along(impl, z, axis)
    exact = exact_softmax_along(z, axis)
    note(f"exact softmax (40 digits) = {exact!r}")
    rows, exact_rows, S_rows = (np.moveaxis(x, axis, -1) for x in (z, exact, S))
    assert_close(
        S_rows,
        exact_rows,
        softmax_bound(exact_rows, rows),
        what=f"softmax(z, axis={axis}) (moved to the last axis) against its 40-digit definition",
        componentwise=softmax_bound(exact_rows, rows, componentwise=True),
    )


@pytest.mark.parametrize("big", [800.0, 1e4, -1e4])
@uses("softmax")
def test_softmax_at_large_logits(impl, big):
    """A fixed witness beside the random search: exp(800) overflows a naive softmax."""
    z = np.array([big, big - 1.0, 0.0])
    exact = exact_softmax(z)
    assert_close(
        softmax_along(impl, z),
        exact,
        softmax_bound(exact, z),
        what="softmax",
        componentwise=softmax_bound(exact, z, componentwise=True),
    )


def test_logsumexp_worked_example_is_backward_stable():
    """Issue 12: a logsumexp softmax returns 0.5000000000000275 at z = [2000, 2000].

    Its error, 2.75e-14, is what perturbing each logit by about one ulp of 2000 gives:
    inside the normwise bound (4.4e-13), outside the componentwise grade (1.3e-15).
    """
    z = np.array([2000.0, 2000.0])
    observed = np.array([0.5000000000000275, 0.5000000000000275])
    exact = exact_softmax(z)
    assert_close(observed, exact, softmax_bound(exact, z), what="logsumexp softmax([2000, 2000])")
    grade = softmax_bound(exact, z, componentwise=True)
    assert (np.abs(observed - exact) > grade.tol).all(), grade


# --- softmax: laws -------------------------------------------------------------------


@uses("softmax")
@given(data=logits_and_axis())
def test_softmax_entries_in_unit_interval_and_sum_to_one(impl, data):
    z, axis = data
    note_logit_regions(np.moveaxis(z, axis, -1))
    S = softmax_along(impl, z, axis)
    # exact in floating point: every e_i <= 1 <= s (or exp(g - log s) with log s >= 0)
    assert ((S >= 0) & (S <= 1)).all(), f"softmax(z, axis={axis}) leaves [0, 1]:\n{S}"
    moved = np.moveaxis(z, axis, -1)
    assert_close(
        S.sum(axis=axis),
        np.ones(S.sum(axis=axis).shape),
        softmax_sum_bound(moved),
        what=f"sum of softmax(z, axis={axis})",
        componentwise=softmax_sum_bound(moved, componentwise=True),
    )


@uses("softmax")
@given(
    z=logits(max_magnitude=CONTRACT_MAX_LOGIT / 2),
    c=st.floats(-CONTRACT_MAX_LOGIT / 2, CONTRACT_MAX_LOGIT / 2),
)
def test_softmax_shift_invariance(impl, z, c):
    shifted = z + c  # |z + c| <= 1e4: within the contract
    exact = exact_softmax(z)
    assert_close(
        softmax_along(impl, shifted),
        softmax_along(impl, z),
        shifted_softmax_bound(exact, z, shifted),
        what=f"softmax(z + {c!r}) against softmax(z)",
        componentwise=shifted_softmax_bound(exact, z, shifted, componentwise=True),
    )


@uses("softmax")
@given(data=st.data())
def test_softmax_permutation_equivariance(impl, data):
    z = data.draw(logits(), label="z")
    perm = np.array(data.draw(st.permutations(range(z.shape[-1])), label="permutation"))
    exact = exact_softmax(z)[..., perm]
    bound = softmax_bound(exact, z[..., perm])
    assert_close(
        softmax_along(impl, z[..., perm]),
        softmax_along(impl, z)[..., perm],
        bound._replace(tol=2 * bound.tol, why=f"each side within {bound.why}"),
        what="softmax(z[perm]) against softmax(z)[perm]",
    )


@uses("softmax")
@given(z=logits())
def test_softmax_preserves_order(impl, z):
    note_logit_regions(z)
    S = softmax_along(impl, z)
    err = np.broadcast_to(softmax_bound(exact_softmax(z), z).tol, z.shape)
    smaller = z[..., :, None] < z[..., None, :]  # z_i < z_j
    excess = S[..., :, None] - S[..., None, :] - (err[..., :, None] + err[..., None, :])
    bad = smaller & (excess > 0)
    assert not bad.any(), (
        f"z_i < z_j but S_i > S_j beyond both softmax_bound tolerances at (..., i, j) = "
        f"{tuple(int(k) for k in np.argwhere(bad)[0])}:\nz = {z!r}\nS = {S!r}"
    )


# --- reference: every finite logit ---------------------------------------------------


@given(z=logits(max_magnitude=FLOAT64_MAX))
def test_reference_softmax_exact_for_every_finite_logit(z):
    """Reference only (no @uses): audits send |z| <= 1e4, the reference promises all of R.

    Componentwise: the normwise bound is meaningless at |z| ~ 1e308.
    """
    S = ref.softmax(z)
    exact = exact_softmax(z)
    assert_finite(S, call="softmax(z)")
    assert_close(S, exact, softmax_bound(exact, z, componentwise=True), what="softmax")
    assert_close(
        S.sum(-1),
        np.ones(z.shape[:-1]),
        softmax_sum_bound(z, componentwise=True),
        what="sum of softmax",
    )


@given(z=logits(SMALL_BATCHES, max_magnitude=FLOAT64_MAX))
def test_reference_jacobian_exact_for_every_finite_logit(z):
    J = ref.softmax_jacobian(z)
    assert_finite(J, call="softmax_jacobian(z)")
    assert_close(
        J,
        exact_softmax_jacobian(z),
        jacobian_bound(exact_softmax(z), z, componentwise=True),
        what="softmax_jacobian(z) against the derivative of the definition",
    )


# --- Jacobian --------------------------------------------------------------------------


def jacobian_of(impl, z: np.ndarray) -> np.ndarray:
    """``impl.softmax_jacobian(z)``, checked for shape and finiteness."""
    J = np.asarray(impl.softmax_jacobian(z), dtype=np.float64)
    assert_shape(J, (*z.shape, z.shape[-1]), call="softmax_jacobian(z)")
    assert_finite(J, call="softmax_jacobian(z)")
    return J


@uses("softmax_jacobian")
@given(z=logits(SMALL_BATCHES))
def test_jacobian_equals_derivative_of_definition(impl, z):
    note_logit_regions(z)
    exact = exact_softmax_jacobian(z)
    note(f"dS_i/dz_j by the complex step of the 40-digit definition = {exact!r}")
    S = exact_softmax(z)
    assert_close(
        jacobian_of(impl, z),
        exact,
        jacobian_bound(S, z),
        what="softmax_jacobian(z) against the derivative of exp(z_i) / sum exp(z_k)",
        componentwise=jacobian_bound(S, z, componentwise=True),
    )


@uses("softmax_jacobian", "softmax")
@given(data=st.data())
def test_jacobian_matches_finite_differences(impl, data):
    """<v, J v> from softmax_jacobian against the central difference of <v, softmax>."""
    z = data.draw(logits(), label="z")
    v = data.draw(probe_directions(z), label="v")
    note_logit_regions(z)
    J = jacobian_of(impl, z)
    expected = float((v[..., :, None] * J * v[..., None, :]).sum())
    S = exact_softmax(z)
    probe = softmax_probe(z, v, S)
    note(f"step h = {probe.h:.3e}, rounding scale = {probe.rounding_scale:.3e}")
    fd = directional_difference(
        lambda x: float((v * np.asarray(impl.softmax(x))).sum()), z, v, *probe
    )
    note(
        f"<v, J v> from softmax_jacobian = {expected!r}; central difference of "
        f"<v, softmax> along v = {fd.estimate!r} (its own bound {fd.tol:.3e})"
    )
    assert_close(
        fd.estimate,
        expected,
        jacobian_probe_bound(fd, v, J, S, z),
        what=f"central difference of <v, softmax(z + t v)> (h = {probe.h:.3e}) against "
        "<v, J v> from softmax_jacobian",
    )


@uses("softmax_jacobian")
@given(z=logits())
def test_jacobian_symmetric_and_annihilates_ones(impl, z):
    J = jacobian_of(impl, z)
    entry = jacobian_bound(exact_softmax(z), z, oracle=False)
    assert_close(
        J,
        np.swapaxes(J, -1, -2),
        entry._replace(
            tol=entry.tol + np.swapaxes(entry.tol, -1, -2),
            why=f"each entry within ({entry.why}) of the exact, symmetric J",
        ),
        what="softmax_jacobian(z) against its transpose",
    )
    assert_close(
        J.sum(-1),
        np.zeros(z.shape),
        jacobian_row_sum_bound(exact_softmax(z), z),
        what="softmax_jacobian(z) 1 (row sums)",
    )


@uses("softmax_jacobian")
@given(z=logits())
def test_jacobian_spectrum_and_trace(impl, z):
    J = jacobian_of(impl, z)
    exact = exact_softmax(z)
    lam = np.linalg.eigvalsh(J)
    note(f"eigenvalues of softmax_jacobian(z) = {lam!r}")
    assert_close(
        np.clip(lam, 0.0, 0.5),
        lam,
        jacobian_eigenvalue_bound(exact, z),
        what="eigenvalues of softmax_jacobian(z) (in [0, 1/2])",
    )
    assert_close(
        np.trace(J, axis1=-2, axis2=-1),
        1.0 - (exact**2).sum(-1),
        jacobian_trace_bound(exact, z),
        what="trace of softmax_jacobian(z) against 1 - |S|^2",
    )


# --- validation of the reference (not audited) -----------------------------------------


# The bad-input table is in the contract records (reference/*.py: CONTRACT),
# run by properties/meta/test_contract.py.


# --- the strategies themselves (not audited) -------------------------------------------


@given(data=st.data(), bound=st.sampled_from([1.0, CONTRACT_MAX_LOGIT, FLOAT64_MAX]))
def test_strategy_logits_are_finite_and_within_bound(data, bound):
    z = data.draw(logits(max_magnitude=bound), label="z")
    assert z.dtype == np.float64 and z.ndim >= 1 and z.size >= 1, f"z = {z!r}"
    assert np.isfinite(z).all() and (np.abs(z) <= bound).all(), f"z = {z!r} (bound {bound})"


@given(data=labelled_logits())
def test_strategy_labels_are_on_the_simplex(data):
    y, z, kind = data
    assert y.shape == z.shape, f"y.shape={y.shape}, but should be z.shape={z.shape}"
    assert (y >= 0).all(), f"{kind} labels with negative entries: {y!r}"
    n = y.shape[-1]
    assert (np.abs(y.sum(-1) - 1.0) <= ref.simplex_tolerance(n)).all(), (
        f"{kind} labels off the simplex beyond N EPS: sums {y.sum(-1)!r}"
    )

"""Theorem (Problem 3.1): the softmax Jacobian is diag(S) - S S^T.

Let N >= 1 and S: R^N -> R^N, S(z)_i = exp(z_i) / sum_k exp(z_k). S is smooth and

    dS_i / dz_j = S_i (delta_ij - S_j),   that is   J(z) = diag(S) - S S^T.

Consequently J is symmetric, J 1 = 0 (S is constant along 1), J is positive semi-definite
with eigenvalues in [0, 1/2] (Gershgorin: row i is centred at S_i (1 - S_i) with radius
S_i (1 - S_i)), and trace J = 1 - |S|^2. S itself obeys: S(z + c 1) = S(z) for every real c;
S(P z) = P S(z) for every permutation P; 0 <= S_i <= 1 and sum_i S_i = 1; z_i < z_j implies
S_i < S_j; and S(z) is defined for every z in R^N, however large.

Properties (oracle in brackets; every tolerance is an error model of properties.tolerance):

- softmax, along any axis of a batched array, equals its definition [exp(z_i)/sum exp(z_k)
  in 40-digit decimal arithmetic, entry by entry];
- the laws: entries in [0, 1] and finite, summing to 1 within ``softmax_sum_tol``; shift
  invariance; permutation equivariance; order preservation [the laws themselves];
- the reference is exact for every finite float64 logit up to 1.8e308 [decimal oracle;
  reference only, since audits send |z| <= 1e4];
- the Jacobian matches directional central differences of softmax [finite differences
  with a Richardson truncation estimate: the independent oracle], equals diag(S) - S S^T
  [formula evaluated at the 40-digit S], is symmetric with J 1 = 0, has eigenvalues in
  [0, 1/2] [numpy.linalg.eigvalsh] and trace 1 - |S|^2.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference.softmax_ce as ref
from properties.audit import uses
from properties.oracles import exact_softmax
from properties.strategies import (
    CONTRACT_MAX_LOGIT,
    FLOAT64_MAX,
    labelled_logits,
    logits,
    softmax_shapes,
)
from properties.tolerance import (
    EPS,
    Bound,
    assert_close,
    central_difference_step,
    directional_difference,
    jacobian_error,
    shifted_softmax_tol,
    softmax_error,
    softmax_relative_error,
    softmax_sum_tol,
)

#: the float64 rounding of the 40-digit oracle itself: half an ulp, relative
ORACLE_ROUNDING = EPS / 2


@st.composite
def logits_and_axis(draw: st.DrawFn, max_magnitude: float = CONTRACT_MAX_LOGIT):
    """Batched logits and an axis of them (negative or not) to apply softmax along."""
    z = draw(logits(softmax_shapes(), max_magnitude=max_magnitude), label="z")
    axis = draw(st.integers(-z.ndim, z.ndim - 1), label="axis")
    return z, axis


def exact_softmax_along(z: np.ndarray, axis: int) -> np.ndarray:
    """The 40-digit oracle along any axis (it works on the last one)."""
    return np.moveaxis(exact_softmax(np.moveaxis(z, axis, -1)), -1, axis)


def directions(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Entries in [-1, 1]: probe vectors u and directions v with |v|_inf <= 1."""
    return hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0), fill=st.nothing())


# --- softmax: value ------------------------------------------------------------------


@uses("softmax")
@given(data=logits_and_axis())
def test_softmax_equals_definition_along_any_axis(impl, data):
    z, axis = data
    S = impl.softmax(z, axis=axis)
    exact = exact_softmax_along(z, axis)
    moved = np.moveaxis(z, axis, -1)
    tol = np.moveaxis(softmax_error(np.moveaxis(exact, axis, -1), moved), -1, axis)
    assert_close(
        S,
        exact,
        Bound(
            tol + ORACLE_ROUNDING * exact,
            "softmax_relative_error: u (2|gap| + 1.37 N + 9 log N + 13) relative",
        ),
        what=f"softmax(z, axis={axis})",
    )


@pytest.mark.parametrize("big", [800.0, 1e4, -1e4])
@uses("softmax")
def test_softmax_at_large_logits(impl, big):
    """A fixed witness beside the random search: exp(800) overflows a naive softmax."""
    z = np.array([big, big - 1.0, 0.0])
    S = impl.softmax(z)
    exact = exact_softmax(z)
    assert_close(
        S,
        exact,
        Bound(softmax_error(exact, z) + ORACLE_ROUNDING * exact, "softmax_relative_error"),
        what="softmax",
    )


# --- softmax: laws -------------------------------------------------------------------


@uses("softmax")
@given(data=logits_and_axis())
def test_softmax_entries_in_unit_interval_and_sum_to_one(impl, data):
    z, axis = data
    S = impl.softmax(z, axis=axis)
    assert S.shape == z.shape, f"softmax(z, axis={axis}).shape={S.shape}, but should be {z.shape}"
    assert np.isfinite(S).all(), f"softmax(z, axis={axis}) is not finite:\n{S}"
    # exact in floating point: every e_i <= 1 <= s (or exp(g - log s) with log s >= 0)
    assert ((S >= 0) & (S <= 1)).all(), f"softmax(z, axis={axis}) leaves [0, 1]:\n{S}"
    n = z.shape[axis]
    assert_close(
        S.sum(axis=axis),
        np.ones(S.sum(axis=axis).shape),
        Bound(softmax_sum_tol(n), f"softmax_sum_tol({n}) = EPS (1.6 N + 4.5 log N + 6)"),
        what=f"sum of softmax(z, axis={axis})",
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
        impl.softmax(shifted),
        impl.softmax(z),
        Bound(
            shifted_softmax_tol(exact, z, shifted),
            "rounding z + c moves the exponents by u|z + c|: 2 u max|z + c| relative, "
            "plus each side's softmax_error",
        ),
        what=f"softmax(z + {c!r}) against softmax(z)",
    )


@uses("softmax")
@given(data=st.data())
def test_softmax_permutation_equivariance(impl, data):
    z = data.draw(logits(), label="z")
    perm = np.array(data.draw(st.permutations(range(z.shape[-1])), label="permutation"))
    exact = exact_softmax(z)[..., perm]
    assert_close(
        impl.softmax(z[..., perm]),
        impl.softmax(z)[..., perm],
        Bound(
            2 * softmax_error(exact, z[..., perm]),
            "exact up to summation order: each side within softmax_error",
        ),
        what="softmax(z[perm]) against softmax(z)[perm]",
    )


@uses("softmax")
@given(z=logits())
def test_softmax_preserves_order(impl, z):
    S = impl.softmax(z)
    err = softmax_error(exact_softmax(z), z)
    smaller = z[..., :, None] < z[..., None, :]  # z_i < z_j
    excess = S[..., :, None] - S[..., None, :] - (err[..., :, None] + err[..., None, :])
    bad = smaller & (excess > 0)
    assert not bad.any(), (
        f"z_i < z_j but S_i > S_j beyond both softmax_error bounds at (..., i, j) = "
        f"{tuple(int(k) for k in np.argwhere(bad)[0])}:\nz = {z!r}\nS = {S!r}"
    )


# --- reference: every finite logit ---------------------------------------------------


@given(z=logits(max_magnitude=FLOAT64_MAX))
def test_reference_softmax_exact_for_every_finite_logit(z):
    """Reference only (no @uses): audits send |z| <= 1e4, the reference promises all of R."""
    S = ref.softmax(z)
    exact = exact_softmax(z)
    assert np.isfinite(S).all(), f"softmax({z!r}) = {S!r}"
    assert_close(
        S,
        exact,
        Bound(
            softmax_error(exact, z) + ORACLE_ROUNDING * exact,
            "softmax_relative_error (gaps beyond 1000 underflow to exactly 0)",
        ),
        what="softmax",
    )
    assert_close(
        S.sum(-1),
        np.ones(z.shape[:-1]),
        Bound(softmax_sum_tol(z.shape[-1]), "softmax_sum_tol"),
        what="sum of softmax",
    )


@given(z=logits(max_magnitude=FLOAT64_MAX))
def test_reference_jacobian_exact_for_every_finite_logit(z):
    exact = exact_softmax(z)
    J = ref.softmax_jacobian(z)
    assert np.isfinite(J).all(), f"softmax_jacobian({z!r}) = {J!r}"
    formula = exact[..., :, None] * (np.eye(z.shape[-1]) - exact[..., None, :])
    r = softmax_relative_error(z)
    assert_close(
        J,
        formula,
        Bound(
            jacobian_error(exact, r) + jacobian_error(exact, np.full_like(r, EPS / 2)),
            "jacobian_error of J and of the formula at the exact S",
        ),
        what="softmax_jacobian",
    )


# --- Jacobian --------------------------------------------------------------------------


@uses("softmax_jacobian", "softmax")
@given(data=st.data())
def test_jacobian_matches_finite_differences(impl, data):
    """<u, J v> against the central difference of the scalar <u, softmax(z)> along v."""
    z = data.draw(logits(), label="z")
    u = data.draw(directions(z.shape), label="u")
    v = data.draw(directions(z.shape), label="v")
    J = impl.softmax_jacobian(z)
    assert J.shape == (*z.shape, z.shape[-1]), (
        f"softmax_jacobian(z).shape={J.shape}, but should be {(*z.shape, z.shape[-1])}"
    )
    expected = float((u[..., :, None] * J * v[..., None, :]).sum())

    S = exact_softmax(z)
    # Rounding of one evaluation of l(x) = sum u * softmax(x) at x = fl(z +- h v), in units
    # of EPS: softmax entries off by S r (r grows by < u when gaps move by 2h <= 0.04), the
    # products and the sum of M terms by (M + 1) u |u S|; and rounding x itself moves each
    # x_i by u |x_i|, which moves l by |dl/dz_i| u |x_i| with |dl/dz_i| = S_i |u_i - <u, S>|.
    r = softmax_relative_error(z) + EPS
    M = z.size
    centred = np.abs(u - (u * S).sum(-1, keepdims=True))
    rounding_scale = float(
        (np.abs(u) * S * (r / EPS + (M + 1) / 2)).sum()
        + (S * centred * (np.abs(z) + 0.02)).sum() / 2
    )
    # third directional derivative of S_i: S_i (w^3 - 3 w k2 - k3), w = v_i - <S, v>: <= 16 S_i
    rows = M // z.shape[-1]
    h = central_difference_step(rounding_scale, third_derivative=16.0 * rows)
    fd = directional_difference(
        lambda x: float((u * impl.softmax(x)).sum()), z, v, h, rounding_scale
    )
    # <u, J v> itself: J's allowed error (jacobian_error) and N + 1 roundings per term
    terms = np.abs(u)[..., :, None] * np.abs(v)[..., None, :]
    own = float(
        (
            terms
            * (
                jacobian_error(S, softmax_relative_error(z))
                + (z.shape[-1] + 1) * EPS / 2 * np.abs(J)
            )
        ).sum()
    )
    assert_close(
        fd.estimate,
        expected,
        Bound(
            fd.tol + own,
            "Richardson truncation estimate + rounding of softmax, of z +- h v, and of <u, J v>",
        ),
        what=f"<u, J v> against the central difference (h = {h:.3e})",
    )


@uses("softmax_jacobian")
@given(z=logits())
def test_jacobian_equals_formula(impl, z):
    exact = exact_softmax(z)
    formula = exact[..., :, None] * (np.eye(z.shape[-1]) - exact[..., None, :])
    r = softmax_relative_error(z)
    assert_close(
        impl.softmax_jacobian(z),
        formula,
        Bound(
            jacobian_error(exact, r) + jacobian_error(exact, np.full_like(r, EPS / 2)),
            "jacobian_error: S_i d_ij r_i + S_i S_j (r_i + r_j) + 2u (S_i d_ij + S_i S_j), "
            "for the implementation and for the formula evaluated from the rounded exact S",
        ),
        what="softmax_jacobian(z) against diag(S) - S S^T at the 40-digit S",
    )


@uses("softmax_jacobian")
@given(z=logits())
def test_jacobian_symmetric_and_annihilates_ones(impl, z):
    J = impl.softmax_jacobian(z)
    exact = exact_softmax(z)
    err = jacobian_error(exact, softmax_relative_error(z))
    assert_close(
        J,
        np.swapaxes(J, -1, -2),
        Bound(
            err + np.swapaxes(err, -1, -2),
            "each entry within jacobian_error of the exact, symmetric J",
        ),
        what="J against J^T",
    )
    n = z.shape[-1]
    assert_close(
        J.sum(-1),
        np.zeros(z.shape),
        Bound(
            err.sum(-1) + n * EPS * exact,
            "sum_j of jacobian_error, plus (N - 1) u sum_j |J_ij| <= (N - 1) u 2 S_i",
        ),
        what="J 1 (row sums)",
    )


@uses("softmax_jacobian")
@given(z=logits())
def test_jacobian_spectrum_and_trace(impl, z):
    J = impl.softmax_jacobian(z)
    exact = exact_softmax(z)
    n = z.shape[-1]
    err = jacobian_error(exact, softmax_relative_error(z))
    # Weyl: a perturbation E moves eigenvalues by <= |E|_2 <= |E|_F; eigvalsh is backward
    # stable with error about N u |J|_2 <= N u / 2; take N EPS for both with margin.
    eig_tol = np.sqrt((err**2).sum((-1, -2))) + n * EPS
    lam = np.linalg.eigvalsh(J)
    assert_close(
        np.clip(lam, 0.0, 0.5),
        lam,
        Bound(eig_tol[..., None], "Weyl with |jacobian_error|_F, plus N EPS for eigvalsh"),
        what="eigenvalues of J (in [0, 1/2])",
    )
    assert_close(
        np.trace(J, axis1=-2, axis2=-1),
        1.0 - (exact**2).sum(-1),
        Bound(
            np.trace(err, axis1=-2, axis2=-1) + (n + 1) * EPS,
            "sum of diagonal jacobian_error, plus N u for each of the two sums of N terms",
        ),
        what="trace J against 1 - |S|^2",
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

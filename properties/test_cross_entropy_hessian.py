"""Theorem: the Hessian of the softmax cross-entropy is the softmax Jacobian.

Let N >= 1, z in R^N, S = S(z) the softmax and y in R^N with y_i >= 0, sum_i y_i = 1. The
cross-entropy L(y, z) = -sum_i y_i log S_i has gradient S - y, hence

    d^2 L / dz^2 = diag(S) - S S^T = J(z),

independent of y. J is positive semi-definite with J 1 = 0 and, when every S_i > 0,
v^T J v = Var_S(v) > 0 for every v not constant: L is convex in z, with the ones vector
as its only flat direction.

Properties (oracle in brackets; tolerances are Bounds of properties.tolerance.softmax):

- the directional derivative of cross_entropy_grad along v equals softmax_jacobian(z) v:
  <v, J v> [central difference of <v, cross_entropy_grad(y, z + t v)>, probes v off the
  ones direction];
- L(z + t v) is convex in t: L(z + t v) - 2 L(z) + L(z - t v) >= 0 up to the rounding
  of the three losses [the law itself];
- the Hessian does not depend on y: grad(y1, z) - grad(y2, z) = y2 - y1 [the law itself].
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

from properties.audit import uses
from properties.oracles import exact_softmax
from properties.strategies import (
    labelled_logits,
    probe_directions,
    simplex_labels,
)
from properties.strategies.softmax import note_logit_regions
from properties.tolerance import (
    assert_close,
    assert_finite,
    convexity_bound,
    directional_difference,
    hessian_probe_bound,
    label_difference_bound,
    softmax_probe,
)


@uses("cross_entropy_grad", "softmax_jacobian")
@given(data=labelled_logits(), probe=st.data())
def test_gradient_derivative_is_softmax_jacobian(impl, data, probe):
    """<v, J v> from softmax_jacobian against the central difference of <v, grad L>."""
    y, z, kind = data
    v = probe.draw(probe_directions(z), label="v")
    note_logit_regions(z)
    J = np.asarray(impl.softmax_jacobian(z), dtype=np.float64)
    assert_finite(J, call="softmax_jacobian(z)")
    expected = float((v[..., :, None] * J * v[..., None, :]).sum())
    S = exact_softmax(z)
    step = softmax_probe(z, v, S)
    scale = step.rounding_scale + float(np.abs(v * y).sum()) / 2  # <v, y> rounds too
    fd = directional_difference(
        lambda x: float((v * np.asarray(impl.cross_entropy_grad(y, x))).sum()),
        z,
        v,
        step.h,
        scale,
    )
    note(
        f"<v, J v> from softmax_jacobian = {expected!r}; central difference of "
        f"<v, cross_entropy_grad> along v = {fd.estimate!r} (h = {step.h:.3e})"
    )
    assert_close(
        fd.estimate,
        expected,
        hessian_probe_bound(fd, y, v, J, S, z),
        what=f"central difference of <v, cross_entropy_grad(y, z + t v)> ({kind} labels) "
        "against <v, J v> from softmax_jacobian",
    )


@uses("cross_entropy")
@given(data=labelled_logits(), probe=st.data())
def test_loss_is_convex_along_lines(impl, data, probe):
    y, z, kind = data
    v = probe.draw(probe_directions(z), label="v")
    t = probe.draw(st.floats(1e-3, 1.0), label="t")
    note_logit_regions(z)
    points = (z + t * v, z, z - t * v)
    losses = tuple(np.asarray(impl.cross_entropy(y, x), dtype=np.float64) for x in points)
    for L in losses:
        assert_finite(L, call="cross_entropy(y, z + s v)")
    second = losses[0] - 2 * losses[1] + losses[2]
    note(f"L(z + t v), L(z), L(z - t v) = {losses!r}; second difference = {second!r}")
    bound = convexity_bound(y, points, losses)
    assert (second >= -bound.tol).all(), (
        f"cross_entropy is not convex along z + s v ({kind} labels): "
        f"L(z + t v) - 2 L(z) + L(z - t v) = {second!r} < -{bound.tol!r} ({bound.why})"
    )


@uses("cross_entropy_grad")
@given(data=labelled_logits(), other=st.data())
def test_hessian_is_independent_of_labels(impl, data, other):
    y1, z, kind = data
    y2 = other.draw(simplex_labels(z.shape), label="y2")
    g1, g2 = (np.asarray(impl.cross_entropy_grad(y, z), dtype=np.float64) for y in (y1, y2))
    for g in (g1, g2):
        assert_finite(g, call="cross_entropy_grad(y, z)")
    assert_close(
        g1 - g2,
        y2 - y1,
        label_difference_bound(y1, y2, z, g1, g2),
        what=f"cross_entropy_grad(y1, z) - cross_entropy_grad(y2, z) ({kind} y1) against y2 - y1",
    )

"""Theorem: the gradient of a 2-D convolution.

Let x have shape (B, W, H, C_in), w shape (k1, k2, C_in, C_out), b shape (C_out,), and
let y = conv2d(x, w, b) with stride (s1, s2) >= 1, zero padding (p1, p2) >= 0 and
dilation (d1, d2) >= 1, chosen so that the output (B, W', H', C_out) is non-empty:

    y[n, j, k, o] = b[o] + sum_{u, v, i} xpad[n, s1 j + d1 u, s2 k + d2 v, i] w[u, v, i, o].

For any dy of y's shape, the gradients of the scalar l = sum(dy * y) are

* dx = the transposed (adjoint) convolution of dy with the dilated kernel: every output
  entry sends dy[n, j, k, :] @ w[u, v].T back to the input entry its tap (u, v) read,
  xpad[n, s1 j + d1 u, s2 k + d2 v, :]; the padding is cropped, so dx has x's shape, and
  input entries that no window reads (trailing rows and columns the stride skips) get 0;
* dw[u, v] = the correlation of the padded input with dy:
  sum_{n, j, k} xpad[n, s1 j + d1 u, s2 k + d2 v, :]^T dy[n, j, k, :];
* db = the sum of dy over batch and space.

Equivalently (y is bilinear in (x, w) and affine in b): <conv2d(x, w), dy> = <x, dx> =
<w, dw> and <b, db> = sum(dy * b).

Properties (contract names called through ``impl``):

* values against an independent oracle: the definition looped (index arithmetic, no
  padding, no flipped kernel);
* the adjoint identities <conv2d(x, w), dy> = <x, dx> = <w, dw>, with conv2d from SciPy,
  and the bias identity <b, db> = sum(dy * b);
* directional differences of ``conv2d`` along random directions in x, w and b: conv2d is
  linear in each, so the central difference is exact up to rounding;
* dx has x's shape when the stride leaves trailing rows and columns unread, and is
  exactly 0 there;
* a 1x1 kernel reduces to matrix products over channels (dilation then has no effect);
* the reference rejects invalid input with a ValueError naming the argument (not audited).

Kernel, stride, padding and dilation are drawn per axis (asymmetric). Tolerances
(``properties.tolerance.conv_backward``): the pass/fail bound is normwise backward
stability (an FFT or Winograd backward pass passes it); the componentwise bound of a
direct sum is the recorded grade.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from properties.audit import uses
from properties.oracles import conv2d_backward_definition, conv2d_backward_scipy, conv2d_scipy
from properties.strategies import (
    ConvBackwardProblem,
    conv2d_backward_problems,
    conv2d_configs,
)
from properties.tolerance import (
    Bound,
    ConvGradientBounds,
    assert_close,
    assert_shape,
    combined_bound,
    conv2d_bound,
    conv_backward_bounds,
    conv_backward_componentwise,
    conv_backward_roundings,
    higham_gamma,
    inner_product_tol,
    linear_difference_step,
    linear_difference_tol,
)

NAMES = ("dx", "dw", "db")


def _call(problem: ConvBackwardProblem) -> str:
    c = problem.config
    return (
        f"conv2d_backward(dy {c.output_shape}, x {c.input_shape}, w {c.weight_shape}, "
        f"stride={c.stride}, padding={c.padding}, dilation={c.dilation})"
    )


def _backward(impl, problem: ConvBackwardProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Call the implementation and check the three shapes before any value is compared."""
    c = problem.config
    grads = impl.conv2d_backward(problem.dy, problem.x, problem.w, **c.geometry())
    assert isinstance(grads, tuple) and len(grads) == 3, (
        f"{_call(problem)} returned {type(grads).__name__} of length "
        f"{len(grads) if isinstance(grads, tuple) else '?'}, expected (dx, dw, db)"
    )
    for name, grad, shape in zip(
        NAMES, grads, (c.input_shape, c.weight_shape, (c.C_out,)), strict=True
    ):
        assert_shape(grad, shape, call=f"{name} of {_call(problem)}")
    return grads


def _bounds(problem: ConvBackwardProblem, grads) -> ConvGradientBounds:
    c = problem.config
    return conv_backward_bounds(problem.dy, problem.x, problem.w, grads, c.padding, c.dilation)


def _componentwise(problem: ConvBackwardProblem, sizes) -> ConvGradientBounds:
    c = problem.config
    roundings = conv_backward_roundings(
        c.input_shape, c.weight_shape, c.output_shape, c.padding, c.dilation
    )
    return conv_backward_componentwise(sizes, roundings)


def _magnitudes(problem: ConvBackwardProblem):
    """``sum |terms|`` of every gradient entry (SciPy's route on absolute values)."""
    dy, x, w = (np.abs(a) for a in (problem.dy, problem.x, problem.w))
    return conv2d_backward_scipy(dy, x, w, **problem.config.geometry())


# --- values against the definition ---------------------------------------------------


@uses("conv2d_backward")
@given(conv2d_backward_problems())
def test_gradients_match_the_definition_loop(impl, problem: ConvBackwardProblem) -> None:
    grads = _backward(impl, problem)
    expected, sizes = conv2d_backward_definition(
        problem.dy, problem.x, problem.w, **problem.config.geometry()
    )
    normwise, oracle = _bounds(problem, grads), _componentwise(problem, sizes)
    for name, observed, exact, bound, tight in zip(
        NAMES, grads, expected, normwise, oracle, strict=True
    ):
        assert_close(
            observed,
            exact,
            combined_bound(bound, tight),
            what=f"{name} of {_call(problem)} vs the definition loop",
            componentwise=combined_bound(tight, tight),
        )


# --- adjoint identities ------------------------------------------------------------


@uses("conv2d_backward")
@given(conv2d_backward_problems())
def test_adjoint_identities(impl, problem: ConvBackwardProblem) -> None:
    """<conv2d(x, w), dy> = <x, dx> = <w, dw>: conv2d is bilinear in (x, w)."""
    config, x, w, dy = problem.config, problem.x, problem.w, problem.dy
    dx, dw, _ = grads = _backward(impl, problem)
    y = conv2d_scipy(x, w, None, **config.geometry())
    y_error = higham_gamma(config.K) * conv2d_scipy(np.abs(x), np.abs(w), None, **config.geometry())
    forward = math.fsum((dy * y).ravel())
    forward_tol = inner_product_tol(dy, y, y_error)
    note(f"<conv2d(x, w), dy> = {forward!r} (SciPy, direct), within {forward_tol:.3e}")
    normwise, tight = _bounds(problem, grads), _componentwise(problem, _magnitudes(problem))
    for name, a, grad, bound, grade in (
        ("x", x, dx, normwise.dx, tight.dx),
        ("w", w, dw, normwise.dw, tight.dw),
    ):
        pair = math.fsum((a * grad).ravel())
        assert_close(
            pair,
            forward,
            Bound(
                inner_product_tol(a, grad, bound.tol) + forward_tol,
                f"<{name}, d{name}> within sum|{name}| tol(d{name}) ({bound.why}) "
                f"+ products' rounding; <conv2d(x, w), dy> within sum|dy| gamma_K |x|*|w|",
            ),
            what=f"<{name}, d{name}> vs <conv2d(x, w), dy>, d{name} from {_call(problem)}",
            componentwise=Bound(inner_product_tol(a, grad, grade.tol) + forward_tol, grade.why),
        )


@uses("conv2d_backward")
@given(conv2d_backward_problems())
def test_bias_gradient_identity(impl, problem: ConvBackwardProblem) -> None:
    """<b, db> = sum(dy * b): y is b plus a function of (x, w), so db pairs with b."""
    b, dy = problem.b, problem.dy
    _, _, db = grads = _backward(impl, problem)
    spread = np.broadcast_to(b, dy.shape)
    exact = math.fsum((dy * spread).ravel())
    bound = _bounds(problem, grads).db
    grade = _componentwise(problem, _magnitudes(problem)).db
    tol_exact = inner_product_tol(dy, spread, 0.0)
    assert_close(
        math.fsum(b * db),
        exact,
        Bound(inner_product_tol(b, db, bound.tol) + tol_exact, f"sum|b| tol(db) ({bound.why})"),
        what=f"<b, db> vs sum(dy * b), db from {_call(problem)}",
        componentwise=Bound(inner_product_tol(b, db, grade.tol) + tol_exact, grade.why),
    )


# --- directional differences of conv2d ------------------------------------------------


def _direction(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """A standard normal direction: never zero, no structure the gradient could hide in."""
    return np.random.default_rng(seed).standard_normal(shape)


@uses("conv2d", "conv2d_backward")
@pytest.mark.parametrize("wrt", ["x", "w", "b"])
@given(conv2d_backward_problems(), st.integers(0, 2**32 - 1))
def test_directional_differences_of_conv2d(impl, wrt: str, problem, seed: int) -> None:
    """(l(p + h v) - l(p - h v)) / 2h = <dp, v> for l = sum(dy * conv2d(x, w, b)), p = x, w, b.

    conv2d is linear in each of x, w, b, so the central difference has no truncation
    error: any gap is rounding, bounded by the normwise error of both conv2d calls (the
    implementation's own forward) and of dp.
    """
    config, dy = problem.config, problem.dy
    point = {"x": problem.x, "w": problem.w, "b": problem.b}
    v = _direction(seed, point[wrt].shape)
    h = linear_difference_step(point[wrt], v)
    note(f"direction v = {v!r}, step h = {h!r} (a power of two)")
    evaluations = []
    for sign in (1.0, -1.0):
        args = {**point, wrt: point[wrt] + sign * h * v}
        y = impl.conv2d(args["x"], args["w"], args["b"], **config.geometry())
        assert_shape(y, config.output_shape, call=f"conv2d at {wrt} {sign:+.0f} h v")
        # one normwise error for the computed conv2d, one more for its input fl(p + h v)
        # (a rounding of p, which moves y by u M <= c u M): the forward model, twice
        y_tol = conv2d_bound(args["x"], args["w"], args["b"], **config.geometry()).tol
        evaluations.append((math.fsum((dy * y).ravel()), inner_product_tol(dy, y, y_tol)))
    (l_plus, tol_plus), (l_minus, tol_minus) = evaluations
    estimate = (l_plus - l_minus) / (2 * h)
    grads = _backward(impl, problem)
    index = ("x", "w", "b").index(wrt)
    grad, bound = grads[index], _bounds(problem, grads)[index]
    predicted = math.fsum((v * grad).ravel())
    note(f"l(+) = {l_plus!r}, l(-) = {l_minus!r}, difference quotient {estimate!r}")
    event(f"<d{wrt}, v> = 0" if predicted == 0 else f"<d{wrt}, v> != 0")
    assert_close(
        predicted,
        estimate,
        Bound(
            inner_product_tol(v, grad, bound.tol)
            + linear_difference_tol(tol_plus, tol_minus, h, estimate),
            f"sum|v| tol(d{wrt}) ({bound.why}) + the normwise error of two conv2d calls / 2h",
        ),
        what=(
            f"<d{wrt}, v> from {_call(problem)} vs the central difference of "
            f"sum(dy * conv2d(...)) along v in {wrt}, h = {h!r}"
        ),
    )


# --- structure -----------------------------------------------------------------------


@st.composite
def problems_with_unread_tails(draw: st.DrawFn) -> ConvBackwardProblem:
    """Stride >= 2 and sizes widened so that trailing rows AND columns are read by no window.

    Along an axis the last window ends at padded index s (n' - 1) + d (k - 1); widening
    the input by delta < s - leftover, ``leftover = (n + 2p - span) % s``, keeps n' and
    leaves ``leftover + delta >= 1`` trailing rows unread.
    """
    config = draw(conv2d_configs(stride=st.integers(2, 3)), label="config")
    widened = {}
    for size, k, s, p, d in (
        ("W", config.kernel_size[0], config.stride[0], config.padding[0], config.dilation[0]),
        ("H", config.kernel_size[1], config.stride[1], config.padding[1], config.dilation[1]),
    ):
        n = getattr(config, size)
        leftover = (n + 2 * p - d * (k - 1) - 1) % s
        widened[size] = n + draw(
            st.integers(max(0, 1 - leftover), s - 1 - leftover), label=f"{size} widened by"
        )
    return draw(conv2d_backward_problems(st.just(config._replace(**widened))), label="problem")


@uses("conv2d_backward")
@given(problems_with_unread_tails())
def test_dx_is_zero_on_rows_and_columns_no_window_reads(impl, problem) -> None:
    config = problem.config
    dx, _, _ = _backward(impl, problem)  # x's shape, checked there
    (k1, k2), (s1, s2) = config.kernel_size, config.stride
    (p1, p2), (d1, d2) = config.padding, config.dilation
    last_row = s1 * (config.W_out - 1) + d1 * (k1 - 1) - p1  # in x's coordinates
    last_col = s2 * (config.H_out - 1) + d2 * (k2 - 1) - p2
    event(f"unread trailing rows: {config.W - 1 - last_row}, columns: {config.H - 1 - last_col}")
    tails = ((1, last_row, dx[:, last_row + 1 :]), (2, last_col, dx[:, :, last_col + 1 :]))
    for axis, last, tail in tails:
        nonzero = np.argwhere(tail != 0)
        assert nonzero.size == 0, (
            f"{_call(problem)}: dx = {tail[tuple(nonzero[0])]!r} at index "
            f"{tuple(int(i) for i in nonzero[0])} of its trailing block along axis {axis}, "
            f"but no window of conv2d reads past index {last} along that axis, so those "
            f"entries of x do not affect y: their gradient is exactly 0"
        )


@uses("conv2d_backward")
@given(conv2d_backward_problems(conv2d_configs(kernel=1)))
def test_one_by_one_kernel_is_matrix_products(impl, problem: ConvBackwardProblem) -> None:
    """A 1x1 kernel: y = xpad[:, ::s1, ::s2] @ w[0, 0] + b, a matrix product per position.

    Hence, with X the (B W' H', C_in) matrix of sampled input rows and DY the
    (B W' H', C_out) matrix of dy: dx scatters DY @ w[0, 0].T back to the sampled
    positions (zero elsewhere), dw[0, 0] = X.T @ DY, db = 1.T @ DY. Dilation is drawn
    but cannot matter.
    """
    config, dy = problem.config, problem.dy
    (s1, s2), (p1, p2) = config.stride, config.padding
    grads = _backward(impl, problem)
    xpad = np.pad(problem.x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    X = xpad[:, ::s1, ::s2].reshape(-1, config.C_in)
    DY = dy.reshape(-1, config.C_out)
    kernel = problem.w[0, 0]

    def scatter(rows: np.ndarray) -> np.ndarray:
        dxpad = np.zeros(xpad.shape)
        dxpad[:, ::s1, ::s2] = rows.reshape(config.B, config.W_out, config.H_out, -1)
        return dxpad[:, p1 : p1 + config.W, p2 : p2 + config.H]

    expected = (scatter(DY @ kernel.T), (X.T @ DY)[None, None], np.ones(len(DY)) @ DY)
    sizes = (
        scatter(np.abs(DY) @ np.abs(kernel).T),
        (np.abs(X).T @ np.abs(DY))[None, None],
        np.ones(len(DY)) @ np.abs(DY),
    )
    normwise, tight = _bounds(problem, grads), _componentwise(problem, sizes)
    for name, observed, exact, bound, grade in zip(
        NAMES, grads, expected, normwise, tight, strict=True
    ):
        assert_close(
            observed,
            exact,
            combined_bound(bound, grade),
            what=f"{name} of {_call(problem)} vs the 1x1 matrix products",
            componentwise=combined_bound(grade, grade),
        )


# --- the reference's input validation (not audited) -----------------------------------

# The bad-input table is in the contract record (reference/conv_backward.py: CONTRACT),
# run by properties/meta/test_contract.py.

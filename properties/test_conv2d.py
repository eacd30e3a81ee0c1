"""Theorem (Problem 1, values): what a Conv2D layer computes.

Let x have shape (B, W, H, C_in) (channels-last), w shape (k1, k2, C_in, C_out), bias b
shape (C_out,), with stride (s1, s2), zero padding (p1, p2) and dilation (d1, d2) as in
``test_conv_shape.py`` (whose theorem gives the output shape (B, W', H', C_out)). Then

    y[b, i, j, o] = b[o] + sum_{u, v, c} xpad[b, s1 i + d1 u, s2 j + d2 v, c] w[u, v, c, o]

(u < k1, v < k2, c < C_in), with xpad the input with p1 zeros on both sides along W
and p2 along H (cross-correlation: the kernel is not flipped). Consequently y is
linear in x and in w; the bias adds per output channel; padding p is ``np.pad`` then
padding 0; stride s keeps every s-th entry of the stride-1 output; a 1x1 kernel is a
matrix product over channels; without padding, dropping the first s t input rows drops
the first t output rows (translation equivariance).

Properties (``conv2d`` called through ``impl``), each on configurations and arrays from
``conv2d_problems`` (dense arrays, arrays with exact zeros, and cancelling ones):

* values against independent oracles: a loop from the definition (index checks instead
  of padding) and ``scipy.signal.correlate`` (direct method, per channel pair);
* the laws above, which pin values without an oracle.

Accuracy (``properties/tolerance/conv.py``): pass/fail is the normwise backward-stability
bound, a few units of roundoff times the 1-norms of each whole input plane and kernel,
so FFT and Winograd convolutions and flush-to-zero arithmetic pass; the componentwise
bound ``2 gamma_(K+1) sum |terms|`` of a direct sum is the recorded accuracy grade.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

from properties.audit import uses
from properties.oracles import conv2d_definition, conv2d_scipy
from properties.strategies import LINEAR_SCALARS, ConvProblem, conv2d_arrays, conv2d_problems
from properties.tolerance import (
    assert_close,
    assert_shape,
    conv2d_bound,
    conv2d_componentwise_bound,
    conv2d_linearity_bound,
    conv2d_linearity_componentwise_bound,
)


def _called(impl, problem: ConvProblem, b: np.ndarray | None) -> np.ndarray:
    """``impl.conv2d`` on the problem, its shape checked against the shape theorem."""
    config = problem.config
    y = impl.conv2d(problem.x, problem.w, b, **config.geometry())
    assert_shape(y, config.output_shape, call=config.call())
    return y


# --- values against independent oracles -------------------------------------------------


@uses("conv2d")
@given(conv2d_problems(), st.booleans())
def test_values_match_the_definition_loop(impl, problem: ConvProblem, with_bias: bool) -> None:
    config, x, w, b = problem
    b = b if with_bias else None
    expected, terms = conv2d_definition(x, w, b, **config.geometry())
    note(f"exact (definition loop): {expected.ravel()[:6]}...; sum|terms| max {terms.max():.3g}")
    assert_close(
        _called(impl, problem, b),
        expected,
        conv2d_bound(x, w, b, **config.geometry()),
        componentwise=conv2d_componentwise_bound(terms, config.K),
        what=f"{config.call()} vs the definition loop",
    )


@uses("conv2d")
@given(conv2d_problems(), st.booleans())
def test_values_match_scipy_correlate(impl, problem: ConvProblem, with_bias: bool) -> None:
    config, x, w, b = problem
    b = b if with_bias else None
    terms = conv2d_definition(x, w, b, **config.geometry())[1]
    assert_close(
        _called(impl, problem, b),
        conv2d_scipy(x, w, b, **config.geometry()),
        conv2d_bound(x, w, b, **config.geometry()),
        componentwise=conv2d_componentwise_bound(terms, config.K),
        what=f"{config.call()} vs scipy.signal.correlate",
    )


# --- laws ------------------------------------------------------------------------------


@uses("conv2d")
@given(st.data())
def test_linear_in_x(impl, data) -> None:
    config, x1, w, _ = data.draw(conv2d_problems(), label="problem")
    x2 = data.draw(conv2d_arrays(config), label="x2 (and unused w, b)").x
    a = data.draw(LINEAR_SCALARS, label="a")
    geometry = config.geometry()
    lhs = impl.conv2d(a * x1 + x2, w, None, **geometry)
    rhs = a * impl.conv2d(x1, w, None, **geometry) + impl.conv2d(x2, w, None, **geometry)
    terms = (
        abs(a) * conv2d_definition(x1, w, **geometry)[1] + conv2d_definition(x2, w, **geometry)[1]
    )
    assert_close(
        lhs,
        rhs,
        conv2d_linearity_bound(abs(a) * np.abs(x1) + np.abs(x2), np.abs(w), **geometry),
        componentwise=conv2d_linearity_componentwise_bound(terms, config.K),
        what=f"conv(a x1 + x2) vs a conv(x1) + conv(x2), a = {a!r}, {config.call()}",
    )


@uses("conv2d")
@given(st.data())
def test_linear_in_w(impl, data) -> None:
    config, x, w1, _ = data.draw(conv2d_problems(), label="problem")
    w2 = data.draw(conv2d_arrays(config), label="w2 (and unused x, b)").w
    a = data.draw(LINEAR_SCALARS, label="a")
    geometry = config.geometry()
    lhs = impl.conv2d(x, a * w1 + w2, None, **geometry)
    rhs = a * impl.conv2d(x, w1, None, **geometry) + impl.conv2d(x, w2, None, **geometry)
    terms = (
        abs(a) * conv2d_definition(x, w1, **geometry)[1] + conv2d_definition(x, w2, **geometry)[1]
    )
    assert_close(
        lhs,
        rhs,
        conv2d_linearity_bound(np.abs(x), abs(a) * np.abs(w1) + np.abs(w2), **geometry),
        componentwise=conv2d_linearity_componentwise_bound(terms, config.K),
        what=f"conv(x, a w1 + w2) vs a conv(x, w1) + conv(x, w2), a = {a!r}, {config.call()}",
    )


@uses("conv2d")
@given(conv2d_problems())
def test_bias_adds_per_output_channel(impl, problem: ConvProblem) -> None:
    config, x, w, b = problem
    terms = conv2d_definition(x, w, b, **config.geometry())[1]
    assert_close(
        _called(impl, problem, b),
        _called(impl, problem, None) + b,
        conv2d_bound(x, w, b, **config.geometry()),
        componentwise=conv2d_componentwise_bound(terms, config.K),
        what=f"conv(x, w, b) vs conv(x, w) + b[o], {config.call()}",
    )


@uses("conv2d")
@given(conv2d_problems())
def test_padding_equals_explicit_zero_padding(impl, problem: ConvProblem) -> None:
    config, x, w, b = problem
    (p1, p2), geometry = config.padding, config.geometry()
    padded = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    terms = conv2d_definition(x, w, b, **geometry)[1]
    assert_close(
        _called(impl, problem, b),
        impl.conv2d(padded, w, b, **{**geometry, "padding": (0, 0)}),
        conv2d_bound(x, w, b, **geometry),
        componentwise=conv2d_componentwise_bound(terms, config.K),
        what=f"conv(x, padding=p) vs conv(np.pad(x, p), padding=0), {config.call()}",
    )


@uses("conv2d")
@given(conv2d_problems())
def test_stride_subsamples_the_stride_one_output(impl, problem: ConvProblem) -> None:
    config, x, w, b = problem
    (s1, s2), geometry = config.stride, config.geometry()
    dense = impl.conv2d(x, w, b, **{**geometry, "stride": (1, 1)})
    terms = conv2d_definition(x, w, b, **geometry)[1]
    assert_close(
        _called(impl, problem, b),
        dense[:, ::s1, ::s2],
        conv2d_bound(x, w, b, **geometry),
        componentwise=conv2d_componentwise_bound(terms, config.K),
        what=f"conv(x, stride=s) vs conv(x, stride=1)[:, ::s1, ::s2], {config.call()}",
    )


@uses("conv2d")
@given(conv2d_problems(kernel=1, padding=st.integers(0, 2)))
def test_one_by_one_kernel_is_a_matmul_over_channels(impl, problem: ConvProblem) -> None:
    config, x, w, b = problem
    (s1, s2), (p1, p2) = config.stride, config.padding
    taps = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))[:, ::s1, ::s2, :]
    assert_close(
        _called(impl, problem, b),
        taps @ w[0, 0] + b,
        conv2d_bound(x, w, b, **config.geometry()),
        componentwise=conv2d_componentwise_bound(
            np.abs(taps) @ np.abs(w[0, 0]) + np.abs(b), config.K
        ),
        what=f"1x1 conv vs xpad[:, ::s1, ::s2] @ w[0, 0] + b, {config.call()}",
    )


@uses("conv2d")
@given(st.data())
def test_translation_equivariance(impl, data) -> None:
    config, x, w, b = data.draw(conv2d_problems(padding=0), label="problem")
    t1 = data.draw(st.integers(0, config.W_out - 1), label="t1")
    t2 = data.draw(st.integers(0, config.H_out - 1), label="t2")
    (s1, s2), geometry = config.stride, config.geometry()
    # Without padding, dropping the first s t input rows drops exactly the first t output
    # rows: every remaining window reads the same inputs. Exact at the borders, unlike a roll.
    shifted = impl.conv2d(x[:, s1 * t1 :, s2 * t2 :], w, b, **geometry)
    whole = impl.conv2d(x, w, b, **geometry)
    terms = conv2d_definition(x, w, b, **geometry)[1][:, t1:, t2:]
    assert_close(
        shifted,
        whole[:, t1:, t2:],
        conv2d_bound(x, w, b, **geometry),  # the cropped plane's norms are smaller
        componentwise=conv2d_componentwise_bound(terms, config.K),
        what=f"conv(x[:, s1 t1:, s2 t2:]) vs conv(x)[:, t1:, t2:], t = {(t1, t2)}, {config}",
    )

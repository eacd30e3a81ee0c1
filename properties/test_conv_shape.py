"""Theorem (Problem 1): the output shape of a Conv2D layer.

Let x have shape (B, W, H, C_in) (channels-last) and let a Conv2D layer have C_out
output channels, kernel_size (k1, k2), stride (s1, s2), zero padding (p1, p2) (p1 zeros
on both sides along W, p2 on both sides along H) and dilation (d1, d2), with all sizes,
kernel sizes, strides and dilations >= 1 and paddings >= 0. Its output

    y[b, i, j, o] = bias[o] + sum_{u, v, c} xpad[b, s1 i + d1 u, s2 j + d2 v, c] w[u, v, c, o]

(u < k1, v < k2, c < C_in: the cross-correlation of the zero-padded input xpad) is
defined at every (i, j) whose dilated window fits inside xpad, and has shape (B, W', H', C_out) with

    W' = floor((W + 2 p1 - d1 (k1 - 1) - 1) / s1) + 1,
    H' = floor((H + 2 p2 - d2 (k2 - 1) - 1) / s2) + 1,

provided both are >= 1 (otherwise the output is empty). For d1 = d2 = 1 this is the
answer key's W' = floor((W + 2 p1 - k1) / s1 + 1): adding the integer 1 commutes with
floor.

Properties (contract names called through ``impl``):

* shape: the formula, ``conv2d_output_shape`` and the shape ``conv2d`` returns agree on
  every valid configuration, and the definition's own count of fitting windows agrees with
  the formula; ``conv2d_output_shape`` raises ValueError on every empty configuration.
* values, against independent oracles: a slow loop from the definition (explicit index
  checks instead of padding) and ``scipy.signal.correlate`` (direct method, per channel
  pair, on the ``np.pad``-ed input; dilation by a zero-inserted kernel, stride by
  subsampling).
* laws that pin values without an oracle: linear in x and in w; the bias adds per
  channel; padding p equals ``np.pad`` then p = 0; stride s equals the stride-1 output
  subsampled ``[::s1, ::s2]``; a 1x1 kernel is a matrix product over channels;
  translation equivariance (cropping s*t input rows crops t output rows).
* the answer key's form equals the theorem's for d = 1 (exact rational arithmetic).
* the reference rejects invalid input with a ValueError naming the argument (not audited).

Tolerances: every output entry is a float64 sum of K = k1 k2 C_in products (+ bias), so
two computations differ by at most 2 gamma_{K+1} sum |terms| (``tolerance.gamma``); the
sum of |terms| comes from the loop oracle applied to |x| and |w|.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference.conv
from properties.audit import uses
from properties.oracles import conv2d_definition, conv2d_scipy
from properties.strategies import (
    CONV_VALUES,
    ConvArrays,
    ConvConfig,
    Size,
    conv2d_arrays,
    conv2d_configs,
    empty_conv2d_configs,
)
from properties.tolerance import Bound, assert_close, conv_difference_tol, conv_linearity_tol


def _abs_sum(config: ConvConfig, x: np.ndarray, w: np.ndarray, b=None) -> np.ndarray:
    """``sum |terms|`` of every output entry: the size of the numbers rounding acts on."""
    return conv2d_definition(x, w, b, **config.geometry())[1]


# --- Strategies local to this module -----------------------------------------------


@st.composite
def configs_and_arrays(draw: st.DrawFn, **sizes: Size) -> tuple[ConvConfig, ConvArrays]:
    """A valid configuration, then dense arrays for it."""
    config = draw(conv2d_configs(**sizes), label="config")
    return config, draw(conv2d_arrays(config), label="arrays")


# --- (a) shape ---------------------------------------------------------------------


def theorem_output_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """The theorem, in exact integer arithmetic (Python's // floors)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@uses("conv2d_output_shape", "conv2d")
@given(conv2d_configs())
def test_output_shape_formula_function_and_conv2d_agree(impl, config: ConvConfig) -> None:
    k, s, p, d = config.kernel_size, config.stride, config.padding, config.dilation
    expected = (
        config.B,
        theorem_output_size(config.W, k[0], s[0], p[0], d[0]),
        theorem_output_size(config.H, k[1], s[1], p[1], d[1]),
        config.C_out,
    )
    shape = tuple(
        int(n) for n in impl.conv2d_output_shape(config.input_shape, config.C_out, k, s, p, d)
    )
    assert shape == expected, f"conv2d_output_shape {shape}, theorem {expected} for {config}"
    # Values are irrelevant to the shape; distinct ones keep an implementation honest.
    x = np.arange(math.prod(config.input_shape), dtype=np.float64).reshape(config.input_shape)
    w = np.ones(config.weight_shape)
    actual = impl.conv2d(x, w, None, s, p, d).shape
    assert actual == expected, f"conv2d returned shape {actual}, theorem {expected} for {config}"
    # The definition counts the windows that fit, independently of the formula.
    counted = conv2d_definition(
        np.zeros((1, config.W, config.H, 1)), np.zeros((*k, 1, 1)), None, s, p, d
    )
    assert counted[0].shape[1:3] == expected[1:3], "the formula disagrees with the definition"


@uses("conv2d_output_shape")
@given(empty_conv2d_configs())
def test_output_shape_rejects_empty_output(impl, config: ConvConfig) -> None:
    args = (config.input_shape, config.C_out, config.kernel_size, config.stride)
    with pytest.raises(ValueError):
        result = impl.conv2d_output_shape(*args, config.padding, config.dilation)
        pytest.fail(
            f"empty output (W' = {config.W_out}, H' = {config.H_out}) but returned {result}"
        )


# --- (b) values against independent oracles ------------------------------------------


def _why(K: int) -> str:
    return f"2 gamma_(K+1) sum|terms|, K = k1 k2 C_in = {K}, plus K+1 underflow terms"


@uses("conv2d")
@given(configs_and_arrays(), st.booleans())
def test_values_match_the_definition_loop(impl, case, with_bias: bool) -> None:
    config, (x, w, b) = case
    b = b if with_bias else None
    expected, size = conv2d_definition(x, w, b, **config.geometry())
    observed = impl.conv2d(x, w, b, **config.geometry())
    assert_close(
        observed,
        expected,
        Bound(conv_difference_tol(size, config.K + 1), _why(config.K)),
        what=f"conv2d vs the definition loop, {config}",
    )


@uses("conv2d")
@given(configs_and_arrays(), st.booleans())
def test_values_match_scipy_correlate(impl, case, with_bias: bool) -> None:
    config, (x, w, b) = case
    b = b if with_bias else None
    expected = conv2d_scipy(x, w, b, **config.geometry())
    observed = impl.conv2d(x, w, b, **config.geometry())
    assert_close(
        observed,
        expected,
        Bound(conv_difference_tol(_abs_sum(config, x, w, b), config.K + 1), _why(config.K)),
        what=f"conv2d vs scipy.signal.correlate, {config}",
    )


# --- (c) laws ------------------------------------------------------------------------

#: Scalars for linear combinations: 0, or 1/4 <= |a| <= 4 (no underflow from scaling).
SCALARS = st.one_of(st.just(0.0), st.floats(0.25, 4.0), st.floats(-4.0, -0.25))


def _array(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=CONV_VALUES, fill=st.nothing())


@uses("conv2d")
@given(st.data())
def test_linear_in_x(impl, data) -> None:
    config, (x1, w, _) = data.draw(configs_and_arrays(), label="config, x1, w")
    x2 = data.draw(_array(config.input_shape), label="x2")
    a = data.draw(SCALARS, label="a")
    geometry = config.geometry()
    lhs = impl.conv2d(a * x1 + x2, w, None, **geometry)
    rhs = a * impl.conv2d(x1, w, None, **geometry) + impl.conv2d(x2, w, None, **geometry)
    size = abs(a) * _abs_sum(config, x1, w) + _abs_sum(config, x2, w)
    assert_close(
        lhs,
        rhs,
        Bound(
            conv_linearity_tol(size, config.K),
            "(2 gamma_K + 3 EPS)(|a| A1 + A2), see conv_linearity_tol",
        ),
        what=f"conv(a x1 + x2) vs a conv(x1) + conv(x2), a = {a!r}, {config}",
    )


@uses("conv2d")
@given(st.data())
def test_linear_in_w(impl, data) -> None:
    config, (x, w1, _) = data.draw(configs_and_arrays(), label="config, x, w1")
    w2 = data.draw(_array(config.weight_shape), label="w2")
    a = data.draw(SCALARS, label="a")
    geometry = config.geometry()
    lhs = impl.conv2d(x, a * w1 + w2, None, **geometry)
    rhs = a * impl.conv2d(x, w1, None, **geometry) + impl.conv2d(x, w2, None, **geometry)
    size = abs(a) * _abs_sum(config, x, w1) + _abs_sum(config, x, w2)
    assert_close(
        lhs,
        rhs,
        Bound(
            conv_linearity_tol(size, config.K),
            "(2 gamma_K + 3 EPS)(|a| A1 + A2), see conv_linearity_tol",
        ),
        what=f"conv(x, a w1 + w2) vs a conv(x, w1) + conv(x, w2), a = {a!r}, {config}",
    )


@uses("conv2d")
@given(configs_and_arrays())
def test_bias_adds_per_output_channel(impl, case) -> None:
    config, (x, w, b) = case
    with_bias = impl.conv2d(x, w, b, **config.geometry())
    without = impl.conv2d(x, w, None, **config.geometry())
    assert_close(
        with_bias,
        without + b,
        Bound(conv_difference_tol(_abs_sum(config, x, w, b), config.K + 1), _why(config.K)),
        what=f"conv(x, w, b) vs conv(x, w) + b[o], {config}",
    )


@uses("conv2d")
@given(configs_and_arrays())
def test_padding_equals_explicit_zero_padding(impl, case) -> None:
    config, (x, w, b) = case
    (p1, p2), geometry = config.padding, config.geometry()
    padded = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    expected = impl.conv2d(padded, w, b, **{**geometry, "padding": (0, 0)})
    assert_close(
        impl.conv2d(x, w, b, **geometry),
        expected,
        Bound(conv_difference_tol(_abs_sum(config, x, w, b), config.K + 1), _why(config.K)),
        what=f"conv(x, padding=p) vs conv(np.pad(x, p), padding=0), {config}",
    )


@uses("conv2d")
@given(configs_and_arrays())
def test_stride_subsamples_the_stride_one_output(impl, case) -> None:
    config, (x, w, b) = case
    (s1, s2), geometry = config.stride, config.geometry()
    dense = impl.conv2d(x, w, b, **{**geometry, "stride": (1, 1)})
    assert_close(
        impl.conv2d(x, w, b, **geometry),
        dense[:, ::s1, ::s2],
        Bound(conv_difference_tol(_abs_sum(config, x, w, b), config.K + 1), _why(config.K)),
        what=f"conv(x, stride=s) vs conv(x, stride=1)[:, ::s1, ::s2], {config}",
    )


@uses("conv2d")
@given(configs_and_arrays(kernel=1, padding=st.integers(0, 2)))
def test_one_by_one_kernel_is_a_matmul_over_channels(impl, case) -> None:
    config, (x, w, b) = case
    (s1, s2), (p1, p2) = config.stride, config.padding
    padded = np.pad(x, ((0, 0), (p1, p1), (p2, p2), (0, 0)))
    expected = padded[:, ::s1, ::s2, :] @ w[0, 0] + b
    size = np.abs(padded[:, ::s1, ::s2, :]) @ np.abs(w[0, 0]) + np.abs(b)
    assert_close(
        impl.conv2d(x, w, b, **config.geometry()),
        expected,
        Bound(conv_difference_tol(size, config.C_in + 1), _why(config.C_in)),
        what=f"1x1 conv vs xpad[:, ::s1, ::s2] @ w[0, 0] + b, {config}",
    )


@uses("conv2d")
@given(st.data())
def test_translation_equivariance(impl, data) -> None:
    config, (x, w, b) = data.draw(configs_and_arrays(padding=0), label="config, arrays")
    t1 = data.draw(st.integers(0, config.W_out - 1), label="t1")
    t2 = data.draw(st.integers(0, config.H_out - 1), label="t2")
    (s1, s2), geometry = config.stride, config.geometry()
    # Without padding, dropping the first s t input rows drops exactly the first t output
    # rows: every remaining window reads the same inputs. Exact at the borders, unlike a roll.
    shifted = impl.conv2d(x[:, s1 * t1 :, s2 * t2 :], w, b, **geometry)
    whole = impl.conv2d(x, w, b, **geometry)
    assert_close(
        shifted,
        whole[:, t1:, t2:],
        Bound(
            conv_difference_tol(_abs_sum(config, x, w, b)[:, t1:, t2:], config.K + 1),
            _why(config.K),
        ),
        what=f"conv(x[:, s1 t1:, s2 t2:]) vs conv(x)[:, t1:, t2:], t = ({t1}, {t2}), {config}",
    )


# --- The answer key's form (not audited: a statement about the formula) --------------


@given(st.one_of(conv2d_configs(dilation=1), empty_conv2d_configs(dilation=1)))
def test_answer_key_form_equals_theorem_for_unit_dilation(config: ConvConfig) -> None:
    for n, k, s, p in zip(
        (config.W, config.H), config.kernel_size, config.stride, config.padding, strict=True
    ):
        key = math.floor(Fraction(n + 2 * p - k, s) + 1)  # floor((n + 2p - k)/s + 1), exact
        assert key == theorem_output_size(n, k, s, p, 1), (n, k, s, p)


# --- (d) the reference's input validation (not audited) ------------------------------

# The bad-input tables are in the contract records (reference/*.py: CONTRACT),
# run by properties/meta/test_contract.py.


@given(empty_conv2d_configs())
def test_reference_conv2d_rejects_every_empty_configuration(config: ConvConfig) -> None:
    x, w = np.ones(config.input_shape), np.ones(config.weight_shape)
    with pytest.raises(ValueError, match=r"^w: empty output"):
        reference.conv.conv2d(x, w, None, **config.geometry())

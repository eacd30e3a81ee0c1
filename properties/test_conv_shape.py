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
floor. The formula is integer arithmetic: it holds for sizes of any magnitude.

Properties (contract names called through ``impl``; the values ``conv2d`` computes are
the theorem of ``test_conv2d.py``):

* ``conv2d_output_shape`` returns a tuple of ints equal to the formula
  (``reference.conv.output_size``) for sizes up to 10**30 (floats, unfloored quotients
  and float-rounded big sizes fail), and raises ValueError on every empty configuration;
* ``conv2d`` returns an array of that shape, and the definition's own count of fitting
  windows (``properties.oracles.count_windows``) agrees with the formula;
* proof by exhaustion: the formula equals the count of windows for every small W, k, s,
  p, d (and fails for wrong formulas: dilation ignored, ceil instead of floor, ...);
* the answer key's form equals the theorem's for d = 1 (exact rational arithmetic);
* the reference rejects invalid input with a ValueError naming the argument (not audited).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import reference.conv
from properties.audit import uses
from properties.catalogue.conv import WRONG_SIZE_FORMULAS
from properties.oracles import count_windows
from properties.strategies import (
    ConvConfig,
    conv2d_configs,
    conv2d_shape_configs,
    empty_conv2d_configs,
)
from properties.symbolic import proves
from properties.tolerance import assert_int_shape, assert_shape
from reference.conv import output_size

# --- (a) the shape function, at any magnitude ---------------------------------------


@uses("conv2d_output_shape")
@given(conv2d_shape_configs())
def test_output_shape_is_the_formula_as_ints(impl, config: ConvConfig) -> None:
    k, s, p, d = config.kernel_size, config.stride, config.padding, config.dilation
    note(f"formula: W' = {config.W_out}, H' = {config.H_out}")
    assert_int_shape(
        impl.conv2d_output_shape(config.input_shape, config.C_out, k, s, p, d),
        config.output_shape,
        call=config.call("conv2d_output_shape"),
    )


@uses("conv2d_output_shape")
@given(st.one_of(empty_conv2d_configs(), conv2d_shape_configs(empty=True)))
def test_output_shape_rejects_empty_output(impl, config: ConvConfig) -> None:
    args = (config.input_shape, config.C_out, config.kernel_size, config.stride)
    with pytest.raises(ValueError):
        result = impl.conv2d_output_shape(*args, config.padding, config.dilation)
        pytest.fail(
            f"empty output (W' = {config.W_out}, H' = {config.H_out}) but "
            f"{config.call('conv2d_output_shape')} returned {result}"
        )


# --- (b) conv2d's shape, and the definition's count of windows ----------------------


@uses("conv2d")
@given(conv2d_configs())
def test_conv2d_returns_the_predicted_shape(impl, config: ConvConfig) -> None:
    counted = tuple(
        count_windows(*axis)
        for axis in zip(
            (config.W, config.H), config.kernel_size, config.stride, config.padding,
            config.dilation, strict=True,
        )
    )  # fmt: skip
    assert counted == (config.W_out, config.H_out), (
        f"the definition fits {counted} windows, the formula predicts "
        f"{(config.W_out, config.H_out)} for {config}"
    )
    # Values are irrelevant to the shape; distinct ones keep an implementation honest.
    x = np.arange(math.prod(config.input_shape), dtype=np.float64).reshape(config.input_shape)
    y = impl.conv2d(x, np.ones(config.weight_shape), None, **config.geometry())
    assert_shape(y, config.output_shape, call=config.call())


# --- (c) proof by exhaustion for small sizes ----------------------------------------

#: the exhausted domain: W <= 20, k, s, d <= 10, p <= 10 (one axis; the axes are independent)
EXHAUSTED = {
    "n": range(1, 21),
    "k": range(1, 11),
    "s": range(1, 11),
    "p": range(11),
    "d": range(1, 11),
}


def formula_counterexamples(
    formula: Callable[[int, int, int, int, int], int],
) -> Iterator[tuple[int, int, int, int, int]]:
    """Each ``(n, k, s, p, d)`` of ``EXHAUSTED`` where ``formula`` miscounts the windows.

    The statement checked: ``max(formula, 0)`` (a formula < 1 means empty) equals the
    number of dilated windows that fit, counted from the definition.
    """
    return (
        case
        for case in itertools.product(*EXHAUSTED.values())
        if max(formula(*case), 0) != count_windows(*case)
    )


@proves(
    "conv2d_output_shape",
    "for W <= 20, k, s, d <= 10, p <= 10 (220,000 cases per axis): floor((W + 2p - d(k-1) - 1)/s)"
    " + 1 equals the number of fitting windows, and is < 1 exactly when none fits",
)
def test_output_size_formula_by_exhaustion() -> None:
    wrong = list(formula_counterexamples(output_size))
    assert not wrong, f"{len(wrong)} counterexamples, first (n, k, s, p, d) = {wrong[:5]}"


@pytest.mark.parametrize("formula", WRONG_SIZE_FORMULAS.values(), ids=WRONG_SIZE_FORMULAS)
def test_exhaustion_rejects_a_wrong_formula(formula) -> None:
    first = next(formula_counterexamples(formula), None)
    assert first is not None, f"{formula.__name__} survived the exhaustive check"


# --- (d) the answer key's form (not audited: a statement about the formula) ----------


@given(st.one_of(conv2d_shape_configs(), empty_conv2d_configs(dilation=1)))
def test_answer_key_form_equals_theorem_for_unit_dilation(config: ConvConfig) -> None:
    for n, k, s, p in zip(
        (config.W, config.H), config.kernel_size, config.stride, config.padding, strict=True
    ):
        key = math.floor(Fraction(n + 2 * p - k, s) + 1)  # floor((n + 2p - k)/s + 1), exact
        assert key == output_size(n, k, s, p, 1), (n, k, s, p)


# --- (d) the reference's input validation (not audited) ------------------------------

# The bad-input tables are in the contract records (reference/*.py: CONTRACT),
# run by properties/meta/test_contract.py.


@given(empty_conv2d_configs())
def test_reference_conv2d_rejects_every_empty_configuration(config: ConvConfig) -> None:
    x, w = np.ones(config.input_shape), np.ones(config.weight_shape)
    with pytest.raises(ValueError, match=r"^w: empty output"):
        reference.conv.conv2d(x, w, None, **config.geometry())

"""The convolution strategies draw what the theorem needs: asymmetric, edgy and dense cases.

Claim (of the suite itself). Over a fixed sample of 300 draws, ``conv2d_configs`` produces
every asymmetric or edge feature often (W != H, k1 != k2, s1 != s2, p1 != p2, a stride
larger than the kernel, padding as large as the kernel, dilation > 1, an output of exactly
one position), always with a non-empty output that matches the formula; and
``empty_conv2d_configs`` always an empty one, along W, H and both. ``conv2d_arrays`` draws
each of its regions often: dense arrays (the most repeated value rarely fills most of an
array), arrays with exact zeros, and cancelling ones (constant x planes, kernels whose
taps sum to exactly 0). ``conv2d_shape_configs`` reaches sizes beyond 2**53 and 2**63.

The sample is drawn by running an inner ``@given`` function with its own settings: 300
derandomized examples, so the frequencies measured do not depend on the profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from properties.strategies import (
    ARRAY_KINDS,
    ConvConfig,
    conv2d_arrays,
    conv2d_configs,
    conv2d_shape_configs,
    empty_conv2d_configs,
)
from reference.conv import output_size

#: sample size and settings fixed here (not by the profile): the claims are about frequencies
SAMPLE = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    # the inner test is cheap; larger array draws are what is measured, not a problem
    suppress_health_check=[HealthCheck.too_slow],
)

FEATURES: dict[str, Callable[[ConvConfig], bool]] = {
    "W != H": lambda c: c.W != c.H,
    "k1 != k2": lambda c: c.kernel_size[0] != c.kernel_size[1],
    "s1 != s2": lambda c: c.stride[0] != c.stride[1],
    "p1 != p2": lambda c: c.padding[0] != c.padding[1],
    "stride > kernel": lambda c: any(s > k for s, k in zip(c.stride, c.kernel_size, strict=True)),
    "padding >= kernel": lambda c: any(
        p >= k for p, k in zip(c.padding, c.kernel_size, strict=True)
    ),
    "dilation > 1": lambda c: max(c.dilation) > 1,
    "one output position along an axis": lambda c: min(c.W_out, c.H_out) == 1,
    "B > 1": lambda c: c.B > 1,
    "C_in != C_out": lambda c: c.C_in != c.C_out,
}


def _sample(strategy: st.SearchStrategy) -> list:
    drawn: list = []

    @SAMPLE
    @given(strategy)
    def collect(value) -> None:
        drawn.append(value)

    collect()
    return drawn


@pytest.fixture(scope="module")
def configs() -> list[ConvConfig]:
    return _sample(conv2d_configs())


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_is_common(configs: list[ConvConfig], feature: str) -> None:
    share = np.mean([FEATURES[feature](c) for c in configs])
    # 10% of 300 is 30 cases: common enough that every property meets it many times
    assert share >= 0.10, f"{feature} in only {share:.0%} of {len(configs)} configurations"


def test_valid_configs_have_the_predicted_non_empty_output(configs: list[ConvConfig]) -> None:
    for c in configs:
        for n, k, s, p, d, out in zip(
            (c.W, c.H),
            c.kernel_size,
            c.stride,
            c.padding,
            c.dilation,
            (c.W_out, c.H_out),
            strict=True,
        ):
            assert out >= 1 and n >= 1, c
            assert out == output_size(n, k, s, p, d), c


def test_empty_configs_are_empty_along_w_h_and_both() -> None:
    drawn = _sample(empty_conv2d_configs())
    assert all(c.W_out < 1 or c.H_out < 1 for c in drawn)
    assert all(min(c.W, c.H, c.B, c.C_in, c.C_out) >= 1 for c in drawn)
    assert all(min(*c.kernel_size, *c.stride, *c.dilation) >= 1 for c in drawn)
    assert all(min(c.padding) >= 0 for c in drawn)
    kinds = {(c.W_out < 1, c.H_out < 1) for c in drawn}
    assert kinds == {(True, False), (False, True), (True, True)}, kinds


def test_arrays_are_dense() -> None:
    drawn = _sample(conv2d_configs().flatmap(lambda c: conv2d_arrays(c, kinds=("dense",))))
    shares = []  # share of the most repeated value, per array of >= 4 entries
    for arrays in drawn:
        for a in arrays:
            if a.size >= 4:
                shares.append(np.unique(a, return_counts=True)[1].max() / a.size)
    shares = np.array(shares)
    assert all(a.dtype == np.float64 for arrays in drawn for a in arrays)
    # hypothesis.extra.numpy.arrays with a fill value makes ~96% of entries equal; here
    # each entry is drawn, so a typical array has no value repeated much
    assert np.median(shares) <= 0.25, (
        f"median share of the most repeated value {np.median(shares):.0%}"
    )
    assert np.mean(shares > 0.5) <= 0.10, f"{np.mean(shares > 0.5):.0%} of arrays mostly one value"


def _exact_tap_sums(w: np.ndarray) -> list[float]:
    """The exact (``math.fsum``) sum of each kernel's taps, per (c, o)."""
    k1, k2, C_in, C_out = w.shape
    return [math.fsum(t) for t in w.reshape(k1 * k2, C_in * C_out).T]


def _kind(arrays) -> str:
    x, w, _ = arrays
    k1, k2 = w.shape[:2]
    constant = bool((x == x[:, :1, :1, :]).all())
    if constant and k1 * k2 > 1 and not any(_exact_tap_sums(w)):
        return "cancelling"
    return "zeros" if (x == 0).any() or (w == 0).any() else "dense"


def test_every_array_kind_is_common() -> None:
    drawn = _sample(conv2d_configs().flatmap(conv2d_arrays))
    kinds = [_kind(a) for a in drawn]
    for kind in ARRAY_KINDS:  # sampled_from shrinks to "dense": the others must not starve
        assert kinds.count(kind) >= 0.15 * len(kinds), (
            kind,
            {k: kinds.count(k) for k in ARRAY_KINDS},
        )


def test_cancelling_kernels_sum_to_exactly_zero() -> None:
    drawn = _sample(conv2d_configs().flatmap(lambda c: conv2d_arrays(c, kinds=("cancelling",))))
    for x, w, _ in drawn:
        assert (x == x[:, :1, :1, :]).all()
        assert not any(_exact_tap_sums(w)) or w.shape[0] * w.shape[1] == 1


def test_shape_configs_reach_beyond_int64() -> None:
    drawn = _sample(conv2d_shape_configs())
    largest = [max(c.input_shape + c.kernel_size + c.stride + c.dilation) for c in drawn]
    assert np.mean([n >= 2**63 for n in largest]) >= 0.10
    assert all(c.W_out >= 1 and c.H_out >= 1 for c in drawn)
    assert all(c.W_out < 1 or c.H_out < 1 for c in _sample(conv2d_shape_configs(empty=True)))

"""Conv2D, 3x3 kernel, stride 1, padding 1, float64: the reference against its baselines.

Two fixed sizes, one group each, so pytest-benchmark reports ratios within a size:

* small: B=8, 32x32, 16 -> 32 channels; large: B=16, 64x64, 32 -> 64 channels.
* ``reference``: ``reference.conv.conv2d`` (np.pad, a sliding-window view, one GEMM).
* ``definition loop``: the oracle of ``properties/oracles/conv.py`` (a Python loop over
  output positions and taps), small size only: at the large size it would take seconds.
* ``fft peer``: the FFT route of ``properties/catalogue/conv.py`` (``scipy.signal.fftconvolve``
  on every batch/channel pair), small size only: a correct algorithm the accuracy policy
  accepts, timed for comparison.
* ``scipy correlate``: the SciPy oracle of the same module (one ``scipy.signal.correlate``
  per batch element and channel pair, direct method); at the large size one round, and
  skipped under ``--benchmark-disable`` (about 30 s a call).
* ``matmul same FLOPs``: a float64 ``(B W' H', 9 C_in) @ (9 C_in, C_out)`` product on
  preallocated data, exactly the GEMM inside the reference without the patch copy: the
  local limit of any im2col convolution. GFLOP/s = ``2 B W' H' C_out 9 C_in / time``,
  stored in each benchmark's ``extra_info``.

Group "conv2d scaling B=4 WxW 16->32 k=3" times the reference and the same-FLOPs matmul
for W = H = 8, 16, 32, 64 (parameter ``W``, the size the report plots time against;
parameter ``impl``, the implementation): the work grows like W^2.

Not audited (no ``@uses``) and never asserting on time: the numbers are for the report.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from properties.catalogue.conv import conv_fft
from properties.oracles import conv2d_definition, conv2d_scipy
from reference.conv import conv2d


class Size(NamedTuple):
    """A benchmark size: batch, spatial side (W = H), input and output channels."""

    B: int
    W: int
    C_in: int
    C_out: int

    @property
    def group(self) -> str:
        """The pytest-benchmark group of this size."""
        return f"conv2d B={self.B} {self.W}x{self.W} {self.C_in}->{self.C_out} k=3"

    @property
    def gflop(self) -> float:
        """Multiply-adds of the convolution, counted as 2 flops (padding 1: W' = W)."""
        return 2 * self.B * self.W * self.W * self.C_out * 9 * self.C_in / 1e9


SMALL = Size(8, 32, 16, 32)
LARGE = Size(16, 64, 32, 64)
GEOMETRY = {"stride": (1, 1), "padding": (1, 1), "dilation": (1, 1)}


def _inputs(size: Size) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261122)
    x = rng.standard_normal((size.B, size.W, size.W, size.C_in))
    w = rng.standard_normal((3, 3, size.C_in, size.C_out)) / np.sqrt(9 * size.C_in)
    return x, w, rng.standard_normal(size.C_out)


def _record(benchmark, size: Size) -> None:
    benchmark.extra_info["gflop"] = size.gflop


@pytest.mark.benchmark(group=SMALL.group)
def test_small_reference(benchmark):
    x, w, b = _inputs(SMALL)
    _record(benchmark, SMALL)
    assert benchmark(conv2d, x, w, b, **GEOMETRY).shape == (8, 32, 32, 32)


@pytest.mark.benchmark(group=SMALL.group)
def test_small_definition_loop(benchmark):
    x, w, b = _inputs(SMALL)
    _record(benchmark, SMALL)
    # ~0.5 s a call: two rounds are enough to place it orders of magnitude away
    y, _ = benchmark.pedantic(conv2d_definition, (x, w, b), GEOMETRY, rounds=2, iterations=1)
    assert y.shape == (8, 32, 32, 32)


@pytest.mark.benchmark(group=SMALL.group)
def test_small_scipy_correlate(benchmark):
    x, w, b = _inputs(SMALL)
    _record(benchmark, SMALL)
    y = benchmark.pedantic(conv2d_scipy, (x, w, b), GEOMETRY, rounds=3, iterations=1)
    assert y.shape == (8, 32, 32, 32)


@pytest.mark.benchmark(group=SMALL.group)
def test_small_fft_peer(benchmark):
    x, w, b = _inputs(SMALL)
    _record(benchmark, SMALL)
    y = benchmark.pedantic(conv_fft, (x, w, b), GEOMETRY, rounds=3, iterations=1)
    assert y.shape == (8, 32, 32, 32)


@pytest.mark.benchmark(group=SMALL.group)
def test_small_matmul_same_flops(benchmark):
    _matmul(benchmark, SMALL)


@pytest.mark.benchmark(group=LARGE.group)
def test_large_reference(benchmark):
    x, w, b = _inputs(LARGE)
    _record(benchmark, LARGE)
    assert benchmark(conv2d, x, w, b, **GEOMETRY).shape == (16, 64, 64, 64)


@pytest.mark.benchmark(group=LARGE.group)
def test_large_scipy_correlate(benchmark):
    if benchmark.disabled:
        # direct correlation runs at ~0.1 GFLOP/s: ~30 s a call here, too much for
        # `make test` (benchmarks disabled, one call each); `make report` runs it once
        pytest.skip("about 30 s a call: measured only when benchmarks are enabled")
    x, w, b = _inputs(LARGE)
    _record(benchmark, LARGE)
    y = benchmark.pedantic(conv2d_scipy, (x, w, b), GEOMETRY, rounds=1, iterations=1)
    assert y.shape == (16, 64, 64, 64)


@pytest.mark.benchmark(group=LARGE.group)
def test_large_matmul_same_flops(benchmark):
    _matmul(benchmark, LARGE)


def _matmul(benchmark, size: Size) -> None:
    rng = np.random.default_rng(20261122)
    columns = rng.standard_normal((size.B * size.W * size.W, 9 * size.C_in))
    kernel = rng.standard_normal((9 * size.C_in, size.C_out))
    _record(benchmark, size)
    assert benchmark(np.matmul, columns, kernel).shape == (size.B * size.W * size.W, size.C_out)


# --- how time grows with the image side ----------------------------------------------

#: spatial sides of the scaling group: B = 4, W = H, 16 -> 32 channels, 3x3 kernel
SCALING_W = (8, 16, 32, 64)


# max_time 0.25 s per benchmark (pytest-benchmark's default is 1 s): eight points stay
# cheap in `make report`, and the median of >= 5 rounds is enough to draw a slope
@pytest.mark.benchmark(group="conv2d scaling B=4 WxW 16->32 k=3", max_time=0.25)
@pytest.mark.parametrize("W", SCALING_W)
@pytest.mark.parametrize("impl", ["reference", "matmul_same_flops"])
def test_conv2d_scaling(benchmark, impl, W):
    """Time against the side W (work grows like W^2): the reference and its GEMM floor."""
    size = Size(4, W, 16, 32)
    if impl == "reference":
        x, w, b = _inputs(size)
        _record(benchmark, size)
        assert benchmark(conv2d, x, w, b, **GEOMETRY).shape == (4, W, W, 32)
    else:
        _matmul(benchmark, size)

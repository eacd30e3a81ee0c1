"""Conv2D backward pass, 3x3 kernel, stride 1, padding 1, float64: the reference against PyTorch.

The sizes, geometry and inputs of the forward benchmarks (``bench_conv.py``), one group
each, so pytest-benchmark reports the ratio within a size:

* ``reference``: ``reference.conv_backward.conv2d_backward`` (one GEMM for every tap's
  input gradient, a strided scatter-add per tap, one GEMM per tap for dw).
* ``torch autograd``: ``torch.autograd.grad`` of ``conv2d(x, w, b)`` (float64, NCHW,
  the graph built once outside the timing) with respect to x, w and b: PyTorch's own
  conv backward on CPU. Skipped when torch is not importable (it is not a dependency).
* ``definition loop``: the oracle of ``properties/test_conv_backward.py``, small size only.

GFLOP/s: both gradients cost the forward's multiply-adds each,
``2 * 2 B W' H' C_out 9 C_in`` flops in all, stored in each benchmark's ``extra_info``.

Measured on the development machine (2 cores shared with other jobs, load 9-19;
OpenBLAS; torch 2.13.0+cpu), reference time / torch time, min (median) of 5 rounds:

* large, default threads: 0.82 (0.82); one thread each (``OPENBLAS_NUM_THREADS=1
  OMP_NUM_THREADS=1``): 0.90 (1.01), and 1.02 (1.04) in an earlier run;
* small: 0.19 to 2.8 across runs: a 10-70 ms call is dominated by the other jobs.

A first version with one GEMM per tap for dw (k1 k2 + 1 BLAS calls) measured 3.0 (5.1)
at the large size with default threads: threaded OpenBLAS calls stall on shared cores.

Not audited (no ``@uses``) and never asserting on time: the numbers are for the report.
"""

from __future__ import annotations

import numpy as np
import pytest
from bench_conv import GEOMETRY, LARGE, SMALL, Size, _inputs

from properties.oracles import conv2d_backward_definition
from reference.conv_backward import conv2d_backward


def _problem(size: Size) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The forward benchmark's x, w, b and an upstream gradient of the output's shape."""
    x, w, b = _inputs(size)
    dy = np.random.default_rng(20261123).standard_normal((size.B, size.W, size.W, size.C_out))
    return x, w, b, dy


def _record(benchmark, size: Size) -> None:
    benchmark.extra_info["gflop"] = 2 * size.gflop


def _reference(benchmark, size: Size) -> None:
    x, w, _, dy = _problem(size)
    _record(benchmark, size)
    dx, dw, db = benchmark(conv2d_backward, dy, x, w, **GEOMETRY)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (size.C_out,)


def _torch(benchmark, size: Size) -> None:
    torch = pytest.importorskip("torch")
    x, w, b, dy = _problem(size)
    # NCHW and (C_out, C_in, k1, k2): PyTorch's native layouts, converted outside the timing
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    wt = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    dyt = torch.tensor(dy.transpose(0, 3, 1, 2).copy())
    y = torch.nn.functional.conv2d(xt, wt, bt, stride=1, padding=1, dilation=1)
    _record(benchmark, size)

    def backward():
        return torch.autograd.grad(y, (xt, wt, bt), dyt, retain_graph=True)

    dx, dw, db = benchmark(backward)
    assert dx.shape == xt.shape and dw.shape == wt.shape and db.shape == bt.shape


@pytest.mark.benchmark(group=f"backward {SMALL.group}")
def test_small_reference(benchmark):
    _reference(benchmark, SMALL)


@pytest.mark.benchmark(group=f"backward {SMALL.group}")
def test_small_torch_autograd(benchmark):
    _torch(benchmark, SMALL)


@pytest.mark.benchmark(group=f"backward {SMALL.group}")
def test_small_definition_loop(benchmark):
    x, w, _, dy = _problem(SMALL)
    _record(benchmark, SMALL)
    # ~1 s a call: two rounds place it orders of magnitude away
    grads, _ = benchmark.pedantic(
        conv2d_backward_definition, (dy, x, w), GEOMETRY, rounds=2, iterations=1
    )
    assert grads.dx.shape == x.shape


@pytest.mark.benchmark(group=f"backward {LARGE.group}")
def test_large_reference(benchmark):
    _reference(benchmark, LARGE)


@pytest.mark.benchmark(group=f"backward {LARGE.group}")
def test_large_torch_autograd(benchmark):
    _torch(benchmark, LARGE)

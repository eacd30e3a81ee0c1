"""Batch-norm backward at m = 4096, d = 1024 against one pass over the same array.

Everything in the group "batchnorm_backward 4096x1024" runs on the same float64
arrays, so the report can show each as a multiple of ``x.sum()`` (one read of the
32 MiB batch): the reference's folded closed form (threaded, and on one thread), the
answer key's unfolded chain rule (``batchnorm_key_terms``), and the forward for scale.
Target: the reference within 7 passes. No ``@uses``: benchmarks measure the reference,
they are not audited.

Measured on the shared 2-core benchmark machine, eight runs with the other core idle
(min / median ratios): the reference backward 6.4-8.2x / 6.1-8.0x one pass (min at
most 7x in five runs, 7.1-7.2x in two; median at most 7x in three, up to 7.7-8.0x in
two), against 10.5-12.7x before it used threads and 9-14x on one thread; the forward
4.7-6.1x / 4.9-5.8x; the key's unfolded chain rule 36-58x. The threads need the
second core: with another process busy on it the backward takes 10x or more. Design and
per-sweep costs: the docstring of ``reference.batchnorm.batchnorm_backward``.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference.batchnorm as bn

M, D = 4096, 1024
GROUP = "batchnorm_backward 4096x1024"


@pytest.fixture(scope="module")
def batch() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20260)
    x = 3.0 + 2.0 * rng.standard_normal((M, D))
    dy = rng.standard_normal((M, D))
    gamma = rng.standard_normal(D)
    beta = rng.standard_normal(D)
    return x, dy, gamma, beta


@pytest.mark.benchmark(group=GROUP)
def test_one_pass_baseline(benchmark, batch):
    x, _, _, _ = batch
    benchmark(x.sum)


@pytest.mark.benchmark(group=GROUP)
def test_reference_backward(benchmark, batch):
    x, dy, gamma, _ = batch
    dx, dgamma, dbeta = benchmark(bn.batchnorm_backward, dy, x, gamma)
    assert dx.shape == (M, D) and dgamma.shape == dbeta.shape == (D,)


@pytest.mark.benchmark(group=GROUP)
def test_reference_backward_one_thread(benchmark, batch, monkeypatch):
    x, dy, gamma, _ = batch
    monkeypatch.setattr(bn, "_WORKERS", 1)  # one chunk: the sweeps run inline
    benchmark(bn.batchnorm_backward, dy, x, gamma)


@pytest.mark.benchmark(group=GROUP)
def test_key_chain_rule_unfolded(benchmark, batch):
    x, dy, gamma, _ = batch
    benchmark(bn.batchnorm_key_terms, dy, x, gamma)


@pytest.mark.benchmark(group=GROUP)
def test_reference_forward(benchmark, batch):
    x, _, gamma, beta = batch
    benchmark(bn.batchnorm_forward, x, gamma, beta)

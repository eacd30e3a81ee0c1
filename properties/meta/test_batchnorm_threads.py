"""The reference batch norm gives the same bits on worker threads every time.

Claim (of the suite's reference). ``reference.batchnorm`` splits the rows of a large batch
into a static partition of chunks, one per worker thread (``_chunks``: it depends on the
shape and the worker count only), and runs the chunks on a thread pool. For every batch
and every chunking:

* the chunks partition the rows into consecutive, non-empty, near-equal slices;
* forward and backward give bit-identical results on repeated calls and whatever order
  the chunks' tasks complete in (partial sums are added in chunk order);
* they agree with the single-chunk (inline) computation within the rounding model of
  ``properties.tolerance`` (only the summation order differs);
* ``np.errstate`` set by the caller holds inside the worker threads.

Reference-only (no ``@uses``): these tests never run in audits. The properties set the
module's worker count and chunk and block sizes with ``unittest.mock.patch.object`` so
that the tiny batches Hypothesis draws take several chunks and blocks; one test uses the
module's own sizes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference.batchnorm as bn
from properties.strategies import Batch, batches
from properties.tolerance import Bound, assert_close, batchnorm_error_bounds


class ReversedExecutor:
    """Runs the tasks of ``map`` last to first (inline), returning results in order."""

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """``Executor.map`` with the calls made in reverse order."""
        calls = list(zip(*iterables, strict=True))
        results = [fn(*args) for args in reversed(calls)]
        return reversed(results)


@contextmanager
def sweeps(
    *, workers: int, min_chunk_bytes: int, block_bytes: int, executor: Any = None
) -> Iterator[list[int]]:
    """Run the reference with these sweep settings; yields a list that counts pool uses."""
    pool_uses: list[int] = []
    real_executor = bn._executor

    def counting_executor() -> Any:
        pool_uses.append(1)
        return real_executor() if executor is None else executor

    with (
        mock.patch.object(bn, "_WORKERS", workers),
        mock.patch.object(bn, "_MIN_CHUNK_BYTES", min_chunk_bytes),
        mock.patch.object(bn, "_BLOCK_BYTES", block_bytes),
        mock.patch.object(bn, "_executor", counting_executor),
    ):
        yield pool_uses


def outputs(case: Batch) -> tuple[np.ndarray, ...]:
    """y, then dx, dgamma, dbeta of the reference on ``case``."""
    y = bn.batchnorm_forward(case.x, case.gamma, case.beta, **case.eps_kwargs)
    return (y, *bn.batchnorm_backward(case.dy, case.x, case.gamma, **case.eps_kwargs))


NAMES = ("y", "dx", "dgamma", "dbeta")


def assert_bit_identical(observed: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...]):
    for name, a, b in zip(NAMES, observed, expected, strict=True):
        assert np.array_equal(a, b), f"{name} differs: {a} != {b}"


def assert_within_rounding(case: Batch, observed, expected) -> None:
    bounds = batchnorm_error_bounds(case.x, case.gamma, case.beta, case.dy, case.eps_value)
    for name, a, b, err in zip(
        NAMES, observed, expected, (bounds.y, bounds.dx, bounds.dgamma, bounds.dbeta), strict=True
    ):
        assert_close(
            a,
            b,
            Bound(
                2 * err,
                "each side within the rounding model (any summation order) of the exact value",
            ),
            what=f"{name}: several chunks against one",
        )


# --- the partition --------------------------------------------------------------------


@given(m=st.integers(1, 10**6), d=st.integers(1, 10**5), workers=st.integers(1, 8))
def test_chunks_partition_the_rows(m: int, d: int, workers: int):
    with mock.patch.object(bn, "_WORKERS", workers):
        chunks = bn._chunks(m, d)
    assert chunks[0].start == 0 and chunks[-1].stop == m, chunks
    for before, after in itertools.pairwise(chunks):
        assert before.stop == after.start, chunks
    sizes = [c.stop - c.start for c in chunks]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1, sizes
    # one chunk per worker, but no chunk below _MIN_CHUNK_BYTES (so small batches run inline)
    expected = max(1, min(workers, m * d * 8 // bn._MIN_CHUNK_BYTES, m))
    assert len(chunks) == expected, (m, d, workers, len(chunks))
    if m * d * 8 < 2 * bn._MIN_CHUNK_BYTES:
        assert len(chunks) == 1
    blocks = bn._blocks(chunks[-1], d)
    assert blocks[0].start == chunks[-1].start and blocks[-1].stop == m, blocks
    for before, after in itertools.pairwise(blocks):
        assert before.stop == after.start, blocks


# --- threads against inline -----------------------------------------------------------


@given(case=batches(m=st.integers(2, 16)), data=st.data())
def test_threads_are_deterministic_and_agree_with_inline(case: Batch, data: st.DataObject):
    m, d = case.x.shape
    row = 8 * d
    workers = data.draw(st.integers(2, 4), label="workers")
    chunk = data.draw(st.integers(8, m * row // 2), label="min chunk bytes")
    block = data.draw(st.integers(8, m * row), label="block bytes")
    settings = {"workers": workers, "min_chunk_bytes": chunk, "block_bytes": block}
    with sweeps(**settings) as pool:
        chunks = len(bn._chunks(m, d))
        assert chunks >= 2, chunks
        threaded = outputs(case)
        assert pool, f"{chunks} chunks, but the pool was never used"
        assert_bit_identical(outputs(case), threaded)
    with sweeps(**settings, executor=ReversedExecutor()):
        assert_bit_identical(outputs(case), threaded)
    with sweeps(workers=1, min_chunk_bytes=chunk, block_bytes=block) as pool:
        single = outputs(case)
        assert not pool, "a single chunk, yet the pool was used"
    assert_within_rounding(case, threaded, single)


def test_threads_at_the_real_sizes_are_deterministic():
    """A batch of two minimal chunks at the module's own sizes, on the worker threads."""
    d = 256
    m = 2 * bn._MIN_CHUNK_BYTES // (8 * d) + 3
    rng = np.random.default_rng(3)
    case = Batch(
        x=1e3 + 1e-2 * rng.standard_normal((m, d)),
        gamma=rng.standard_normal(d),
        beta=rng.standard_normal(d),
        dy=rng.standard_normal((m, d)),
        eps=None,
    )
    real = {"min_chunk_bytes": bn._MIN_CHUNK_BYTES, "block_bytes": bn._BLOCK_BYTES}
    with sweeps(workers=max(2, bn._WORKERS), **real) as pool:
        assert len(bn._chunks(m, d)) == 2
        first = outputs(case)
        assert pool
        assert_bit_identical(outputs(case), first)
    with sweeps(workers=1, **real):
        single = outputs(case)
    assert_within_rounding(case, first, single)


@pytest.mark.parametrize("workers", [2, 1], ids=["threads", "inline"])
def test_errstate_holds_in_the_workers(workers: int):
    """The sweep into dx = k (dy - a x + e) overflows when k = gamma / s is huge."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 3))
    dy = 1e10 * rng.standard_normal((8, 3))
    gamma = np.full(3, 1e300)
    with sweeps(workers=workers, min_chunk_bytes=8, block_bytes=8) as pool:
        with np.errstate(over="ignore"):
            dx, _, _ = bn.batchnorm_backward(dy, x, gamma)
        assert np.isinf(dx).any()
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            bn.batchnorm_backward(dy, x, gamma)
        assert bool(pool) == (workers > 1)

"""Batch normalisation over a mini-batch, forward and backward (Problem 2).

For a batch ``x`` of shape ``(m, d)`` (m examples, d features), per feature j::

    mu_j      = (1/m) sum_i x_ij                      (batch mean)
    sigma2_j  = (1/m) sum_i (x_ij - mu_j)**2          (biased batch variance)
    xhat_ij   = (x_ij - mu_j) / sqrt(sigma2_j + eps)
    y_ij      = gamma_j * xhat_ij + beta_j

Given the upstream gradient ``dy = dl/dy``, the backward pass returns::

    dbeta_j  = sum_i dy_ij
    dgamma_j = sum_i dy_ij * xhat_ij
    dx_ij    = gamma_j / sqrt(sigma2_j + eps) * (dy_ij - dbeta_j / m - xhat_ij * dgamma_j / m)

The last line is the answer key's three-term chain rule (through dl/dxhat, dl/dsigma2 and
dl/dmu) folded into one expression; ``batchnorm_key_terms`` computes the key's
intermediates one by one so the properties can check them term by term.

Numerics: the variance is computed from centred values (two passes), never as
``E[x**2] - mu**2``, which cancels catastrophically when the offset of a feature is large
against its spread. Forward and backward work through the rows in cache-sized blocks,
split across worker threads for large batches, and write every elementwise step into
their one (m, d) output (``out=``); see the section on sweeps and ``batchnorm_backward``
for why and what it measures.
"""

from __future__ import annotations

import contextvars
import itertools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from reference.contract import Record, bad, bad_arguments

#: the contract's default eps
DEFAULT_EPS: float = 1e-5

_T = TypeVar("_T")


# --- validation ----------------------------------------------------------------------


def _real(value: ArrayLike, name: str) -> None:
    """Reject bool and complex arrays: numbers by accident, not real data."""
    kind = np.asarray(value).dtype.kind
    if kind == "b":
        raise ValueError(f"{name}: expected real numbers, got a bool array")
    if kind == "c":
        raise ValueError(f"{name}: expected real numbers, got a complex array")


def _matrix(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a float64 (m, d) array with m, d >= 1, or ValueError naming ``name``."""
    _real(x, name)
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: expected a real (m, d) array, got {error}") from None
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (m, d), got shape {array.shape}")
    m, d = array.shape
    if m < 1:
        raise ValueError(f"{name}: the batch is empty (m = 0); need m >= 1 examples")
    if d < 1:
        raise ValueError(f"{name}: no features (d = 0); need d >= 1")
    return array


def _vector(v: ArrayLike, name: str, d: int) -> np.ndarray:
    """``v`` as a finite float64 array of shape (d,), or ValueError naming ``name``."""
    _real(v, name)
    try:
        array = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: expected a real array of shape ({d},), got {error}") from None
    if array.shape != (d,):
        raise ValueError(f"{name}: expected shape ({d},) (one per feature), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains non-finite values")
    return array


def _eps(eps: float) -> float:
    if isinstance(eps, bool | np.bool_):
        raise ValueError(f"eps: expected a real number, got the bool {eps!r}")
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"eps: expected a real number, got {eps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"eps: expected a finite number >= 0, got {eps!r}")
    return value


def _check_finite(sums: np.ndarray, array: np.ndarray, name: str) -> None:
    """Raise if ``array`` holds inf/NaN or overflows; ``sums`` are its column sums.

    Any inf or NaN in a column makes its sum non-finite, so the column sums the
    computation needs anyway screen the whole array without an extra pass over it.
    """
    if not np.isfinite(sums).all():
        if not np.isfinite(array).all():
            raise ValueError(f"{name}: contains non-finite values")
        raise ValueError(f"{name}: column sums overflow float64")


class _Statistics(NamedTuple):
    centred: np.ndarray  # x - mu, a fresh (m, d) array the caller may overwrite
    mu: np.ndarray
    var: np.ndarray
    inv_std: np.ndarray  # 1 / sqrt(var + eps)


def _statistics(x: np.ndarray, eps: float) -> _Statistics:
    """Batch mean, biased variance and 1/sqrt(var + eps) with a full centred copy of x.

    Only ``batchnorm_key_terms`` needs ``x - mu`` as a whole array; the forward and the
    backward stream through the rows instead (``_mean``, ``_centred_sums``).
    """
    mu = _mean(x)
    centred = np.subtract(x, mu)
    var = np.einsum("ij,ij->j", centred, centred) / x.shape[0]
    return _Statistics(centred, mu, var, _inv_std(var, eps))


def _inv_std(var: np.ndarray, eps: float) -> np.ndarray:
    """``1 / sqrt(var + eps)``, or ValueError if var overflowed or var + eps is 0."""
    if not np.isfinite(var).all():
        raise ValueError("x: the batch variance overflows float64")
    shifted = var + eps
    if not (shifted > 0).all():
        j = int(np.argmin(shifted))
        raise ValueError(
            f"eps: is 0 and feature {j} of x is constant, so sigma^2 + eps = 0 "
            "and xhat is undefined"
        )
    return 1.0 / np.sqrt(shifted)


# --- sweeps over the rows: blocks, chunks, worker threads --------------------------------
#
# The forward and the backward read the batch in sweeps over its rows. Each sweep applies
# a few ufuncs/einsums per *block* of rows, small enough that the block's operands stay
# in the core's L2 cache from one operation to the next, and splits the rows into
# *chunks* of consecutive blocks, one per worker thread. NumPy releases the GIL inside
# ufuncs and einsum, so the threads compute in parallel.
#
# Determinism: the chunks are a static partition of the rows that depends on the shape
# and the worker count only (never on timing). A reduction accumulates each chunk's rows
# in order within one task, and the chunks' partial sums are added in chunk order
# (``map`` returns results in submission order), so repeated calls on one machine give
# the same bits. Any summation order is within the rounding model of
# ``properties/tolerance.py``, which bounds a sum of m terms by (m - 1) u sum|x|.
#
# No BLAS: ``ones @ x`` computes column sums several times faster than ``x.sum(axis=0)``,
# but OpenBLAS's threads then busy-wait for a while after the call and take the cores the
# sweeps' threads need. Measured at m = 4096, d = 1024 on 2 cores: after one GEMV the
# threaded centring sweep ran no faster than on one thread.

#: Bytes of one (rows, d) block: 512 KiB (64 rows at d = 1024), so the blocks of x, dy
#: and the output or scratch buffer fit together in a 2 MiB L2. Measured with two
#: threads at m = 4096, d = 1024: 256 KiB to 1 MiB blocks take about the same time,
#: smaller ones are slower (more calls, each with a fixed cost and a brief hold of the GIL).
_BLOCK_BYTES: int = 1 << 19

#: Smallest chunk worth a thread, per (m, d) array: 4 MiB, 8 blocks at d = 1024, about a
#: millisecond per sweep against the ~0.1 ms of handing a task to a thread and waking it.
#: Every batch Hypothesis draws is far smaller, so it runs inline.
_MIN_CHUNK_BYTES: int = 1 << 22

#: Upper bound on worker threads. The sweeps do one or two flops per 8 bytes they read,
#: so beyond a few cores they wait on memory bandwidth, not arithmetic, while every
#: thread adds dispatch cost and competes with the caller's own threads.
_MAX_WORKERS: int = 4


def _available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: Worker threads for the sweeps: the available CPUs, at most ``_MAX_WORKERS``.
_WORKERS: int = max(1, min(_available_cpus(), _MAX_WORKERS))

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The module's thread pool, created on first use (never for small inputs)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="batchnorm")
        return _pool


def _forget_pool_after_fork() -> None:
    """A forked child inherits the pool object but not its threads: start afresh."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


# pragma: no branch below: os.register_at_fork exists on every POSIX Python (not on Windows)
if hasattr(os, "register_at_fork"):  # pragma: no branch
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _chunks(m: int, d: int) -> list[slice]:
    """Split ``range(m)`` into one chunk per worker, each of at least ``_MIN_CHUNK_BYTES``.

    Consecutive rows, as even as possible; a single chunk (run inline) for any batch
    smaller than two minimal chunks or on a single CPU.
    """
    count = max(1, min(_WORKERS, m * d * 8 // _MIN_CHUNK_BYTES, m))
    bounds = [m * i // count for i in range(count + 1)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]


def _blocks(rows: slice, d: int) -> list[slice]:
    """Consecutive blocks of about ``_BLOCK_BYTES`` (at least one row) covering ``rows``."""
    step = max(1, _BLOCK_BYTES // (8 * d))
    return [
        slice(start, min(start + step, rows.stop)) for start in range(rows.start, rows.stop, step)
    ]


def _map_chunks(task: Callable[[slice], _T], chunks: list[slice]) -> list[_T]:
    """``[task(chunk) for chunk in chunks]``, on the worker threads if there are several.

    Results come back in chunk order whatever order the tasks finish in. A single chunk
    (every small input) runs inline: no pool, no thread hop. Each threaded task runs in
    its own copy of the caller's context, so ``np.errstate`` (a context variable since
    NumPy 2) holds in the workers as it does inline.
    """
    if len(chunks) == 1:
        return [task(chunks[0])]
    contexts = [contextvars.copy_context() for _ in chunks]
    return list(_executor().map(lambda ctx, rows: ctx.run(task, rows), contexts, chunks))


def _add_in_order(parts: list[np.ndarray]) -> np.ndarray:
    """The sum of the chunks' partial sums, added in chunk order (a fixed rounding)."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _mean(x: np.ndarray) -> np.ndarray:
    """Column means of x, validated finite (the sums screen x for inf/NaN)."""
    m, d = x.shape
    sums = _add_in_order(_map_chunks(lambda rows: np.add.reduce(x[rows], axis=0), _chunks(m, d)))
    _check_finite(sums, x, "x")
    return sums / m


def _centred_sums(x: np.ndarray, mu: np.ndarray, dy: np.ndarray | None = None) -> np.ndarray:
    """Column sums of ``(x - mu)**2``; given dy, also of ``dy * (x - mu)`` and of ``dy``.

    Shape (1, d), or (3, d) with dy. One sweep over the rows: each block is centred once
    into a per-task scratch buffer and stays in cache for the reductions that read it.
    """
    m, d = x.shape

    def chunk_sums(rows: slice) -> np.ndarray:
        sums = np.zeros((1 if dy is None else 3, d))
        blocks = _blocks(rows, d)
        scratch = np.empty((blocks[0].stop - blocks[0].start, d))
        for block in blocks:
            centred = scratch[: block.stop - block.start]
            np.subtract(x[block], mu, out=centred)
            sums[0] += np.einsum("ij,ij->j", centred, centred)
            if dy is not None:
                sums[1] += np.einsum("ij,ij->j", dy[block], centred)
                sums[2] += np.add.reduce(dy[block], axis=0)
        return sums

    return _add_in_order(_map_chunks(chunk_sums, _chunks(m, d)))


# --- forward and backward ---------------------------------------------------------


def batchnorm_forward(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float = DEFAULT_EPS
) -> np.ndarray:
    """Batch normalisation ``y = gamma * (x - mu) / sqrt(sigma2 + eps) + beta`` over axis 0.

    ``x`` has shape (m, d); ``gamma`` and ``beta`` shape (d,); statistics are per feature
    (column) with the biased variance. Raises ``ValueError`` naming the argument on a
    shape mismatch, an empty batch, non-finite values, or ``eps < 0``.

    Three threaded sweeps over the rows (see the section on sweeps above): the column
    sums for mu, the centred sums of squares, then ``y = (x - mu) * (gamma / s) + beta``
    block by block straight into the output, so y is the only (m, d) allocation.
    """
    x = _matrix(x, "x")
    m, d = x.shape
    gamma = _vector(gamma, "gamma", d)
    beta = _vector(beta, "beta", d)
    eps = _eps(eps)
    mu = _mean(x)
    scale = gamma * _inv_std(_centred_sums(x, mu)[0] / m, eps)

    y = np.empty((m, d))

    def fill(rows: slice) -> None:
        for block in _blocks(rows, d):
            out = y[block]
            np.subtract(x[block], mu, out=out)
            out *= scale
            out += beta

    _map_chunks(fill, _chunks(m, d))
    return y


def _backward_inputs(
    dy: ArrayLike, x: ArrayLike, gamma: ArrayLike, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate the backward's arguments (shared by the closed form and the key's terms)."""
    x = _matrix(x, "x")
    dy = _matrix(dy, "dy")
    if dy.shape != x.shape:
        raise ValueError(f"dy: expected the shape of x, {x.shape}, got {dy.shape}")
    return dy, x, _vector(gamma, "gamma", x.shape[1]), _eps(eps)


def batchnorm_backward(
    dy: ArrayLike, x: ArrayLike, gamma: ArrayLike, eps: float = DEFAULT_EPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dgamma, dbeta)`` of a loss through ``batchnorm_forward``.

    ``dy = dl/dy`` and ``x`` have shape (m, d), ``gamma`` shape (d,). Uses the folded
    closed form ``dx = k (dy - dbeta/m - xhat dgamma/m)`` with ``k = gamma / sqrt(sigma2 +
    eps)``. Raises ``ValueError`` naming the argument on bad input, like the forward, and
    in the same order (x's sums, its variance, eps, then dy).

    Speed (issue 3 benchmarks it against one ``x.sum()``): the statistics need three
    sweeps over the rows, because the variance is taken from centred values and dx needs
    every column's sums before its first entry can be written. Each sweep runs on up to
    ``_WORKERS`` threads over contiguous chunks of rows, block by block (section on
    sweeps above):

    1. ``mu = sum_i x_i / m`` (its sums also screen x for inf/NaN);
    2. per block: ``c = x - mu`` into a cached scratch buffer, then the column sums of
       ``c * c``, ``dy * c`` and ``dy`` (dbeta, which screens dy);
    3. per block, straight into the output: ``dx = k (dy - a x + e)`` with
       ``a = dgamma / (m s)``, ``e = a mu - dbeta / m``, the folded form of
       ``k (dy - dbeta/m - xhat dgamma/m)``: four ufunc calls, whose rounding is within
       the error model of ``properties/tolerance.py`` (it covers ``a x - a mu``).

    Measured at m = 4096, d = 1024 on the shared 2-core benchmark machine, as multiples
    of one ``x.sum()`` (``benchmarks/bench_batchnorm.py``, eight runs with the other core
    idle): min 6.4-6.9x in five runs, 7.1-7.2x in two, 8.2x in one; median 6.1-8.0x,
    at most 7.0x in three; on one thread 9-14x, the design before threads 10.5-12.7x.
    Per sweep (min / median): 0.6x / 0.6x, 2.2x / 2.4x and 3.2x / 3.8x. That is near
    the floor of three sweeps: they read x three times and dy twice and write dx, whose
    fresh pages the kernel zeroes first, about seven times the bytes of one ``x.sum()``;
    the second core's share of the memory bandwidth is what keeps the total near 7x.
    With another process busy on the other core the threads gain nothing (10x or more).
    Fusing sweeps 1 and 2 would need a shifted or merged variance, which the error
    model does not cover.
    """
    dy, x, gamma, eps = _backward_inputs(dy, x, gamma, eps)
    m, d = x.shape

    # sweep 1: the mean (its sums screen x)
    mu = _mean(x)

    # sweep 2: centred sums, and dbeta (screened after the variance, as in the forward)
    sum_c2, sum_dyc, dbeta = _centred_sums(x, mu, dy)
    inv_std = _inv_std(sum_c2 / m, eps)
    _check_finite(dbeta, dy, "dy")
    dgamma = sum_dyc * inv_std  # sum dy * xhat
    k = gamma * inv_std
    a = inv_std * dgamma / m
    e = a * mu - dbeta / m

    # sweep 3: dx = k (dy - a x + e), block by block into the one output array
    dx = np.empty((m, d))

    def fill(rows: slice) -> None:
        for block in _blocks(rows, d):
            out = dx[block]
            np.multiply(x[block], a, out=out)
            np.subtract(dy[block], out, out=out)
            out += e
            out *= k

    _map_chunks(fill, _chunks(m, d))
    return dx, dgamma, dbeta


# --- the answer key's intermediates -----------------------------------------------


class KeyTerms(NamedTuple):
    """The answer key's chain rule for Problem 2, one named term at a time."""

    mu: np.ndarray  # (d,) batch mean
    var: np.ndarray  # (d,) biased batch variance sigma_B^2
    xhat: np.ndarray  # (m, d)
    dxhat: np.ndarray  # (m, d) dl/dxhat = dy * gamma
    dvar: np.ndarray  # (d,) dl/dsigma^2 = -1/2 sum dxhat (x - mu) (var + eps)^(-3/2)
    dmu_direct: np.ndarray  # (d,) first term of dl/dmu: sum dxhat * (-1 / sqrt(var + eps))
    dmu_second: np.ndarray  # (d,) second term of dl/dmu: dvar * (-2/m) sum (x - mu)
    dmu: np.ndarray  # (d,) dl/dmu = dmu_direct + dmu_second
    dx: np.ndarray  # (m, d) dxhat / sqrt(var + eps) + dvar * 2 (x - mu) / m + dmu / m
    dgamma: np.ndarray  # (d,) sum dy * xhat
    dbeta: np.ndarray  # (d,) sum dy


def batchnorm_key_terms(
    dy: ArrayLike, x: ArrayLike, gamma: ArrayLike, eps: float = DEFAULT_EPS
) -> KeyTerms:
    """Evaluate the answer key's formulas for Problem 2 exactly as written, term by term.

    Unlike ``batchnorm_backward`` nothing is folded: each intermediate of the key's
    derivation (dl/dxhat, dl/dsigma^2, both terms of dl/dmu) is kept, so properties can
    test each one against its own oracle and check that the key's assembly of ``dx``
    agrees with the folded closed form. Validates its input like the other functions.
    """
    dy, x, gamma, eps = _backward_inputs(dy, x, gamma, eps)
    m = x.shape[0]
    stats = _statistics(x, eps)
    _check_finite(dy.sum(axis=0), dy, "dy")
    centred = stats.centred
    shifted = stats.var + eps
    xhat = centred * stats.inv_std
    dxhat = dy * gamma
    dvar = -0.5 * (dxhat * centred).sum(axis=0) * shifted**-1.5
    dmu_direct = (dxhat * (-stats.inv_std)).sum(axis=0)
    dmu_second = dvar * (-2.0 / m) * centred.sum(axis=0)
    dmu = dmu_direct + dmu_second
    dx = dxhat * stats.inv_std + dvar * 2.0 * centred / m + dmu / m
    return KeyTerms(
        mu=stats.mu,
        var=stats.var,
        xhat=xhat,
        dxhat=dxhat,
        dvar=dvar,
        dmu_direct=dmu_direct,
        dmu_second=dmu_second,
        dmu=dmu,
        dx=dx,
        dgamma=(dy * xhat).sum(axis=0),
        dbeta=dy.sum(axis=0),
    )


# --- the contract records (reference.contract) ---------------------------------------

#: a valid call of every batch-norm function; each bad value below replaces one argument
_VALID = {
    "x": np.arange(6.0).reshape(3, 2),
    "gamma": np.ones(2),
    "beta": np.zeros(2),
    "dy": np.ones((3, 2)) * [1.0, -2.0],
}
_BAD_VALUES = [
    ("x", np.arange(3.0)),
    ("x", np.zeros((0, 2))),
    ("x", np.zeros((3, 0))),
    ("x", np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]])),
    ("x", np.array([[1.0, np.inf], [2.0, 3.0], [4.0, 5.0]])),
    ("x", np.array([[1e200, 0.0], [-1e200, 1.0], [0.0, 2.0]])),
    ("x", [["a", "b"]]),
    ("x", np.array([[1e308, 0.0], [1e308, 1.0], [0.0, 2.0]])),  # finite, column sum overflows
    ("gamma", np.ones(3)),
    ("gamma", np.array([1.0, np.nan])),
    ("gamma", ["a", "b"]),
    ("beta", np.ones((2, 1))),
    ("beta", np.array([np.inf, 0.0])),
    ("dy", np.ones((2, 2))),
    ("dy", np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]])),
    ("eps", -1e-5),
    ("eps", float("nan")),
    ("eps", "small"),
    # bools and complex numbers are not silently taken as reals (eps=True is not 1.0)
    ("x", np.ones((3, 2), dtype=bool)),
    ("x", np.arange(6.0).reshape(3, 2) + 1j),
    ("gamma", np.ones(2, dtype=bool)),
    ("gamma", np.ones(2, dtype=complex)),
    ("beta", np.zeros(2, dtype=bool)),
    ("dy", np.ones((3, 2), dtype=bool)),
    ("dy", np.ones((3, 2), dtype=complex)),
    ("eps", True),
]

#: bad calls whose message is checked beyond its argument: (argument, new values, match)
_REPORTED = [
    ("x", {"x": np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]])}, r"^x: contains non-finite"),
    ("x", {"x": np.array([[1e308, 0.0], [1e308, 1.0], [0.0, 2.0]])}, r"^x: column sums overflow"),
    (
        "eps",
        {"x": np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]), "eps": 0.0},
        r"^eps: is 0 and feature 1 of x is constant, so sigma\^2 \+ eps = 0 and xhat is undefined$",
    ),
]

_FORWARD = ("x", "gamma", "beta", "eps")
_BACKWARD = ("dy", "x", "gamma", "eps")
#: the _REPORTED calls of each function, by its parameters
_REPORTED_CALLS = {
    parameters: [
        bad(arg, **{k: v for k, v in {**_VALID, **values}.items() if k in parameters}, match=match)
        for arg, values, match in _REPORTED
    ]
    for parameters in (_FORWARD, _BACKWARD)
}

CONTRACT = [
    Record(
        "batchnorm_forward",
        "(x, gamma, beta, eps=1e-5)",
        error_inputs=bad_arguments(_VALID, _BAD_VALUES, _FORWARD) + _REPORTED_CALLS[_FORWARD],
    ),
    Record(
        "batchnorm_backward",
        "(dy, x, gamma, eps=1e-5)",
        error_inputs=bad_arguments(_VALID, _BAD_VALUES, _BACKWARD) + _REPORTED_CALLS[_BACKWARD],
        also=["batchnorm_key_terms"],
    ),
]

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
against its spread. The backward pass works through the rows in cache-sized blocks
and writes every elementwise step into its one (m, d) output (``out=``); see
``batchnorm_backward`` for why and what it measures.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

#: the contract's default eps
DEFAULT_EPS: float = 1e-5


# --- validation ----------------------------------------------------------------------


def _matrix(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a float64 (m, d) array with m, d >= 1, or ValueError naming ``name``."""
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
    """Batch mean, biased variance and 1/sqrt(var + eps), validated to be finite."""
    m = x.shape[0]
    sums = x.sum(axis=0)
    _check_finite(sums, x, "x")
    mu = sums / m
    centred = np.subtract(x, mu)
    var = np.einsum("ij,ij->j", centred, centred) / m
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


# --- forward and backward ---------------------------------------------------------


def batchnorm_forward(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float = DEFAULT_EPS
) -> np.ndarray:
    """Batch normalisation ``y = gamma * (x - mu) / sqrt(sigma2 + eps) + beta`` over axis 0.

    ``x`` has shape (m, d); ``gamma`` and ``beta`` shape (d,); statistics are per feature
    (column) with the biased variance. Raises ``ValueError`` naming the argument on a
    shape mismatch, an empty batch, non-finite values, or ``eps < 0``.
    """
    x = _matrix(x, "x")
    d = x.shape[1]
    gamma = _vector(gamma, "gamma", d)
    beta = _vector(beta, "beta", d)
    stats = _statistics(x, _eps(eps))
    y = stats.centred
    y *= gamma * stats.inv_std  # y = xhat * gamma, in the centred buffer
    y += beta
    return y


#: Bytes of one (rows, d) block of ``batchnorm_backward``'s row loop: 256 KiB, so the
#: blocks of x, dy, dx and the scratch buffer it touches together stay within the 2 MiB
#: L2 of the benchmark machine. Measured at m = 4096, d = 1024 (32 rows per block):
#: 128 KiB to 1 MiB blocks take about the same time; 32-64 KiB blocks are slower
#: (more ufunc calls, each with a fixed overhead).
_BLOCK_BYTES: int = 1 << 18


def _backward_inputs(
    dy: ArrayLike, x: ArrayLike, gamma: ArrayLike, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate the backward's arguments (shared by the closed form and the key's terms)."""
    x = _matrix(x, "x")
    dy = _matrix(dy, "dy")
    if dy.shape != x.shape:
        raise ValueError(f"dy: expected the shape of x, {x.shape}, got {dy.shape}")
    return dy, x, _vector(gamma, "gamma", x.shape[1]), _eps(eps)


def _row_blocks(m: int, d: int) -> list[slice]:
    """Consecutive slices of ``range(m)`` of about ``_BLOCK_BYTES`` of d float64 each."""
    rows = max(1, _BLOCK_BYTES // (8 * d))
    return [slice(start, min(start + rows, m)) for start in range(0, m, rows)]


def batchnorm_backward(
    dy: ArrayLike, x: ArrayLike, gamma: ArrayLike, eps: float = DEFAULT_EPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dgamma, dbeta)`` of a loss through ``batchnorm_forward``.

    ``dy = dl/dy`` and ``x`` have shape (m, d), ``gamma`` shape (d,). Uses the folded
    closed form ``dx = k (dy - dbeta/m - xhat dgamma/m)`` with ``k = gamma / sqrt(sigma2 +
    eps)``. Raises ``ValueError`` naming the argument on bad input, like the forward, and
    in the same order (x's sums, its variance, eps, then dy).

    Why it is structured this way (speed; issue 3 benchmarks it against one ``x.sum()``):
    the statistics need three sweeps over the rows, because the variance is taken from
    centred values (two passes, never ``E[x**2] - mu**2``) and dx needs every column's
    sums before its first entry can be written:

    1. ``mu = x.sum(axis=0) / m`` (one pass over x; it also screens x for inf/NaN);
    2. per block of rows: ``c = x - mu`` into a small scratch buffer, and the sums of
       ``c * c``, ``dy * c`` and ``dy`` (dy is screened by its sum, dbeta);
    3. per block of rows, straight into the output:
       ``dx = k (dy - a x + e)`` with ``a = dgamma / (m s)``, ``e = a mu - dbeta / m``,
       the folded form of ``k (dy - dbeta/m - xhat dgamma/m)``: four ufunc calls, and
       its rounding stays within the error model of ``properties/tolerance.py`` (which
       covers ``a x - a mu`` explicitly).

    The Python loops run over blocks of about 256 KiB of rows (32 rows at d = 1024), not
    over data elements: every operation inside is a vectorised ufunc/einsum over a whole
    block. Blocking keeps the scratch buffer and each block's repeated reads in cache,
    and dx is the only (m, d) allocation.

    Measured at m = 4096, d = 1024 on the shared 2-core benchmark machine (min and
    median over several runs): 10.5-12.7x one ``x.sum()`` in
    ``benchmarks/bench_batchnorm.py``; timed side by side, 9-12.5x against 12-15.7x for
    the unblocked version (a fresh centred copy, then four full in-place passes).

    The 7x target is not reached. On that machine one ``x.sum()`` is memory-bound at
    about 1 ns per element, and a ufunc costs 0.4-0.9 ns per element even on cached
    operands, so the nine array operations above are not free; and sweep 3 alone moves
    four arrays' worth of memory (reads x and dy, reads dx for ownership and writes it
    back), measured at about 6x. Sweep 1 could be merged into sweep 2 only with a
    shifted-data variance, whose first-order rounding the error model in
    ``properties/tolerance.py`` does not cover, so the reference keeps the two passes.
    """
    dy, x, gamma, eps = _backward_inputs(dy, x, gamma, eps)
    m, d = x.shape
    blocks = _row_blocks(m, d)

    # sweep 1: the mean
    sums = x.sum(axis=0)
    _check_finite(sums, x, "x")
    mu = sums / m

    # sweep 2: centred sums, each block centred once in the scratch buffer
    scratch = np.empty((blocks[0].stop, d))
    sum_c2 = np.zeros(d)  # sum (x - mu)**2
    sum_dyc = np.zeros(d)  # sum dy * (x - mu)
    dbeta = np.zeros(d)  # sum dy
    for rows in blocks:
        centred = scratch[: rows.stop - rows.start]
        np.subtract(x[rows], mu, out=centred)
        sum_c2 += np.einsum("ij,ij->j", centred, centred)
        sum_dyc += np.einsum("ij,ij->j", dy[rows], centred)
        dbeta += dy[rows].sum(axis=0)
    inv_std = _inv_std(sum_c2 / m, eps)
    _check_finite(dbeta, dy, "dy")
    dgamma = sum_dyc * inv_std  # sum dy * xhat
    k = gamma * inv_std
    a = inv_std * dgamma / m
    e = a * mu - dbeta / m

    # sweep 3: dx = k (dy - a x + e), block by block into the one output array
    dx = np.empty((m, d))
    for rows in blocks:
        out = dx[rows]
        np.multiply(x[rows], a, out=out)
        np.subtract(dy[rows], out, out=out)
        out += e
        out *= k
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

"""Softmax, its Jacobian, and the softmax cross-entropy with its gradient (Problem 3).

``S(z)_i = exp(z_i) / sum_k exp(z_k)``; ``dS_i/dz_j = S_i (delta_ij - S_j)``;
``L(y, z) = -sum_i y_i log S(z)_i``; ``dL/dz = c S(z) - y`` with ``c = sum_i y_i``, which is
the assignment's ``S(z) - y`` on the simplex (``c = 1``).

Every function is exact up to rounding for **every finite float64 logit**, however large
(``800``, ``-1e300``, ``1e308``) and however wide the gaps between them:

* Softmax uses ``exp(z - max z)``: every exponent is ``<= 0`` so nothing overflows, the
  largest term is exactly ``exp(0) = 1`` so the denominator is in ``[1, N]`` and never
  underflows. When ``z`` spans more than the float64 range (``z = [-1e308, 1e308]``),
  ``z_i - max z`` overflows to ``-inf``; that is harmless and exact: IEEE rounds the
  difference to ``-inf`` only when its exact value is below ``-1.7e308``, and ``exp`` of
  anything below ``-745.2`` rounds to ``0.0`` anyway, so ``exp(fl(z_i - m)) = 0.0`` is the
  correctly rounded ``exp(z_i - m)`` in both cases (the overflow flag is silenced there).
* Cross-entropy never forms ``log S_i`` (``-inf`` where ``S_i`` underflows, and ``0 * -inf
  = NaN`` where ``y_i = 0``). With ``m = max z``, ``d_i = m - z_i >= 0`` and
  ``s = sum_k exp(-d_k)`` in ``[1, N]``, ``-log S_i = d_i + log s``, so
  ``L = sum_i y_i d_i + c log s``: a sum of non-negative terms (``L >= 0`` exactly in
  floating point), where ``y_i = 0`` contributes ``0 * d_i = 0`` (the ``0 log 0 = 0``
  convention) because ``d_i`` is finite. ``d_i`` is formed as ``2 (m/2 - z_i/2)``, which
  cannot overflow in the subtraction (each half is at most ``0.9e308``); halving is exact
  except for subnormals, where it moves ``d_i`` by at most ``2**-1075``. ``L`` itself is
  ``+inf`` only when its exact value exceeds the largest float64 (``~1.8e308``), which
  takes logit gaps of that size: the correctly rounded result.
* The gradient ``c S - y`` and the Jacobian ``diag(S) - S S^T`` are formed from ``S``,
  which lies in ``[0, 1]``: no overflow is possible.

Bad input raises ``ValueError`` naming the argument: non-finite values, empty or
scalar arrays, mismatched shapes, negative ``y``, or ``y`` not summing to 1 within
``simplex_tolerance(N) = N * EPS`` (see that function for why).

Everything is vectorised over leading (batch) axes; the only temporaries of the size of
``z`` are written in place (``out=``), which keeps ``softmax`` well under SciPy's time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reference.contract import Record, bad

Array = NDArray[np.float64]

#: float64 machine epsilon, 2**-52
EPS: float = float(np.finfo(np.float64).eps)


def simplex_tolerance(n: int) -> float:
    """How far ``sum(y)`` may be from 1 for a float64 label vector of length ``n``.

    A label vector on the simplex that was *computed* in float64 does not sum to exactly
    1. The usual construction ``y = w / sum(w)`` (normalised weights; one-hot and label
    smoothing are special cases) is bounded as follows, with unit roundoff ``u = EPS/2``:
    ``fl(sum w) = (1 + theta) sum w`` with ``|theta| <= (n - 1) u`` (recursive summation,
    the worst order); each quotient adds a relative ``u``; summing the ``n`` quotients to
    check them adds ``(n - 1) u`` more. Total ``|fl(sum y) - 1| <= (2n - 1) u + O(n^2 u^2)
    < n EPS`` (the ``u`` of slack covers the second-order term for ``n < 10**7``).
    """
    return n * EPS


def _as_float_array(value: ArrayLike, name: str) -> Array:
    """Convert ``value`` to a float64 array with at least one axis and one entry per axis."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: expected a real array, got {type(value).__name__}") from error
    if array.ndim == 0:
        raise ValueError(f"{name}: expected at least one axis, got a scalar")
    if array.size == 0:
        raise ValueError(f"{name}: expected no empty axis, got shape {array.shape}")
    return array


def _require_finite(array: Array, name: str) -> None:
    if not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name}: expected finite values, got {array[bad]} at index {bad}")


def _checked_labels(y: ArrayLike, z: ArrayLike) -> tuple[Array, Array]:
    """Validate ``(y, z)`` for the cross-entropy: same shape, finite, ``y`` on the simplex."""
    y = _as_float_array(y, "y")
    z = _as_float_array(z, "z")
    if y.shape != z.shape:
        raise ValueError(f"y: shape {y.shape} does not match z's shape {z.shape}")
    _require_finite(z, "z")
    _require_finite(y, "y")
    if (y < 0).any():
        bad = tuple(int(i) for i in np.argwhere(y < 0)[0])
        raise ValueError(f"y: expected y >= 0, got {y[bad]} at index {bad}")
    n = y.shape[-1]
    gap = np.abs(y.sum(axis=-1) - 1.0)
    if (gap > simplex_tolerance(n)).any():
        worst = np.unravel_index(int(np.argmax(gap)), gap.shape)
        raise ValueError(
            f"y: expected each y[..., :] to sum to 1 within {n} * EPS = "
            f"{simplex_tolerance(n):.3e}, got |sum - 1| = {gap[worst]:.3e} at batch index "
            f"{tuple(int(i) for i in worst)}"
        )
    return y, z


def _normalised_axis(axis: int, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ValueError(f"axis: expected an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis: {axis} is out of range for an array with {ndim} axes")
    return int(axis) % ndim


#: entries per block of rows in ``softmax``: 32768 float64 = 256 KiB, an L2-sized working set
_BLOCK_ENTRIES = 1 << 15


def _softmax_rows(z: Array, out: Array) -> bool:
    """Softmax of each row of the 2-D block ``z`` into ``out``; False if ``z`` is not finite."""
    m = z.max(axis=-1, keepdims=True)  # NaN or +inf anywhere shows up here
    if not np.isfinite(m).all() or np.isneginf(z).any():  # -inf leaves m finite
        return False
    with np.errstate(over="ignore"):  # z - m < -1.8e308 rounds to -inf, exp gives 0: exact
        np.subtract(z, m, out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)  # the sum is in [1, N]
    return True


def softmax(z: ArrayLike, axis: int = -1) -> Array:
    """``exp(z) / sum(exp(z))`` along ``axis``, exact up to rounding for any finite ``z``.

    Computed as ``e = exp(z - max z)`` (exponents ``<= 0``: no overflow; the largest
    ``e`` is 1: the sum is in ``[1, N]``), then ``e / sum(e)``, in one output buffer.
    See the module docstring for why the overflow of ``z - max z`` to ``-inf`` is exact.

    Speed: the work is done on blocks of whole rows of about 256 KiB, so that the five
    passes (max, finiteness, subtract, exp, sum and divide) read a block that is still in
    cache instead of streaming the whole array from memory five times; the loop runs over
    ``size / 32768`` blocks (one for small inputs), never over entries. On (4096, 1000)
    this took about two thirds of the unblocked time here (benchmarks/bench_softmax.py).
    """
    z = _as_float_array(z, "z")
    axis = _normalised_axis(axis, z.ndim)
    rows = np.moveaxis(z, axis, -1)
    n = rows.shape[-1]
    out = np.empty(rows.shape)
    z2, out2 = rows.reshape(-1, n), out.reshape(-1, n)  # z2 copies only if axis != -1
    step = max(1, _BLOCK_ENTRIES // n)
    for start in range(0, z2.shape[0], step):
        if not _softmax_rows(z2[start : start + step], out2[start : start + step]):
            _require_finite(z, "z")
    return np.moveaxis(out, -1, axis)


def softmax_jacobian(z: ArrayLike) -> Array:
    """``J[..., i, j] = dS_i/dz_j = S_i (delta_ij - S_j)`` for ``z`` of shape ``(..., N)``.

    Batched over the leading axes by broadcasting (no loops). Off the diagonal the entry
    is ``-S_i S_j``; on it ``S_i (1 - S_i)``, where ``1 - S_i`` is exact for
    ``S_i >= 1/2`` (Sterbenz), so the diagonal keeps a relative accuracy of a few ``u``
    with respect to the computed ``S`` instead of the absolute ``u`` of ``S_i - S_i**2``.
    """
    S = softmax(z, axis=-1)
    J = S[..., :, None] * S[..., None, :]
    np.negative(J, out=J)
    diagonal = np.arange(S.shape[-1])
    J[..., diagonal, diagonal] = S * (1.0 - S)
    return J


def cross_entropy(y: ArrayLike, z: ArrayLike) -> Array:
    """``L = -sum_i y_i log softmax(z)_i`` over the last axis, shape ``z.shape[:-1]``.

    Computed as ``sum_i y_i d_i + c log s`` with ``d = max z - z >= 0``,
    ``s = sum exp(-d)`` in ``[1, N]`` and ``c = sum y`` (module docstring: why this is
    finite, non-negative, NaN-free where ``y_i = 0``, and exact up to rounding).
    ``y`` must be ``>= 0`` and sum to 1 within ``simplex_tolerance(N)``.
    """
    y, z = _checked_labels(y, z)
    half_m = z.max(axis=-1, keepdims=True) * 0.5
    half_d = half_m - z * 0.5  # (m - z) / 2: both halves are <= 0.9e308, no overflow
    c = y.sum(axis=-1)
    with np.errstate(over="ignore"):  # -2 * half_d below -1.8e308 -> -inf, exp -> 0: exact
        s = np.exp(-2.0 * half_d).sum(axis=-1)
        # sum_i y_i d_i <= max d <= 1.8e308; it overflows only if the exact loss does
        return 2.0 * np.einsum("...i,...i->...", y, half_d) + c * np.log(s)


def cross_entropy_grad(y: ArrayLike, z: ArrayLike) -> Array:
    """``dL/dz = c softmax(z) - y`` with ``c = sum_i y_i``, shape of ``z``.

    On the simplex ``c = 1`` and this is the assignment's ``softmax(z) - y``. Keeping
    ``c`` (which the validation allows to be ``1 +- N EPS``) makes the result the exact
    gradient of the loss ``cross_entropy`` computes for the ``y`` it was given, and its
    entries sum to ``c - c = 0`` up to rounding.
    """
    y, z = _checked_labels(y, z)
    S = softmax(z, axis=-1)
    S *= y.sum(axis=-1, keepdims=True)
    S -= y
    return S


# --- the contract records (reference.contract) ---------------------------------------

#: audits send logits with |z_i| <= 1e4 (the reference itself takes any finite logit)
_LOGIT_LIMITS = {"max_abs_logit": 1e4}
_LABEL_ERRORS = [
    bad("y", y=np.array([1.0, 0.0]), z=np.zeros(3), match=r"^y: shape \(2,\) does not match"),
    # the message names the first negative entry (a 0.0 before it is not negative)
    bad("y", y=np.array([0.0, 1.25, -0.25]), z=np.zeros(3), match=r"^y: .*-0.25 at index \(2,\)"),
    bad("y", y=np.array([0.5, 0.6]), z=np.zeros(2), match="^y: expected each y"),
    bad("y", y=[[0.5, 0.5], [0.5, 0.6]], z=np.zeros((2, 2)), match=r"batch index \(1,\)$"),
    bad("y", y=np.array([0.5, 0.5 - 3 * EPS]), z=np.zeros(2), match="^y: expected each y"),
    bad("y", y=np.array([np.nan, 1.0]), z=np.zeros(2), match="^y: expected finite"),
    bad("z", y=np.array([0.0, 1.0]), z=np.array([0.0, np.inf]), match="^z: expected finite"),
    bad("z", y=np.array([0.0, 1.0]), z=np.array([-np.inf, 0.0]), match="^z: expected finite"),
    bad("y", y=np.array(1.0), z=np.array(0.0), match="^y: expected at least one axis"),
    bad("z", y=np.ones((2, 1)), z=np.zeros((2, 0)), match="^z: expected no empty axis"),
]

CONTRACT = [
    Record(
        "softmax",
        "(z, axis=-1)",
        limits=_LOGIT_LIMITS,
        error_inputs=[
            bad("z", z=np.array([1.0, np.nan]), match=r"^z: .* got nan at index \(1,\)$"),
            bad("z", z=np.array([1.0, np.inf]), match="^z: expected finite"),
            bad("z", z=np.array([[1.0, 2.0], [-np.inf, 0.0]]), match="^z: expected finite"),
            bad("z", z=np.array(1.0), match="^z: expected at least one axis"),
            bad("z", z=np.zeros((2, 0)), match="^z: expected no empty axis"),
            bad("axis", z=np.zeros(3), axis=1, match="^axis: 1 is out of range"),
            bad("axis", z=np.zeros(3), axis=0.5, match="^axis: expected an int, got float$"),
            bad("z", z=["a", "b"], match="^z: expected a real array, got list$"),
        ],
    ),
    Record(
        "softmax_jacobian",
        "(z)",
        limits=_LOGIT_LIMITS,
        error_inputs=[
            bad("z", z=np.array([0.0, np.nan]), match="^z: expected finite"),
            bad("z", z=np.array(0.0), match="^z: expected at least one axis"),
        ],
    ),
    Record(
        "cross_entropy",
        "(y, z)",
        limits=_LOGIT_LIMITS,
        error_inputs=_LABEL_ERRORS,
    ),
    Record(
        "cross_entropy_grad",
        "(y, z)",
        limits=_LOGIT_LIMITS,
        error_inputs=_LABEL_ERRORS,
    ),
]

"""The accuracy policy, written once, and the assertions every comparison goes through.

The policy
----------
An implementation is correct when its output is what some *backward-stable* algorithm
could return: the exact result for inputs perturbed by a few units of roundoff,
measured *normwise* (relative to the norm of each input the output depends on: a row
of logits, a batch-norm feature column, sigma, the whole padded image plane and the
kernel for a convolution, because FFT and Winograd errors spread across the image),
plus the rounding of the output itself; results in the subnormal range may flush to
zero. To first order this gives, for an output ``f(x)``,

    |f_hat - f| <= ||J|| * c u ||x|| + u |f| + FLUSH_FLOOR * scale

with ``J`` the exact derivative (each chapter computes or bounds it), ``u = EPS / 2``
the unit roundoff, ``c`` the chapter's count of roundings (a length of a sum, a
``log2`` of an FFT size), and ``scale`` the size of the output. That is the pass/fail
bound of every property (a ``Bound`` from the chapter's tolerance module). FFT or
Winograd convolutions, logsumexp softmax and flush-to-zero frameworks are correct by
this standard; a float32 intermediate, a finite-difference gradient or a clipped log
is not.

Accuracy grade (reported, not enforced). Where a chapter also knows the tighter
*componentwise* (entrywise) bound that a straightforward algorithm meets, it passes it
as ``componentwise=`` to ``assert_close``: a property whose every example met it is
graded "componentwise accurate", one that needed the normwise bound "backward stable
only" (typical of FFT, Winograd, logsumexp). The grade travels with the test report
(``ACCURACY_PROPERTY`` in ``item.user_properties``) to the audit and ``make report``.

Messages. ``assert_close`` says what was compared, where it is worst, the observed and
expected values, the bound and why it is what it is; non-finite output is named as such
("returned nan at index (0, 1)"), never compared. ``assert_shape`` speaks like
array-api-tests: ``out.shape=(2, 3), but should be (2, 4) [softmax(z, axis=-1)]``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ACCURACY_PROPERTY",
    "EPS",
    "FLUSH_FLOOR",
    "TINY",
    "UNIT_ROUNDOFF",
    "Bound",
    "DirectionalDifference",
    "accuracy_grades",
    "assert_close",
    "assert_finite",
    "assert_shape",
    "directional_difference",
    "higham_gamma",
    "safe_norm",
]


#: float64 machine epsilon, 2**-52: the spacing of floats at 1.0 (twice the unit roundoff)
EPS: float = float(np.finfo(np.float64).eps)
#: unit roundoff u = EPS / 2: the relative error of one correctly rounded operation
UNIT_ROUNDOFF: float = EPS / 2
#: the smallest positive subnormal float64, 2**-1074: one step of gradual underflow
TINY: float = float(np.finfo(np.float64).smallest_subnormal)
#: the smallest normal float64, 2**-1022: a result below it may be flushed to zero by a
#: correct flush-to-zero implementation (XLA on CPU, some BLAS); multiplied by the
#: output's scale it is the absolute floor every bound carries
FLUSH_FLOOR: float = float(np.finfo(np.float64).smallest_normal)
#: the user-property key under which a property's accuracy grade reaches reports
ACCURACY_PROPERTY = "nnlaws-accuracy"


class Bound(NamedTuple):
    """A tolerance and the reason it is what it is, always together.

    ``tol`` broadcasts against the compared arrays; ``why`` is one line naming the error
    model (it appears in every failure message, so no test writes it by hand).
    """

    tol: np.ndarray | float
    why: str


# --- Rounding of sums ------------------------------------------------------------


def higham_gamma(n: int) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)`` with unit roundoff ``u = EPS / 2``.

    A float64 sum of ``n`` products, in ANY order (BLAS blocking, FMA, pairwise or
    recursive), differs from the exact sum by at most ``gamma_n * sum |products|``
    (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5), as long
    as nothing overflows or underflows. Terms that are exact zeros (padding, the holes of
    a dilated kernel) add no rounding, so ``n`` counts the nonzero terms at most.
    """
    nu = n * EPS / 2
    if not 0 <= nu < 1:
        raise ValueError(f"n: gamma_n needs 0 <= n u < 1, got n = {n}")
    return nu / (1 - nu)


def safe_norm(a: ArrayLike, axis: int | tuple[int, ...]) -> np.ndarray:
    """Euclidean norms over ``axis``, scaled by the largest entry so squares never underflow.

    ``sqrt(sum(a**2))`` is 0 for entries below about 1e-154 (their squares underflow), which
    would turn every normwise bound of tiny inputs into 0; scaling by ``max |a|`` first
    (exact to a relative u per entry) keeps the norm of any finite array finite and right.
    """
    a = np.abs(np.asarray(a, dtype=np.float64))
    scale = a.max(axis=axis, keepdims=True, initial=0.0)
    safe = np.where(scale > 0, scale, 1.0)
    return np.squeeze(scale * np.sqrt(np.sum(np.square(a / safe), axis=axis, keepdims=True)), axis)


# --- Accuracy grades ---------------------------------------------------------------

_GRADES: contextvars.ContextVar[dict[str, bool] | None] = contextvars.ContextVar(
    "nnlaws_accuracy_grades", default=None
)


@contextmanager
def accuracy_grades() -> Iterator[dict[str, bool]]:
    """Collect, while a property runs, whether each compared quantity met its tighter bound.

    Yields ``{what: componentwise_ok}`` (``what`` as passed to ``assert_close``),
    ``False`` as soon as one example needed the normwise bound. The audit plugin wraps
    every test call in it and turns the result into the property's grade.
    """
    grades: dict[str, bool] = {}
    token = _GRADES.set(grades)
    try:
        yield grades
    finally:
        _GRADES.reset(token)


def _record_grade(what: str, componentwise_ok: bool) -> None:
    grades = _GRADES.get()
    if grades is not None:
        grades[what] = grades.get(what, True) and componentwise_ok


# --- Assertions --------------------------------------------------------------------


def assert_shape(observed: ArrayLike, shape: tuple[int, ...], *, call: str) -> None:
    """Assert ``observed.shape == shape``, in array-api-tests' words.

    ``out.shape=(2, 3), but should be (2, 4) [softmax(z, axis=-1)]``: ``call`` names the
    call that produced ``observed``.
    """
    __tracebackhide__ = True
    got = np.shape(observed)
    assert got == tuple(shape), f"out.shape={got}, but should be {tuple(shape)} [{call}]"


def assert_finite(observed: ArrayLike, *, call: str) -> None:
    """Assert every entry is finite; name the first NaN or infinity and where it is."""
    __tracebackhide__ = True
    values = np.asarray(observed, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{call} returned {float(values[where])!r} at index {where} "
            f"({int(bad.sum())} of {values.size} entries non-finite) on a valid input"
        )


def _worst(bad: np.ndarray, error: np.ndarray) -> tuple[int, ...]:
    score = np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(score)), error.shape))


def assert_close(
    observed: ArrayLike,
    expected: ArrayLike,
    bound: Bound,
    *,
    what: str,
    componentwise: Bound | None = None,
) -> None:
    """Assert ``|observed - expected| <= bound.tol`` elementwise, with a readable failure.

    ``what`` names the quantity compared and the call that produced it; ``bound`` is the
    pass/fail (backward-stability) bound with its reason. Shapes must agree exactly;
    non-finite observed values where the expected one is finite fail with their index.
    ``componentwise``, when given, is the tighter bound of the accuracy grade: meeting it
    or not is recorded (see ``accuracy_grades``), never enforced.
    """
    __tracebackhide__ = True
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert observed.shape == expected.shape, (
        f"{what}: out.shape={observed.shape}, but should be {expected.shape}"
    )
    nonfinite = ~np.isfinite(observed) & np.isfinite(expected)
    if nonfinite.any():
        where = tuple(int(i) for i in np.argwhere(nonfinite)[0])
        raise AssertionError(
            f"{what}: returned {float(observed[where])!r} at index {where} where the exact "
            f"value is {float(expected[where])!r} ({int(nonfinite.sum())} of {observed.size} "
            "entries)"
        )
    with np.errstate(invalid="ignore"):
        error = np.abs(observed - expected)
    tol = np.broadcast_to(np.asarray(bound.tol, dtype=np.float64), error.shape)
    bad = ~(error <= tol)  # catches NaN (and inf - inf) too
    if bad.any():
        where = _worst(bad, error)
        with np.printoptions(precision=17, threshold=60, linewidth=100):
            raise AssertionError(
                f"{what}: {int(bad.sum())} of {error.size} entries outside tolerance; "
                f"worst at index {where}: observed {float(observed[where])!r}, "
                f"expected {float(expected[where])!r}, |difference| {error[where]:.3e} > "
                f"tol {tol[where]:.3e} ({bound.why})\n"
                f"expected:\n{expected}\nobserved:\n{observed}"
            )
    if componentwise is not None:
        tight = np.broadcast_to(np.asarray(componentwise.tol, dtype=np.float64), error.shape)
        _record_grade(what, bool((error <= tight).all()))


# --- Directional finite differences ------------------------------------------------


class DirectionalDifference(NamedTuple):
    """A central-difference estimate of ``<grad l(x), v>`` and a bound on its error."""

    estimate: float  # (l(x + h v) - l(x - h v)) / 2h
    tol: float  # truncation estimate + rounding bound (see directional_difference)


def _central(loss: Callable[[np.ndarray], float], x: np.ndarray, v: np.ndarray, h: float) -> float:
    return (float(loss(x + h * v)) - float(loss(x - h * v))) / (2.0 * h)


def directional_difference(
    loss: Callable[[np.ndarray], float],
    x: np.ndarray,
    v: np.ndarray,
    h: float,
    rounding_scale: float,
) -> DirectionalDifference:
    """Central difference of a scalar ``loss`` at ``x`` along ``v``, with a derived bound.

    Error model (Taylor): ``fd(h) = <g, v> + (h**2 / 6) l'''[v, v, v] + O(h**4)``, so
    truncation is unknown but ``fd(2h) - fd(h) = 3 (h**2 / 6) l''' + O(h**4)``: the
    Richardson difference ``|fd(h) - fd(2h)|`` is three times the truncation error of
    ``fd(h)``, a bound with a factor-3 margin that adapts to the curvature actually met.

    Rounding: each float64 evaluation of ``loss`` is off by at most about
    ``EPS * rounding_scale``, where ``rounding_scale`` bounds the magnitudes summed to
    form the loss (for ``l = sum(dy * y)`` it is ``sum |dy * y|``). Dividing the
    difference of two evaluations by ``2h`` gives ``EPS * rounding_scale / h``; doubling
    it covers the rounding of ``fd(2h)`` inside the Richardson term. Total:
    ``tol = |fd(h) - fd(2h)| + 2 * EPS * rounding_scale / h``.

    Two extra evaluations buy the truncation estimate: four per check whatever the size
    of ``x``, against ``2 * x.size`` for a full finite-difference gradient.
    """
    estimate = _central(loss, x, v, h)
    richardson = abs(estimate - _central(loss, x, v, 2.0 * h))
    return DirectionalDifference(estimate, richardson + 2.0 * EPS * rounding_scale / h)

"""Error models behind every numerical comparison, and the assertion that uses them.

A tolerance here is never a tuned constant: each function states where its bound
comes from (float64 unit roundoff, problem size, magnitude of the data, conditioning,
finite-difference step) so that a failure means a wrong formula, not bad luck.

``assert_close`` reports what was expected, what came out, where they differ most and
why the bound is what it is, so a shrunk counterexample reads on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "EPS",
    "DirectionalDifference",
    "assert_close",
    "directional_difference",
]


#: float64 machine epsilon, 2**-52: the spacing of floats at 1.0 (twice the unit roundoff)
EPS: float = float(np.finfo(np.float64).eps)


def assert_close(
    observed: ArrayLike, expected: ArrayLike, tol: ArrayLike, *, what: str, why: str
) -> None:
    """Assert ``|observed - expected| <= tol`` elementwise, with a readable failure.

    ``tol`` broadcasts against the arrays; ``what`` names the quantity compared and
    ``why`` the error model that sets ``tol`` (both appear in the failure message).
    Shapes must agree exactly and NaN never compares equal.
    """
    __tracebackhide__ = True
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert observed.shape == expected.shape, (
        f"{what}: shape {observed.shape}, but should be {expected.shape}"
    )
    error = np.abs(observed - expected)
    bound = np.broadcast_to(np.asarray(tol, dtype=np.float64), error.shape)
    bad = ~(error <= bound)  # catches NaN too
    if bad.any():
        score = np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0)
        where = np.unravel_index(int(np.argmax(score)), error.shape)
        with np.printoptions(precision=17, threshold=60, linewidth=100):
            raise AssertionError(
                f"{what}: {int(bad.sum())} of {error.size} entries outside tolerance; "
                f"worst at index {tuple(int(i) for i in where)}: "
                f"observed {observed[where]!r}, expected {expected[where]!r}, "
                f"|difference| {error[where]:.3e} > tol {bound[where]:.3e} ({why})\n"
                f"expected:\n{expected}\nobserved:\n{observed}"
            )


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

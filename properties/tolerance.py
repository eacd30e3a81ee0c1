"""Error models behind every numerical comparison, and the assertion that uses them.

A tolerance here is never a tuned constant: each function states where its bound
comes from (float64 unit roundoff, problem size, magnitude of the data, conditioning,
finite-difference step) so that a failure means a wrong formula, not bad luck.

``assert_close`` reports what was expected, what came out, where they differ most and
why the bound is what it is, so a shrunk counterexample reads on its own.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

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

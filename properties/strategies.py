"""Public, reusable Hypothesis strategies for the mathematics of deep learning.

Every strategy here draws structure first (sizes, ranks, spectra, spreads) and values
second, so that a failure shrinks to a small, readable case. Values come from
``hypothesis.extra.numpy.arrays`` with ``fill=st.nothing()`` (every entry drawn, not a
repeated fill value) or are built by construction; nothing filters with ``assume``.
Strategies validate their arguments eagerly and raise ``ValueError`` before drawing.
Results with several parts are NamedTuples, so properties and users read them by name.

Sections: convolution; batch normalisation; softmax and cross-entropy; symmetric
positive semi-definite matrices and orthonormal frames.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# --- Convolution -------------------------------------------------------------------


# --- Batch normalisation -----------------------------------------------------------

#: the contract's default eps for batch norm (``batchnorm_forward(x, gamma, beta)``)
BATCHNORM_DEFAULT_EPS = 1e-5

#: per-feature structure of a drawn batch
SPREAD, NEARLY_CONSTANT, CONSTANT = "spread", "nearly constant", "constant"


class BatchNormCase(NamedTuple):
    """One batch-norm problem: a batch, the parameters, an upstream gradient and eps."""

    x: np.ndarray  # (m, d)
    gamma: np.ndarray  # (d,)
    beta: np.ndarray  # (d,)
    dy: np.ndarray  # (m, d) upstream gradient dl/dy, drawn (never all-ones)
    eps: float | None  # None: call without eps, so the contract default 1e-5 applies

    @property
    def eps_value(self) -> float:
        """The eps in effect (the contract default when ``eps`` is None)."""
        return BATCHNORM_DEFAULT_EPS if self.eps is None else self.eps

    @property
    def eps_kwargs(self) -> dict[str, float]:
        """Keyword arguments that pass eps, or none at all to exercise the default."""
        return {} if self.eps is None else {"eps": self.eps}


def _exponents(low: float, high: float) -> st.SearchStrategy[float]:
    """Exponents in [low, high], with the extremes themselves drawn often.

    Rounding trouble lives at the corners (an offset of 1e3 on a spread of 1e-3), which
    uniform exponents would reach only rarely.
    """
    return st.sampled_from([0.0, float(low), float(high)]) | st.floats(low, high)


# Array strategies are cached per shape: building (and validating) a fresh
# ``hnp.arrays`` strategy on every draw costs more than the properties themselves.


@functools.cache
def _exponent_arrays(d: int, low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=_exponents(low, high), fill=st.nothing())


@functools.cache
def _uniform_arrays(d: int, low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=st.floats(low, high), fill=st.nothing())


@functools.cache
def _signed_magnitudes(d: int, low: int, high: int) -> st.SearchStrategy[np.ndarray]:
    """Arrays of +-10**e with e drawn in [low, high] (or exactly 0), one per feature."""
    signs = hnp.arrays(np.int8, d, elements=st.sampled_from([0, 1, -1]), fill=st.nothing())
    return st.tuples(_exponent_arrays(d, low, high), signs).map(lambda es: es[1] * 10.0 ** es[0])


@functools.cache
def _grid_values(shape: int | tuple[int, ...], steps: int) -> st.SearchStrategy[np.ndarray]:
    """Arrays of k / steps with integer k in [-steps, steps]: values in [-1, 1], 0 included.

    A grid rather than arbitrary floats keeps every nonzero magnitude >= 1 / steps, so
    no product in batch norm underflows into the subnormals (where relative rounding
    bounds fail); the properties are about the formulas, not about underflow.
    """
    ks = hnp.arrays(np.int64, shape, elements=st.integers(-steps, steps), fill=st.nothing())
    return ks.map(lambda k: k / steps)


@functools.cache
def _feature_kinds(d: int) -> st.SearchStrategy[list[str]]:
    kinds = st.sampled_from([SPREAD, NEARLY_CONSTANT, CONSTANT])
    return st.lists(kinds, min_size=d, max_size=d)


def batchnorm_cases(
    *,
    min_m: int = 1,
    max_m: int = 16,
    max_d: int = 4,
    eps: st.SearchStrategy[float | None] | None = None,
) -> st.SearchStrategy[BatchNormCase]:
    """Batches whose per-feature structure is drawn before their values.

    For each feature j: a kind (spread, nearly constant with sigma^2 between 1e-8 and
    1e-2 times eps, or exactly constant), a spread 10**e with e in [-3, 3], and an offset
    that is 0 or +-10**e with e in [-3, 3] (so up to 1e3 away from 0 with a spread down
    to 1e-3). Values are ``offset + spread * z`` with every z drawn on a grid of step
    1e-3 in [-1, 1]. ``gamma`` is drawn on a grid of step 1e-2 in [-10, 10] (0 and
    negatives included), ``beta`` is 0 or +-10**e with e in [-3, 3], and ``dy`` is drawn
    entry by entry on the same grid as gamma (never a constant: an all-ones dy makes the
    true dx identically 0). ``eps`` is ``None`` (use the contract default) or drawn from
    [1e-8, 1e-1]; pass ``eps=`` to override. Shrinks towards a 1 x 1 batch, zero
    offsets, unit spreads, and zeros.

    >>> case = batchnorm_cases(max_m=4, max_d=2).example()  # doctest: +SKIP
    >>> case.x.shape[1] == case.gamma.shape[0] == case.beta.shape[0]  # doctest: +SKIP
    True
    """
    if not 1 <= min_m <= max_m:
        raise ValueError(f"min_m, max_m: need 1 <= min_m <= max_m, got {min_m}, {max_m}")
    if max_d < 1:
        raise ValueError(f"max_d: need max_d >= 1, got {max_d}")
    eps_strategy = eps if eps is not None else st.none() | st.floats(1e-8, 1e-1)
    return _batchnorm_cases(min_m, max_m, max_d, eps_strategy)


@st.composite
def _batchnorm_cases(
    draw: st.DrawFn,
    min_m: int,
    max_m: int,
    max_d: int,
    eps_strategy: st.SearchStrategy[float | None],
) -> BatchNormCase:
    """Draw one case (arguments validated by ``batchnorm_cases``)."""
    m = draw(st.integers(min_m, max_m), label="m")
    d = draw(st.integers(1, max_d), label="d")
    eps_value = draw(eps_strategy, label="eps")
    effective_eps = BATCHNORM_DEFAULT_EPS if eps_value is None else eps_value
    kinds = draw(_feature_kinds(d), label="feature kinds")
    spread_exp = draw(_exponent_arrays(d, -3, 3), label="log10 spread")
    below_eps_exp = draw(
        _uniform_arrays(d, -4, -1), label="log10 (spread / sqrt(eps)) of nearly constant features"
    )
    spread = np.where(
        np.array(kinds) == SPREAD,
        10.0**spread_exp,
        np.where(
            np.array(kinds) == NEARLY_CONSTANT, np.sqrt(effective_eps) * 10.0**below_eps_exp, 0.0
        ),
    )
    offset = draw(_signed_magnitudes(d, -3, 3), label="offset")
    z = draw(_grid_values((m, d), 1000), label="z")
    x = offset + spread * z
    gamma = 10 * draw(_grid_values(d, 1000), label="gamma / 10")
    beta = draw(_signed_magnitudes(d, -3, 3), label="beta")
    dy = 10 * draw(_grid_values((m, d), 1000), label="dy / 10")
    return BatchNormCase(x, gamma, beta, dy, eps_value)


def feature_shifts(d: int, max_abs: float = 1e3) -> st.SearchStrategy[np.ndarray]:
    """Per-feature constants c (shape (d,), |c_j| <= max_abs) to add to every row of x.

    >>> feature_shifts(3).example().shape  # doctest: +SKIP
    (3,)
    """
    if d < 1:
        raise ValueError(f"d: need d >= 1, got {d}")
    if not (math.isfinite(max_abs) and max_abs >= 0):
        raise ValueError(f"max_abs: need a finite number >= 0, got {max_abs}")
    return hnp.arrays(
        np.float64,
        d,
        elements=st.floats(-max_abs, max_abs, allow_subnormal=False),
        fill=st.nothing(),
    )


# --- Softmax and cross-entropy -----------------------------------------------------


# --- Symmetric positive semi-definite matrices and orthonormal frames -------------

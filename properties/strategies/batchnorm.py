"""Strategies for the batch-normalisation chapter: batches with controlled spreads."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from properties.strategies._args import Size, StrategyArgumentError, finite_number, size_strategy
from reference.contract import record

__all__ = [
    "BATCHNORM_DEFAULT_EPS",
    "FEATURE_KINDS",
    "ONE_PASS_FAILS_AT",
    "Batch",
    "batches",
    "feature_shifts",
]


# --- Batch normalisation -----------------------------------------------------------

#: the contract's default eps for batch norm (``batchnorm_forward(x, gamma, beta)``)
BATCHNORM_DEFAULT_EPS: float = record("batchnorm_forward").defaults["eps"]

#: |offset| / sqrt(spread^2 + eps) from which a one-pass variance E[x^2] - mu^2 loses
#: every digit the pass/fail bound allows (its error u mu^2 against the bound's
#: ~ 4 n EPS sigma |mu|, n <= 26): the region the strategy must reach, shown by ``event``
ONE_PASS_FAILS_AT: float = 1e4

#: per-feature structure of a drawn batch: "spread" (sigma^2 >> eps possible), "nearly
#: constant" (sigma^2 between 1e-8 and 1e-2 times eps), "constant" (sigma^2 = 0 exactly)
FEATURE_KINDS: tuple[str, ...] = ("spread", "nearly constant", "constant")

#: eps when not given: None (call without eps: the contract default) or a value in
#: [1e-8, 1e-1]
_EPS_VALUES: SearchStrategy[float | None] = st.none() | st.floats(1e-8, 1e-1)


class Batch(NamedTuple):
    """One batch-norm problem: a batch, the parameters, an upstream gradient and eps."""

    x: np.ndarray  # (m, d)
    gamma: np.ndarray  # (d,)
    beta: np.ndarray  # (d,)
    dy: np.ndarray  # (m, d) upstream gradient dl/dy, drawn (never all-ones)
    eps: float | None  # None: call without eps, so the contract default 1e-5 applies

    def __repr__(self) -> str:
        """The arrays in full (shortest round-trip digits) and the key facts per feature."""
        m, d = self.x.shape
        eps = "None,  # the contract default" if self.eps is None else f"{self.eps!r},"
        with np.printoptions(floatmode="unique", threshold=10**6, linewidth=96):
            facts = (
                f"    # m={m} examples, d={d} features, eps in effect {self.eps_value!r}\n"
                f"    # per feature: mean {np.array2string(self.x.mean(axis=0))}, "
                f"variance {np.array2string(self.x.var(axis=0))}\n"
            )
            fields = "".join(
                f"    {name}={np.array_repr(value)},\n".replace("\n      ", "\n          ")
                for name, value in (
                    ("x", self.x),
                    ("gamma", self.gamma),
                    ("beta", self.beta),
                    ("dy", self.dy),
                )
            )
        return f"Batch(\n{facts}{fields}    eps={eps}\n)"

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        """Hypothesis prints counterexamples with this (it would print a plain tuple)."""
        printer.text(repr(self))  # type: ignore[attr-defined]

    @property
    def eps_value(self) -> float:
        """The eps in effect (the contract default when ``eps`` is None)."""
        return BATCHNORM_DEFAULT_EPS if self.eps is None else self.eps

    @property
    def eps_kwargs(self) -> dict[str, float]:
        """Keyword arguments that pass eps, or none at all to exercise the default."""
        return {} if self.eps is None else {"eps": self.eps}


def _exponents(low: float, high: float) -> SearchStrategy[float]:
    """Exponents in [low, high], with 0 and the extremes themselves drawn often.

    Rounding trouble lives at the corners (an offset of 1e3 on a spread of 1e-3), which
    uniform exponents would reach only rarely.
    """
    return st.sampled_from([0.0, float(low), float(high)]) | st.floats(low, high)


# Array strategies are cached per shape: building (and validating) a fresh
# ``hnp.arrays`` strategy on every draw costs more than the properties themselves.


@functools.cache
def _exponent_arrays(d: int, low: float, high: float) -> SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=_exponents(low, high), fill=st.nothing())


@functools.cache
def _uniform_arrays(d: int, low: float, high: float) -> SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=st.floats(low, high), fill=st.nothing())


@functools.cache
def _signed_magnitudes(d: int, low: int, high: int) -> SearchStrategy[np.ndarray]:
    """Arrays of +-10**e with e drawn in [low, high] (or exactly 0), one per feature."""
    signs = hnp.arrays(np.int8, d, elements=st.sampled_from([0, 1, -1]), fill=st.nothing())
    return st.tuples(_exponent_arrays(d, low, high), signs).map(lambda es: es[1] * 10.0 ** es[0])


@functools.cache
def _grid_values(shape: int | tuple[int, ...], steps: int) -> SearchStrategy[np.ndarray]:
    """Arrays of k / steps with integer k in [-steps, steps]: values in [-1, 1], 0 included.

    A grid rather than arbitrary floats keeps every nonzero magnitude >= 1 / steps, so
    no product in batch norm underflows into the subnormals (where relative rounding
    bounds fail); the properties are about the formulas, not about underflow.
    """
    ks = hnp.arrays(np.int64, shape, elements=st.integers(-steps, steps), fill=st.nothing())
    return ks.map(lambda k: k / steps)


@functools.cache
def _feature_kinds(d: int, kinds: tuple[str, ...]) -> SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(kinds), min_size=d, max_size=d)


def _eps_strategy(eps: object) -> SearchStrategy[float | None]:
    """``eps`` as a strategy: None or a finite number > 0 is pinned, a strategy is checked."""
    if isinstance(eps, SearchStrategy):
        return eps.map(lambda e: e if e is None else finite_number("eps", e))
    return st.just(eps if eps is None else finite_number("eps", eps))


def batches(
    *,
    m: Size = st.integers(1, 16),
    d: Size = st.integers(1, 4),
    eps: float | SearchStrategy[float | None] | None = _EPS_VALUES,
    kinds: Sequence[str] = FEATURE_KINDS,
) -> SearchStrategy[Batch]:
    """Batch-norm problems ``(x, gamma, beta, dy, eps)``, per-feature structure before values.

    ``m`` examples (>= 1) and ``d`` features (>= 1). For each feature: a kind from
    ``kinds`` (see ``FEATURE_KINDS``), a spread 10**e with e in [-3, 3], and an offset
    that is 0 or +-10**e with e in [-3, 3] (so up to 1e3 away from 0 with a spread down
    to 1e-3). Values are ``offset + spread * z`` with every z drawn on a grid of step
    1e-3 in [-1, 1]. ``gamma`` is drawn on a grid of step 1e-2 in [-10, 10] (0 and
    negatives included), ``beta`` is 0 or +-10**e with e in [-3, 3], and ``dy`` is drawn
    entry by entry on the same grid as gamma (never a constant: an all-ones dy makes the
    true dx identically 0). ``eps``: a number > 0, ``None`` (call without eps, so the
    contract default applies: ``Batch.eps_kwargs``), or a strategy of those; by default
    None or a value in [1e-8, 1e-1]. Shrinks towards a 1 x 1 batch, zero offsets, unit
    spreads and zeros.

    >>> batch = batches(m=4, d=2, eps=1e-3).example()
    >>> batch.x.shape, batch.gamma.shape, batch.dy.shape, batch.eps
    ((4, 2), (2,), (4, 2), 0.001)
    """
    if (
        isinstance(kinds, str)
        or not kinds
        or not all(isinstance(k, str) and k in FEATURE_KINDS for k in kinds)
    ):
        raise StrategyArgumentError(
            f"kinds: expected a non-empty sequence from {FEATURE_KINDS}, got {kinds!r}"
        )
    return _batches(
        size_strategy("m", m, 1), size_strategy("d", d, 1), _eps_strategy(eps), tuple(kinds)
    )


@st.composite
def _batches(
    draw: st.DrawFn,
    m_sizes: SearchStrategy[int],
    d_sizes: SearchStrategy[int],
    eps_values: SearchStrategy[float | None],
    kinds: tuple[str, ...],
) -> Batch:
    """Draw one batch (arguments validated by ``batches``)."""
    m = draw(m_sizes, label="m")
    d = draw(d_sizes, label="d")
    eps = draw(eps_values, label="eps")
    effective_eps = BATCHNORM_DEFAULT_EPS if eps is None else eps
    kind = np.array(draw(_feature_kinds(d, kinds), label="feature kinds"))
    spread_exp = draw(_exponent_arrays(d, -3, 3), label="log10 spread")
    below_eps_exp = draw(
        _uniform_arrays(d, -4, -1), label="log10 (spread / sqrt(eps)) of nearly constant features"
    )
    spread = np.select(
        [kind == "spread", kind == "nearly constant"],
        [10.0**spread_exp, math.sqrt(effective_eps) * 10.0**below_eps_exp],
        0.0,
    )
    offset = draw(_signed_magnitudes(d, -3, 3), label="offset")
    z = draw(_grid_values((m, d), 1000), label="z")
    x = offset + spread * z
    _label_region(offset, spread, effective_eps, m)
    gamma = 10 * draw(_grid_values(d, 1000), label="gamma / 10")
    beta = draw(_signed_magnitudes(d, -3, 3), label="beta")
    dy = 10 * draw(_grid_values((m, d), 1000), label="dy / 10")
    return Batch(x, gamma, beta, dy, eps)


def _label_region(offset: np.ndarray, spread: np.ndarray, eps: float, m: int) -> None:
    """``event()`` the region drawn: how far the largest offset is from the spreads."""
    ratio = float(np.max(np.abs(offset) / np.sqrt(spread**2 + eps)))
    if m == 1:
        event("batch: m = 1 (xhat = 0)")
    elif ratio >= ONE_PASS_FAILS_AT:
        event(f"batch: |offset| / s >= {ONE_PASS_FAILS_AT:.0e} (a one-pass variance fails)")
    elif ratio >= 10:
        event("batch: |offset| / s in [10, 1e4)")
    else:
        event("batch: |offset| / s < 10")


def feature_shifts(*, d: Size, max_abs: float = 1e3) -> SearchStrategy[np.ndarray]:
    """Per-feature constants c (shape (d,), |c_j| <= max_abs) to add to every row of x.

    >>> feature_shifts(d=3).example().shape
    (3,)
    """
    sizes = size_strategy("d", d, 1)
    bound = finite_number("max_abs", max_abs, inclusive=True)
    return sizes.flatmap(
        lambda n: hnp.arrays(
            np.float64,
            n,
            elements=st.floats(-bound, bound, allow_subnormal=False),
            fill=st.nothing(),
        )
    )

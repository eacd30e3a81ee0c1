"""Argument validation shared by every strategies chapter.

Every argument error is an ``StrategyArgumentError``: a
``hypothesis.errors.InvalidArgument`` (what a Hypothesis user expects, as from
``hypothesis.extra.numpy``) and also a ``ValueError``, so code written when the
strategies raised ``ValueError`` keeps catching them. Chapters raise through the helpers
below, or ``StrategyArgumentError`` directly for a check of their own.
"""

from __future__ import annotations

import functools
import math
from typing import TypeAlias

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

__all__ = [
    "Size",
    "StrategyArgumentError",
]


#: A size or structural count: an int pins it, a strategy of ints draws it.
Size: TypeAlias = int | SearchStrategy[int]


class StrategyArgumentError(InvalidArgument, ValueError):
    """A strategy was called with a bad argument (named first in the message)."""


# --- Arguments -----------------------------------------------------------------------


def checked_int(name: str, low: int, high: int | None, value: object) -> int:
    """``value`` as an int in [low, high] (no upper bound if None), else an argument error."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise StrategyArgumentError(f"{name}: expected an int {bound}, got {value!r}")
    return int(value)


def size_strategy(name: str, value: Size, low: int, high: int | None = None) -> SearchStrategy[int]:
    """A size argument as a strategy of ints in [low, high].

    An int is validated now and pinned with ``st.just``; a strategy is used as given,
    each drawn value checked as it is drawn.
    """
    if isinstance(value, SearchStrategy):
        return value.map(functools.partial(checked_int, name, low, high))
    return st.just(checked_int(name, low, high, value))


def check_pinned_count(name: str, value: Size | None, low: int, m: Size) -> None:
    """Eagerly check ``low <= value <= m`` when both are pinned ints (else at draw time)."""
    if isinstance(m, int) and value is not None and not isinstance(value, SearchStrategy):
        checked_int(name, low, m, value)


def finite_number(name: str, value: object, *, low: float = 0.0, inclusive: bool = False) -> float:
    """A finite real > low (>= low if ``inclusive``), else an argument error naming it."""
    if isinstance(value, int | float | np.floating) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and (number >= low if inclusive else number > low):
            return number
    relation = ">=" if inclusive else ">"
    raise StrategyArgumentError(f"{name}: expected a finite number {relation} {low}, got {value!r}")

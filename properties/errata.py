"""Errata of the answer key, recorded by the tests that demonstrate them.

An erratum test runs the answer key's own statement, lets Hypothesis find (and shrink)
a counterexample, asserts that it exists, and records it with ``record_erratum`` so
``make report`` can list it beside the corrected statement. Erratum tests exercise the
key, not an implementation under test, so they carry no ``@uses`` marker and are not
part of audits. ``smallest_counterexample`` is the search every erratum test runs: it
lives here, beside ``record_erratum``, because it is how errata are found (a search
procedure, not an independent computation of a quantity, which is what oracles are).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hypothesis import find, settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

#: the user-property key under which an erratum travels to reports (JUnit XML included)
ERRATUM_PROPERTY = "nnlaws-erratum"


def record_erratum(
    record_property: Callable[[str, Any], None],
    *,
    problem: str,
    claim: str,
    correction: str,
    counterexample: str,
) -> None:
    """Attach an erratum to the running test (pass pytest's ``record_property`` fixture).

    ``problem`` names the assignment problem ("Problem 4.1"), ``claim`` quotes what the
    key states, ``correction`` the true statement, ``counterexample`` the minimal
    input Hypothesis found, rendered as text.
    """
    record_property(
        ERRATUM_PROPERTY,
        json.dumps(
            {
                "problem": problem,
                "claim": claim,
                "correction": correction,
                "counterexample": counterexample,
            }
        ),
    )


def smallest_counterexample(
    strategy_of_size: Callable[[Any], SearchStrategy[T]],
    is_counterexample: Callable[[T], bool],
    sizes: Iterable[Any],
    *,
    max_examples: int = 50,
) -> T:
    """The first counterexample, searching one size at a time in the order of ``sizes``.

    Shrinking a size inside one search reinterprets every later draw, so Hypothesis can
    stop at a larger size (a local minimum); fixing the size per search makes the first
    size with a counterexample the minimal one, and shrinking then works within it.
    Sizes without a counterexample exhaust ``max_examples`` (set here, not by the
    profile, to bound that cost). ``database=None``: an erratum is rediscovered, and
    shrunk, from scratch on every run.
    """
    tried = []
    for size in sizes:
        tried.append(size)
        try:
            return find(
                strategy_of_size(size),
                is_counterexample,
                settings=settings(database=None, max_examples=max_examples),
            )
        except NoSuchExample:
            continue
    raise AssertionError(f"no counterexample for any of the sizes {tried}")

"""Errata of the answer key, recorded by the tests that demonstrate them.

An erratum test runs the answer key's own statement, lets Hypothesis find (and shrink)
a counterexample, asserts that it exists, and records it with ``record_erratum`` so
``make report`` can list it beside the corrected statement. Erratum tests exercise the
key, not an implementation under test, so they carry no ``@uses`` marker and are not
part of audits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

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

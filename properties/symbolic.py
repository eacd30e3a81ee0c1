"""Symbolic proofs for small sizes: how a test says which closed form it proves exactly.

Sampling checks a theorem at points; for the smallest sizes SymPy can check a closed
form as an identity. A proof test is marked ``@proves("softmax_jacobian", "for N = 2..4,
dS_i/dz_j = S_i (delta_ij - S_j)")``: the first argument names the theorem module's
subject (a contract name), the second what was proved. ``make report`` shows a "proved
for small sizes" mark per theorem from these markers. Proofs are about formulas, not
implementations: they carry no ``@uses`` and are never part of an audit.

Every proof function takes the formula it proves as an argument, so the meta tests can
hand it a broken formula and show the proof then fails (a proof that cannot fail is a
defect, as for properties).
"""

from __future__ import annotations

import pytest

#: the marker name the report reads
MARKER = "proves"


def proves(subject: str, claim: str) -> pytest.MarkDecorator:
    """Mark a test as a symbolic proof of ``claim`` about contract name ``subject``."""
    if not subject or not claim:
        raise ValueError("subject and claim: expected non-empty strings")
    return getattr(pytest.mark, MARKER)(subject, claim)

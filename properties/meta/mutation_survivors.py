"""Why each mutant of ``reference/`` that the properties do not kill may survive.

Keyed by ``properties.meta.mutation_summary.change_key``: ``module.function: mutated
code``. Each value is a one-line argument: the mutant is *equivalent* (no input the
contract allows tells it apart from the reference), or it is *outside the contract*
(a detail of an error message beyond the argument it names), each with the reason.
A mutant caught by a missing property is not listed here: the property is added instead.
"""

from __future__ import annotations

ARGUMENTS: dict[str, str] = {}

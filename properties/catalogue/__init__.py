"""Catalogue of plausible wrong implementations, one module per theorem.

Each module lists the mistakes students and framework authors make for its contract
names, as ``CATALOGUE: list[WrongImplementation]``. ``properties/test_catalogue.py``
audits every entry through the real audit interface (``pytest --impl NAME=MODULE:ATTR``)
and asserts that some property rejects it: a property no wrong implementation can fail
is a defect, and a wrong implementation no property rejects is a gap.

Modules are discovered, not listed: adding ``properties/catalogue/<theorem>.py`` with a
``CATALOGUE`` is all it takes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any, NamedTuple


class WrongImplementation(NamedTuple):
    """A known-wrong implementation of one contract name."""

    name: str  # the contract name it pretends to implement
    func: Callable[..., Any]  # a module-level function, so --impl can name it
    mistake: str  # one line: what is wrong, in the words of the mathematics

    @property
    def spec(self) -> str:
        """The ``--impl`` argument that substitutes this implementation."""
        return f"{self.name}={self.func.__module__}:{self.func.__name__}"


def all_wrong_implementations() -> list[WrongImplementation]:
    """Every catalogue entry of every theorem module in this package."""
    entries: list[WrongImplementation] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        entries.extend(module.CATALOGUE)
    return entries

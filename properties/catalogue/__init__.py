"""Catalogue of plausible wrong implementations, one module per theorem.

Each module lists the mistakes students and framework authors make for its contract
names, as ``CATALOGUE: list[WrongImplementation]``. ``properties/meta/test_catalogue.py``
audits every entry through the real audit interface (``pytest --impl NAME=MODULE:ATTR``)
and asserts that some property rejects it: a property no wrong implementation can fail
is a defect, and a wrong implementation no property rejects is a gap.

Beside the wrong ones, a module may list ``PEERS: list[Peer]``: correct implementations
by another legitimate algorithm (FFT convolution, logsumexp softmax, another
eigensolver, flush-to-zero arithmetic) that every property must *accept*: the accuracy
policy (``properties.tolerance.common``) is fair to them, and the meta test proves it.

Modules are discovered, not listed: adding ``properties/catalogue/<theorem>.py`` with a
``CATALOGUE`` (and optionally ``PEERS``) is all it takes.
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


class Peer(NamedTuple):
    """A correct implementation of one contract name by another legitimate algorithm."""

    name: str  # the contract name it implements
    func: Callable[..., Any]  # a module-level function, so --impl can name it
    algorithm: str  # one line: how it computes, and why its rounding differs

    @property
    def spec(self) -> str:
        """The ``--impl`` argument that substitutes this implementation."""
        return f"{self.name}={self.func.__module__}:{self.func.__name__}"


def _chapters() -> list[Any]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]


def all_peers() -> list[Peer]:
    """Every correct-but-unusual implementation listed by any theorem module."""
    return [peer for module in _chapters() for peer in getattr(module, "PEERS", [])]


def all_wrong_implementations() -> list[WrongImplementation]:
    """Every catalogue entry of every theorem module in this package."""
    return [entry for module in _chapters() for entry in module.CATALOGUE]

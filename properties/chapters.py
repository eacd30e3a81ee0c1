"""One mechanism for chapter packages: each theorem family adds its own module, nothing else.

``properties.strategies``, ``properties.tolerance`` and ``properties.oracles`` are
packages of chapters (one module per theorem family: ``conv``, ``batchnorm``, ...).
Each package's ``__init__`` calls :func:`reexport`, which imports every chapter module
and lifts the names of its ``__all__`` into the package, so the public import paths
(``from properties.strategies import psd_matrices``) keep working and a new chapter is
picked up by adding its file, with no list to edit. Modules whose name starts with an
underscore are private helpers of the package and are imported only by chapters.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType
from typing import Any


def chapter_modules(package: str, path: Iterable[str]) -> list[ModuleType]:
    """Import and return the public chapter modules of ``package``, sorted by name."""
    infos = sorted(pkgutil.iter_modules(list(path)), key=lambda info: info.name)
    return [
        importlib.import_module(f"{package}.{info.name}")
        for info in infos
        if not info.name.startswith("_")
    ]


def reexport(
    package: str, path: Iterable[str], namespace: dict[str, Any], extra: Iterable[str] = ()
) -> list[str]:
    """Copy each chapter's ``__all__`` names into ``namespace``; return the combined list.

    ``extra`` names defined by the package itself (or its private helpers) are kept in
    the returned ``__all__`` too. A name exported by two chapters is an error: one fact,
    one place.
    """
    exported: dict[str, str] = {name: package for name in extra}
    for module in chapter_modules(package, path):
        for name in getattr(module, "__all__", ()):
            if name in exported:
                raise ImportError(
                    f"{module.__name__} exports {name!r}, already exported by {exported[name]}"
                )
            exported[name] = module.__name__
            namespace[name] = getattr(module, name)
    return sorted(exported)

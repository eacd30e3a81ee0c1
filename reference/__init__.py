"""Reference implementations of every contract name, and the registry that maps them.

The contract (summarised in README.md, "The implementation contract") fixes the names;
each reference module declares the records of the names it implements in its
``CONTRACT`` list (``reference.contract``: signature, defaults, audit-domain limits,
error inputs). ``CONTRACT_MODULES`` says which module defines each name's function,
read from those declarations without importing any chapter module, and
``reference_impl(name)`` imports it on first use, so a module that fails to import
breaks only the theorems that need it.

Importing ``reference`` also exposes every contract name as an attribute (loaded
lazily), so ``pytest --impl-module reference`` audits the reference against itself.
No module of this package may be named like a contract name: importing the submodule
would bind the package attribute to the module and shadow the function (which is why
softmax lives in ``softmax_ce``); ``test_registry`` checks it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from reference.contract import contract_modules

#: the version of nnlaws, in one place: the build reads it from here (pyproject.toml,
#: ``[tool.setuptools.dynamic]``) and ``properties.__version__`` is this object
__version__ = "0.3.0"

#: contract name -> module of this package that defines it (from the records)
CONTRACT_MODULES: dict[str, str] = contract_modules()

#: the contract names, in the records' order (reference modules by file name)
CONTRACT_NAMES: tuple[str, ...] = tuple(CONTRACT_MODULES)


def reference_impl(name: str) -> Callable[..., Any]:
    """Return the reference implementation of contract name ``name``."""
    if name not in CONTRACT_MODULES:
        raise ValueError(f"name: {name!r} is not a contract name; expected one of {CONTRACT_NAMES}")
    return getattr(importlib.import_module(CONTRACT_MODULES[name]), name)


def __getattr__(name: str) -> Callable[..., Any]:
    """Expose contract names lazily as attributes of the package (PEP 562).

    A name whose defining module is absent from this copy (a record declared ahead of
    its implementation) is no attribute, so ``--impl-module reference`` audits the rest.
    """
    if name in CONTRACT_MODULES and importlib.util.find_spec(CONTRACT_MODULES[name]):
        return reference_impl(name)
    raise AttributeError(f"module 'reference' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *CONTRACT_NAMES])

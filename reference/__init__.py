"""Reference implementations of every contract name, and the registry that maps them.

The contract (``CONTRACT.md`` in the project docs, summarised in README.md) fixes ten
names. ``CONTRACT_MODULES`` says which module of this package implements each one;
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
from collections.abc import Callable
from typing import Any

#: the version of nnlaws, in one place: the build reads it from here (pyproject.toml,
#: ``[tool.setuptools.dynamic]``) and ``properties.__version__`` is this object
__version__ = "0.2.0"

#: contract name -> module of this package that defines it
CONTRACT_MODULES: dict[str, str] = {
    "conv2d_output_shape": "reference.conv",
    "conv2d": "reference.conv",
    "conv2d_backward": "reference.conv_backward",
    "batchnorm_forward": "reference.batchnorm",
    "batchnorm_backward": "reference.batchnorm",
    "softmax": "reference.softmax_ce",
    "softmax_jacobian": "reference.softmax_ce",
    "cross_entropy": "reference.softmax_ce",
    "cross_entropy_grad": "reference.softmax_ce",
    "moment_matching_points": "reference.mahalanobis",
    "min_trace_frame": "reference.mahalanobis",
}

#: the contract names, in the contract's order
CONTRACT_NAMES: tuple[str, ...] = tuple(CONTRACT_MODULES)


def reference_impl(name: str) -> Callable[..., Any]:
    """Return the reference implementation of contract name ``name``."""
    if name not in CONTRACT_MODULES:
        raise ValueError(f"name: {name!r} is not a contract name; expected one of {CONTRACT_NAMES}")
    return getattr(importlib.import_module(CONTRACT_MODULES[name]), name)


def __getattr__(name: str) -> Callable[..., Any]:
    """Expose contract names lazily as attributes of the package (PEP 562)."""
    if name in CONTRACT_MODULES:
        return reference_impl(name)
    raise AttributeError(f"module 'reference' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *CONTRACT_NAMES])

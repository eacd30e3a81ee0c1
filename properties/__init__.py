"""The properties of nnlaws: strategies, tolerances, the audit plugin and the theorems."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``__version__`` is ``reference.__version__`` (the one place it is defined).

    Looked up on access, not at import: an install loads ``properties.plugin`` through an
    entry point before pytest-cov starts measuring, and importing ``reference`` then
    would hide its module-level lines from the coverage that ``make report`` reports.
    """
    if name == "__version__":
        from reference import __version__

        return __version__
    raise AttributeError(f"module 'properties' has no attribute {name!r}")

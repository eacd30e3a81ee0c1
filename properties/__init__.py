"""The properties of nnlaws: strategies, tolerances, the audit plugin and the theorems."""

from reference import __version__

__all__ = ["__version__"]

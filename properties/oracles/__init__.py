"""Independent oracles: each quantity computed another way than any implementation would.

One chapter per theorem family: definition loops, exact or high-precision evaluations,
SciPy routes, and the answer key's own formulas (so errata tests and the catalogue use
the key's construction from one place). Tests, benchmarks and the catalogue import
oracles from here, never from each other. Chapters are re-exported here.
"""

from properties.chapters import reexport

__all__ = reexport(__name__, __path__, globals())

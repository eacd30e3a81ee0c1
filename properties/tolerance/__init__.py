"""Error models behind every numerical comparison, one chapter per theorem family.

A tolerance here is never a tuned constant: each bound states where it comes from
(float64 unit roundoff, problem size, magnitude of the data, conditioning,
finite-difference step) so that a failure means a wrong formula, not bad luck.
``common`` holds what every chapter uses (``EPS``, ``assert_close``, directional
differences); the other modules are chapters, re-exported here (``from
properties.tolerance import softmax_error`` works), so a new chapter is a new file.
"""

from properties.chapters import reexport

__all__ = reexport(__name__, __path__, globals())

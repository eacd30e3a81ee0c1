"""Public, reusable Hypothesis strategies for the mathematics of deep learning.

One import path: ``from properties.strategies import psd_matrices, ...`` (``__all__``
lists the public names). Every strategy:

* takes keyword arguments for its sizes and structure, each an ``int`` (pinned) or a
  strategy of ints (drawn), e.g. ``psd_matrices(m=st.integers(2, 5), rank=1)``;
* validates its arguments eagerly and raises ``StrategyArgumentError`` (a Hypothesis
  ``InvalidArgument`` that is also a ``ValueError``) naming the argument before
  anything is drawn (a size given as a strategy is checked as each value is drawn);
* draws structure first (sizes, ranks, spectra, spreads) and values second, so a
  failure shrinks to a small, readable case: a 1 x 1 identity, a one-feature batch,
  small integers;
* builds values by construction, or with ``hypothesis.extra.numpy.arrays`` and
  ``fill=st.nothing()`` (every entry drawn, not one repeated fill value); nothing
  filters with ``assume``;
* returns a NamedTuple when a draw has several parts, so users read them by name.

Chapters: one module per theorem family (``conv``, ``batchnorm``, ``softmax``,
``psd``, ...); each lists its public names in ``__all__`` and this package re-exports
them all (``properties.chapters.reexport``), so a new chapter is a new file.
"""

from properties.chapters import reexport
from properties.strategies._args import Size as Size
from properties.strategies._args import StrategyArgumentError as StrategyArgumentError

__all__ = reexport(__name__, __path__, globals(), extra=["StrategyArgumentError", "Size"])

"""Public, reusable Hypothesis strategies for the mathematics of deep learning.

Every strategy here draws structure first (sizes, ranks, spectra, spreads) and values
second, so that a failure shrinks to a small, readable case. Values come from
``hypothesis.extra.numpy.arrays`` with ``fill=st.nothing()`` (every entry drawn, not a
repeated fill value) or are built by construction; nothing filters with ``assume``.
Strategies validate their arguments eagerly and raise ``ValueError`` before drawing.
Results with several parts are NamedTuples, so properties and users read them by name.

Sections: convolution; batch normalisation; softmax and cross-entropy; symmetric
positive semi-definite matrices and orthonormal frames.
"""

from __future__ import annotations

# --- Convolution -------------------------------------------------------------------


# --- Batch normalisation -----------------------------------------------------------


# --- Softmax and cross-entropy -----------------------------------------------------


# --- Symmetric positive semi-definite matrices and orthonormal frames -------------

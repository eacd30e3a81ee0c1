"""The PSD-matrix and orthonormal-frame strategies deliver what they promise.

Theorem (of the suite itself). Every ``psd_matrices`` draw is exactly symmetric, its
``eigenvalues`` are ascending, >= 0 and have ``rank`` nonzero entries, its
``eigenvectors`` are orthonormal to 4 m eps, and sigma reproduces U diag(d) U^T to
m eps |sigma| per entry; every ``orthonormal_frames(m, k)`` draw is an (m, k) frame
orthonormal to 4 m eps. Invalid arguments raise ValueError before drawing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties.strategies import (
    mean_vectors,
    orthonormal_frames,
    psd_from_spectrum,
    psd_matrices,
    spectra,
)
from properties.tolerance import EPS, assert_close, frame_orthonormality_tol


@given(psd=psd_matrices())
def test_psd_matrices_are_what_they_claim(psd) -> None:
    sigma, d, U = psd.sigma, psd.eigenvalues, psd.eigenvectors
    m = sigma.shape[0]
    assert sigma.shape == (m, m) and d.shape == (m,) and U.shape == (m, m)
    assert np.array_equal(sigma, sigma.T), "sigma is not exactly symmetric"
    assert np.all(d >= 0) and np.all(np.diff(d) >= 0), f"spectrum not ascending >= 0: {d}"
    assert psd.rank == np.count_nonzero(d)
    nonzero = d[d > 0]
    if nonzero.size:
        assert nonzero.max() / nonzero.min() <= 1e12 * (1 + 4 * EPS), "condition above 1e12"
    assert_close(U.T @ U, np.eye(m), frame_orthonormality_tol(m), what="U^T U", why="4 m eps")
    norm = float(d[-1])
    assert_close(
        sigma, (U * d) @ U.T, 2 * m * EPS * norm, what="sigma vs U diag(d) U^T", why="2 m eps |d|"
    )


@given(data=st.data(), m=st.integers(1, 8))
def test_orthonormal_frames_are_orthonormal(data, m) -> None:
    k = data.draw(st.integers(1, m), label="k")
    Phi = data.draw(orthonormal_frames(m, k), label="Phi")
    assert Phi.shape == (m, k)
    assert_close(Phi.T @ Phi, np.eye(k), frame_orthonormality_tol(m), what="Phi^T Phi", why="")


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: orthonormal_frames(0, 1), "m"),
        (lambda: orthonormal_frames(2, 3), "k"),
        (lambda: orthonormal_frames(2, 0), "k"),
        (lambda: spectra(2, max_condition=0.5), "max_condition"),
        (lambda: spectra(2, min_scale=0.0), "min_scale"),
        (lambda: psd_from_spectrum(np.array([1.0, 0.0])), "eigenvalues"),
        (lambda: psd_from_spectrum(np.array([-1.0])), "eigenvalues"),
        (lambda: psd_matrices(min_size=0), "min_size"),
        (lambda: psd_matrices(min_size=3, max_size=2), "max_size"),
        (lambda: mean_vectors(2, max_magnitude=np.inf), "max_magnitude"),
    ],
)
def test_strategies_validate_arguments_eagerly(make, argument) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}"):
        make()

"""The public strategies deliver what they promise, refuse bad arguments, and shrink well.

Claim (of the suite itself), for every strategy in ``properties.strategies.__all__``:

* what it draws is what its docstring says: PSD matrices are exactly symmetric, with the
  requested size and rank and their spectrum within rounding of the drawn one; frames
  and orthogonal matrices are orthonormal; labels lie on the simplex; logits are finite
  and within their bound; batches have the requested shapes and feature structure;
  Conv2D configurations are valid and respect pinned values;
* invalid arguments raise Hypothesis's ``InvalidArgument`` (also a ``ValueError``, for
  older callers) naming the argument before anything is drawn (and a size given as a
  strategy is checked as it draws);
* shrinking: for a property that fails on every input (or on every input with some
  feature), the minimal example ``hypothesis.find`` reports is tiny: a 1 x 1 identity,
  a 1 x 1 batch of zeros, unit Conv2D geometry;
* every public name has a docstring with an example, and those examples run;
* the README's strategy table lists exactly the public strategies of ``__all__``.
"""

from __future__ import annotations

import doctest
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NonInteractiveExampleWarning

import properties.strategies as strategies
from properties.chapters import chapter_modules
from properties.strategies import (
    CONTRACT_MAX_LOGIT,
    FEATURE_KINDS,
    LABEL_KINDS,
    batches,
    conv2d_arrays,
    conv2d_backward_problems,
    conv2d_configs,
    empty_conv2d_configs,
    feature_shifts,
    frame_problems,
    ky_fan_problems,
    labelled_logits,
    logits,
    mean_vectors,
    moment_problems,
    orthogonal_matrices,
    orthonormal_frames,
    psd_from_spectrum,
    psd_matrices,
    simplex_labels,
    softmax_shapes,
    spectra,
)
from properties.tolerance import EPS, Bound, assert_close, frame_orthonormality_tight

#: the public strategy names users import, all at the one path ``properties.strategies``
REQUIRED_NAMES = (
    "conv2d_configs",
    "batches",
    "logits",
    "simplex_labels",
    "psd_matrices",
    "orthonormal_frames",
)

#: settings for ``find``: no example database (the minimal example is found afresh, not
#: replayed), and derandomized, so the reported example does not depend on the run
FIND = settings(database=None, derandomize=True, max_examples=200)


def _public_strategies() -> list[Callable[..., Any]]:
    return [
        getattr(strategies, name)
        for name in strategies.__all__
        if inspect.isfunction(getattr(strategies, name))
    ]


# --- the public surface --------------------------------------------------------------


def test_required_names_are_public() -> None:
    missing = [n for n in REQUIRED_NAMES if n not in strategies.__all__]
    assert not missing, f"missing from properties.strategies.__all__: {missing}"
    assert all(hasattr(strategies, n) for n in strategies.__all__)


@pytest.mark.parametrize("func", _public_strategies(), ids=lambda f: f.__name__)
def test_public_strategy_is_documented_and_typed(func: Callable[..., Any]) -> None:
    doc = inspect.getdoc(func) or ""
    assert ">>> " in doc, f"{func.__name__}: the docstring has no example"
    signature = inspect.signature(func)
    assert "SearchStrategy[" in str(signature.return_annotation), signature
    sizes = [p for p in signature.parameters.values() if p.annotation == "Size"]
    for parameter in sizes:  # sizes are keyword-only: ``psd_matrices(m=3)``
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (func.__name__, parameter)


@pytest.mark.filterwarnings("ignore", category=NonInteractiveExampleWarning)
def test_docstring_examples_run() -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for module in chapter_modules(strategies.__name__, strategies.__path__):
        for test in finder.find(module):
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} docstring examples failed (see stdout)"
    assert results.attempted >= len(_public_strategies())


# --- eager validation ------------------------------------------------------------------

INVALID: list[tuple[Callable[[], object], str]] = [
    (lambda: conv2d_backward_problems(configs=1), "configs"),
    (lambda: conv2d_backward_problems(elements=1.0), "elements"),
    (lambda: conv2d_arrays(find(conv2d_configs(), lambda _: True), kinds=()), "kinds"),
    (lambda: conv2d_configs(kernel=0), "kernel"),
    (lambda: conv2d_configs(padding=-1), "padding"),
    (lambda: conv2d_configs(batch=True), "batch"),
    (lambda: conv2d_configs(stride=1.5), "stride"),
    (lambda: empty_conv2d_configs(kernel=1), "kernel"),
    (lambda: conv2d_arrays("config"), "config"),
    (lambda: batches(m=0), "m"),
    (lambda: batches(d=0), "d"),
    (lambda: batches(eps=-1.0), "eps"),
    (lambda: batches(eps=float("nan")), "eps"),
    (lambda: batches(kinds=("weird",)), "kinds"),
    (lambda: batches(kinds=()), "kinds"),
    (lambda: feature_shifts(d=0), "d"),
    (lambda: feature_shifts(d=2, max_abs=float("inf")), "max_abs"),
    (lambda: softmax_shapes(n=0), "n"),
    (lambda: softmax_shapes(batch_dims=-1), "batch_dims"),
    (lambda: logits(0), "shape"),
    (lambda: logits((2, 0)), "shape"),
    (lambda: logits(max_magnitude=0.0), "max_magnitude"),
    (lambda: logits(max_magnitude=float("inf")), "max_magnitude"),
    (lambda: simplex_labels(0), "shape"),
    (lambda: simplex_labels((3,), kind="hard"), "kind"),
    (lambda: labelled_logits(kind="hard"), "kind"),
    (lambda: orthonormal_frames(m=0), "m"),
    (lambda: orthonormal_frames(m=2, k=3), "k"),
    (lambda: orthonormal_frames(m=2, k=0), "k"),
    (lambda: orthogonal_matrices(m=2.0), "m"),
    (lambda: spectra(m=2, max_condition=0.5), "max_condition"),
    (lambda: spectra(min_scale=0.0), "min_scale"),
    (lambda: spectra(min_scale=10.0, max_scale=1.0), "max_scale"),
    (lambda: spectra(min_scale=2.0, max_scale=3.0), "min_scale, max_scale"),
    (lambda: psd_from_spectrum(np.array([1.0, 0.0])), "eigenvalues"),
    (lambda: psd_from_spectrum(np.array([-1.0])), "eigenvalues"),
    (lambda: psd_from_spectrum(np.array([])), "eigenvalues"),
    (lambda: psd_matrices(m=0), "m"),
    (lambda: psd_matrices(m=2, rank=3), "rank"),
    (lambda: psd_matrices(rank=-1), "rank"),
    (lambda: mean_vectors(m=2, max_magnitude=np.inf), "max_magnitude"),
]


@pytest.mark.parametrize(("make", "argument"), INVALID)
def test_invalid_arguments_raise_before_drawing(make, argument) -> None:
    with pytest.raises(InvalidArgument, match=rf"^{argument}: ") as raised:
        make()  # the call alone must raise: nothing is drawn
    assert isinstance(raised.value, ValueError), "older callers catch ValueError"


@pytest.mark.parametrize(
    ("strategy", "argument"),
    [
        (orthonormal_frames(m=st.integers(1, 3), k=st.just(4)), "k"),
        (psd_matrices(m=st.just(0)), "m"),
        (psd_matrices(m=2, rank=st.just(3)), "rank"),
        (batches(m=st.just(-1)), "m"),
        (batches(eps=st.just(0.0)), "eps"),
        (logits(st.just((0,))), "shape"),
        (conv2d_configs(kernel=st.just(0)), "kernel"),
    ],
)
def test_sizes_given_as_strategies_are_checked_as_they_draw(strategy, argument) -> None:
    with pytest.raises(InvalidArgument, match=rf"^{argument}: "):
        find(strategy, lambda _: True, settings=FIND)


# --- what the strategies draw ----------------------------------------------------------


def _eigenvalue_tol(m: int, norm: float) -> float:
    """Bound on |eigvalsh(sigma) - drawn spectrum|, by Weyl's inequality.

    It is at most |sigma - U D U^T|_2 (<= 2 m eps |D| entrywise, so <= 2 m^2 eps |D| in
    the 2-norm) plus eigvalsh's own backward error (a small multiple of m eps |sigma|):
    4 m^2 eps |D| covers both for m >= 1.
    """
    return 4 * m * m * EPS * norm


@given(data=st.data(), m=st.integers(1, 6))
def test_psd_matrices_have_the_requested_size_rank_and_spectrum(data, m) -> None:
    rank = data.draw(st.none() | st.integers(0, m), label="requested rank")
    psd = data.draw(psd_matrices(m=m, rank=rank), label="psd")
    sigma, d, U = psd.sigma, psd.eigenvalues, psd.eigenvectors
    assert sigma.shape == (m, m) and d.shape == (m,) and U.shape == (m, m)
    assert np.array_equal(sigma, sigma.T), "sigma is not exactly symmetric"
    assert np.all(d >= 0) and np.all(np.diff(d) >= 0), f"spectrum not ascending >= 0: {d}"
    assert psd.rank == np.count_nonzero(d) and (rank is None or psd.rank == rank)
    nonzero = d[d > 0]
    if nonzero.size:
        assert nonzero.max() / nonzero.min() <= 1e12 * (1 + 4 * EPS), "condition above 1e12"
    assert_close(U.T @ U, np.eye(m), frame_orthonormality_tight(m), what="U^T U")
    norm = float(d[-1])
    assert_close(
        sigma,
        (U * d) @ U.T,
        Bound(2 * m * EPS * norm, "2 m eps |d|"),
        what="sigma vs U diag(d) U^T",
    )
    tol = _eigenvalue_tol(m, norm)
    computed = np.linalg.eigvalsh(sigma)
    assert_close(computed, d, Bound(tol, "Weyl"), what="eigvalsh(sigma) vs drawn spectrum")
    # the smallest nonzero eigenvalue is >= |D| / 1e12 >> tol (m <= 6), so the numerical
    # rank at threshold tol is the drawn rank
    assert np.count_nonzero(computed > tol) == psd.rank, (computed, tol)


@given(data=st.data(), m=st.integers(1, 8))
def test_orthonormal_frames_are_orthonormal(data, m) -> None:
    k = data.draw(st.integers(1, m), label="k")
    phi = data.draw(orthonormal_frames(m=m, k=k), label="phi")
    assert phi.shape == (m, k)
    assert_close(phi.T @ phi, np.eye(k), frame_orthonormality_tight(m), what="phi^T phi")


@given(q=orthogonal_matrices(m=st.integers(1, 8)))
def test_orthogonal_matrices_are_orthogonal(q) -> None:
    m = q.shape[0]
    assert q.shape == (m, m)
    assert_close(q @ q.T, np.eye(m), frame_orthonormality_tight(m), what="Q Q^T")


@given(data=st.data(), shape=softmax_shapes())
def test_simplex_labels_lie_on_the_simplex(data, shape) -> None:
    kind = data.draw(st.sampled_from(LABEL_KINDS), label="kind")
    y = data.draw(simplex_labels(shape, kind=kind), label="y")
    n = shape[-1]
    assert y.shape == shape and np.all(y >= 0)
    # normalising by a sum of n terms rounds each row sum by at most n eps
    assert_close(y.sum(axis=-1), np.ones(shape[:-1]), Bound(n * EPS, "n eps"), what="row sums")
    if kind == "one-hot":
        assert np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=-1) == 1)


@given(data=st.data(), shape=softmax_shapes())
def test_logits_are_finite_and_within_their_bound(data, shape) -> None:
    bound = data.draw(st.sampled_from([1.0, CONTRACT_MAX_LOGIT, 1e300]), label="bound")
    z = data.draw(logits(shape, max_magnitude=bound), label="z")
    assert z.shape == shape and z.dtype == np.float64
    assert np.all(np.isfinite(z)) and np.all(np.abs(z) <= bound)


@given(data=st.data(), m=st.integers(1, 8), d=st.integers(1, 4))
def test_batches_have_the_requested_shapes_and_structure(data, m, d) -> None:
    kind = data.draw(st.sampled_from(FEATURE_KINDS), label="kind")
    eps = data.draw(st.none() | st.floats(1e-8, 1e-1), label="eps")
    batch = data.draw(batches(m=m, d=d, eps=eps, kinds=(kind,)), label="batch")
    assert batch.x.shape == batch.dy.shape == (m, d)
    assert batch.gamma.shape == batch.beta.shape == (d,)
    assert batch.eps == eps and batch.eps_value == (1e-5 if eps is None else eps)
    assert all(np.all(np.isfinite(a)) for a in batch[:4])
    var = batch.x.var(axis=0)
    if kind == "constant":
        assert np.all(batch.x == batch.x[0]), "a constant feature varies"
    elif kind == "nearly constant":
        # exactly, spread <= 1e-1 sqrt(eps) on |z| <= 1, so the deviations from the mean are
        # <= 1e-1 sqrt(eps). In float64, x = offset + spread z is off by <= EPS xmax and
        # np.var's centred values by a further (m + 2) u xmax (the batch-norm rounding
        # model): e = (m + 4) EPS xmax per deviation; the squares' sum adds a relative
        # (m + 2) EPS.
        e = (m + 4) * EPS * np.abs(batch.x).max(axis=0)
        bound = (0.1 * np.sqrt(batch.eps_value) + e) ** 2 * (1 + (m + 2) * EPS)
        assert np.all(var <= bound), (var, bound)


@given(data=st.data())
def test_conv2d_configs_respect_pinned_values(data) -> None:
    k, s, d = (data.draw(st.integers(1, 3), label=name) for name in "ksd")
    p = data.draw(st.integers(0, 3), label="p")
    config = data.draw(conv2d_configs(kernel=k, stride=s, padding=p, dilation=d), label="config")
    assert config.kernel_size == (k, k) and config.stride == (s, s)
    assert config.padding == (p, p) and config.dilation == (d, d)
    assert min(config.W_out, config.H_out) >= 1


@given(mu=mean_vectors(m=st.integers(1, 5), max_magnitude=2.0), c=feature_shifts(d=3))
def test_mean_vectors_and_shifts_are_bounded(mu, c) -> None:
    assert np.all(np.abs(mu) <= 2.0) and c.shape == (3,) and np.all(np.abs(c) <= 1e3)


# --- shrinking quality -----------------------------------------------------------------


def test_psd_matrices_shrink_to_1x1_matrices() -> None:
    # the zero matrix has the shortest draw (no scale, levels or basis to draw)
    psd = find(psd_matrices(), lambda _: True, settings=FIND)
    assert np.array_equal(psd.sigma, [[0.0]]) and psd.rank == 0, psd
    # "sigma is zero" fails first at the 1 x 1 identity
    psd = find(psd_matrices(), lambda p: p.rank > 0, settings=FIND)
    assert np.array_equal(psd.sigma, [[1.0]]) and psd.rank == 1, psd


def test_psd_matrices_shrink_to_a_tiny_failing_case() -> None:
    # "every sigma is 1 x 1" fails first at the 2 x 2 identity
    psd = find(psd_matrices(), lambda p: p.sigma.shape[0] > 1, settings=FIND)
    assert np.array_equal(psd.sigma, np.eye(2)), psd
    # "sigma is singular" fails first at the 2 x 2 identity when m >= 2 is pinned
    psd = find(psd_matrices(m=2), lambda p: p.rank == 2, settings=FIND)
    assert np.array_equal(psd.sigma, np.eye(2)), psd
    # "trace(sigma) < 5" fails first at a 1 x 1 matrix with a small power of ten
    psd = find(psd_matrices(), lambda p: np.trace(p.sigma) >= 5, settings=FIND)
    assert psd.sigma.shape == (1, 1) and psd.sigma[0, 0] == 10.0, psd


def test_frames_shrink_to_the_identity_columns() -> None:
    phi = find(orthonormal_frames(), lambda _: True, settings=FIND)
    assert np.array_equal(phi, [[1.0]])
    phi = find(orthonormal_frames(), lambda f: f.shape[1] >= 2, settings=FIND)
    assert np.array_equal(phi, np.eye(2)), phi


def test_batches_shrink_to_one_example_of_one_feature() -> None:
    batch = find(batches(), lambda _: True, settings=FIND)
    assert batch.x.shape == (1, 1) and batch.eps is None
    assert all(np.array_equal(a, np.zeros_like(a)) for a in batch[:4]), batch
    batch = find(batches(), lambda b: b.x.shape[0] >= 2, settings=FIND)
    assert batch.x.shape == (2, 1), batch


def test_conv2d_configs_shrink_to_unit_geometry() -> None:
    config = find(conv2d_configs(), lambda _: True, settings=FIND)
    assert config.input_shape == (1, 1, 1, 1) and config.output_shape == (1, 1, 1, 1), config
    assert config.kernel_size == config.stride == config.dilation == (1, 1)
    assert config.padding == (0, 0)
    # "stride never exceeds 1" fails first with one stride of 2 and nothing else changed
    config = find(conv2d_configs(), lambda c: max(c.stride) > 1, settings=FIND)
    assert sorted(config.stride) == [1, 2] and config.kernel_size == (1, 1), config
    assert max(config.W, config.H) <= 2, config


def test_logits_and_labels_shrink_to_one_class() -> None:
    z = find(logits(), lambda _: True, settings=FIND)
    assert np.array_equal(z, [0.0])
    pair = find(labelled_logits(), lambda _: True, settings=FIND)
    assert np.array_equal(pair.y, [1.0]) and np.array_equal(pair.z, [0.0]), pair
    pair = find(labelled_logits(), lambda p: p.z.size >= 2, settings=FIND)
    assert pair.z.shape == (2,) and np.array_equal(pair.y, [1.0, 0.0]), pair


# --- the README's strategy table -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def readme_strategies(text: str) -> set[str]:
    """The names called in the first column of the README's strategy table."""
    section = text.split("## Reuse the strategies", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`(\w+)\(", cell)}


def test_readme_strategy_table_is_the_public_strategies() -> None:
    public = {
        name
        for name in strategies.__all__
        if inspect.isfunction(getattr(strategies, name)) and name[0].islower()
    }
    listed = readme_strategies((ROOT / "README.md").read_text(encoding="utf-8"))
    assert listed == public, (
        f"README strategy table: missing {sorted(public - listed)}, "
        f"not public {sorted(listed - public)}"
    )


class _Printer:
    """What IPython's pretty printer hands ``_repr_pretty_``: something with ``text``."""

    def __init__(self) -> None:
        self.out = ""

    def text(self, value: str) -> None:
        self.out += value


@settings(max_examples=5)
@given(moment_problems(), ky_fan_problems(), frame_problems(), conv2d_backward_problems())
def test_problems_print_their_key_facts(moment, ky_fan, frame, backward) -> None:
    """A counterexample names its structure: spectrum and rank, k, Phi^T Phi, shapes."""
    for problem, facts in [
        (moment, ["mu=", "eigenvalues=", "rank="]),
        (ky_fan, [f"k={ky_fan.k}", "eigenvalues="]),
        (frame, [f"k={frame.k}", "frame^T frame="]),
        (backward, [f"x {backward.x.shape}", f"dy {backward.dy.shape}"]),
    ]:
        text = repr(problem)
        assert all(fact in text for fact in facts), (facts, text)
        if hasattr(problem, "_repr_pretty_"):
            printer = _Printer()
            problem._repr_pretty_(printer, False)
            assert printer.out == text

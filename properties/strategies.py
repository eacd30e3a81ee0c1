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

import functools
import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# --- Convolution -------------------------------------------------------------------


class ConvConfig(NamedTuple):
    """A Conv2D configuration and the output size the theorem predicts for it.

    ``W_out``/``H_out`` are ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` per axis; for
    configurations drawn by ``empty_conv_configs`` at least one of them is < 1.
    """

    B: int
    W: int
    H: int
    C_in: int
    C_out: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    W_out: int
    H_out: int

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """``(B, W, H, C_in)``."""
        return (self.B, self.W, self.H, self.C_in)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """``(k1, k2, C_in, C_out)``."""
        return (*self.kernel_size, self.C_in, self.C_out)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        """``(B, W_out, H_out, C_out)``."""
        return (self.B, self.W_out, self.H_out, self.C_out)

    @property
    def K(self) -> int:
        """Products summed per output entry: ``k1 * k2 * C_in``."""
        return self.kernel_size[0] * self.kernel_size[1] * self.C_in

    def geometry(self) -> dict[str, tuple[int, int]]:
        """``stride``, ``padding``, ``dilation`` as keyword arguments for conv2d."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation}


def _conv_out(n: int, k: int, s: int, p: int, d: int) -> int:
    """The theorem's output size along one axis (< 1 means empty)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _check_limits(**limits: int) -> None:
    for name, (value, minimum) in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")


@st.composite
def _axis(
    draw: st.DrawFn,
    axis: str,
    max_kernel: int,
    max_stride: int,
    max_padding: int,
    max_dilation: int,
    max_extra: int,
    min_kernel: int = 1,
) -> tuple[int, int, int, int, int]:
    """One axis of a valid configuration: (size, k, s, p, d) with a non-empty output.

    Geometry first, then the size: the smallest size with a non-empty output is
    ``max(1, d (k - 1) + 1 - 2p)``, and the size is that plus ``extra`` (so shrinking
    moves towards the tightest fit, where off-by-one mistakes show).
    """
    k = draw(st.integers(min_kernel, max_kernel), label=f"k along {axis}")
    d = draw(st.integers(1, max_dilation), label=f"d along {axis}")
    s = draw(st.integers(1, max_stride), label=f"s along {axis}")
    p = draw(st.integers(0, max_padding), label=f"p along {axis}")
    smallest = max(1, d * (k - 1) + 1 - 2 * p)
    n = smallest + draw(st.integers(0, max_extra), label=f"extra size along {axis}")
    return n, k, s, p, d


def _config(
    B: int, C_in: int, C_out: int, w_axis: tuple[int, ...], h_axis: tuple[int, ...]
) -> ConvConfig:
    (W, k1, s1, p1, d1), (H, k2, s2, p2, d2) = w_axis, h_axis
    return ConvConfig(
        B,
        W,
        H,
        C_in,
        C_out,
        (k1, k2),
        (s1, s2),
        (p1, p2),
        (d1, d2),
        _conv_out(W, k1, s1, p1, d1),
        _conv_out(H, k2, s2, p2, d2),
    )


def conv_configs(
    *,
    max_batch: int = 2,
    max_channels: int = 3,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_padding: int | None = None,
    max_dilation: int = 3,
    max_extra: int = 5,
) -> st.SearchStrategy[ConvConfig]:
    """Valid Conv2D configurations (non-empty output), built constructively.

    Each axis draws its kernel, dilation, stride and padding independently (so W != H,
    k1 != k2, s1 != s2, p1 != p2, stride > kernel, padding >= kernel and dilation > 1 are
    all common), then a size that fits: see ``_axis``. ``max_padding`` defaults to
    ``max_kernel`` (padding as large as the kernel). Limits of 1 pin a feature: for
    example ``conv_configs(max_stride=1, max_padding=0)``.

    >>> conv_configs(max_kernel=1).example().kernel_size  # doctest: +SKIP
    (1, 1)
    """
    max_padding = max_kernel if max_padding is None else max_padding
    _check_limits(
        max_batch=(max_batch, 1),
        max_channels=(max_channels, 1),
        max_kernel=(max_kernel, 1),
        max_stride=(max_stride, 1),
        max_padding=(max_padding, 0),
        max_dilation=(max_dilation, 1),
        max_extra=(max_extra, 0),
    )
    limits = (max_kernel, max_stride, max_padding, max_dilation, max_extra)

    @st.composite
    def configs(draw: st.DrawFn) -> ConvConfig:
        # composite rather than builds: failures then print ConvConfig(B=..., W=...).
        return _config(
            draw(st.integers(1, max_batch), label="B"),
            draw(st.integers(1, max_channels), label="C_in"),
            draw(st.integers(1, max_channels), label="C_out"),
            draw(_axis("W", *limits), label="W axis"),
            draw(_axis("H", *limits), label="H axis"),
        )

    return configs()


@st.composite
def _empty_axis(
    draw: st.DrawFn, axis: str, max_kernel: int, max_stride: int, max_dilation: int
) -> tuple[int, int, int, int, int]:
    """One axis whose output is empty: the padded size is below the dilated kernel's span.

    With span ``d (k - 1) + 1 >= 2`` (so ``k >= 2``), padding ``p <= (span - 2) // 2``
    leaves room for a size ``1 <= n <= span - 2p - 1``, and every such n is empty.
    """
    k = draw(st.integers(2, max_kernel), label=f"k along {axis}")
    d = draw(st.integers(1, max_dilation), label=f"d along {axis}")
    s = draw(st.integers(1, max_stride), label=f"s along {axis}")
    span = d * (k - 1) + 1
    p = draw(st.integers(0, (span - 2) // 2), label=f"p along {axis}")
    n = draw(st.integers(1, span - 2 * p - 1), label=f"size along {axis}")
    return n, k, s, p, d


@st.composite
def _empty_config(
    draw: st.DrawFn,
    max_batch: int,
    max_channels: int,
    max_kernel: int,
    max_stride: int,
    max_dilation: int,
) -> ConvConfig:
    which = draw(st.sampled_from(["W", "H", "both"]), label="empty along")

    def axis(name: str, is_empty: bool) -> st.SearchStrategy[tuple[int, int, int, int, int]]:
        if is_empty:
            return _empty_axis(name, max_kernel, max_stride, max_dilation)
        return _axis(name, max_kernel, max_stride, max_kernel, max_dilation, 3)

    w_axis = draw(axis("W", which != "H"), label="W axis")
    h_axis = draw(axis("H", which != "W"), label="H axis")
    return _config(
        draw(st.integers(1, max_batch), label="B"),
        draw(st.integers(1, max_channels), label="C_in"),
        draw(st.integers(1, max_channels), label="C_out"),
        w_axis,
        h_axis,
    )


def empty_conv_configs(
    *,
    max_batch: int = 2,
    max_channels: int = 3,
    max_kernel: int = 4,
    max_stride: int = 3,
    max_dilation: int = 3,
) -> st.SearchStrategy[ConvConfig]:
    """Configurations whose output would be empty along W, H or both, built constructively.

    For every drawn config, ``W_out < 1 or H_out < 1``; all arguments are otherwise valid
    (sizes >= 1, kernel/stride/dilation >= 1, padding >= 0). ``max_kernel >= 2`` (a 1-wide
    kernel always fits).

    >>> c = empty_conv_configs().example()  # doctest: +SKIP
    >>> c.W_out < 1 or c.H_out < 1  # doctest: +SKIP
    True
    """
    _check_limits(
        max_batch=(max_batch, 1),
        max_channels=(max_channels, 1),
        max_kernel=(max_kernel, 2),
        max_stride=(max_stride, 1),
        max_dilation=(max_dilation, 1),
    )
    return _empty_config(max_batch, max_channels, max_kernel, max_stride, max_dilation)


class ConvArrays(NamedTuple):
    """Inputs of ``conv2d`` for one configuration: ``x (B, W, H, C_in)``, ``w``, ``b``."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray


#: Default entries: finite float64 of either sign in [-1e3, 1e3], no subnormals (their
#: products underflow to 0 and would need an absolute error term in every tolerance).
CONV_VALUES = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def conv_arrays(
    config: ConvConfig, elements: st.SearchStrategy[float] = CONV_VALUES
) -> st.SearchStrategy[ConvArrays]:
    """Dense float64 ``x``, ``w``, ``b`` for ``config`` (``fill=st.nothing()``: every entry drawn).

    >>> conv_arrays(conv_configs().example()).example().x.dtype  # doctest: +SKIP
    dtype('float64')
    """
    if not isinstance(config, ConvConfig):
        raise ValueError(f"config: expected a ConvConfig, got {type(config).__name__}")

    def array(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
        return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())

    return st.builds(
        ConvArrays, array(config.input_shape), array(config.weight_shape), array((config.C_out,))
    )


# --- Batch normalisation -----------------------------------------------------------

#: the contract's default eps for batch norm (``batchnorm_forward(x, gamma, beta)``)
BATCHNORM_DEFAULT_EPS = 1e-5

#: per-feature structure of a drawn batch
SPREAD, NEARLY_CONSTANT, CONSTANT = "spread", "nearly constant", "constant"


class BatchNormCase(NamedTuple):
    """One batch-norm problem: a batch, the parameters, an upstream gradient and eps."""

    x: np.ndarray  # (m, d)
    gamma: np.ndarray  # (d,)
    beta: np.ndarray  # (d,)
    dy: np.ndarray  # (m, d) upstream gradient dl/dy, drawn (never all-ones)
    eps: float | None  # None: call without eps, so the contract default 1e-5 applies

    @property
    def eps_value(self) -> float:
        """The eps in effect (the contract default when ``eps`` is None)."""
        return BATCHNORM_DEFAULT_EPS if self.eps is None else self.eps

    @property
    def eps_kwargs(self) -> dict[str, float]:
        """Keyword arguments that pass eps, or none at all to exercise the default."""
        return {} if self.eps is None else {"eps": self.eps}


def _exponents(low: float, high: float) -> st.SearchStrategy[float]:
    """Exponents in [low, high], with the extremes themselves drawn often.

    Rounding trouble lives at the corners (an offset of 1e3 on a spread of 1e-3), which
    uniform exponents would reach only rarely.
    """
    return st.sampled_from([0.0, float(low), float(high)]) | st.floats(low, high)


# Array strategies are cached per shape: building (and validating) a fresh
# ``hnp.arrays`` strategy on every draw costs more than the properties themselves.


@functools.cache
def _exponent_arrays(d: int, low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=_exponents(low, high), fill=st.nothing())


@functools.cache
def _uniform_arrays(d: int, low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, d, elements=st.floats(low, high), fill=st.nothing())


@functools.cache
def _signed_magnitudes(d: int, low: int, high: int) -> st.SearchStrategy[np.ndarray]:
    """Arrays of +-10**e with e drawn in [low, high] (or exactly 0), one per feature."""
    signs = hnp.arrays(np.int8, d, elements=st.sampled_from([0, 1, -1]), fill=st.nothing())
    return st.tuples(_exponent_arrays(d, low, high), signs).map(lambda es: es[1] * 10.0 ** es[0])


@functools.cache
def _grid_values(shape: int | tuple[int, ...], steps: int) -> st.SearchStrategy[np.ndarray]:
    """Arrays of k / steps with integer k in [-steps, steps]: values in [-1, 1], 0 included.

    A grid rather than arbitrary floats keeps every nonzero magnitude >= 1 / steps, so
    no product in batch norm underflows into the subnormals (where relative rounding
    bounds fail); the properties are about the formulas, not about underflow.
    """
    ks = hnp.arrays(np.int64, shape, elements=st.integers(-steps, steps), fill=st.nothing())
    return ks.map(lambda k: k / steps)


@functools.cache
def _feature_kinds(d: int) -> st.SearchStrategy[list[str]]:
    kinds = st.sampled_from([SPREAD, NEARLY_CONSTANT, CONSTANT])
    return st.lists(kinds, min_size=d, max_size=d)


def batchnorm_cases(
    *,
    min_m: int = 1,
    max_m: int = 16,
    max_d: int = 4,
    eps: st.SearchStrategy[float | None] | None = None,
) -> st.SearchStrategy[BatchNormCase]:
    """Batches whose per-feature structure is drawn before their values.

    For each feature j: a kind (spread, nearly constant with sigma^2 between 1e-8 and
    1e-2 times eps, or exactly constant), a spread 10**e with e in [-3, 3], and an offset
    that is 0 or +-10**e with e in [-3, 3] (so up to 1e3 away from 0 with a spread down
    to 1e-3). Values are ``offset + spread * z`` with every z drawn on a grid of step
    1e-3 in [-1, 1]. ``gamma`` is drawn on a grid of step 1e-2 in [-10, 10] (0 and
    negatives included), ``beta`` is 0 or +-10**e with e in [-3, 3], and ``dy`` is drawn
    entry by entry on the same grid as gamma (never a constant: an all-ones dy makes the
    true dx identically 0). ``eps`` is ``None`` (use the contract default) or drawn from
    [1e-8, 1e-1]; pass ``eps=`` to override. Shrinks towards a 1 x 1 batch, zero
    offsets, unit spreads, and zeros.

    >>> case = batchnorm_cases(max_m=4, max_d=2).example()  # doctest: +SKIP
    >>> case.x.shape[1] == case.gamma.shape[0] == case.beta.shape[0]  # doctest: +SKIP
    True
    """
    if not 1 <= min_m <= max_m:
        raise ValueError(f"min_m, max_m: need 1 <= min_m <= max_m, got {min_m}, {max_m}")
    if max_d < 1:
        raise ValueError(f"max_d: need max_d >= 1, got {max_d}")
    eps_strategy = eps if eps is not None else st.none() | st.floats(1e-8, 1e-1)
    return _batchnorm_cases(min_m, max_m, max_d, eps_strategy)


@st.composite
def _batchnorm_cases(
    draw: st.DrawFn,
    min_m: int,
    max_m: int,
    max_d: int,
    eps_strategy: st.SearchStrategy[float | None],
) -> BatchNormCase:
    """Draw one case (arguments validated by ``batchnorm_cases``)."""
    m = draw(st.integers(min_m, max_m), label="m")
    d = draw(st.integers(1, max_d), label="d")
    eps_value = draw(eps_strategy, label="eps")
    effective_eps = BATCHNORM_DEFAULT_EPS if eps_value is None else eps_value
    kinds = draw(_feature_kinds(d), label="feature kinds")
    spread_exp = draw(_exponent_arrays(d, -3, 3), label="log10 spread")
    below_eps_exp = draw(
        _uniform_arrays(d, -4, -1), label="log10 (spread / sqrt(eps)) of nearly constant features"
    )
    spread = np.where(
        np.array(kinds) == SPREAD,
        10.0**spread_exp,
        np.where(
            np.array(kinds) == NEARLY_CONSTANT, np.sqrt(effective_eps) * 10.0**below_eps_exp, 0.0
        ),
    )
    offset = draw(_signed_magnitudes(d, -3, 3), label="offset")
    z = draw(_grid_values((m, d), 1000), label="z")
    x = offset + spread * z
    gamma = 10 * draw(_grid_values(d, 1000), label="gamma / 10")
    beta = draw(_signed_magnitudes(d, -3, 3), label="beta")
    dy = 10 * draw(_grid_values((m, d), 1000), label="dy / 10")
    return BatchNormCase(x, gamma, beta, dy, eps_value)


def feature_shifts(d: int, max_abs: float = 1e3) -> st.SearchStrategy[np.ndarray]:
    """Per-feature constants c (shape (d,), |c_j| <= max_abs) to add to every row of x.

    >>> feature_shifts(3).example().shape  # doctest: +SKIP
    (3,)
    """
    if d < 1:
        raise ValueError(f"d: need d >= 1, got {d}")
    if not (math.isfinite(max_abs) and max_abs >= 0):
        raise ValueError(f"max_abs: need a finite number >= 0, got {max_abs}")
    return hnp.arrays(
        np.float64,
        d,
        elements=st.floats(-max_abs, max_abs, allow_subnormal=False),
        fill=st.nothing(),
    )


# --- Softmax and cross-entropy -----------------------------------------------------

#: the contract's bound on logits sent to audited implementations (CONTRACT.md)
CONTRACT_MAX_LOGIT: float = 1e4
#: the largest finite float64, for reference-only properties ("every finite logit")
FLOAT64_MAX: float = float(np.finfo(np.float64).max)


def _check_softmax_sizes(max_n: int, max_batch_dims: int, max_batch: int) -> None:
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n: expected an int >= 1, got {max_n!r}")
    if isinstance(max_batch_dims, bool) or not isinstance(max_batch_dims, int):
        raise ValueError(f"max_batch_dims: expected an int >= 0, got {max_batch_dims!r}")
    if max_batch_dims < 0:
        raise ValueError(f"max_batch_dims: expected an int >= 0, got {max_batch_dims!r}")
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise ValueError(f"max_batch: expected an int >= 1, got {max_batch!r}")


def softmax_shapes(
    *, min_n: int = 1, max_n: int = 8, max_batch_dims: int = 2, max_batch: int = 3
) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes ``(*batch, N)``: up to ``max_batch_dims`` batch axes of 1..``max_batch``.

    >>> softmax_shapes(max_n=4).example()  # doctest: +SKIP
    (2, 4)
    """
    _check_softmax_sizes(max_n, max_batch_dims, max_batch)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or not 1 <= min_n <= max_n:
        raise ValueError(f"min_n: expected an int in [1, max_n={max_n}], got {min_n!r}")
    return st.tuples(
        hnp.array_shapes(min_dims=0, max_dims=max_batch_dims, min_side=1, max_side=max_batch),
        st.integers(min_n, max_n),
    ).map(lambda parts: (*parts[0], parts[1]))


def logits(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    *,
    max_magnitude: float = CONTRACT_MAX_LOGIT,
) -> st.SearchStrategy[np.ndarray]:
    """Finite float64 logits with a controlled spread, ``|z| <= max_magnitude``.

    Structure first: a *centre* c and a *spread* 2 * 10**k (k uniform in exponent,
    from 1e-12, nearly equal logits, to 2 * max_magnitude, gaps far beyond the 745 where exp
    underflows), then unit values v in [-1, 1] per entry, and z = c + spread * v, clipped
    to the range. Or, in one draw out of four, raw floats from the whole range (Hypothesis
    favours boundary values: 0, subnormals, +-max_magnitude). Shrinks toward
    z = 0 with spread 1. ``max_magnitude`` defaults to the contract's 1e4 (what audits
    may send); pass ``FLOAT64_MAX`` for reference-only properties about every finite logit.

    >>> logits((2, 3)).example()  # doctest: +SKIP
    array([[ 0.5, 0.5, -812.25], [0., 0., 0.]])
    """
    if not (isinstance(max_magnitude, int | float) and 0 < max_magnitude <= FLOAT64_MAX):
        raise ValueError(f"max_magnitude: expected a float in (0, 1.8e308], got {max_magnitude}")
    _check_shape_argument(shape)
    return _logits(softmax_shapes() if shape is None else shape, float(max_magnitude))


def _check_shape_argument(shape: object) -> None:
    if shape is None or isinstance(shape, st.SearchStrategy):
        return
    if (
        not isinstance(shape, tuple)
        or not shape
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
    ):
        raise ValueError(f"shape: expected a non-empty tuple of ints >= 1, got {shape!r}")


@st.composite
def _logits(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    bound: float,
) -> np.ndarray:
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape, label="shape")
    if draw(st.integers(0, 3), label="mode (3 = raw floats)") == 3:
        elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        return draw(hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()), label="z")
    half = bound / 2  # work in halves: c/2 + spread/2 * v cannot overflow near 1.8e308
    centre = draw(st.floats(-half, half), label="centre/2")
    top = min(float(np.log10(bound)), 308.0)  # 10**308.25 would round past FLOAT64_MAX
    half_spread = 10.0 ** draw(st.floats(-12.0, top), label="log10 (spread/2)")
    unit = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0), fill=st.nothing()),
        label="unit values",
    )
    return np.clip(centre + half_spread * unit, -half, half) * 2.0


class LabelledLogits(NamedTuple):
    """Labels ``y`` on the simplex and logits ``z`` of the same shape ``(*batch, N)``."""

    y: np.ndarray
    z: np.ndarray
    kind: str  # how y was built: "one-hot", "soft", "smoothed"


LABEL_KINDS: tuple[str, ...] = ("one-hot", "soft", "smoothed")


def simplex_labels(
    shape: tuple[int, ...], kind: str | None = None
) -> st.SearchStrategy[np.ndarray]:
    """Label vectors along the last axis of ``shape``: ``y >= 0``, summing to 1 up to rounding.

    ``kind`` (drawn when None): ``"one-hot"`` (exact 0 and 1), ``"soft"`` (weights from
    [0, 1] with exact zeros mixed in and one entry per row raised by 1 so the row is
    never all zero, divided by their sum), ``"smoothed"`` (``(1 - alpha) onehot +
    alpha / N``, alpha in [0, 1]). By construction the rows sum to 1 within
    ``reference.softmax_ce.simplex_tolerance(N) = N EPS`` (the normalisation's rounding).

    >>> simplex_labels((3,), kind="soft").example()  # doctest: +SKIP
    array([0.25, 0. , 0.75])
    """
    if shape is None or isinstance(shape, st.SearchStrategy):
        raise ValueError(f"shape: expected a non-empty tuple of ints >= 1, got {shape!r}")
    _check_shape_argument(shape)
    if kind is not None and kind not in LABEL_KINDS:
        raise ValueError(f"kind: expected one of {LABEL_KINDS} or None, got {kind!r}")
    return _simplex_labels(shape, kind)


@st.composite
def _simplex_labels(draw: st.DrawFn, shape: tuple[int, ...], kind: str | None) -> np.ndarray:
    if kind is None:
        kind = draw(st.sampled_from(LABEL_KINDS), label="label kind")
    *batch, n = shape
    hot = draw(
        hnp.arrays(np.int64, tuple(batch), elements=st.integers(0, n - 1), fill=st.nothing()),
        label="hot index",
    )
    onehot = np.eye(n)[hot]
    if kind == "one-hot":
        return onehot
    if kind == "smoothed":
        alpha = draw(st.floats(0.0, 1.0), label="alpha")
        return (1.0 - alpha) * onehot + alpha / n
    weights = draw(
        hnp.arrays(
            np.float64, shape, elements=st.just(0.0) | st.floats(0.0, 1.0), fill=st.nothing()
        ),
        label="weights",
    )
    weights = weights + onehot  # the hot entry is >= 1: no row sums to 0
    return weights / weights.sum(axis=-1, keepdims=True)


def labelled_logits(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    *,
    kind: str | None = None,
    max_magnitude: float = CONTRACT_MAX_LOGIT,
) -> st.SearchStrategy[LabelledLogits]:
    """``(y, z, kind)`` for the cross-entropy: ``simplex_labels`` and ``logits`` of one shape.

    >>> labelled_logits((2,), kind="one-hot").example()  # doctest: +SKIP
    LabelledLogits(y=array([0., 1.]), z=array([ 800., -3.]), kind='one-hot')
    """
    if kind is not None and kind not in LABEL_KINDS:
        raise ValueError(f"kind: expected one of {LABEL_KINDS} or None, got {kind!r}")
    logits(shape, max_magnitude=max_magnitude)  # validates shape and max_magnitude
    return _labelled_logits(softmax_shapes() if shape is None else shape, kind, max_magnitude)


@st.composite
def _labelled_logits(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    kind: str | None,
    max_magnitude: float,
) -> LabelledLogits:
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape, label="shape")
    if kind is None:
        kind = draw(st.sampled_from(LABEL_KINDS), label="label kind")
    z = draw(logits(shape, max_magnitude=max_magnitude), label="z")
    y = draw(simplex_labels(shape, kind), label="y")
    return LabelledLogits(y, z, kind)


# --- Symmetric positive semi-definite matrices and orthonormal frames -------------


class PSDMatrix(NamedTuple):
    """A symmetric PSD matrix with the spectrum and eigenbasis it was built from.

    ``sigma = eigenvectors @ diag(eigenvalues) @ eigenvectors.T`` up to float64
    rounding (about ``m * eps * max(eigenvalues)`` per entry), and ``sigma`` is exactly
    symmetric. ``eigenvalues`` is ascending and exact as drawn (zeros are exact
    zeros); ``rank`` counts its nonzero entries. Because of the rounding of the
    product, the float matrix's own eigenvalues may differ from ``eigenvalues`` by that
    much, and a zero eigenvalue may come out as a tiny negative number.
    """

    sigma: np.ndarray  # (m, m)
    eigenvalues: np.ndarray  # (m,), ascending
    eigenvectors: np.ndarray  # (m, m), orthonormal columns, paired with eigenvalues
    rank: int


def _validate_size(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def _householder_product(vectors: np.ndarray) -> np.ndarray:
    """Product H_1 ... H_j of the reflections I - 2 v v^T / |v|^2 for the columns v.

    A product of reflections is orthogonal whatever the vectors are, so a rank-deficient
    drawn matrix needs no ``assume``: a zero column is skipped (its reflection replaced
    by the identity, a deterministic fallback), and every column is first divided by its
    largest entry so that ``v v^T / |v|^2`` neither underflows nor overflows. Every
    orthogonal m x m matrix is such a product of at most m reflections (Householder QR),
    so no orthogonal matrix is out of reach; an all-zero draw, where shrinking goes,
    gives the identity.
    """
    m = vectors.shape[0]
    Q = np.eye(m)
    for v in vectors.T:
        top = np.max(np.abs(v))
        if top == 0.0:
            continue
        v = v / top
        Q = Q - np.outer(Q @ v, (2.0 / (v @ v)) * v)
    return Q


def orthogonal_matrices(m: int) -> st.SearchStrategy[np.ndarray]:
    """Orthogonal (m, m) matrices: products of Householder reflections of drawn vectors.

    Orthonormal to about ``m * eps``. Shrinks towards the identity.

    >>> orthogonal_matrices(3).example().shape
    (3, 3)
    """
    _validate_size("m", m, 1)
    return orthonormal_frames(m, m)


def orthonormal_frames(m: int, k: int) -> st.SearchStrategy[np.ndarray]:
    """Frames Phi (m, k) with Phi^T Phi = I_k (the Stiefel manifold), up to ``m * eps``.

    Built as the first k columns of a product of k Householder reflections whose vectors
    are the columns of a drawn (m, k) matrix: Householder QR shows every frame is of
    that form, so the whole manifold is reachable. Shrinks towards ``I[:, :k]``.

    >>> orthonormal_frames(4, 2).example().shape
    (4, 2)
    """
    _validate_size("m", m, 1)
    _validate_size("k", k, 1)
    if k > m:
        raise ValueError(f"k: expected k <= m = {m}, got {k}")
    return _frame_vectors(m, k).map(lambda v: _householder_product(v)[:, :k].copy())


def _frame_vectors(m: int, k: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        np.float64,
        (m, k),
        elements=st.floats(-1.0, 1.0, allow_subnormal=False),
        fill=st.nothing(),
    )


def spectra(
    m: int, *, max_condition: float = 1e12, min_scale: float = 1e-6, max_scale: float = 1e6
) -> st.SearchStrategy[np.ndarray]:
    """Ascending spectra of m eigenvalues of a PSD matrix, drawn structure first.

    Draws the number of zero eigenvalues (exact zeros; shrinks to none), a scale
    ``s = 10**e`` in [min_scale, max_scale], a pool of distinct levels
    ``s * 10**(-t)`` with ``t`` in [0, log10(max_condition)], and assigns every nonzero
    eigenvalue a level from the pool, so repeated eigenvalues are common and the
    condition number of the nonzero part is at most ``max_condition``. The zero
    spectrum (the zero matrix) is included. Shrinks towards all eigenvalues equal to 1.

    >>> spectra(3).example().shape
    (3,)
    """
    _validate_size("m", m, 1)
    if not (np.isfinite(max_condition) and max_condition >= 1.0):
        raise ValueError(f"max_condition: expected a finite number >= 1, got {max_condition!r}")
    if not (0.0 < min_scale <= max_scale < np.inf):
        raise ValueError(
            f"min_scale, max_scale: expected 0 < min_scale <= max_scale < inf, "
            f"got {min_scale!r}, {max_scale!r}"
        )
    low, high = int(np.ceil(np.log10(min_scale))), int(np.floor(np.log10(max_scale)))
    if low > high:
        raise ValueError(f"min_scale, max_scale: no power of 10 in [{min_scale}, {max_scale}]")
    digits = float(np.log10(max_condition))

    @st.composite
    def draw_spectrum(draw: st.DrawFn) -> np.ndarray:
        nullity = draw(st.integers(0, m), label="number of zero eigenvalues")
        rank = m - nullity
        if rank == 0:
            return np.zeros(m)
        scale = 10.0 ** draw(st.integers(low, high), label="scale exponent")
        n_levels = draw(st.integers(1, rank), label="distinct nonzero eigenvalues")
        levels = draw(
            st.lists(st.floats(0.0, digits), min_size=n_levels, max_size=n_levels, unique=True),
            label="levels (decades below scale)",
        )
        picks = draw(
            st.lists(st.integers(0, n_levels - 1), min_size=rank, max_size=rank),
            label="level of each nonzero eigenvalue",
        )
        nonzero = scale * 10.0 ** (-np.asarray(levels)[np.asarray(picks)])
        return np.concatenate([np.zeros(nullity), np.sort(nonzero)])

    return draw_spectrum()


def psd_from_spectrum(eigenvalues: np.ndarray) -> st.SearchStrategy[PSDMatrix]:
    """PSD matrices ``U diag(eigenvalues) U^T`` with a drawn orthogonal U (Householder).

    ``eigenvalues`` must be finite, >= 0 and ascending (as ``spectra`` draws them).
    sigma is symmetrised, ``(S + S^T) / 2``, so it is exactly symmetric.

    >>> psd_from_spectrum(np.array([0.0, 1.0, 1.0])).example().rank
    2
    """
    d = np.asarray(eigenvalues, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"eigenvalues: expected a non-empty 1-d array, got shape {d.shape}")
    if not (np.all(np.isfinite(d)) and np.all(d >= 0.0) and np.all(np.diff(d) >= 0.0)):
        raise ValueError(f"eigenvalues: expected finite, >= 0 and ascending, got {d}")
    m = d.size

    @st.composite
    def build(draw: st.DrawFn) -> PSDMatrix:
        U = draw(orthogonal_matrices(m), label="eigenvectors")
        S = (U * d) @ U.T
        return PSDMatrix((S + S.T) / 2.0, d.copy(), U, int(np.count_nonzero(d)))

    return build()


def psd_matrices(
    *, min_size: int = 1, max_size: int = 6, max_condition: float = 1e12
) -> st.SearchStrategy[PSDMatrix]:
    """Symmetric PSD matrices by construction: size, then spectrum, then eigenbasis.

    Size m in [min_size, max_size]; spectrum from ``spectra`` (exact zeros, so singular
    and rank-deficient matrices, repeated eigenvalues, condition numbers up to
    ``max_condition``, the zero matrix); basis from ``orthogonal_matrices``. Never
    ``assume``: every draw is a valid PSD matrix. Shrinks towards the 1 x 1 identity
    (then I_m, then diagonal matrices).

    >>> p = psd_matrices(max_size=3).example()
    >>> p.sigma.shape == (p.eigenvalues.size,) * 2
    True
    """
    _validate_size("min_size", min_size, 1)
    _validate_size("max_size", max_size, min_size)

    @st.composite
    def draw_psd(draw: st.DrawFn) -> PSDMatrix:
        m = draw(st.integers(min_size, max_size), label="m")
        d = draw(spectra(m, max_condition=max_condition), label="eigenvalues")
        return draw(psd_from_spectrum(d), label="sigma")

    return draw_psd()


def mean_vectors(m: int, *, max_magnitude: float = 1e3) -> st.SearchStrategy[np.ndarray]:
    """Finite mean vectors mu of shape (m,) with entries in [-max_magnitude, max_magnitude].

    >>> mean_vectors(2).example().shape
    (2,)
    """
    _validate_size("m", m, 1)
    if not (np.isfinite(max_magnitude) and max_magnitude >= 0.0):
        raise ValueError(f"max_magnitude: expected a finite number >= 0, got {max_magnitude!r}")
    return hnp.arrays(
        np.float64,
        (m,),
        elements=st.floats(-max_magnitude, max_magnitude, allow_subnormal=False),
        fill=st.nothing(),
    )

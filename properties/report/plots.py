"""The report's figures, rendered by matplotlib (Agg) to SVG text for inline embedding.

Every function returns a complete ``<svg>`` document as a string, so the page needs no
image files and no network. The two mathematical plots take the reference functions
they exercise as arguments: ``build`` imports them only when their module exists.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from properties.tolerance import directional_difference

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3})


def to_svg(fig: Figure) -> str:
    """Render ``fig`` as an SVG document (text kept as text) and close it."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML


class BenchPoint(NamedTuple):
    """One benchmark measurement as the plots need it."""

    name: str  # the benchmark's full name
    label: str  # the implementation: name without the case parameters
    case: str  # what is measured (benchmarks of one case are compared)
    size: float | None  # problem size, when the benchmark declares one
    median: float  # seconds
    ratio: float  # median / fastest median of its group and case
    is_reference: bool
    q1: float | None = None  # quartiles of the rounds, seconds (None: not recorded)
    q3: float | None = None


REFERENCE_COLOUR, BASELINE_COLOUR = "#1f6feb", "#8c959f"


def benchmark_bars(group: str, points: Sequence[BenchPoint]) -> str:
    """Horizontal bars of median time per benchmark (log scale), annotated with its ratio."""
    ordered = sorted(points, key=lambda p: (p.size or 0.0, p.case, p.median))
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(ordered) + 1.1))
    colours = [REFERENCE_COLOUR if p.is_reference else BASELINE_COLOUR for p in ordered]
    ax.barh(range(len(ordered)), [p.median for p in ordered], color=colours)
    ax.set_yticks(range(len(ordered)), [p.name for p in ordered], fontsize=7)
    ax.set_xscale("log")
    ax.tick_params(axis="x", which="minor", labelsize=6)  # within a decade: labels crowd
    ax.invert_yaxis()
    ax.set_xlabel("median time per call (s), log scale; blue = reference; label = × fastest")
    ax.set_title(f"benchmark group {group!r}")
    for i, p in enumerate(ordered):
        ax.annotate(f" {p.ratio:.3g}×", (p.median, i), va="center", fontsize=7)
    ax.margins(x=0.15)
    return to_svg(fig)


def scaling_slope(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares slope p of log(time) against log(size): time grows like size^p."""
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def benchmark_scaling(group: str, points: Sequence[BenchPoint], size_name: str = "size") -> str:
    """Median time against problem size, one line per implementation (log-log).

    Error bars span the quartiles of the rounds (when recorded), so a point disturbed by
    other load on the machine shows as one; the legend gives each line's fitted slope.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    labels = sorted({p.label for p in points}, key=lambda x: (not _is_reference(x, points), x))
    for i, label in enumerate(labels):
        mine = sorted((p for p in points if p.label == label), key=lambda p: p.size or 0.0)
        reference = mine[0].is_reference
        sizes = [float(p.size or 0.0) for p in mine]
        medians = [p.median for p in mine]
        spread = None
        if all(p.q1 is not None and p.q3 is not None for p in mine):
            spread = np.array(
                [[max(p.median - (p.q1 or 0.0), 0.0) for p in mine],
                 [max((p.q3 or 0.0) - p.median, 0.0) for p in mine]]
            )  # fmt: skip
        slope = f" (slope {scaling_slope(sizes, medians):.2f})" if len(set(sizes)) >= 2 else ""
        ax.errorbar(
            sizes,
            medians,
            yerr=spread,
            fmt="-o" if reference else "--s",
            color=REFERENCE_COLOUR if reference else f"C{i + 1}",
            label=label + slope,
            ms=4,
            capsize=2,
            lw=1.8 if reference else 1.2,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = sorted({float(p.size) for p in points if p.size is not None})
    ax.set_xticks(sizes, [f"{s:g}" for s in sizes])  # the measured sizes, not powers of 10
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(f"problem size: {size_name} (log scale)")
    ax.set_ylabel("median time per call (s)")
    ax.set_title(f"{group}: time against {size_name}", fontsize=9)
    ax.legend(fontsize=7)
    return to_svg(fig)


def _is_reference(label: str, points: Sequence[BenchPoint]) -> bool:
    """Whether the benchmarks labelled ``label`` measure the reference."""
    return any(p.is_reference for p in points if p.label == label)


def ky_fan(min_trace_frame: Callable[[Any, int], Any], m: int = 6, frames: int = 300) -> str:
    """Ky Fan: trace(Phi^T Sigma Phi) over random orthonormal frames, against the bound.

    For a fixed random symmetric PSD ``sigma`` (m x m) and each k, ``frames`` random
    orthonormal m x k frames (QR of Gaussian matrices) give traces that all lie at or
    above the sum of the k smallest eigenvalues (and at or below the sum of the k
    largest); the reference ``min_trace_frame`` must reach the lower bound.
    """
    rng = np.random.default_rng(20260101)
    basis, _ = np.linalg.qr(rng.standard_normal((m, m)))
    eigenvalues = np.sort(rng.uniform(0.1, 5.0, m))
    sigma = (basis * eigenvalues) @ basis.T
    sigma = (sigma + sigma.T) / 2
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for k in range(1, m + 1):
        q = np.linalg.qr(rng.standard_normal((frames, m, k)))[0]
        traces = np.einsum("fik,ij,fjk->f", q, sigma, q)
        jitter = k + rng.uniform(-0.25, 0.25, frames)
        ax.scatter(
            jitter,
            traces,
            s=4,
            alpha=0.35,
            color="#8c959f",
            label="random frames" if k == 1 else None,
        )
        low, high = eigenvalues[:k].sum(), eigenvalues[-k:].sum()
        ax.hlines(
            low,
            k - 0.35,
            k + 0.35,
            color="#cf222e",
            lw=2,
            label="bound: sum of k smallest λ" if k == 1 else None,
        )
        ax.hlines(
            high,
            k - 0.35,
            k + 0.35,
            color="#8c959f",
            lw=1,
            ls=":",
            label="sum of k largest λ" if k == 1 else None,
        )
        phi = np.asarray(min_trace_frame(sigma, k))
        ax.plot(
            k,
            np.trace(phi.T @ sigma @ phi),
            "x",
            color="#1f6feb",
            ms=9,
            mew=2,
            label="reference min_trace_frame" if k == 1 else None,
        )
    ax.set_xlabel("k (frame width)")
    ax.set_ylabel("trace(Φᵀ Σ Φ)")
    ax.set_title(f"Ky Fan: random orthonormal frames vs the bound (m = {m})")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    return to_svg(fig)


class GradientCase(NamedTuple):
    """A scalar loss, its exact directional derivative, and what the suite uses."""

    name: str
    loss: Callable[[np.ndarray], float]
    x: np.ndarray
    v: np.ndarray
    exact: float  # <grad loss(x), v> from the reference gradient
    rounding_scale: float  # magnitudes summed to form the loss (see directional_difference)


def batchnorm_case(forward: Callable[..., Any], backward: Callable[..., Any]) -> GradientCase:
    """l(x) = sum(dy * batchnorm_forward(x)) along v scaled per feature by s (m = 8, d = 3).

    As in ``test_batchnorm``: ``s = sqrt(var(x) + eps)`` is the length over which l bends,
    so the plotted h is a fraction of it.
    """
    rng = np.random.default_rng(7)
    x, dy = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    gamma, beta = rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)
    v = rng.standard_normal((8, 3)) * np.sqrt(x.var(axis=0) + 1e-5)

    def loss(z: np.ndarray) -> float:
        return float(np.sum(dy * np.asarray(forward(z, gamma, beta))))

    dx = np.asarray(backward(dy, x, gamma)[0])
    scale = float(np.sum(np.abs(dy * np.asarray(forward(x, gamma, beta)))))
    return GradientCase("batchnorm_backward", loss, x, v, float(np.sum(dx * v)), scale)


def cross_entropy_case(ce: Callable[..., Any], grad: Callable[..., Any]) -> GradientCase:
    """l(z) = cross_entropy(y, z) along a random direction (N = 5 classes)."""
    rng = np.random.default_rng(11)
    z, v = rng.standard_normal(5) * 2, rng.standard_normal(5)
    y = rng.dirichlet(np.ones(5))

    def loss(w: np.ndarray) -> float:
        return float(ce(y, w))

    scale = float(np.sum(np.abs(y * z)) + np.abs(z).max() + 1.0)  # log-sum-exp terms
    return GradientCase("cross_entropy_grad", loss, z, v, float(np.dot(grad(y, z), v)), scale)


def gradient_errors(case: GradientCase, hs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|fd(h) - exact| and the bound ``directional_difference`` allows, for each step h."""
    errors, bounds = [], []
    for h in hs:
        dd = directional_difference(case.loss, case.x, case.v, float(h), case.rounding_scale)
        errors.append(abs(dd.estimate - case.exact))
        bounds.append(dd.tol)
    return np.array(errors), np.array(bounds)


#: the steps the gradient-check plot sweeps: 1e-12 to 1, six per decade
STEPS = np.logspace(-12, 0, 73)


def gradient_check(cases: Sequence[GradientCase]) -> str:
    """|central difference - exact directional derivative| against h, log-log.

    The error falls like h^2 (truncation) until float64 rounding, growing like 1/h,
    takes over; dashed lines are ``directional_difference``'s bound (the properties
    choose h per example). Slope guides are anchored on the first curve.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curves = []
    for i, case in enumerate(cases):
        colour = f"C{i}"
        errors, bounds = gradient_errors(case, STEPS)
        curves.append(errors)
        shown = np.maximum(errors, 1e-17)  # an exact hit would vanish from a log axis
        ax.loglog(STEPS, shown, "-", color=colour, label=f"{case.name}: |fd(h) − exact|")
        ax.loglog(STEPS, bounds, "--", color=colour, lw=0.8, label=f"{case.name}: bound allowed")
    # slope guides anchored on the first curve: h² through its error at h = 0.1,
    # 1/h through its error at h = 1e-12 (where rounding dominates)
    at_tenth = float(curves[0][np.argmin(abs(STEPS - 0.1))])
    ax.loglog(STEPS, at_tenth * (STEPS / 0.1) ** 2, color="#555", lw=0.7, ls="-.", label="slope h²")
    ax.loglog(
        STEPS, curves[0][0] * STEPS[0] / STEPS, color="#999", lw=0.7, ls="-.", label="slope 1/h"
    )
    ax.set_ylim(1e-17, 1e3)
    ax.set_xlabel("step h")
    ax.set_ylabel("absolute error of the directional derivative")
    ax.set_title("gradient check: central-difference error against step size")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    return to_svg(fig)

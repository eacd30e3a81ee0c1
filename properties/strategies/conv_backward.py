"""Strategies for the conv-backward chapter: a configuration, its inputs and an upstream dy."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from properties.strategies._args import StrategyArgumentError
from properties.strategies.conv import (
    CONV_VALUES,
    ConvConfig,
    conv2d_arrays,
    conv2d_configs,
)

__all__ = ["ConvBackwardProblem", "conv2d_backward_problems"]


class ConvBackwardProblem(NamedTuple):
    """A Conv2D configuration, its inputs ``x, w, b`` and an upstream gradient ``dy``.

    ``dy`` has the output's shape ``(B, W', H', C_out)``; ``b`` is drawn although the
    gradients do not depend on it (the bias gradient's identity and finite differences
    in b use it).
    """

    config: ConvConfig
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dy: np.ndarray

    def __repr__(self) -> str:
        """The geometry and the shapes first: the arrays follow (a failure reads top-down)."""
        c = self.config
        return (
            f"ConvBackwardProblem(x {c.input_shape}, w {c.weight_shape}, dy {c.output_shape}, "
            f"stride={c.stride}, padding={c.padding}, dilation={c.dilation},\n"
            f"  x={self.x!r},\n  w={self.w!r},\n  b={self.b!r},\n  dy={self.dy!r})"
        )


@st.composite
def _problems(
    draw: st.DrawFn, configs: SearchStrategy[ConvConfig], elements: SearchStrategy[float]
) -> ConvBackwardProblem:
    config = draw(configs, label="config")
    x, w, b = draw(conv2d_arrays(config, elements=elements), label="x, w, b")
    dy = draw(
        hnp.arrays(np.float64, config.output_shape, elements=elements, fill=st.nothing()),
        label="dy",
    )
    return ConvBackwardProblem(config, x, w, b, dy)


def conv2d_backward_problems(
    configs: SearchStrategy[ConvConfig] | None = None,
    *,
    elements: SearchStrategy[float] = CONV_VALUES,
) -> SearchStrategy[ConvBackwardProblem]:
    """Backward-pass problems: a configuration first, then ``x, w, b``, then ``dy``.

    ``configs`` defaults to ``conv2d_configs()`` (asymmetric kernel, stride, padding
    and dilation, each drawn per axis); pass ``conv2d_configs(kernel=1)`` and the like to
    pin structure. Every entry of every array is drawn from ``elements`` (default
    ``CONV_VALUES``: finite, |value| <= 1e3, no subnormals). Shrinks towards the smallest
    configuration and zero arrays.

    >>> p = conv2d_backward_problems(conv2d_configs(batch=1, kernel=2)).example()
    >>> p.dy.shape == p.config.output_shape and p.w.shape[:2] == (2, 2)
    True
    """
    if configs is None:
        configs = conv2d_configs()
    if not isinstance(configs, SearchStrategy):
        raise StrategyArgumentError(f"configs: expected a strategy of ConvConfig, got {configs!r}")
    if not isinstance(elements, SearchStrategy):
        raise StrategyArgumentError(f"elements: expected a strategy of floats, got {elements!r}")
    return _problems(configs, elements)

"""The framework adapters: each holds every theorem except its recorded findings.

``properties/adapters/<framework>_adapter.py`` implements the contract on a framework;
its ``EXPECTED_FAILURES = {"test_name": "reason"}`` (absent: none) lists the properties
it is known to fail, each a finding with its counterexample in the README. The audit
is strict both ways: a property failing outside that list fails this test, and so does
a listed one that holds (the framework, or the suite, changed: update the list).

The audits are marked ``frameworks``: each takes minutes (measured in the README), far
over ``make test``'s budget, so ``make test`` deselects them and ``make report`` runs
them, writing ``reports/frameworks.json`` for the report's "Frameworks" section. An
adapter whose framework is not installed is skipped (``pip install 'nnlaws[torch]'``).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from properties.report import frameworks
from reference import CONTRACT_NAMES

ADAPTERS = Path(__file__).resolve().parents[1] / "adapters"
#: adapter module -> the framework it needs
FRAMEWORK = {"scipy_adapter": "scipy", "torch_adapter": "torch", "jax_adapter": "jax"}


def _defined_names(path: Path) -> set[str]:
    """Top-level function names of a module, read without importing it (no framework needed)."""
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("adapter", sorted(FRAMEWORK))
def test_adapter_defines_every_contract_name(adapter: str) -> None:
    missing = set(CONTRACT_NAMES) - _defined_names(ADAPTERS / f"{adapter}.py")
    assert not missing, f"properties/adapters/{adapter}.py does not define {sorted(missing)}"


def test_package_imports_no_framework() -> None:
    """``import properties.adapters`` works without torch or jax: it imports no adapter."""
    source = (ADAPTERS / "__init__.py").read_text()
    imports = (ast.Import, ast.ImportFrom)
    assert not any(isinstance(node, imports) for node in ast.walk(ast.parse(source)))


@pytest.mark.xfail(
    strict=True,
    raises=ValueError,
    reason="finding: torch.nn.functional.batch_norm(training=True) raises ValueError "
    "'Expected more than 1 value per channel when training' on a batch of one example, "
    "a valid input (the theorem: y = beta); the torch adapter calls its kernel instead",
)
def test_torch_functional_batch_norm_accepts_one_example() -> None:
    torch = pytest.importorskip("torch")
    x, gamma, beta = (torch.tensor(v, dtype=torch.float64) for v in ([[0.0]], [1.0], [2.0]))
    y = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True)
    np.testing.assert_array_equal(y.numpy(), [[2.0]])


@pytest.mark.xfail(
    strict=True,
    raises=RuntimeError,
    reason="finding: torch 2.13 CPU autograd of F.conv2d with a permuted (non-contiguous) "
    "kernel raises 'slow_conv2d: grad_weight must be contiguous' (x (1, 2, 1, 2) NHWC, "
    "a 2 x 1 kernel, C_in = 2, C_out = 1), a valid input; the adapter copies the kernel",
)
def test_torch_conv2d_backward_accepts_a_permuted_kernel() -> None:
    torch = pytest.importorskip("torch")
    x = torch.ones((1, 2, 1, 2), dtype=torch.float64, requires_grad=True)
    w = torch.ones((2, 1, 2, 1), dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1))
    (dw,) = torch.autograd.grad(y.sum(), (w,))
    np.testing.assert_array_equal(dw.numpy(), np.ones((2, 1, 2, 1)))


JAX_CRASH = """
import numpy as np
from properties.adapters.jax_adapter import conv2d_backward
x, w, dy = np.ones((1, 4, 2, 1)), np.ones((2, 2, 1, 1)), np.ones((1, 3, 1, 1))
conv2d_backward(dy, x, w, (2, 2), (1, 1), (1, 3))
"""


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="finding: jax 0.10 / XLA CPU aborts the process (CHECK failure 'Window "
    "dimensions do not match RHS shape') compiling the VJP of conv_general_dilated for "
    "x (1, 4, 2, 1) NHWC, a 2 x 2 kernel, stride (2, 2), padding (1, 1), dilation (1, 3)",
)
def test_jax_conv2d_backward_compiles_for_a_strided_dilated_case() -> None:
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, "-c", JAX_CRASH], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr.splitlines()[0] if done.stderr else done.returncode


@pytest.mark.frameworks
@pytest.mark.parametrize("adapter", sorted(FRAMEWORK))
def test_adapter_audit(adapter: str, tmp_path: Path) -> None:
    """Audit the adapter under ``ci``; record verdicts and time for the report."""
    framework = pytest.importorskip(FRAMEWORK[adapter])
    expected = getattr(importlib.import_module(f"properties.adapters.{adapter}"),
                       "EXPECTED_FAILURES", {})  # fmt: skip
    result = frameworks.audit(
        adapter, f"{framework.__name__} {framework.__version__}", expected, tmp_path / "audit.json"
    )
    frameworks.record(result)
    bad = result.bad()
    assert not bad, (
        f"auditing properties.adapters.{adapter} ({result.seconds:.0f} s): \n"
        + "\n".join(f"{name}: {v['verdict']}: {v['reason'][:500]}" for name, v in bad.items())
    )

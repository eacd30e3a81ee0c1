"""Audit from anywhere: a wheel of this tree, installed elsewhere, audits a user's module.

Theorem (of the suite itself). Build a wheel of the working tree, install it (no
dependencies: they are this environment's) into a fresh directory ``site``, and put
that directory on ``PYTHONPATH``. Then, in a directory outside the repository that holds
only the user's ``mycode.py``, the environment's ``pytest`` console script run as

    pytest --pyargs properties --impl-module mycode --hypothesis-profile=ci -p no:cacheprovider

exits 1 with a shrunk counterexample when ``mycode.conv2d_output_shape`` ignores the
dilation, 0 when it is correct, and 4 with one line when the module does not exist;
``--hypothesis-profile=ci`` is nnlaws's profile (200 examples, not Hypothesis's own
``ci``), ``dev`` is the default, and every run uses the installed copy of nnlaws,
not this repository (the environment may have nnlaws installed editable from here:
``PYTHONPATH`` comes first on ``sys.path``, before an editable install's finder, and
the header line of the plugin names the directory each package came from).

The wheel is built offline with the environment's own setuptools
(``--no-build-isolation``, the ``dev`` extra provides it) from a copy of the files the
build reads, so the build writes nothing into the repository. In the copy, the version
gets a local label (``0.2.0+installtest``): an editable install of nnlaws in this
environment would otherwise be indistinguishable, and its entry point would stand in
for a wheel that lacked one. pytest's ``plugins:`` header line names the distribution
whose entry point it loaded, so the label proves the wheel's own entry point ran, and
that the version the build reads is ``reference.__version__``.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import pytest

import reference

ROOT = Path(__file__).resolve().parents[2]
#: what the build reads: the project file, the readme it names, the two packages
BUILD_INPUTS = ("pyproject.toml", "README.md", "reference", "properties")
#: the oldest setuptools that builds this project (SPDX license; bdist_wheel built in)
MIN_SETUPTOOLS = 77
#: local version label of the test build (PEP 440 ``+local``), see the module docstring
LOCAL = "installtest"

CORRECT = """
def conv2d_output_shape(input_shape, out_channels, kernel_size, stride=(1, 1),
                        padding=(0, 0), dilation=(1, 1)):
    B, W, H, _ = input_shape
    out = [(n + 2 * p - d * (k - 1) - 1) // s + 1
           for n, k, s, p, d in zip((W, H), kernel_size, stride, padding, dilation)]
    if min(out) < 1:
        raise ValueError(f"empty output {out}")
    return (B, out[0], out[1], out_channels)
"""

# the answer key's formula, right only for dilation 1
NO_DILATION = """
def conv2d_output_shape(input_shape, out_channels, kernel_size, stride=(1, 1),
                        padding=(0, 0), dilation=(1, 1)):
    B, W, H, _ = input_shape
    out = [(n + 2 * p - k) // s + 1
           for n, k, s, p in zip((W, H), kernel_size, stride, padding)]
    if min(out) < 1:
        raise ValueError(f"empty output {out}")
    return (B, out[0], out[1], out_channels)
"""

AUDIT = ("--pyargs", "properties", "--hypothesis-profile=ci", "-p", "no:cacheprovider")


class Installed(NamedTuple):
    """The wheel built from this tree, its version, and the directory it was installed into."""

    wheel: Path
    version: str
    site: Path


def _setuptools_major() -> int:
    try:
        return int(metadata.version("setuptools").split(".")[0])
    except metadata.PackageNotFoundError:
        return 0


def _pip(*args: str, cwd: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        *args,
        "--no-index",
        "-q",
        "--disable-pip-version-check",
    ]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build a wheel of the working tree offline and ``pip install --target`` it."""
    if _setuptools_major() < MIN_SETUPTOOLS:
        pytest.skip(
            f"building a wheel offline needs setuptools>={MIN_SETUPTOOLS} in this environment "
            "(the dev extra: pip install -e '.[dev]')"
        )
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".benchmarks")
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    version = f"{reference.__version__}+{LOCAL}"
    init = source / "reference" / "__init__.py"
    text, count = re.subn(
        r'^__version__ = "[^"]+"$', f'__version__ = "{version}"', init.read_text(), flags=re.M
    )
    assert count == 1, 'reference/__init__.py: expected one line __version__ = "..."'
    init.write_text(text)
    _pip(
        "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), "./source", cwd=root
    )
    (wheel,) = (root / "dist").glob("nnlaws-*.whl")
    _pip("install", "--no-deps", "--target", str(root / "site"), str(wheel), cwd=root)
    return Installed(wheel, version, root / "site")


def _user_run(installed: Installed, user: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Run the environment's ``pytest`` script in ``user``, with only the install importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    }
    env["PYTHONPATH"] = str(installed.site)  # replaces the repository a developer may have set
    script = Path(sysconfig.get_path("scripts")) / "pytest"
    return subprocess.run(
        [str(script), *options], cwd=user, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def runs(
    installed: Installed, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """The user's runs, each in its own directory outside the repository, in parallel."""
    plans = {
        "wrong": (NO_DILATION, ("--impl-module", "mycode", *AUDIT)),
        "correct": (CORRECT, ("--impl-module", "mycode", *AUDIT, "-v")),
        "usage": (None, ("--impl-module", "nosuchmodule", *AUDIT)),
        "collect": (None, ("--pyargs", "properties", "--collect-only", "-v")),
    }
    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        futures = {}
        for name, (source, options) in plans.items():
            user = tmp_path_factory.mktemp(f"user-{name}")
            assert ROOT not in user.parents
            if source is not None:
                (user / "mycode.py").write_text(source, encoding="utf-8")
            futures[name] = pool.submit(_user_run, installed, user, *options)
        return {name: future.result() for name, future in futures.items()}


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_the_wheel_ships_the_theorems_the_plugin_and_types_not_the_repository_tests(
    installed: Installed,
) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        info = f"nnlaws-{installed.version}.dist-info"
        entry_points = configparser.ConfigParser()
        entry_points.read_string(wheel.read(f"{info}/entry_points.txt").decode())
        meta = wheel.read(f"{info}/METADATA").decode()
    theorems = {f"properties/{p.name}" for p in (ROOT / "properties").glob("test_*.py")}
    assert theorems and theorems <= names, sorted(theorems - names)
    assert {"properties/plugin.py", "properties/py.typed", "reference/py.typed"} <= names
    assert not [n for n in names if n.startswith(("properties/meta/", "benchmarks/"))]
    assert dict(entry_points["pytest11"]) == {"properties.plugin": "properties.plugin"}
    assert f"Version: {installed.version}\n" in meta
    for classifier in ("Framework :: Hypothesis", "Framework :: Pytest", "Typing :: Typed"):
        assert f"Classifier: {classifier}\n" in meta


def test_every_run_uses_the_installed_copy_not_the_repository(installed, runs) -> None:
    site = installed.site.resolve()
    for name, result in runs.items():
        if name == "usage":
            continue  # stops before the header
        header = re.search(
            r"^nnlaws (\S+): properties from (.*), reference from (.*)$", result.stdout, re.M
        )
        assert header, f"{name}: no nnlaws header line\n{_output(result)}"
        expected = (installed.version, str(site / "properties"), str(site / "reference"))
        assert header.groups() == expected, header[0]
        # the entry point pytest loaded is the wheel's (an editable install's has no label)
        plugins = re.search(r"^plugins: (.*)$", result.stdout, re.M)
        assert plugins, f"{name}: no plugins line\n{_output(result)}"
        assert f"nnlaws-{installed.version}" in plugins[1].split(", "), (
            f"{name}: {plugins[0]!r} does not name the wheel's nnlaws-{installed.version}"
        )


def test_wrong_implementation_fails_with_a_shrunk_counterexample(runs) -> None:
    result = runs["wrong"]
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, _output(result)
    out = result.stdout
    assert "conv2d_output_shape <- mycode.conv2d_output_shape" in out, out
    # Hypothesis's report of the shrunk example, naming the implementation under test
    assert re.search(r"Failing test case|Falsifying example", out), out
    assert "impl=<implementations under test: conv2d_output_shape <- mycode." in out, out


def test_correct_implementation_passes_with_nnlaws_ci_profile(runs) -> None:
    result = runs["correct"]
    assert result.returncode == pytest.ExitCode.OK, _output(result)
    assert re.search(r"\d+ passed, \d+ deselected", result.stdout), result.stdout
    # nnlaws's ci profile (200 examples), not the ci profile Hypothesis ships (100)
    assert re.search(r"^hypothesis profile .*max_examples=200", result.stdout, re.M), result.stdout


def test_unknown_module_is_a_usage_error_with_one_line(runs) -> None:
    result = runs["usage"]
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, _output(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot import module 'nosuchmodule'" in lines[0], lines
    assert "passed" not in result.stdout and "failed" not in result.stdout


def test_a_plain_run_collects_only_the_theorems_with_the_dev_profile(runs) -> None:
    result = runs["collect"]
    assert result.returncode == pytest.ExitCode.OK, _output(result)
    modules = set(re.findall(r"<Module (\S+)>", result.stdout))
    expected = {p.name for p in (ROOT / "properties").glob("test_*.py")}
    assert modules == expected, result.stdout
    assert re.search(r"^hypothesis profile 'dev'", result.stdout, re.M), result.stdout


def test_loading_the_plugin_imports_none_of_the_measured_code() -> None:
    # pytest loads entry-point plugins before pytest-cov starts measuring: if loading
    # them imported reference/ or the strategies, `make report` would miss their
    # module-level lines (pyproject.toml, [tool.coverage.run] include)
    code = (
        "import sys, properties.plugin, properties.audit; "
        "print(sorted(m for m in sys.modules if m == 'reference' or m.startswith("
        "('reference.', 'properties.strategies'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout

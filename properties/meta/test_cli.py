"""``nnlaws audit`` gives every kind of verdict, its outputs, and the contract's exit statuses.

Tiny implementations of ``moment_matching_points`` are written to a temporary folder,
one per outcome: the reference (held), two catalogue entries (failed), a hang (timed
out), an exception and a memory blow-up (error), a crash (error, and the audit goes
on), a file that does not import (import error), one that provides another name only
(not applicable). One audit of the folder, restricted to its theorem with few
examples, checks them all, with the terminal matrix, JSON (against its schema), JUnit
and HTML. Usage errors exit 4 with one line before any property runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "properties" / "auditing" / "schema.json"
FAST = ["--theorem", "moment_matching", "--max-examples", "5", "--jobs", "2"]

FOLDER = {
    "reference.py": "from reference import moment_matching_points  # noqa: F401\n",
    "mean_forgotten.py": (
        "from properties.catalogue.mahalanobis import mean_forgotten as moment_matching_points\n"
    ),
    "unbiased.py": (
        "from properties.catalogue.mahalanobis import unbiased_scale as moment_matching_points\n"
    ),
    "hang.py": "import time\ndef moment_matching_points(mu, sigma):\n    time.sleep(10**6)\n",
    "raises.py": "def moment_matching_points(mu, sigma):\n    raise RuntimeError('not done')\n",
    "hog.py": (
        "import numpy as np\n"
        "def moment_matching_points(mu, sigma):\n"
        "    return [np.empty(10**8) for _ in range(100)]\n"
    ),
    "crash.py": "import os\ndef moment_matching_points(mu, sigma):\n    os._exit(3)\n",
    "broken.py": "import no_such_module_anywhere  # noqa: F401\n",
    "other.py": "from reference import conv2d_output_shape  # noqa: F401\n",
}


def nnlaws(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``nnlaws audit ARGS`` in a fresh interpreter (the module route of the console script)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "properties.auditing", "audit", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def folder_audit(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One audit of the folder of every outcome, with all outputs written."""
    work = tmp_path_factory.mktemp("audit")
    (work / "subs").mkdir()
    for name, text in FOLDER.items():
        (work / "subs" / name).write_text(text)
    result = nnlaws(
        "subs", *FAST, "--timeout", "8", "--memory-limit", "1000",
        "--json", "a.json", "--junit", "a.xml", "--html", "a.html",
        cwd=work,
    )  # fmt: skip
    return work, result


def _by_label(work: Path) -> dict[str, dict]:
    payload = json.loads((work / "a.json").read_text())
    return {impl["label"]: impl for impl in payload["implementations"]}


def _verdicts(impl: dict) -> set[str]:
    return {p["verdict"] for p in impl["properties"]}


def test_every_outcome_is_one_implementation_s_verdict(folder_audit) -> None:
    work, result = folder_audit
    assert result.returncode == 1, result.stdout + result.stderr
    impls = _by_label(work)
    assert set(impls) == {name.removesuffix(".py") for name in FOLDER}
    assert _verdicts(impls["reference"]) == {"held"} and impls["reference"]["verdict"] == "held"
    for wrong in ("mean_forgotten", "unbiased"):
        assert "failed" in _verdicts(impls[wrong])
        failed = [p for p in impls[wrong]["properties"] if p["verdict"] == "failed"]
        # Hypothesis's shrunk example ("Falsifying example" before 6.1xx, then this)
        assert all("Failing test case" in p["counterexample"] for p in failed), failed
    assert _verdicts(impls["hang"]) == {"timed out"}
    hang = impls["hang"]["properties"][0]["message"]
    assert "timed out after 8 s" in hang and "still running impl.moment_matching_points(" in hang
    assert _verdicts(impls["raises"]) == {"error"}
    assert "RuntimeError: not done" in impls["raises"]["properties"][0]["message"]
    assert _verdicts(impls["hog"]) == {"error"}
    assert "MemoryError" in impls["hog"]["properties"][0]["message"]
    assert _verdicts(impls["crash"]) == {"error"}  # every property, one process each
    assert all("exited with status 3" in p["message"] for p in impls["crash"]["properties"])
    assert impls["broken"]["status"] == "import error"
    assert "no_such_module_anywhere" in impls["broken"]["message"]
    assert _verdicts(impls["other"]) == {"not applicable"} and impls["other"]["verdict"] == "held"


def test_terminal_shows_the_matrix_then_failures_with_progress(folder_audit) -> None:
    _, result = folder_audit
    out = result.stdout
    assert "[mean_forgotten] moment_matching::" in out  # a progress line per property
    table = out[out.index("implementation ") :]
    assert "reference" in table and "held" in table and "import error" in table
    assert "== hang (subs/hang.py): FAILED" in out


def test_json_follows_its_schema(folder_audit) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    work, _ = folder_audit
    jsonschema.validate(json.loads((work / "a.json").read_text()), json.loads(SCHEMA.read_text()))


def test_junit_and_html_show_the_verdicts(folder_audit) -> None:
    work, _ = folder_audit
    suites = {s.get("name"): s for s in ET.parse(work / "a.xml").getroot()}
    assert suites["reference"].get("failures") == "0" and suites["reference"].get("errors") == "0"
    assert int(suites["mean_forgotten"].get("failures")) >= 1
    page = (work / "a.html").read_text()
    assert "<script" not in page and "http" not in page.replace("nnlaws.invalid", "")
    for label in FOLDER:
        assert f'id="impl-{label.removesuffix(".py")}"' in page
    assert "timed out after 8 s" in page and "Failing test case" in page
    assert 'for="only-0">moment_matching</label>' in page  # the filter by theorem


def test_a_correct_module_exits_0(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(FOLDER["reference.py"])
    result = nnlaws("mine.py", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    said = "[mine] moment_matching_points <- reference.mahalanobis.moment_matching_points"
    assert said in result.stdout  # what the name resolved to, before any verdict


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0", "x.py"], "--jobs 0: expected a positive number"),
        (["--theorem", "nope", "x.py"], "--theorem nope: unknown theorem"),
        (["--profile", "nope", "x.py"], "--profile nope: unknown Hypothesis profile"),
        (["missing.py"], "missing.py: no such file"),
        (["no_such_module_xyz"], "cannot import module 'no_such_module_xyz'"),
        (["empty.py"], "module defines no contract name"),
        (["--impl", "nope=x:y"], "unknown contract name 'nope'"),
        ([], "nothing to audit"),
    ],
)
def test_usage_error_exits_4_with_one_line(tmp_path: Path, args, message) -> None:
    (tmp_path / "x.py").write_text(FOLDER["reference.py"])
    (tmp_path / "empty.py").write_text("X = 1\n")
    result = nnlaws(*args, cwd=tmp_path)
    assert result.returncode == 4
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "moment_matching::" not in result.stdout  # no property ran


def test_pytest_route_times_out_a_hang_and_names_it_with_q(tmp_path: Path) -> None:
    (tmp_path / "hang.py").write_text(FOLDER["hang.py"])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
        "properties.test_moment_matching", "--impl-module", "hang", "--impl-timeout", "1",
        "-k", "mean_mu",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout
    assert "moment_matching_points <- hang.moment_matching_points" in result.stdout  # with -q
    assert "timed out after 1 s" in result.stdout

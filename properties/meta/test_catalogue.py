"""Every property can fail: each catalogued wrong implementation is rejected by an audit.

Theorem (of the suite itself). For every entry ``(NAME, f, mistake)`` of the catalogue,
``pytest --impl NAME=MODULE:f`` exits with status 1: some property exercising NAME
rejects f. Every peer (a correct implementation by another algorithm) is accepted:
its audit exits 0. And ``pytest --impl-module reference`` (every name substituted by the
reference itself) exits 0: the properties accept a correct implementation.

The audits run in subprocesses, exactly as a user would type them, with the
``catalogue`` Hypothesis profile (derandomized, no shrinking: only pass/fail matters).
They are started together in a pool as wide as the machine, so the catalogue costs
about (number of entries x one audit) / cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from properties.catalogue import Peer, WrongImplementation, all_peers, all_wrong_implementations

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = all_wrong_implementations()
PEERS = all_peers()


def run_audit(*options: str) -> subprocess.CompletedProcess[str]:
    """Run ``pytest OPTIONS`` on the suite in a fresh interpreter, as a user would."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile=catalogue",
        "--benchmark-disable",
        *options,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def audits() -> dict[str, Future[subprocess.CompletedProcess[str]]]:
    """Start every audit at once; each test waits only for its own."""
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    futures = {e.spec: pool.submit(run_audit, "--impl", e.spec) for e in ENTRIES}
    futures.update((p.spec, pool.submit(run_audit, "--impl", p.spec)) for p in PEERS)
    futures["reference"] = pool.submit(run_audit, "--impl-module", "reference")
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _tail(result: subprocess.CompletedProcess[str], lines: int = 40) -> str:
    return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.name}:{e.func.__name__}")
def test_wrong_implementation_is_rejected(entry: WrongImplementation, audits) -> None:
    result = audits[entry.spec].result()
    assert result.returncode == 1, (
        f"no property rejected {entry.spec} ({entry.mistake}); "
        f"audit exited {result.returncode}:\n{_tail(result)}"
    )


def test_reference_is_accepted(audits) -> None:
    result = audits["reference"].result()
    assert result.returncode == 0, f"the reference failed its own audit:\n{_tail(result)}"


@pytest.mark.parametrize("peer", PEERS, ids=lambda p: f"{p.name}:{p.func.__name__}")
def test_peer_is_accepted(peer: Peer, audits) -> None:
    result = audits[peer.spec].result()
    assert result.returncode == 0, (
        f"a correct implementation was rejected: {peer.spec} ({peer.algorithm}); "
        f"audit exited {result.returncode}:\n{_tail(result)}"
    )

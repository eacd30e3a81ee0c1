"""Every property can fail: each catalogued wrong implementation is rejected by an audit.

Theorem (of the suite itself). For every entry ``(NAME, f, mistake)`` of the catalogue,
``pytest --impl NAME=MODULE:f`` exits with status 1: some property exercising NAME
rejects f. Every peer (a correct implementation by another algorithm) is accepted:
its audit exits 0. And every audited property (every item ``pytest --impl-module
reference`` selects) is failed by at least one entry: no property is there that no
plausible mistake can fail. (That the properties accept the reference itself is the
rest of the suite: each theorem module runs them on it, with more examples.)

Each audit is exactly the command a user would type, with the ``catalogue`` Hypothesis
profile (derandomized, no shrinking: only pass/fail matters) and without ``-x``, so
each run records which properties reject the entry. Audits run in batches, one
interpreter per catalogue chapter (``properties.meta.audit_batch``: a fresh pytest
session per audit, the imports paid once per batch, a property some earlier entry
already failed skipped once the entry is rejected), the batches spread over the
machine's cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from properties.catalogue import Peer, WrongImplementation, all_peers, all_wrong_implementations
from properties.meta.audit_batch import prop

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = all_wrong_implementations()
PEERS = all_peers()
#: not an audit: the items an audit of every name selects (the audited properties)
AUDITED = "--impl-module reference --collect-only"


def audit_options(entry: WrongImplementation | Peer) -> str:
    """The audit command's options for one entry."""
    return f"--impl {entry.spec}"


def batches() -> list[list[str]]:
    """The audits, one batch per catalogue chapter, the longest first.

    A chapter's wrong entries come before its peers, so the skip rule (a property an
    earlier entry failed) has the most to skip; the collection of the audited
    properties goes with the shortest batch.
    """
    by_chapter: dict[str, list[str]] = defaultdict(list)
    for entry in [*ENTRIES, *PEERS]:
        by_chapter[entry.func.__module__].append(audit_options(entry))
    ordered = sorted(by_chapter.values(), key=len, reverse=True)
    ordered[-1].append(AUDITED)
    return ordered


def run_batch(audits: list[str]) -> dict[str, Any]:
    """Run one batch in a fresh interpreter; return each audit's record."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audits.json"
        command = [sys.executable, "-m", "properties.meta.audit_batch", str(out), *audits]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"audit batch failed:\n{(done.stdout + done.stderr)[-4000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def audits() -> Iterator[dict[str, Future[dict[str, Any]]]]:
    """Start every batch at once; each test waits only for the batch of its audit."""
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    futures = {}
    for batch in batches():
        future = pool.submit(run_batch, batch)
        futures.update((options, future) for options in batch)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def result(audits: dict[str, Future[dict[str, Any]]], options: str) -> dict[str, Any]:
    """The record of one audit (waiting for its batch)."""
    return audits[options].result()[options]


def describe(record: dict[str, Any]) -> str:
    """The audit's failing properties, each with the tail of its message."""
    failed = [f"{nodeid}:\n{text[-1500:]}" for nodeid, text in record["failures"].items()]
    return "\n".join(failed) or "(no property failed)"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.name}:{e.func.__name__}")
def test_wrong_implementation_is_rejected(entry: WrongImplementation, audits) -> None:
    record = result(audits, audit_options(entry))
    assert record["exit"] == 1, (
        f"no property rejected {entry.spec} ({entry.mistake}); "
        f"audit exited {record['exit']}:\n{describe(record)}"
    )


@pytest.mark.parametrize("peer", PEERS, ids=lambda p: f"{p.name}:{p.func.__name__}")
def test_peer_is_accepted(peer: Peer, audits) -> None:
    record = result(audits, audit_options(peer))
    assert record["exit"] == 0, (
        f"a correct implementation was rejected: {peer.spec} ({peer.algorithm}); "
        f"audit exited {record['exit']}:\n{describe(record)}"
    )


def test_every_audited_property_is_failed_by_some_entry(audits) -> None:
    # The audited properties are those an audit of every name selects (every @uses item).
    audited = {prop(nodeid) for nodeid in result(audits, AUDITED)["collected"]}
    failed_by: dict[str, list[str]] = defaultdict(list)
    for entry in ENTRIES:
        for nodeid, outcome in result(audits, audit_options(entry))["outcomes"].items():
            if outcome == "failed":
                failed_by[prop(nodeid)].append(entry.spec)
    never = sorted(audited - set(failed_by))
    assert audited and not never, (
        f"{len(never)} of {len(audited)} audited properties are failed by no catalogue "
        "entry (a property no plausible mistake can fail, or a gap in the catalogue):\n"
        + "\n".join(never)
    )

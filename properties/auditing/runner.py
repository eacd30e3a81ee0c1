"""Run the audit processes: one pytest per implementation, watched from outside.

Each implementation (a ``Target``) is audited by ``pytest --pyargs properties...`` in a
process of its own, with the plugin ``properties.auditing.child`` writing one verdict
per property to a record file as it goes. This process reads the records, prints a line
per finished property, and decides what the process itself cannot say:

* a crash (segfault, ``os._exit``, the kernel's OOM killer): the property that was
  running gets the verdict "error" ("the process crashed ..."), and a new process
  audits the properties not yet decided, so one crash costs one verdict, not the rest;
* a hang that the in-process time limit (``properties.audit.time_limit``) cannot
  interrupt, in C code that never returns to the interpreter: when nothing has been
  recorded for the limit plus ``GRACE`` seconds, the process is killed and the
  running property "timed out";
* an implementation that does not import (exit status 4 of the child): its result is
  "import error: ..." (for a file found in a folder; a module named on the command line
  is checked before any property runs, see ``cli``).

Units of work. With at least as many implementations as jobs, a unit is one
implementation and all its theorems. With fewer (one module audited on a 2-core
machine), each implementation's theorem modules are separate units, largest module
first, so that every job has work; the cost is one more pytest start per module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import properties

#: seconds of silence beyond the per-property limit before the process is killed
GRACE = 30.0
#: how often the records are read
POLL = 0.1
#: verdicts that make an audit fail
FAILING = ("failed", "error", "timed out")


@dataclass(frozen=True)
class Target:
    """One implementation to audit: how to show it, and the child options naming it."""

    label: str  # short name in tables: a file's stem, a module, "--impl"
    named: str  # what the user typed (a path, a module, the --impl specs)
    options: tuple[str, ...]  # --impl-module M [--audit-file M=PATH] | --impl S ...
    direct: bool  # named on the command line (its usage errors are the run's, exit 4)


@dataclass(frozen=True)
class Settings:
    """How every process of one audit runs."""

    profile: str
    timeout: float
    memory_mb: int
    max_examples: int
    shrink_seconds: float
    jobs: int
    theorems: tuple[str, ...]  # theorem modules to run ("softmax"), all when empty


@dataclass
class Verdict:
    """The verdict of one property for one implementation."""

    key: str
    theorem: str
    name: str
    uses: list[str]
    verdict: str  # held | failed | error | timed out | not applicable
    message: str = ""
    counterexample: str = ""
    duration: float = 0.0
    accuracy: dict[str, Any] | None = None
    shrinking_stopped_early: bool = False


@dataclass
class Result:
    """Everything known about one implementation at the end of its audit."""

    target: Target
    status: str = "audited"  # audited | import error | no contract name | crashed
    message: str = ""
    substitutions: list[str] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    duration: float = 0.0

    @property
    def failing(self) -> bool:
        """Whether this implementation fails the audit (any failing verdict, or no audit)."""
        bad = any(v.verdict in FAILING for v in self.verdicts.values())
        return bad or self.status != "audited"


def theorem_modules() -> list[str]:
    """The theorem modules shipped in ``properties`` (``softmax`` for ``test_softmax.py``)."""
    files = [f for f in resources.files(properties).iterdir() if f.name.startswith("test_")]
    return sorted(f.name.removeprefix("test_").removesuffix(".py") for f in files)


def _module_size(theorem: str) -> int:
    return len((resources.files(properties) / f"test_{theorem}.py").read_text())


def child_command(target: Target, modules: list[str], s: Settings, work: Path) -> list[str]:
    """The pytest command line of one unit (``-c devnull``: the user's own ini is not read)."""
    pyargs = [f"properties.test_{m}" for m in modules] or ["properties"]
    return [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        *pyargs,
        "-q",
        "-c",
        os.devnull,
        "--rootdir",
        os.getcwd(),
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-p",
        "properties.plugin",
        "-p",
        "properties.auditing.child",
        f"--hypothesis-profile={s.profile}",
        f"--impl-timeout={s.timeout:g}",
        f"--audit-record={work / 'record.jsonl'}",
        f"--audit-skip={work / 'skip.txt'}",
        f"--audit-memory={s.memory_mb}",
        f"--audit-max-examples={s.max_examples}",
        f"--audit-shrink-seconds={s.shrink_seconds:g}",
        *target.options,
    ]


def child_env() -> dict[str, str]:
    """The child imports the same copy of nnlaws as this process; crashes print a stack."""
    root = str(Path(properties.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONFAULTHANDLER": "1"}


def _tail(path: Path, lines: int = 12) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _death(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by signal {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


class Unit:
    """One audit process (restarted after a crash) for one target and some theorems."""

    def __init__(
        self, target: Target, modules: list[str], s: Settings, emit: Callable[..., None]
    ) -> None:
        self.target, self.modules, self.s, self.emit = target, modules, s, emit
        self.result = Result(target)
        self.items: dict[str, dict[str, Any]] = {}  # key -> collected item

    def run(self) -> Result:
        """Audit until every applicable property has a verdict, or no progress is made."""
        with tempfile.TemporaryDirectory(prefix="nnlaws-audit-") as tmp:
            work = Path(tmp)
            while True:
                progressed, returncode = self._attempt(work)
                undecided = [
                    k for k, i in self.items.items() if i["applicable"] and k not in self.verdicts
                ]
                if returncode == 4 and not self.items:
                    message = _tail(work / "stderr.txt", 1).removeprefix("ERROR: ")
                    kind = "import error" if "cannot import" in message else "no contract name"
                    self.result.status, self.result.message = kind, message
                elif not self.items and returncode not in (0, 1, 5):
                    self.result.status = "crashed"
                    self.result.message = f"the audit process {_death(returncode)}: " + _tail(
                        work / "stderr.txt"
                    )
                if not undecided or not progressed or self.result.status != "audited":
                    break
            for key in undecided:
                self._decide(key, "error", f"no verdict: the audit process {_death(returncode)}")
        return self.result

    @property
    def verdicts(self) -> dict[str, Verdict]:
        """The verdicts decided so far, by key."""
        return self.result.verdicts

    def _decide(self, key: str, verdict: str, message: str = "", **fields: Any) -> None:
        item = self.items[key]
        self.verdicts[key] = Verdict(
            key, item["theorem"], item["name"], item["uses"], verdict, message, **fields
        )
        if verdict != "not applicable":
            self.emit(self.target.label, self.verdicts[key])

    def _handle(self, event: dict[str, Any], running: list[str]) -> None:
        kind = event.pop("event")
        if kind == "configured":
            if not self.result.substitutions:  # said once, not again after a restart
                self.emit(self.target.label, event["substitutions"])
            self.result.substitutions = event["substitutions"]
        elif kind == "collected":
            for item in event["items"]:
                self.items.setdefault(item["key"], item)
                if not item["applicable"] and item["key"] not in self.verdicts:
                    self._decide(item["key"], "not applicable", "name not provided")
        elif kind == "begin":
            running[:] = [event["key"]]
        elif kind == "verdict":
            running.clear()
            key = event.pop("key")
            verdict, message = event.pop("verdict"), event.pop("message")
            self._decide(key, verdict, message, **event)

    def _attempt(self, work: Path) -> tuple[bool, int]:
        """One process; returns whether it decided anything, and its exit status."""
        (work / "skip.txt").write_text("\n".join(self.verdicts))
        record = work / "record.jsonl"
        record.unlink(missing_ok=True)
        before = len(self.verdicts)
        started = time.monotonic()
        with (
            open(work / "stdout.txt", "w") as out,
            open(work / "stderr.txt", "w") as err,
        ):
            process = subprocess.Popen(
                child_command(self.target, self.modules, self.s, work),
                stdout=out,
                stderr=err,
                env=child_env(),
            )
            running: list[str] = []
            offset, last_event = 0, time.monotonic()
            while True:
                finished = process.poll() is not None
                if record.exists():
                    with open(record, encoding="utf-8") as stream:
                        stream.seek(offset)
                        for line in iter(stream.readline, ""):
                            if not line.endswith("\n"):
                                break  # a line being written: read it next time
                            offset += len(line.encode("utf-8"))
                            self._handle(json.loads(line), running)
                            last_event = time.monotonic()
                if finished:
                    break
                if time.monotonic() - last_event > self.s.timeout + GRACE:
                    process.kill()
                    process.wait()
                    if running:
                        silent = time.monotonic() - last_event
                        self._decide(
                            running.pop(),
                            "timed out",
                            f"timed out after {silent:.0f} s: the call never returned to "
                            "Python (a hang in C code?), so the audit process was killed",
                        )
                    break
                time.sleep(POLL)
        if running:  # died in the middle of a property
            stderr = _tail(work / "stderr.txt")
            self._decide(
                running.pop(),
                "error",
                f"the audit process {_death(process.returncode)} while running this property"
                + (f":\n{stderr}" if stderr else " (nothing on stderr)"),
            )
        self.result.duration += time.monotonic() - started
        return len(self.verdicts) > before, process.returncode


def audit(targets: list[Target], s: Settings, emit: Callable[..., None]) -> list[Result]:
    """Audit every target with ``s.jobs`` processes at a time; results in target order.

    ``emit(label, news)`` is called (one call at a time) with each implementation's
    substitutions (a list of lines) once known, and each verdict as it is decided.
    """
    modules = list(s.theorems) or theorem_modules()
    if len(targets) < s.jobs:
        split = sorted(modules, key=_module_size, reverse=True)
        units = [(t, [m]) for t in targets for m in split]
    else:
        units = [(t, list(s.theorems)) for t in targets]
    lock = threading.Lock()
    introduced: set[str] = set()  # labels whose substitutions were said (once per target)

    def locked_emit(label: str, news: Any) -> None:
        with lock:
            if isinstance(news, list):
                if label in introduced:
                    return
                introduced.add(label)
            emit(label, news)

    with ThreadPoolExecutor(max_workers=s.jobs) as pool:
        futures = [pool.submit(Unit(t, m, s, locked_emit).run) for t, m in units]
        parts = [f.result() for f in futures]
    return [merge(t, [p for p in parts if p.target == t]) for t in targets]


def merge(target: Target, parts: list[Result]) -> Result:
    """One implementation's result from its units (one per theorem module when split)."""
    result = Result(target, duration=max(p.duration for p in parts))
    order = {theorem: i for i, theorem in enumerate(theorem_modules())}
    verdicts = [v for part in parts for v in part.verdicts.values()]
    result.verdicts = {v.key: v for v in sorted(verdicts, key=lambda v: order.get(v.theorem, 0))}
    for part in parts:
        result.substitutions = result.substitutions or part.substitutions
        if part.status != "audited" and result.status == "audited":
            result.status, result.message = part.status, part.message
    return result

"""The report's "Frameworks" section: each framework adapter audited, property by property.

``audit(adapter)`` runs ``pytest --impl-module properties.adapters.<adapter>`` in a
subprocess (its own process: JAX's float64 switch and torch's threads stay there),
reads the verdict of every property from its JUnit XML, and classifies it against the
adapter's ``EXPECTED_FAILURES``: ``held``, ``xfail`` (a recorded finding, with its
reason), ``failed`` (a new failure) or ``xpass`` (a recorded finding that no longer
fails: strict, the entry must go). ``record`` merges one audit into
``reports/frameworks.json``; ``html_section`` and ``markdown_section`` render that
file for the report builder. ``properties/meta/test_adapters.py`` drives all of it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path

#: where ``make report`` keeps the section's data
FRAMEWORKS_JSON = Path("reports") / "frameworks.json"
#: per-property time limit of a framework audit, seconds (generous: XLA compiles per shape)
FRAMEWORK_TIMEOUT = 900
#: verdicts that make the meta test fail
BAD = ("failed", "xpass")


@dataclass
class AdapterAudit:
    """One adapter's audit: wall and CPU time, pytest's exit status, a verdict per property.

    The CPU time (user + system of the audit process) is the number to compare across
    runs: on a shared machine the wall time measures the neighbours too.
    """

    adapter: str
    framework: str
    seconds: float
    cpu_seconds: float
    exit_status: int
    profile: str
    verdicts: dict[str, dict[str, str]] = field(default_factory=dict)

    def bad(self) -> dict[str, dict[str, str]]:
        """The properties whose verdict is a new failure or a finding that went away."""
        return {name: v for name, v in self.verdicts.items() if v["verdict"] in BAD}


def _verdict(found: dict, expected: dict[str, str]) -> dict[str, str]:
    """``held`` / ``failed`` / ``xfail`` / ``xpass`` for one property of ``nnlaws audit --json``.

    An error (an exception, a crash of the framework) or a time-out counts as failed,
    with the audit's message as the reason.
    """
    name = found["name"].split("[")[0]
    failed = found["verdict"] != "held"
    if name in expected:
        return {"verdict": "xfail" if failed else "xpass", "reason": expected[name]}
    if not failed:
        return {"verdict": "held", "reason": ""}
    reason = f"{found['verdict']}: {found['message']}\n{found['counterexample']}".strip()
    return {"verdict": "failed", "reason": reason[:2000]}


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def audit(
    adapter: str, framework: str, expected: dict[str, str], report: Path, profile: str = "ci"
) -> AdapterAudit:
    """Audit ``properties.adapters.<adapter>`` in a subprocess and classify every property."""
    # `nnlaws audit`: each theorem module in its own process, so a framework that crashes
    # (XLA aborts on a compiler check) loses that property, not the whole audit
    command = [
        sys.executable, "-m", "properties.auditing", "audit", f"properties.adapters.{adapter}",
        f"--profile={profile}", f"--json={report}", "-q", "--jobs=2",
        # JAX compiles once per new shape: a property may take minutes on a shared
        # machine, and the audit never fails an implementation for being slow
        f"--timeout={FRAMEWORK_TIMEOUT}",
    ]  # fmt: skip
    # No coverage of the subprocess: the report's number is the suite's own run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    result = AdapterAudit(adapter, framework, round(seconds, 1), round(cpu, 1), done.returncode,
                          profile)  # fmt: skip
    if report.exists():
        for implementation in json.loads(report.read_text())["implementations"]:
            for found in implementation["properties"]:
                if found["verdict"] != "not applicable":
                    result.verdicts[found["key"]] = _verdict(found, expected)
    if not result.verdicts:  # nothing ran: usage error
        result.verdicts["(audit)"] = {"verdict": "failed", "reason": done.stdout[-2000:]}
    return result


def record(result: AdapterAudit, path: Path = FRAMEWORKS_JSON) -> None:
    """Merge one adapter's audit into the section's JSON file (one key per adapter)."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data[result.adapter] = asdict(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def _load(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text()) if path.exists() else {}


def _tally(entry: dict) -> str:
    verdicts = [v["verdict"] for v in entry["verdicts"].values()]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("held", "xfail", "failed", "xpass"))
    return (
        f"{counts}; {entry['seconds']:.0f} s wall, {entry['cpu_seconds']:.0f} s CPU"
        f" (profile {entry['profile']})"
    )


def html_section(path: Path = FRAMEWORKS_JSON) -> str:
    """The section's HTML body: per adapter, its tally and time, then every non-held verdict."""
    data = _load(path)
    if not data:
        return "<p>No framework audit recorded (<code>pytest -m frameworks</code>).</p>"
    parts = []
    for adapter, entry in sorted(data.items()):
        parts.append(
            f"<h3>{escape(entry['framework'])} (<code>properties.adapters.{escape(adapter)}"
            f"</code>)</h3><p>{escape(_tally(entry))}</p><table><tr><th>property</th>"
            "<th>verdict</th><th>reason</th></tr>"
        )
        for name, v in sorted(entry["verdicts"].items()):
            parts.append(
                f"<tr><td>{escape(name)}</td><td>{escape(v['verdict'])}</td>"
                f"<td>{escape(v['reason'])}</td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def markdown_section(path: Path = FRAMEWORKS_JSON) -> str:
    """The section in Markdown: one line per adapter, then its findings."""
    data = _load(path)
    if not data:
        return "No framework audit recorded (`pytest -m frameworks`).\n"
    lines = []
    for adapter, entry in sorted(data.items()):
        lines.append(f"- **{entry['framework']}** (`{adapter}`): {_tally(entry)}")
        lines += [
            f"  - {v['verdict']}: `{name}`: {v['reason'].splitlines()[0] if v['reason'] else ''}"
            for name, v in sorted(entry["verdicts"].items())
            if v["verdict"] != "held"
        ]
    return "\n".join(lines) + "\n"

"""Flake-freedom you can rerun: the theorem properties under N random Hypothesis seeds.

Usage: ``python -m properties.meta.seeds N [PYTEST OPTIONS...]`` (``make seeds N=50``).
Each run is ``pytest properties/test_*.py --hypothesis-profile=dev
--hypothesis-seed=SEED`` with a fresh random seed (the theorem modules only, not the
meta tests or benchmarks; a fresh example database each, so a run cannot replay
another's failure). One line per seed with its outcome, then ``seeds: N run, F failed``; exit
status 1 when any run failed, naming the seeds that reproduce each failure.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def theorem_modules() -> list[str]:
    """Every theorem module, ``properties/test_*.py``."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "properties").glob("test_*.py"))


def run_seed(seed: int, extra: list[str]) -> subprocess.CompletedProcess[str]:
    """The theorem properties under one seed (dev profile, no example database)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--benchmark-disable",
        "--hypothesis-profile=dev",
        f"--hypothesis-seed={seed}",
        "-o",
        "addopts=",  # no -ra: one summary line is enough per seed
        *extra,
        *theorem_modules(),
    ]
    with tempfile.TemporaryDirectory() as storage:
        # a fresh example database per seed: no run replays another's failure
        env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": storage}
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)


def summary_line(output: str) -> str:
    """Pytest's last line ("3 failed, 120 passed in 40.1s")."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "(no output)"


def main(argv: list[str]) -> int:
    """Run N seeds; print one line each and the final tally."""
    if not argv or not argv[0].isdigit() or int(argv[0]) < 1:
        print("usage: python -m properties.meta.seeds N [PYTEST OPTIONS...]", file=sys.stderr)
        return 2
    n, extra = int(argv[0]), argv[1:]
    failed: list[tuple[int, str]] = []
    for i in range(1, n + 1):
        seed = random.SystemRandom().randrange(2**32)
        done = run_seed(seed, extra)
        outcome = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        print(f"seed {i}/{n} {seed}: {outcome}: {summary_line(done.stdout)}", flush=True)
        if done.returncode != 0:
            failed.append((seed, done.stdout[-3000:]))
    for seed, tail in failed:
        print(f"\n--- seed {seed}; reproduce: pytest properties/test_*.py "
              f"--hypothesis-profile=dev --hypothesis-seed={seed}\n{tail}")  # fmt: skip
    print(f"seeds: {n} run, {len(failed)} failed")
    if failed:
        print("failed seeds: " + " ".join(str(seed) for seed, _ in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

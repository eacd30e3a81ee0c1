"""``nnlaws audit``: audit implementations of the contract, one verdict per property.

Usage::

    nnlaws audit mycode.py                 # a file
    nnlaws audit mypkg.layers              # a dotted module (found from the current folder)
    nnlaws audit submissions/              # every *.py in the folder is one implementation
    nnlaws audit --impl softmax=mycode:my_softmax --impl softmax_jacobian=mycode:jac
    nnlaws audit submissions/ --jobs 2 --html audit.html --json audit.json --junit audit.xml

(``python -m properties.auditing audit ...`` is the same command.) Underneath, each
implementation is audited by ``pytest --pyargs properties --impl-module ...`` in its own
process (``runner``), with the same properties, ``@uses`` declarations and Hypothesis
profiles as ``pytest --impl-module``; ``--profile`` (default ``ci``) names the profile.

Exit status: 0 when every implementation holds every applicable property; 1 when any
property fails, errs or times out, or a file of a folder does not import or defines no
contract name (that file's verdict, "import error: ..."); 4 for a usage error, with one
line naming it, before any property runs: bad options, an unknown theorem or contract
name, and an implementation *named on the command line* (a file, a module, ``--impl``)
that does not import, lacks the attribute, or defines no contract name. The last is
the contract's exit 4 for ``pytest --impl-module``: each named implementation is
resolved first in a process of its own (``probe``), so that a crash while importing it
cannot end this process either.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NoReturn

from properties.audit import DEFAULT_TIMEOUT
from properties.auditing import outputs, runner
from properties.auditing.runner import GRACE, Settings, Target

#: exit statuses (pytest's, as the contract says)
OK, FAILED, USAGE = 0, 1, 4
#: the default address-space cap of an audit process, in MiB (one needs about 0.5 GiB)
DEFAULT_MEMORY_MB = 4096
#: the default time Hypothesis may spend shrinking one property's failures
DEFAULT_SHRINK_SECONDS = 5.0
#: the prefix of the module name a file is loaded under (``alice.py`` -> nnlaws_file_alice),
#: so that a file named like a real module (``numpy.py``) cannot replace it
FILE_MODULE_PREFIX = "nnlaws_file_"


class UsageError(Exception):
    """A usage error of the whole run: exit status 4 and this one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Argparse's errors are usage errors: one line, exit status 4."""
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    """The ``nnlaws`` command line."""
    top = _Parser(prog="nnlaws", description="Property-based audits of deep-learning maths.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = commands.add_parser("audit", help="audit implementations of the contract")
    p.add_argument(
        "targets", nargs="*", metavar="PATH_OR_MODULE", help="a .py file, a folder, a module"
    )
    p.add_argument(
        "--impl", action="append", default=[], metavar="NAME=MODULE:ATTR",
        help="one more implementation made of these substitutions (repeatable)",
    )  # fmt: skip
    p.add_argument("--profile", default="ci", help="Hypothesis profile (default: ci)")
    p.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes at a time (default: CPUs)"
    )
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"time limit per property (default {DEFAULT_TIMEOUT:g})",
    )  # fmt: skip
    p.add_argument(
        "--memory-limit", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
        help=f"address-space cap per process (default {DEFAULT_MEMORY_MB}; 0: none)",
    )  # fmt: skip
    p.add_argument(
        "--shrink-seconds", type=float, default=DEFAULT_SHRINK_SECONDS, metavar="SECONDS",
        help=f"shrinking budget per property (default {DEFAULT_SHRINK_SECONDS:g})",
    )  # fmt: skip
    p.add_argument(
        "--max-examples", type=int, default=0, metavar="N",
        help="examples per property (default: the profile's)",
    )  # fmt: skip
    p.add_argument(
        "--theorem", action="append", default=[], metavar="NAME",
        help="audit only this theorem (e.g. softmax; repeatable)",
    )  # fmt: skip
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML page")
    p.add_argument("--json", metavar="PATH", help="write JSON (properties/auditing/schema.json)")
    p.add_argument("--junit", metavar="PATH", help="write JUnit XML")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return top


def file_target(path: Path, direct: bool) -> Target:
    """A ``.py`` file, loaded as module ``nnlaws_file_<stem>``."""
    module = FILE_MODULE_PREFIX + re.sub(r"\W", "_", path.stem)
    options = ("--impl-module", module, f"--audit-file={module}={path.resolve()}")
    return Target(path.stem, str(path), options, direct)


def targets_of(args: argparse.Namespace) -> list[Target]:
    """The implementations to audit, in the order given (a folder's files sorted)."""
    found: list[Target] = []
    for named in args.targets:
        path = Path(named)
        if path.is_dir():
            files = sorted(f for f in path.glob("*.py") if f.name != "__init__.py")
            if not files:
                raise UsageError(f"{named}: folder holds no .py file")
            found += [file_target(f, direct=False) for f in files]
        elif path.suffix == ".py":
            if not path.is_file():
                raise UsageError(f"{named}: no such file")
            found.append(file_target(path, direct=True))
        elif all(part.isidentifier() for part in named.split(".")):
            found.append(Target(named, named, ("--impl-module", named), True))
        else:
            raise UsageError(f"{named}: neither a .py file, a folder nor a dotted module name")
    if args.impl:
        options = tuple(o for spec in args.impl for o in ("--impl", spec))
        found.append(Target("--impl", " ".join(args.impl), options, True))
    if not found:
        raise UsageError("nothing to audit: name a file, a folder, a module or --impl")
    labels = [t.label for t in found]
    return [
        t if labels.count(t.label) == 1 else Target(t.named, t.named, t.options, t.direct)
        for t in found
    ]


def settings_of(args: argparse.Namespace) -> Settings:
    """Check the options; an unknown theorem or a bad number is a usage error."""
    known = runner.theorem_modules()
    for theorem in args.theorem:
        if theorem not in known:
            raise UsageError(f"--theorem {theorem}: unknown theorem; known: {', '.join(known)}")
    for option, value in (("--jobs", args.jobs), ("--timeout", args.timeout)):
        if value <= 0:
            raise UsageError(f"{option} {value:g}: expected a positive number")
    for option, value in (
        ("--memory-limit", args.memory_limit),
        ("--max-examples", args.max_examples),
        ("--shrink-seconds", args.shrink_seconds),
    ):
        if value < 0:
            raise UsageError(f"{option} {value:g}: expected a number >= 0")
    return Settings(
        profile=args.profile,
        timeout=args.timeout,
        memory_mb=args.memory_limit,
        max_examples=args.max_examples,
        shrink_seconds=args.shrink_seconds,
        jobs=args.jobs,
        theorems=tuple(args.theorem),
    )


def probe(target: Target, s: Settings) -> str | None:
    """Resolve a named implementation in a process of its own: the usage error, or None."""
    command = [sys.executable, "-m", "properties.auditing.probe", *target.options]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=runner.child_env(),
            timeout=s.timeout + GRACE,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{target.named}: importing it did not finish within {s.timeout + GRACE:g} s"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if done.returncode == USAGE and lines:
        return lines[-1]
    return f"{target.named}: importing it crashed (exit status {done.returncode})"


def check_profile(profile: str) -> None:
    """The profile must be one of nnlaws's (or Hypothesis's own ``default``)."""
    from hypothesis import settings

    from properties.plugin import use_profiles

    use_profiles()
    try:
        settings.get_profile(profile)
    except Exception:
        raise UsageError(f"--profile {profile}: unknown Hypothesis profile") from None


def run(argv: list[str]) -> int:
    """Parse, check every named implementation, audit, report; the exit status."""
    args = parser().parse_args(argv)
    s = settings_of(args)
    check_profile(s.profile)
    targets = targets_of(args)
    with ThreadPoolExecutor(max_workers=s.jobs) as pool:
        direct = [t for t in targets if t.direct]
        for problem in pool.map(lambda t: probe(t, s), direct):
            if problem:
                raise UsageError(problem)
    started = time.time()
    print(
        f"nnlaws audit: {len(targets)} implementation(s); profile {s.profile}; "
        f"{s.jobs} job(s); limit {s.timeout:g} s per property",
        flush=True,
    )

    def emit(label: str, news: runner.Verdict | list[str]) -> None:
        if not args.quiet:
            print(outputs.progress_line(label, news), flush=True)

    results = runner.audit(targets, s, emit)
    status = FAILED if any(r.failing for r in results) else OK
    print("\n" + outputs.terminal(results))
    if args.json:
        outputs.write_json(args.json, outputs.as_json(results, s, started, status))
    if args.junit:
        Path(args.junit).write_text(outputs.junit(results), encoding="utf-8")
    if args.html:
        Path(args.html).write_text(outputs.html(results, s), encoding="utf-8")
    print(f"nnlaws audit: exit status {status} ({time.time() - started:.0f} s)")
    return status


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``nnlaws``: usage errors are one line on stderr and exit status 4."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print(f"nnlaws audit: error: {error}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())

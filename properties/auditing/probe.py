"""Check one implementation named on the command line, in a process of its own.

``python -m properties.auditing.probe --impl-module M [--audit-file M=PATH] [--impl S ...]``
resolves the substitutions exactly as an audit process would (``properties.audit``'s own
parsing, ``properties.auditing.child.load_file`` for a file) and exits 0, or 4 with the
usage error's one line on stderr. ``nnlaws audit`` runs it for every implementation named
on the command line before any property runs: a module that does not import is then the
usage error of the whole run (as with ``pytest --impl-module``), and importing the user's
code never happens in the supervising process, where a crash would end the run.
"""

from __future__ import annotations

import argparse
import os
import sys

import pytest

from properties import audit
from properties.auditing.child import load_file


def main(argv: list[str] | None = None) -> int:
    """Resolve the substitutions; 4 and one line on a usage error."""
    parser = argparse.ArgumentParser(prog="python -m properties.auditing.probe")
    parser.add_argument("--impl-module")
    parser.add_argument("--audit-file")
    parser.add_argument("--impl", action="append", default=[])
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())  # MODULE is found as `python -c "import MODULE"` would
    try:
        if args.audit_file:
            load_file(args.audit_file)
        if args.impl_module:
            audit._parse_impl_module(args.impl_module)
        for spec in args.impl:
            audit._parse_impl(spec)
    except pytest.UsageError as error:
        print(error, file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The pytest plugin loaded in each audit process: one verdict per property, as it happens.

``nnlaws audit`` starts ``pytest -p properties.auditing.child --audit-record PATH ...``
once per implementation (or per implementation and theorem, see ``runner``). This
plugin appends one JSON object per line to PATH, flushed at once, so the supervising
process can print progress while the audit runs and still knows where it was if the
process dies (a crash, ``os._exit``, a kill after a hang in C code):

* ``{"event": "configured", "substitutions": [...]}``: what each name resolved to;
* ``{"event": "collected", "items": [...]}``: every property of the suite that declares
  ``@uses``, with its theorem, names, and whether it is applicable (uses a substituted
  name); the others are "not applicable";
* ``{"event": "begin", "key": "theorem::name"}`` before a property runs;
* ``{"event": "verdict", ...}`` after it: see ``verdict_record``.

Options (all ``--audit-*``, meaningful only with ``--audit-record``): a file to load
as the module named for ``--impl-module`` (``--audit-file NAME=PATH``), an address-space
limit (``--audit-memory MB``), properties already decided in an earlier attempt
(``--audit-skip FILE``), fewer examples (``--audit-max-examples``) and the shrink budget
(``--audit-shrink-seconds``).

The shrink budget. Hypothesis bounds shrinking by count (``MAX_SHRINKS`` successful
shrinks) and by time (``MAX_SHRINKING_SECONDS``, five minutes, after which it stops and
reports the smallest failing example found so far); both are module constants of
``hypothesis.internal.conjecture.engine`` that Hypothesis documents as monkeypatchable
for this purpose. The audit lowers the time bound: a badly wrong function then reports
a small, if not always minimal, counterexample within the budget instead of minutes
later. The verdict says when shrinking stopped early.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.internal.conjecture import engine

# properties.audit (and what imports it) is imported inside the hooks, not here: this
# plugin is loaded with -p before properties.plugin registers properties.audit, which
# pytest must import itself to rewrite its assertions.

#: the settings profile of an audit process (its parent: the profile chosen by the user)
RUN_PROFILE = "nnlaws-audit-run"
_STATS = pytest.StashKey[dict[str, Any]]()
_DURATION = pytest.StashKey[float]()  # seconds spent so far in this item's phases
_DECIDED = pytest.StashKey[bool]()  # its verdict is written
_STREAM = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--audit-*`` options."""
    group = parser.getgroup("nnlaws audit process", "set by `nnlaws audit`, not by hand")
    group.addoption("--audit-record", metavar="PATH", help="append verdicts to PATH (JSON lines)")
    group.addoption("--audit-file", metavar="NAME=PATH", help="load file PATH as module NAME")
    group.addoption("--audit-memory", type=int, default=0, metavar="MB", help="address-space cap")
    group.addoption("--audit-skip", metavar="FILE", help="node ids (one per line) not to run")
    group.addoption("--audit-max-examples", type=int, default=0, metavar="N")
    group.addoption("--audit-shrink-seconds", type=float, default=0.0, metavar="S")


def theorem_of(item: pytest.Item) -> str:
    """The theorem of a property: its module's name without ``test_`` (``softmax``)."""
    return Path(str(item.path)).stem.removeprefix("test_")


def key_of(item: pytest.Item) -> str:
    """``theorem::name``: a property's id whatever the rootdir (``--pyargs`` from anywhere)."""
    return f"{theorem_of(item)}::{item.name}"


def _write(config: pytest.Config, event: str, **fields: Any) -> None:
    stream = config.stash.get(_STREAM, None)
    if stream is not None:
        stream.write(json.dumps({"event": event, **fields}, default=str) + "\n")
        stream.flush()


def load_file(spec: str) -> None:
    """Load ``PATH`` as module ``NAME`` (``NAME=PATH``) so ``--impl-module NAME`` finds it.

    The file's folder is appended to ``sys.path`` (its own imports of sibling files
    work) but not put first: a file named like a real module (``numpy.py``) must not
    shadow it. An import failure is a usage error, worded as for ``--impl-module``.
    """
    name, _, path = spec.partition("=")
    sys.path.append(str(Path(path).resolve().parent))
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise pytest.UsageError(f"--impl-module {name}: cannot import module {path!r}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # any failure to import is the implementation's verdict
        del sys.modules[name]
        message = " ".join(f"{type(error).__name__}: {error}".split())
        raise pytest.UsageError(
            f"--impl-module {name}: cannot import module {path!r}: {message}"
        ) from None


@pytest.hookimpl(tryfirst=True)  # before properties.audit imports the implementation
def pytest_configure(config: pytest.Config) -> None:
    """Open the record, cap the address space, load a file given by path."""
    record = config.getoption("audit_record")
    if not record:
        return
    config.stash[_STREAM] = open(record, "a", encoding="utf-8")  # noqa: SIM115 (session-long)
    megabytes = config.getoption("audit_memory")
    if megabytes > 0:
        limit = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if config.getoption("audit_file"):
        load_file(config.getoption("audit_file"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """After every plugin has configured Hypothesis: apply the audit's example count and budget."""
    config = session.config
    if not config.getoption("audit_record"):
        return
    from properties.audit import _SUBSTITUTED

    substituted = config.stash.get(_SUBSTITUTED, {})
    _write(config, "configured", substitutions=[s.describe() for s in substituted.values()])
    # Hypothesis's "explain" lines (code run only by failing cases: ours and numpy's) and
    # its @reproduce_failure blobs (for editing a test) mean nothing to an auditor
    overrides: dict[str, Any] = {
        "phases": [p for p in settings.default.phases if p != Phase.explain],
        "print_blob": False,
    }
    if config.getoption("audit_max_examples") > 0:
        overrides["max_examples"] = config.getoption("audit_max_examples")
    settings.register_profile(RUN_PROFILE, parent=settings.default, **overrides)
    settings.load_profile(RUN_PROFILE)
    budget = config.getoption("audit_shrink_seconds")
    if budget > 0:
        engine.MAX_SHRINKING_SECONDS = budget  # documented as monkeypatchable (see above)


@pytest.hookimpl(tryfirst=True)  # before properties.audit deselects what does not apply
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Record every property with its names; drop those already decided in an earlier try."""
    if not config.getoption("audit_record"):
        return
    from properties.audit import _SUBSTITUTED, declared_names

    substituted = config.stash.get(_SUBSTITUTED, {})
    skip_file = config.getoption("audit_skip")
    skip = set(Path(skip_file).read_text().split()) if skip_file else set()
    described = [
        {
            "key": key_of(item),
            "name": item.name,
            "theorem": theorem_of(item),
            "uses": sorted(declared_names(item)),
            "applicable": bool(declared_names(item) & substituted.keys()),
        }
        for item in items
        if declared_names(item)
    ]
    _write(config, "collected", items=described)
    if skip:
        config.hook.pytest_deselected(items=[i for i in items if key_of(i) in skip])
        items[:] = [i for i in items if key_of(i) not in skip]


@pytest.hookimpl(wrapper=True, trylast=True)  # inside Hypothesis's wrapper: ours is called
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Say a property begins; catch Hypothesis's statistics (why it stopped shrinking)."""
    if not item.config.getoption("audit_record"):
        return (yield)

    from properties.report.plugin import catching_statistics

    _write(item.config, "begin", key=key_of(item))
    with catching_statistics(item, _STATS):
        return (yield)


def classify(error: BaseException) -> str:
    """``timed out``, ``failed`` (an assertion: a wrong value), or ``error`` (an exception)."""
    from properties.audit import PropertyTimeout

    if isinstance(error, PropertyTimeout):
        return "timed out"
    if isinstance(error, BaseExceptionGroup):
        kinds = {classify(member) for member in error.exceptions}
        return "failed" if "failed" in kinds else sorted(kinds)[0]
    return "failed" if isinstance(error, AssertionError) else "error"


def verdict_record(
    item: pytest.Item, report: pytest.TestReport, error: BaseException | None
) -> dict[str, Any]:
    """The verdict of one property: outcome, message, shrunk counterexample, accuracy grade."""
    from properties.report.plugin import counterexample_text, exception_message
    from properties.tolerance.common import ACCURACY_PROPERTY

    accuracy = dict(report.user_properties).get(ACCURACY_PROPERTY)
    stats = item.stash.get(_STATS, {})
    if report.passed:
        verdict, message, example = "held", "", ""
    elif report.skipped:
        verdict, message, example = "not applicable", report.longreprtext[-2000:], ""
    else:
        verdict = classify(error) if error is not None and report.when == "call" else "error"
        if error is None:
            message, example = report.longreprtext[-6000:], ""
        else:
            message = f"{type(error).__name__}: {exception_message(error)}"
            example = counterexample_text(error)
    return {
        "key": key_of(item),
        "verdict": verdict,
        "message": message,
        "counterexample": example,
        "accuracy": json.loads(accuracy) if accuracy else None,
        "shrinking_stopped_early": "very slow" in stats.get("stopped_because", ""),
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Write the verdict once per property: at its first failing phase, or after teardown."""
    report: pytest.TestReport = yield
    config = item.config
    if not config.getoption("audit_record"):
        return report
    item.stash[_DURATION] = item.stash.get(_DURATION, 0.0) + report.duration
    if item.stash.get(_DECIDED, False):
        return report
    if report.failed or report.skipped or report.when == "teardown":
        error = call.excinfo.value if call.excinfo is not None else None
        record = verdict_record(item, report, error)
        _write(config, "verdict", **record, duration=round(item.stash[_DURATION], 3))
        item.stash[_DECIDED] = True
    return report


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the record."""
    stream = config.stash.get(_STREAM, None)
    if stream is not None:
        stream.close()

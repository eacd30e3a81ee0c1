"""The audit interface: which implementation of each contract name a property exercises.

One declaration drives everything. A property names the contract functions it
exercises with ``@uses("conv2d", ...)`` and calls them through the session fixture
``impl`` (``impl.conv2d(x, w)``). From that single marker:

* substitution: ``impl.NAME`` is the user's function when ``--impl`` or
  ``--impl-module`` substituted NAME, the reference otherwise;
* deselection: an audit run keeps only the items whose ``uses`` marker names a
  substituted function (items with no marker, such as the reference's own
  input-validation tests, are never part of an audit);
* honesty: calling ``impl.NAME`` for a name the running test did not declare is an
  error, so a declaration cannot silently drift from what a test really calls;
* the report header lists what every substituted name resolved to.

Usage errors (unknown name, module that does not import, missing attribute, module
with no contract name) stop the run with exit status 4 and one line, before any
property runs. Audits run without a deadline and without the ``too_slow`` health
check, as the contract promises: an implementation is never failed for being slow.

Hangs. A call that never returns must not stall an audit, so every property of an
audit runs under a time limit, ``--impl-timeout SECONDS`` (default
``DEFAULT_TIMEOUT``, 0 for none); the repository's own runs of the reference (no
substitution) have none, so timing can never fail them. The mechanism is our own
``SIGALRM`` timer (``signal.setitimer``) raising ``PropertyTimeout``, a
``BaseException``: Hypothesis treats ``Exception`` and pytest's ``Failed`` (what
pytest-timeout's signal method raises) as a failure of the example, then replays and
shrinks it, so each replay of a hanging input would wait for the limit again; a
``BaseException`` it does not catch ends the property at once, and pytest reports it
as that property's failure: "timed out after N s", with the call that was running and
its arguments. A hang inside C code that never returns to the interpreter cannot be
interrupted this way; ``nnlaws audit`` (``properties.auditing``) then kills the
process from outside. Platforms without ``SIGALRM`` (Windows) have no limit here.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import inspect
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

AUDIT_PROFILE = "audit"
#: the per-property time limit of an audit, in seconds (generous: slow is not wrong)
DEFAULT_TIMEOUT = 60.0


def _contract_names() -> tuple[str, ...]:
    """The contract names, imported on first use rather than with this module.

    An install loads this plugin through an entry point before pytest-cov starts
    measuring, and ``make report`` reports the coverage of ``reference`` (its
    ``__init__`` included): importing it here would hide its module-level lines.
    """
    from reference import CONTRACT_NAMES

    return CONTRACT_NAMES


@dataclass(frozen=True)
class Substitution:
    """One implementation put in place of a contract name."""

    name: str
    func: Callable[..., Any]
    origin: str  # how the user named it, e.g. "--impl-module my_bn"

    @property
    def target(self) -> str:
        """``module.qualname`` of the function (robust to callables without those names)."""
        module = getattr(self.func, "__module__", None) or "?"
        qualname = getattr(self.func, "__qualname__", None) or repr(self.func)
        return f"{module}.{qualname}"

    def describe(self) -> str:
        """Say where the function really comes from (imported names included)."""
        try:
            source = inspect.getsourcefile(self.func) or "?"
        except TypeError:
            source = "built-in"
        return f"{self.name} <- {self.target} ({source}; via {self.origin})"


def _one_line(error: BaseException) -> str:
    """Render an exception as a single line (SyntaxErrors and the like span several)."""
    return " ".join(f"{type(error).__name__}: {error}".split())


def _import(module_name: str, option: str) -> Any:
    """Import ``module_name`` as ``python -c 'import MODULE'`` would, or raise a usage error."""
    try:
        return importlib.import_module(module_name)
    except Exception as error:  # any failure to import is the user's usage error
        raise pytest.UsageError(
            f"{option}: cannot import module {module_name!r}: {_one_line(error)}"
        ) from None


def _parse_impl(spec: str) -> Substitution:
    """Resolve one ``--impl NAME=MODULE:ATTR`` into a substitution."""
    option = f"--impl {spec}"
    name, sep, target = spec.partition("=")
    module_name, colon, attr = target.partition(":")
    if not sep or not colon or not name or not module_name or not attr:
        raise pytest.UsageError(f"{option}: expected NAME=MODULE:ATTR")
    if name not in _contract_names():
        raise pytest.UsageError(
            f"{option}: unknown contract name {name!r}; known names: {', '.join(_contract_names())}"
        )
    module = _import(module_name, option)
    if not hasattr(module, attr):
        raise pytest.UsageError(f"{option}: module {module_name!r} has no attribute {attr!r}")
    func = getattr(module, attr)
    if not callable(func):
        raise pytest.UsageError(f"{option}: {module_name}.{attr} is not callable")
    return Substitution(name, func, option)


def _parse_impl_module(module_name: str) -> list[Substitution]:
    """Substitute every contract name that module ``module_name`` defines or imports."""
    option = f"--impl-module {module_name}"
    module = _import(module_name, option)
    found = [
        Substitution(name, getattr(module, name), option)
        for name in _contract_names()
        if callable(getattr(module, name, None))
    ]
    if not found:
        raise pytest.UsageError(
            f"{option}: module defines no contract name; "
            f"known names: {', '.join(_contract_names())}"
        )
    return found


def parse_substitutions(config: pytest.Config) -> dict[str, Substitution]:
    """Read ``--impl-module`` then ``--impl`` (which overrides it) into name -> substitution."""
    invocation_dir = str(config.invocation_params.dir)
    if invocation_dir not in sys.path:
        # MODULE is found as `python -c "import MODULE"` would: the current directory first.
        sys.path.insert(0, invocation_dir)
    substituted: dict[str, Substitution] = {}
    module_name = config.getoption("impl_module")
    if module_name:
        substituted.update((s.name, s) for s in _parse_impl_module(module_name))
    seen: set[str] = set()
    for spec in config.getoption("impl") or []:
        substitution = _parse_impl(spec)
        if substitution.name in seen:
            raise pytest.UsageError(f"--impl {spec}: {substitution.name!r} substituted twice")
        seen.add(substitution.name)
        substituted[substitution.name] = substitution
    return substituted


# --- calling implementations -------------------------------------------------------

_DECLARED: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar(
    "nnlaws_declared_names", default=None
)


class UndeclaredNameError(RuntimeError):
    """A property called a contract name it did not declare with ``@uses``."""


def _copy(value: Any) -> Any:
    """Copy arrays so an implementation that writes into its inputs cannot corrupt a property."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _as_arrays(result: Any) -> Any:
    """Pass a result through ``numpy.asarray``, tuples element by element (the contract)."""
    if isinstance(result, tuple):
        return tuple(np.asarray(part) for part in result)
    return np.asarray(result)


@dataclass
class _Call:
    """The last call of an implementation: what a timed-out property reports."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    returned: bool = False

    def describe(self) -> str:
        """``impl.NAME(args...)`` with small arrays in full, large ones abridged."""
        with np.printoptions(threshold=64, edgeitems=3, precision=17):
            parts = [repr(a) for a in self.args]
            parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"impl.{self.name}({', '.join(parts)})"


#: the most recent call of any implementation (kept by reference: cheap; copies anyway)
_LAST_CALL: _Call | None = None


def _calling(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``func`` with the contract's calling convention (copies in, arrays out)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        global _LAST_CALL
        __tracebackhide__ = True
        args = tuple(_copy(a) for a in args)
        kwargs = {k: _copy(v) for k, v in kwargs.items()}
        _LAST_CALL = record = _Call(name, args, kwargs)
        result = func(*args, **kwargs)
        record.returned = True
        return _as_arrays(result)

    call.__name__ = getattr(func, "__name__", "implementation")
    call.__wrapped__ = func  # type: ignore[attr-defined]
    return call


class Implementations:
    """The implementations under test, by contract name: ``impl.softmax(z)``."""

    def __init__(self, substituted: dict[str, Substitution]) -> None:
        self._substituted = substituted

    def __repr__(self) -> str:
        """Name what is under test: this repr appears in every failing example."""
        if not self._substituted:
            return "<implementations under test: reference>"
        names = ", ".join(f"{n} <- {s.target}" for n, s in self._substituted.items())
        return f"<implementations under test: {names}>"

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in _contract_names():
            raise AttributeError(f"{name!r} is not a contract name")
        declared = _DECLARED.get()
        if declared is not None and name not in declared:
            raise UndeclaredNameError(
                f"this property calls impl.{name} but declares only @uses{tuple(sorted(declared))}"
            )
        from reference import reference_impl

        substitution = self._substituted.get(name)
        return _calling(name, substitution.func if substitution else reference_impl(name))


def uses(*names: str) -> pytest.MarkDecorator:
    """Declare the contract names a property exercises (validated at import time)."""
    unknown = [n for n in names if n not in _contract_names()]
    if not names or unknown:
        raise ValueError(f"names: expected contract names, got unknown {unknown or 'nothing'}")
    return pytest.mark.uses(*names)


def declared_names(item: pytest.Item) -> frozenset[str]:
    """The contract names an item declares through its ``uses`` markers."""
    return frozenset(n for mark in item.iter_markers("uses") for n in mark.args)


# --- the per-property time limit ----------------------------------------------------


class PropertyTimeout(BaseException):
    """A property of an audit exceeded its time limit (a ``BaseException``: see above)."""


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise ``PropertyTimeout`` in this thread if the block runs longer than ``seconds``.

    No limit when ``seconds <= 0``, off the main thread, or without ``SIGALRM``.
    """
    global _LAST_CALL
    usable = (
        seconds > 0
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        call = _LAST_CALL
        if call is None:
            running = "no implementation had been called yet"
        elif call.returned:
            running = f"the last call, which had returned, was {call.describe()}"
        else:
            running = f"still running {call.describe()}"
        raise PropertyTimeout(
            f"timed out after {seconds:g} s (the audit's per-property limit, "
            f"--impl-timeout): {what}; {running}"
        )

    _LAST_CALL = None
    previous = signal.signal(signal.SIGALRM, expire)
    # SA_RESTART: a system call interrupted by the alarm resumes instead of failing with
    # EINTR, so native code under audit (XLA's compiler aborts on EINTR) never sees the
    # timer; Python still runs `expire` at its next bytecode (sleeps return early anyway)
    signal.siginterrupt(signal.SIGALRM, False)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- pytest hooks ----------------------------------------------------------------

_SUBSTITUTED = pytest.StashKey[dict[str, Substitution]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--impl`` and ``--impl-module``."""
    group = parser.getgroup("nnlaws", "nnlaws audit (see README: the implementation contract)")
    group.addoption(
        "--impl",
        action="append",
        metavar="NAME=MODULE:ATTR",
        help="audit MODULE.ATTR in place of contract name NAME (repeatable)",
    )
    group.addoption(
        "--impl-module",
        metavar="MODULE",
        help="audit every contract name that MODULE defines or imports",
    )
    group.addoption(
        "--impl-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"in an audit, fail a property still running after SECONDS as 'timed out' "
        f"(default {DEFAULT_TIMEOUT:g}; 0: no limit; never applied without substitution)",
    )


@pytest.hookimpl(trylast=True)  # after Hypothesis has loaded --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    """Register ``uses``, resolve substitutions (usage errors exit 4), relax audit timing."""
    config.addinivalue_line("markers", f"uses(*names): {uses.__doc__}")
    config.addinivalue_line("markers", "proves(subject, claim): a symbolic proof for small sizes")
    substituted = parse_substitutions(config)
    config.stash[_SUBSTITUTED] = substituted
    if substituted:
        settings.register_profile(
            AUDIT_PROFILE,
            parent=settings.default,
            deadline=None,
            suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.too_slow],
        )
        settings.load_profile(AUDIT_PROFILE)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the implementation of each substituted contract name."""
    substituted = config.stash.get(_SUBSTITUTED, {})
    if not substituted:
        return ["nnlaws: auditing the reference implementations (no substitution)"]
    return ["nnlaws audit:"] + [f"  {s.describe()}" for s in substituted.values()]


def pytest_sessionstart(session: pytest.Session) -> None:
    """With ``-q`` pytest prints no header: name what is audited anyway, before it runs."""
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and config.get_verbosity() < 0 and config.stash.get(_SUBSTITUTED, {}):
        for line in pytest_report_header(config):
            reporter.write_line(line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an audit, keep only the properties that exercise a substituted name."""
    substituted = config.stash.get(_SUBSTITUTED, {})
    if not substituted:
        return
    keep = [item for item in items if declared_names(item) & substituted.keys()]
    dropped = [item for item in items if not declared_names(item) & substituted.keys()]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Make the running item's declared names visible to ``Implementations``; grade accuracy."""
    from properties.tolerance.common import ACCURACY_PROPERTY, accuracy_grades

    token = _DECLARED.set(declared_names(item))
    limit = item.config.getoption("impl_timeout") if item.config.stash.get(_SUBSTITUTED, {}) else 0
    try:
        with time_limit(limit, f"property {item.name}"), accuracy_grades() as grades:
            return (yield)
    finally:
        _DECLARED.reset(token)
        if grades:  # the accuracy grade of this property (reported, never enforced)
            weaker = sorted(what for what, tight in grades.items() if not tight)
            grade = "backward stable only" if weaker else "componentwise accurate"
            item.user_properties.append(
                (ACCURACY_PROPERTY, json.dumps({"grade": grade, "weaker": weaker}))
            )


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementations:
    """The implementations under test (session-scoped: stateless, safe across examples)."""
    return Implementations(pytestconfig.stash.get(_SUBSTITUTED, {}))

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
"""

from __future__ import annotations

import contextvars
import importlib
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

AUDIT_PROFILE = "audit"


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


def _calling(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``func`` with the contract's calling convention (copies in, arrays out)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        args = tuple(_copy(a) for a in args)
        kwargs = {k: _copy(v) for k, v in kwargs.items()}
        return _as_arrays(func(*args, **kwargs))

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
        return _calling(substitution.func if substitution else reference_impl(name))


def uses(*names: str) -> pytest.MarkDecorator:
    """Declare the contract names a property exercises (validated at import time)."""
    unknown = [n for n in names if n not in _contract_names()]
    if not names or unknown:
        raise ValueError(f"names: expected contract names, got unknown {unknown or 'nothing'}")
    return pytest.mark.uses(*names)


def declared_names(item: pytest.Item) -> frozenset[str]:
    """The contract names an item declares through its ``uses`` markers."""
    return frozenset(n for mark in item.iter_markers("uses") for n in mark.args)


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
    try:
        with accuracy_grades() as grades:
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

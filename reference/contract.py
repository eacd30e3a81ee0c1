"""Contract records: one small declaration per contract name, in the spirit of PyTorch's OpInfo.

A record states each fact about a name once: the reference function (module and
attribute), the signature with its defaults, the limits of the audit
domain (what an audit may send, e.g. the logit bound) and its error inputs (a bad call
and the ``ValueError`` it must raise). The registry (``reference.CONTRACT_NAMES``,
``reference_impl``), the audit's names, the strategies' constants, the reference's
input-validation tests and the README's contract-table check all read the records.

Where records live. Each reference module declares its own names at its end::

    CONTRACT = [
        Record("softmax", "(z, axis=-1)", limits={"max_abs_logit": 1e4},
               error_inputs=[bad("z", z=[1.0, nan], match="^z: expected finite")]),
    ]

so a new theorem adds its record in the file of its reference function, and nothing
else has to learn about it.

How they are found. The registry must know every name without importing the chapter
modules: an installed nnlaws loads the audit plugin before pytest-cov starts measuring
(importing ``reference.conv`` then would hide its module-level lines from ``make
report``'s coverage), and a module that fails to import must break only the theorems
that need it. So ``contract_modules()`` reads each ``reference/*.py`` with ``ast`` (a
few milliseconds, nothing executed) and takes the literal name (and ``module=``, if
given) of each ``Record(...)`` in its ``CONTRACT`` list; ``record(name)`` imports the
declaring module on first use and returns the full record. A meta test checks that
the scan and the imported records agree, so a record the scan cannot read is an error,
not a silently missing name.
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = [
    "CONTRACT_ATTRIBUTE",
    "ErrorInput",
    "Record",
    "bad",
    "bad_arguments",
    "contract_modules",
    "record",
    "records",
]

#: the module-level list each reference module declares its records in
CONTRACT_ATTRIBUTE = "CONTRACT"
_PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGE = __name__.rpartition(".")[0]
#: modules of this package that are infrastructure, not chapters
_NOT_CHAPTERS = frozenset({"__init__", "contract"})


class ErrorInput(NamedTuple):
    """A call the reference must refuse with a ``ValueError`` naming ``argument``.

    The message must match ``match`` (``re.search``), by default ``^argument:``: the
    reference's convention is to name the offending argument first.
    """

    argument: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    match: str
    id: str

    def call(self, func: Callable[..., Any]) -> Any:
        """Call ``func`` with this input."""
        return func(*self.args, **self.kwargs)


def bad(argument: str, *args: Any, match: str = "", id: str = "", **kwargs: Any) -> ErrorInput:
    """An error input: ``func(*args, **kwargs)`` must raise a ValueError naming ``argument``."""
    return ErrorInput(argument, args, MappingProxyType(kwargs), match or rf"^{argument}:", id)


def bad_arguments(
    valid: Mapping[str, Any], cases: Iterable[tuple[str, Any]], parameters: Iterable[str]
) -> list[ErrorInput]:
    """One error input per ``(argument, value)`` case whose argument is among ``parameters``.

    Each call is the ``valid`` keyword arguments (those in ``parameters``) with the one
    argument replaced by the bad value: so one table of bad values serves every function
    of a chapter that takes the argument (batch norm forward and backward).
    """
    names = list(parameters)
    base = {k: v for k, v in valid.items() if k in names}
    return [bad(arg, **{**base, arg: value}) for arg, value in cases if arg in names]


def _parameters(signature: str) -> ast.arguments:
    """The parameters of a signature written as Python, e.g. ``(x, axis=-1)``."""
    tree = ast.parse(f"def f{signature}: pass")
    return tree.body[0].args  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Record:
    """What the contract says about one name (see the module docstring)."""

    name: str
    #: Python parameter list with defaults, as the README's contract table writes it
    signature: str
    #: limits of the audit domain, e.g. ``{"max_abs_logit": 1e4}``
    limits: Mapping[str, float] = field(default_factory=dict)
    #: bad calls of the reference and the ValueError each must raise
    error_inputs: Sequence[ErrorInput] = ()
    #: other functions of the reference module that validate the same arguments
    #: the same way (the error inputs are tried on them too)
    also: Sequence[str] = ()
    #: the module defining the reference function (default: the declaring module)
    module: str = ""

    def __post_init__(self) -> None:
        _parameters(self.signature)  # a signature that does not parse is an error now

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameter names, in order."""
        return tuple(a.arg for a in _parameters(self.signature).args)

    @property
    def defaults(self) -> dict[str, Any]:
        """Parameter -> default value (``{"eps": 1e-5}``), read from the signature."""
        arguments = _parameters(self.signature)
        named = arguments.args[len(arguments.args) - len(arguments.defaults) :]
        return {a.arg: ast.literal_eval(d) for a, d in zip(named, arguments.defaults, strict=True)}

    def reference(self) -> Callable[..., Any]:
        """The reference function (its module imported now, on first use)."""
        return getattr(importlib.import_module(self.module), self.name)


def _literal_names(path: Path) -> list[tuple[str, str]]:
    """``(name, module or "")`` of each ``Record(...)`` in the file's ``CONTRACT`` list."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if not any(isinstance(t, ast.Name) and t.id == CONTRACT_ATTRIBUTE for t in targets):
            continue
        value = getattr(node, "value", None)
        elements = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        for element in elements:
            found.append(_literal_record(element, path))
    return found


def _literal_record(node: ast.AST | None, path: Path) -> tuple[str, str]:
    """The literal name and ``module=`` of one ``Record("name", ...)`` call."""
    keywords = getattr(node, "keywords", [])
    args = getattr(node, "args", [])
    name = args[0] if args else next((k.value for k in keywords if k.arg == "name"), None)
    module = next((k.value for k in keywords if k.arg == "module"), None)
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or (
        module is not None and not isinstance(module, ast.Constant)
    ):
        line = getattr(node, "lineno", "?")
        raise ValueError(
            f"{path}:{line}: {CONTRACT_ATTRIBUTE} entries must be Record('name', ...) calls "
            "with a literal name (and literal module=), so the registry can read them unimported"
        )
    return name.value, module.value if module is not None else ""


@functools.cache
def _declarations(directory: Path = _PACKAGE_DIR) -> dict[str, tuple[str, str]]:
    """Contract name -> (module declaring its record, module defining its function).

    Read without importing anything: modules in file-name order, records in their order
    within a module. A name declared twice is an error.
    """
    declared: dict[str, tuple[str, str]] = {}
    for path in sorted(directory.glob("*.py")):
        if path.stem in _NOT_CHAPTERS:
            continue
        here = f"{_PACKAGE}.{path.stem}"
        for name, module in _literal_names(path):
            if name in declared:
                raise ValueError(
                    f"contract name {name!r} declared twice: in {declared[name][0]} and in {here}"
                )
            declared[name] = (here, module or here)
    return declared


def contract_modules() -> dict[str, str]:
    """Contract name -> the module that defines its reference function (nothing imported)."""
    return {name: module for name, (_, module) in _declarations().items()}


def record(name: str) -> Record:
    """The record of contract name ``name`` (importing the module that declares it)."""
    declarations = _declarations()
    if name not in declarations:
        raise ValueError(
            f"name: {name!r} is not a contract name; expected one of {tuple(declarations)}"
        )
    declaring, module = declarations[name]
    found = [r for r in getattr(importlib.import_module(declaring), CONTRACT_ATTRIBUTE, [])]
    matching = [r for r in found if isinstance(r, Record) and r.name == name]
    if len(matching) != 1:
        raise TypeError(f"{declaring}.{CONTRACT_ATTRIBUTE}: expected one Record named {name!r}")
    return replace(matching[0], module=module)


def records() -> list[Record]:
    """Every record, in the registry's order (imports every chapter module)."""
    return [record(name) for name in _declarations()]

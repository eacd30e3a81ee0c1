"""The contract records are the one statement of the contract, and the reference obeys them.

Every record of ``reference.contract`` (one per contract name, declared in its
reference module's ``CONTRACT`` list) is checked here, generically:

* each error input makes the reference (and the functions the record names in
  ``also``) raise a ``ValueError`` whose message names the argument: the reference's
  input-validation tests, not part of any audit (no ``@uses``);
* the reference function's signature is the record's: same parameters, same defaults;
* the registry's unimported scan of the records agrees with the imported records;
* the README's contract table lists exactly the records' names, with their signatures.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

import pytest

import reference
from reference.contract import ErrorInput, Record, contract_modules, records

ROOT = Path(__file__).resolve().parents[2]
RECORDS = records()
#: a row of the README's contract table: | `name` | `(signature)`... | returns |
README_ROW = re.compile(r"^\| `(?P<name>\w+)` \| `(?P<signature>\([^`]*\))`")


def _present(record: Record) -> bool:
    """Whether the module defining the reference function is in this copy."""
    return importlib.util.find_spec(record.module) is not None


def _reference_or_skip(record: Record) -> object:
    if not _present(record):
        pytest.skip(f"{record.module} (the reference of {record.name}) is not in this copy")
    return record.reference()


ERROR_CASES = [
    pytest.param(r, function, case, id=f"{function}-{case.id or f'{case.argument}-{i}'}")
    for r in RECORDS
    for function in (r.name, *r.also)
    for i, case in enumerate(r.error_inputs)
]


@pytest.mark.parametrize(("record", "function", "case"), ERROR_CASES)
def test_reference_rejects_error_input(record: Record, function: str, case: ErrorInput) -> None:
    _reference_or_skip(record)
    func = getattr(importlib.import_module(record.module), function)
    with pytest.raises(ValueError, match=case.match):
        result = case.call(func)
        pytest.fail(f"{function}({case.argument}=bad) returned {result!r} instead of raising")


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.name)
def test_reference_signature_is_the_record(record: Record) -> None:
    func = _reference_or_skip(record)
    parameters = inspect.signature(func).parameters.values()
    names = tuple(p.name for p in parameters)
    defaults = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    assert names == record.parameters, (
        f"{record.module}.{record.name} takes {names}, the contract says {record.parameters}"
    )
    assert defaults == record.defaults, (
        f"{record.module}.{record.name} defaults {defaults}, the contract says {record.defaults}"
    )


def test_registry_scan_agrees_with_the_records() -> None:
    assert tuple(r.name for r in RECORDS) == reference.CONTRACT_NAMES
    assert {r.name: r.module for r in RECORDS} == contract_modules() == reference.CONTRACT_MODULES


def readme_contract_table(text: str) -> dict[str, str]:
    """``name -> signature`` of each row of the README's contract table."""
    rows = (README_ROW.match(line) for line in text.splitlines())
    return {row["name"]: row["signature"] for row in rows if row}


def test_readme_contract_table_matches_the_records() -> None:
    table = readme_contract_table((ROOT / "README.md").read_text(encoding="utf-8"))
    expected = {r.name: r.signature for r in RECORDS}
    assert set(table) == set(expected), (
        f"README contract table: missing {sorted(set(expected) - set(table))}, "
        f"not in the contract {sorted(set(table) - set(expected))}"
    )
    wrong = {n: (table[n], s) for n, s in expected.items() if table[n] != s}
    assert not wrong, f"README signatures differ from the records (README, record): {wrong}"

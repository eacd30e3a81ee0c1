"""The reference registry serves every contract name, as a function, however it is reached."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import pytest

import reference
from reference import CONTRACT_MODULES, CONTRACT_NAMES, reference_impl


def test_no_reference_module_shadows_a_contract_name() -> None:
    modules = {info.name for info in pkgutil.iter_modules(reference.__path__)}
    assert not modules & set(CONTRACT_NAMES), (
        f"reference modules {sorted(modules & set(CONTRACT_NAMES))} share a contract name: "
        "importing them would replace reference.NAME (the function) by the module"
    )


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_name_resolves_to_its_function(name: str) -> None:
    if importlib.util.find_spec(CONTRACT_MODULES[name]) is None:
        assert not hasattr(reference, name), f"{name}: its module is absent, yet an attribute"
        pytest.skip(f"{CONTRACT_MODULES[name]} (the reference of {name}) is not in this copy")
    importlib.import_module(CONTRACT_MODULES[name])  # importing the module must not shadow it
    func = getattr(reference, name)
    assert callable(func) and func.__name__ == name
    assert reference_impl(name) is func

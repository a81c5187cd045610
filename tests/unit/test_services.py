"""Every typed service key names a field of Services with exactly the key's type, and every
field a handler may need has one: ``service(request, KEY)`` cannot hand out the wrong object."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from types import SimpleNamespace

import pytest

import bff
from bff.lookup import NotStarted, ServiceKey, service
from bff.services import Services


def _keys() -> dict[str, tuple[ServiceKey[object], object]]:
    """Every module-level ServiceKey of the product, with its declared type argument."""
    found: dict[str, tuple[ServiceKey[object], object]] = {}
    seen: dict[int, str] = {}  # every ServiceKey object any module holds (defined or imported)
    for info in pkgutil.walk_packages(bff.__path__, "bff."):
        module = importlib.import_module(info.name)
        for name, value in list(vars(module).items()):  # reading __annotations__ may add it
            if not isinstance(value, ServiceKey):
                continue
            seen.setdefault(id(value), f"{info.name}.{name}")
            if name in getattr(module, "__annotations__", {}):  # defined here, with its type
                declared = typing.get_type_hints(module)[name]
                assert typing.get_origin(declared) is ServiceKey, f"{info.name}.{name}: not ServiceKey[...]"
                (wanted,) = typing.get_args(declared)
                found[f"{info.name}.{name}"] = (value, wanted)
    checked = {id(key) for key, _ in found.values()}
    unannotated = [where for key_id, where in seen.items() if key_id not in checked]
    assert not unannotated, f"keys defined without a ServiceKey[...] annotation: {unannotated}"
    return found


def test_every_key_names_a_field_of_its_type() -> None:
    hints = typing.get_type_hints(Services)
    keys = _keys()
    assert {key.name for key, _ in keys.values()} >= {"settings", "sessions", "auth", "content", "proxy",
                                                       "signup", "spa"}
    for where, (key, wanted) in keys.items():
        assert key.name in hints, f"{where}: no Services field {key.name!r}"
        assert hints[key.name] is wanted, f"{where}: ServiceKey[{wanted}] but the field is {hints[key.name]}"


def test_services_are_frozen() -> None:
    field = dataclasses.fields(Services)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(object.__new__(Services), field.name, None)


def test_a_key_before_the_lifespan_is_a_503() -> None:
    scope = {"app": SimpleNamespace(state=SimpleNamespace())}
    with pytest.raises(NotStarted) as info:
        service(scope, ServiceKey[object]("auth"))
    assert info.value.status == 503

"""bff.content.variations: the one rule for ``?variation=``."""

from __future__ import annotations

import pytest

from bff.content.variations import MASTER, is_variation, parse_variation
from bff.errors import BadRequest


@pytest.mark.parametrize("name", ["master", "summer", "Summer_2024", "a-b", "x", "v" * 64])
def test_good_names(name: str) -> None:
    assert is_variation(name)
    assert parse_variation(name) == name


@pytest.mark.parametrize("name", ["", "v" * 65, "../x", "a b", "summer\n", "\nsummer", "été", "a;b", "%00"])
def test_bad_names(name: str) -> None:
    assert not is_variation(name)


def test_absent_or_empty_is_master() -> None:
    assert parse_variation(None) == MASTER == "master"
    assert parse_variation("") == MASTER


@pytest.mark.parametrize("value", ["../x", "summer\n", "v" * 65])
def test_a_malformed_value_is_a_precise_400(value: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_variation(value)
    assert info.value.status == 400 and info.value.instance_code == "invalid_variation"

from __future__ import annotations

import pytest

from bff.errors import BadRequest
from bff.signup.body import parse_json_object


def test_an_object_parses() -> None:
    assert parse_json_object(b'{"a": [1, {"b": "\\u00e9"}]}') == {"a": [1, {"b": "é"}]}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"null",
        b"[]",
        b'"x"',
        b"1",
        b"{",
        b'{"a": 1}{}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": 1, "a": 2}',
        b'{"x": {"a": 1, "a": 2}}',
        b"\xff",
        b'{"a": "\xed\xa0\x80"}',
        b'{"a":' * 9 + b"1" + b"}" * 9,
        b"[" * 100_000,
    ],
)
def test_everything_else_is_a_400(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_json_object(raw)

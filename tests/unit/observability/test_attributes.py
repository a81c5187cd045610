from __future__ import annotations

import pytest

from bff.observability.attributes import REDACTED, safe, safe_all


@pytest.mark.parametrize(
    "value",
    [
        "alice@acme.test",
        "/api/admin/users/bob@acme.test",
        "Bearer abc.def",
        "SSWS 00abc",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        "password=hunter2",
        "__Host-bff=abc",
        "/bff/callback?code=xyz",
        "https://x.test/?state=1",
    ],
)
def test_values_that_could_carry_a_secret_or_an_address_are_redacted(value: str) -> None:
    assert safe(value) == REDACTED


@pytest.mark.parametrize(
    "value", ["/api/admin/{rest:path}", "okta token refresh_token", "api", 200, True, 0.5]
)
def test_ordinary_values_pass(value: str | int | bool | float) -> None:
    assert safe(value) == value


def test_safe_all() -> None:
    assert safe_all({"a": "x@y.test", "b": 1}) == {"a": REDACTED, "b": 1}
    assert safe_all(None) == {}

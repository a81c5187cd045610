from __future__ import annotations

import pytest

from bff.auth.redirects import safe_return_to


@pytest.mark.parametrize("value", [
    "/", "/admin", "/admin/users?tab=2#top", "/search?q=a%20b", "/caf%C3%A9", "/a/b/../c",
    "/x?next=https://elsewhere.example",  # a URL in the query string is only data
])
def test_local_paths_pass(value: str) -> None:
    assert safe_return_to(value) == value


@pytest.mark.parametrize("value", [
    None, "", 42, "admin", "https://evil.example/", "http://evil.example", "//evil.example",
    "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "javascript:alert(1)", "data:text/html,x", " /admin", "/\t/evil.example", "/\n/evil.example",
    "/%2F/evil.example", "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example",
    "/%5c%5cevil.example", "/%252F%252Fevil.example", "/%25252F%25252Fevil.example",
    "/%09/evil.example", "/%0d%0aSet-Cookie:x=1", "/\r\nSet-Cookie: x=1", "/é", "/" + "a" * 3000,
    "/bff/login", "/bff/logout", "/%62ff/login", "/bff",
    "/x/../bff/login", "/./bff/login", "/a/%2e%2e/bff/callback", "/a/../bff",  # dot segments
])
def test_everything_else_falls_back(value: object) -> None:
    assert safe_return_to(value) == "/"


def test_custom_fallback() -> None:
    assert safe_return_to("//evil", "/home") == "/home"

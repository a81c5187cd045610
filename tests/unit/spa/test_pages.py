"""The server's SPA route table, kept in step with the client router (routes.js)."""

from __future__ import annotations

import re

import pytest

from bff.settings import REPO_ROOT
from bff.spa.pages import PAGES, is_reserved, journey_for, looks_like_file, page_for

ROUTES_JS = REPO_ROOT / "spa-shell" / "assets" / "js" / "routes.js"


def _client_paths() -> list[str]:
    return re.findall(r"path: '([^']+)'", ROUTES_JS.read_text("utf-8"))


def test_every_client_route_is_a_server_page_and_back() -> None:
    client = _client_paths()
    assert client, "routes.js changed shape"
    for path in client:
        sample = path.replace(":id", "00ubob00000000000001")
        assert page_for(sample) is not None, f"{path} is a client route the server would 404"
    for page in PAGES:
        assert any(page.pattern.fullmatch(p.replace(":id", "x")) for p in client), page.name


@pytest.mark.parametrize("path", ["/bff", "/bff/x", "/api", "/api/admin/users", "/__dev/mail", "/assets/a.js",
                                  "/healthz", "/readyz", "/preview"])
def test_reserved(path: str) -> None:
    assert is_reserved(path)


@pytest.mark.parametrize("path", ["/", "/bffx", "/apis", "/previews", "/signin", "/admin/users"])
def test_not_reserved(path: str) -> None:
    assert not is_reserved(path)


def test_file_like_paths() -> None:
    assert looks_like_file("/favicon.ico") and looks_like_file("/x/robots.txt/")
    assert not looks_like_file("/admin/users/alice") and not looks_like_file("/")


def test_the_root_needs_the_home_copy_once_signed_in() -> None:
    root = page_for("/")
    assert root is not None
    assert journey_for(root, signed_in=False) == "signin"
    assert journey_for(root, signed_in=True) == "profile"

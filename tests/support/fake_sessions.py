"""A test double of the sign-in core's SessionLookup (bff/auth/api.py), for UNIT tests of
consumers (content preview, proxy, profile). Integration tests sign in for real against the
Okta twin instead (tests/support/login.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.requests import HTTPConnection

from bff.auth.api import Principal
from bff.errors import Unauthenticated


def principal(**overrides: Any) -> Principal:
    base: dict[str, Any] = dict(
        session_id="s-test", user_id="00utest", login="bob@acme.test", email="bob@acme.test",
        name="Bob Test", groups=("Everyone",), scopes=frozenset({"openid", "profile", "email"}),
        org_id="acme", admin_role=None, admin_groups=(), expires_at=int(time.time()) + 3600,
    )
    base.update(overrides)
    return Principal(**base)


@dataclass
class FakeSession:
    principal: Principal
    token: str = "at-test"
    fail_with: Exception | None = None
    refreshes: int = 0

    async def access_token(self, *, force_refresh: bool = False) -> str:
        if self.fail_with:
            raise self.fail_with
        if force_refresh:
            self.refreshes += 1
            self.token = f"at-test-{self.refreshes}"
        return self.token

    async def set_flag(self, name: str, value: Any) -> None:
        self.principal = replace(self.principal, flags={**self.principal.flags, name: value})


@dataclass
class FakeSessions:
    """Maps the value of the ``__Host-bff`` cookie to a FakeSession."""

    by_cookie: dict[str, FakeSession] = field(default_factory=dict)
    cookie_name: str = "__Host-bff"

    def add(self, cookie: str, p: Principal, token: str = "at-test") -> FakeSession:
        s = FakeSession(p, token)
        self.by_cookie[cookie] = s
        return s

    async def load(self, conn: HTTPConnection) -> FakeSession | None:
        value = conn.cookies.get(self.cookie_name)
        session = self.by_cookie.get(value) if value else None
        if session is not None and isinstance(session.fail_with, Unauthenticated):
            return None
        return session

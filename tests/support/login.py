"""Sign in for real, for integration tests of any area: BFF ``/bff/login`` → the Okta twin's
sign-in form → ``/bff/callback``, exactly as a browser does.

Typical use (the BFF in-process through ``httpx.ASGITransport``, the twin on loopback)::

    from tests.support.env import make_settings
    from tests.support.login import bff_client, login_as, register_bff_client
    from tests.support.okta import running_okta_twin

    async with running_okta_twin() as okta:
        settings = make_settings(BFF_OKTA_ISSUER=okta.issuer)
        register_bff_client(okta, settings)
        async with bff_client(create_app(settings)) as client:
            cookie = await login_as(client, "alice@acme.test", scope="admin")
            r = await client.get("/bff/user")        # signed in: login_as set the cookie
            r = await client.post("/api/...", headers={"X-CSRF": "1"})

Both on loopback works the same: pass an ``httpx.AsyncClient(base_url="http://127.0.0.1:<port>")``
to :func:`login_as` (the BFF's ``BFF_PUBLIC_URL`` must then be that origin).

:func:`login_as` leaves the session cookie in ``client.cookies`` as a plain cookie (no
``Secure`` flag, so httpx sends it over ``http://`` loopback too) and returns its value, for
tests that juggle several users with one client (send ``Cookie: __Host-bff=<value>`` yourself).
A refused sign-in raises :class:`LoginFailed` with the BFF's ``auth_error`` code (for example
``access_denied`` when a non-admin asks for ``scope="admin"``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.types import ASGIApp

from bff.settings import Settings
from tests.support.okta import PASSWORD, browser_sign_in

SESSION_COOKIE = "__Host-bff"


class LoginFailed(AssertionError):
    """The sign-in did not produce a session; ``code`` is the BFF's ``auth_error`` (or a
    description of the step that failed)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"sign-in failed: {code} {detail}".strip())
        self.code = code


def register_bff_client(okta: Any, settings: Settings, **extra: Any) -> Any:
    """Register the BFF of ``settings`` as a web app in an :class:`OktaTwin` (redirect URI,
    post-logout URIs, back-channel logout URI, client secret)."""
    public = settings.public_url
    return okta.register_client(
        settings.okta.client_id,
        secret=settings.okta.client_secret,
        redirect_uris=[f"{public}/bff/callback"],
        post_logout_redirect_uris=[f"{public}/", f"{public}/?signed_out=1"],
        backchannel_logout_uri=f"{public}/bff/backchannel-logout",
        **extra,
    )


@contextlib.asynccontextmanager
async def bff_client(app: ASGIApp,
                     base_url: str = "https://app.example.test") -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``app`` in-process, with the app's lifespan running (so
    ``services`` exist). ``base_url`` should be the app's ``BFF_PUBLIC_URL``."""
    lifespan = app.router.lifespan_context  # type: ignore[attr-defined]
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def _set_cookie_values(response: httpx.Response) -> dict[str, str]:
    out: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        pair = header.split(";", 1)[0]
        name, _, value = pair.partition("=")
        out[name.strip()] = value.strip().strip('"')
    return out


async def login_as(client: httpx.AsyncClient, email: str, password: str = PASSWORD, *,
                   scope: str | None = None, return_to: str = "/", prompt: str | None = None,
                   cookie_name: str = SESSION_COOKIE, browser: httpx.AsyncClient | None = None) -> str:
    """Drive the real sign-in flow and return the session cookie's value.

    ``client`` talks to the BFF; ``browser`` (optional) is the client used on the twin's pages,
    so its SSO cookie can be reused across logins (default: a fresh one per call).
    """
    login_cookie = f"{cookie_name}-login"
    params = {"returnTo": return_to}
    if scope:
        params["scope"] = scope
    if prompt:
        params["prompt"] = prompt
    start = await client.get("/bff/login", params=params)
    if start.status_code != 302:
        raise LoginFailed("login_not_started", f"/bff/login answered {start.status_code}")
    binding = _set_cookie_values(start).get(login_cookie)
    authorize_url = start.headers["location"]
    if "auth_error=" in authorize_url:
        raise LoginFailed(parse_qs(urlsplit(authorize_url).query)["auth_error"][0])

    own_browser = browser is None
    twin = browser or httpx.AsyncClient(timeout=10.0)
    try:
        back = await browser_sign_in(twin, authorize_url, username=email, password=password)
    finally:
        if own_browser:
            await twin.aclose()
    if back.status_code != 302:
        raise LoginFailed("idp_sign_in_failed", f"the IdP answered {back.status_code}")
    target = urlsplit(back.headers["location"])

    headers = {"Cookie": f"{login_cookie}={binding}"} if binding else {}
    done = await client.get(f"{target.path}?{target.query}", headers=headers)
    if done.status_code != 302:
        raise LoginFailed("callback_failed", f"/bff/callback answered {done.status_code}")
    location = urlsplit(done.headers["location"])
    error = parse_qs(location.query).get("auth_error")
    if error:
        raise LoginFailed(error[0])
    value = _set_cookie_values(done).get(cookie_name)
    if not value:
        raise LoginFailed("no_cookie", "the callback set no session cookie")
    # Keep exactly one, plain, copy in the jar (httpx would not send a Secure cookie over http).
    for name in (cookie_name, login_cookie):
        client.cookies.delete(name)
    client.cookies.set(cookie_name, value)
    return value

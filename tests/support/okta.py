"""Serve the local Okta twin over real loopback HTTP for integration tests of every area.

    async with running_okta_twin(access_token_ttl=60) as okta:
        okta.register_client("0oatest", secret="s3cret", redirect_uris=[...])
        ... okta.issuer, okta.base_url ...

:func:`browser_sign_in` plays the browser: it follows an authorize URL, fills in the twin's
sign-in form and returns the redirect back to the client (``.../callback?code=...&state=...``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pyotp

from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.hosted_mfa import hosted_totp_secret

PASSWORD = "Passw0rd!"
_STATE_TOKEN = re.compile(r'name="stateToken" value="([^"]*)"')
_FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)"')


@contextlib.asynccontextmanager
async def running_okta_twin(*, users_file: Path | None = None, **knobs: Any) -> AsyncIterator[OktaTwin]:
    """An :class:`OktaTwin` served by uvicorn on 127.0.0.1:<free port>; knobs are twin attributes
    (``access_token_ttl``, ``refresh_leeway``, ``code_ttl``, ``authorization_response_iss`` ...)."""
    port = free_port()
    twin = OktaTwin(f"http://127.0.0.1:{port}", users_file=users_file)
    for name, value in knobs.items():
        if not hasattr(twin, name):
            raise TypeError(f"OktaTwin has no knob {name!r}")
        setattr(twin, name, value)
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, twin.app, port, name="okta-twin")
        yield twin


async def browser_sign_in(http: httpx.AsyncClient, authorize_url: str, *, username: str | None = None,
                          password: str = PASSWORD) -> httpx.Response:
    """Follow ``authorize_url`` like a browser (``http`` keeps the twin's SSO cookie) and, if the
    sign-in form shows, submit it. Returns the twin's final response: normally a 302 to the
    client's redirect URI; the sign-in page again (401) on a bad password."""
    response = await http.get(authorize_url, follow_redirects=False)
    if response.status_code != 200 or "stateToken" not in response.text:
        return response
    state_token = _STATE_TOKEN.search(response.text)
    action = _FORM_ACTION.search(response.text)
    assert state_token and action, "the twin's sign-in form changed"
    if username is None:
        hint = re.search(r'name="username" value="([^"]*)"', response.text)
        username = unescape(hint.group(1)) if hint else ""
    data = {"stateToken": unescape(state_token.group(1)), "username": username, "password": password}
    if 'name="otp"' in response.text:  # a step-up (acr_values=...2fa...): the second factor too
        data["otp"] = pyotp.TOTP(hosted_totp_secret(username)).now()
    return await http.post(unescape(action.group(1)), follow_redirects=False, data=data)

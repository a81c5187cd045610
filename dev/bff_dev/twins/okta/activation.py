"""The Users API's activation email and Okta's welcome page (``/welcome/{token}``).

Okta (``POST /api/v1/users?activate=true`` without credentials, or ``lifecycle/activate`` of a
user without a password, ``sendEmail`` true) leaves the user ``PROVISIONED`` and emails an
activation link. Opening it proves the address; the page asks for the password, and only then is
the user ``ACTIVE`` (``user.lifecycle.activate`` to the event hooks). The email goes through the
org's mail (``IdxEndpoints.mail``: the twin's outbox and, in ``bff dev``, the dev mail page).

A token is single-use; a wrong password keeps it (the page again, with Okta's verdict).
"""

from __future__ import annotations

import secrets
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta.directory import User, hash_password
from bff_dev.twins.okta.errors import NO_STORE, OAuthError
from bff_dev.twins.okta.forms import read_form
from bff_dev.twins.okta.hooks import EventHooks
from bff_dev.twins.okta.idx import IdxEndpoints
from bff_dev.twins.okta.profile import password_problems


class Activation:
    def __init__(self, idx: IdxEndpoints, hooks: EventHooks) -> None:
        self.idx = idx
        self.hooks = hooks
        self.tokens: dict[str, str] = {}  # activation token -> user id

    def routes(self) -> list[BaseRoute]:
        return [Route("/welcome/{token}", self.welcome, methods=["GET", "POST"])]

    def issue(self, user: User, *, send_email: bool) -> str:
        """A new activation token of ``user`` (earlier ones stop working); emailed when asked."""
        for old in [k for k, v in self.tokens.items() if v == user.id]:
            del self.tokens[old]
        token = secrets.token_urlsafe(24)
        self.tokens[token] = user.id
        if send_email:
            self.idx.mail({"to": str(user.profile.get("email", user.login)),
                           "subject": "Activate your account", "code": "", "link": self.url(token)})
        return token

    def url(self, token: str) -> str:
        return f"{self.idx.twin.base_url}/welcome/{token}"

    def _page(self, token: str, errors: list[str], status: int = 200) -> Response:
        items = "".join(f"<li>{_escape(e)}</li>" for e in errors)
        html = ("<!doctype html><title>Activate your account</title><h1>Activate your account</h1>"
                + (f'<ul role="alert" id="activation-errors">{items}</ul>' if errors else "")
                + f'<form method="post" action="/welcome/{_escape(token)}">'
                '<label for="act-password">Choose a password</label>'
                '<input type="password" id="act-password" name="password" autocomplete="new-password"'
                ' required>'
                '<button type="submit" id="act-submit">Activate</button></form>')
        return HTMLResponse(html, status_code=status, headers=NO_STORE)

    async def welcome(self, request: Request) -> Response:
        token = request.path_params["token"]
        user = self.idx.twin.directory.users.get(self.tokens.get(token, ""))
        if user is None or user.status != "PROVISIONED":
            return self.idx.twin_page(404, "This activation link is invalid or was already used.")
        if request.method == "GET":
            return self._page(token, [])
        try:
            form = await read_form(request)
        except OAuthError as exc:
            return self.idx.twin_page(exc.status, exc.description)
        password = form.get("password", "")
        problems = password_problems(password, user.profile)
        if problems:
            return self._page(token, [p.split(":", 1)[-1].strip() for p in problems], 400)
        del self.tokens[token]
        self.activate(user, password)
        return self.idx.twin_page(200, "Your account is active. You can sign in now.")

    def activate(self, user: User, password: str) -> None:
        t = self.idx.twin
        now = t.now()
        user.password_hash = hash_password(password)
        user.password_changed = now
        user.set_status("ACTIVE", now)
        user.activated = now
        actor: dict[str, Any] = {"id": user.id, "type": "User", "alternateId": user.login,
                                 "displayName": user.display_name, "detailEntry": None}
        self.hooks.log_event("user.lifecycle.activate", user, actor=actor,
                             display_message="Activate Okta user")


def _escape(text: str) -> str:
    return escape(text, quote=True)

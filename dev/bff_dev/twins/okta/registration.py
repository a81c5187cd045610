"""Self-service registration on the Okta-hosted page (``/signin/register``), as Okta's profile
enrollment: email, first and last name, an optional organisation code, and a password. The new
user is ACTIVE, the ``user.lifecycle.create`` event goes to the event hooks, and when the page
was reached from a sign-in (``stateToken``) the authorization continues as that user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta.directory import User, hash_password, okta_id
from bff_dev.twins.okta.errors import OAuthError
from bff_dev.twins.okta.forms import read_form
from bff_dev.twins.okta.hooks import EventHooks
from bff_dev.twins.okta.oidc import OidcEndpoints
from bff_dev.twins.okta.org import OktaOrg
from bff_dev.twins.okta.pages import Pages
from bff_dev.twins.okta.profile import password_problems, validate_profile

FIELDS = ("email", "firstName", "lastName", "orgId")
ORG_CODE_MAX = 64


class Registration:
    def __init__(self, org: OktaOrg, *, oidc: OidcEndpoints, pages: Pages, hooks: EventHooks) -> None:
        self.org = org
        self.oidc = oidc
        self.pages = pages
        self.hooks = hooks

    def routes(self) -> list[BaseRoute]:
        return [Route("/signin/register", self.register, methods=["GET", "POST"])]

    def _page(self, state_token: str, values: dict[str, str], errors: list[str],
              status: int = 200) -> Response:
        t = self.org
        pending = self.oidc.pending.get(state_token)
        signin = f"{t.issuer}/v1/authorize?{urlencode(pending.params)}" if pending else t.base_url + "/"
        return self.pages.render("register.html", {
            "action": f"{t.base_url}/signin/register", "state_token": state_token, "values": values,
            "errors": errors, "signin_url": signin}, status)

    async def register(self, request: Request) -> Response:
        t = self.org
        if request.method == "GET":
            token = request.query_params.get("stateToken", "")
            return self._page(token if token in self.oidc.pending else "", dict.fromkeys(FIELDS, ""), [])
        try:
            form = await read_form(request)
        except OAuthError as exc:
            return self.pages.error(exc.status, exc.error, exc.description)
        values = {k: form.get(k, "").strip() for k in FIELDS}
        token = form.get("stateToken", "")
        profile: dict[str, Any] = {"firstName": values["firstName"], "lastName": values["lastName"],
                                   "email": values["email"], "login": values["email"]}
        if values["orgId"]:
            profile["orgId"] = values["orgId"][:ORG_CODE_MAX]
        causes = validate_profile(profile, t.directory)
        causes += password_problems(form.get("password", ""), profile)
        if causes:
            t.counters["register:failed"] += 1
            messages = [c.split(":", 1)[1].strip() if ":" in c else c for c in causes]
            labels = {"login": "Email", "email": "Email", "firstName": "First name", "lastName": "Last name",
                      "password": "Password"}
            shown = [f"{labels.get(c.split(':')[0], c.split(':')[0])}: {m}" for c, m in zip(causes, messages,
                                                                                             strict=True)]
            return self._page(token, values, shown, 400)
        now = t.now()
        user = User(id=okta_id("00u"), status="ACTIVE", profile=profile, created=now, last_updated=now,
                    activated=now, status_changed=now, password_changed=now,
                    password_hash=hash_password(form["password"]))
        t.directory.add_user(user)
        t.counters["register"] += 1
        actor = {"id": user.id, "type": "User", "alternateId": user.login, "displayName": user.display_name,
                 "detailEntry": None}
        hooks = self.hooks
        hooks.log_event("user.lifecycle.create", user, actor=actor, display_message="Create okta user")
        hooks.log_event("user.lifecycle.activate", user, actor=actor, display_message="Activate Okta user")
        if token:
            response = self.oidc.complete_pending(token, user)
            if response is not None:
                return response
        return self.pages.render("registered.html", {"login": user.login})

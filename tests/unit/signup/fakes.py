"""In-process stand-ins for the unit tests of the sign-up area (no sockets): an Okta Management
API served through ``httpx.MockTransport`` and an app runner that drives the lifespan.
Integration tests use the real local Okta twin and moto server instead."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bff.app import create_app
from bff.services import Services
from bff.settings import Settings
from bff.signup.publisher import MemoryPublisher
from bff.signup.service import SignupService
from tests.support.env import make_settings, organisation_settings

API_TOKEN = "test-ssws-token-0123456789"
HOOK_SECRET = "test-hook-secret-0123456789"
ORIGIN = "https://app.example.test"
CSRF = {"X-CSRF": "1", "Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}


def signup_settings(**overrides: str) -> Settings:
    env = {"BFF_OKTA_API_TOKEN": API_TOKEN, "BFF_OKTA_HOOK_SECRET": HOOK_SECRET,
           "BFF_SIGNUP_ORG": "organisation"}
    env.update(overrides)
    if env["BFF_SIGNUP_ORG"] == "organisation":
        return organisation_settings(**env)
    return make_settings(**env)


def okta_error(code: str, summary: str, causes: list[str] = (), status: int = 400) -> httpx.Response:  # type: ignore[assignment]
    return httpx.Response(
        status,
        json={
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": "oaeSECRETERRORID123",
            "errorCauses": [{"errorSummary": c} for c in causes],
        },
    )


@dataclass
class FakeOktaApi:
    """Just enough of ``/api/v1/users`` for unit tests, with queued canned responses."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    queued: list[httpx.Response | Exception] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    token: str = API_TOKEN

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def add_user(self, login: str, **profile: Any) -> dict[str, Any]:
        uid = "00u" + secrets.token_hex(8)
        user = {"id": uid, "status": "ACTIVE", "profile": {"login": login, "email": login, **profile}}
        self.users[uid] = user
        return user

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith("/api/v1/"):
            return httpx.Response(404, json={"error": "not_found"})  # e.g. the sign-in core's discovery
        self.requests.append(request)
        if self.queued:
            item = self.queued.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        if request.headers.get("authorization") != f"SSWS {self.token}":
            return okta_error("E0000011", "Invalid token provided", status=401)
        path = request.url.path
        if path == "/api/v1/users" and request.method == "POST":
            body = json.loads(request.content)
            profile = body["profile"]
            if any(u["profile"]["login"].lower() == profile["login"].lower() for u in self.users.values()):
                return okta_error(
                    "E0000001",
                    "Api validation failed: login",
                    ["login: An object with this field already exists in the current organization"],
                )
            uid = "00u" + secrets.token_hex(8)
            status = "ACTIVE" if "credentials" in body else "PROVISIONED"
            self.users[uid] = {"id": uid, "status": status, "profile": profile}
            return httpx.Response(200, json=self.users[uid])
        if path.startswith("/api/v1/users/"):
            user = self.users.get(path.rsplit("/", 1)[1])
            if user is None:
                return okta_error("E0000007", "Not found: Resource not found", status=404)
            if request.method == "POST":
                for k, v in json.loads(request.content)["profile"].items():
                    if v is None:
                        user["profile"].pop(k, None)
                    else:
                        user["profile"][k] = v
            return httpx.Response(200, json=user)
        return okta_error("E0000007", "Not found", status=404)


@dataclass
class Running:
    app: Starlette
    client: httpx.AsyncClient
    services: Services
    okta: FakeOktaApi
    published: MemoryPublisher

    @property
    def signup(self) -> SignupService:
        return self.services.signup


@contextlib.asynccontextmanager
async def running_app(
    settings: Settings | None = None,
    *,
    okta: FakeOktaApi | None = None,
    publisher: MemoryPublisher | None = None,
    extra: Callable[[Services], Services] | None = None,
) -> AsyncIterator[Running]:
    """The whole BFF app with its lifespan, Okta behind a MockTransport and a memory publisher
    in place of SNS (the relay is (re)started with it)."""
    okta = okta or FakeOktaApi()
    published = publisher or MemoryPublisher()
    http = httpx.AsyncClient(transport=okta.transport())

    def wire(services: Services) -> Services:
        relay = services.signup.relay
        relay.publisher = published
        relay.start()
        return extra(services) if extra else services

    app = create_app(settings or signup_settings(), http=http, overrides=[wire])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            yield Running(app, client, app.state.services, okta, published)
    await http.aclose()

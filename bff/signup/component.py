"""Wiring of the registration area: routes and lifespan start-up.

    GET  /bff/signup        what the form needs (fields, modes, password policy) for the SPA
    POST /bff/signup        create the Okta user, then AccountCreated via the outbox
    GET  /bff/profile       the signed-in user's configurable profile fields
    POST /bff/profile       partial update of those fields
    GET  /bff/hooks/okta    Okta event hook verification challenge
    POST /bff/hooks/okta    Okta event hook delivery (user.lifecycle.create)
"""

from __future__ import annotations

import contextlib
import logging
from typing import cast

import httpx
from babel import negotiate_locale
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff.auth.api import require_session
from bff.auth.csrf import check_csrf
from bff.errors import BadRequest, NotFound
from bff.okta import PrivateKeyJwtAuth, SswsAuth
from bff.services import Services
from bff.settings import ConfigError, Settings
from bff.signup.body import read_json_object
from bff.signup.forms import describe_signup
from bff.signup.hooks import authenticate, created_users
from bff.signup.invitations import Invitations
from bff.signup.okta_users import MGMT_SCOPES, OktaManagementClient
from bff.signup.outbox import open_outbox
from bff.signup.publisher import EventPublisher, SnsPublisher
from bff.signup.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bff.signup.relay import Relay
from bff.signup.service import SignupService, limiter_salt

log = logging.getLogger("bff.signup")

SIGNUP_MAX_BODY = 16 * 1024
PROFILE_MAX_BODY = 8 * 1024
HOOK_MAX_BODY = 1024 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def _service(request: Request) -> SignupService:
    return cast(SignupService, request.app.state.services.area("signup"))


def _accept_language(header: str | None, available: tuple[str, ...]) -> str | None:
    """Babel's negotiation over the q-ordered ``Accept-Language`` tags."""
    if not header:
        return None
    weighted: list[tuple[float, str]] = []
    for part in header[:512].split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and q > 0:
            weighted.append((q, tag.strip()))
    preferred = [tag for _, tag in sorted(weighted, key=lambda item: -item[0])]
    return negotiate_locale(preferred, list(available), sep="-")


async def signup_form(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return JSONResponse(describe_signup(settings.signup, settings.content.locales), headers=NO_STORE)


async def signup(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    service = _service(request)
    check_csrf(request, settings)
    await service.limit_ip(request.client.host if request.client else "unknown")
    body = await read_json_object(request, SIGNUP_MAX_BODY)
    fallback = _accept_language(request.headers.get("accept-language"), settings.content.locales)
    form = service.parse(body, fallback or settings.content.default_locale)
    user = await service.register(form)
    activated = user.status == "ACTIVE"
    return JSONResponse(
        {"status": "created", "login": form.email, "accountStatus": user.status,
         "next": "signIn" if activated else "activateByEmail"},
        status_code=201, headers=NO_STORE)


async def profile(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    service = _service(request)
    if request.method == "POST":
        check_csrf(request, settings)
    session = await require_session(request)
    if request.method == "GET":
        view = await service.read_profile(session.principal.user_id)
    else:
        body = await read_json_object(request, PROFILE_MAX_BODY)
        view = await service.update_profile(session.principal.user_id, body)
    return JSONResponse(view, headers=NO_STORE)


async def okta_hook(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    # Every configured value is accepted (newest first): the secret rotates without a gap.
    secrets = settings.signup.hook_secrets
    if not secrets:
        raise NotFound("Event hooks are not configured")
    if request.method == "GET":
        # Okta's one-time verification. A challenge is harmless to echo; a wrong secret, when
        # one is sent, is still refused.
        authenticate(request, secrets, required=False)
        challenge = request.headers.get("x-okta-verification-challenge")
        if not challenge or len(challenge) > 1024:
            raise BadRequest("Missing x-okta-verification-challenge header")
        return JSONResponse({"verification": challenge}, headers=NO_STORE)
    authenticate(request, secrets)
    body = await read_json_object(request, HOOK_MAX_BODY)
    users, received = created_users(body)
    result = await _service(request).accept_hook(users, received)
    return JSONResponse({"received": result.received, "accepted": result.accepted,
                         "duplicates": result.duplicates}, headers=NO_STORE)


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/bff/signup", signup_form, methods=["GET"]),
        Route("/bff/signup", signup, methods=["POST"]),
        Route("/bff/profile", profile, methods=["GET", "POST"]),
        Route("/bff/hooks/okta", okta_hook, methods=["GET", "POST"]),
    ]


# ---------------------------------------------------------------------------------------------


def build_okta_auth(settings: Settings) -> httpx.Auth | None:
    """The Management API credentials (service app preferred), or None when none are set."""
    s = settings.signup
    if s.okta_mgmt_client_id or s.okta_mgmt_private_key:
        if not (s.okta_mgmt_client_id and s.okta_mgmt_private_key):
            raise ConfigError(["BFF_OKTA_MGMT_CLIENT_ID and BFF_OKTA_MGMT_PRIVATE_KEY go together"])
        try:
            return PrivateKeyJwtAuth(s.okta_org_url, s.okta_mgmt_client_id, s.okta_mgmt_private_key,
                                     scopes=MGMT_SCOPES)
        except ValueError as exc:  # names no part of the key
            raise ConfigError([f"BFF_OKTA_MGMT_PRIVATE_KEY is {exc}"]) from None
    if s.okta_api_token:
        return SswsAuth(s.okta_api_token)
    return None


def build_limiter(settings: Settings) -> RateLimiter:
    salt = limiter_salt(settings)
    store = settings.session.store
    if store.startswith(("redis://", "rediss://")):
        return RedisRateLimiter.from_url(store, salt)
    return MemoryRateLimiter(salt, window=settings.signup.rate_window)


async def start(settings: Settings, services: Services, stack: contextlib.AsyncExitStack) -> None:
    s = settings.signup
    try:
        outbox = open_outbox(s.outbox, region=settings.aws.region, endpoint_url=settings.aws.endpoint_url)
    except ValueError as exc:
        raise ConfigError([str(exc)]) from None
    stack.push_async_callback(outbox.close)

    auth = build_okta_auth(settings)
    okta = OktaManagementClient(s.okta_org_url, services.http, auth) if auth else None
    if okta is None:
        log.warning("no Okta Management credentials: /bff/signup and /bff/profile answer 503")

    publisher: EventPublisher | None = None
    if s.account_topic_arn:
        sns = SnsPublisher(s.account_topic_arn, region=settings.aws.region,
                           endpoint_url=settings.aws.endpoint_url)
        stack.callback(sns.close)
        publisher = sns

    relay = Relay(outbox, publisher, okta, default_locale=settings.content.default_locale)
    relay.start()
    stack.push_async_callback(relay.stop)

    limiter = build_limiter(settings)
    stack.push_async_callback(limiter.close)

    services.areas["signup"] = SignupService(
        settings=settings, okta=okta, outbox=outbox, relay=relay, limiter=limiter,
        invitations=Invitations(settings.secret_keys))
    services.ready_checks["outbox"] = outbox.ping

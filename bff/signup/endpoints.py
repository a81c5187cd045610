"""HTTP endpoints of the registration area.

    GET  /bff/signup        what the form needs (fields, modes, password policy) for the SPA
    POST /bff/signup        create the Okta user, then AccountCreated via the outbox
    GET  /bff/profile       the signed-in user's configurable profile fields
    POST /bff/profile       partial update of those fields
    GET  /bff/hooks/okta    Okta event hook verification challenge
    POST /bff/hooks/okta    Okta event hook delivery, dispatched by event type (bff.okta.events):
                            user.lifecycle.create here, the session-ending events in bff.auth
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff.auth.api import require_session
from bff.auth.csrf import check_csrf
from bff.errors import BadRequest, NotFound
from bff.http.body import read_json_object
from bff.http.client_ip import client_ip
from bff.http.negotiation import negotiate_language, parse_accept_language
from bff.http.responses import NO_STORE
from bff.lookup import SETTINGS, ServiceKey
from bff.lookup import service as lookup
from bff.okta.events import parse_delivery
from bff.settings import Settings
from bff.signup.forms import describe_signup
from bff.signup.hooks import authenticate
from bff.signup.service import SignupService

log = logging.getLogger("bff.signup")

SIGNUP_MAX_BODY = 16 * 1024
PROFILE_MAX_BODY = 8 * 1024
HOOK_MAX_BODY = 1024 * 1024


SIGNUP: ServiceKey[SignupService] = ServiceKey("signup")


def _service(request: Request) -> SignupService:
    return lookup(request, SIGNUP)


async def signup_form(request: Request) -> Response:
    settings = lookup(request, SETTINGS)
    return JSONResponse(describe_signup(settings.signup, settings.content.locales), headers=NO_STORE)


async def signup(request: Request) -> Response:
    settings = lookup(request, SETTINGS)
    service = _service(request)
    check_csrf(request, settings)
    await service.limit_ip(client_ip(request))
    body = await read_json_object(request, SIGNUP_MAX_BODY)
    fallback = negotiate_language(parse_accept_language(request.headers.get("accept-language")),
                                  settings.content.locales)
    form = service.parse(body, fallback or settings.content.default_locale)
    user = await service.register(form)
    activated = user.status == "ACTIVE"
    return JSONResponse(
        {"status": "created", "login": form.email, "accountStatus": user.status,
         "next": "signIn" if activated else "activateByEmail"},
        status_code=201, headers=NO_STORE)


async def profile(request: Request) -> Response:
    settings = lookup(request, SETTINGS)
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
    settings = lookup(request, SETTINGS)
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
    try:
        events, received = parse_delivery(body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    counts = await _service(request).hook.deliver(events)  # each event type to its handlers
    return JSONResponse({"received": received, "accepted": 0, "duplicates": 0, **counts}, headers=NO_STORE)


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/bff/signup", signup_form, methods=["GET"]),
        Route("/bff/signup", signup, methods=["POST"]),
        Route("/bff/profile", profile, methods=["GET", "POST"]),
        Route("/bff/hooks/okta", okta_hook, methods=["GET", "POST"]),
    ]



"""The embedded sign-in API (issue 10): the SPA's own sign-in screens drive Okta's Identity
Engine through these routes; every Okta handle stays on the server.

    POST /bff/signin                  {"returnTo", "scope"?, "identifier"?, "invitation"?} → the first step
    GET  /bff/signin                  the current step again (404 problem when none)
    POST /bff/signin/cancel           ends the transaction (and Okta's)
    POST /bff/signin/redirect-idp     {"idp": "<id of the step's idps>"} → a ``redirect`` step to
                                      /bff/login?idp= (Okta's transaction cancelled, ours ended)
    POST /bff/signin/{remediation}    {"<dotted field>": value, ...} → the next step
    GET  /bff/signin/email-callback   ?state=&otp= (Okta's email magic link): a redirect

Steps answer 200 with the step JSON (:mod:`bff.signin.steps`) plus ``transaction`` (the id a
tab sends back in ``X-BFF-Signin`` when several tabs sign in at once); a ``success`` step sets
the new session cookie and carries ``location`` (the ``returnTo``). Refusals are problem+json
(``bff.errors``): 400 invalid body / field / step not supported, 403 CSRF, 404 no sign-in, 409
step not offered or busy, 410 ended or expired, 429 attempt limits or Okta's (Retry-After),
502/503/504 Okta failures (the transaction is kept). Every POST needs the CSRF header.

The magic link never ends on an error page: in the browser that owns the transaction the code
is submitted and the browser goes to ``returnTo`` (signed in) or to the SPA's sign-in page for
the next step; anywhere else it goes to the SPA page that shows the code to type in the
original tab (``/signin/email-code``, ``SigninSettings.email_code_path``; the code in the URL
fragment, which no server logs).

With ``BFF_SIGNIN_MODE=redirect`` every ``/bff/signin`` route answers a 404 problem.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bff.auth.completion import end_previous_session
from bff.auth.csrf import check_csrf
from bff.auth.endpoints import login_scopes
from bff.auth.redirects import safe_return_to
from bff.errors import BadRequest, BFFError, NotFound
from bff.http.body import read_json_object
from bff.http.client_ip import client_ip
from bff.lookup import ServiceKey, service
from bff.settings import Settings
from bff.signin.service import Outcome, SigninService
from bff.signin.steps import REDIRECT_IDP
from bff.signin.transactions import Binding

log = logging.getLogger("bff.signin.endpoints")

MAX_BODY = 32 * 1024  # a WebAuthn attestation with its certificate chain (bff.signin.passkeys.LIMITS)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: The header a tab names its own transaction with (the step's ``transaction``).
TRANSACTION_HEADER = "x-bff-signin"
_START_KEYS = frozenset({"returnTo", "scope", "identifier", "invitation"})

SIGNIN: ServiceKey[SigninService] = ServiceKey("signin")


def _service(request: Request) -> SigninService:
    return service(request, SIGNIN)


def cookie_name(settings: Settings) -> str:
    return f"{settings.session.cookie_name}-signin"


def _binding(request: Request, service: SigninService) -> Binding | None:
    return service.transactions.binding_of(request.cookies.get(cookie_name(service.settings)))


def _client_ip(request: Request) -> str | None:
    # The BFF's trusted view of the client, derived once by the edge (bff.http.client_ip).
    return client_ip(request)


def _render(service: SigninService, outcome: Outcome) -> Response:
    response = JSONResponse(outcome.step, headers=NO_STORE)
    _apply(service, response, outcome)
    return response


def _apply(service: SigninService, response: Response, outcome: Outcome) -> None:
    settings = service.settings
    if outcome.txn is not None:
        # Outlives the transaction by BFF_LOGIN_TTL, so a late step reads "ended" (410), not
        # "no sign-in" (404).
        ttl = max(1, int(outcome.txn.expires_at - service.transactions.clock())) \
            + settings.session.login_transaction_ttl
        response.set_cookie(cookie_name(settings),
                            service.transactions.cookie_value(outcome.txn.binding, outcome.txn.id),
                            max_age=ttl, path="/", secure=True, httponly=True, samesite="lax")
    if outcome.session is not None:
        session, value = outcome.session
        service.sessions.set_cookie(response, value, session)


async def _end_previous(service: SigninService, request: Request, outcome: Outcome) -> None:
    if outcome.session is not None:
        await end_previous_session(service.oidc, service.sessions, request, outcome.session[0].id)


# --------------------------------------------------------------------------------------------


async def start(request: Request) -> Response:
    service = _service(request)
    settings = service.settings
    check_csrf(request, settings)
    body = await read_json_object(request, MAX_BODY)
    unknown = sorted(k for k in body if k not in _START_KEYS)
    if unknown:
        raise BadRequest("Unknown members in the sign-in request", code="invalid_submission",
                         errors=[{"field": k[:64], "code": "unknown_field"} for k in unknown[:10]])
    return_to, scope, identifier = body.get("returnTo"), body.get("scope"), body.get("identifier")
    if scope is not None and not isinstance(scope, str):
        raise BadRequest("scope must be a string", code="invalid_submission")
    if identifier is not None and not isinstance(identifier, str):
        raise BadRequest("identifier must be a string", code="invalid_identifier")
    scopes = tuple(login_scopes(settings, scope))
    known = _binding(request, service)
    binding = known.binding if known is not None else service.transactions.new_binding()
    outcome = await service.begin(binding=binding, return_to=safe_return_to(return_to), scopes=scopes,
                                  identifier=identifier, client_ip=_client_ip(request),
                                  invitation=body.get("invitation"))
    await _end_previous(service, request, outcome)
    return _render(service, outcome)


async def current(request: Request) -> Response:
    service = _service(request)
    outcome = await service.current(_binding(request, service), request.headers.get(TRANSACTION_HEADER))
    return _render(service, outcome)


async def remediate(request: Request) -> Response:
    service = _service(request)
    check_csrf(request, service.settings)
    name = request.path_params["remediation"]
    binding = _binding(request, service)
    named = request.headers.get(TRANSACTION_HEADER)
    if name == "cancel":
        outcome = await service.cancel(binding, named, client_ip=_client_ip(request))
        return _render(service, outcome)
    values = await read_json_object(request, MAX_BODY)
    if name == REDIRECT_IDP:
        outcome = await service.redirect_idp(binding, named, values, client_ip=_client_ip(request))
        return _render(service, outcome)
    outcome = await service.step(binding, named, name, values, client_ip=_client_ip(request))
    await _end_previous(service, request, outcome)
    return _render(service, outcome)


async def email_callback(request: Request) -> Response:
    service = _service(request)
    settings = service.settings.signin
    state = request.query_params.get("state") or ""
    otp = request.query_params.get("otp") or ""
    outcome: Outcome | None = None
    try:
        outcome = await service.email_link(_binding(request, service), state, otp,
                                           client_ip=_client_ip(request))
    except BFFError as exc:  # never an error page: the code can still be typed in
        log.info("magic link could not be applied here: %s", exc.instance_code)
    if outcome is None:
        digits = otp if otp.isascii() and otp.isdigit() and len(otp) <= 10 else ""
        target = settings.email_code_path + (f"#code={quote(digits)}" if digits else "")
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    location = outcome.step.get("location")
    target = location if isinstance(location, str) else settings.continue_path
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    await _end_previous(service, request, outcome)
    _apply(service, response, outcome)
    return response


async def disabled(request: Request) -> Response:
    raise NotFound("Embedded sign-in is switched off (BFF_SIGNIN_MODE=redirect); use /bff/login",
                   code="signin_disabled")


def routes(settings: Settings) -> list[BaseRoute]:
    if settings.signin.mode != "embedded":
        return [Route("/bff/signin", disabled, methods=["GET", "POST"]),
                Route("/bff/signin/{rest:path}", disabled, methods=["GET", "POST"])]
    return [
        Route("/bff/signin", start, methods=["POST"]),
        Route("/bff/signin", current, methods=["GET"]),
        Route("/bff/signin/email-callback", email_callback, methods=["GET"]),
        Route("/bff/signin/{remediation}", remediate, methods=["POST"]),
    ]

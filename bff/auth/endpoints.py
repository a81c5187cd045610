"""The sign-in endpoints: ``/bff/login``, ``/bff/callback``, ``/bff/user``, ``/bff/logout``,
``/bff/backchannel-logout``.

Browser navigations (login, callback) never end in a problem page for an IdP-side or stale
failure: they redirect to the SPA with a short code, ``/?auth_error=<code>``, and leave any
existing session untouched. Codes: the provider's own OAuth/OIDC error (``access_denied``,
``login_required``, ``consent_required``, ``interaction_required``, ``invalid_scope``, ...,
anything unknown becomes ``idp_error``), ``invalid_state`` (missing, unknown, replayed, expired
or other browser's state), ``invalid_request`` (no code, repeated parameters),
``issuer_mismatch`` (RFC 9207), ``invalid_grant`` (code replayed/expired, verifier rejected),
``invalid_id_token``, ``idp_unavailable``, ``token_error``, ``session_store_unavailable``.

XHR/fetch endpoints answer problem+json (``bff.errors``), never a redirect.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bff.auth.api import current_session, no_session
from bff.auth.completion import end_previous_session, establish_session
from bff.auth.csrf import check_csrf
from bff.auth.oidc import InvalidGrant, InvalidToken, OAuthError, OIDCClient
from bff.auth.redirects import safe_return_to
from bff.auth.revocation import SessionRevocation
from bff.auth.sessions import ManagedSession, SessionManager
from bff.auth.stepup import StepUpRequired, authorize_params
from bff.auth.transactions import LoginTransactions, TransactionError
from bff.errors import (
    BadRequest,
    BFFError,
    CSRFRejected,
    Unavailable,
    UnsupportedMediaType,
)
from bff.http.body import read_limited
from bff.http.negotiation import media_type
from bff.http.responses import NO_STORE
from bff.lookup import ServiceKey, service
from bff.sessions.store import SessionStore
from bff.settings import Settings

log = logging.getLogger("bff.auth.endpoints")

#: OAuth 2.0 / OIDC error codes passed through to the SPA as they are.
KNOWN_IDP_ERRORS = frozenset({
    "access_denied", "login_required", "consent_required", "interaction_required",
    "account_selection_required", "invalid_scope", "temporarily_unavailable", "server_error",
    "unauthorized_client", "invalid_request", "unsupported_response_type", "invalid_request_uri",
    "invalid_request_object", "request_not_supported",
})
PROMPTS = frozenset({"none", "login", "consent", "login consent", "consent login", "select_account"})
MAX_LOGIN_HINT = 256
MAX_QUERY = 8192
MAX_LOGOUT_FORM = 4096
MAX_LOGOUT_TOKEN_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"


class AuthArea:
    """The objects the sign-in routes need (``service(request, AUTH)``)."""

    def __init__(self, settings: Settings, oidc: OIDCClient, sessions: SessionManager,
                 transactions: LoginTransactions, store: SessionStore) -> None:
        self.settings = settings
        self.oidc = oidc
        self.sessions = sessions
        self.store = store  # for areas that need claim_once or locks
        self.transactions = transactions
        self.binding_cookie = f"{settings.session.cookie_name}-login"
        self.revocation = SessionRevocation(sessions)  # the Okta events that end sessions


AUTH: ServiceKey[AuthArea] = ServiceKey("auth")


def _area(request: Request) -> AuthArea:
    return service(request, AUTH)


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"The parameter {name} is repeated")
    return values[0] if values else None


def _auth_error(code: str, settings: Settings) -> Response:
    landing = safe_return_to(settings.okta.post_logout_path)
    sep = "&" if "?" in landing else "?"
    return RedirectResponse(f"{landing}{sep}{urlencode({'auth_error': code})}", status_code=302,
                            headers=NO_STORE)


def _unavailable_code(exc: BFFError) -> str:
    return "session_store_unavailable" if exc.instance_code == "session_store_unavailable" \
        else "idp_unavailable"


def login_scopes(settings: Settings, extra: str | None) -> list[str]:
    """The configured scopes plus the requested step-up ones (space-separated), which must be
    on the ``BFF_OKTA_STEPUP_SCOPES`` allow-list (else 400 ``scope_not_allowed``). Shared by
    ``/bff/login`` and the embedded ``POST /bff/signin``."""
    scopes = list(settings.okta.scopes)
    for scope in (extra or "").split():
        if scope not in settings.okta.stepup_scopes:
            raise BadRequest(f"The scope {scope[:64]!r} may not be requested",
                             code="scope_not_allowed")
        if scope not in scopes:
            scopes.append(scope)
    return scopes


# --------------------------------------------------------------------------------------------
# GET /bff/login
# --------------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    area = _area(request)
    settings = area.settings
    if len(request.url.query) > MAX_QUERY:
        raise BadRequest("Query string too long")
    return_to = safe_return_to(_single(request, "returnTo"))

    scopes = login_scopes(settings, _single(request, "scope"))

    prompt = _single(request, "prompt")
    if prompt is not None and prompt not in PROMPTS:
        raise BadRequest("prompt must be none, login, consent or 'login consent'", code="invalid_prompt")

    login_hint = _single(request, "login_hint")
    idp = None
    if login_hint is not None:
        login_hint = login_hint.strip()
        if len(login_hint) > MAX_LOGIN_HINT or not login_hint.isprintable():
            raise BadRequest("login_hint is too long or contains control characters",
                             code="invalid_login_hint")
        domain = login_hint.rpartition("@")[2].lower() if "@" in login_hint else ""
        idp = settings.okta.idp_discovery.get(domain) if domain else None
        login_hint = login_hint or None
    asked_idp = _single(request, "idp")
    if asked_idp is not None:
        # Only an IdP this BFF is configured for (BFF_OKTA_IDPS, BFF_OKTA_IDP_DISCOVERY): an
        # arbitrary id would let any link send the browser to whatever IdP the org has.
        if asked_idp not in settings.okta.allowed_idps:
            raise BadRequest("idp is not an identity provider this application signs in with",
                             code="idp_not_allowed")
        idp = asked_idp

    binding = area.transactions.binding_of(request.cookies.get(area.binding_cookie))
    if binding is None:
        binding = area.transactions.new_binding()
    try:
        await area.oidc.metadata()  # provider unknown: no transaction is stored for nothing
        txn = await area.transactions.begin(binding=binding, return_to=return_to, scopes=tuple(scopes))
        url = await area.oidc.authorization_url(
            state=txn.state, nonce=txn.nonce, code_verifier=txn.code_verifier, scopes=scopes,
            prompt=prompt, login_hint=login_hint, idp=idp,
            extra=authorize_params(settings, scopes))  # a step-up: max_age + acr_values
    except BFFError as exc:
        if exc.status < 500:
            raise
        log.warning("login not started: %s", exc.detail)
        return _auth_error(_unavailable_code(exc), settings)
    response = RedirectResponse(url, status_code=302, headers=NO_STORE)
    response.set_cookie(area.binding_cookie, area.transactions.binding_cookie(binding),
                        max_age=settings.session.login_transaction_ttl, path="/", secure=True,
                        httponly=True, samesite="lax")
    return response


# --------------------------------------------------------------------------------------------
# GET /bff/callback
# --------------------------------------------------------------------------------------------


async def callback(request: Request) -> Response:
    area = _area(request)
    try:
        return await _callback(request, area)
    except TransactionError as exc:
        log.info("sign-in callback rejected: %s", exc)
        return _auth_error(exc.code, area.settings)


async def _callback(request: Request, area: AuthArea) -> Response:
    settings, oidc = area.settings, area.oidc
    if len(request.url.query) > MAX_QUERY:
        raise TransactionError("invalid_request", "query string too long")
    try:
        state = _single(request, "state")
        error = _single(request, "error")
        code = _single(request, "code")
        iss = _single(request, "iss")
    except BadRequest as exc:
        raise TransactionError("invalid_request", str(exc.detail)) from None
    binding = area.transactions.binding_of(request.cookies.get(area.binding_cookie))

    if error is not None:
        # The provider refused (access_denied, login_required, ...): consume the transaction
        # so the state cannot be used again, keep any existing session as it is.
        if state:
            try:
                await area.transactions.take(state, binding)
            except (TransactionError, Unavailable):
                pass
        return _auth_error(error if error in KNOWN_IDP_ERRORS else "idp_error", settings)

    try:
        txn = await area.transactions.take(state, binding)
    except Unavailable:
        return _auth_error("session_store_unavailable", settings)
    try:
        oidc.check_response_issuer(iss)
    except InvalidToken as exc:
        raise TransactionError("issuer_mismatch", str(exc.detail)) from None
    if not code or len(code) > 2048:
        raise TransactionError("invalid_request", "missing or oversized code")

    try:
        tokens = await oidc.exchange_code(code, txn.code_verifier)
        session, cookie = await establish_session(oidc, area.sessions, tokens, nonce=txn.nonce,
                                                  not_before=txn.created_at, scopes=txn.scopes)
    except InvalidGrant:
        raise TransactionError("invalid_grant", "the code was refused (used, expired or bad verifier)") \
            from None
    except InvalidToken as exc:
        raise TransactionError("invalid_id_token", str(exc.detail)) from None
    except StepUpRequired as exc:
        raise TransactionError("step_up_required", str(exc.detail)) from None
    except OAuthError as exc:
        raise TransactionError("token_error", f"token endpoint error {exc.error}") from None
    except Unavailable as exc:
        raise TransactionError(_unavailable_code(exc), str(exc.detail)) from None
    except BFFError as exc:
        raise TransactionError("idp_error", str(exc.detail)) from None

    # The login succeeded: the previous session of this browser (if any) ends here.
    await end_previous_session(oidc, area.sessions, request, session.id)

    response = RedirectResponse(txn.return_to, status_code=302, headers=NO_STORE)
    area.sessions.set_cookie(response, cookie, session)
    log.info("signed in (session created)")
    return response


# --------------------------------------------------------------------------------------------
# GET /bff/user
# --------------------------------------------------------------------------------------------


async def user(request: Request) -> Response:
    area = _area(request)
    session = await current_session(request)
    if session is None:
        headers: dict[str, str] = {}
        if request.cookies.get(area.settings.session.cookie_name):
            probe = Response()
            area.sessions.clear_cookie(probe)
            headers["Set-Cookie"] = probe.headers["set-cookie"]
        raise no_session(request, headers)
    try:
        # Near expiry, renew now: a dead refresh token must read as "signed out" here, not
        # only on the next API call (bff-security.md, recurring problem 8).
        await session.access_token()
    except Unavailable:
        pass  # the provider is down: the session still stands
    return JSONResponse(session.principal.public_view(), headers={**NO_STORE, "Vary": "Cookie"})


# --------------------------------------------------------------------------------------------
# POST /bff/logout
# --------------------------------------------------------------------------------------------




def _form(body: bytes) -> dict[str, list[str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The form is not UTF-8") from None
    form: dict[str, list[str]] = {}
    try:
        for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                                    max_num_fields=20):
            form.setdefault(key, []).append(value)
    except ValueError:
        raise BadRequest("Malformed form body") from None
    return form


async def logout(request: Request) -> Response:
    area = _area(request)
    settings = area.settings
    header = settings.session.csrf_header
    is_fetch = header.lower() in request.headers
    if is_fetch:
        check_csrf(request, settings)
    else:
        # A plain HTML form cannot set a header: it carries the value as a field instead, and
        # must prove it is same-origin (every current browser sends Origin on a form POST and
        # Sec-Fetch-Site everywhere); a cross-site form fails either check.
        if media_type(request.headers.get("content-type")) != FORM:
            raise CSRFRejected(f"Missing {header} header")
        form = _form(await read_limited(request, MAX_LOGOUT_FORM))
        if form.get(header) != [settings.session.csrf_value]:
            raise CSRFRejected(f"Missing or wrong {header} form field")
        if "origin" not in request.headers and "sec-fetch-site" not in request.headers:
            raise CSRFRejected("A form logout must carry Origin or Sec-Fetch-Site")
        check_csrf(request, settings, require_header=False)

    return_to = safe_return_to(_single(request, "returnTo"), safe_return_to(settings.okta.post_logout_path))
    session = await current_session(request)
    logout_url = return_to
    if isinstance(session, ManagedSession):
        data = session.data
        await area.sessions.end(session.id)
        if data.refresh_token:
            try:
                await area.oidc.revoke(data.refresh_token, "refresh_token")
            except BFFError as exc:
                # The local session is gone either way; the token dies at its expiry.
                log.warning("refresh token revocation at logout failed: %s", exc.instance_code)
        end_session = area.oidc.end_session_url(
            id_token_hint=data.id_token, post_logout_redirect_uri=f"{settings.public_url}{return_to}",
            state=secrets.token_urlsafe(16))
        if end_session is not None:
            logout_url = end_session

    response: Response
    if is_fetch:
        response = JSONResponse({"logoutUrl": logout_url}, headers=NO_STORE)
    else:
        response = RedirectResponse(logout_url, status_code=302, headers=NO_STORE)
    area.sessions.clear_cookie(response)
    return response


# --------------------------------------------------------------------------------------------
# POST /bff/backchannel-logout
# --------------------------------------------------------------------------------------------


async def backchannel_logout(request: Request) -> Response:
    area = _area(request)
    if media_type(request.headers.get("content-type")) != FORM:
        raise UnsupportedMediaType("Send application/x-www-form-urlencoded with logout_token")
    form = _form(await read_limited(request, MAX_LOGOUT_TOKEN_BODY))
    tokens = form.get("logout_token", [])
    if len(tokens) != 1 or not tokens[0]:
        raise BadRequest("Exactly one logout_token is required", code="invalid_request")
    try:
        claims = await area.oidc.validate_logout_token(tokens[0])
    except InvalidToken as exc:
        log.info("back-channel logout token rejected: %s", exc.detail)
        raise BadRequest(exc.detail, code="invalid_logout_token") from None
    except Unavailable:
        raise
    now = area.sessions.clock()
    ttl = max(60.0, float(claims["exp"]) - now + area.settings.okta.clock_skew)
    if not await area.sessions.store.claim_once(f"bcl-jti:{claims['iss']}:{claims['jti']}", ttl):
        raise BadRequest("This logout token was already used", code="invalid_logout_token")
    sid: str | None = claims.get("sid")
    sub: str | None = claims.get("sub")
    # OIDC Back-Channel Logout 1.0, 2.6: a sid names ONE IdP session, and only its sessions end
    # (of that sub, when both are given); a sid that matches none ends NOTHING (it once fell back
    # to sub and signed the user out on every device). sub alone ends all of the user's sessions.
    if sid and sub:
        ended = await area.sessions.end_sessions_of(sub, idp_sid=sid)
    elif sid:
        ended = await area.sessions.end_for(idp_sid=sid)
    elif sub:
        ended = await area.sessions.end_sessions_of(sub)
    else:  # validate_logout_token requires one of them
        ended = 0
    log.info("back-channel logout ended %d session(s)", ended)
    return Response(status_code=200, headers=NO_STORE)


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/bff/login", login, methods=["GET"]),
        Route("/bff/callback", callback, methods=["GET"]),
        Route("/bff/user", user, methods=["GET"]),
        Route("/bff/logout", logout, methods=["POST"]),
        Route("/bff/backchannel-logout", backchannel_logout, methods=["POST"]),
    ]



"""The twin's Okta Identity Engine: the Interaction Code flow and the IDX API, in Okta's shapes.

    POST /oauth2/default/v1/interact   form: client auth, scope, redirect_uri, PKCE S256, state
                                       [, nonce, acr_values]            -> {"interaction_handle"}
    POST /idp/idx/introspect           {"interactionHandle"} | {"stateHandle"}
    POST /idp/idx/identify             {"identifier", "rememberMe"?, "stateHandle"}
    POST /idp/idx/challenge            {"authenticator": {"id", "methodType"?, "enrollmentId"?}}
    POST /idp/idx/challenge/answer     {"credentials": {"passcode"}}
    POST /idp/idx/challenge/resend     POST /idp/idx/challenge/poll
    POST /idp/idx/credential/enroll    {"authenticator": {"id", "methodType"?, "phoneNumber"?}}
    POST /idp/idx/recover              (a forgotten password: email code, reset-authenticator)
    POST /idp/idx/unlock-account       (self-service unlock: identifier + email code)
    POST /idp/idx/skip                 POST /idp/idx/cancel
    grant_type=interaction_code        at /oauth2/default/v1/token (OidcEndpoints delegates here)
    GET  /__twin/idx/outbox            the email codes and magic links, SMS and voice codes "sent"
                                       (tests; ``bff dev`` shows them on /__dev/mail)

Every IDX answer is ``application/ion+json; okta-version=1.0.0`` with ``version``,
``stateHandle``, ``expiresAt``, ``intent``, ion collections, forms whose fields carry
``stateHandle`` as an immutable hidden value, ``relatesTo`` JSON paths, and messages with
Okta's i18n keys, at the statuses of the real responses in ``tests/fixtures/okta-idx/``
(the contract test compares them): wrong password 401 ``incorrectPassword`` (global), wrong
code 401 ``api.authn.error.PASSCODE_INVALID`` (on ``credentials.passcode``), an unknown or
expired state handle 401 ``idx.session.expired``, policy denial 403 ``security.access_denied``,
a suspended user's password step 401 ``errors.E0000004``, a new password that fails the
policy 400 ``password.passwordRequirementsNotMet``, a locked account's password step 401
``authfactor.challenge.suspended_factor`` (after ``lockout_attempts`` wrong passwords), a
self-service unlock 200 ``oie.selfservice.unlock_user.success.message`` (INFO, terminal).
Shapes of the phone (``phone_number``: ``sms`` / ``voice``), of the select among enrolled
authenticators, of Okta Verify (``challenge-poll``) and of ``redirect-idp`` follow
authenticator-verification-phone-sms.json, authenticator-enroll-phone.json,
authenticator-verification-select-authenticator.json,
authenticator-verification-okta-verify-push.json and identify-with-third-party-idps.json.

The twin's sign-on policy (seeded, :data:`SEEDED_FACTORS`): every user with a password proves
it first (frank's has expired: ``reenroll-authenticator`` with the policy's complexity, then
on); ``mfa`` users (alice, erin) need a second factor always, everyone needs one for a
guarded scope (``admin``, the step-up) or ``acr_values=urn:okta:loa:2fa:any``; a user
without a second factor to use enrols TOTP or a phone (``skip`` offered while
``enrollment_grace`` is on). The policy's first authenticator is challenged at once (the
password where there is one; Okta Verify first for oscar); once one is proven and several are
left (paula: phone, email) the state is ``select-authenticator-authenticate`` alone. Okta
Verify pushes are never approved (``challenge/poll`` answers the same state). The identify
step offers ``redirect-idp`` for each of :attr:`IdxEndpoints.idps` (``bff dev``: the partner's);
its ``href`` (``/sso/idps/{id}``) is not served: the BFF continues with ``/authorize?idp=``.
Passkeys (``webauthn``, :mod:`bff_dev.twins.okta.webauthn`): pia is offered one after her
password and, once enrolled, signs in with it alone; refusals are 400 ``authfactor.webauthn.error.*``.
Unknown identifiers are not revealed: they get a password challenge that always fails, as
Okta's user-enumeration protection does. TOTP is RFC 6238 (pyotp; SHA-1, 6 digits, 30 s);
the seeded secrets are in :data:`SEEDED_FACTORS` and docs/signin.md. Email, SMS and voice
codes are 6 digits, valid ``email_code_ttl`` / ``phone_code_ttl`` seconds; the email's magic
link goes to the client's email verify callback (``{redirect_uri origin}/bff/signin/email-callback``
unless ``email_callback_uris`` says otherwise) with ``state`` and ``otp``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

import pyotp
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta.directory import check_password
from bff_dev.twins.okta.errors import NO_STORE, OAuthError
from bff_dev.twins.okta.forms import read_form
from bff_dev.twins.okta.tokens import Grant, random_id
from bff_dev.twins.okta.webauthn import AUTHENTICATOR as WEBAUTHN
from bff_dev.twins.okta.webauthn import Passkeys, WebAuthnRefused

if TYPE_CHECKING:
    from bff_dev.twins.okta.clients import Client
    from bff_dev.twins.okta.directory import User
    from bff_dev.twins.okta.hooks import EventHooks
    from bff_dev.twins.okta.oidc import OidcEndpoints
    from bff_dev.twins.okta.org import OktaOrg

ION = "application/ion+json; okta-version=1.0.0"
MFA_ACR = "urn:okta:loa:2fa:any"

#: The org's authenticators: key -> (authenticator id, display name, type, method type).
AUTHENTICATORS: dict[str, tuple[str, str, str, str]] = {
    "okta_password": ("autpassword000000001", "Password", "password", "password"),
    "okta_email": ("autemail000000000001", "Email", "email", "email"),
    "google_otp": ("autgoogleotp00000001", "Google Authenticator", "app", "otp"),
    "phone_number": ("autphone000000000001", "Phone", "phone", "sms"),
    "okta_verify": ("autoktaverify0000001", "Okta Verify", "app", "push"),
    "webauthn": WEBAUTHN,  # passkeys: bff_dev.twins.okta.webauthn
}
#: Authenticators with several methods: every method type the org allows, the default first.
METHODS: dict[str, tuple[str, ...]] = {
    "phone_number": ("sms", "voice"),
    "okta_verify": ("signed_nonce", "push", "totp"),
}
#: What a user without a second factor may enrol, in the order the select offers them.
ENROLLABLE = ("google_otp", "phone_number")
#: ``amr`` values of the ID token, by authenticator (and method, for the phone).
AMR = {"okta_password": "pwd", "google_otp": "otp", "okta_email": "email", "sms": "sms", "voice": "tel",
       "webauthn": "hwk"}
_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")


@dataclass(frozen=True)
class SeededFactors:
    keys: tuple[str, ...]
    mfa: bool = False  # a second factor at every sign-in
    totp_secret: str | None = None  # base32, for google_otp
    password_expired: bool = False  # must choose a new password after proving the old one
    phone: str | None = None  # the enrolled phone number (E.164 with spaces), for phone_number


#: What each seeded user can sign in with (by login); users not listed: password + email.
SEEDED_FACTORS: dict[str, SeededFactors] = {
    "alice@acme.test": SeededFactors(("okta_password", "google_otp"), mfa=True,
                                     totp_secret="JBSWY3DPEHPK3PXPALICETWINIDXTOTP"),  # noqa: S106 (seed)
    "bob@acme.test": SeededFactors(("okta_password",)),
    "dave@acme.test": SeededFactors(("okta_email",)),
    "erin@acme.test": SeededFactors(("okta_password",), mfa=True),
    "frank@acme.test": SeededFactors(("okta_password", "okta_email"), password_expired=True),
    "gina@acme.test": SeededFactors(("okta_password", "okta_email")),
    # password, then a choice of phone (SMS or voice) or email as the second factor
    "paula@acme.test": SeededFactors(("okta_password", "phone_number", "okta_email"), mfa=True,
                                     phone="+1 555 010 0199"),
    # Okta Verify first (the BFF does not support it), the password as the other way
    "oscar@acme.test": SeededFactors(("okta_verify", "okta_password")),
    # Okta Verify only: nothing the BFF's screens can do (the redirect flow is the way left)
    "uma@acme.test": SeededFactors(("okta_verify",)),
}
DEFAULT_FACTORS = SeededFactors(("okta_password", "okta_email"))


@dataclass
class Factor:
    key: str
    id: str  # the enrollment id
    secret: str | None = field(default=None, repr=False)
    phone: str | None = None  # phone_number: the number codes go to


@dataclass
class Interaction:
    handle: str
    state_handle: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str
    state: str
    nonce: str | None
    acr: str | None
    created: float
    expires_at: float
    user_id: str | None = None
    identifier: str | None = None
    unknown_user: bool = False
    verified: list[str] = field(default_factory=list)
    current: str | None = None  # the factor key being challenged
    enrolling: Factor | None = None
    email_code: str | None = field(default=None, repr=False)
    email_sent_at: float = 0.0
    interaction_code: str | None = field(default=None, repr=False)
    code_used: bool = False
    skipped_enrollment: bool = False
    forwarded_for: list[str] = field(default_factory=list)  # X-Forwarded-For of each call (tests)
    recovering: bool = False  # a forgotten password: email code, then reset-authenticator
    unlocking: bool = False  # self-service unlock: identifier + email code, then a terminal INFO
    method: str | None = None  # the phone's method type of the current challenge or enrollment
    phone_code: str | None = field(default=None, repr=False)
    phone_sent_at: float = 0.0


def totp_cli(login: str) -> int:
    """``bff dev-totp USER``: print the seeded user's current TOTP code (exit 1: none seeded)."""
    seed = SEEDED_FACTORS.get(login.strip().lower())
    if seed is None or seed.totp_secret is None:
        print(f"no seeded TOTP secret for {login!r}; seeded: "
              + ", ".join(k for k, v in SEEDED_FACTORS.items() if v.totp_secret))
        return 1
    print(pyotp.TOTP(seed.totp_secret).now())
    return 0


class IdxExtension(Protocol):
    """A policy plugged into the IDX endpoints (the profile enrollment policy:
    :class:`bff_dev.twins.okta.idx_registration.IdxRegistration`)."""

    def identify_forms(self, ix: Interaction) -> list[dict[str, Any]]: ...

    def registering(self, ix: Interaction) -> bool: ...

    def state(self, ix: Interaction, doc: dict[str, Any], fm: dict[str, list[dict[str, Any]]],
              cancel: dict[str, Any]) -> dict[str, Any]: ...

    def answer(self, ix: Interaction, passcode: str) -> tuple[int, dict[str, Any]] | None: ...

    def profile_step(self, ix: Interaction, user: User, doc: dict[str, Any],
                     cancel: dict[str, Any]) -> dict[str, Any] | None: ...

    def skip(self, ix: Interaction) -> bool: ...


class IdxError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _message(text: str, key: str, cls: str = "ERROR", params: list[Any] | None = None) -> dict[str, Any]:
    i18n: dict[str, Any] = {"key": key}
    if params is not None:
        i18n["params"] = params
    return {"message": text, "i18n": i18n, "class": cls}


#: The IDX message shape, for the twin's policy modules.
idx_message = _message


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}***{local[-1:]}@{name[:1]}***{name[-1:]}.{tld}" if name else email


def normalise_phone(number: str) -> str | None:
    """``+1 555-010 0199`` → ``+15550100199`` (E.164), or None when it is not a phone number."""
    compact = re.sub(r"[\s().-]", "", number)
    return compact if _PHONE.fullmatch(compact) else None


def _mask_phone(number: str) -> str:
    """As Okta masks it: ``+1 XXX-XXX-0199`` (the country code and the last four digits)."""
    compact = normalise_phone(number) or number
    country = number.split()[0] if number.startswith("+") and " " in number else compact[:2]
    return f"{country} XXX-XXX-{compact[-4:]}"


@dataclass(frozen=True)
class TwinIdp:
    """An identity provider of the org, offered as ``redirect-idp`` on the identify step."""

    id: str
    name: str
    type: str = "SAML2"


class IdxEndpoints:
    def __init__(self, twin: OktaOrg, *, oidc: OidcEndpoints) -> None:
        self.twin = twin
        self.oidc = oidc
        # -- knobs --
        self.transaction_ttl = 600.0  # Okta's expiresAt: how long a state handle lives
        self.email_code_ttl = 300.0
        self.enrollment_grace = True  # `skip` is offered for the TOTP enrollment
        self.email_callback_uris: dict[str, str] = {}
        self.lockout_attempts = 3  # wrong passwords in a row before the account locks
        self.self_service_unlock = True  # `unlock-account` offered beside `identify`
        self.phone_code_ttl = 300.0
        #: the org's IdPs, offered as ``redirect-idp`` on the identify step (``bff dev``: the partner's)
        self.idps: list[TwinIdp] = []
        self.passkeys = Passkeys()  # the webauthn authenticator: its policy, credentials, challenges
        # -- state --
        self.by_handle: dict[str, Interaction] = {}
        self.by_state: dict[str, Interaction] = {}
        self.by_code: dict[str, Interaction] = {}
        self.factors: dict[str, list[Factor]] = {}  # user id -> enrolled factors
        self.expired_passwords: set[str] = {  # user ids whose password policy says "expired"
            u.id for u in twin.directory.users.values()
            if SEEDED_FACTORS.get(u.login.lower(), DEFAULT_FACTORS).password_expired}
        #: the password policy's complexity, as Okta's `settings.complexity` shows it
        self.password_complexity: dict[str, Any] = {
            "minLength": 8, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 0,
            "excludeUsername": True, "excludeAttributes": [], "maxConsecutiveRepeatingCharacters": 3}
        self.outbox: list[dict[str, str]] = []
        #: also called with every email of :attr:`outbox` (``bff dev``: to the dev mail page)
        self.mailer: Callable[[dict[str, str]], None] | None = None
        #: the profile enrollment policy (registration, progressive profiling), when installed
        self.extension: IdxExtension | None = None
        self.failed_passwords: dict[str, int] = {}  # user id -> wrong passwords in a row
        self.locked: set[str] = set()  # user ids locked out
        #: the org's event hooks (set by the twin): the lockout, password and enrollment LogEvents
        self.hooks: EventHooks | None = None

    def _log_event(self, event_type: str, user: User, display_message: str) -> None:
        """A LogEvent the user raised on their own account (Okta's actor: the user)."""
        if self.hooks is not None:
            actor = {"id": user.id, "type": "User", "alternateId": user.login,
                     "displayName": user.display_name, "detailEntry": None}
            self.hooks.log_event(event_type, user, actor=actor, display_message=display_message)

    def _factor_activated(self, user: User, factor: Factor) -> None:
        self._log_event("user.mfa.factor.activate", user,
                        f"User set up {AUTHENTICATORS[factor.key][1]} factor")

    def routes(self, prefix: str) -> list[BaseRoute]:
        idx = "/idp/idx"
        return [
            Route(f"{prefix}/v1/interact", self.interact, methods=["POST"]),
            Route(f"{idx}/introspect", self.introspect, methods=["POST"]),
            Route(f"{idx}/identify", self._handler(self._identify), methods=["POST"]),
            Route(f"{idx}/challenge", self._handler(self._challenge), methods=["POST"]),
            Route(f"{idx}/challenge/answer", self._handler(self._answer), methods=["POST"]),
            Route(f"{idx}/challenge/resend", self._handler(self._resend), methods=["POST"]),
            Route(f"{idx}/challenge/poll", self._handler(self._poll), methods=["POST"]),
            Route(f"{idx}/credential/enroll", self._handler(self._enroll), methods=["POST"]),
            Route(f"{idx}/skip", self._handler(self._skip), methods=["POST"]),
            Route(f"{idx}/recover", self._handler(self._recover), methods=["POST"]),
            Route(f"{idx}/unlock-account", self._handler(self._unlock), methods=["POST"]),
            Route(f"{idx}/cancel", self._handler(self._cancel), methods=["POST"]),
            Route("/__twin/idx/outbox", self.outbox_json, methods=["GET"]),
        ]

    # -- seeded factors -------------------------------------------------------------------

    def factors_of(self, user: User) -> list[Factor]:
        found = self.factors.get(user.id)
        if found is None:
            seed = SEEDED_FACTORS.get(user.login.lower(), DEFAULT_FACTORS)
            found = [Factor(key, f"{key[:4]}{user.id[3:15]}enr",
                            seed.totp_secret if key == "google_otp" else None,
                            phone=seed.phone if key == "phone_number" else None) for key in seed.keys]
            self.factors[user.id] = found
        return found

    def totp_secret(self, login: str) -> str | None:
        """The user's TOTP secret (for ``bff dev totp`` and tests)."""
        user = self.twin.directory.user(login)
        if user is None:
            return None
        return next((f.secret for f in self.factors_of(user) if f.key == "google_otp"), None)

    def _mfa(self, user: User) -> bool:
        return SEEDED_FACTORS.get(user.login.lower(), DEFAULT_FACTORS).mfa

    # -- OAuth: interact and the interaction_code grant -------------------------------------

    async def interact(self, request: Request) -> Response:
        t = self.twin
        try:
            form = await read_form(request)
            client = t.authenticator.authenticate(form, request.headers, f"{t.issuer}/v1/interact")
            if "interaction_code" not in client.grant_types:
                raise OAuthError("unauthorized_client", "The client is not authorized to use the provided "
                                 "grant type. Configured grant types: "
                                 f"[{', '.join(client.grant_types)}].")
            redirect_uri = form.get("redirect_uri", "")
            if redirect_uri not in client.redirect_uris:
                raise OAuthError("invalid_request", "'redirect_uri' must be a Login redirect URI in the "
                                 "client app settings.")
            scopes = scope_to_list(form.get("scope", "")) or []
            if "openid" not in scopes:
                raise OAuthError("invalid_scope", "The authorization server resource does not have any "
                                 "configured default scopes, 'scope' must be provided.")
            challenge = form.get("code_challenge", "")
            if form.get("code_challenge_method") != "S256" or not challenge:
                raise OAuthError("invalid_request", "PKCE code challenge is required when the token "
                                 "endpoint authentication method is 'NONE'.")
            state = form.get("state", "")
            if not state:
                raise OAuthError("invalid_request", "The 'state' parameter is required.")
        except OAuthError as exc:
            return exc.response()
        now = t.now()
        ix = Interaction(handle=random_id("", 24), state_handle="02" + secrets.token_urlsafe(30),
                         client_id=client.client_id, redirect_uri=redirect_uri, scopes=scopes,
                         code_challenge=challenge, state=state, nonce=form.get("nonce") or None,
                         acr=form.get("acr_values") or None, created=now,
                         expires_at=now + self.transaction_ttl)
        ix.forwarded_for.append(request.headers.get("x-forwarded-for", ""))
        self.by_handle[ix.handle] = ix
        self.by_state[ix.state_handle] = ix
        t.counters["idx:interact"] += 1
        return JSONResponse({"interaction_handle": ix.handle}, headers=NO_STORE)

    def interaction_code_grant(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        """``grant_type=interaction_code`` (called by the token endpoint)."""
        t = self.twin
        code = form.get("interaction_code")
        if not code:
            raise OAuthError("invalid_request", "The 'interaction_code' parameter is required.")
        ix = self.by_code.get(code)
        if ix is None or ix.code_used or ix.client_id != client.client_id or t.now() >= ix.expires_at:
            raise OAuthError("invalid_grant", "The interaction code is invalid or has expired.")
        ix.code_used = True
        verifier = form.get("code_verifier", "")
        if not verifier or create_s256_code_challenge(verifier) != ix.code_challenge:
            raise OAuthError("invalid_grant", "PKCE verification failed.")
        user = t.directory.users.get(ix.user_id or "")
        if user is None or user.status != "ACTIVE":
            raise OAuthError("invalid_grant", "The interaction code is invalid or has expired.")
        amr = [AMR.get(ix.method or "sms", "sms") if k == "phone_number" else AMR.get(k, "email")
               for k in ix.verified]
        if len(ix.verified) > 1:
            amr.append("mfa")
        grant = Grant(id=random_id("grant", 12), client_id=client.client_id, user_id=user.id,
                      scopes=list(ix.scopes), auth_time=int(t.now()), sid=None, amr=amr, idp=t.org_id,
                      refresh_expires_at=t.now() + t.refresh_token_ttl)
        t.tokens.grants[grant.id] = grant
        t.counters["signin"] += 1
        return self.oidc._token_response(client, user, grant, list(ix.scopes), nonce=ix.nonce, first=True)

    # -- IDX plumbing ------------------------------------------------------------------------

    def _ion(self, body: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(body), status_code=status, media_type=ION, headers=NO_STORE)

    def _expired(self, state_handle: str = "") -> IdxError:
        return IdxError(401, {"version": "1.0.0", "stateHandle": state_handle, "intent": "LOGIN",
                              "expiresAt": _iso(self.twin.now()),
                              "messages": {"type": "array", "value": [_message(
                                  "You have been logged out due to inactivity. Refresh or return to the "
                                  "sign in screen.", "idx.session.expired")]}})

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise IdxError(400, {"version": "1.0.0", "messages": {"type": "array", "value": [
                _message("The request body was not well-formed.", "E0000003")]}})
        return body

    def _live(self, body: dict[str, Any]) -> Interaction:
        handle = body.get("stateHandle")
        ix = self.by_state.get(handle) if isinstance(handle, str) else None
        if ix is None or self.twin.now() >= ix.expires_at or ix.interaction_code is not None:
            raise self._expired(handle if isinstance(handle, str) else "")
        return ix

    def _handler(self, action: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            self.twin.counters[f"idx:{request.url.path.removeprefix('/idp/idx/')}"] += 1
            try:
                body = await self._body(request)
                ix = self._live(body)
                ix.forwarded_for.append(request.headers.get("x-forwarded-for", ""))
                status, doc = action(ix, body)
            except IdxError as exc:
                return self._ion(exc.body, exc.status)
            return self._ion(doc, status)
        return endpoint

    async def introspect(self, request: Request) -> Response:
        self.twin.counters["idx:introspect"] += 1
        try:
            body = await self._body(request)
            handle = body.get("interactionHandle")
            if isinstance(handle, str):
                ix = self.by_handle.get(handle)
                if ix is None or self.twin.now() >= ix.expires_at:
                    raise self._expired()
            else:
                ix = self._live(body)
            return self._ion(self.state(ix))
        except IdxError as exc:
            return self._ion(exc.body, exc.status)

    async def outbox_json(self, request: Request) -> Response:
        return JSONResponse(self.outbox, headers=NO_STORE)

    # -- remediations --------------------------------------------------------------------------

    def _identify(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        identifier = body.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            return 400, self.state(ix, field_messages={"identifier": [_message(
                "This field cannot be left blank", "model.validation.field.blank")]})
        user = self.twin.directory.user(identifier.strip())
        ix.identifier = identifier.strip()
        ix.unknown_user = user is None
        ix.user_id = user.id if user is not None else None
        ix.verified.clear()
        ix.current = None
        return 200, self.state(ix)

    def _challenge(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        auth = body.get("authenticator")
        wanted = auth.get("id") if isinstance(auth, dict) else None
        if ix.unlocking and ix.current is None:
            identifier = body.get("identifier")
            if not isinstance(identifier, str) or wanted != AUTHENTICATORS["okta_email"][0]:
                return 400, self.state(ix, messages=[_message("Invalid request.", "errors.E0000001")])
            user = self.twin.directory.user(identifier.strip())
            ix.identifier, ix.user_id = identifier.strip(), user.id if user is not None else None
            ix.unknown_user, ix.current = user is None, "okta_email"
            self._send_email(ix)  # unknown identifiers get the same answer and no email
            return 200, self.state(ix)
        for factor in self._pending(ix):
            if AUTHENTICATORS[factor.key][0] != wanted:
                continue
            method = auth.get("methodType") if isinstance(auth, dict) else None
            if factor.key in METHODS:
                method = method if method is not None else METHODS[factor.key][0]
                if method not in METHODS[factor.key]:
                    break
            enrollment = auth.get("enrollmentId") if isinstance(auth, dict) else None
            if factor.key == "phone_number" and enrollment != factor.id:
                break
            ix.current = factor.key
            if factor.key == "okta_email":
                self._send_email(ix)
            if factor.key == "phone_number":
                ix.method = method
                self._send_phone(ix, factor.phone or "", str(method))
            return 200, self.state(ix)
        return 400, self.state(ix, messages=[_message("Invalid authenticator.", "errors.E0000001")])

    def _answer(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        creds = body.get("credentials")
        passcode = creds.get("passcode") if isinstance(creds, dict) else None
        if not isinstance(passcode, str):
            passcode = ""
        t = self.twin
        registered = self.extension.answer(ix, passcode) if self.extension is not None else None
        if registered is not None:
            return registered
        if ix.enrolling is not None and ix.enrolling.key == "webauthn":
            return self._passkey_register(ix, creds)
        if ix.enrolling is not None:
            if ix.enrolling.key == "phone_number":
                ok = self._phone_code_ok(ix, passcode)
            else:
                ok = pyotp.TOTP(ix.enrolling.secret or "").verify(passcode, valid_window=1, for_time=t.now())
            if not ok:
                return 401, self.state(ix, field_messages={"credentials.passcode": [_message(
                    "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
            ix.phone_code = None
            enrolled_user = t.directory.users[ix.user_id or ""]
            self.factors_of(enrolled_user).append(ix.enrolling)
            self._factor_activated(enrolled_user, ix.enrolling)
            ix.verified.append(ix.enrolling.key)
            ix.enrolling, ix.current = None, None
            return 200, self.state(ix)
        key = ix.current or self._default_challenge(ix)
        user = t.directory.users.get(ix.user_id or "")
        if ix.unlocking:
            return self._unlock_answer(ix, user, passcode)
        if ix.recovering:
            return self._recovery_answer(ix, user, passcode)
        if user is not None and self._must_renew(ix, user):
            return self._renew(ix, user, passcode)
        if key == "okta_password":
            ok = check_password(user.password_hash if user is not None else None, passcode)
            if user is not None and user.id in self.locked:
                return 401, self.state(ix, messages=[_message(
                    "This factor is suspended for your account due to too many failed attempts",
                    "authfactor.challenge.suspended_factor")])
            if user is not None and not ok:
                count = self.failed_passwords.get(user.id, 0) + 1
                self.failed_passwords[user.id] = count
                if count >= self.lockout_attempts and user.id not in self.locked:
                    self.locked.add(user.id)
                    t.counters["idx:locked_out"] += 1
                    self._log_event("user.account.lock", user, "Max sign in attempts exceeded")
            elif user is not None:
                self.failed_passwords.pop(user.id, None)
            if ok and user is not None and user.status != "ACTIVE":  # suspended, deactivated
                t.counters["signin:failed"] += 1
                return 401, self._terminal(ix, _message("Authentication failed", "errors.E0000004"))
            if not ok or user is None:
                t.counters["signin:failed"] += 1
                return 401, self.state(ix, messages=[_message("Password is incorrect", "incorrectPassword")])
        elif key == "okta_email":
            fresh = t.now() - ix.email_sent_at <= self.email_code_ttl
            if not (fresh and ix.email_code and secrets.compare_digest(passcode, ix.email_code)):
                return 401, self.state(ix, field_messages={"credentials.passcode": [_message(
                    "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
            ix.email_code = None
        elif key == "google_otp":
            secret = next((f.secret for f in self.factors_of(user) if f.key == "google_otp"), None) \
                if user is not None else None
            if not secret or not pyotp.TOTP(secret).verify(passcode, valid_window=1, for_time=t.now()):
                return 401, self.state(ix, field_messages={"credentials.passcode": [_message(
                    "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
        elif key == "phone_number":
            if not self._phone_code_ok(ix, passcode):
                return 401, self.state(ix, field_messages={"credentials.passcode": [_message(
                    "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
            ix.phone_code = None
        elif key == "webauthn" and user is not None:
            try:
                self.passkeys.authenticate(user, ix.redirect_uri, ix.state_handle, creds)
            except WebAuthnRefused as exc:
                t.counters["signin:failed"] += 1
                return 400, self.state(ix, messages=[exc.message])
        else:  # nothing to answer: a choice to make first (select), or Okta Verify (poll)
            return 400, self.state(ix, messages=[_message("Invalid request.", "errors.E0000001")])
        ix.verified.append(key)
        ix.current = None
        return 200, self.state(ix)

    def _must_renew(self, ix: Interaction, user: User) -> bool:
        return "okta_password" in ix.verified and user.id in self.expired_passwords

    def _complexity_ok(self, user: User, password: str) -> bool:
        c = self.password_complexity
        local = user.login.partition("@")[0].lower()
        repeats = max((len(m.group(0)) for m in re.finditer(r"(.)\1*", password)), default=0)
        return (len(password) >= c["minLength"]
                and sum(ch.islower() for ch in password) >= c["minLowerCase"]
                and sum(ch.isupper() for ch in password) >= c["minUpperCase"]
                and sum(ch.isdigit() for ch in password) >= c["minNumber"]
                and not (c["excludeUsername"] and local and local in password.lower())
                and repeats <= c["maxConsecutiveRepeatingCharacters"])

    def _renew(self, ix: Interaction, user: User, password: str) -> tuple[int, dict[str, Any]]:
        t = self.twin
        if not self._complexity_ok(user, password) or check_password(user.password_hash, password):
            return 400, self.state(ix, field_messages={"credentials.passcode": [_message(
                "Password requirements were not met.", "password.passwordRequirementsNotMet",
                params=[])]})
        t.directory.set_password(user, password, t.now())
        self.expired_passwords.discard(user.id)
        t.counters["idx:password_renewed"] += 1
        self._log_event("user.account.update_password", user, "User update password for Okta")
        return 200, self.state(ix)

    def _unlock(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self.self_service_unlock:
            return 400, self.state(ix, messages=[_message("Invalid request.", "errors.E0000001")])
        ix.unlocking, ix.current, ix.user_id, ix.unknown_user = True, None, None, False
        ix.verified.clear()
        return 200, self.state(ix)

    def _unlock_answer(self, ix: Interaction, user: User | None,
                       passcode: str) -> tuple[int, dict[str, Any]]:
        fresh = self.twin.now() - ix.email_sent_at <= self.email_code_ttl
        matches = bool(fresh and ix.email_code and secrets.compare_digest(passcode, ix.email_code))
        if user is None or not matches:
            return 401, self.state(ix, field_messages={"credentials.passcode": [_message(
                "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
        self.locked.discard(user.id)
        self.failed_passwords.pop(user.id, None)
        self.twin.counters["idx:unlocked"] += 1
        doc = self._terminal(ix, _message("You can log in using your existing username and password",
                                          "oie.selfservice.unlock_user.success.message", "INFO", params=[]))
        doc["user"] = {"type": "object", "value": {"id": user.id, "identifier": ix.identifier}}
        doc["cancel"] = self._form(ix, "cancel", "cancel", [])
        return 200, doc

    def _recover(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if ix.user_id is None and not ix.unknown_user:
            return 400, self.state(ix, messages=[_message("Invalid request.", "errors.E0000001")])
        ix.recovering, ix.current = True, "okta_email"
        ix.verified.clear()
        self._send_email(ix)  # nobody to send to for an unknown identifier: the code never matches
        return 200, self.state(ix)

    def _recovery_answer(self, ix: Interaction, user: User | None,
                         passcode: str) -> tuple[int, dict[str, Any]]:
        t = self.twin
        if "okta_email" not in ix.verified:
            fresh = t.now() - ix.email_sent_at <= self.email_code_ttl
            matches = bool(fresh and ix.email_code and secrets.compare_digest(passcode, ix.email_code))
            if user is None or not matches:
                return 401, self.state(ix, field_messages={"credentials.passcode": [_message(
                    "Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID", params=[])]})
            ix.email_code = None
            ix.verified.append("okta_email")
            return 200, self.state(ix)
        assert user is not None
        if not self._complexity_ok(user, passcode) or check_password(user.password_hash, passcode):
            return 400, self.state(ix, field_messages={"credentials.passcode": [_message(
                "Password requirements were not met.", "password.passwordRequirementsNotMet", params=[])]})
        t.directory.set_password(user, passcode, t.now())
        self.expired_passwords.discard(user.id)
        t.counters["idx:password_reset"] += 1
        self._log_event("user.account.update_password", user, "User update password for Okta")
        # The new password counts as the password factor; the policy's other factors still apply.
        ix.recovering, ix.current, ix.verified = False, None, ["okta_password"]
        return 200, self.state(ix)

    def _resend(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if ix.enrolling is not None and ix.enrolling.key == "phone_number":
            self._send_phone(ix, ix.enrolling.phone or "", ix.method or "sms")
        elif ix.recovering or (ix.current or self._default_challenge(ix)) == "okta_email":
            self._send_email(ix)
        elif (ix.current or self._default_challenge(ix)) == "phone_number":
            phone = next((f.phone for f in self._pending(ix) if f.key == "phone_number"), None)
            self._send_phone(ix, phone or "", ix.method or "sms")
        return 200, self.state(ix)

    def _poll(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, self.state(ix)

    def _enroll(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        auth = body.get("authenticator")
        if isinstance(auth, dict) and auth.get("id") == WEBAUTHN[0] and ix.user_id and self.passkeys.enabled:
            ix.enrolling = Factor("webauthn", f"fwf{ix.user_id[3:15]}enr")
            return 200, self.state(ix)
        wanted = auth.get("id") if isinstance(auth, dict) else None
        if not isinstance(auth, dict) or ix.user_id is None or wanted not in (
                AUTHENTICATORS["google_otp"][0], AUTHENTICATORS["phone_number"][0]):
            return 400, self.state(ix, messages=[_message("Invalid authenticator.", "errors.E0000001")])
        if wanted == AUTHENTICATORS["google_otp"][0]:
            ix.enrolling = Factor("google_otp", f"uft{ix.user_id[3:15]}enr", pyotp.random_base32())
            return 200, self.state(ix)
        method = auth.get("methodType", "sms")
        number = auth.get("phoneNumber")
        if not isinstance(number, str) or not number.strip():
            return 400, self.state(ix, messages=[_message("This field cannot be left blank",
                                                          "model.validation.field.blank")])
        if method not in METHODS["phone_number"] or normalise_phone(number) is None:
            return 400, self.state(ix, messages=[_message("Invalid Phone Number.", "errors.E0000001")])
        ix.enrolling = Factor("phone_number", f"pae{ix.user_id[3:15]}enr", phone=number.strip())
        ix.method = str(method)
        self._send_phone(ix, number.strip(), ix.method)
        return 200, self.state(ix)

    def _skip(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self._passkey_offered(ix):  # the passkey is offered, never demanded (shown before the profile)
            self.passkeys.skip(ix.state_handle)
            return 200, self.state(ix)
        if self.extension is not None and self.extension.skip(ix):
            return 200, self.state(ix)
        if not self.enrollment_grace or self._guarded(ix):
            return 400, self.state(ix, messages=[_message("Skip is not allowed.", "errors.E0000001")])
        ix.skipped_enrollment = True
        return 200, self.state(ix)

    def _cancel(self, ix: Interaction, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.by_state.pop(ix.state_handle, None)
        self.by_handle.pop(ix.handle, None)
        self.twin.counters["idx:cancelled"] += 1
        # Okta answers a new transaction's first state; this one is gone.
        fresh = Interaction(**{**ix.__dict__, "state_handle": "02" + secrets.token_urlsafe(30),
                               "user_id": None, "identifier": None, "verified": [], "current": None,
                               "method": None, "phone_code": None, "enrolling": None})
        self.by_state[fresh.state_handle] = fresh
        return 200, self.state(fresh)

    # -- the policy -----------------------------------------------------------------------------

    def _guarded(self, ix: Interaction) -> bool:
        """A step-up: a guarded scope or ``acr_values`` asking for two factors."""
        return any(s in self.twin.scope_policies for s in ix.scopes) or ix.acr == MFA_ACR

    def _needed(self, ix: Interaction, user: User) -> int:
        return 2 if self._mfa(user) or self._guarded(ix) else 1

    def _pending(self, ix: Interaction) -> list[Factor]:
        user = self.twin.directory.users.get(ix.user_id or "")
        if user is None:
            return [Factor("okta_password", "lae0000000000000unknown")] if ix.unknown_user else []
        return [f for f in self.factors_of(user) if f.key not in ix.verified]

    def _default_challenge(self, ix: Interaction) -> str | None:
        """The policy's first authenticator still to prove (the seeded order: the password
        first where there is one); None when a first factor is proven and several others are
        left: the user chooses (``select-authenticator-authenticate`` alone)."""
        pending = self._pending(ix)
        if not pending or (len(pending) > 1 and ix.verified):
            return None
        keys = [f.key for f in pending]
        if "webauthn" in keys and self.passkeys.passwordless:  # a passkey alone, where the policy allows
            return "webauthn"
        return pending[0].key

    def _phone_code_ok(self, ix: Interaction, passcode: str) -> bool:
        fresh = self.twin.now() - ix.phone_sent_at <= self.phone_code_ttl
        return bool(fresh and ix.phone_code and secrets.compare_digest(passcode, ix.phone_code))

    def _send_phone(self, ix: Interaction, number: str, method: str) -> None:
        """"Send" a 6-digit code by SMS or voice call: into the outbox (``/__twin/idx/outbox``,
        the dev mail page)."""
        if not number:
            return
        ix.phone_code = f"{secrets.randbelow(10**6):06d}"
        ix.phone_sent_at = self.twin.now()
        text = (f"Your verification code is {ix.phone_code}" if method == "sms"
                else f"(voice call) Your code is {' '.join(ix.phone_code)}")
        self.outbox.append({"to": normalise_phone(number) or number, "channel": method,
                            "subject": "SMS" if method == "sms" else "Voice call", "code": ix.phone_code,
                            "link": "", "text": text, "sentAt": _iso(ix.phone_sent_at)})
        self.twin.counters[f"idx:{method}_sent"] += 1

    def _send_email(self, ix: Interaction) -> None:
        user = self.twin.directory.users.get(ix.user_id or "")
        if user is None:
            return
        ix.email_code = f"{secrets.randbelow(10**6):06d}"
        ix.email_sent_at = self.twin.now()
        callback = self.email_callback_uris.get(ix.client_id)
        if callback is None:
            parts = urlsplit(ix.redirect_uri)
            callback = f"{parts.scheme}://{parts.netloc}/bff/signin/email-callback"
        link = f"{callback}?{urlencode({'state': ix.state, 'otp': ix.email_code})}"
        registering = self.extension is not None and self.extension.registering(ix)
        self.mail({"to": str(user.profile.get("email", user.login)), "channel": "email",
                   "subject": "Verify your email" if registering else "Sign in",
                   "code": ix.email_code, "link": link,
                   "text": f"Your code is {ix.email_code}, or follow {link}",
                   "sentAt": _iso(ix.email_sent_at)})
        self.twin.counters["idx:email_sent"] += 1

    def mail(self, message: dict[str, str]) -> None:
        """Record an email the org "sent" (:attr:`outbox`) and hand it to :attr:`mailer`. Every
        outbox entry has ``to``, ``channel`` (``email`` here; ``sms`` / ``voice`` for phones),
        ``subject``, ``code``, ``link``, ``text`` and ``sentAt``."""
        message = {"channel": "email", "sentAt": _iso(self.twin.now()),
                   "text": " ".join(v for v in (message.get("code"), message.get("link")) if v), **message}
        self.outbox.append(message)
        if self.mailer is not None:
            self.mailer(message)

    def twin_page(self, status: int, text: str) -> Response:
        """A minimal page of the org (an email link's landing page)."""
        return HTMLResponse(f"<!doctype html><title>Okta</title><p>{escape(text)}</p>", status_code=status,
                            headers=NO_STORE)

    # -- states ---------------------------------------------------------------------------------

    def _href(self, path: str) -> str:
        return f"{self.twin.base_url}/idp/idx/{path}"

    def _sh(self, ix: Interaction) -> dict[str, Any]:
        return {"name": "stateHandle", "required": True, "value": ix.state_handle, "visible": False,
                "mutable": False}

    def _form(self, ix: Interaction, name: str, path: str, fields: list[dict[str, Any]],
              relates_to: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        form: dict[str, Any] = {"rel": ["create-form"], "name": name, "href": self._href(path),
                                "method": "POST", "produces": ION, "value": [*fields, self._sh(ix)],
                                "accepts": "application/json; okta-version=1.0.0"}
        if relates_to is not None:
            form["relatesTo"] = relates_to
        form.update(extra)
        return form

    def _base(self, ix: Interaction) -> dict[str, Any]:
        return {"version": "1.0.0", "stateHandle": ix.state_handle, "expiresAt": _iso(ix.expires_at),
                "intent": "LOGIN"}

    def _app(self, ix: Interaction) -> dict[str, Any]:
        client = self.twin.clients.get(ix.client_id)
        return {"type": "object", "value": {"name": "oidc_client", "label": (client.name if client else "")
                                             or "BFF", "id": ix.client_id}}

    def _terminal(self, ix: Interaction, *messages: dict[str, Any]) -> dict[str, Any]:
        self.by_state.pop(ix.state_handle, None)
        return {**self._base(ix), "messages": {"type": "array", "value": list(messages)}}

    def _authenticator(self, key: str, *, enrollment_id: str | None = None,
                       user: User | None = None, factor: Factor | None = None) -> dict[str, Any]:
        aut_id, name, kind, method = AUTHENTICATORS[key]
        out: dict[str, Any] = {"type": kind, "key": key, "id": enrollment_id or aut_id, "displayName": name,
                               "methods": [{"type": m} for m in METHODS.get(key, (method,))]}
        if enrollment_id is not None:
            out["authenticatorId"] = aut_id
        if key == "okta_email" and user is not None and enrollment_id is not None:
            out["profile"] = {"email": _mask_email(str(user.profile.get("email", user.login)))}
        if key == "phone_number" and factor is not None and factor.phone:
            out["profile"] = {"phoneNumber": _mask_phone(factor.phone)}
        if key == "webauthn" and user is not None and enrollment_id is not None:
            out.update(self.passkeys.enrollment(user))  # credentialId, as Okta lists it
        return out

    def state(self, ix: Interaction, *, messages: list[dict[str, Any]] | None = None,
              field_messages: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
        """The IDX state of ``ix`` as Okta would answer it now."""
        doc = self._base(ix)
        cancel = self._form(ix, "cancel", "cancel", [])
        doc["app"] = self._app(ix)
        if messages:
            doc["messages"] = {"type": "array", "value": messages}
        fm = field_messages or {}
        t = self.twin
        user = t.directory.users.get(ix.user_id or "")

        if ix.unlocking and ix.current is None:  # which account, and how to prove it is yours
            doc["remediation"] = {"type": "array", "value": [self._form(
                ix, "select-authenticator-unlock-account", "challenge", [
                    {"name": "identifier", "label": "Username", "required": True},
                    {"name": "authenticator", "type": "object", "options": [{
                        "label": "Email", "value": {"form": {"value": [
                            {"name": "id", "required": True, "value": AUTHENTICATORS["okta_email"][0],
                             "mutable": False},
                            {"name": "methodType", "required": False, "value": "email", "mutable": False}]}},
                        "relatesTo": "$.authenticatorEnrollments.value[0]"}]}])]}
            doc["authenticators"] = {"type": "array", "value": [self._authenticator("okta_email")]}
            doc["authenticatorEnrollments"] = {"type": "array", "value": [
                {"type": "email", "key": "okta_email", "methods": [{"type": "email"}]}]}
            doc["cancel"] = cancel
            return doc
        if ix.unlocking:  # the email code, as for a recovery
            return self._recovery_state(ix, doc, user, fm, cancel)
        if self.extension is not None and self.extension.registering(ix):
            return self.extension.state(ix, doc, fm, cancel)
        if ix.user_id is None and not ix.unknown_user:
            identifier: dict[str, Any] = {"name": "identifier", "label": "Username", "required": True}
            if "identifier" in fm:
                identifier["messages"] = {"type": "array", "value": fm["identifier"]}
            forms = [self._form(ix, "identify", "identify", [
                identifier, {"name": "rememberMe", "label": "Remember this device", "type": "boolean"}])]
            token = urlencode({"stateToken": ix.state_handle})
            forms.extend({"name": "redirect-idp", "type": idp.type, "idp": {"id": idp.id, "name": idp.name},
                          "href": f"{t.base_url}/sso/idps/{idp.id}?{token}", "method": "GET"}
                         for idp in self.idps)
            if self.self_service_unlock:
                forms.append(self._form(ix, "unlock-account", "unlock-account", []))
            if self.extension is not None:
                forms.extend(self.extension.identify_forms(ix))
            doc["remediation"] = {"type": "array", "value": forms}
            doc["cancel"] = cancel
            return doc

        doc["user"] = {"type": "object", "value": {"id": ix.user_id or "00u" + "0" * 17,
                                                   "identifier": ix.identifier}}
        if ix.recovering:
            return self._recovery_state(ix, doc, user, fm, cancel)
        if user is not None and self._must_renew(ix, user):  # the expired-password policy
            passcode_new: dict[str, Any] = {"name": "passcode", "label": "New password", "secret": True}
            if "credentials.passcode" in fm:
                passcode_new["messages"] = {"type": "array", "value": fm["credentials.passcode"]}
            current = self._authenticator("okta_password")
            current["settings"] = self._password_settings()
            doc["remediation"] = {"type": "array", "value": [self._form(
                ix, "reenroll-authenticator", "challenge/answer",
                [{"name": "credentials", "type": "object", "form": {"value": [passcode_new]},
                  "required": True}], ["$.currentAuthenticator"])]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["authenticators"] = {"type": "array", "value": []}
            doc["authenticatorEnrollments"] = {"type": "array", "value": [
                self._authenticator("okta_password")]}
            doc["cancel"] = cancel
            return doc
        pending = self._pending(ix)
        needed = self._needed(ix, user) if user is not None else 1
        if self._passkey_offered(ix):  # the sign-on policy is met and the policy offers a passkey
            return self.passkeys.offer_state(doc, partial(self._form, ix), cancel)
        if user is not None and ix.enrolling is not None and ix.enrolling.key == "webauthn":
            return self.passkeys.enroll_state(doc, user, ix.redirect_uri, ix.state_handle,
                                              partial(self._form, ix), cancel)
        if user is not None and (len(ix.verified) >= needed or (
                ix.skipped_enrollment and ix.verified and not self._guarded(ix))):
            asked = self.extension.profile_step(ix, user, doc, cancel) if self.extension else None
            return asked if asked is not None else self._success(ix, user)

        passcode: dict[str, Any] = {"name": "passcode", "label": "Enter code"}
        if "credentials.passcode" in fm:
            passcode["messages"] = {"type": "array", "value": fm["credentials.passcode"]}
        credentials = {"name": "credentials", "type": "object", "form": {"value": [passcode]},
                       "required": True}
        doc["authenticators"] = {"type": "array", "value": [self._authenticator(k) for k in ENROLLABLE]}

        if ix.enrolling is not None:
            passcode["required"], passcode["visible"] = True, True
            current = self._authenticator(ix.enrolling.key)
            if ix.enrolling.key == "phone_number":  # the code went to the new number
                del passcode["required"], passcode["visible"]
                current["methods"] = [{"type": ix.method or "sms"}]
                current["resend"] = self._form(ix, "resend", "challenge/resend", [])
            else:
                current["contextualData"] = {"sharedSecret": ix.enrolling.secret}
            doc["remediation"] = {"type": "array", "value": [
                self._form(ix, "enroll-authenticator", "challenge/answer", [credentials],
                           ["$.currentAuthenticator"]),
                self._select_enroll(ix)]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["cancel"] = cancel
            return doc

        if not pending:  # a second factor is required and none is enrolled: enrol TOTP or a phone
            forms = [self._select_enroll(ix)]
            if self.enrollment_grace and not self._guarded(ix):  # never for a step-up
                forms.append(self._form(ix, "skip", "skip", []))
            doc["remediation"] = {"type": "array", "value": forms}
            doc["cancel"] = cancel
            return doc

        del doc["authenticators"]
        enrollments = [self._authenticator(f.key, enrollment_id=f.id, user=user, factor=f) for f in pending]
        select = self._form(ix, "select-authenticator-authenticate", "challenge",
                            [{"name": "authenticator", "type": "object",
                              "options": [self._select_option(f, i) for i, f in enumerate(pending)]}])
        doc["authenticatorEnrollments"] = {"type": "array", "value": enrollments}
        doc["cancel"] = cancel
        key = ix.current if ix.current in [f.key for f in pending] else self._default_challenge(ix)
        if key is None:  # several second factors: the user chooses (Okta's select step)
            doc["remediation"] = {"type": "array", "value": [select]}
            return doc
        factor = next(f for f in pending if f.key == key)
        if key == "okta_password":
            passcode["label"], passcode["secret"] = "Password", True
        if key == "webauthn":
            return self.passkeys.challenge_state(doc, ix.redirect_uri, ix.state_handle,
                                                 partial(self._form, ix), select, enrollments, cancel)
        if key == "google_otp":
            passcode["required"], passcode["visible"] = True, True
            current = self._authenticator("google_otp")
            doc["remediation"] = {"type": "array", "value": [
                self._form(ix, "challenge-authenticator", "challenge/answer", [credentials],
                           ["$.currentAuthenticator"]), select]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["authenticators"] = {"type": "array", "value": [self._authenticator("google_otp")]}
            return doc
        if key == "okta_verify":  # a push was "sent": Okta polls for the approval (never comes here)
            current = self._authenticator("okta_verify")
            current["methods"] = [{"type": "push"}]
            doc["remediation"] = {"type": "array", "value": [
                self._form(ix, "challenge-poll", "challenge/poll", [], ["$.currentAuthenticator"],
                           refresh=4000), select]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["authenticators"] = {"type": "array", "value": [self._authenticator("okta_verify")]}
            return doc
        current = self._authenticator(key, enrollment_id=factor.id, user=user, factor=factor)
        if key == "okta_password":
            del current["methods"]  # as Okta's own password challenge (the fixture) has none
            current["recover"] = self._form(ix, "recover", "recover", [])
        if key == "okta_email":
            if ix.email_code is None:
                self._send_email(ix)
            current["resend"] = self._form(ix, "resend", "challenge/resend", [])
            current["poll"] = self._form(ix, "poll", "challenge/poll", [], refresh=4000)
        if key == "phone_number":
            if ix.phone_code is None:
                self._send_phone(ix, factor.phone or "", ix.method or "sms")
            current["methods"] = [{"type": ix.method or "sms"}]
            current["resend"] = self._form(ix, "resend", "challenge/resend", [])
        doc["remediation"] = {"type": "array", "value": [
            self._form(ix, "challenge-authenticator", "challenge/answer", [credentials],
                       ["$.currentAuthenticatorEnrollment"]), select]}
        doc["currentAuthenticatorEnrollment"] = {"type": "object", "value": current}
        return doc

    def _select_option(self, factor: Factor, index: int) -> dict[str, Any]:
        """One enrolled authenticator in ``select-authenticator-authenticate``, shaped as in
        authenticator-verification-select-authenticator.json (a phone: the method is chosen,
        the enrollment fixed; Okta Verify: the method is chosen)."""
        aut_id, label, _, method = AUTHENTICATORS[factor.key]
        fields: list[dict[str, Any]] = [{"name": "id", "required": True, "value": aut_id, "mutable": False}]
        if factor.key in METHODS:
            fields.append({"name": "methodType", "type": "string", "required": False, "options": [
                {"label": m.upper() if factor.key == "phone_number" else m, "value": m}
                for m in METHODS[factor.key]]})
        else:
            fields.append({"name": "methodType", "required": False, "value": method, "mutable": False})
        if factor.key == "phone_number":
            fields.append({"name": "enrollmentId", "required": True, "value": factor.id, "mutable": False})
        return {"label": label, "value": {"form": {"value": fields}},
                "relatesTo": f"$.authenticatorEnrollments.value[{index}]"}

    def _password_settings(self) -> dict[str, Any]:
        return {"complexity": dict(self.password_complexity), "age": {"minAgeMinutes": 0, "historyCount": 0}}

    def _recovery_state(self, ix: Interaction, doc: dict[str, Any], user: User | None,
                        fm: dict[str, list[dict[str, Any]]], cancel: dict[str, Any]) -> dict[str, Any]:
        passcode: dict[str, Any] = {"name": "passcode", "label": "Enter code"}
        if "okta_email" in ix.verified:  # the code was right: choose the new password
            passcode = {"name": "passcode", "label": "New password", "secret": True}
        if "credentials.passcode" in fm:
            passcode["messages"] = {"type": "array", "value": fm["credentials.passcode"]}
        if "okta_email" in ix.verified:
            current = self._authenticator("okta_password")
            current["settings"] = self._password_settings()
            doc["remediation"] = {"type": "array", "value": [self._form(
                ix, "reset-authenticator", "challenge/answer",
                [{"name": "credentials", "type": "object", "required": True, "form": {"value": [
                    passcode, {"name": "revokeSessions", "type": "boolean",
                               "label": "Sign me out of all other devices"}]}}], ["$.currentAuthenticator"])]}
            doc["currentAuthenticator"] = {"type": "object", "value": current}
            doc["authenticators"] = {"type": "array", "value": [self._authenticator("okta_password")]}
        else:
            enrollment = f"eml{(ix.user_id or '00u0000000000000')[3:15]}enr"
            email = _mask_email(str(user.profile.get("email", user.login))) if user is not None \
                else _mask_email(ix.identifier or "")
            current = {**self._authenticator("okta_email", enrollment_id=enrollment),
                       "profile": {"email": email}}
            current["resend"] = self._form(ix, "resend", "challenge/resend", [])
            current["poll"] = self._form(ix, "poll", "challenge/poll", [], refresh=4000)
            doc["remediation"] = {"type": "array", "value": [self._form(
                ix, "challenge-authenticator", "challenge/answer",
                [{"name": "credentials", "type": "object", "form": {"value": [passcode]}, "required": True}],
                ["$.currentAuthenticatorEnrollment"])]}
            doc["currentAuthenticatorEnrollment"] = {"type": "object", "value": current}
            doc["authenticatorEnrollments"] = {"type": "array", "value": [
                {k: v for k, v in current.items() if k not in ("resend", "poll")}]}
        doc["intent"] = "LOGIN"
        doc["cancel"] = cancel
        return doc

    def _select_enroll(self, ix: Interaction) -> dict[str, Any]:
        """TOTP or a phone (shaped as in authenticator-enroll-select-authenticator.json: the
        phone's method and number are the user's to give)."""
        options: list[dict[str, Any]] = []
        for i, key in enumerate(ENROLLABLE):
            fields: list[dict[str, Any]] = [{"name": "id", "required": True, "value": AUTHENTICATORS[key][0],
                                             "mutable": False}]
            if key == "phone_number":
                fields += [{"name": "methodType", "type": "string", "required": False, "options": [
                               {"label": m.upper(), "value": m} for m in METHODS[key]]},
                           {"name": "phoneNumber", "label": "Phone number", "type": "string",
                            "required": False}]
            options.append({"label": AUTHENTICATORS[key][1], "value": {"form": {"value": fields}},
                            "relatesTo": f"$.authenticators.value[{i}]"})
        return self._form(ix, "select-authenticator-enroll", "credential/enroll", [
            {"name": "authenticator", "type": "object", "options": options}])

    def _success(self, ix: Interaction, user: User) -> dict[str, Any]:
        t = self.twin
        for scope in ix.scopes:
            group = t.scope_policies.get(scope)
            if group is not None and not t.directory.in_group(user.id, group):
                t.counters["authorize:access_denied"] += 1
                raise IdxError(403, self._terminal(ix, _message(
                    "You do not have permission to perform the requested action.", "security.access_denied")))
        code = secrets.token_urlsafe(32)
        ix.interaction_code = code
        self.by_code[code] = ix
        doc = self._base(ix)
        doc["user"] = {"type": "object", "value": {"id": user.id, "identifier": ix.identifier}}
        doc["app"] = self._app(ix)
        doc["cancel"] = self._form(ix, "cancel", "cancel", [])
        doc["successWithInteractionCode"] = {
            "rel": ["create-form"], "name": "issue", "href": f"{t.issuer}/v1/token", "method": "POST",
            "value": [{"name": "grant_type", "required": True, "value": "interaction_code"},
                      {"name": "interaction_code", "required": True, "value": code},
                      {"name": "client_id", "required": True, "value": ix.client_id},
                      {"name": "code_verifier", "required": True}],
            "accepts": "application/x-www-form-urlencoded"}
        return doc

    # -- passkeys (the webauthn authenticator: bff_dev.twins.okta.webauthn) ----------------------

    def _passkey_offered(self, ix: Interaction) -> bool:
        user = self.twin.directory.users.get(ix.user_id or "")
        return (user is not None and ix.enrolling is None and not ix.recovering and not ix.unlocking
                and len(ix.verified) >= self._needed(ix, user)
                and self.passkeys.offers_enrollment(user, ix.state_handle))

    def _passkey_register(self, ix: Interaction, creds: object) -> tuple[int, dict[str, Any]]:
        user = self.twin.directory.users[ix.user_id or ""]
        assert ix.enrolling is not None
        try:
            self.passkeys.register(user, ix.enrolling.id, ix.redirect_uri, ix.state_handle, creds)
        except WebAuthnRefused as exc:
            return 400, self.state(ix, messages=[exc.message])
        self.factors_of(user).append(ix.enrolling)
        self._factor_activated(user, ix.enrolling)
        self.twin.counters["idx:passkey_enrolled"] += 1
        ix.enrolling, ix.current = None, None
        return 200, self.state(ix)

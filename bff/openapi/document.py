"""The BFF's HTTP contract as an OpenAPI 3.1 document: every ``/bff/*`` route, the health
probes, and the admin API behind the proxy (``/api/admin/*``, infra/functions/admin_api).

:func:`build_document` draws it from :class:`ContractOptions` (the few settings that change the
contract: the session cookie's name, the CSRF header, whether embedded sign-in is on), so the
document a deployment serves at ``GET /bff/openapi.json`` is the one its routes answer to, and
``bff openapi`` writes the default deployment's for SPA developers. It holds no secret and
nothing per-deployment beyond those names: no URL, no client id.

Kept honest by three tests: ``tests/unit/openapi/test_document.py`` (valid OpenAPI 3.1 by
``openapi-spec-validator``; its paths and methods equal the app's route table and the admin
function's resolver, so no route goes undocumented and no documented one is a phantom) and
``tests/integration/openapi/test_fuzz.py`` (schemathesis against the running app: no 5xx, every
answer matches its schema, every 4xx is problem+json).

Each operation lists the statuses it really answers; problem codes (``code``) are named in the
response descriptions. Every error body is ``application/problem+json``
(:data:`bff.openapi.schemas.PROBLEM`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bff.content.bundle import JOURNEYS
from bff.openapi import schemas as s
from bff.settings import Settings
from bff.signin.steps import MAX_FIELDS

OPENAPI_VERSION = "3.1.0"
PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

Operation = dict[str, Any]
Responses = dict[str, Any]


@dataclass(frozen=True)
class ContractOptions:
    """What of the configuration shows in the contract (defaults: the settings' defaults)."""

    cookie_name: str = "__Host-bff"
    csrf_header: str = "X-CSRF"
    csrf_value: str = "1"
    embedded_signin: bool = True
    version: str = "0.1.0"

    @classmethod
    def from_settings(cls, settings: Settings) -> ContractOptions:
        return cls(
            cookie_name=settings.session.cookie_name,
            csrf_header=settings.session.csrf_header,
            csrf_value=settings.session.csrf_value,
            embedded_signin=settings.signin.mode == "embedded",
        )


# -- building blocks ---------------------------------------------------------------------------


def _json(schema: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {JSON: {"schema": s.ref(schema)}}}
    if headers:
        out["headers"] = headers
    return out


#: Adobe's ``?challenge=`` as the hook echoes it (bff.content.hooks.valid_challenge).
_CHALLENGE: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9._~-]{1,128}$"}
_CHALLENGE_ECHO: dict[str, Any] = {"description": "The challenge, echoed as text/plain",
                                   "content": {"text/plain": {"schema": _CHALLENGE}}}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": s.ref("Problem")}},
    }
    if headers:
        out["headers"] = headers
    return out


def _redirect(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
    }


_RETRY_AFTER = {"Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_ALLOW = {"Allow": {"required": True, "schema": {"type": "string"}}}

#: Problems any request may meet before its handler runs (the edge and the body reader).
BODY_ERRORS: Responses = {
    "413": _problem("``payload_too_large``: the body is over the route's limit"),
    "415": _problem("``unsupported_media_type``: send the documented content type"),
}
UPSTREAM_ERRORS: Responses = {
    "502": _problem("``bad_gateway``: an upstream (Okta, AEM, the API) failed"),
    "503": _problem(
        "``unavailable`` / ``session_store_unavailable``: an upstream or the session store is down",
        headers=None,
    ),
    "504": _problem("``gateway_timeout``: an upstream did not answer in time"),
}


def _query(name: str, schema: dict[str, Any], description: str, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _header(name: str, schema: dict[str, Any], description: str, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": schema, "description": description}


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


class _Builder:
    def __init__(self, options: ContractOptions) -> None:
        self.o = options
        self.csrf = _header(
            options.csrf_header,
            {"type": "string", "const": options.csrf_value},
            "The static anti-CSRF header every state-changing call carries",
            required=True,
        )
        self.csrf_problem = _problem(
            f"``csrf``: no ``{options.csrf_header}: {options.csrf_value}`` header, or a cross-site "
            "``Origin`` / ``Sec-Fetch-Site``"
        )
        self.signed_out = _problem("``unauthenticated``: no valid session (sign in again)")

    def op(
        self,
        operation_id: str,
        summary: str,
        tag: str,
        responses: Responses,
        *,
        params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None,
        session: bool = False,
        csrf: bool = False,
        description: str | None = None,
    ) -> Operation:
        out: Operation = {"operationId": operation_id, "summary": summary, "tags": [tag]}
        if description:
            out["description"] = description
        parameters = list(params or [])
        if csrf:
            parameters.append(self.csrf)
            responses = {"403": self.csrf_problem, **responses}
        if parameters:
            out["parameters"] = parameters
        if body is not None:
            out["requestBody"] = body
        if session:
            out["security"] = [{"session": []}]
            responses = {"401": self.signed_out, **responses}
        out["responses"] = dict(sorted(responses.items()))
        return out


def _json_body(schema: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": s.ref(schema)}}}


# -- the BFF's own routes ----------------------------------------------------------------------


def _bff_paths(b: _Builder) -> dict[str, dict[str, Operation]]:
    bearer = _header("Authorization", {"type": "string"}, "``Bearer <BFF_INVITATIONS_SECRET>``")
    internal_note = ("Server to server: the admin API (infra/functions/admin_api) authorizes the org "
                     "admin, then calls this with the shared secret; 404 when BFF_INVITATIONS_SECRET "
                     "is unset. No session, no CSRF header.")
    internal_errors: Responses = {
        "401": _problem("``unauthenticated``: no bearer credential"),
        "403": _problem("``forbidden``: a wrong credential"),
        "404": _problem("``not_found``: not configured, or no such invitation in that organisation"),
        "422": _problem("``validation_failed`` with ``errors``"),
    }
    o = b.o
    return_to = _query(
        "returnTo",
        {"type": "string", "maxLength": 2048},
        "A local path to land on afterwards (anything else becomes /)",
    )
    locale = _query("locale", {"type": "string"}, "A BCP 47 locale (else the cookie, then Accept-Language)")
    variation = _query(
        "variation",
        {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        "A content fragment variation (default: master)",
    )
    journey = _path("journey", {"type": "string", "enum": list(JOURNEYS)}, "The copy journey")
    paths: dict[str, dict[str, Operation]] = {
        "/healthz": {
            "get": b.op(
                "healthz", "Liveness", "operations", {"200": _json("Health", "The process is serving")}
            )
        },
        "/readyz": {
            "get": b.op(
                "readyz",
                "Readiness: session store, IdP discovery, outbox",
                "operations",
                {
                    "200": _json("Ready", "Every dependency answers"),
                    "503": _json("Ready", "A dependency does not answer (``checks`` says which)"),
                },
            )
        },
        "/bff/openapi.json": {
            "get": b.op(
                "openapi",
                "This document",
                "operations",
                {
                    "200": {
                        "description": "The OpenAPI 3.1 document (cacheable; ETag)",
                        "content": {JSON: {"schema": {"type": "object", "required": ["openapi", "paths"]}}},
                    },
                    "304": {"description": "Not modified (If-None-Match)"},
                },
            )
        },
        # -- the redirect sign-in (bff.auth.endpoints) --
        "/bff/login": {
            "get": b.op(
                "login",
                "Start the redirect sign-in",
                "sign-in",
                {
                    "302": _redirect(
                        "To Okta's authorize endpoint (sets the login binding cookie), or to "
                        "``/?auth_error=idp_unavailable|session_store_unavailable``"
                    ),
                    "400": _problem(
                        "``bad_request`` (a repeated parameter, query too long), ``scope_not_allowed``, "
                        "``invalid_prompt``, ``invalid_login_hint``"
                    ),
                },
                params=[
                    return_to,
                    _query(
                        "scope", {"type": "string"}, "Extra step-up scopes (space-separated, allow-listed)"
                    ),
                    _query(
                        "prompt",
                        {
                            "type": "string",
                            "enum": [
                                "none",
                                "login",
                                "consent",
                                "login consent",
                                "consent login",
                                "select_account",
                            ],
                        },
                        "OIDC prompt",
                    ),
                    _query("login_hint", {"type": "string", "maxLength": 256}, "Pre-filled username"),
                ],
            )
        },
        "/bff/callback": {
            "get": b.op(
                "callback",
                "Okta's redirect back (authorization code)",
                "sign-in",
                {
                    "302": _redirect(
                        "To ``returnTo`` with the new session cookie, or to ``/?auth_error=<code>``; "
                        "never an error page"
                    ),
                },
                params=[
                    _query(name, {"type": "string"}, f"OAuth ``{name}``")
                    for name in ("code", "state", "iss", "error", "error_description")
                ],
            )
        },
        "/bff/user": {
            "get": b.op(
                "user",
                "The signed-in user (claims the SPA may see)",
                "sign-in",
                {
                    "200": _json("User", "Signed in"),
                    "503": _problem("``session_store_unavailable``"),
                },
                session=True,
            )
        },
        "/bff/sessions": {
            "get": b.op(
                "listSessions",
                "The signed-in user's own sessions (never an id usable as a cookie)",
                "sessions",
                {
                    "200": _json("Sessions", "Live sessions, oldest first; ``current`` marks this one"),
                    "503": _problem("``session_store_unavailable``"),
                },
                session=True,
            ),
            "delete": b.op(
                "endOtherSessions",
                "Sign out everywhere else (refresh tokens revoked at Okta)",
                "sessions",
                {
                    "200": _json("SessionsEnded", "How many other sessions ended"),
                    "503": _problem("``session_store_unavailable``"),
                },
                session=True,
                csrf=True,
            ),
        },
        "/bff/sessions/{handle}": {
            "delete": b.op(
                "endOneSession",
                "End one other session of the user",
                "sessions",
                {
                    "204": {"description": "Ended"},
                    "400": _problem("``invalid_handle``: not a handle's shape"),
                    "404": _problem("``session_not_found``: no session of yours has this handle"),
                    "409": _problem("``current_session``: this session; sign out with POST /bff/logout"),
                    "503": _problem("``session_store_unavailable``"),
                },
                params=[_path("handle", {"type": "string"}, "A handle from GET /bff/sessions")],
                session=True,
                csrf=True,
            )
        },
        "/bff/logout": {
            "post": b.op(
                "logout",
                "Sign out (ends the session, revokes the refresh token)",
                "sign-in",
                {
                    "200": _json(
                        "Logout", "Where to send the browser (Okta's end-session URL or ``returnTo``)"
                    ),
                    "302": _redirect("The same, for a plain HTML form post"),
                    "400": _problem("``bad_request``: a malformed form or a repeated parameter"),
                    **BODY_ERRORS,
                },
                params=[return_to],
                csrf=True,
                description=(
                    "A fetch sends the CSRF header; a plain HTML form sends it as a form field instead, with "
                    "``Origin`` or ``Sec-Fetch-Site``, and gets a 302."
                ),
            )
        },
        "/bff/backchannel-logout": {
            "post": b.op(
                "backchannelLogout",
                "OIDC back-channel logout (from Okta)",
                "sign-in",
                {
                    "200": {"description": "The sessions of that IdP session (or user) ended"},
                    "400": _problem(
                        "``invalid_request`` (not exactly one ``logout_token``), "
                        "``invalid_logout_token`` (bad signature, claims, or replayed)"
                    ),
                    **BODY_ERRORS,
                    "503": _problem("``unavailable``: Okta's keys could not be fetched"),
                },
                body={
                    "required": True,
                    "content": {
                        FORM: {
                            "schema": {
                                "type": "object",
                                "properties": {"logout_token": {"type": "string"}},
                                "required": ["logout_token"],
                            }
                        }
                    },
                },
            )
        },
        # -- copy (bff.content.endpoints) --
        "/bff/content/{journey}": {
            "get": b.op(
                "copy",
                "Localized copy of one journey",
                "content",
                {
                    "200": _json(
                        "Copy",
                        "The copy (public and cacheable; ``private, no-store`` for previewers and "
                        "``?preview=`` URLs)",
                        headers={"ETag": {"schema": {"type": "string"}}},
                    ),
                    "304": {"description": "Not modified (If-None-Match)"},
                    "400": _problem("``invalid_variation``, ``unknown_variation`` (not master, listed "
                                    "in BFF_CONTENT_VARIATIONS or bundled)"),
                    "404": _problem("``unknown_journey`` / ``not_found``"),
                },
                params=[
                    journey,
                    locale,
                    variation,
                    _query("preview", {"type": "string"}, "Present: the preview cache key (never shared)"),
                    _header("If-None-Match", {"type": "string"}, "An ETag from an earlier answer"),
                ],
            )
        },
        "/bff/preview": {
            "get": b.op(
                "previewState",
                "Whether preview is on, and allowed, for this user",
                "content",
                {
                    "200": _json("PreviewState", "The state"),
                    "503": _problem("``session_store_unavailable``"),
                },
                session=True,
            ),
            "post": b.op(
                "previewToggle",
                "Content authors switch preview on or off",
                "content",
                {
                    "200": _json("PreviewToggle", "The new state"),
                    "403": _problem("``csrf`` or ``preview_forbidden`` (not a content author)"),
                    **BODY_ERRORS,
                    "422": _problem('``validation_failed``: send ``{"enabled": true|false}``'),
                    "503": _problem("``session_store_unavailable``"),
                },
                body=_json_body("PreviewToggle"),
                session=True,
                csrf=True,
            ),
        },
        "/bff/hooks/aem": {
            "get": b.op(
                "aemHookChallenge",
                "Adobe I/O Events challenge",
                "content",
                {
                    "200": _CHALLENGE_ECHO,
                    "400": _problem("``invalid_challenge`` (not of Adobe's shape, or repeated), "
                                    "``invalid_event`` (no challenge)"),
                },
                params=[_query("challenge", _CHALLENGE, "The challenge to echo", required=True)],
            ),
            "post": b.op(
                "aemHook",
                "AEM content fragment events: evict the copy they change",
                "content",
                {
                    "200": {
                        "description": "What was evicted; with ``?challenge=``, the challenge echoed "
                                       "(text/plain)",
                        "content": {JSON: {"schema": s.ref("AemHookResult")},
                                    "text/plain": {"schema": _CHALLENGE}},
                    },
                    "400": _problem("``invalid_challenge``, ``invalid_event``, ``stale_event`` (outside "
                                    "BFF_AEM_EVENTS_MAX_AGE), ``bad_request`` (not JSON)"),
                    "401": _problem(
                        "``invalid_webhook_auth``: no valid X-Webhook-Secret or Adobe I/O signature"
                    ),
                    "403": _problem("``wrong_recipient`` (not for BFF_AEM_EVENTS_CLIENT_ID), "
                                    "``events_client_not_configured``"),
                    **BODY_ERRORS,
                    "503": _problem("``hook_failed`` / ``unavailable``: the eviction bus is down (retry)"),
                },
                params=[
                    _query("challenge", _CHALLENGE, "A challenge (then echoed, nothing else happens)")
                ],
                body={
                    "required": True,
                    "content": {
                        JSON: {"schema": {}},
                        "application/cloudevents+json": {"schema": {}},
                        "application/cloudevents-batch+json": {"schema": {}},
                    },
                },
            ),
        },
        # -- registration (bff.signup.endpoints) --
        "/bff/signup": {
            "get": b.op(
                "signupForm",
                "What the sign-up form needs (fields, modes, password policy)",
                "signup",
                {"200": _json("SignupForm", "The form")},
            ),
            "post": b.op(
                "signup",
                "Register: create the Okta user, then AccountCreated",
                "signup",
                {
                    "201": _json("SignupCreated", "Created"),
                    "400": _problem("``bad_request``: not a JSON object"),
                    "409": _problem("``conflict``: the account exists"),
                    **BODY_ERRORS,
                    "422": _problem("``validation_failed`` with ``errors: [{field, code}]``"),
                    "429": _problem("``rate_limited``", headers=_RETRY_AFTER),
                    **UPSTREAM_ERRORS,
                },
                body=_json_body("SignupRequest"),
                csrf=True,
            ),
        },
        "/bff/profile": {
            "get": b.op(
                "profile",
                "The signed-in user's profile fields",
                "signup",
                {
                    "200": _json("Profile", "The profile"),
                    "404": _problem("``not_found``: no such Okta user"),
                    **UPSTREAM_ERRORS,
                },
                session=True,
            ),
            "post": b.op(
                "updateProfile",
                "Partial update of the profile fields",
                "signup",
                {
                    "200": _json("Profile", "The updated profile"),
                    "400": _problem("``bad_request``: not a JSON object"),
                    "404": _problem("``not_found``: no such Okta user"),
                    **BODY_ERRORS,
                    "422": _problem("``validation_failed`` with ``errors``"),
                    **UPSTREAM_ERRORS,
                },
                body=_json_body("ProfileUpdate"),
                session=True,
                csrf=True,
            ),
        },
        "/bff/hooks/okta": {
            "get": b.op(
                "oktaHookVerify",
                "Okta event hook verification",
                "signup",
                {
                    "200": _json("OktaVerification", "The challenge, echoed"),
                    "400": _problem("``bad_request``: no (or an oversized) challenge header"),
                    "403": _problem("``forbidden``: a wrong hook secret"),
                    "404": _problem("``not_found``: event hooks are not configured"),
                },
                params=[
                    _header(
                        "X-Okta-Verification-Challenge",
                        {"type": "string", "maxLength": 1024},
                        "Okta's one-time challenge",
                        required=True,
                    )
                ],
            ),
            "post": b.op(
                "oktaHook",
                "Okta event hook delivery (user.lifecycle.create)",
                "signup",
                {
                    "200": _json("OktaHookResult", "Accepted into the outbox"),
                    "400": _problem("``bad_request``: not an event hook body"),
                    "401": _problem("``unauthenticated``: no ``Authorization`` header"),
                    "403": _problem("``forbidden``: a wrong hook secret"),
                    "404": _problem("``not_found``: event hooks are not configured"),
                    **BODY_ERRORS,
                },
                body={"required": True, "content": {JSON: {"schema": {"type": "object"}}}},
                params=[_header("Authorization", {"type": "string"}, "The hook's shared secret")],
            ),
        },
        "/bff/internal/invitations": {
            "get": b.op(
                "internalListInvitations",
                "An organisation's invitations (for the admin API)",
                "admin",
                {"200": _json("Invitations", "Newest first; never a code"), **internal_errors},
                params=[_query("orgId", {"type": "string"}, "The organisation", required=True), bearer],
                description=internal_note,
            ),
            "post": b.op(
                "internalIssueInvitation",
                "Invite one address into an organisation (for the admin API)",
                "admin",
                {"201": _json("InvitationIssued", "The code, shown once"), **internal_errors, **BODY_ERRORS},
                params=[bearer],
                body=_json_body("InternalInviteRequest"),
                description=internal_note,
            ),
        },
        "/bff/internal/invitations/{invitation_id}/revoke": {
            "post": b.op(
                "internalRevokeInvitation",
                "Revoke a pending invitation (for the admin API)",
                "admin",
                {"200": _json("InvitationResult", "Revoked (revoking twice changes nothing)"),
                 "409": _problem("``conflict``: the invitation was already used"),
                 **internal_errors, **BODY_ERRORS},
                params=[_path("invitation_id", {"type": "string"}, "The invitation's ``id``"), bearer],
                body=_json_body("InternalRevokeRequest"),
                description=internal_note,
            )
        },
        "/bff/csp-report": {
            "post": b.op(
                "cspReport",
                "CSP violation reports (logged)",
                "spa",
                {
                    "204": {"description": "Received"},
                    "400": _problem("``bad_request``: not JSON"),
                    **BODY_ERRORS,
                },
                body={
                    "required": True,
                    "content": {
                        t: {"schema": {}}
                        for t in ("application/csp-report", "application/reports+json", JSON)
                    },
                },
            )
        },
    }
    paths.update(_signin_paths(b) if o.embedded_signin else _signin_disabled(b))
    return paths


def _signin_paths(b: _Builder) -> dict[str, dict[str, Operation]]:
    transaction = _header("X-BFF-Signin", {"type": "string"}, "The step's ``transaction`` (several tabs)")
    step_errors: Responses = {
        "400": _problem(
            "``invalid_submission`` (+ ``errors``), ``step_not_supported``, ``invalid_identifier``, "
            "``scope_not_allowed``, ``bad_request``"
        ),
        "404": _problem("``not_found``: no sign-in in progress in this browser"),
        "409": _problem("``step_not_offered`` (another tab moved on), ``conflict`` (busy)"),
        "410": _problem("``gone``: the sign-in ended or expired"),
        "429": _problem("``rate_limited``: attempt limits or Okta's", headers=_RETRY_AFTER),
        **UPSTREAM_ERRORS,
    }
    return {
        "/bff/signin": {
            "post": b.op(
                "signinStart",
                "Start an embedded sign-in",
                "signin",
                {
                    "200": _json("SigninStep", "The first step (sets the sign-in cookie)"),
                    **{k: v for k, v in step_errors.items() if k not in ("404", "410")},
                    **BODY_ERRORS,
                },
                body=_json_body("SigninStart", required=False),
                csrf=True,
            ),
            "get": b.op(
                "signinCurrent",
                "The current step again",
                "signin",
                {
                    "200": _json("SigninStep", "The current step"),
                    **{
                        k: v
                        for k, v in step_errors.items()
                        if k in ("404", "410", "409", "502", "503", "504")
                    },
                },
                params=[transaction],
            ),
        },
        "/bff/signin/email-callback": {
            "get": b.op(
                "signinEmailCallback",
                "Okta's email magic link",
                "signin",
                {
                    "303": _redirect(
                        "To ``returnTo`` (signed in), the SPA's sign-in page (next step), or the page "
                        "that shows the code for the original tab; never an error page"
                    ),
                },
                params=[
                    _query("state", {"type": "string"}, "Okta's state"),
                    _query("otp", {"type": "string"}, "The one-time code"),
                ],
            )
        },
        "/bff/signin/{remediation}": {
            "post": b.op(
                "signinStep",
                "Submit a step (or ``cancel``)",
                "signin",
                {
                    "200": _json("SigninStep", "The next step; ``success`` sets the session cookie"),
                    **step_errors,
                    **BODY_ERRORS,
                },
                params=[
                    _path(
                        "remediation",
                        {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
                        "The remediation name (a step's ``step`` or one of its ``alternatives``)",
                    ),
                    transaction,
                ],
                body={"required": False, "content": {JSON: {"schema": s.ref("SigninSubmission")}}},
                csrf=True,
                description=f"Keys are the step's dotted field names (at most {MAX_FIELDS}).",
            )
        },
    }


def _signin_disabled(b: _Builder) -> dict[str, dict[str, Operation]]:
    off = {"404": _problem("``signin_disabled``: embedded sign-in is off (BFF_SIGNIN_MODE=redirect)")}
    rest = _path("rest", {"type": "string"}, "Any sign-in path")
    return {
        "/bff/signin": {
            "get": b.op("signinOffGet", "Embedded sign-in is off", "signin", off),
            "post": b.op("signinOffPost", "Embedded sign-in is off", "signin", off),
        },
        "/bff/signin/{rest}": {
            "get": b.op("signinOffRestGet", "Embedded sign-in is off", "signin", off, params=[rest]),
            "post": b.op("signinOffRestPost", "Embedded sign-in is off", "signin", off, params=[rest]),
        },
    }


# -- the admin API (infra/functions/admin_api, behind /api/admin/* of the proxy) ---------------


def _admin_paths(b: _Builder) -> dict[str, dict[str, Operation]]:
    user_id = _path("user_id", {"type": "string", "minLength": 1}, "An Okta user id")
    review_id = _path("review_id", {"type": "string", "minLength": 1}, "A review id")
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Page size (50)")
    gates: Responses = {
        "400": _problem("``bad_path``: an ambiguous path (dot segments, encoded ``/``, control characters)"),
        "403": _problem(
            "``csrf``; ``insufficient_scope`` (the ``admin`` scope or an admin role is missing: "
            "``missingScopes`` / ``requiredRoles``); ``forbidden`` (the tenant rules)"
        ),
        "404": _problem(
            "``not_found``: no such user or review for this caller (another org's are not found)"
        ),
        **UPSTREAM_ERRORS,
    }
    validation = {"422": _problem("``validation_failed`` with ``errors``")}
    conflict = {
        "409": _problem("``conflict``: the state does not allow it (already decided, an org admin...)")
    }

    def admin(
        operation_id: str,
        summary: str,
        ok: str,
        responses: Responses | None = None,
        params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Operation:
        return b.op(
            operation_id,
            summary,
            "admin",
            {"200": _json(ok, summary), **gates, **(responses or {})},
            params=params,
            body=body,
            session=True,
            csrf=True,
            description="Needs a session with the ``admin`` scope and an admin role "
            "(``/bff/login?scope=admin``); the proxy adds the access token.",
        )

    return {
        "/api/admin/users": {
            "get": admin(
                "adminListUsers",
                "Users the caller may see",
                "AdminUsers",
                validation,
                [
                    _query("q", {"type": "string", "maxLength": 100}, "Prefix of name, email or login"),
                    _query("status", {"type": "string"}, "An Okta status"),
                    limit,
                    _query("after", {"type": "string"}, "The previous page's ``next``"),
                ],
            )
        },
        "/api/admin/users/{user_id}": {
            "get": admin("adminGetUser", "One user, with their groups", "AdminUser", params=[user_id])
        },
        "/api/admin/users/{user_id}/deactivate": {
            "post": admin("adminDeactivate", "Deactivate a user", "AdminUser", conflict, [user_id])
        },
        "/api/admin/users/{user_id}/sessions/revoke": {
            "post": admin(
                "adminRevokeSessions",
                "End every session of the user (Okta's clear sessions; the hook ends the BFF's)",
                "AdminSessionsRevoked",
                conflict,
                [user_id],
            )
        },
        "/api/admin/users/{user_id}/reactivate": {
            "post": admin("adminReactivate", "Reactivate (or unsuspend)", "AdminUser", conflict, [user_id])
        },
        "/api/admin/users/{user_id}/admin-role": {
            "put": admin(
                "adminAssignRole",
                "Make the user a group admin (org admins)",
                "AdminUser",
                {**conflict, **validation, "413": BODY_ERRORS["413"]},
                [user_id],
                _json_body("AdminRoleRequest"),
            ),
            "delete": admin(
                "adminRemoveRole",
                "Remove the group-admin role (org admins)",
                "AdminUser",
                conflict,
                [user_id],
            ),
        },
        "/api/admin/groups": {"get": admin("adminListGroups", "The org's groups", "AdminGroups")},
        "/api/admin/reviews": {
            "get": admin(
                "adminListReviews",
                "The manual-review queue",
                "AdminReviews",
                validation,
                [
                    _query(
                        "status",
                        {"type": "string", "enum": ["pending", "approved", "rejected", "all"]},
                        "Filter",
                    ),
                    limit,
                    _query("cursor", {"type": "string"}, "The previous page's ``next``"),
                ],
            )
        },
        "/api/admin/reviews/{review_id}": {
            "get": admin("adminGetReview", "One review", "AdminReview", params=[review_id])
        },
        "/api/admin/invitations": {
            "get": admin("adminListInvitations", "The org's invitations (org admins)", "Invitations"),
            "post": b.op(
                "adminInvite",
                "Invite one address into the caller's organisation (org admins)",
                "admin",
                {"201": _json("InvitationIssued", "The code, shown once"), **gates, **validation,
                 "413": BODY_ERRORS["413"]},
                body=_json_body("AdminInviteRequest"),
                session=True,
                csrf=True,
                description="Needs a session with the ``admin`` scope and the org-admin role (a "
                "group admin gets 403); the invitation is bound to the address, single-use, and "
                "expires (BFF_INVITATION_TTL).",
            ),
        },
        "/api/admin/invitations/{invitation_id}/revoke": {
            "post": admin("adminRevokeInvitation", "Revoke a pending invitation (org admins)",
                          "InvitationResult", conflict,
                          [_path("invitation_id", {"type": "string", "minLength": 1},
                                 "The invitation's ``id``")])
        },
        "/api/admin/reviews/{review_id}/approve": {
            "post": admin("adminApprove", "Approve a review", "AdminReview", conflict, [review_id])
        },
        "/api/admin/reviews/{review_id}/reject": {
            "post": admin("adminReject", "Reject a review", "AdminReview", conflict, [review_id])
        },
    }


def build_document(options: ContractOptions | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh, JSON-ready dict)."""
    o = options or ContractOptions()
    b = _Builder(o)
    paths = {**_bff_paths(b), **_admin_paths(b)}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "BFF",
            "version": o.version,
            "summary": "The backend-for-frontend's API for its SPA: sign-in, copy, registration, admin",
            "description": (
                "Every error is ``application/problem+json`` (RFC 9457) with a stable ``code``. "
                f"State-changing calls need the ``{o.csrf_header}: {o.csrf_value}`` header; signed-in "
                f"calls the ``{o.cookie_name}`` session cookie (set by the sign-in, HttpOnly: the SPA "
                "never reads it)."
            ),
        },
        "servers": [{"url": "/", "description": "The BFF's own origin (the SPA is same-origin)"}],
        "tags": [
            {"name": n} for n in ("operations", "sign-in", "signin", "content", "signup", "spa", "admin")
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": s.COMPONENTS,
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": o.cookie_name,
                    "description": "The session cookie the sign-in sets",
                }
            },
        },
    }

"""The BFF's invitation endpoints for the admin API (``infra/functions/admin_api``).

The invitation records live in the BFF's session store (:mod:`bff.signup.invitations`: memory,
SQLite, Redis or DynamoDB, encrypted with the BFF's keys), which the admin API's Lambda cannot
read. So the admin API authorizes the admin (its token, org admin of their own ``orgId``: the
rules of ``admin_api.authz``) and then calls these endpoints, server to server:

    POST /bff/internal/invitations                  {"orgId","email","invitedBy"[, "ttl"]} → 201 + code
    GET  /bff/internal/invitations?orgId=ORG        the organisation's invitations (no codes)
    POST /bff/internal/invitations/{id}/revoke      {"orgId","revokedBy"}

They are authenticated by ``Authorization: Bearer <BFF_INVITATIONS_SECRET>`` (any listed value,
compared in constant time, as the event hook's secret), carry no session and no CSRF header, and
answer 404 when ``BFF_INVITATIONS_SECRET`` is unset. The caller is trusted for ``orgId`` and the
actor names (that is the admin API's authorization); the body is still validated strictly.
The code is in the 201 answer only (the store keeps its SHA-256).
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from bff.http.body import read_json_object
from bff.http.responses import NO_STORE
from bff.lookup import SETTINGS
from bff.lookup import service as lookup
from bff.settings import Settings
from bff.signup.endpoints import SIGNUP
from bff.signup.invitations import InvitationRefused
from bff.signup.service import SignupService
from bff.signup.validation import Errors, check_email

MAX_BODY = 4 * 1024
ORG_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
ACTOR = re.compile(r"^[\w.@+:-]{1,100}$")
SHORT_ID = re.compile(r"^[0-9a-f]{8,64}$")
MIN_TTL, MAX_TTL = 60, 90 * 24 * 3600


def _authorize(request: Request) -> SignupService:
    settings = lookup(request, SETTINGS)
    secrets = settings.signup.invitations_secrets
    if not secrets:
        raise NotFound("Not found")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("A bearer credential is required")
    presented = token.strip().encode("utf-8", "surrogateescape")
    matched = False
    for secret in secrets:  # every one compared, in constant time: the timing tells nothing
        matched |= hmac.compare_digest(presented, secret.encode())
    if not matched:
        raise Forbidden("Wrong credential")
    return lookup(request, SIGNUP)


def _org(value: Any, errors: list[dict[str, str]]) -> str:
    if not isinstance(value, str) or not ORG_ID.match(value):
        errors.append({"field": "orgId", "code": "invalid"})
        return ""
    return value


def _actor(body: dict[str, Any], key: str, errors: list[dict[str, str]]) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not ACTOR.match(value):
        errors.append({"field": key, "code": "invalid"})
        return ""
    return value


def _unknown(body: dict[str, Any], allowed: set[str], errors: list[dict[str, str]]) -> None:
    errors.extend({"field": k[:40], "code": "unknown"} for k in sorted(set(body) - allowed)[:5])


async def issue(request: Request) -> Response:
    service = _authorize(request)
    body = await read_json_object(request, MAX_BODY)
    errors: list[dict[str, str]] = []
    _unknown(body, {"orgId", "email", "invitedBy", "ttl"}, errors)
    org = _org(body.get("orgId"), errors)
    checked = Errors()
    email = check_email(checked, body.get("email"))
    errors.extend({"field": "email", "code": e.code} for e in checked.items)
    invited_by = _actor(body, "invitedBy", errors)
    ttl = body.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)
                            or not MIN_TTL <= ttl <= MAX_TTL):
        errors.append({"field": "ttl", "code": "invalid"})
    if errors or email is None:
        raise ValidationFailed(errors or [{"field": "email", "code": "invalid"}])
    issued = await service.invitations.issue(org, email, invited_by=invited_by,
                                             ttl=float(ttl) if ttl is not None else None)
    inv = issued.invitation
    return JSONResponse({"code": issued.code, "invitation": inv.public(service.invitations.now())},
                        status_code=201, headers=NO_STORE)


async def list_invitations(request: Request) -> Response:
    service = _authorize(request)
    errors: list[dict[str, str]] = []
    unexpected = set(request.query_params) - {"orgId"}
    if unexpected:
        errors.append({"field": sorted(unexpected)[0][:40], "code": "unknown"})
    org = _org(request.query_params.get("orgId"), errors)
    if errors:
        raise ValidationFailed(errors)
    now = service.invitations.now()
    found = await service.invitations.list(org)
    return JSONResponse({"invitations": [inv.public(now) for inv in found]}, headers=NO_STORE)


async def revoke(request: Request) -> Response:
    service = _authorize(request)
    short_id = request.path_params["invitation_id"]
    body = await read_json_object(request, MAX_BODY)
    errors: list[dict[str, str]] = []
    _unknown(body, {"orgId", "revokedBy"}, errors)
    org = _org(body.get("orgId"), errors)
    by = _actor(body, "revokedBy", errors)
    if errors:
        raise ValidationFailed(errors)
    if not SHORT_ID.match(short_id):
        raise NotFound("No such invitation")
    try:
        revoked = await service.invitations.revoke(org, short_id, by=by)
    except InvitationRefused as exc:
        if exc.reason == "used":
            raise Conflict("The invitation was already used") from None
        raise NotFound("No such invitation") from None
    if revoked is None:
        raise NotFound("No such invitation")
    return JSONResponse({"invitation": revoked.public(service.invitations.now())},
                        headers=NO_STORE)


def routes(settings: Settings) -> list[BaseRoute]:
    del settings  # the routes always exist; without BFF_INVITATIONS_SECRET they answer 404
    return [
        Route("/bff/internal/invitations", issue, methods=["POST"]),
        Route("/bff/internal/invitations", list_invitations, methods=["GET"]),
        Route("/bff/internal/invitations/{invitation_id}/revoke", revoke, methods=["POST"]),
    ]


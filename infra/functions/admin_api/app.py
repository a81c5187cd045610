"""Lambda entry point: ``admin_api.app.handler`` (API Gateway HTTP API, payload 2.0, JWT
authorizer; or invoked directly by the BFF with the same event).

Customer admins manage their own organisation (see :mod:`admin_api.service` for the rules):

    GET    /api/admin/users?q=&status=&limit=&after=     list / search users
    GET    /api/admin/users/{userId}                     one user, with their groups
    POST   /api/admin/users/{userId}/deactivate          deactivate
    POST   /api/admin/users/{userId}/reactivate          reactivate (or unsuspend)
    POST   /api/admin/users/{userId}/sessions/revoke     end every session (Okta and, via the hook, BFF)
    PUT    /api/admin/users/{userId}/admin-role          {"role":"group_admin","groups":[...]} (org admins)
    DELETE /api/admin/users/{userId}/admin-role          remove the group-admin role (org admins)
    GET    /api/admin/groups                             groups of the org (a group admin: theirs)
    GET    /api/admin/reviews?status=&limit=&cursor=     manual-review queue (default: pending)
    GET    /api/admin/reviews/{reviewId}
    POST   /api/admin/reviews/{reviewId}/approve         Okta complianceStatus=passed + Marketo lead
    POST   /api/admin/reviews/{reviewId}/reject          complianceStatus=rejected + user deactivated
    GET    /api/admin/invitations                        the org's invitations (org admins)
    POST   /api/admin/invitations                        {"email": ...}: invite one address (org admins)
    POST   /api/admin/invitations/{invitationId}/revoke  revoke a pending invitation (org admins)

The invitation records are the BFF's (its session store, encrypted with its keys): these routes
authorize the admin here and then call the BFF's ``/bff/internal/invitations`` endpoints
(fnlib.invitations; ``BFF_INTERNAL_URL`` + the secret's ``BFF_INVITATIONS_SECRET``).

Errors are ``application/problem+json`` ``{type,title,status,code,detail}`` like the BFF's.

Environment (fnlib.names): ``SECRETS_ARN`` (JSON: ``OKTA_API_TOKEN`` or ``OKTA_CLIENT_ID`` +
``OKTA_PRIVATE_KEY``; ``MARKETO_CLIENT_ID``, ``MARKETO_CLIENT_SECRET``), ``OKTA_ORG_URL``,
``REVIEW_TABLE``, ``MARKETO_IDENTITY_URL``, ``MARKETO_REST_URL``; optional ``ADMINS_GROUP``
(default ``customer-admins``), ``BFF_INTERNAL_URL`` (the invitation actions). Read once, at cold start.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import boto3
import httpx
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from admin_api.authz import Caller, Denied, authorize
from admin_api.service import AdminError, AdminService, Invalid, Unavailable
from fnlib.invitations import BffInvitations
from fnlib.marketo import MarketoClient
from fnlib.names import env
from fnlib.okta import okta_client
from fnlib.review import APPROVED, REJECTED, ReviewRepository

PROBLEM_BASE = "https://bff.dev/problems/"
SECRET_MAX_AGE = 300
MAX_BODY = 64 * 1024

SECRETS_ARN = env("SECRETS_ARN")
OKTA_ORG_URL = env("OKTA_ORG_URL")
REVIEW_TABLE = env("REVIEW_TABLE")
MARKETO_IDENTITY_URL = env("MARKETO_IDENTITY_URL")
MARKETO_REST_URL = env("MARKETO_REST_URL")
ADMINS_GROUP = env("ADMINS_GROUP", "customer-admins")
BFF_INTERNAL_URL = env("BFF_INTERNAL_URL", "")

logger = Logger()
# X-Ray through Powertools' Tracer (the template's Tracing: Active): continues the caller's
# X-Amzn-Trace-Id (the BFF's upstream span on a direct invoke). Only AWS SDK calls are patched
# (an httpx/requests subsegment would record URLs with query strings), and neither responses nor
# error messages are captured (they can hold a user's details).
tracer = Tracer(patch_modules=["boto3"])
app = APIGatewayHttpResolver(strip_prefixes=["/api/admin"])
secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
reviews = ReviewRepository(boto3.resource("dynamodb").Table(REVIEW_TABLE))
http = httpx.Client(timeout=httpx.Timeout(8.0, connect=3.0), headers={"User-Agent": "admin-api"})

_current: dict[str, Any] = {}


def service() -> AdminService:
    """The service for the current secret (re-read every SECRET_MAX_AGE s; rotation-safe)."""
    try:
        secret = secrets.get(SECRETS_ARN, transform="json", max_age=SECRET_MAX_AGE)
    except Exception as exc:  # Powertools wraps every Secrets Manager failure differently
        logger.warning("functions secret unavailable", extra={"error": type(exc).__name__})
        raise Unavailable("Configuration is temporarily unavailable") from exc
    if not isinstance(secret, dict):
        raise Unavailable("Configuration is invalid")
    if _current.get("secret") != secret:
        try:
            okta = okta_client(OKTA_ORG_URL, secret, http=http)
        except ValueError as exc:  # no credentials, or an unusable key (the message names no part of it)
            raise Unavailable("Directory credentials are not configured") from exc

        built: list[MarketoClient] = []

        def marketo() -> MarketoClient:  # one per secret version: its identity token is cached
            if not built:
                built.append(MarketoClient(MARKETO_IDENTITY_URL, MARKETO_REST_URL,
                                           str(secret.get("MARKETO_CLIENT_ID", "")),
                                           str(secret.get("MARKETO_CLIENT_SECRET", "")), http=http))
            return built[0]

        invitations = None
        bff_secret = str(secret.get("BFF_INVITATIONS_SECRET") or "")
        if BFF_INTERNAL_URL and bff_secret:
            client = BffInvitations(BFF_INTERNAL_URL, bff_secret, http=http)

            def invitations() -> BffInvitations:
                return client

        _current.update(secret=secret, service=AdminService(okta, reviews, marketo, ADMINS_GROUP,
                                                            invitations))
    result: AdminService = _current["service"]
    return result


def problem(status: int, code: str, title: str, detail: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response[str]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(status_code=status, content_type="application/problem+json",
                    body=json.dumps(body, separators=(",", ":")),
                    headers={"Cache-Control": "no-store", **(headers or {})})


@app.exception_handler(AdminError)  # type: ignore[untyped-decorator]
def _admin_error(exc: AdminError) -> Response[str]:
    if exc.status >= 500:
        logger.warning("admin request failed", extra={"status": exc.status, "code": exc.code,
                                                       "cause": type(exc.__cause__).__name__})
    return problem(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)


@app.exception_handler(Denied)  # type: ignore[untyped-decorator]
def _denied(exc: Denied) -> Response[str]:
    return problem(403, "forbidden", "Forbidden", str(exc))


@app.not_found
def _not_found(exc: Exception) -> Response[str]:
    return problem(404, "not_found", "Not found", "No such endpoint")


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return problem(500, "internal", "Internal error")


# ---------------------------------------------------------------------------------- helpers


def _authorizer_jwt() -> Any:
    raw = app.current_event.raw_event.get("requestContext", {}).get("authorizer", {})
    return raw.get("jwt") if isinstance(raw, dict) else None


Handler = Callable[..., Any]


def admin_route(method: str, path: str, action: str) -> Callable[[Handler], Handler]:
    """Register a route of the admin API: the ONLY way routes are added. The handler runs after
    :func:`~admin_api.authz.authorize` (before any I/O) and receives the caller first."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def authorized(**params: str) -> Any:
            who = authorize(_authorizer_jwt(), action)
            return handler(who, **params)

        authorized.admin_action = action  # type: ignore[attr-defined]
        authorized.authorized_by = authorize  # type: ignore[attr-defined]
        app.route(path, method)(authorized)
        return authorized

    return register


def query(name: str) -> str | None:
    value = app.current_event.get_query_string_value(name)
    return value if value not in (None, "") else None


def limit(default: int = 50, maximum: int = 200) -> int:
    raw = query("limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:  # "²".isdigit()
        raise _invalid("limit")
    return int(raw)


def _invalid(field: str, code: str = "invalid") -> AdminError:
    return Invalid([{"field": field, "code": code}])


def json_body() -> Any:
    try:  # a body that is not UTF-8 arrives base64-encoded; decoding it is the client's error
        raw = app.current_event.decoded_body or ""
    except ValueError:  # binascii.Error, UnicodeDecodeError
        raise _invalid("body", "malformed_json") from None
    if len(raw) > MAX_BODY:
        raise _invalid("body", "too_large")
    content_type = (app.current_event.headers or {}).get("content-type", "")
    if raw and not content_type.split(";")[0].strip().lower().endswith("json"):
        raise _invalid("body", "unsupported_media_type")
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        raise _invalid("body", "malformed_json") from None


# ---------------------------------------------------------------------------------- users


@admin_route("GET", "/users", "users.list")
def list_users(who: Caller) -> dict[str, Any]:
    return service().list_users(who, q=query("q"), status=query("status"), limit=limit(),
                                after=query("after"))


@admin_route("GET", "/users/<user_id>", "users.get")
def get_user(who: Caller, user_id: str) -> dict[str, Any]:
    return service().get_user(who, user_id)


@admin_route("POST", "/users/<user_id>/deactivate", "users.deactivate")
def deactivate(who: Caller, user_id: str) -> dict[str, Any]:
    result = service().deactivate(who, user_id)
    logger.info("user deactivated", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@admin_route("POST", "/users/<user_id>/sessions/revoke", "users.revoke_sessions")
def revoke_sessions(who: Caller, user_id: str) -> dict[str, Any]:
    result = service().revoke_sessions(who, user_id)
    logger.info("user sessions revoked", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@admin_route("POST", "/users/<user_id>/reactivate", "users.reactivate")
def reactivate(who: Caller, user_id: str) -> dict[str, Any]:
    result = service().reactivate(who, user_id)
    logger.info("user reactivated", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@admin_route("PUT", "/users/<user_id>/admin-role", "roles.assign")
def assign_role(who: Caller, user_id: str) -> dict[str, Any]:
    body = json_body()  # parsed before any I/O
    result = service().assign_group_admin(who, user_id, body)
    logger.info("group admin assigned", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@admin_route("DELETE", "/users/<user_id>/admin-role", "roles.remove")
def remove_role(who: Caller, user_id: str) -> dict[str, Any]:
    result = service().remove_group_admin(who, user_id)
    logger.info("group admin removed", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


# ---------------------------------------------------------------------------------- groups


@admin_route("GET", "/groups", "groups.list")
def list_groups(who: Caller) -> dict[str, Any]:
    return service().list_groups(who)


# ---------------------------------------------------------------------------------- invitations


@admin_route("GET", "/invitations", "invitations.list")
def list_invitations(who: Caller) -> dict[str, Any]:
    return service().list_invitations(who)


@admin_route("POST", "/invitations", "invitations.issue")
def invite(who: Caller) -> Response[str]:
    body = json_body()  # parsed before any I/O
    result = service().invite(who, body)
    invitation = result.get("invitation") or {}
    # the invitee's address stays in the BFF's (encrypted) invitation record, not in the logs
    logger.info("invitation issued", extra={"by": who.login, "orgId": who.org_id,
                                            "invitationId": invitation.get("id")})
    return Response(status_code=201, content_type="application/json", body=json.dumps(result),
                    headers={"Cache-Control": "no-store"})


@admin_route("POST", "/invitations/<invitation_id>/revoke", "invitations.revoke")
def revoke_invitation(who: Caller, invitation_id: str) -> dict[str, Any]:
    result = service().revoke_invitation(who, invitation_id)
    logger.info("invitation revoked", extra={"by": who.login, "orgId": who.org_id,
                                             "invitationId": invitation_id})
    return result


# ---------------------------------------------------------------------------------- reviews


@admin_route("GET", "/reviews", "reviews.list")
def list_reviews(who: Caller) -> dict[str, Any]:
    return service().list_reviews(who, status=query("status"), limit=limit(), cursor=query("cursor"))


@admin_route("GET", "/reviews/<review_id>", "reviews.get")
def get_review(who: Caller, review_id: str) -> dict[str, Any]:
    return service().get_review(who, review_id)


@admin_route("POST", "/reviews/<review_id>/approve", "reviews.approve")
def approve(who: Caller, review_id: str) -> dict[str, Any]:
    result = service().decide(who, review_id, APPROVED)
    logger.info("review approved", extra={"by": who.login, "reviewId": review_id, "orgId": who.org_id})
    return result


@admin_route("POST", "/reviews/<review_id>/reject", "reviews.reject")
def reject(who: Caller, review_id: str) -> dict[str, Any]:
    result = service().decide(who, review_id, REJECTED)
    logger.info("review rejected", extra={"by": who.login, "reviewId": review_id, "orgId": who.org_id})
    return result


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

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

Errors are ``application/problem+json`` ``{type,title,status,code,detail}`` like the BFF's.

Environment (fnlib.names): ``SECRETS_ARN`` (JSON: ``OKTA_API_TOKEN`` or ``OKTA_CLIENT_ID`` +
``OKTA_PRIVATE_KEY``; ``MARKETO_CLIENT_ID``, ``MARKETO_CLIENT_SECRET``), ``OKTA_ORG_URL``,
``REVIEW_TABLE``, ``MARKETO_IDENTITY_URL``, ``MARKETO_REST_URL``; optional ``ADMINS_GROUP``
(default ``customer-admins``). Read once, at cold start.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from admin_api.authz import Caller, Denied
from admin_api.service import AdminError, AdminService, Invalid, Unavailable
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

logger = Logger()
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

        _current.update(secret=secret, service=AdminService(okta, reviews, marketo, ADMINS_GROUP))
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


def caller() -> Caller:
    """The authenticated admin; every route calls this FIRST, before any I/O."""
    raw = app.current_event.raw_event.get("requestContext", {}).get("authorizer", {})
    return Caller.from_authorizer(raw.get("jwt") if isinstance(raw, dict) else None)


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


@app.get("/users")
def list_users() -> dict[str, Any]:
    who = caller()
    return service().list_users(who, q=query("q"), status=query("status"), limit=limit(),
                                after=query("after"))


@app.get("/users/<user_id>")
def get_user(user_id: str) -> dict[str, Any]:
    who = caller()
    return service().get_user(who, user_id)


@app.post("/users/<user_id>/deactivate")
def deactivate(user_id: str) -> dict[str, Any]:
    who = caller()
    result = service().deactivate(who, user_id)
    logger.info("user deactivated", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@app.post("/users/<user_id>/sessions/revoke")
def revoke_sessions(user_id: str) -> dict[str, Any]:
    who = caller()
    result = service().revoke_sessions(who, user_id)
    logger.info("user sessions revoked", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@app.post("/users/<user_id>/reactivate")
def reactivate(user_id: str) -> dict[str, Any]:
    who = caller()
    result = service().reactivate(who, user_id)
    logger.info("user reactivated", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@app.put("/users/<user_id>/admin-role")
def assign_role(user_id: str) -> dict[str, Any]:
    who = caller()
    body = json_body()  # parsed before any I/O
    result = service().assign_group_admin(who, user_id, body)
    logger.info("group admin assigned", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


@app.delete("/users/<user_id>/admin-role")
def remove_role(user_id: str) -> dict[str, Any]:
    who = caller()
    result = service().remove_group_admin(who, user_id)
    logger.info("group admin removed", extra={"by": who.login, "userId": user_id, "orgId": who.org_id})
    return result


# ---------------------------------------------------------------------------------- groups


@app.get("/groups")
def list_groups() -> dict[str, Any]:
    who = caller()
    return service().list_groups(who)


# ---------------------------------------------------------------------------------- reviews


@app.get("/reviews")
def list_reviews() -> dict[str, Any]:
    who = caller()
    return service().list_reviews(who, status=query("status"), limit=limit(), cursor=query("cursor"))


@app.get("/reviews/<review_id>")
def get_review(review_id: str) -> dict[str, Any]:
    who = caller()
    return service().get_review(who, review_id)


@app.post("/reviews/<review_id>/approve")
def approve(review_id: str) -> dict[str, Any]:
    who = caller()
    result = service().decide(who, review_id, APPROVED)
    logger.info("review approved", extra={"by": who.login, "reviewId": review_id, "orgId": who.org_id})
    return result


@app.post("/reviews/<review_id>/reject")
def reject(review_id: str) -> dict[str, Any]:
    who = caller()
    result = service().decide(who, review_id, REJECTED)
    logger.info("review rejected", extra={"by": who.login, "reviewId": review_id, "orgId": who.org_id})
    return result


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""The handler's own checks, which run before any I/O: the AWS endpoint below is a closed port,
so a handler that touched Secrets Manager, DynamoDB or Okta first would answer 503, not 403."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from admin_api.service import LEAD_SOURCE
from bff.proxy.apigw_event import build_http_api_event
from bff_dev.twins.apigw.functions import LambdaContext
from bff_dev.twins.workers.functions import load_function

ENV = {
    "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "SECRETS_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:functions",
    "OKTA_ORG_URL": "http://127.0.0.1:9", "REVIEW_TABLE": "manual-review",
    "MARKETO_IDENTITY_URL": "http://127.0.0.1:9/identity", "MARKETO_REST_URL": "http://127.0.0.1:9/rest",
    "POWERTOOLS_SERVICE_NAME": "admin-api", "POWERTOOLS_LOG_LEVEL": "ERROR",
}


@pytest.fixture(scope="module")
def fn() -> ModuleType:
    return load_function("admin_api", ENV)


def _event(method: str, path: str, claims: dict[str, Any] | None) -> dict[str, Any]:
    return build_http_api_event(method=method, path=path, raw_query="",
                                headers=[("accept", "application/json")], body=b"",
                                route_key="ANY /api/admin/{proxy+}", path_parameters=None, claims=claims,
                                source_ip="1.2.3.4", request_id="req-1", domain_name="api.test", api_id="api",
                                account_id="123456789012")


def _call(fn: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    context = LambdaContext("admin-api", "arn:aws:lambda:eu-west-1:1:function:admin-api", 512, 15)
    result = fn.handler(event, context)
    headers = {k.lower(): v for k, v in result["headers"].items()}
    return result["statusCode"], headers, json.loads(result["body"])


@pytest.mark.parametrize("claims", [
    None,
    {"sub": "bob@acme.test", "scp": ["openid"], "orgId": "acme"},
    {"sub": "bob@acme.test", "scp": ["openid", "admin"], "orgId": "acme"},
    {"sub": "x@acme.test", "scp": ["admin"], "adminRole": "org_admin"},
])
def test_callers_without_an_admin_identity_get_403_before_any_io(fn: ModuleType,
                                                                  claims: dict[str, Any] | None) -> None:
    status, headers, body = _call(fn, _event("GET", "/api/admin/users", claims))
    assert status == 403
    assert headers["content-type"] == "application/problem+json"
    assert body["code"] == "forbidden" and body["status"] == 403


def test_unknown_endpoint_is_a_404_problem(fn: ModuleType) -> None:
    admin = {"sub": "alice@acme.test", "scp": ["admin"], "orgId": "acme", "adminRole": "org_admin"}
    for method, path in (("GET", "/api/admin/nothing"), ("PATCH", "/api/admin/users/00u1"),
                         ("GET", "/api/admin/users/00u1/deactivate")):
        status, headers, body = _call(fn, _event(method, path, admin))
        assert status == 404 and body["code"] == "not_found", (method, path)


def test_lead_source_matches_account_validation() -> None:
    from account_validation.validator import LEAD_SOURCE as VALIDATION_LEAD_SOURCE

    assert LEAD_SOURCE == VALIDATION_LEAD_SOURCE


@pytest.mark.parametrize("body", [b"\xff\xfe{}", b"{\"groups\": [\"\xc3\"]}"])
def test_a_body_that_is_not_utf8_is_a_422_before_any_io(fn: ModuleType, body: bytes) -> None:
    admin = {"sub": "alice@acme.test", "scp": ["admin"], "orgId": "acme", "adminRole": "org_admin"}
    event = build_http_api_event(method="PUT", path="/api/admin/users/00u1/admin-role", raw_query="",
                                 headers=[("content-type", "application/json")], body=body,
                                 route_key="ANY /api/admin/{proxy+}", path_parameters=None, claims=admin,
                                 source_ip="1.2.3.4", request_id="req-1", domain_name="api.test",
                                 api_id="api", account_id="123456789012")
    assert event["isBase64Encoded"] is True
    status, headers, problem = _call(fn, event)
    assert status == 422, problem
    assert headers["content-type"] == "application/problem+json"
    assert problem["errors"] == [{"field": "body", "code": "malformed_json"}]


# -- issue 12 §4: every route goes through the one authorization function ----------------------

ORG_ADMIN_CLAIMS = {"sub": "alice@acme.test", "uid": "00ualice", "scp": ["openid", "admin"],
                    "orgId": "acme", "adminRole": "org_admin"}


def _routes(fn: ModuleType) -> list[tuple[str, str, Any]]:
    """Every route the resolver knows: (method, concrete path, handler)."""
    import re

    routes = [*fn.app._static_routes, *fn.app._dynamic_routes]  # noqa: SLF001 (the resolver's table)
    assert len(routes) >= 11
    return [(r.method, "/api/admin" + re.sub(r"<\w+>", "x1", r.path), r.func) for r in routes]


def test_every_route_is_registered_through_the_one_authorization(fn: ModuleType) -> None:
    import admin_api.authz as authz

    actions = []
    for method, path, func in _routes(fn):
        assert getattr(func, "authorized_by", None) is authz.authorize, f"{method} {path}"
        assert func.admin_action in authz.ACTIONS, f"{method} {path}"
        actions.append(func.admin_action)
    assert sorted(actions) == sorted(authz.ACTIONS)  # one route per action, none left over


def test_every_route_calls_the_authorization_before_any_io(fn: ModuleType,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """With the action table emptied, authorize() denies everything: a route that skipped it
    would reach Secrets Manager (a closed port here: 503), not 403."""
    import admin_api.authz as authz

    monkeypatch.setattr(authz, "ACTIONS", {})
    for method, path, _ in _routes(fn):
        status, _, body = _call(fn, _event(method, path, ORG_ADMIN_CLAIMS))
        assert (status, body["code"], body["detail"]) == (403, "forbidden", "unknown action"), \
            f"{method} {path}"


def test_role_changes_are_for_org_admins_before_any_io(fn: ModuleType) -> None:
    gina = {**ORG_ADMIN_CLAIMS, "sub": "gina@acme.test", "adminRole": "group_admin",
            "adminGroups": "[acme-sales]"}
    for method in ("PUT", "DELETE"):
        status, _, body = _call(fn, _event(method, "/api/admin/users/00ubob/admin-role", gina))
        assert status == 403 and "org admin" in body["detail"]

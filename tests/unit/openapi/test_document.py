"""The OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), equal to the app's route
table and to the admin function's resolver (no undocumented route, no phantom), served as
cacheable JSON without secrets, and written by ``bff openapi``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from bff.app import create_app
from bff.cli import main
from bff.openapi.document import ContractOptions, build_document
from bff_dev.twins.workers.functions import load_function
from tests.support.env import TEST_SECRET, base_env, make_settings
from tests.unit.functions.admin_api.test_app import ENV as ADMIN_ENV

METHODS = {"get", "put", "post", "delete", "patch"}
#: Routes of the app that are not part of the API contract, each with why. Anything else the
#: router lists must be documented.
NOT_IN_CONTRACT = {
    "/assets/{path}": "the SPA's static files",
    "/{path}": "the SPA's HTML (history fallback)",
    "/preview": "AEM's Preview URL: a browser redirect into the SPA",
}
ADMIN_PREFIX = "/api/admin"


def _template(path: str) -> str:
    """Starlette's ``{name:convertor}`` as OpenAPI's ``{name}``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def route_table(app: Any) -> set[tuple[str, str]]:
    """(path, method) of every route of the app (HEAD, which Starlette adds to GET, left out)."""
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/api", f"an unexpected mount {route.path}: document its routes"
            continue  # the proxy: its documented routes are the admin function's (below)
        assert isinstance(route, Route), f"{route!r} is neither a Route nor the /api mount"
        path = _template(route.path)
        if path in NOT_IN_CONTRACT:
            continue
        for method in route.methods or ():
            if method != "HEAD":
                out.add((path, method.lower()))
    return out


@pytest.fixture(scope="module")
def admin_fn() -> ModuleType:
    return load_function("admin_api", ADMIN_ENV)


def admin_table(fn: ModuleType) -> set[tuple[str, str]]:
    """(path, method) of every route of the admin function's Powertools resolver."""
    resolver = fn.app
    out = set()
    for route in [*resolver._static_routes, *resolver._dynamic_routes]:
        path = ADMIN_PREFIX + re.sub(r"<(\w+)>", r"{\1}", route.path)
        out.add((path, route.method.lower()))
    return out


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item if method in METHODS}


def _param_names(path: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", path))


def _explain(missing: set[tuple[str, str]], phantom: set[tuple[str, str]], where: str) -> str:
    lines = []
    for path, method in sorted(missing):
        lines.append(
            f"  undocumented: {method.upper()} {path} ({where}): add it to bff/openapi/document.py "
            "with its request and response schemas (bff/openapi/schemas.py)"
        )
    for path, method in sorted(phantom):
        lines.append(
            f"  phantom: {method.upper()} {path} is documented but {where} has no such route: "
            "remove it from bff/openapi/document.py"
        )
    return "the OpenAPI document and the routes differ:\n" + "\n".join(lines)


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = build_document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises OpenAPIValidationError with the JSON path of the problem


@pytest.mark.parametrize("mode", ["embedded", "redirect"])
def test_the_document_equals_the_route_table(mode: str) -> None:
    settings = make_settings(BFF_SIGNIN_MODE=mode)
    app = create_app(settings)
    doc = build_document(ContractOptions.from_settings(settings))
    validate(doc)
    routes = route_table(app)
    bff_doc = {(p, m) for p, m in documented(doc) if not p.startswith(ADMIN_PREFIX)}
    assert bff_doc == routes, _explain(routes - bff_doc, bff_doc - routes, "the app's route table")


def test_the_admin_paths_equal_the_admin_functions_routes(admin_fn: ModuleType) -> None:
    doc = build_document()
    table = admin_table(admin_fn)
    admin_doc = {(p, m) for p, m in documented(doc) if p.startswith(ADMIN_PREFIX)}
    assert table, "the resolver lists no routes: the test would hold nothing"
    assert admin_doc == table, _explain(
        table - admin_doc, admin_doc - table, "infra/functions/admin_api/app.py"
    )


def test_the_route_table_check_can_fail() -> None:
    """The comparison sees an extra route (as the message a newcomer gets would name it)."""
    settings = make_settings()
    routes = route_table(
        create_app(settings, extra_routes=[Route("/bff/new-thing", lambda r: None, methods=["POST"])])
    )
    doc = {(p, m) for p, m in documented(build_document()) if not p.startswith(ADMIN_PREFIX)}
    assert routes - doc == {("/bff/new-thing", "post")}
    assert "undocumented: POST /bff/new-thing" in _explain(routes - doc, set(), "the app's route table")


def test_every_operation_is_complete() -> None:
    """Path parameters declared, unique ids, JSON answers schema'd, every 4xx problem+json."""
    doc = build_document()
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == _param_names(path), f"{method} {path}: path parameters"
            assert op["responses"], f"{method} {path}: no responses"
            for status, response in op["responses"].items():
                content = response.get("content", {})
                if status.startswith("4") or status.startswith("5"):
                    if path == "/readyz":
                        continue  # its 503 is the readiness report itself
                    assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
                for media in content.values():
                    assert "schema" in media, f"{method} {path} {status}: no schema"
    assert len(ids) == len(set(ids)), "operationId must be unique"


def test_no_secret_and_no_deployment_url_in_the_document() -> None:
    settings = make_settings(
        BFF_OKTA_HOOK_SECRET="hook-secret-value-0123456789",
        BFF_AEM_WEBHOOK_SECRET="aem-secret-value-0123456789",
    )
    text = json.dumps(build_document(ContractOptions.from_settings(settings)))
    for value in (
        TEST_SECRET,
        "test-client-secret-value",
        "hook-secret-value-0123456789",
        "aem-secret-value-0123456789",
        settings.okta.client_id,
        settings.okta.issuer,
        settings.public_url,
        settings.content.aem_url,
    ):
        assert value not in text


def test_the_document_follows_the_settings() -> None:
    settings = make_settings(
        BFF_COOKIE_NAME="__Host-portal", BFF_CSRF_HEADER="X-Portal", BFF_CSRF_VALUE="yes"
    )
    doc = build_document(ContractOptions.from_settings(settings))
    assert doc["components"]["securitySchemes"]["session"]["name"] == "__Host-portal"
    csrf = next(p for p in doc["paths"]["/bff/logout"]["post"]["parameters"] if p["in"] == "header")
    assert csrf["name"] == "X-Portal" and csrf["schema"]["const"] == "yes"


async def test_served_at_bff_openapi_json_cacheable() -> None:
    settings = make_settings()
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.public_url) as c:
        first = await c.get("/bff/openapi.json")
        again = await c.get("/bff/openapi.json", headers={"If-None-Match": first.headers["etag"]})
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json() == json.loads(json.dumps(build_document(ContractOptions.from_settings(settings))))
    assert first.headers["cache-control"] == "public, max-age=300"
    assert "set-cookie" not in first.headers
    assert again.status_code == 304 and again.content == b""


def test_bff_openapi_writes_the_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--output", str(out)]) == 0
    assert json.loads(out.read_text()) == build_document()
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == build_document()


def test_bff_openapi_from_env_uses_the_deployments_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in base_env(BFF_COOKIE_NAME="__Host-x", BFF_SIGNIN_MODE="redirect").items():
        monkeypatch.setenv(key, value)
    assert main(["openapi", "--from-env"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["components"]["securitySchemes"]["session"]["name"] == "__Host-x"
    assert "/bff/signin/{rest}" in doc["paths"]

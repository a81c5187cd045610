"""The twin's provisioning endpoints answer with Okta's shapes and errors (in process, no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.okta.provisioning import Provisioning, install_provisioning

BASE = "http://okta.twin.test"
TOKEN = "provisioning-test-token"
AS = "/api/v1/authorizationServers"


@pytest.fixture
async def env() -> AsyncIterator[tuple[OktaTwin, Provisioning, httpx.AsyncClient]]:
    twin = OktaTwin(BASE)
    twin.add_api_token(TOKEN)
    prov = install_provisioning(twin)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=twin.app), base_url=BASE, headers={"Authorization": f"SSWS {TOKEN}"}
    ) as http:
        yield twin, prov, http


def assert_okta_error(response: httpx.Response, status: int, code: str, cause: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert body["errorCode"] == code
    if cause is not None:
        assert any(cause in c["errorSummary"] for c in body["errorCauses"]), body


APP = {
    "name": "oidc_client",
    "label": "BFF",
    "signOnMode": "OPENID_CONNECT",
    "credentials": {
        "oauthClient": {"token_endpoint_auth_method": "client_secret_basic", "pkce_required": True}
    },
    "settings": {
        "oauthClient": {
            "redirect_uris": ["https://app.example.com/bff/callback"],
            "post_logout_redirect_uris": ["https://app.example.com/"],
            "response_types": ["code"],
            "grant_types": ["authorization_code", "refresh_token"],
            "application_type": "web",
            "refresh_token": {"rotation_type": "ROTATE", "leeway": 30},
        }
    },
}


async def test_authentication_and_unknown_resources(env: Any) -> None:
    _, _, http = env
    assert_okta_error(await http.get(AS, headers={"Authorization": "SSWS wrong"}), 401, "E0000011")
    response = await http.get(f"{AS}/aus-nope")
    assert_okta_error(response, 404, "E0000007")
    assert response.json()["errorSummary"] == "Not found: Resource not found: aus-nope (AuthorizationServer)"
    assert "X-Rate-Limit-Remaining" in response.headers


async def test_a_new_org_has_the_default_server_with_system_scopes_and_the_default_policy(env: Any) -> None:
    twin, _, http = env
    servers = (await http.get(AS, params={"q": "def"})).json()
    assert [s["id"] for s in servers] == ["default"] and servers[0]["issuer"] == twin.issuer
    scopes = {s["name"]: s for s in (await http.get(f"{AS}/default/scopes")).json()}
    assert scopes["openid"]["system"] is True and "admin" not in scopes
    policies = (await http.get(f"{AS}/default/policies")).json()
    assert [(p["name"], p["priority"], p["conditions"]["clients"]["include"]) for p in policies] == [
        ("Default Policy", 1, ["ALL_CLIENTS"])
    ]
    rules = (await http.get(f"{AS}/default/policies/{policies[0]['id']}/rules")).json()
    assert rules[0]["conditions"]["scopes"]["include"] == ["*"]
    assert rules[0]["conditions"]["people"]["groups"]["include"] == ["EVERYONE"]


async def test_validation_errors_name_the_field(env: Any) -> None:
    _, _, http = env
    assert_okta_error(
        await http.post(AS, json={"audiences": ["api://x"]}),
        400,
        "E0000001",
        "name: The field cannot be left blank",
    )
    assert_okta_error(
        await http.post(AS, json={"name": "x", "audiences": ["a", "b"]}), 400, "E0000001", "only one audience"
    )
    assert_okta_error(
        await http.post(
            f"{AS}/default/claims",
            json={"name": "sub", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "user.login"},
        ),
        400,
        "E0000001",
        "reserved",
    )
    assert_okta_error(
        await http.post(
            f"{AS}/default/claims",
            json={
                "name": "adminRole",
                "claimType": "RESOURCE",
                "valueType": "EXPRESSION",
                "value": "user.adminRole",
                "conditions": {"scopes": ["admin"]},
            },
        ),
        400,
        "E0000001",
        "The scope 'admin' does not exist",
    )
    assert_okta_error(
        await http.post(
            f"{AS}/default/claims",
            json={"name": "groups", "claimType": "IDENTITY", "valueType": "GROUPS", "value": ".*"},
        ),
        400,
        "E0000001",
        "group_filter_type",
    )
    assert_okta_error(
        await http.post(f"{AS}/default/scopes", json={"name": "openid"}), 400, "E0000001", "already exists"
    )
    response = await http.post(
        f"{AS}/default/scopes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_okta_error(response, 400, "E0000003")


async def test_policies_and_rules_take_the_priority_asked_for(env: Any) -> None:
    twin, _, http = env
    created = await http.post(
        f"{AS}/default/policies",
        json={
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "name": "BFF",
            "description": "bff",
            "priority": 1,
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        },
    )
    assert created.status_code == 201
    names = [(p["name"], p["priority"]) for p in (await http.get(f"{AS}/default/policies")).json()]
    assert names == [("BFF", 1), ("Default Policy", 2)]
    rules = f"{AS}/default/policies/{created.json()['id']}/rules"
    base_rule = {
        "type": "RESOURCE_ACCESS",
        "name": "r",
        "conditions": {
            "people": {"groups": {"include": ["EVERYONE"]}},
            "grantTypes": {"include": ["authorization_code"]},
            "scopes": {"include": ["openid"]},
        },
    }
    bad_grant = {
        **base_rule,
        "conditions": {**base_rule["conditions"], "grantTypes": {"include": ["refresh_token"]}},
    }
    assert_okta_error(
        await http.post(rules, json=bad_grant), 400, "E0000001", "'refresh_token' is not a valid"
    )
    bad_scope = {**base_rule, "conditions": {**base_rule["conditions"], "scopes": {"include": ["admin"]}}}
    assert_okta_error(await http.post(rules, json=bad_scope), 400, "E0000001", "Invalid scope: admin")
    bad_group = {
        **base_rule,
        "conditions": {**base_rule["conditions"], "people": {"groups": {"include": ["00gnope"]}}},
    }
    assert_okta_error(await http.post(rules, json=bad_group), 400, "E0000001", "Invalid group id")
    bad_lifetime = {**base_rule, "actions": {"token": {"accessTokenLifetimeMinutes": 2}}}
    assert_okta_error(
        await http.post(rules, json=bad_lifetime), 400, "E0000001", "accessTokenLifetimeMinutes"
    )
    assert (await http.post(rules, json=base_rule)).status_code == 201
    second = await http.post(rules, json={**base_rule, "name": "first", "priority": 1})
    assert [(r["name"], r["priority"]) for r in (await http.get(rules)).json()] == [("first", 1), ("r", 2)]
    assert second.json()["priority"] == 1


async def test_apps_show_the_secret_once_and_become_sign_in_clients(env: Any) -> None:
    twin, prov, http = env
    created = await http.post("/api/v1/apps", json=APP)
    assert created.status_code == 200, created.text
    body = created.json()
    client_id = body["credentials"]["oauthClient"]["client_id"]
    assert client_id == body["id"] and body["id"].startswith("0oa")
    secret = body["credentials"]["oauthClient"]["client_secret"]
    fetched = (await http.get(f"/api/v1/apps/{body['id']}")).json()
    assert "client_secret" not in fetched["credentials"]["oauthClient"]
    assert fetched["settings"]["oauthClient"]["refresh_token"] == {"rotation_type": "ROTATE", "leeway": 30}
    assert twin.clients[client_id].secret == secret
    assert twin.clients[client_id].redirect_uris == ("https://app.example.com/bff/callback",)

    assert_okta_error(await http.delete(f"/api/v1/apps/{body['id']}"), 400, "E0000001", "deactivate it first")
    assert (await http.post(f"/api/v1/apps/{body['id']}/lifecycle/deactivate")).status_code == 200
    assert client_id not in twin.clients
    assert [a["label"] for a in (await http.get("/api/v1/apps", params={"q": "bf"})).json()] == ["BFF"]


async def test_app_validation(env: Any) -> None:
    _, _, http = env
    no_redirects = {
        **APP,
        "settings": {"oauthClient": {**APP["settings"]["oauthClient"], "redirect_uris": []}},
    }
    assert_okta_error(await http.post("/api/v1/apps", json=no_redirects), 400, "E0000001", "redirect_uris")
    bad_uri = {
        **APP,
        "settings": {
            "oauthClient": {
                **APP["settings"]["oauthClient"],
                "redirect_uris": ["http://app.example.com/cb#x"],
            }
        },
    }
    assert_okta_error(await http.post("/api/v1/apps", json=bad_uri), 400, "E0000001", "not a valid URI")
    pkjwt = {**APP, "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}}}
    assert_okta_error(await http.post("/api/v1/apps", json=pkjwt), 400, "E0000001", "jwks")
    leeway = {
        **APP,
        "settings": {
            "oauthClient": {
                **APP["settings"]["oauthClient"],
                "refresh_token": {"rotation_type": "ROTATE", "leeway": 90},
            }
        },
    }
    assert_okta_error(await http.post("/api/v1/apps", json=leeway), 400, "E0000001", "leeway")


async def test_the_profile_schema(env: Any) -> None:
    _, prov, http = env
    url = "/api/v1/meta/schemas/user/default"
    schema = (await http.get(url)).json()
    assert schema["definitions"]["custom"]["properties"] == {}
    assert "login" in schema["definitions"]["base"]["properties"]
    prop = {
        "title": "Groups",
        "type": "array",
        "items": {"type": "string"},
        "permissions": [{"principal": "SELF", "action": "HIDE"}],
    }
    updated = await http.post(url, json={"definitions": {"custom": {"properties": {"adminGroups": prop}}}})
    assert updated.json()["definitions"]["custom"]["properties"]["adminGroups"]["union"] == "DISABLE"
    change_type = {
        "definitions": {"custom": {"properties": {"adminGroups": {"title": "x", "type": "string"}}}}
    }
    assert_okta_error(await http.post(url, json=change_type), 400, "E0000001", "cannot be changed")
    base_clash = {"definitions": {"custom": {"properties": {"Email": {"title": "x", "type": "string"}}}}}
    assert_okta_error(await http.post(url, json=base_clash), 400, "E0000001", "base property")
    bad_enum = {
        "definitions": {"custom": {"properties": {"n": {"title": "n", "type": "integer", "enum": ["a"]}}}}
    }
    assert_okta_error(await http.post(url, json=bad_enum), 400, "E0000001", "enum")
    await http.post(url, json={"definitions": {"custom": {"properties": {"adminGroups": None}}}})
    assert prov.custom_properties == {}
    assert_okta_error(await http.get("/api/v1/meta/schemas/user/oty123"), 404, "E0000007")


async def test_trusted_origins(env: Any) -> None:
    _, _, http = env
    good = {
        "name": "app",
        "origin": "https://app.example.com",
        "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}],
    }
    assert (await http.post("/api/v1/trustedOrigins", json=good)).status_code == 200
    assert_okta_error(
        await http.post("/api/v1/trustedOrigins", json={**good, "name": "again"}),
        400,
        "E0000001",
        "already exists",
    )
    assert_okta_error(
        await http.post("/api/v1/trustedOrigins", json={**good, "origin": "https://a.test/path"}),
        400,
        "E0000001",
        "not a valid origin",
    )
    assert_okta_error(
        await http.post(
            "/api/v1/trustedOrigins", json={**good, "origin": "https://b.test", "scopes": [{"type": "BOGUS"}]}
        ),
        400,
        "E0000001",
        "scope",
    )


async def test_event_hooks_are_the_twins_hooks(env: Any) -> None:
    twin, _, http = env
    hook = {
        "name": "created",
        "events": {"type": "EVENT_TYPE", "items": ["user.lifecycle.create"]},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": "https://app.example.com/bff/hooks/okta",
                "authScheme": {"type": "HEADER", "key": "Authorization", "value": "s3cret"},
            },
        },
    }
    no_secret = {**hook, "channel": {**hook["channel"], "config": {"uri": "https://app.example.com/h"}}}
    assert_okta_error(
        await http.post("/api/v1/eventHooks", json=no_secret), 400, "E0000001", "authScheme.value"
    )
    unknown = {**hook, "events": {"type": "EVENT_TYPE", "items": ["user.nope"]}}
    assert_okta_error(await http.post("/api/v1/eventHooks", json=unknown), 400, "E0000001", "user.nope")
    created = (await http.post("/api/v1/eventHooks", json=hook)).json()
    assert created["verificationStatus"] == "UNVERIFIED" and created["status"] == "ACTIVE"
    assert "value" not in created["channel"]["config"]["authScheme"]  # write-only
    assert [(h.id, h.auth_value) for h in twin.event_hooks] == [(created["id"], "s3cret")]
    await http.post(f"/api/v1/eventHooks/{created['id']}/lifecycle/deactivate")
    assert twin.event_hooks == []
    listed = (await http.get("/api/v1/eventHooks")).json()
    assert [(h["name"], h["status"]) for h in listed] == [("created", "INACTIVE")]


async def test_the_default_servers_policies_drive_the_twins_sign_in_knobs(env: Any) -> None:
    twin, _, http = env
    authors = twin.directory.group_by_name("content-authors")
    assert authors is not None
    await http.post(f"{AS}/default/scopes", json={"name": "admin", "consent": "IMPLICIT"})
    # The Default Policy (Everyone, any scope) leaves admin unguarded, as in Okta.
    assert twin.custom_scopes == {"admin"} and twin.scope_policies == {}
    policies = (await http.get(f"{AS}/default/policies")).json()
    await http.post(f"{AS}/default/policies/{policies[0]['id']}/lifecycle/deactivate")
    assert twin.scope_policies == {"admin": "(no group may request admin)"}
    policy = (
        await http.post(
            f"{AS}/default/policies",
            json={
                "type": "OAUTH_AUTHORIZATION_POLICY",
                "name": "BFF",
                "description": "bff",
                "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
            },
        )
    ).json()
    await http.post(
        f"{AS}/default/policies/{policy['id']}/rules",
        json={
            "type": "RESOURCE_ACCESS",
            "name": "authors",
            "conditions": {
                "people": {"groups": {"include": [authors.id]}},
                "grantTypes": {"include": ["authorization_code"]},
                "scopes": {"include": ["openid", "admin"]},
            },
        },
    )
    assert twin.scope_policies == {"admin": "content-authors"}

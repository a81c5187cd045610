"""The twin's Management API (/api/v1/users, /api/v1/groups) and org authorization server."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import API_TOKEN, Login, callback_params, tokens_for, verified_claims
from tests.support.okta import browser_sign_in

SSWS = {"Authorization": f"SSWS {API_TOKEN}", "Accept": "application/json"}
TAKEN = "login: An object with this field already exists in the current organization"


def new_user(email: str = "new.person@acme.test", **profile: Any) -> dict[str, Any]:
    return {
        "profile": {
            "firstName": "New",
            "lastName": "Person",
            "email": email,
            "login": email,
            "orgId": "acme",
            **profile,
        }
    }


def assert_okta_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert body["errorCode"] == code and body["errorLink"] == code and body["errorId"].startswith("oae")
    return body


@pytest.fixture
async def api(okta: OktaTwin) -> Any:
    async with httpx.AsyncClient(base_url=okta.base_url, headers=SSWS, timeout=10) as client:
        yield client


async def test_authentication_errors(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    missing = await http.get(f"{okta.base_url}/api/v1/users")
    body = assert_okta_error(missing, 401, "E0000011")
    assert body["errorSummary"] == "Invalid token provided"
    assert_okta_error(
        await http.get(f"{okta.base_url}/api/v1/users", headers={"Authorization": "SSWS nope"}),
        401,
        "E0000011",
    )
    for name in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
        assert missing.headers[name].isdigit()


async def test_create_user_statuses_and_sign_in(
    okta: OktaTwin, api: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    active = await api.post(
        "/api/v1/users",
        params={"activate": "true"},
        json={**new_user(), "credentials": {"password": {"value": "Sup3rSecret!"}}},
    )
    assert active.status_code == 200
    user = active.json()
    assert user["status"] == "ACTIVE" and user["id"].startswith("00u") and len(user["id"]) == 20
    assert user["profile"]["login"] == "new.person@acme.test" and user["credentials"]["password"] == {}
    assert user["_links"]["self"]["href"] == f"{okta.base_url}/api/v1/users/{user['id']}"
    assert okta.counters["mgmt:POST /api/v1/users"] == 1

    provisioned = await api.post("/api/v1/users?activate=true", json=new_user("p@acme.test"))
    assert (
        provisioned.json()["status"] == "PROVISIONED" and "password" not in provisioned.json()["credentials"]
    )
    staged = await api.post("/api/v1/users?activate=false", json=new_user("s@acme.test"))
    assert staged.json()["status"] == "STAGED" and staged.json()["activated"] is None

    response = await browser_sign_in(
        http, Login(okta).url, username="new.person@acme.test", password="Sup3rSecret!"
    )
    assert "code" in callback_params(response)
    http.cookies.clear()
    assert (await browser_sign_in(http, Login(okta).url, username="p@acme.test")).status_code == 401


async def test_create_user_validation(api: httpx.AsyncClient) -> None:
    taken = await api.post("/api/v1/users", json=new_user("BOB@acme.test"))
    body = assert_okta_error(taken, 400, "E0000001")
    assert body["errorSummary"] == "Api validation failed: login"
    assert body["errorCauses"] == [{"errorSummary": TAKEN}]

    bad = await api.post(
        "/api/v1/users",
        json={"profile": {"email": "not-an-email", "login": "x", "lastName": "L", "shoeSize": "9"}},
    )
    causes = [c["errorSummary"] for c in assert_okta_error(bad, 400, "E0000001")["errorCauses"]]
    assert "email: Does not match required pattern" in causes
    assert "firstName: The field cannot be left blank" in causes
    assert any(c.startswith("shoeSize:") for c in causes)
    assert any(c.startswith("login:") for c in causes)

    weak = await api.post(
        "/api/v1/users", json={**new_user("w@acme.test"), "credentials": {"password": {"value": "password"}}}
    )
    causes = [c["errorSummary"] for c in assert_okta_error(weak, 400, "E0000001")["errorCauses"]]
    assert causes[0].startswith("password: Password requirements were not met")

    wrong_type = await api.post("/api/v1/users", json=new_user("t@acme.test", adminGroups="acme-sales"))
    assert_okta_error(wrong_type, 400, "E0000001")
    assert_okta_error(
        await api.post("/api/v1/users", content=b"{nope", headers={"Content-Type": "application/json"}),
        400,
        "E0000003",
    )
    assert_okta_error(await api.post("/api/v1/users", json=[1, 2]), 400, "E0000003")
    assert_okta_error(
        await api.post("/api/v1/users", json=new_user(firstName="x" * 2_000_000)), 400, "E0000003"
    )


async def test_list_search_filter_and_pagination(api: httpx.AsyncClient) -> None:
    acme = (await api.get("/api/v1/users", params={"search": 'profile.orgId eq "acme"'})).json()
    assert {u["profile"]["orgId"] for u in acme} == {"acme"} and len(acme) == 14
    admins = (
        await api.get(
            "/api/v1/users", params={"search": 'profile.orgId eq "globex" and profile.adminRole pr'}
        )
    ).json()
    assert [u["profile"]["login"] for u in admins] == ["olga@globex.test"]
    group_admins = (
        await api.get("/api/v1/users", params={"search": 'profile.adminGroups eq "acme-sales"'})
    ).json()
    assert [u["profile"]["login"] for u in group_admins] == ["gina@acme.test"]

    active = (await api.get("/api/v1/users", params={"filter": 'status eq "ACTIVE"'})).json()
    assert "ivan@acme.test" not in {u["profile"]["login"] for u in active} and len(active) == 15
    # Okta's filter only supports a few attributes: custom attributes need `search`
    assert_okta_error(
        await api.get("/api/v1/users", params={"filter": 'profile.orgId eq "acme"'}), 400, "E0000031"
    )
    assert_okta_error(await api.get("/api/v1/users", params={"search": "profile.orgId eq"}), 400, "E0000031")

    q = (await api.get("/api/v1/users", params={"q": "gar"})).json()
    assert {u["profile"]["login"] for u in q} == {"gina@acme.test", "gary@globex.test"}

    seen: list[str] = []
    url: str | None = "/api/v1/users?limit=4"
    while url:
        page = await api.get(url)
        assert page.status_code == 200 and len(page.json()) <= 4
        seen += [u["id"] for u in page.json()]
        assert 'rel="self"' in page.headers["link"]
        links = httpx.Response(200, headers={"link": page.headers["link"]}).links
        url = links.get("next", {}).get("url")
    assert len(seen) == len(set(seen)) == 16


async def test_get_update_and_replace(api: httpx.AsyncClient) -> None:
    by_login = await api.get("/api/v1/users/bob@acme.test")
    uid = by_login.json()["id"]
    assert (await api.get(f"/api/v1/users/{uid}")).json()["profile"]["email"] == "bob@acme.test"
    missing = await api.get("/api/v1/users/00unosuchuser0000000")
    assert assert_okta_error(missing, 404, "E0000007")["errorSummary"].startswith("Not found: ")

    partial = await api.post(
        f"/api/v1/users/{uid}",
        json={"profile": {"title": "VP", "mobilePhone": None, "complianceStatus": "passed"}},
    )
    profile = partial.json()["profile"]
    assert profile["title"] == "VP" and "mobilePhone" not in profile and profile["firstName"] == "Bob"

    replaced = await api.put(
        f"/api/v1/users/{uid}",
        json={
            "profile": {
                "firstName": "Robert",
                "lastName": "Brown",
                "email": "bob@acme.test",
                "login": "bob@acme.test",
            }
        },
    )
    assert replaced.json()["profile"] == {
        "firstName": "Robert",
        "lastName": "Brown",
        "email": "bob@acme.test",
        "login": "bob@acme.test",
    }
    incomplete = await api.put(f"/api/v1/users/{uid}", json={"profile": {"firstName": "R"}})
    assert_okta_error(incomplete, 400, "E0000001")
    clash = await api.post(f"/api/v1/users/{uid}", json={"profile": {"login": "alice@acme.test"}})
    assert clash.json()["errorCauses"] == [{"errorSummary": TAKEN}]


async def test_lifecycle(okta: OktaTwin, api: httpx.AsyncClient, http: httpx.AsyncClient) -> None:
    tokens = await tokens_for(http, okta, "dave@acme.test")
    uid = "00udave0000000000001"
    assert (await api.post(f"/api/v1/users/{uid}/lifecycle/suspend")).status_code == 200
    assert (await api.get(f"/api/v1/users/{uid}")).json()["status"] == "SUSPENDED"
    # suspension ends sessions and revokes tokens
    info = await http.get(
        f"{okta.issuer}/v1/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 401
    http.cookies.clear()
    assert (await browser_sign_in(http, Login(okta).url, username="dave@acme.test")).status_code == 401
    assert (await api.post(f"/api/v1/users/{uid}/lifecycle/unsuspend")).status_code == 200
    assert_okta_error(await api.post(f"/api/v1/users/{uid}/lifecycle/activate"), 403, "E0000016")
    assert (await api.post(f"/api/v1/users/{uid}/lifecycle/deactivate")).status_code == 200
    assert (await api.get(f"/api/v1/users/{uid}")).json()["status"] == "DEPROVISIONED"
    listed = {u["id"] for u in (await api.get("/api/v1/users")).json()}
    assert uid not in listed  # a plain list leaves deprovisioned users out, as Okta
    assert (await api.post(f"/api/v1/users/{uid}/lifecycle/activate")).json() == {}
    assert (await api.get(f"/api/v1/users/{uid}")).json()["status"] == "ACTIVE"
    assert_okta_error(await api.post(f"/api/v1/users/{uid}/lifecycle/explode"), 404, "E0000007")


async def test_groups(okta: OktaTwin, api: httpx.AsyncClient, http: httpx.AsyncClient) -> None:
    groups = (await api.get("/api/v1/groups")).json()
    names = {g["profile"]["name"] for g in groups}
    assert {"Everyone", "customer-admins", "content-authors", "acme-sales", "acme-support"} <= names
    sales = next(g for g in groups if g["profile"]["name"] == "acme-sales")
    assert sales["type"] == "OKTA_GROUP" and sales["objectClass"] == ["okta:user_group"]
    assert sales["profile"]["orgId"] == "acme"
    assert [
        g["profile"]["name"] for g in (await api.get("/api/v1/groups", params={"q": "acme-su"})).json()
    ] == ["acme-support"]
    by_org = (await api.get("/api/v1/groups", params={"search": 'profile.orgId eq "globex"'})).json()
    assert [g["profile"]["name"] for g in by_org] == ["globex-ops"]
    gid = sales["id"]
    assert (await api.get(f"/api/v1/groups/{gid}")).json()["id"] == gid
    members = {u["profile"]["login"] for u in (await api.get(f"/api/v1/groups/{gid}/users")).json()}
    assert members == {"gina@acme.test", "bob@acme.test", "dave@acme.test", "erin@acme.test"}

    frank = "00ufrank000000000001"
    assert (await api.put(f"/api/v1/groups/{gid}/users/{frank}")).status_code == 204
    user_groups = {g["profile"]["name"] for g in (await api.get(f"/api/v1/users/{frank}/groups")).json()}
    assert user_groups == {"Everyone", "acme-support", "acme-sales"}
    claims = await verified_claims(
        http, okta, (await tokens_for(http, okta, "frank@acme.test"))["access_token"]
    )
    assert sorted(claims["groups"]) == ["acme-sales", "acme-support"]
    assert (await api.delete(f"/api/v1/groups/{gid}/users/{frank}")).status_code == 204
    assert_okta_error(await api.get("/api/v1/groups/00gnosuchgroup0000000"), 404, "E0000007")
    assert_okta_error(await api.put(f"/api/v1/groups/00gnosuch/users/{frank}"), 404, "E0000007")


async def test_rate_limits(okta: OktaTwin, api: httpx.AsyncClient) -> None:
    okta.rate_limits["users"] = 2
    first = await api.get("/api/v1/users/bob@acme.test")
    assert (first.headers["x-rate-limit-limit"], first.headers["x-rate-limit-remaining"]) == ("2", "1")
    assert int(first.headers["x-rate-limit-reset"]) > time.time()
    await api.get("/api/v1/users/bob@acme.test")
    limited = await api.get("/api/v1/users/bob@acme.test")
    assert_okta_error(limited, 429, "E0000047")
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert (await api.get("/api/v1/groups")).status_code == 200  # another bucket

    okta.fail_next("/api/v1/groups", 429, headers={"X-Rate-Limit-Reset": "1700000000"})
    injected = await api.get("/api/v1/groups")
    assert_okta_error(injected, 429, "E0000047")
    assert injected.headers["x-rate-limit-reset"] == "1700000000"


async def test_unknown_paths_and_methods(api: httpx.AsyncClient) -> None:
    assert_okta_error(await api.get("/api/v1/nothing-here"), 404, "E0000007")
    assert_okta_error(await api.patch("/api/v1/users"), 405, "E0000022")


async def test_service_app_bearer_tokens(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    key = RSAKey.generate_key(2048, private=True)
    okta.register_service_app(
        "0oasvc", jwks={"keys": [key.as_dict(private=False)]}, scopes=["okta.users.read", "okta.users.manage"]
    )
    token_url = f"{okta.base_url}/oauth2/v1/token"

    def assertion() -> str:
        now = int(time.time())
        return jwt.encode(
            {"alg": "RS256"},
            {
                "iss": "0oasvc",
                "sub": "0oasvc",
                "aud": token_url,
                "iat": now,
                "exp": now + 300,
                "jti": str(time.monotonic_ns()),
            },
            key,
        )

    async def token(scope: str) -> httpx.Response:
        return await http.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "scope": scope,
                "client_assertion": assertion(),
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            },
        )

    granted = await token("okta.users.manage")
    assert granted.status_code == 200 and granted.json()["token_type"] == "Bearer"
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    created = await http.post(f"{okta.base_url}/api/v1/users", json=new_user("svc@acme.test"), headers=bearer)
    assert created.status_code == 200
    groups = await http.get(f"{okta.base_url}/api/v1/groups", headers=bearer)
    assert_okta_error(groups, 403, "E0000006")
    assert 'error="insufficient_scope"' in groups.headers["www-authenticate"]
    refused = await token("okta.groups.manage")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    secret = await http.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "scope": "okta.users.read",
            "client_id": "0oasvc",
            "client_secret": "x",
        },
    )
    assert secret.status_code == 401 and secret.json()["error"] == "invalid_client"
    # the custom server's user access tokens are not Management API credentials
    user_token = (await tokens_for(http, okta))["access_token"]
    assert_okta_error(
        await http.get(f"{okta.base_url}/api/v1/users", headers={"Authorization": f"Bearer {user_token}"}),
        401,
        "E0000011",
    )

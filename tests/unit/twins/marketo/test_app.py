"""The Marketo twin's wire behaviour (in-process ASGI, no sockets)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bff_dev.twins.marketo import MarketoTwin, create_app
from bff_dev.twins.marketo.app import DEV_CLIENT_ID, DEV_CLIENT_SECRET


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def twin(clock: Clock) -> MarketoTwin:
    return MarketoTwin(clock=clock)


@pytest.fixture
async def http(twin: MarketoTwin) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(twin)), base_url="http://marketo.test"
    ) as client:
        yield client


async def token(http: httpx.AsyncClient) -> str:
    resp = await http.get(
        "/identity/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": DEV_CLIENT_ID,
            "client_secret": DEV_CLIENT_SECRET,
        },
    )
    assert resp.status_code == 200
    return str(resp.json()["access_token"])


async def upsert(http: httpx.AsyncClient, tok: str | None, body: Any, **kw: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    resp = await http.post("/rest/v1/leads.json", json=body, headers=headers, **kw)
    assert resp.status_code == 200  # Marketo answers request errors with HTTP 200
    data: dict[str, Any] = resp.json()
    assert isinstance(data["requestId"], str) and "#" in data["requestId"]
    return data


def lead(email: str = "ada@example.test", **extra: Any) -> dict[str, Any]:
    return {
        "action": "createOrUpdate",
        "lookupField": "email",
        "input": [{"email": email, "firstName": "Ada", "lastName": "Lovelace", **extra}],
    }


async def test_token_shape_and_reuse_while_valid(http: httpx.AsyncClient, clock: Clock) -> None:
    first = (
        await http.post(
            "/identity/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEV_CLIENT_ID,
                "client_secret": DEV_CLIENT_SECRET,
            },
        )
    ).json()
    assert first["token_type"] == "bearer" and first["expires_in"] == 3599 and first["scope"]
    clock.now += 100
    again = (
        await http.get(
            "/identity/oauth/token",
            params={
                "grant_type": "client_credentials",
                "client_id": DEV_CLIENT_ID,
                "client_secret": DEV_CLIENT_SECRET,
            },
        )
    ).json()
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 3499


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": DEV_CLIENT_ID, "client_secret": "wrong"},
            401,
            "unauthorized",
        ),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
    ],
)
async def test_token_errors(http: httpx.AsyncClient, params: dict[str, str], status: int, error: str) -> None:
    resp = await http.get("/identity/oauth/token", params=params)
    assert resp.status_code == status and resp.json()["error"] == error


async def test_create_then_update_and_read_back(http: httpx.AsyncClient, twin: MarketoTwin) -> None:
    tok = await token(http)
    created = await upsert(http, tok, lead(oktaUserId="00u1"))
    assert created["success"] is True and created["result"][0]["status"] == "created"
    lead_id = created["result"][0]["id"]
    updated = await upsert(http, tok, lead(email="ADA@example.test", lastName="Byron"))
    assert updated["result"] == [{"id": lead_id, "status": "updated"}]
    assert twin.lead_by_email("ada@example.test")["lastName"] == "Byron"
    got = (
        await http.get(
            "/rest/v1/leads.json",
            params={"filterType": "email", "filterValues": "ada@example.test"},
            headers={"Authorization": f"Bearer {tok}"},
        )
    ).json()
    assert got["success"] and got["result"][0]["id"] == lead_id and got["result"][0]["lastName"] == "Byron"
    assert set(got["result"][0]) == {"id", "updatedAt", "lastName", "email", "createdAt", "firstName"}
    assert (await http.get("/__twin/leads")).json()[0]["oktaUserId"] == "00u1"
    assert twin.stats.created == 1 and twin.stats.updated == 1


async def test_token_errors_600_601_602(http: httpx.AsyncClient, twin: MarketoTwin, clock: Clock) -> None:
    assert (await upsert(http, None, lead()))["errors"][0]["code"] == "600"
    assert (await upsert(http, "forged", lead()))["errors"][0]["code"] == "601"
    tok = await token(http)
    clock.now += 3601
    data = await upsert(http, tok, lead())
    assert data["success"] is False and data["errors"] == [{"code": "602", "message": "Access token expired"}]
    fresh = await token(http)
    assert fresh != tok and (await upsert(http, fresh, lead()))["success"]
    twin.revoke_tokens()
    assert (await upsert(http, fresh, lead()))["errors"][0]["code"] == "601"


async def test_injected_faults_answer_in_order_then_stop(http: httpx.AsyncClient, twin: MarketoTwin) -> None:
    tok = await token(http)
    resp = await http.post("/__twin/faults", json={"codes": ["606", "615"]})
    assert resp.status_code == 200
    assert (await upsert(http, tok, lead()))["errors"][0]["code"] == "606"
    assert (await upsert(http, tok, lead()))["errors"][0]["code"] == "615"
    assert (await upsert(http, tok, lead()))["success"] is True
    assert twin.stats.errors == {"606": 1, "615": 1}


async def test_record_level_skips(http: httpx.AsyncClient, twin: MarketoTwin) -> None:
    tok = await token(http)
    data = await upsert(
        http,
        tok,
        {
            "action": "createOrUpdate",
            "lookupField": "email",
            "input": [
                {"email": "a@x.test", "nope": 1},
                {"firstName": "NoEmail"},
                "junk",
                {"email": "b@x.test"},
            ],
        },
    )
    codes = [r.get("reasons", [{}])[0].get("code") for r in data["result"]]
    assert codes == ["1006", "1003", "1003", None] and data["result"][3]["status"] == "created"
    assert (await upsert(http, tok, {"action": "createOnly", "input": [{"email": "b@x.test"}]}))["result"][0][
        "reasons"
    ][0]["code"] == "1005"
    assert (await upsert(http, tok, {"action": "updateOnly", "input": [{"email": "c@x.test"}]}))["result"][0][
        "reasons"
    ][0]["code"] == "1004"
    twin.skip("d@x.test", "1007", "Multiple lead match lookup criteria")
    assert (await upsert(http, tok, lead("d@x.test")))["result"][0] == {
        "status": "skipped",
        "reasons": [{"code": "1007", "message": "Multiple lead match lookup criteria"}],
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "delete", "input": [{"email": "a@x.test"}]}, "1003"),
        ({"lookupField": "shoeSize", "input": [{"email": "a@x.test"}]}, "1003"),
        ({"input": []}, "1003"),
        ({"input": [{"email": f"{i}@x.test"} for i in range(301)]}, "1003"),
        (["not", "an", "object"], "609"),
    ],
)
async def test_request_level_validation(http: httpx.AsyncClient, body: Any, code: str) -> None:
    data = await upsert(http, await token(http), body)
    assert data["success"] is False and data["errors"][0]["code"] == code


async def test_invalid_json_and_oversized_body(http: httpx.AsyncClient) -> None:
    tok = await token(http)
    resp = await http.post(
        "/rest/v1/leads.json", content=b"{nope", headers={"Authorization": f"Bearer {tok}"}
    )
    assert resp.json()["errors"][0]["code"] == "609"
    resp = await http.post(
        "/rest/v1/leads.json", content=b"x" * (1024 * 1024 + 1), headers={"Authorization": f"Bearer {tok}"}
    )
    assert resp.status_code == 413


async def test_admin_knobs_validate_their_input(http: httpx.AsyncClient, twin: MarketoTwin) -> None:
    assert (await http.post("/__twin/faults", json={"codes": "606"})).status_code == 400
    assert (await http.post("/__twin/tokens", json={"action": "explode"})).status_code == 400
    assert (await http.post("/__twin/skip", content=b"[")).status_code == 400
    await token(http)
    assert (await http.post("/__twin/tokens", json={"action": "expire"})).status_code == 200
    stats = (await http.get("/__twin/stats")).json()
    assert stats["tokenRequests"] == 1
    assert (await http.post("/__twin/reset")).status_code == 200 and twin.stats.token_requests == 0

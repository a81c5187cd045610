"""The compliance twin: the documented rule, the key check, input limits, injected faults."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from bff_dev.twins.compliance import ComplianceTwin, create_app, decide

KEY = "test-compliance-key"


@pytest.fixture
def twin() -> ComplianceTwin:
    return ComplianceTwin(KEY, slow_seconds=0.2)


@pytest.fixture
async def http(twin: ComplianceTwin) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(twin)), base_url="http://compliance.test"
    ) as client:
        yield client


def screen(http: httpx.AsyncClient, body: Any, key: str | None = KEY, **kw: Any) -> Any:
    headers = {"X-API-Key": key} if key else {}
    return http.post("/v1/screenings", json=body, headers=headers, **kw)


@pytest.mark.parametrize(
    ("last", "result", "code"),
    [
        ("Lovelace", "pass", None),
        ("Review", "fail", "POSSIBLE_MATCH"),
        (" review ", "fail", "POSSIBLE_MATCH"),
        ("Révïew", "fail", "POSSIBLE_MATCH"),
        ("DENIED", "fail", "DENIED_PARTY"),
        ("Reviewer", "pass", None),
    ],
)
def test_rule(last: str, result: str, code: str | None) -> None:
    outcome, reasons = decide("Ada", last)
    assert outcome == result
    assert [r["code"] for r in reasons] == ([code] if code else [])


async def test_pass_and_fail_answers(http: httpx.AsyncClient, twin: ComplianceTwin) -> None:
    ok = await screen(http, {"reference": "00u1", "firstName": "Ada", "lastName": "Lovelace"})
    assert ok.status_code == 200
    body = ok.json()
    assert body["result"] == "pass" and body["reference"] == "00u1" and body["screeningId"].startswith("scr_")
    assert body["checkedAt"].endswith("Z") and body["reasons"] == []
    fail = (await screen(http, {"reference": "00u2", "firstName": "Bob", "lastName": "Denied"})).json()
    assert fail["result"] == "fail" and fail["reasons"][0]["code"] == "DENIED_PARTY"
    assert [(c.reference, c.status, c.result) for c in twin.calls] == [
        ("00u1", 200, "pass"),
        ("00u2", 200, "fail"),
    ]


@pytest.mark.parametrize("key", [None, "wrong", KEY + "x"])
async def test_api_key_is_required(http: httpx.AsyncClient, key: str | None) -> None:
    resp = await screen(http, {"reference": "u", "lastName": "L"}, key=key)
    assert resp.status_code == 401 and resp.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reference": "u"}, 400),
        ({"reference": "", "lastName": "L"}, 400),
        ({"reference": "u", "lastName": 5}, 400),
        ({"reference": "u", "lastName": "L", "firstName": ["x"]}, 400),
        ({"reference": "u", "lastName": "x" * 201}, 400),
        ([1, 2], 400),
    ],
)
async def test_bad_input(http: httpx.AsyncClient, body: Any, status: int) -> None:
    resp = await screen(http, body)
    assert resp.status_code == status and resp.json()["error"] == "invalid_request"


async def test_media_type_and_size(http: httpx.AsyncClient) -> None:
    resp = await http.post(
        "/v1/screenings", content=b"a=b", headers={"X-API-Key": KEY, "Content-Type": "text/plain"}
    )
    assert resp.status_code == 415
    resp = await http.post(
        "/v1/screenings",
        content=b"{" + b" " * 20000 + b"}",
        headers={"X-API-Key": KEY, "Content-Type": "application/json"},
    )
    assert resp.status_code == 413
    resp = await http.post(
        "/v1/screenings", content=b"{nope", headers={"X-API-Key": KEY, "Content-Type": "application/json"}
    )
    assert resp.status_code == 400


async def test_unavailable_and_slow_names(http: httpx.AsyncClient) -> None:
    assert (await screen(http, {"reference": "u", "lastName": "Unavailable"})).status_code == 503
    started = time.monotonic()
    resp = await screen(http, {"reference": "u", "lastName": "Slow"})
    assert resp.json()["result"] == "pass" and time.monotonic() - started >= 0.2


async def test_injected_faults(http: httpx.AsyncClient, twin: ComplianceTwin) -> None:
    body = {"reference": "u", "lastName": "Lovelace"}
    assert (await http.post("/__twin/faults", json={"status": 502, "count": 2})).status_code == 200
    assert [(await screen(http, body)).status_code for _ in range(3)] == [502, 502, 200]
    twin.delay_next(1, 0.1)
    started = time.monotonic()
    assert (await screen(http, body)).status_code == 200 and time.monotonic() - started >= 0.1
    calls = (await http.get("/__twin/calls")).json()
    assert [c["status"] for c in calls] == [502, 502, 200, 200]
    for bad in ({"status": 200}, {"delay": 0}, {"status": 503, "count": 0}, [1]):
        assert (await http.post("/__twin/faults", json=bad)).status_code == 400
    assert (await http.post("/__twin/reset")).status_code == 200 and twin.calls == []

"""The compliance client: request shape, verdicts, and what is (not) a verdict."""

from __future__ import annotations

import json

import httpx
import pytest

from account_validation.compliance import ComplianceClient, ComplianceError, ComplianceUnavailable


def client(handler: httpx.MockTransport) -> ComplianceClient:
    return ComplianceClient(
        "https://screening.example.test/", "key-123", http=httpx.Client(transport=handler)
    )


def test_request_shape_and_pass() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "screeningId": "scr_1",
                "reference": "00u1",
                "result": "pass",
                "reasons": [],
                "checkedAt": "2026-11-26T10:00:00Z",
            },
        )

    verdict = client(httpx.MockTransport(handler)).screen("00u1", "Ada", "Lovelace")
    assert verdict.passed and verdict.screening_id == "scr_1" and verdict.reasons == ()
    (request,) = seen
    assert request.method == "POST" and str(request.url) == "https://screening.example.test/v1/screenings"
    assert request.headers["x-api-key"] == "key-123"
    assert json.loads(request.content) == {"reference": "00u1", "firstName": "Ada", "lastName": "Lovelace"}


def test_fail_carries_the_reasons() -> None:
    body = {
        "screeningId": "scr_2",
        "result": "fail",
        "reasons": [{"code": "DENIED_PARTY", "message": "m"}, "junk"],
    }
    verdict = client(httpx.MockTransport(lambda r: httpx.Response(200, json=body))).screen("u", "A", "Denied")
    assert not verdict.passed and verdict.reasons == ({"code": "DENIED_PARTY", "message": "m"},)


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(429),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
)
def test_outages_are_unavailable_not_fail(outcome: httpx.Response | Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(ComplianceUnavailable):
        client(httpx.MockTransport(handler)).screen("u", "A", "B")


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.Response(401, json={"error": "unauthorized"}),
        httpx.Response(400),
        httpx.Response(200, text="nope"),
        httpx.Response(200, json={"result": "maybe"}),
        httpx.Response(200, json={"no": "result"}),
    ],
)
def test_contract_problems_are_errors_but_not_outages(outcome: httpx.Response) -> None:
    with pytest.raises(ComplianceError) as info:
        client(httpx.MockTransport(lambda r: outcome)).screen("u", "A", "B")
    assert not isinstance(info.value, ComplianceUnavailable)
    assert "key-123" not in str(info.value)

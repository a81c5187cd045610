"""The minimal Okta client: a PARTIAL profile update with SSWS, errors mapped without leaks."""

from __future__ import annotations

import json

import httpx
import pytest
from account_validation.okta_profiles import OktaError, OktaProfileClient, OktaUnavailable
from account_validation.validator import UserGone

TOKEN = "00secret-api-token"


def client(handler: httpx.MockTransport) -> OktaProfileClient:
    return OktaProfileClient("https://acme.okta.example/", TOKEN, http=httpx.Client(transport=handler))


def test_partial_update_with_ssws() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "00u1", "profile": {"complianceStatus": "passed"}})

    assert (
        client(httpx.MockTransport(handler)).update_profile("00u1", {"complianceStatus": "passed"})["id"]
        == "00u1"
    )
    (request,) = seen
    assert request.method == "POST" and str(request.url) == "https://acme.okta.example/api/v1/users/00u1"
    assert request.headers["authorization"] == f"SSWS {TOKEN}"
    assert json.loads(request.content) == {"profile": {"complianceStatus": "passed"}}


def test_user_id_is_path_escaped() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    client(httpx.MockTransport(handler)).update_profile("../groups/x", {"a": 1})
    assert seen == ["/api/v1/users/..%2Fgroups%2Fx"]


def test_not_found_means_the_user_is_gone() -> None:
    body = {"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 00u1 (User)"}
    with pytest.raises(UserGone):
        client(httpx.MockTransport(lambda r: httpx.Response(404, json=body))).update_profile("00u1", {})


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_outages_are_retryable(status: int) -> None:
    body = {"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."}
    with pytest.raises(OktaUnavailable):
        client(httpx.MockTransport(lambda r: httpx.Response(status, json=body))).update_profile("00u1", {})


def test_validation_errors_carry_the_okta_code_but_never_the_token() -> None:
    body = {
        "errorCode": "E0000001",
        "errorSummary": "Api validation failed: complianceStatus",
        "errorCauses": [
            {"errorSummary": "complianceStatus: Property name 'complianceStatus' is not defined"}
        ],
    }
    with pytest.raises(OktaError) as info:
        client(httpx.MockTransport(lambda r: httpx.Response(400, json=body))).update_profile("00u1", {"x": 1})
    assert info.value.error_code == "E0000001" and not isinstance(info.value, OktaUnavailable)
    assert TOKEN not in str(info.value)

"""bff.okta.errors: Okta's error bodies read into one tree; messages for operators, no secrets."""

from __future__ import annotations

import httpx
import pytest

from bff.okta.errors import (
    MAX_CAUSES,
    MAX_TEXT,
    OktaApiError,
    OktaAuthError,
    OktaError,
    OktaForbidden,
    OktaInvalid,
    OktaNotFound,
    OktaProtocolError,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaTransportError,
    api_error,
    token_error,
)


def okta(status: int, code: str, summary: str, causes: list[str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"errorCode": code, "errorSummary": summary, "errorLink": code,
                                        "errorId": "oaeXYZ", "errorCauses": [{"errorSummary": c}
                                                                             for c in causes or []]})


@pytest.mark.parametrize(("status", "code", "kind"), [
    (400, "E0000001", OktaInvalid),
    (401, "E0000011", OktaAuthError),
    (403, "E0000006", OktaForbidden),
    (404, "E0000007", OktaNotFound),
    (405, "E0000022", OktaApiError),
    (429, "E0000047", OktaRateLimited),
    (500, "E0000009", OktaServerError),
    (503, "E0000009", OktaServerError),
])
def test_statuses_map_to_the_tree(status: int, code: str, kind: type[OktaApiError]) -> None:
    error = api_error("GET", "/api/v1/users/00u1", okta(status, code, "summary"), retry_after=3.0)
    assert type(error) is kind and error.status == status and error.code == code
    assert error.retryable == (status == 429 or status >= 500)
    if isinstance(error, OktaRateLimited):
        assert error.retry_after == 3.0


def test_code_summary_causes_and_error_id_are_kept() -> None:
    error = api_error("POST", "/api/v1/groups", okta(400, "E0000001", "Api validation failed: name",
                                                     ["name: The field cannot be left blank"]))
    assert (error.code, error.summary, error.causes, error.error_id) == (
        "E0000001", "Api validation failed: name", ("name: The field cannot be left blank",), "oaeXYZ")
    assert str(error) == ("POST /api/v1/groups: HTTP 400 E0000001 Api validation failed: name "
                          "(name: The field cannot be left blank) [errorId oaeXYZ]")


def test_message_shape_without_causes_or_answer() -> None:
    found = OktaNotFound("Not found: Resource not found: x (User)", method="GET", path="/x", status=404,
                         code="E0000007")
    assert str(found) == "GET /x: HTTP 404 E0000007 Not found: Resource not found: x (User)"
    assert found.causes == () and found.error_id is None
    assert str(OktaTimeout("ReadTimeout: no answer in time", method="GET", path="/x")) == \
        "GET /x: ReadTimeout: no answer in time"
    assert str(OktaProtocolError("expected a JSON array")) == "expected a JSON array"


def test_a_body_that_is_not_okta_keeps_only_the_status() -> None:
    error = api_error("POST", "/api/v1/groups", httpx.Response(502, text="<html>bad gateway</html>"))
    assert isinstance(error, OktaServerError) and error.code is None
    assert str(error) == "POST /api/v1/groups: HTTP 502 Bad Gateway"
    odd = api_error("GET", "/x", httpx.Response(400, json=["not", "an", "object"]))
    assert isinstance(odd, OktaInvalid) and odd.causes == ()


def test_okta_texts_are_cut() -> None:
    error = api_error("GET", "/x", okta(400, "E0000001", "s" * 5000, ["c" * 5000] * 100))
    assert len(error.summary) == MAX_TEXT and len(error.causes) == MAX_CAUSES
    assert all(len(c) == MAX_TEXT for c in error.causes)


def test_token_endpoint_refusals() -> None:
    refused = token_error("POST", "/oauth2/v1/token", httpx.Response(401, json={
        "error": "invalid_client", "error_description": "The client_assertion signature is invalid."}))
    assert isinstance(refused, OktaAuthError) and refused.code == "invalid_client"
    assert str(refused) == ("POST /oauth2/v1/token: HTTP 401 invalid_client the service app's token request "
                            "was refused: The client_assertion signature is invalid.")
    scope = token_error("POST", "/oauth2/v1/token", httpx.Response(400, json={"error": "invalid_scope"}))
    assert isinstance(scope, OktaAuthError) and scope.code == "invalid_scope"
    busy = token_error("POST", "/oauth2/v1/token", httpx.Response(429, json={}), retry_after=12.0)
    assert isinstance(busy, OktaRateLimited) and busy.retry_after == 12.0
    assert isinstance(token_error("POST", "/t", httpx.Response(500, text="oops")), OktaServerError)


def test_the_tree() -> None:
    for answered in (OktaInvalid, OktaAuthError, OktaForbidden, OktaNotFound, OktaRateLimited,
                     OktaServerError):
        assert issubclass(answered, OktaApiError)
    assert issubclass(OktaTimeout, OktaTransportError)
    for kind in (OktaApiError, OktaTransportError, OktaProtocolError):
        assert issubclass(kind, OktaError)
    assert OktaTransportError.retryable and OktaTimeout.retryable and not OktaProtocolError.retryable

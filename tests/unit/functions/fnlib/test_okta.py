"""fnlib.okta against Okta's wire shapes (httpx.MockTransport; no I/O)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from fnlib.okta import (
    OktaAuthError,
    OktaClient,
    OktaForbidden,
    OktaInvalid,
    OktaNotFound,
    OktaUnavailable,
    PrivateKeyJwtAuth,
    SswsAuth,
)

ORG = "https://acme.okta.example"
TOKEN = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD"


def _client(handler: Callable[[httpx.Request], httpx.Response], *, auth: httpx.Auth | None = None,
            clock: Callable[[], float] = lambda: 1_000_000.0,
            sleeps: list[float] | None = None) -> OktaClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    record = sleeps if sleeps is not None else []
    return OktaClient(ORG, auth=auth or SswsAuth(TOKEN), http=http, clock=clock, sleep=record.append)


def _error(status: int, code: str, summary: str, causes: list[str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"errorCode": code, "errorSummary": summary, "errorLink": code,
                                        "errorId": "oae1", "errorCauses": [{"errorSummary": c}
                                                                           for c in causes or []]})


def test_ssws_header_and_partial_profile_update() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "00u1", "profile": {"complianceStatus": "passed"}})

    user = _client(handler).update_profile("00u1", {"complianceStatus": "passed"})
    assert user["profile"]["complianceStatus"] == "passed"
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/api/v1/users/00u1"
    assert request.headers["authorization"] == f"SSWS {TOKEN}"
    assert json.loads(request.content) == {"profile": {"complianceStatus": "passed"}}


def test_ids_are_path_escaped() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    _client(handler).get_user("bob@acme.test/../x")
    assert paths == ["/api/v1/users/bob%40acme.test%2F..%2Fx"]


def test_pagination_follows_link_next() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if after is None:
            return httpx.Response(200, json=[{"id": "a"}, {"id": "b"}], headers={
                "Link": f'<{ORG}/api/v1/groups/g/users?limit=2>; rel="self", '
                        f'<{ORG}/api/v1/groups/g/users?after=b&limit=2>; rel="next"'})
        assert after == "b"
        return httpx.Response(200, json=[{"id": "c"}], headers={"Link": f'<{ORG}/x>; rel="self"'})

    client = _client(handler)
    page = client.group_users("g", limit=2)
    assert [u["id"] for u in page.items] == ["a", "b"] and page.after == "b"
    assert [u["id"] for u in client.all_group_users("g")] == ["a", "b", "c"]


def test_search_is_sent_as_a_query_parameter() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["search"] == 'profile.orgId eq "acme"'
        assert "filter" not in request.url.params
        return httpx.Response(200, json=[])

    assert _client(handler).list_users(search='profile.orgId eq "acme"').items == []


def test_rate_limit_waits_until_reset_then_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, json={"errorCode": "E0000047"},
                                  headers={"X-Rate-Limit-Reset": "1000002"})
        return httpx.Response(200, json={"id": "00u1"})

    sleeps: list[float] = []
    assert _client(handler, sleeps=sleeps).get_user("00u1") == {"id": "00u1"}
    assert len(calls) == 2 and sleeps == [pytest.approx(2.1)]


def test_rate_limit_too_far_away_is_unavailable_with_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"errorCode": "E0000047"}, headers={"X-Rate-Limit-Reset": "1000040"})

    sleeps: list[float] = []
    with pytest.raises(OktaUnavailable) as info:
        _client(handler, sleeps=sleeps).get_user("00u1")
    assert sleeps == [] and info.value.retry_after == pytest.approx(40.1)


@pytest.mark.parametrize(("response", "kind"), [
    (_error(404, "E0000007", "Not found: Resource not found: 00u1 (User)"), OktaNotFound),
    (_error(400, "E0000001", "Api validation failed: login", ["login: already exists"]), OktaInvalid),
    (_error(403, "E0000038", "This operation is not allowed in the user's current status."), OktaForbidden),
    (_error(401, "E0000011", "Invalid token provided"), OktaAuthError),
    (_error(500, "E0000009", "Internal Server Error"), OktaUnavailable),
])
def test_errors_map_to_the_tree(response: httpx.Response, kind: type[Exception]) -> None:
    with pytest.raises(kind) as info:
        _client(lambda r: response).get_user("00u1")
    assert TOKEN not in str(info.value)


def test_transport_failures_are_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(OktaUnavailable):
        _client(handler).lifecycle("00u1", "deactivate")


def test_lifecycle_sends_no_email() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/users/00u1/lifecycle/activate"
        assert request.url.params["sendEmail"] == "false"
        return httpx.Response(200, json={})

    _client(handler).lifecycle("00u1", "activate")


def test_private_key_jwt_fetches_caches_and_renews_the_token() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    now = [1_000_000.0]
    token_calls: list[dict[str, list[str]]] = []
    api_tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            form = parse_qs(request.content.decode())
            token_calls.append(form)
            return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3600,
                                             "access_token": f"at-{len(token_calls)}",
                                             "scope": form["scope"][0]})
        api_tokens.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer at-2" and len(api_tokens) == 4:
            return httpx.Response(401, json={"errorCode": "E0000011"})
        return httpx.Response(200, json={"id": "00u1"})

    auth = PrivateKeyJwtAuth(ORG, "0oaservice", key.as_pem(private=True).decode(), key_id="k1",
                             clock=lambda: now[0])
    client = _client(handler, auth=auth)
    client.get_user("00u1")
    client.get_user("00u1")
    assert len(token_calls) == 1  # cached
    form = token_calls[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["okta.users.manage okta.groups.manage"]
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    claims = jwt.decode(form["client_assertion"][0], key).claims
    assert claims["iss"] == claims["sub"] == "0oaservice"
    assert claims["aud"] == f"{ORG}/oauth2/v1/token"
    assert claims["exp"] - claims["iat"] <= 300 and claims["jti"]
    now[0] += 3600  # expired (minus skew): a new token
    client.get_user("00u1")
    assert len(token_calls) == 2
    client.get_user("00u1")  # the API answers 401 once: one fresh token, one retry
    assert len(token_calls) == 3
    assert api_tokens == ["Bearer at-1", "Bearer at-1", "Bearer at-2", "Bearer at-2", "Bearer at-3"]


def test_refused_service_app_is_an_auth_error_without_secrets() -> None:
    key = RSAKey.generate_key(2048, private=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client", "error_description": "bad"})

    pem = key.as_pem(private=True).decode()
    with pytest.raises(OktaAuthError) as info:
        _client(handler, auth=PrivateKeyJwtAuth(ORG, "0oaservice", pem)).get_user("00u1")
    assert "invalid_client" in str(info.value) and "PRIVATE" not in str(info.value)


def test_credentials_are_required() -> None:
    with pytest.raises(OktaAuthError):
        OktaClient.from_credentials(ORG, http=httpx.Client())

"""bff.okta.auth: SSWS and the private_key_jwt service app as httpx.Auth flows, in sync and
async clients alike (httpx.MockTransport; no I/O)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from bff.okta import (
    AsyncOktaClient,
    OktaAuthError,
    OktaClient,
    OktaProtocolError,
    OktaRateLimited,
    PrivateKeyJwtAuth,
    SswsAuth,
    load_private_key,
    management_auth,
)
from bff.okta.auth import ASSERTION_TYPE

ORG = "https://acme.okta.test"
TOKEN_URL = f"{ORG}/oauth2/v1/token"
SSWS_TOKEN = "00SSWS-secret-api-token-0123456789abcdef"
SCOPES = ("okta.users.manage", "okta.users.read")


class OrgServer:
    """The org authorization server's token endpoint, and an API accepting only its tokens."""

    def __init__(self, public: RSAKey | ECKey, *, lifetime: Any = 3600, delay: float = 0.0) -> None:
        self.public = public
        self.lifetime = lifetime
        self.delay = delay
        self.forms: list[dict[str, str]] = []
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.api: list[str] = []  # the Authorization of each API request (httpx re-sends one object)
        self.refuse: httpx.Response | None = None
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token" and self.delay:
            time.sleep(self.delay)  # holds this thread: the others pile up on the lock meanwhile
        return self.respond(request)

    async def async_handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token" and self.delay:
            await asyncio.sleep(self.delay)
        return self.respond(request)

    def respond(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            with self._lock:
                self.forms.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
                if self.refuse is not None:
                    return self.refuse
                token = f"at-{len(self.forms)}"
                self.issued.append(token)
            return httpx.Response(200, json={"token_type": "Bearer", "expires_in": self.lifetime,
                                             "access_token": token, "scope": self.forms[-1]["scope"]})
        self.api.append(request.headers.get("authorization", ""))
        token = self.api[-1].removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            body = {"errorCode": "E0000011", "errorSummary": "Invalid token provided"}
            return httpx.Response(401, json=body)
        return httpx.Response(200, json={"id": "00u1", "profile": {}, "token": token})


def rsa_pem() -> tuple[RSAKey, str]:
    key = RSAKey.generate_key(2048, private=True)
    return key, key.as_pem(private=True).decode()


def sync_client(server: OrgServer, auth: httpx.Auth) -> OktaClient:
    http = httpx.Client(transport=httpx.MockTransport(server.handle))
    return OktaClient(ORG, http=http, auth=auth, sleep=lambda s: None)


def async_client(server: OrgServer, auth: httpx.Auth) -> AsyncOktaClient:
    async def no_sleep(seconds: float) -> None:
        return None

    http = httpx.AsyncClient(transport=httpx.MockTransport(server.async_handle))
    return AsyncOktaClient(ORG, http=http, auth=auth, sleep=no_sleep)


# -- SSWS -----------------------------------------------------------------------------------------


def test_ssws_sets_the_header_and_hides_the_token() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"id": "00u1"})

    auth = SswsAuth(SSWS_TOKEN)
    OktaClient(ORG, http=httpx.Client(transport=httpx.MockTransport(handler)), auth=auth).get_user("00u1")
    assert seen == [f"SSWS {SSWS_TOKEN}"]
    assert SSWS_TOKEN not in repr(auth) and SSWS_TOKEN not in str(auth)
    with pytest.raises(ValueError):
        SswsAuth("")


# -- the client assertion --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RSA-PEM", "RSA-PEM+key_id", "EC-JWK"])
def test_the_assertion_is_signed_by_the_key_with_okta_s_claims(kind: str) -> None:
    if kind == "EC-JWK":
        key: RSAKey | ECKey = ECKey.generate_key("P-256", parameters={"kid": "mgmt-ec-1"}, private=True)
        material = json.dumps(key.as_dict(private=True))
    else:
        key, material = rsa_pem()
    auth = PrivateKeyJwtAuth(ORG, "0oaservice", material, scopes=SCOPES, clock=lambda: 1_800_000_000.0,
                             key_id="mgmt-rsa-1" if kind.endswith("key_id") else None)
    assertion = auth.assertion()
    public = (RSAKey if kind.startswith("RSA") else ECKey).import_key(key.as_dict(private=False))
    token = jwt.decode(assertion, public)  # verified with the PUBLIC key only
    JWTClaimsRegistry(now=1_800_000_010, iss={"essential": True, "value": "0oaservice"},
                      sub={"essential": True, "value": "0oaservice"},
                      aud={"essential": True, "value": TOKEN_URL}, exp={"essential": True},
                      jti={"essential": True}).validate(token.claims)
    assert token.header["alg"] == ("ES256" if kind == "EC-JWK" else "RS256")
    assert token.header.get("kid") == {"EC-JWK": "mgmt-ec-1", "RSA-PEM+key_id": "mgmt-rsa-1"}.get(kind)
    assert token.claims["iat"] == 1_800_000_000 and token.claims["exp"] - token.claims["iat"] == 300
    assert auth.assertion() != assertion  # a new jti every time: Okta refuses replays
    assert jwt.decode(auth.assertion(), public).claims["jti"] != token.claims["jti"]


def test_the_token_request_is_client_credentials_with_the_assertion() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    client = sync_client(server, PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES))
    client.get_user("00u1")
    (form,) = server.forms
    assert set(form) == {"grant_type", "scope", "client_assertion_type", "client_assertion"}
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "okta.users.manage okta.users.read"
    assert form["client_assertion_type"] == ASSERTION_TYPE
    assert jwt.decode(form["client_assertion"], key).claims["aud"] == TOKEN_URL
    assert server.api == ["Bearer at-1"]


def test_the_token_request_keeps_the_api_request_s_timeout_and_user_agent() -> None:
    key, pem = rsa_pem()
    token_requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            token_requests.append(request)
            return httpx.Response(200, json={"access_token": "at", "expires_in": 3600})
        return httpx.Response(200, json={"id": "00u1"})

    http = httpx.Client(transport=httpx.MockTransport(handler), timeout=httpx.Timeout(4.0, connect=1.5),
                        headers={"User-Agent": "admin-api"})
    OktaClient(ORG, http=http, auth=PrivateKeyJwtAuth(ORG, "0oa1", pem, scopes=SCOPES)).get_user("00u1")
    (request,) = token_requests
    assert request.extensions["timeout"] == {"connect": 1.5, "read": 4.0, "write": 4.0, "pool": 4.0}
    assert request.headers["user-agent"] == "admin-api"


# -- caching and renewal ----------------------------------------------------------------------------


def test_the_token_is_cached_until_shortly_before_it_expires() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    now = [1_000_000.0]
    auth = PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES, clock=lambda: now[0])
    client = sync_client(server, auth)
    for _ in range(3):
        client.get_user("00u1")
    assert len(server.forms) == 1 and auth.fetches == 1
    now[0] += 3600 - 61  # just outside the skew: still good
    client.get_user("00u1")
    assert len(server.forms) == 1
    now[0] += 2  # inside the 60 s skew: renewed before Okta would refuse it
    client.get_user("00u1")
    assert len(server.forms) == 2
    assert server.api == ["Bearer at-1"] * 4 + ["Bearer at-2"]


@pytest.mark.parametrize("lifetime", ["3600", True, None, -5, 10**12])
def test_an_odd_expires_in_is_not_believed(lifetime: Any) -> None:
    key, pem = rsa_pem()
    server = OrgServer(key, lifetime=lifetime)
    now = [1_000_000.0]
    client = sync_client(server, PrivateKeyJwtAuth(ORG, "0oa1", pem, scopes=SCOPES, clock=lambda: now[0]))
    client.get_user("00u1")
    now[0] += 2 * 86400  # no answer keeps a token past a day
    client.get_user("00u1")
    assert len(server.forms) == 2


async def test_a_401_drops_the_token_and_retries_once_with_a_new_one() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    client = async_client(server, PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES))
    await client.get_user("00u1")
    server.revoked.add("at-1")  # e.g. the app's grants were changed
    assert (await client.get_user("00u1"))["token"] == "at-2"
    assert server.api == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]
    server.revoked.update({"at-2", "at-3"})  # still refused with the new token: no loop
    with pytest.raises(OktaAuthError) as info:
        await client.get_user("00u1")
    assert info.value.status == 401 and info.value.code == "E0000011"
    assert len(server.forms) == 3


async def test_concurrent_async_requests_share_one_token_request() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key, delay=0.05)
    auth = PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES)
    client = async_client(server, auth)
    results = await asyncio.gather(*(client.get_user(f"00u{n}") for n in range(10)))
    assert len(server.forms) == 1 and {r["token"] for r in results} == {"at-1"}


def test_concurrent_threads_share_one_token_request() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key, delay=0.05)
    client = sync_client(server, PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES))
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: client.get_user(f"00u{n}"), range(6)))
    assert len(server.forms) == 1 and {r["token"] for r in results} == {"at-1"}


# -- refusals -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_refused_token_request_is_an_auth_error_without_secrets(flavour: str) -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    server.refuse = httpx.Response(401, json={
        "error": "invalid_client", "error_description": "The client_assertion signature is invalid."})
    auth = PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES)
    with pytest.raises(OktaAuthError) as info:
        if flavour == "sync":
            sync_client(server, auth).get_user("00u1")
        else:
            await async_client(server, auth).get_user("00u1")
    text = f"{info.value} {info.value!r} {info.value.args}"
    assert "invalid_client" in text and "signature is invalid" in text
    assert server.forms[0]["client_assertion"] not in text
    assert "PRIVATE" not in text and pem.splitlines()[1] not in text
    assert server.api == []  # the API never saw a request without a token


def test_a_rate_limited_token_request_says_when_to_come_back() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    server.refuse = httpx.Response(429, json={"errorCode": "E0000047"}, headers={
        "X-Rate-Limit-Reset": "1000030", "Date": "Mon, 12 Jan 1970 13:46:40 GMT"})  # 1_000_000
    with pytest.raises(OktaRateLimited) as info:
        sync_client(server, PrivateKeyJwtAuth(ORG, "0oa1", pem, scopes=SCOPES)).get_user("00u1")
    assert info.value.retry_after == 30.0


def test_a_token_answer_without_a_token_is_a_protocol_error() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    server.refuse = httpx.Response(200, json={"token_type": "Bearer"})
    with pytest.raises(OktaProtocolError, match="no access token"):
        sync_client(server, PrivateKeyJwtAuth(ORG, "0oa1", pem, scopes=SCOPES)).get_user("00u1")


def test_reprs_show_no_key_and_no_token() -> None:
    key, pem = rsa_pem()
    server = OrgServer(key)
    auth = PrivateKeyJwtAuth(ORG, "0oaservice", pem, scopes=SCOPES)
    client = sync_client(server, auth)
    client.get_user("00u1")
    shown = repr(auth) + repr(client)
    assert "0oaservice" in shown and "at-1" not in shown and "PRIVATE" not in shown
    assert pem.splitlines()[1] not in shown


# -- keys and the choice of credentials -----------------------------------------------------------------


def test_keys_must_be_private_rsa_or_ec() -> None:
    key, pem = rsa_pem()
    assert load_private_key(pem).is_private
    assert load_private_key(key) is key
    with pytest.raises(ValueError, match="PRIVATE"):
        load_private_key(key.as_pem(private=False).decode())
    with pytest.raises(ValueError, match="PRIVATE"):
        load_private_key(json.dumps({"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"}))


def test_an_unreadable_key_names_no_part_of_it() -> None:
    material = '{"kty": "RSA", "d": "SECRET-PART", '  # broken JSON: JSONDecodeError.doc holds it all
    with pytest.raises(ValueError) as info:
        load_private_key(material)
    assert "SECRET-PART" not in str(info.value) and info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_management_auth_prefers_the_service_app() -> None:
    _, pem = rsa_pem()
    app = management_auth(ORG, api_token="t", client_id="0oa1", private_key=pem, scopes=SCOPES)
    assert isinstance(app, PrivateKeyJwtAuth) and app.scopes == SCOPES and app.token_url == TOKEN_URL
    assert isinstance(management_auth(ORG, api_token="t", client_id="0oa1", private_key=None, scopes=SCOPES),
                      SswsAuth)
    with pytest.raises(ValueError, match="no Okta credentials"):
        management_auth(ORG, api_token=None, client_id=None, private_key=None, scopes=SCOPES)
    with pytest.raises(ValueError):
        PrivateKeyJwtAuth(ORG, "0oa1", pem, scopes=())

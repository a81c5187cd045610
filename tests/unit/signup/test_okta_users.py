from __future__ import annotations

import json
import time
from email.utils import formatdate
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from bff.errors import BadGateway, GatewayTimeout, Unavailable, ValidationFailed
from bff.okta import PrivateKeyJwtAuth, RetryPolicy, SswsAuth, load_private_key
from bff.signup.okta_users import MGMT_SCOPES, LoginTaken, OktaManagementClient, UserNotFound
from tests.unit.signup.fakes import API_TOKEN, FakeOktaApi, okta_error

ORG = "https://okta.example.test"
PROFILE = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "login": "ada@example.com"}


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeOktaApi, sleeps: Sleeps | None = None, **retry: float) -> OktaManagementClient:
    http = httpx.AsyncClient(transport=fake.transport())
    return OktaManagementClient(
        ORG,
        http,
        SswsAuth(API_TOKEN),
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=RetryPolicy(**retry) if retry else None,  # type: ignore[arg-type]
    )


async def test_create_user_sends_the_bare_profile_with_ssws() -> None:
    fake = FakeOktaApi()
    user = await client(fake).create_user(PROFILE, password="Correct-Horse-9")
    assert user.status == "ACTIVE" and user.id.startswith("00u")
    request = fake.requests[0]
    assert request.method == "POST" and request.url.path == "/api/v1/users"
    assert request.url.params["activate"] == "true"
    assert request.headers["authorization"] == f"SSWS {API_TOKEN}"
    body = json.loads(request.content)
    assert body == {"profile": PROFILE, "credentials": {"password": {"value": "Correct-Horse-9"}}}


async def test_create_without_password_leaves_activation_to_okta() -> None:
    fake = FakeOktaApi()
    user = await client(fake).create_user(PROFILE)
    assert user.status == "PROVISIONED"
    assert "credentials" not in json.loads(fake.requests[0].content)


async def test_taken_login_is_a_field_conflict() -> None:
    fake = FakeOktaApi()
    fake.add_user("ada@example.com")
    with pytest.raises(LoginTaken) as info:
        await client(fake).create_user(PROFILE)
    assert info.value.status == 409
    assert info.value.extra["errors"] == [{"field": "email", "code": "error.email.taken"}]


async def test_okta_password_policy_refusal_is_a_weak_password() -> None:
    fake = FakeOktaApi(
        queued=[
            okta_error(
                "E0000001",
                "Api validation failed: password",
                ["password: Password requirements were not met. ..."],
            )
        ]
    )
    with pytest.raises(ValidationFailed) as info:
        await client(fake).create_user(PROFILE, password="Whatever-123456")
    assert info.value.extra["errors"] == [{"field": "password", "code": "error.password.weak"}]


async def test_rate_limit_waits_for_the_reset_then_succeeds() -> None:
    now = time.time()
    headers = {
        "X-Rate-Limit-Limit": "50",
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(int(now) + 1),
        "Date": formatdate(int(now), usegmt=True),
    }
    limited = okta_error("E0000047", "API call exceeded rate limit due to too many requests.", status=429)
    limited.headers.update(headers)
    fake = FakeOktaApi(queued=[limited])
    sleeps = Sleeps()
    user = await client(fake, sleeps).create_user(PROFILE)
    assert user.id
    assert len(fake.requests) == 2
    assert len(sleeps) == 1 and 0.9 <= sleeps[0] <= 1.2  # by Okta's clock: reset - Date


async def test_rate_limit_gives_up_with_503_and_retry_after() -> None:
    def limited() -> httpx.Response:
        r = okta_error("E0000047", "rate limit", status=429)
        r.headers["X-Rate-Limit-Reset"] = str(int(time.time()) + 1)
        return r

    fake = FakeOktaApi(queued=[limited(), limited(), limited(), limited()])
    sleeps = Sleeps()
    with pytest.raises(Unavailable) as info:
        await client(fake, sleeps).create_user(PROFILE)
    assert len(fake.requests) == 3 and len(sleeps) == 2  # bounded: 3 attempts
    assert int(info.value.headers["Retry-After"]) >= 1


async def test_rate_limit_with_a_distant_reset_fails_fast() -> None:
    r = okta_error("E0000047", "rate limit", status=429)
    r.headers["X-Rate-Limit-Reset"] = str(int(time.time()) + 40)
    fake = FakeOktaApi(queued=[r])
    sleeps = Sleeps()
    with pytest.raises(Unavailable) as info:
        await client(fake, sleeps).create_user(PROFILE)
    assert sleeps == [] and len(fake.requests) == 1
    assert 39 <= int(info.value.headers["Retry-After"]) <= 41


@pytest.mark.parametrize(
    "response",
    [
        okta_error("E0000009", "Internal Server Error", status=500),
        okta_error("E0000006", "You do not have permission to perform the requested action", status=403),
        okta_error("E0000001", "Api validation failed: customAttr", ["customAttr: unknown attribute"]),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"unexpected": True}),
    ],
)
async def test_other_failures_are_502_without_okta_internals(
    response: httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeOktaApi(queued=[response])
    with pytest.raises(BadGateway) as info:
        await client(fake).create_user(PROFILE)
    exposed = json.dumps([info.value.detail, info.value.extra])
    for secret in ("oaeSECRETERRORID123", "E0000", "permission", "Internal Server Error", "customAttr"):
        assert secret not in exposed
    if response.status_code != 200:
        assert "oaeSECRETERRORID123" in caplog.text  # errorId is logged for support


async def test_timeout_is_504_and_connection_failure_503() -> None:
    fake = FakeOktaApi(queued=[httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
    okta = client(fake)
    with pytest.raises(GatewayTimeout):
        await okta.create_user(PROFILE)
    with pytest.raises(Unavailable):
        await okta.create_user(PROFILE)


async def test_get_and_partial_update() -> None:
    fake = FakeOktaApi()
    uid = fake.add_user("bob@acme.test", firstName="Bob", title="Old")["id"]
    okta = client(fake)
    assert (await okta.get_user(uid)).profile["firstName"] == "Bob"
    updated = await okta.update_profile(uid, {"title": "Buyer", "mobilePhone": None})
    assert updated.profile["title"] == "Buyer"
    assert fake.requests[-1].method == "POST" and fake.requests[-1].url.path == f"/api/v1/users/{uid}"
    assert json.loads(fake.requests[-1].content) == {"profile": {"title": "Buyer", "mobilePhone": None}}
    with pytest.raises(UserNotFound):
        await okta.get_user("00unknown")
    with pytest.raises(UserNotFound):
        await okta.update_profile("../../groups", {"title": "x"})
    assert fake.requests[-1].url.raw_path.endswith(b"/api/v1/users/..%2F..%2Fgroups")


# -- private_key_jwt service app ---------------------------------------------------------------


class TokenServer:
    """The org authorization server's token endpoint + an API that accepts its Bearer tokens."""

    def __init__(self, key: RSAKey | ECKey) -> None:
        self.key = key
        self.token_calls = 0
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.assertions: list[dict[str, object]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            self.token_calls += 1
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form["grant_type"] == "client_credentials"
            assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            token = jwt.decode(form["client_assertion"], self.key)
            self.assertions.append({"header": token.header, "claims": token.claims, "scope": form["scope"]})
            access = f"at-{self.token_calls}"
            self.issued.append(access)
            return httpx.Response(
                200,
                json={
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "access_token": access,
                    "scope": form["scope"],
                },
            )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] in self.revoked or auth[7:] not in self.issued:
            return okta_error("E0000011", "Invalid token provided", status=401)
        return httpx.Response(200, json={"id": "00u1", "status": "ACTIVE", "profile": {"login": "x@y.zz"}})


@pytest.mark.parametrize("kind", ["RSA-PEM", "EC-JWK"])
async def test_service_app_token_is_fetched_once_and_cached(kind: str) -> None:
    if kind == "RSA-PEM":
        key: RSAKey | ECKey = RSAKey.generate_key(2048)
        material = key.as_pem(private=True).decode()
    else:
        key = ECKey.generate_key("P-256", parameters={"kid": "mgmt-key-1"})
        material = json.dumps(key.as_dict(private=True))
    server = TokenServer(load_private_key(material))
    creds = PrivateKeyJwtAuth(ORG, "0oaservice", material, scopes=MGMT_SCOPES)
    okta = OktaManagementClient(ORG, httpx.AsyncClient(transport=httpx.MockTransport(server.handle)), creds)
    for _ in range(3):
        await okta.get_user("00u1")
    assert server.token_calls == 1
    seen = server.assertions[0]
    claims = seen["claims"]
    assert isinstance(claims, dict)
    assert claims["iss"] == claims["sub"] == "0oaservice"
    assert claims["aud"] == f"{ORG}/oauth2/v1/token"
    assert claims["exp"] - claims["iat"] <= 3600 and claims["jti"]
    assert seen["scope"] == "okta.users.manage okta.users.read"
    header = seen["header"]
    assert isinstance(header, dict)
    assert header["alg"] == ("RS256" if kind == "RSA-PEM" else "ES256")
    if kind == "EC-JWK":
        assert header["kid"] == "mgmt-key-1"


async def test_service_token_is_renewed_near_expiry_and_after_a_401() -> None:
    key = RSAKey.generate_key(2048)
    material = key.as_pem(private=True).decode()
    server = TokenServer(key)
    now = [1_000_000.0]
    creds = PrivateKeyJwtAuth(ORG, "0oaservice", material, scopes=MGMT_SCOPES, clock=lambda: now[0])
    okta = OktaManagementClient(ORG, httpx.AsyncClient(transport=httpx.MockTransport(server.handle)), creds)
    await okta.get_user("00u1")
    now[0] += 3600 - 30  # inside the refresh skew
    await okta.get_user("00u1")
    assert server.token_calls == 2
    server.revoked.add(server.issued[-1])  # e.g. the app's grant was revoked and re-granted
    await okta.get_user("00u1")
    assert server.token_calls == 3


async def test_service_token_refusal_is_502_without_details() -> None:
    material = RSAKey.generate_key(2048).as_pem(private=True).decode()
    transport = httpx.MockTransport(
        lambda r: httpx.Response(
            401,
            json={
                "error": "invalid_client",
                "error_description": "The client_assertion signature is invalid.",
            },
        )
    )
    okta = OktaManagementClient(
        ORG,
        httpx.AsyncClient(transport=transport),
        PrivateKeyJwtAuth(ORG, "0oaservice", material, scopes=MGMT_SCOPES),
    )
    with pytest.raises(BadGateway) as info:
        await okta.get_user("00u1")
    assert "signature" not in str(info.value.detail)


def test_private_key_must_be_private() -> None:
    public = RSAKey.generate_key(2048).as_pem(private=False).decode()
    with pytest.raises(ValueError):
        load_private_key(public)

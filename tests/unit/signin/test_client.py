"""The IDX client against a scripted Okta (httpx.MockTransport) that answers with the real
fixtures: what goes on the wire (PKCE, client auth, ion headers, X-Forwarded-For), the origin
check (nothing is sent elsewhere), and the error mapping, with no secret in any error or log."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from bff.auth.oidc import InvalidGrant, OAuthError, OIDCClient
from bff.errors import BadGateway, BFFError, GatewayTimeout, Unavailable, error_response
from bff.signin.client import (
    DEFAULT_RETRY_AFTER,
    IdxClient,
    IdxOriginRefused,
    IdxRateLimited,
    IdxRejected,
    retry_after,
)
from bff.signin.idx import ION_MEDIA_TYPE, Form, IdxParseError, IdxState, parse_state
from bff.signin.steps import prepare
from tests.support.env import make_settings
from tests.unit.auth.fake_idp import cached_rsa
from tests.unit.signin.samples import FIXTURE_ORIGIN, load

ISSUER = f"{FIXTURE_ORIGIN}/oauth2/default"
CLIENT_ID = "0oatestclient"
CLIENT_SECRET = "test-client-secret-value"
VERIFIER = "v3rifier-" + "x" * 70
NOW = 1_700_000_000.0
Handler = Callable[[httpx.Request], httpx.Response]


def ion(name_or_doc: str | dict[str, Any], status: int = 200,
        headers: dict[str, str] | None = None) -> Handler:
    doc = load(name_or_doc) if isinstance(name_or_doc, str) else name_or_doc
    return lambda _request: httpx.Response(status, json=doc, headers={"Content-Type": ION_MEDIA_TYPE,
                                                                      **(headers or {})})


class FakeOkta:
    """Okta's org behind MockTransport: discovery, and one scripted answer per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/v1/authorize",
                "token_endpoint": f"{ISSUER}/v1/token", "jwks_uri": f"{ISSUER}/v1/keys"})
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, text="no route")
        return route(request)

    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def okta() -> FakeOkta:
    return FakeOkta()


def make_client(okta: FakeOkta, **env: str) -> tuple[IdxClient, httpx.AsyncClient]:
    settings = make_settings(BFF_OKTA_ISSUER=ISSUER, **env)
    http = httpx.AsyncClient(transport=httpx.MockTransport(okta))
    return IdxClient(settings, http, OIDCClient(settings, http), clock=lambda: NOW), http


@pytest.fixture
async def idx(okta: FakeOkta) -> AsyncIterator[IdxClient]:
    client, http = make_client(okta)
    async with http:
        yield client


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def form_of(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- interact ------------------------------------------------------------------------------------


def interact_ok(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=load("oauth2-interact.json"))


async def test_interact_sends_pkce_s256_state_and_the_secret_in_the_form(idx: IdxClient,
                                                                         okta: FakeOkta) -> None:
    okta.routes["/oauth2/default/v1/interact"] = interact_ok
    handle = await idx.interact(code_verifier=VERIFIER, state="st-1",
                                scopes=["openid", "profile", "offline_access"], nonce="n-1",
                                acr_values="urn:okta:loa:2fa:any", client_ip="203.0.113.9")
    assert handle == "fake_interaction_handle"
    request = okta.last()
    assert str(request.url) == f"{ISSUER}/v1/interact"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["x-forwarded-for"] == "203.0.113.9"
    assert "authorization" not in request.headers
    assert form_of(request) == {
        "scope": ["openid profile offline_access"],
        "redirect_uri": ["https://app.example.test/bff/callback"],
        "code_challenge": [s256(VERIFIER)],
        "code_challenge_method": ["S256"],
        "state": ["st-1"],
        "nonce": ["n-1"],
        "acr_values": ["urn:okta:loa:2fa:any"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert VERIFIER not in request.content.decode()


async def test_interact_with_private_key_jwt(okta: FakeOkta) -> None:
    key = cached_rsa("client-key")
    okta.routes["/oauth2/default/v1/interact"] = interact_ok
    client, http = make_client(okta, BFF_OKTA_PRIVATE_KEY=key.as_pem(private=True).decode())
    async with http:
        handle = await client.interact(code_verifier=VERIFIER, state="s", scopes=["openid"])
    assert handle == "fake_interaction_handle"
    form = form_of(okta.last())
    assert form["client_id"] == [CLIENT_ID] and "client_secret" not in form
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    token = jwt.decode(form["client_assertion"][0], RSAKey.import_key(key.as_dict(private=False)))
    assert token.claims["aud"] == f"{ISSUER}/v1/interact"
    assert token.claims["iss"] == token.claims["sub"] == CLIENT_ID


@pytest.mark.parametrize(("response", "error"), [
    (httpx.Response(400, json={"error": "invalid_request", "error_description": "redirect_uri"}), OAuthError),
    (httpx.Response(401, json={"error": "invalid_client"}), OAuthError),
    (httpx.Response(400, json={"error": "invalid_grant"}), InvalidGrant),
    (httpx.Response(400, text="<html>nope</html>"), BadGateway),
    (httpx.Response(503, text="down"), Unavailable),
    (httpx.Response(429, json={"error": "too_many_requests"},
                    headers={"X-Rate-Limit-Reset": str(int(NOW) + 9)}), IdxRateLimited),
    (httpx.Response(200, text="not json"), BadGateway),
    (httpx.Response(200, json={"interaction_handle": ""}), BadGateway),
    (httpx.Response(200, json=["fake_interaction_handle"]), BadGateway),
])
async def test_interact_errors(idx: IdxClient, okta: FakeOkta, response: httpx.Response,
                               error: type[BFFError]) -> None:
    okta.routes["/oauth2/default/v1/interact"] = lambda _r: response
    with pytest.raises(error) as info:
        await idx.interact(code_verifier=VERIFIER, state="s", scopes=["openid"])
    if isinstance(info.value, IdxRateLimited):
        assert info.value.headers["Retry-After"] == "9"
    if isinstance(info.value, OAuthError):
        assert "redirect_uri" not in str(info.value)  # Okta's description is not passed on


# -- introspect, remediate, cancel -------------------------------------------------------------


async def test_introspect_by_interaction_handle(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/introspect"] = ion("identify.json")
    s = await idx.introspect(interaction_handle="fake_interaction_handle", client_ip="2001:db8::1")
    assert [f.name for f in s.remediations] == ["identify", "select-enroll-profile"]
    request = okta.last()
    assert str(request.url) == f"{FIXTURE_ORIGIN}/idp/idx/introspect"
    assert request.headers["accept"] == "application/ion+json; okta-version=1.0.0"
    assert request.headers["content-type"] == "application/ion+json; okta-version=1.0.0"
    assert request.headers["x-forwarded-for"] == "2001:db8::1"
    assert json_of(request) == {"interactionHandle": "fake_interaction_handle"}


async def test_introspect_by_state_handle_and_argument_checks(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/introspect"] = ion("identify.json")
    await idx.introspect(state_handle="sh-1")
    assert json_of(okta.last()) == {"stateHandle": "sh-1"}
    with pytest.raises(ValueError):
        await idx.introspect()
    with pytest.raises(ValueError):
        await idx.introspect(interaction_handle="a", state_handle="b")


async def test_a_client_ip_that_is_not_an_ip_is_not_forwarded(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/introspect"] = ion("identify.json")
    await idx.introspect(state_handle="sh", client_ip="1.2.3.4\r\nX-Evil: 1")
    assert "x-forwarded-for" not in okta.last().headers


async def test_remediate_posts_the_prepared_body_to_the_form(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/identify"] = ion("authenticator-verification-password.json")
    okta.routes["/idp/idx/challenge/answer"] = ion("success-with-interaction-code.json")
    identify = parse_state(load("identify.json"))
    request = prepare(identify, "identify", {"identifier": "bob@example.com"})
    password = await idx.remediate(request.form, request.body)
    assert json_of(okta.last()) == {"identifier": "bob@example.com", "stateHandle": identify.state_handle}
    assert str(okta.last().url) == f"{FIXTURE_ORIGIN}/idp/idx/identify"
    answer = prepare(password, "challenge-authenticator", {"credentials.passcode": "correct horse"})
    done = await idx.remediate(answer.form, answer.body)
    assert json_of(okta.last())["credentials"] == {"passcode": "correct horse"}
    assert done.interaction_code == "wIEmWR5rLTsaZcdd14psCsl2RIsNu-zvi_V9MZpW5V8"


async def test_cancel(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/cancel"] = ion("identify.json")
    s = parse_state(load("authenticator-verification-email.json"))
    await idx.cancel(s)
    assert json_of(okta.last()) == {"stateHandle": s.state_handle}
    # Without a cancel form, the default path on the org.
    doc = load("authenticator-verification-email.json")
    bare = parse_state({k: v for k, v in doc.items() if k != "cancel"})
    await idx.cancel(bare)
    assert str(okta.last().url) == f"{FIXTURE_ORIGIN}/idp/idx/cancel"
    with pytest.raises(ValueError):
        await idx.cancel(parse_state(load("error-429-too-many-request.json")))


# -- the origin check ----------------------------------------------------------------------------


@pytest.mark.parametrize("href", [
    "https://evil.example/idp/idx/identify",
    "http://localhost:3000.evil.example/idp/idx/identify",
    "https://localhost:3000/idp/idx/identify",  # another scheme
    "http://localhost:3001/idp/idx/identify",  # another port
    "http://localhost:3000:1802/idp/idx/cancel",  # Okta's own mock: two ports
    "http://okta@localhost:3000/idp/idx/identify",  # user-info
    "http://localhost:3000/oauth2/default/v1/token",  # on the origin, not an IDX form
    "//localhost:3000/idp/idx/identify",
    "/idp/idx/identify",
    "javascript:alert(1)",
])
async def test_forms_outside_the_okta_origin_are_never_posted(idx: IdxClient, okta: FakeOkta,
                                                              href: str) -> None:
    okta.routes["/idp/idx/identify"] = ion("identify.json")
    with pytest.raises(IdxOriginRefused) as info:
        await idx.remediate(Form(name="identify", href=href), {"stateHandle": "secret-handle"})
    assert okta.requests == []
    assert info.value.status == 502 and "secret-handle" not in str(info.value) and href not in str(info.value)


async def test_real_fixture_forms_that_must_not_be_posted(idx: IdxClient, okta: FakeOkta) -> None:
    idps = parse_state(load("identify-with-third-party-idps.json"))
    redirect = idps.remediation("redirect-idp")
    assert redirect is not None
    with pytest.raises(IdxOriginRefused, match="not POST"):  # a browser redirect carrying the handle
        await idx.remediate(redirect, {})
    skip = parse_state(load("authenticator-enroll-select-authenticator-with-skip.json"))
    with pytest.raises(IdxOriginRefused):
        await idx.cancel(skip)  # its cancel href is http://localhost:3000:1802/...
    with pytest.raises(IdxOriginRefused):
        await idx.remediate(Form(name="x", href=None), {})
    assert okta.requests == []


async def test_an_explicit_okta_origin(okta: FakeOkta) -> None:
    settings = make_settings(BFF_OKTA_ISSUER=ISSUER)
    async with httpx.AsyncClient(transport=httpx.MockTransport(okta)) as http:
        client = IdxClient(settings, http, OIDCClient(settings, http), okta_origin="https://acme.okta.com")
        okta.routes["/idp/idx/introspect"] = ion("identify.json")
        await client.introspect(state_handle="s")
        assert str(okta.last().url) == "https://acme.okta.com/idp/idx/introspect"
        with pytest.raises(IdxOriginRefused):
            await client.remediate(Form(name="identify", href=f"{FIXTURE_ORIGIN}/idp/idx/identify"), {})
        with pytest.raises(ValueError):
            IdxClient(settings, http, OIDCClient(settings, http), okta_origin="acme.okta.com")


# -- error states and transport errors ----------------------------------------------------------


@pytest.mark.parametrize(("fixture", "status", "keys", "terminal"), [
    ("error-401-invalid-otp-passcode.json", 401, [], False),
    ("error-authenticator-verify-password.json", 400, ["incorrectPassword"], False),
    ("identify-unknown-user.json", 400, ["errors.E0000004"], False),
    ("error-identify-access-denied.json", 403, ["security.access_denied"], True),
    ("error-401-session-expired.json", 401, ["idx.session.expired"], True),
    ("error-unlock-account.json", 400, ["oie.selfservice.unlock_user.failed.message"], True),
])
async def test_4xx_idx_states_are_rejections_carrying_the_state(idx: IdxClient, okta: FakeOkta, fixture: str,
                                                                 status: int, keys: list[str],
                                                                 terminal: bool) -> None:
    okta.routes["/idp/idx/introspect"] = ion(fixture, status)
    with pytest.raises(IdxRejected) as info:
        await idx.introspect(state_handle="s")
    assert info.value.okta_status == status and info.value.status == 400
    assert [m.key for m in info.value.state.messages] == keys
    assert info.value.state.terminal is terminal
    if fixture == "error-401-invalid-otp-passcode.json":
        (message,) = info.value.state.remediations[0].all_messages()
        assert (message.key, message.field) == ("api.authn.error.PASSCODE_INVALID", "credentials.passcode")


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7),
    ({"X-Rate-Limit-Reset": str(int(NOW) + 12)}, 12),
    ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)}, 30),
    ({"X-Rate-Limit-Reset": str(int(NOW) - 100)}, 1),  # a reset in the past: retry at once
    ({"Retry-After": "99999999"}, 3600),
    ({"Retry-After": "soon"}, DEFAULT_RETRY_AFTER),
    ({}, DEFAULT_RETRY_AFTER),
])
async def test_429_maps_to_rate_limited_with_retry_after(idx: IdxClient, okta: FakeOkta,
                                                         headers: dict[str, str], expected: int) -> None:
    okta.routes["/idp/idx/identify"] = ion("error-429-too-many-request.json", 429, headers)
    form = parse_state(load("identify.json")).remediations[0]
    with pytest.raises(IdxRateLimited) as info:
        await idx.remediate(form, {"identifier": "a", "stateHandle": "s"})
    assert info.value.retry_after == expected and info.value.headers["Retry-After"] == str(expected)
    assert info.value.status == 429
    assert info.value.state is not None and [m.key for m in info.value.state.messages] == ["tooManyRequests"]


async def test_429_without_a_body(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/introspect"] = lambda _r: httpx.Response(429, text="slow down")
    with pytest.raises(IdxRateLimited) as info:
        await idx.introspect(state_handle="s")
    assert info.value.state is None


def test_retry_after_parsing() -> None:
    assert retry_after({}, NOW) is None
    assert retry_after({"retry-after": "3"}, NOW) == 3
    assert retry_after({"retry-after": "0"}, NOW) == 1
    assert retry_after({"retry-after": "²"}, NOW) is None  # str.isdigit() says yes, int() says no
    assert retry_after({"x-rate-limit-reset": "١٢"}, NOW) is None
    assert retry_after({"retry-after": "Wed, 99 Foo 2015 07:28:00 GMT"}, NOW) is None


def raise_(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return handler


@pytest.mark.parametrize(("route", "error", "status"), [
    (lambda _r: httpx.Response(500, text="oops"), Unavailable, 503),
    (raise_(httpx.ReadTimeout("slow")), GatewayTimeout, 504),
    (raise_(httpx.ConnectTimeout("slow")), GatewayTimeout, 504),
    (raise_(httpx.ConnectError("refused")), Unavailable, 503),
    (lambda _r: httpx.Response(404, text="<html>Not found</html>"), BadGateway, 502),
    (lambda _r: httpx.Response(401, json={"errorCode": "E0000011", "errorSummary": "Invalid token"}),
     BadGateway, 502),
    (lambda _r: httpx.Response(302, headers={"Location": "https://elsewhere.example/"}), BadGateway, 502),
    (lambda _r: httpx.Response(200, text="<html>"), BadGateway, 502),
    (lambda _r: httpx.Response(200, json={"interaction_handle": "x"}), IdxParseError, 502),
    (lambda _r: httpx.Response(200, content=b'{"stateHandle": "' + b"x" * 600_000 + b'"}'), BadGateway, 502),
    (lambda _r: httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000), BadGateway, 502),
])
async def test_transport_and_body_errors(idx: IdxClient, okta: FakeOkta, route: Handler,
                                         error: type[BFFError], status: int) -> None:
    okta.routes["/idp/idx/introspect"] = route
    with pytest.raises(error) as info:
        await idx.introspect(state_handle="s")
    assert info.value.status == status


async def test_a_5xx_retry_after_is_passed_on(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/idp/idx/introspect"] = lambda _r: httpx.Response(503, headers={"Retry-After": "120"})
    with pytest.raises(Unavailable) as info:
        await idx.introspect(state_handle="s")
    assert info.value.headers == {"Retry-After": "120"}
    okta.routes["/idp/idx/introspect"] = lambda _r: httpx.Response(502)
    with pytest.raises(Unavailable) as info:
        await idx.introspect(state_handle="s")
    assert info.value.headers == {}


# -- the token exchange ------------------------------------------------------------------------


def token_response(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
                                     "id_token": "h.p.s", "refresh_token": "rt-1", "scope": "openid profile"})


async def test_interaction_code_exchange(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/oauth2/default/v1/token"] = token_response
    done = parse_state(load("success-with-interaction-code.json"))
    assert done.interaction_code is not None
    tokens = await idx.exchange_interaction_code(done.interaction_code, VERIFIER)
    assert (tokens.access_token, tokens.id_token, tokens.refresh_token) == ("at-1", "h.p.s", "rt-1")
    assert tokens.scope == frozenset({"openid", "profile"})
    request = okta.last()
    assert str(request.url) == f"{ISSUER}/v1/token"
    assert form_of(request) == {"grant_type": ["interaction_code"],
                                "interaction_code": [done.interaction_code], "code_verifier": [VERIFIER]}
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


async def test_a_pkce_failure_is_invalid_grant(idx: IdxClient, okta: FakeOkta) -> None:
    okta.routes["/oauth2/default/v1/token"] = lambda _r: httpx.Response(
        400, json=load("oauth2-error-token-invalid-grant-pkce.json"))
    with pytest.raises(InvalidGrant) as info:
        await idx.exchange_interaction_code("code-1", "wrong-verifier")
    assert "PKCE" not in str(info.value) and "wrong-verifier" not in str(info.value)


# -- no secret in any error or log line --------------------------------------------------------


async def test_no_secret_in_errors_or_logs(okta: FakeOkta, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    identify = parse_state(load("identify.json"))
    done = parse_state(load("success-with-interaction-code.json"))
    assert identify.state_handle is not None and done.interaction_code is not None
    handle = identify.state_handle
    secrets = [CLIENT_SECRET, VERIFIER, handle, handle[:32], "fake_interaction_handle",
               done.interaction_code, "correct horse battery"]
    scenarios: list[tuple[str, Handler]] = [
        ("/idp/idx/identify", ion("error-authenticator-verify-password.json", 400)),
        ("/idp/idx/identify", ion("error-429-too-many-request.json", 429)),
        ("/idp/idx/identify", lambda _r: httpx.Response(500, text=handle)),
        ("/idp/idx/identify", lambda _r: httpx.Response(200, text="garbage " + handle)),
        ("/idp/idx/identify", raise_(httpx.ConnectError(f"refused {handle}"))),
        ("/oauth2/default/v1/interact", lambda _r: httpx.Response(
            400, json={"error": "invalid_client", "error_description": CLIENT_SECRET})),
        ("/oauth2/default/v1/token", lambda _r: httpx.Response(400, json={"error": "invalid_grant"})),
        ("/oauth2/default/v1/token", lambda _r: httpx.Response(401, json={"error": "invalid_client"})),
    ]
    errors: list[BFFError] = []
    for path, route in scenarios:
        okta.routes.clear()
        okta.routes[path] = route
        client, http = make_client(okta)
        async with http:
            try:
                if path.endswith("/interact"):
                    await client.interact(code_verifier=VERIFIER, state="s", scopes=["openid"])
                elif path.endswith("/token"):
                    await client.exchange_interaction_code(done.interaction_code, VERIFIER)
                else:
                    request = prepare(identify, "identify", {"identifier": "correct horse battery"})
                    await client.remediate(request.form, request.body)
            except BFFError as failure:
                errors.append(failure)
    # Outside the origin: refused, with the handle in the body it would have carried.
    client, http = make_client(okta)
    async with http:
        try:
            await client.remediate(Form(name="identify", href="https://evil.example/idp/idx/identify"),
                                   {"stateHandle": identify.state_handle})
        except BFFError as failure:
            errors.append(failure)
    assert len(errors) == len(scenarios) + 1
    for exc in errors:
        rendered = bytes(error_response(exc).body).decode()
        text = " ".join([str(exc), repr(exc), exc.detail or "", json.dumps(exc.extra, default=str), rendered])
        for secret in secrets:
            assert secret not in text, (type(exc).__name__, secret[:12])
        if isinstance(exc, IdxRejected | IdxRateLimited) and exc.state is not None:
            assert identify.state_handle not in repr(exc.state)
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in logged


async def test_a_rejection_state_is_the_step_to_render(idx: IdxClient, okta: FakeOkta) -> None:
    """What the wiring does with an IdxRejected: the state is the next step, messages included."""
    from bff.signin.steps import to_step

    okta.routes["/idp/idx/challenge/answer"] = ion("error-authenticator-verify-password.json", 400)
    password = parse_state(load("authenticator-verification-password.json"))
    request = prepare(password, "challenge-authenticator", {"credentials.passcode": "wrong"})
    with pytest.raises(IdxRejected) as info:
        await idx.remediate(request.form, request.body)
    step: Any = to_step(info.value.state)
    assert step["step"] == "challenge-authenticator"
    assert step["messages"] == [{"key": "incorrectPassword", "class": "ERROR"}]


def test_states_keep_the_handle_out_of_repr() -> None:
    s: IdxState = parse_state(load("identify.json"))
    assert s.state_handle is not None and s.state_handle[:32] not in repr(IdxRejected(s, 400).state)

"""The relying party against a scripted provider (httpx.MockTransport). Each negative case of
bff-security.md (the conformance suite's RP plans) has a test here that fails if its check is
removed."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from bff.auth.oidc import (
    BACKCHANNEL_LOGOUT_EVENT,
    InvalidGrant,
    InvalidToken,
    OAuthError,
    OIDCClient,
    ProviderMetadata,
)
from bff.config import ConfigError
from bff.errors import BadGateway, Unavailable
from tests.support.env import make_settings
from tests.unit.auth.fake_idp import (
    CLIENT_ID,
    ISSUER,
    FakeIdP,
    cached_rsa,
    es256_foreign,
    hs256_with_public_key,
    sign,
    unsigned,
)

SETTINGS = make_settings()


class Clock:
    def __init__(self, now: float | None = None) -> None:
        self.now = now if now is not None else time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def idp() -> FakeIdP:
    return FakeIdP()


@pytest.fixture
async def rp(idp: FakeIdP) -> AsyncIterator[OIDCClient]:
    async with idp.client() as http:
        client = OIDCClient(SETTINGS, http)
        await client.start()
        yield client


def claims(idp: FakeIdP, **over: Any) -> dict[str, Any]:
    return idp.base_id_claims(nonce="n-1") | over


def drop(d: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in names}


async def validate(rp: OIDCClient, token: str, nonce: str | None = "n-1", **kw: Any) -> dict[str, Any]:
    return await rp.validate_id_token(token, nonce=nonce, **kw)


# -- discovery ---------------------------------------------------------------------------------


async def test_discovery_is_loaded_once_at_start(rp: OIDCClient, idp: FakeIdP) -> None:
    assert await rp.ready()
    meta = await rp.metadata()
    assert meta.token_endpoint == f"{ISSUER}/v1/token"
    await rp.metadata()
    assert idp.calls["openid-configuration"] == 1
    assert idp.calls["keys"] == 1


async def test_discovery_issuer_mismatch_is_refused(idp: FakeIdP) -> None:
    idp.discovery_extra = {"issuer": "https://okta.example.test"}  # the org server, not the custom one
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http)
        await rp.start()
        assert not await rp.ready()
        with pytest.raises(BadGateway):
            await rp.metadata()


@pytest.mark.parametrize("doc, problem", [
    ({"token_endpoint": None}, "token_endpoint"),
    ({"jwks_uri": "http://okta.example.test/keys"}, "not https"),
    ({"authorization_endpoint": "/relative"}, "absolute"),
    ({"code_challenge_methods_supported": ["plain"]}, "S256"),
    ({"id_token_signing_alg_values_supported": ["HS256"]}, "RS256"),
])
def test_discovery_document_checks(doc: dict[str, Any], problem: str) -> None:
    base = FakeIdP().discovery()
    base.update(doc)
    base = {k: v for k, v in base.items() if v is not None}
    with pytest.raises(ValueError, match=problem):
        ProviderMetadata.from_document(base, ISSUER)


async def test_provider_down_at_start_then_up(idp: FakeIdP) -> None:
    idp.down = True
    mono = Clock(1000.0)
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http, monotonic=mono)
        await rp.start()  # does not raise: the app starts, /readyz says not ready
        assert not await rp.ready()
        idp.down = False
        assert not await rp.ready()  # retried at most every few seconds
        mono.now += 6
        assert await rp.ready()


# -- authorize URL -----------------------------------------------------------------------------


async def test_authorization_url(rp: OIDCClient) -> None:
    url = await rp.authorization_url(state="st", nonce="no", code_verifier="v" * 64,
                                     scopes=["openid", "email", "admin"], prompt="login",
                                     login_hint="x@partner.test", idp="0oaidp")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/v1/authorize"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 64).digest()).rstrip(b"=").decode()
    assert q == {"client_id": CLIENT_ID, "response_type": "code", "scope": "openid email admin",
                 "redirect_uri": "https://app.example.test/bff/callback", "state": "st", "nonce": "no",
                 "code_challenge": expected, "code_challenge_method": "S256", "prompt": "login",
                 "login_hint": "x@partner.test", "idp": "0oaidp"}


# -- ID token: the good case and every RP negative case ----------------------------------------


async def test_valid_id_token(rp: OIDCClient, idp: FakeIdP) -> None:
    got = await validate(rp, sign(claims(idp), idp.keys[0]))
    assert got["sub"] == "00uuser1"


async def test_invalid_iss(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="iss"):
        await validate(rp, sign(claims(idp, iss="https://evil.example/oauth2/default"), idp.keys[0]))


async def test_missing_iss(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="iss"):
        await validate(rp, sign(drop(claims(idp), "iss"), idp.keys[0]))


async def test_missing_sub(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="sub"):
        await validate(rp, sign(drop(claims(idp), "sub"), idp.keys[0]))


async def test_empty_sub(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="sub"):
        await validate(rp, sign(claims(idp, sub=""), idp.keys[0]))


@pytest.mark.parametrize("aud", ["0oaOTHER", ["0oaOTHER", "api://default"], []])
async def test_invalid_aud(rp: OIDCClient, idp: FakeIdP, aud: Any) -> None:
    with pytest.raises(InvalidToken, match="aud"):
        await validate(rp, sign(claims(idp, aud=aud), idp.keys[0]))


async def test_missing_aud(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="aud"):
        await validate(rp, sign(drop(claims(idp), "aud"), idp.keys[0]))


async def test_aud_list_containing_client_needs_azp(rp: OIDCClient, idp: FakeIdP) -> None:
    token = sign(claims(idp, aud=[CLIENT_ID, "other"]), idp.keys[0])
    with pytest.raises(InvalidToken, match="azp"):
        await validate(rp, token)
    ok = sign(claims(idp, aud=[CLIENT_ID, "other"], azp=CLIENT_ID), idp.keys[0])
    assert (await validate(rp, ok))["azp"] == CLIENT_ID


async def test_wrong_azp(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="azp"):
        await validate(rp, sign(claims(idp, azp="0oaOTHER"), idp.keys[0]))


async def test_missing_iat(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="iat"):
        await validate(rp, sign(drop(claims(idp), "iat"), idp.keys[0]))


async def test_iat_far_in_the_future(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="iat"):
        await validate(rp, sign(claims(idp, iat=int(time.time()) + 3600), idp.keys[0]))


async def test_iat_within_clock_skew_is_accepted(rp: OIDCClient, idp: FakeIdP) -> None:
    await validate(rp, sign(claims(idp, iat=int(time.time()) + 30), idp.keys[0]))


async def test_iat_before_the_login_began(rp: OIDCClient, idp: FakeIdP) -> None:
    token = sign(claims(idp, iat=int(time.time()) - 600), idp.keys[0])
    await validate(rp, token)  # without a start time the age alone is not checked ...
    with pytest.raises(InvalidToken, match="iat"):
        await validate(rp, token, not_before=time.time() - 120)  # ... with it, a stale token fails


async def test_expired_exp(rp: OIDCClient, idp: FakeIdP) -> None:
    now = int(time.time())
    with pytest.raises(InvalidToken, match="expired"):
        await validate(rp, sign(claims(idp, iat=now - 7200, exp=now - 3600), idp.keys[0]))


async def test_missing_exp(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="exp"):
        await validate(rp, sign(drop(claims(idp), "exp"), idp.keys[0]))


async def test_invalid_nonce(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="nonce"):
        await validate(rp, sign(claims(idp, nonce="someone-elses"), idp.keys[0]))


async def test_missing_nonce(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="nonce"):
        await validate(rp, sign(drop(claims(idp), "nonce"), idp.keys[0]))


async def test_alg_none(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="RS256"):
        await validate(rp, unsigned(claims(idp), {"kid": "k1"}))


async def test_hs256_signed_with_the_public_key(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="RS256"):
        await validate(rp, hs256_with_public_key(claims(idp), idp.keys[0]))


async def test_es256_from_a_foreign_key(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="RS256"):
        await validate(rp, es256_foreign(claims(idp)))


async def test_rs256_signed_by_another_key_under_our_kid(rp: OIDCClient, idp: FakeIdP) -> None:
    forged = sign(claims(idp), cached_rsa("attacker"), kid="k1")
    with pytest.raises(InvalidToken, match="signature"):
        await validate(rp, forged)


async def test_rs256_signed_by_a_foreign_key_with_its_own_kid(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="unknown key"):
        await validate(rp, sign(claims(idp), cached_rsa("attacker")))


async def test_tampered_payload(rp: OIDCClient, idp: FakeIdP) -> None:
    header, payload, sig = sign(claims(idp), idp.keys[0]).split(".")
    evil = base64.urlsafe_b64encode(json.dumps(claims(idp, sub="00uadmin")).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        await validate(rp, f"{header}.{evil}.{sig}")


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d.e", "x" * 20_000, "é.é.é"])
async def test_garbage_tokens(rp: OIDCClient, token: str) -> None:
    with pytest.raises(InvalidToken):
        await validate(rp, token)


async def test_kid_absent_with_one_key_is_accepted(rp: OIDCClient, idp: FakeIdP) -> None:
    assert (await validate(rp, sign(claims(idp), idp.keys[0], kid=None)))["sub"] == "00uuser1"


async def test_kid_absent_with_several_keys_tries_each() -> None:
    idp = FakeIdP(keys=[cached_rsa("k1"), cached_rsa("k2")])
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http)
        await rp.start()
        assert (await validate(rp, sign(claims(idp), idp.keys[1], kid=None)))["sub"]
        with pytest.raises(InvalidToken, match="signature"):
            await validate(rp, sign(claims(idp), cached_rsa("attacker"), kid=None))


async def test_unparseable_jwks_entry_is_ignored() -> None:
    broken_rsa = {"kty": "RSA", "kid": "bad1", "n": "!!!not-base64", "e": "AQAB"}
    idp = FakeIdP(jwks_extra=[broken_rsa, {"kty": "RSA", "kid": "bad2"}, {"kty": "unknown"}, "junk",
                              {"kty": "RSA", "kid": "enc", "use": "enc", "n": "x", "e": "AQAB"}])
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http)
        await rp.start()
        assert (await validate(rp, sign(claims(idp), idp.keys[0])))["sub"] == "00uuser1"
        with pytest.raises(InvalidToken):
            await validate(rp, sign(claims(idp), idp.keys[0], kid="bad1"))


async def test_signing_key_rotation_refetches_jwks_once_rate_limited() -> None:
    idp = FakeIdP(keys=[cached_rsa("k1")])
    mono = Clock(1000.0)
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http, monotonic=mono, jwks_min_refetch_interval=30)
        await rp.start()
        assert idp.calls["keys"] == 1
        # The provider rotates: the new key appears in its JWKS and signs from now on.
        idp.keys = [cached_rsa("k2"), cached_rsa("k1")]
        mono.now += 1  # right after start-up: the start-up fetch does not count against the limit
        assert (await validate(rp, sign(claims(idp), idp.keys[0])))["sub"]
        assert idp.calls["keys"] == 2  # one refetch for the unknown kid
        # Forged kids right after: no refetch storm (rate limited) ...
        for i in range(5):
            with pytest.raises(InvalidToken, match="unknown key"):
                await validate(rp, sign(claims(idp), cached_rsa("attacker"), kid=f"forged{i}"))
        assert idp.calls["keys"] == 2
        # ... the known keys keep working without fetches ...
        await validate(rp, sign(claims(idp), cached_rsa("k1")))
        assert idp.calls["keys"] == 2
        # ... and once the interval passed, an unknown kid may refetch again (once).
        mono.now += 31
        with pytest.raises(InvalidToken):
            await validate(rp, sign(claims(idp), cached_rsa("attacker"), kid="forged-late"))
        assert idp.calls["keys"] == 3


async def test_concurrent_unknown_kids_share_one_refetch() -> None:
    import asyncio

    idp = FakeIdP(keys=[cached_rsa("k1")])
    mono = Clock(1000.0)
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http, monotonic=mono)
        await rp.start()
        idp.keys = [cached_rsa("k2")]
        mono.now += 100
        token = sign(claims(idp), idp.keys[0])
        results = await asyncio.gather(*(validate(rp, token) for _ in range(20)))
        assert all(r["sub"] for r in results)
        assert idp.calls["keys"] == 2


async def test_jwks_down_then_back() -> None:
    idp = FakeIdP(down_paths=("/v1/keys",))
    mono = Clock(1000.0)
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http, monotonic=mono)
        await rp.start()  # discovery loaded, keys not
        with pytest.raises(Unavailable):
            await validate(rp, sign(claims(idp), idp.keys[0]))
        calls = idp.calls["keys"]
        with pytest.raises(Unavailable):  # a failed fetch moments ago is not retried at once
            await validate(rp, sign(claims(idp), idp.keys[0]))
        assert idp.calls["keys"] == calls
        idp.down_paths = ()
        mono.now += 31
        assert (await validate(rp, sign(claims(idp), idp.keys[0])))["sub"]


async def test_jwks_is_refetched_when_old(idp: FakeIdP) -> None:
    mono = Clock(1000.0)
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http, monotonic=mono)
        await rp.start()
        mono.now += 3601
        await validate(rp, sign(claims(idp), idp.keys[0]))
        assert idp.calls["keys"] == 2


async def test_at_hash_mismatch(rp: OIDCClient, idp: FakeIdP) -> None:
    token = sign(claims(idp, at_hash="AAAAAAAAAAAAAAAAAAAAAA"), idp.keys[0])
    with pytest.raises(InvalidToken, match="at_hash"):
        await validate(rp, token, access_token="the-access-token")
    half = base64.urlsafe_b64encode(hashlib.sha256(b"the-access-token").digest()[:16]).rstrip(b"=").decode()
    good = sign(claims(idp, at_hash=half), idp.keys[0])
    await validate(rp, good, access_token="the-access-token")


@pytest.mark.parametrize("name, value", [
    ("sub", "00uSOMEONEELSE"), ("iss", "https://okta.example.test/oauth2/other"), ("aud", "0oaOTHER"),
    ("azp", CLIENT_ID),
])
async def test_refreshed_id_token_must_keep_iss_sub_aud_azp(rp: OIDCClient, idp: FakeIdP, name: str,
                                                             value: str) -> None:
    original = claims(idp)
    refreshed = drop(claims(idp), "nonce") | {name: value}
    with pytest.raises(InvalidToken):
        await validate(rp, sign(refreshed, idp.keys[0]), nonce=None, original=original)
    await validate(rp, sign(drop(claims(idp), "nonce"), idp.keys[0]), nonce=None, original=original)


async def test_refreshed_id_token_with_another_nonce(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken, match="nonce"):
        await validate(rp, sign(claims(idp, nonce="other"), idp.keys[0]), nonce=None, original=claims(idp))


# -- RFC 9207 iss response parameter -----------------------------------------------------------


async def test_authorization_response_with_wrong_iss(rp: OIDCClient) -> None:
    rp.check_response_issuer(None)
    rp.check_response_issuer(ISSUER)
    with pytest.raises(InvalidToken, match="another issuer"):
        rp.check_response_issuer("https://evil.example/oauth2/default")


async def test_iss_parameter_required_when_advertised() -> None:
    idp = FakeIdP(discovery_extra={"authorization_response_iss_parameter_supported": True})
    async with idp.client() as http:
        rp = OIDCClient(SETTINGS, http)
        await rp.start()
        with pytest.raises(InvalidToken, match="lacks"):
            rp.check_response_issuer(None)
        rp.check_response_issuer(ISSUER)


# -- token endpoint ----------------------------------------------------------------------------


async def test_code_exchange_uses_client_secret_basic_and_pkce(rp: OIDCClient, idp: FakeIdP) -> None:
    verifier = "v" * 64
    url = await rp.authorization_url(state="s", nonce="n-1", code_verifier=verifier, scopes=["openid"])
    code = idp.authorize(url)
    tokens = await rp.exchange_code(code, verifier)
    assert tokens.id_token and tokens.access_token
    assert tokens.expires_at == pytest.approx(time.time() + 3600, abs=5)
    assert "secret" not in repr(tokens) and tokens.access_token not in repr(tokens)
    form = idp.token_requests[-1]
    assert form["code_verifier"] == verifier and "client_secret" not in form


async def test_code_exchange_with_wrong_verifier_is_invalid_grant(rp: OIDCClient, idp: FakeIdP) -> None:
    url = await rp.authorization_url(state="s", nonce="n", code_verifier="v" * 64, scopes=["openid"])
    code = idp.authorize(url)
    with pytest.raises(InvalidGrant):
        await rp.exchange_code(code, "w" * 64)


async def test_replayed_code_is_invalid_grant(rp: OIDCClient, idp: FakeIdP) -> None:
    url = await rp.authorization_url(state="s", nonce="n", code_verifier="v" * 64, scopes=["openid"])
    code = idp.authorize(url)
    await rp.exchange_code(code, "v" * 64)
    with pytest.raises(InvalidGrant):
        await rp.exchange_code(code, "v" * 64)


@pytest.mark.parametrize("status, error, exc", [
    (400, "invalid_grant", InvalidGrant),
    (401, "invalid_client", OAuthError),
    (400, "invalid_scope", OAuthError),
    (500, "", Unavailable),
    (503, "", Unavailable),
    (429, "", Unavailable),
])
async def test_token_endpoint_errors(rp: OIDCClient, idp: FakeIdP, status: int, error: str,
                                     exc: type[Exception]) -> None:
    idp.token_status, idp.token_error = status, error
    with pytest.raises(exc):
        await rp.refresh("rt")


async def test_token_endpoint_unreachable(rp: OIDCClient, idp: FakeIdP) -> None:
    idp.down_paths = ("/v1/token",)
    with pytest.raises(Unavailable):
        await rp.refresh("rt")


@pytest.mark.parametrize("body", [
    {"token_type": "Bearer"}, {"access_token": "x"}, {"access_token": "x", "token_type": "mac"}, ["x"],
])
async def test_malformed_token_response(rp: OIDCClient, idp: FakeIdP, body: Any) -> None:
    idp.token_body = body
    with pytest.raises(BadGateway):
        await rp.refresh("rt")


async def test_private_key_jwt(idp: FakeIdP) -> None:
    key = cached_rsa("client-key")
    idp.private_key_jwt_key = RSAKey.import_key(key.as_dict(private=False))
    for material in (key.as_pem(private=True).decode(), json.dumps(key.as_dict(private=True))):
        settings = make_settings(BFF_OKTA_PRIVATE_KEY=material)
        async with idp.client() as http:
            rp = OIDCClient(settings, http)
            assert rp.auth_method == "private_key_jwt"
            url = await rp.authorization_url(state="s", nonce="n", code_verifier="v" * 64, scopes=["openid"])
            await rp.exchange_code(idp.authorize(url), "v" * 64)
    form = idp.token_requests[-1]
    assert "client_secret" not in form
    header = jwt.decode(form["client_assertion"], idp.private_key_jwt_key).header
    assert header["alg"] == "RS256" and header["kid"] == "client-key"


async def test_private_key_jwt_with_ec_key(idp: FakeIdP) -> None:
    key = ECKey.generate_key("P-256")
    idp.private_key_jwt_key = ECKey.import_key(key.as_dict(private=False))
    settings = make_settings(BFF_OKTA_PRIVATE_KEY=key.as_pem(private=True).decode())
    async with idp.client() as http:
        rp = OIDCClient(settings, http)
        url = await rp.authorization_url(state="s", nonce="n", code_verifier="v" * 64, scopes=["openid"])
        await rp.exchange_code(idp.authorize(url), "v" * 64)


@pytest.mark.parametrize("material", ["not a key", '{"kty": "RSA"}',
                                      json.dumps(cached_rsa("k1").as_dict(private=False))])
def test_bad_private_key_is_a_config_error(material: str) -> None:
    import httpx

    with pytest.raises(ConfigError, match="BFF_OKTA_PRIVATE_KEY"):
        OIDCClient(make_settings(BFF_OKTA_PRIVATE_KEY=material), httpx.AsyncClient())


async def test_revoke(rp: OIDCClient, idp: FakeIdP) -> None:
    assert await rp.revoke("rt-x")
    assert idp.revoked == ["rt-x"]


async def test_end_session_url(rp: OIDCClient) -> None:
    url = rp.end_session_url(id_token_hint="idt", post_logout_redirect_uri="https://app.example.test/",
                             state="st")
    assert url is not None
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{ISSUER}/v1/logout?")
    assert q == {"id_token_hint": "idt", "post_logout_redirect_uri": "https://app.example.test/",
                 "state": "st"}


# -- access token claims -----------------------------------------------------------------------


async def test_access_token_claims(rp: OIDCClient, idp: FakeIdP) -> None:
    token = idp.access_token(["openid", "admin"])
    got = await rp.access_token_claims(token)
    assert got is not None and got["scp"] == ["openid", "admin"]
    assert await rp.access_token_claims("opaque-token") is None
    forged = sign(jwt.decode(token, idp.keys[0]).claims, cached_rsa("attacker"), kid="k1")
    assert await rp.access_token_claims(forged) is None
    other_client = sign({**jwt.decode(token, idp.keys[0]).claims, "cid": "0oaOTHER"}, idp.keys[0])
    assert await rp.access_token_claims(other_client) is None


# -- back-channel logout tokens ----------------------------------------------------------------


def logout_claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 120, "jti": "jti-1",
            "sub": "00uuser1", "sid": "sid-1", "events": {BACKCHANNEL_LOGOUT_EVENT: {}}}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


async def test_valid_logout_token(rp: OIDCClient, idp: FakeIdP) -> None:
    got = await rp.validate_logout_token(sign(logout_claims(), idp.keys[0], header={"typ": "logout+jwt"}))
    assert got["sid"] == "sid-1"
    await rp.validate_logout_token(sign(logout_claims(sid=None), idp.keys[0]))
    await rp.validate_logout_token(sign(logout_claims(sub=None), idp.keys[0]))


@pytest.mark.parametrize("over, match", [
    ({"iss": "https://evil.example"}, "iss"),
    ({"aud": "0oaOTHER"}, "aud"),
    ({"aud": None}, "aud"),
    ({"events": None}, "event"),
    ({"events": {"http://schemas.openid.net/event/other": {}}}, "event"),
    ({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}, "event"),
    ({"events": [BACKCHANNEL_LOGOUT_EVENT]}, "event"),
    ({"nonce": "n"}, "nonce"),
    ({"sub": None, "sid": None}, "neither"),
    ({"jti": None}, "jti"),
    ({"iat": None}, "iat"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"iat": int(time.time()) + 3600}, "iat"),
    ({"sid": 42}, "sid"),
])
async def test_bad_logout_tokens(rp: OIDCClient, idp: FakeIdP, over: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidToken, match=match):
        await rp.validate_logout_token(sign(logout_claims(**over), idp.keys[0]))


async def test_logout_token_alg_none_and_foreign_key(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken):
        await rp.validate_logout_token(unsigned(logout_claims()))
    with pytest.raises(InvalidToken):
        await rp.validate_logout_token(sign(logout_claims(), cached_rsa("attacker"), kid="k1"))
    with pytest.raises(InvalidToken, match="typ"):
        await rp.validate_logout_token(sign(logout_claims(), idp.keys[0], header={"typ": "at+jwt"}))


async def test_an_id_token_is_not_a_logout_token(rp: OIDCClient, idp: FakeIdP) -> None:
    with pytest.raises(InvalidToken):
        await rp.validate_logout_token(sign(claims(idp), idp.keys[0]))

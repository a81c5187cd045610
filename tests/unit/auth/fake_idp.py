"""A scriptable OIDC provider behind ``httpx.MockTransport``, for unit tests of the relying
party (no sockets). It is deliberately NOT the Okta twin: a second, independent provider keeps
the BFF honest about depending only on the standards.

Tests change its behaviour through attributes: ``id_claims`` / ``id_header`` hooks,
``sign_key`` (sign with another key), ``token_status`` (a canned token-endpoint failure),
``down`` (connection refused), and read ``calls`` (per endpoint) and ``refresh_tokens_seen``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISSUER = "https://okta.example.test/oauth2/default"
CLIENT_ID = "0oatestclient"
CLIENT_SECRET = "test-client-secret-value"
REDIRECT_URI = "https://app.example.test/bff/callback"

Claims = dict[str, Any]


def new_rsa(kid: str | None) -> RSAKey:
    key = RSAKey.generate_key(2048, auto_kid=False)
    if kid is not None:
        key = RSAKey.import_key({**key.as_dict(private=True), "kid": kid})
    return key


_KEY_CACHE: dict[tuple[str, str | None], RSAKey] = {}


def cached_rsa(name: str, kid: str | None = None) -> RSAKey:
    """RSA key generation is slow (~50 ms): reuse keys across tests by name."""
    key = (name, kid)  # by kid too: the same name asked with another kid is another key
    if key not in _KEY_CACHE:
        _KEY_CACHE[key] = new_rsa(kid if kid is not None else name)
    return _KEY_CACHE[key]


def sign(claims: Claims, key: Any, *, alg: str = "RS256", header: dict[str, Any] | None = None,
         kid: str | None | bool = True) -> str:
    """A compact JWS. ``kid=True`` takes the key's kid, ``None``/``False`` omits it."""
    hdr: dict[str, Any] = {"alg": alg}
    if kid is True and getattr(key, "kid", None):
        hdr["kid"] = key.kid
    elif isinstance(kid, str):
        hdr["kid"] = kid
    hdr.update(header or {})
    return jwt.encode(hdr, claims, key, algorithms=[alg])


def unsigned(claims: Claims, header: dict[str, Any] | None = None) -> str:
    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', **(header or {})})}.{b64(claims)}."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(claims: Claims, key: RSAKey) -> str:
    """The classic key-confusion forgery: HS256 keyed with the RSA public key's PEM (built by
    hand: joserfc itself refuses to make an oct key from a public key)."""
    pem = key.as_pem(private=False)
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': key.kid}).encode())}." \
                    f"{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def es256_foreign(claims: Claims, kid: str = "k1") -> str:
    return sign(claims, ECKey.generate_key("P-256"), alg="ES256", kid=kid)


@dataclass
class FakeIdP:
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    keys: list[RSAKey] = field(default_factory=lambda: [cached_rsa("k1")])
    clock: Callable[[], float] = time.time
    access_ttl: int = 3600
    refresh_ttl: int | None = None  # sent as refresh_expires_in when set
    rotate_refresh: bool = True
    jwt_access_tokens: bool = True
    discovery_extra: dict[str, Any] = field(default_factory=dict)
    jwks_extra: list[Any] = field(default_factory=list)
    # hooks ---------------------------------------------------------------------------------
    id_claims: Callable[[Claims], Claims] = lambda c: c
    id_header: dict[str, Any] = field(default_factory=dict)
    sign_key: Any = None  # sign ID tokens with this key instead of keys[0]
    id_token_factory: Callable[[Claims], str] | None = None  # full control over the ID token
    token_status: int | None = None  # canned failure of the token endpoint
    token_error: str = "invalid_grant"
    token_body: Any = None  # canned 200 body
    down: bool = False
    token_delay: float = 0.0  # seconds the token endpoint takes (makes races real)
    down_paths: tuple[str, ...] = ()
    userinfo_claims: Claims | None = None
    private_key_jwt_key: Any = None  # verify client assertions with this public key
    # acr_values=...2fa... asked: the ID token says so (amr mfa, acr) unless this is False (a
    # policy that let one factor through)
    honour_mfa: bool = True
    # observations --------------------------------------------------------------------------
    calls: Counter[str] = field(default_factory=Counter)
    refresh_tokens_seen: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    live_refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    user: Claims = field(default_factory=lambda: {
        "sub": "00uuser1", "email": "bob@acme.test", "name": "Bob Test",
        "preferred_username": "bob@acme.test", "groups": ["Everyone", "acme-users"], "orgId": "acme"})

    # -- helpers -----------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) | {"use": "sig", "alg": "RS256"} for k in self.keys]
                + list(self.jwks_extra)}

    def discovery(self) -> dict[str, Any]:
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": f"{i}/v1/authorize",
            "token_endpoint": f"{i}/v1/token",
            "userinfo_endpoint": f"{i}/v1/userinfo",
            "jwks_uri": f"{i}/v1/keys",
            "end_session_endpoint": f"{i}/v1/logout",
            "revocation_endpoint": f"{i}/v1/revoke",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            **self.discovery_extra,
        }

    def base_id_claims(self, nonce: str | None = None, **over: Any) -> Claims:
        now = int(self.clock())
        claims: Claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 3600,
                          "jti": "ID." + secrets.token_hex(8), "amr": ["pwd"], "auth_time": now,
                          **self.user}
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(over)
        return claims

    def id_token(self, claims: Claims) -> str:
        if self.id_token_factory is not None:
            return self.id_token_factory(claims)
        key = self.sign_key or self.keys[0]
        return sign(claims, key, header=self.id_header)

    def access_token(self, scopes: list[str]) -> str:
        if not self.jwt_access_tokens:
            return "opaque-" + secrets.token_urlsafe(16)
        now = int(self.clock())
        return sign({"ver": 1, "jti": "AT." + secrets.token_hex(8), "iss": self.issuer,
                     "aud": "api://default", "iat": now, "exp": now + self.access_ttl,
                     "cid": self.client_id, "uid": self.user["sub"], "scp": scopes,
                     "sub": self.user["email"], "groups": self.user.get("groups", []),
                     "orgId": self.user.get("orgId")}, self.keys[0])

    def issue_code(self, *, nonce: str, verifier_challenge: str, scopes: list[str],
                   acr: str | None = None) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": nonce, "challenge": verifier_challenge, "scopes": scopes, "acr": acr}
        return code

    def authorize(self, url: str) -> str:
        """Play the user agreeing at the authorize endpoint: returns the code for that request."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert q["code_challenge_method"] == "S256"
        return self.issue_code(nonce=q["nonce"], verifier_challenge=q["code_challenge"],
                               scopes=q["scope"].split(), acr=q.get("acr_values"))

    def _tokens(self, scopes: list[str], nonce: str | None, *, id_token: bool = True,
                acr: str | None = None) -> dict[str, Any]:
        access = self.access_token(scopes)
        body: dict[str, Any] = {"token_type": "Bearer", "access_token": access, "expires_in": self.access_ttl,
                                "scope": " ".join(scopes)}
        if "offline_access" in scopes:
            rt = "rt-" + secrets.token_urlsafe(16)
            self.live_refresh[rt] = {"scopes": scopes}
            body["refresh_token"] = rt
            if self.refresh_ttl is not None:
                body["refresh_expires_in"] = self.refresh_ttl
        if id_token and "openid" in scopes:
            asked = acr is not None and "2fa" in acr and self.honour_mfa
            mfa = {"amr": ["pwd", "otp", "mfa"], "acr": acr} if asked else {}
            claims = self.id_claims(self.base_id_claims(nonce, **mfa))
            body["id_token"] = self.id_token(claims)
        return body

    # -- the HTTP surface ------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        name = path.rsplit("/", 1)[-1]
        self.calls[name] += 1
        if self.token_delay and path.endswith("/v1/token"):
            await asyncio.sleep(self.token_delay)
        if self.down or any(path.endswith(p) for p in self.down_paths):
            raise httpx.ConnectError("connection refused", request=request)
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json=self.discovery())
        if path.endswith("/v1/keys"):
            return httpx.Response(200, json=self.jwks())
        if path.endswith("/v1/token"):
            return self._token(request)
        if path.endswith("/v1/revoke"):
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.revoked.append(form["token"])
            self.live_refresh.pop(form["token"], None)
            return httpx.Response(200)
        if path.endswith("/v1/userinfo"):
            return httpx.Response(200, json=self.userinfo_claims or dict(self.user))
        return httpx.Response(404, json={"error": "not_found"})

    def _check_client(self, request: httpx.Request, form: dict[str, str]) -> bool:
        if self.private_key_jwt_key is not None:
            assertion = form.get("client_assertion", "")
            token = jwt.decode(assertion, self.private_key_jwt_key)
            c = token.claims
            jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            return bool(form.get("client_assertion_type") == jwt_bearer
                        and c["iss"] == c["sub"] == self.client_id and c["aud"] == f"{self.issuer}/v1/token"
                        and "jti" in c and c["exp"] > time.time())
        auth = str(request.headers.get("authorization", ""))
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return auth == f"Basic {expected}"

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        grant = form.get("grant_type")
        self.calls[f"token:{grant}"] += 1
        if not self._check_client(request, form):
            return httpx.Response(401, json={"error": "invalid_client"})
        if self.token_status is not None:
            if self.token_status >= 500:
                return httpx.Response(self.token_status, text="upstream trouble")
            return httpx.Response(self.token_status, json={"error": self.token_error,
                                                           "error_description": "canned"})
        if self.token_body is not None:
            return httpx.Response(200, json=self.token_body)
        if grant == "authorization_code":
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None or form.get("redirect_uri") != REDIRECT_URI:
                return httpx.Response(400, json={"error": "invalid_grant"})
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
            if challenge != entry["challenge"]:
                return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(200, json=self._tokens(entry["scopes"], entry["nonce"],
                                                         acr=entry.get("acr")))
        if grant == "refresh_token":
            rt = form.get("refresh_token", "")
            self.refresh_tokens_seen.append(rt)
            entry = self.live_refresh.get(rt)
            if entry is None:
                return httpx.Response(400, json={"error": "invalid_grant"})
            scopes = entry["scopes"]
            if "scope" in form:  # a narrower scope (Okta: a subset of the original)
                asked = form["scope"].split()
                if not set(asked) <= set(scopes):
                    return httpx.Response(400, json={"error": "invalid_scope"})
                scopes = asked
            body = self._tokens(scopes, None)
            if self.rotate_refresh:
                del self.live_refresh[rt]
            else:
                self.live_refresh.pop(body.pop("refresh_token", ""), None)
            return httpx.Response(200, json=body)
        return httpx.Response(400, json={"error": "unsupported_grant_type"})

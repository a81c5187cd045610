"""The JWT authorizer of an API Gateway HTTP API, as the local twin runs it.

What API Gateway checks (developer guide, "Control access to HTTP APIs with JWT authorizers"):
the token from ``Authorization`` (with or without ``Bearer``), an RSA signature by a key of the
issuer's JWKS (found through ``{issuer}/.well-known/openid-configuration``), ``iss`` equal to
the configured issuer, ``aud`` (or ``client_id`` when there is no ``aud``) among the configured
audiences, ``exp`` in the future, ``nbf`` in the past, and, when the route lists authorization
scopes, at least one of them in the token's ``scp``/``scope``. A failed check is
``401 {"message":"Unauthorized"}`` with a ``www-authenticate`` header saying why; missing
scopes are ``403 {"message":"Forbidden"}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bff.proxy.apigw_event import claim_scopes

ALGORITHMS = ["RS256", "RS384", "RS512"]
JWKS_REFETCH_INTERVAL = 5.0  # seconds between refetches triggered by an unknown kid


class AuthorizerDenied(Exception):
    def __init__(self, status: int, description: str, *, scopes: Sequence[str] = ()) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.scopes = tuple(scopes)

    @property
    def www_authenticate(self) -> str:
        error = "insufficient_scope" if self.status == 403 else "invalid_token"
        scopes = " ".join(self.scopes)
        return f'Bearer scope="{scopes}" error="{error}" error_description="{self.description}"'


class JwtAuthorizer:
    def __init__(self, issuer: str, audiences: Sequence[str], http: httpx.AsyncClient, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer.rstrip("/")
        self.audiences = tuple(audiences)
        self.http = http
        self.clock = clock
        self._keys: KeySet | None = None
        self._refetched_at = float("-inf")  # last refetch caused by an unknown kid
        self._lock = asyncio.Lock()

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        async with self._lock:
            stale = refresh and time.monotonic() - self._refetched_at >= JWKS_REFETCH_INTERVAL
            if stale:
                self._refetched_at = time.monotonic()
            if self._keys is None or stale:
                try:
                    meta = (await self.http.get(f"{self.issuer}/.well-known/openid-configuration")).json()
                    jwks = (await self.http.get(meta["jwks_uri"])).json()
                    self._keys = KeySet.import_key_set(jwks)
                except (httpx.HTTPError, ValueError, KeyError, TypeError, JoseError) as exc:
                    if self._keys is None:
                        raise AuthorizerDenied(401, "the issuer's signing keys could not be fetched") from exc
            assert self._keys is not None
            return self._keys

    async def authorize(self, authorization: str | None, route_scopes: Sequence[str]) -> dict[str, Any]:
        """The validated claims of the request's token, or AuthorizerDenied."""
        if not authorization or not authorization.strip():
            raise AuthorizerDenied(401, "the token is missing")
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, TypeError):
            raise AuthorizerDenied(401, "the token is not a valid JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthorizerDenied(401, f"signing method {header.get('alg')} is invalid")
        keys = await self._key_set()
        kid = header.get("kid")
        if kid is not None and all(k.kid != kid for k in keys.keys):
            keys = await self._key_set(refresh=True)
        try:
            claims = dict(jwt.decode(token, keys, algorithms=ALGORITHMS).claims)
        except (JoseError, ValueError, TypeError):
            raise AuthorizerDenied(401, "the token has an invalid signature") from None

        if claims.get("iss") != self.issuer:
            raise AuthorizerDenied(401, "the token does not have a valid issuer")
        aud = claims.get("aud")
        if aud is not None:
            auds = aud if isinstance(aud, list) else [aud]
            if not set(map(str, auds)) & set(self.audiences):
                raise AuthorizerDenied(401, "the token does not have a valid audience")
        elif claims.get("client_id") not in self.audiences:
            raise AuthorizerDenied(401, "the token does not have a valid audience")
        now = self.clock()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise AuthorizerDenied(401, "the token has no expiry")
        if exp <= now:
            raise AuthorizerDenied(401, "the token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and not isinstance(nbf, bool) and nbf > now:
            raise AuthorizerDenied(401, "the token is not valid yet")
        if route_scopes:
            granted = set(claim_scopes(claims) or [])
            if not granted & set(route_scopes):
                raise AuthorizerDenied(403, "the token does not have a required scope", scopes=route_scopes)
        return claims

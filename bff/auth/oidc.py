"""The OpenID Connect relying party: one client for any standards-compliant provider configured
the Okta way (a custom authorization server with discovery, JWKS, code + PKCE, refresh, revoke,
RP-initiated logout). Nothing here knows about the local twin.

What it does, and where each check lives:

* :meth:`OIDCClient.start` loads discovery once at start-up (``/readyz`` reports it through
  :meth:`OIDCClient.ready`); when the provider is down at start-up the app still starts and
  the next login retries (rate limited).
* :class:`JWKSCache`: RS256 signing keys by ``kid``; an unknown ``kid`` causes ONE refetch,
  rate limited (``min_refetch_interval``); an entry that does not parse is ignored.
* :meth:`OIDCClient.authorization_url`: ``state``, ``nonce``, PKCE S256, ``prompt``,
  ``login_hint``, ``idp``.
* :meth:`OIDCClient.exchange_code` / :meth:`refresh` / :meth:`revoke`: client authentication
  ``client_secret_basic`` (authlib's :class:`ClientAuth`) or ``private_key_jwt`` (authlib's
  :class:`PrivateKeyJWT` over joserfc) when ``BFF_OKTA_PRIVATE_KEY`` is set.
* :meth:`OIDCClient.validate_id_token`: signature (RS256 only: ``alg: none``, HS256 signed
  with the public key and foreign keys fail), ``iss``, ``aud`` contains the client id,
  ``azp``, ``exp``, ``iat`` window, ``nonce``, ``sub``, ``at_hash``; refreshed ID tokens must
  keep ``iss``/``sub``/``aud``/``azp``.
* :meth:`OIDCClient.validate_logout_token`: OIDC Back-Channel Logout 1.0, section 2.6.
* :meth:`OIDCClient.check_response_issuer`: the ``iss`` authorization-response parameter
  (RFC 9207).

Errors are converted here, at the boundary, into :mod:`bff.errors`::

    Unavailable (503)      provider unreachable, timed out, 5xx or 429; discovery not loaded
    InvalidGrant (401)     the token endpoint said ``invalid_grant`` (code used/expired,
                           refresh token revoked/expired/reused)
    OAuthError (502)       any other OAuth error from the token endpoint (``invalid_client``, ...)
    BadGateway (502)       the provider answered something that is not a valid OAuth response
    InvalidToken (400)     a JWT (ID token, logout token, userinfo) failed validation
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from joserfc import jws
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import ECKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from bff.config import ConfigError
from bff.errors import BadGateway, BadRequest, BFFError, Unauthenticated, Unavailable
from bff.okta import load_private_key
from bff.settings import Settings

log = logging.getLogger("bff.auth.oidc")

#: The only signature algorithm accepted on ID and logout tokens (Okta signs with RS256).
SIGNING_ALGS: tuple[str, ...] = ("RS256",)
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: Larger JWTs are refused before any parsing (hostile input).
MAX_JWT_LENGTH = 16 * 1024
#: Larger provider responses (discovery, JWKS, token) are refused.
MAX_RESPONSE_BYTES = 512 * 1024
#: The JWKS is refetched at least this often even without an unknown ``kid`` (revoked keys go).
JWKS_MAX_AGE = 3600.0
#: A failed discovery is retried at most this often (a login while the IdP is down).
DISCOVERY_RETRY_INTERVAL = 5.0

Clock = Callable[[], float]


class InvalidToken(BadRequest):
    """A JWT from the provider (or posted to us) failed validation. ``detail`` names the check
    that failed; it never contains the token."""

    code = "invalid_token"
    title = "Invalid token"


class InvalidGrant(Unauthenticated):
    """The token endpoint answered ``invalid_grant``: the code or refresh token is no good."""

    code = "invalid_grant"
    title = "Sign-in required"


class OAuthError(BadGateway):
    """The token (or revocation) endpoint answered an OAuth error other than ``invalid_grant``.
    ``error`` is the provider's code (``invalid_client``, ``invalid_scope``, ...)."""

    def __init__(self, error: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Identity provider error: {error}", code="idp_error")
        self.error = error


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document the BFF uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    revocation_endpoint: str | None = None
    iss_parameter_supported: bool = False

    @classmethod
    def from_document(cls, doc: Any, expected_issuer: str) -> ProviderMetadata:
        """Validate a discovery document; ``ValueError`` names the first problem."""
        if not isinstance(doc, dict):
            raise ValueError("discovery document is not a JSON object")
        issuer = doc.get("issuer")
        if issuer != expected_issuer:
            # OIDC Discovery 4.3: the issuer MUST be identical to the one configured (this
            # catches org-vs-custom authorization server mix-ups).
            raise ValueError(f"discovery issuer {issuer!r} differs from BFF_OKTA_ISSUER {expected_issuer!r}")
        https_required = urlsplit(expected_issuer).scheme == "https"

        def endpoint(name: str, *, required: bool) -> str | None:
            value = doc.get(name)
            if value is None and not required:
                return None
            if not isinstance(value, str):
                raise ValueError(f"discovery {name} is missing or not a string")
            parts = urlsplit(value)
            if parts.scheme not in {"https", "http"} or not parts.netloc or parts.fragment:
                raise ValueError(f"discovery {name} is not an absolute URL")
            if https_required and parts.scheme != "https":
                raise ValueError(f"discovery {name} is not https")
            return value

        algs = doc.get("id_token_signing_alg_values_supported")
        if isinstance(algs, list) and not set(algs) & set(SIGNING_ALGS):
            raise ValueError("the provider does not sign ID tokens with RS256")
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise ValueError("the provider does not support PKCE S256")
        return cls(
            issuer=issuer,
            authorization_endpoint=endpoint("authorization_endpoint", required=True) or "",
            token_endpoint=endpoint("token_endpoint", required=True) or "",
            jwks_uri=endpoint("jwks_uri", required=True) or "",
            userinfo_endpoint=endpoint("userinfo_endpoint", required=False),
            end_session_endpoint=endpoint("end_session_endpoint", required=False),
            revocation_endpoint=endpoint("revocation_endpoint", required=False),
            iss_parameter_supported=doc.get("authorization_response_iss_parameter_supported") is True,
        )


@dataclass(frozen=True)
class TokenSet:
    """A successful token response (RFC 6749 5.1), with lifetimes turned into epoch seconds."""

    access_token: str
    expires_at: float
    refresh_token: str | None
    id_token: str | None
    scope: frozenset[str] | None  # granted scopes when the provider says (Okta always does)
    refresh_expires_at: float | None  # only some providers tell (``refresh_expires_in``)

    def __repr__(self) -> str:  # never print token material
        return f"TokenSet(expires_at={self.expires_at}, scope={sorted(self.scope or ())})"


# ------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------


_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


def _parse_jwks(doc: Any) -> list[RSAKey]:
    """The usable RS256 signature keys of a JWKS; anything unparseable or of another kind is
    skipped (RFC 7517 5: ignore what you do not understand) rather than failing the set."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError("JWKS is not an object with a keys array")
    keys: list[RSAKey] = []
    for entry in doc["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use") not in (None, "sig") or entry.get("alg") not in (None, *SIGNING_ALGS):
            continue
        try:
            # Public members only: a JWKS that (wrongly) publishes a private key is still
            # used for verification only.
            key = RSAKey.import_key({k: v for k, v in entry.items() if k not in _PRIVATE_MEMBERS})
        except Exception as exc:  # noqa: BLE001 - any broken entry is ignored, never fatal
            log.warning("ignoring an unparseable JWKS entry (kid=%r): %s", entry.get("kid"),
                        type(exc).__name__)
            continue
        keys.append(key)
    return keys


class JWKSCache:
    """The provider's signing keys. Cached; refetched when older than ``max_age``, and once
    (at most every ``min_refetch_interval`` seconds, concurrent callers coalesced) when a token
    names a ``kid`` we do not have: that is how a key rotation is picked up, without letting
    a flood of forged ``kid`` values turn into a flood of JWKS fetches."""

    def __init__(self, fetch: Callable[[], Awaitable[Any]], *, clock: Clock = time.monotonic,
                 min_refetch_interval: float = 30.0, max_age: float = JWKS_MAX_AGE) -> None:
        self._fetch = fetch
        self._clock = clock
        self.min_refetch_interval = min_refetch_interval
        self.max_age = max_age
        self._keys: list[RSAKey] = []
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_unknown_kid: float | None = None
        self._failed = False
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times the JWKS was requested (tests and metrics)

    @property
    def loaded(self) -> bool:
        return self._fetched_at is not None

    async def refresh(self) -> None:
        """Fetch the JWKS now (raises ``Unavailable``/``BadGateway`` on failure)."""
        self._attempted_at = self._clock()
        self.fetches += 1
        self._failed = True
        doc = await self._fetch()
        try:
            keys = _parse_jwks(doc)
        except ValueError as exc:
            raise BadGateway(f"Identity provider JWKS is invalid: {exc}") from exc
        self._keys = keys
        self._fetched_at = self._clock()
        self._failed = False

    async def _refetch(self, *, unknown_kid: bool) -> None:
        seen = self.fetches
        async with self._lock:
            if self.fetches != seen:
                return  # another caller refetched while we waited: use its result
            now = self._clock()
            if unknown_kid:
                # At most one unknown-kid refetch per interval (forged kids cannot cause a
                # fetch storm); the start-up or periodic fetch does not count against it.
                last = self._last_unknown_kid
                if last is not None and now - last < self.min_refetch_interval:
                    return
                self._last_unknown_kid = now
            elif self._failed and self._attempted_at is not None \
                    and now - self._attempted_at < self.min_refetch_interval:
                return  # the last attempt failed moments ago: do not hammer a failing provider
            try:
                await self.refresh()
            except (Unavailable, BadGateway):
                if not self._keys:
                    raise
                log.warning("JWKS refetch failed; keeping the cached keys")

    def _match(self, kid: str | None) -> list[RSAKey]:
        if kid is None:
            # No kid: with one key, that key; with several, each is tried in turn (a signature
            # verifies under at most one of them).
            return list(self._keys)
        return [k for k in self._keys if k.kid == kid]

    async def keys_for(self, kid: str | None) -> list[RSAKey]:
        """The candidate verification keys for a token header's ``kid``."""
        if self._fetched_at is None or self._clock() - self._fetched_at > self.max_age:
            await self._refetch(unknown_kid=False)
            if self._fetched_at is None:
                raise Unavailable("Identity provider signing keys are not loaded")
        keys = self._match(kid)
        if not keys and kid is not None:
            await self._refetch(unknown_kid=True)
            keys = self._match(kid)
        return keys


def _load_client_key(value: str) -> RSAKey | ECKey:
    """``BFF_OKTA_PRIVATE_KEY``: a PEM private key or a private JWK (JSON), read as the Okta
    Management API client reads its service app's key (one loader: :func:`bff.okta.load_private_key`)."""
    try:
        return load_private_key(value)
    except ValueError as exc:  # names no part of the key
        raise ConfigError([f"BFF_OKTA_PRIVATE_KEY is {exc}"]) from None


# ------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------


class OIDCClient:
    """The relying party. ``http`` is the shared, injected ``httpx.AsyncClient``; ``clock``
    (epoch seconds) is injectable for tests."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, *, clock: Clock = time.time,
                 monotonic: Clock = time.monotonic, jwks_min_refetch_interval: float = 30.0) -> None:
        self.settings = settings
        self.okta = settings.okta
        self.http = http
        self.clock = clock
        self.monotonic = monotonic
        self.redirect_uri = f"{settings.public_url}/bff/callback"
        self._metadata: ProviderMetadata | None = None
        self._discovery_attempted: float | None = None
        self._discovery_error: BFFError | None = None
        self._discovery_lock = asyncio.Lock()
        self.jwks = JWKSCache(self._fetch_jwks, clock=monotonic,
                              min_refetch_interval=jwks_min_refetch_interval)
        self._client_key = _load_client_key(self.okta.private_key) if self.okta.private_key else None

    # -- discovery -----------------------------------------------------------------------

    @property
    def auth_method(self) -> str:
        return "private_key_jwt" if self._client_key is not None else "client_secret_basic"

    async def start(self) -> None:
        """Load discovery and the JWKS once. Failures are logged, not raised: the app starts,
        ``/readyz`` says not ready, and the next login retries."""
        try:
            await self.metadata()
            await self.jwks.refresh()
        except (Unavailable, BadGateway) as exc:
            log.warning("identity provider not ready at start-up: %s", exc.detail)

    async def ready(self) -> bool:
        """For ``/readyz``: discovery loaded (retried here when it is not, rate limited)."""
        try:
            await self.metadata()
        except (Unavailable, BadGateway):
            return False
        return True

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is not None:
            return self._metadata
        async with self._discovery_lock:
            if self._metadata is not None:
                return self._metadata
            now = self.monotonic()
            last = self._discovery_attempted
            if last is not None and now - last < DISCOVERY_RETRY_INTERVAL:
                # Retried at most every few seconds; until then, the last failure stands.
                error = self._discovery_error
                raise type(error)(error.detail) if error else Unavailable("Discovery not loaded")
            self._discovery_attempted = now
            url = f"{self.okta.issuer}/.well-known/openid-configuration"
            try:
                doc = await self._get_json(url, "discovery")
                try:
                    self._metadata = ProviderMetadata.from_document(doc, self.okta.issuer)
                except ValueError as exc:
                    log.error("identity provider discovery rejected: %s", exc)
                    raise BadGateway(f"Identity provider discovery is invalid: {exc}") from exc
            except (Unavailable, BadGateway) as exc:
                self._discovery_error = exc
                raise
            return self._metadata

    @property
    def loaded_metadata(self) -> ProviderMetadata | None:
        return self._metadata

    async def _fetch_jwks(self) -> Any:
        meta = await self.metadata()
        return await self._get_json(meta.jwks_uri, "JWKS")

    # -- the authorization request ---------------------------------------------------------

    async def authorization_url(self, *, state: str, nonce: str, code_verifier: str,
                                scopes: Iterable[str], prompt: str | None = None,
                                login_hint: str | None = None, idp: str | None = None,
                                extra: Mapping[str, str] | None = None) -> str:
        """``extra``: further parameters (the step-up's ``max_age`` and ``acr_values``)."""
        meta = await self.metadata()
        params: list[tuple[str, str]] = [
            ("client_id", self.okta.client_id),
            ("response_type", "code"),
            ("scope", " ".join(scopes)),
            ("redirect_uri", self.redirect_uri),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(code_verifier)),
            ("code_challenge_method", "S256"),
        ]
        if prompt:
            params.append(("prompt", prompt))
        if login_hint:
            params.append(("login_hint", login_hint))
        if idp:
            params.append(("idp", idp))
        params.extend((extra or {}).items())
        return _with_query(meta.authorization_endpoint, params)

    def check_response_issuer(self, iss: str | None) -> None:
        """RFC 9207: an ``iss`` on the authorization response must be our issuer; when the
        provider advertises the parameter, its absence is an error too (mix-up defence)."""
        meta = self._metadata
        if iss is None:
            if meta is not None and meta.iss_parameter_supported:
                raise InvalidToken("The authorization response lacks the iss parameter")
            return
        if not hmac.compare_digest(iss.encode(), self.okta.issuer.encode()):
            raise InvalidToken("The authorization response comes from another issuer")

    # -- the token endpoint ----------------------------------------------------------------

    async def exchange_code(self, code: str, code_verifier: str) -> TokenSet:
        return await self.token_request({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        })

    async def refresh(self, refresh_token: str, scope: str | None = None) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            form["scope"] = scope
        return await self.token_request(form)

    async def revoke(self, token: str, hint: str = "refresh_token") -> bool:
        """RFC 7009. True when the provider confirmed; False when it has no revocation
        endpoint. Raises like the token endpoint on failure."""
        meta = await self.metadata()
        if meta.revocation_endpoint is None:
            return False
        response = await self._post_form(meta.revocation_endpoint,
                                         {"token": token, "token_type_hint": hint}, "revocation")
        if response.status_code != 200:
            self._raise_oauth_error(response, "revocation")
        return True

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        meta = await self.metadata()
        if meta.userinfo_endpoint is None:
            raise BadGateway("The identity provider has no userinfo endpoint")
        try:
            response = await self.http.get(meta.userinfo_endpoint,
                                           headers={"Authorization": f"Bearer {access_token}",
                                                    "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable("Identity provider unreachable (userinfo)") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"Identity provider answered {response.status_code} (userinfo)")
        if response.status_code != 200:
            raise BadGateway(f"Identity provider refused userinfo ({response.status_code})")
        body = _json_body(response, "userinfo")
        if not isinstance(body, dict):
            raise BadGateway("Identity provider userinfo is not a JSON object")
        return body

    def end_session_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str,
                        state: str) -> str | None:
        """RP-initiated logout URL, or None when the provider has no end-session endpoint."""
        meta = self._metadata
        if meta is None or meta.end_session_endpoint is None:
            return None
        params = [("post_logout_redirect_uri", post_logout_redirect_uri), ("state", state)]
        if id_token_hint:
            params.insert(0, ("id_token_hint", id_token_hint))
        else:
            params.append(("client_id", self.okta.client_id))
        return _with_query(meta.end_session_endpoint, params)

    async def token_request(self, form: dict[str, str]) -> TokenSet:
        """A token-endpoint request with this client's authentication, error mapping and
        :class:`TokenSet` parsing (any grant: the IDX client redeems ``interaction_code`` here)."""
        meta = await self.metadata()
        requested_at = self.clock()
        response = await self._post_form(meta.token_endpoint, form, "token")
        if response.status_code != 200:
            self._raise_oauth_error(response, "token")
        return _parse_token_response(_json_body(response, "token"), requested_at)

    def client_auth(self, token_endpoint: str) -> ClientAuth:
        """This client's authentication for ``token_endpoint`` (the audience of a
        ``private_key_jwt`` assertion)."""
        if self._client_key is not None:
            alg = "RS256" if isinstance(self._client_key, RSAKey) else "ES256"
            headers = {"kid": self._client_key.kid} if self._client_key.kid else None
            return ClientAuth(self.okta.client_id, self._client_key,
                              PrivateKeyJWT(token_endpoint, headers=headers, alg=alg))
        return ClientAuth(self.okta.client_id, self.okta.client_secret, "client_secret_basic")

    async def _post_form(self, url: str, form: Mapping[str, str], what: str) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        _, headers, body = self.client_auth(url).prepare("POST", url, headers, urlencode(form))
        try:
            return await self.http.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(f"Identity provider unreachable ({what})") from exc

    async def _get_json(self, url: str, what: str) -> Any:
        try:
            response = await self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable(f"Identity provider unreachable ({what})") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"Identity provider answered {response.status_code} ({what})")
        if response.status_code != 200:
            raise BadGateway(f"Identity provider answered {response.status_code} ({what})")
        return _json_body(response, what)

    @staticmethod
    def _raise_oauth_error(response: httpx.Response, what: str) -> None:
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"Identity provider answered {response.status_code} ({what})")
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, str):
            raise BadGateway(f"Identity provider answered {response.status_code} "
                             f"without an OAuth error ({what})")
        if error == "invalid_grant":
            raise InvalidGrant("The identity provider no longer accepts this grant; sign in again")
        log.warning("identity provider %s error: %s (HTTP %s)", what, error[:64], response.status_code)
        raise OAuthError(error[:64])

    # -- JWT validation --------------------------------------------------------------------

    async def _verify_jws(self, token: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Signature check against the provider's JWKS; returns (header, claims)."""
        if not isinstance(token, str) or not token or len(token) > MAX_JWT_LENGTH:
            raise InvalidToken(f"The {what} is missing or too large")
        try:
            obj = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, UnicodeError) as exc:
            raise InvalidToken(f"The {what} is not a compact JWS") from exc
        header = obj.headers()
        alg = header.get("alg")
        if alg not in SIGNING_ALGS:
            raise InvalidToken(f"The {what} is not signed with RS256 (alg {str(alg)[:16]!r})")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken(f"The {what} has a malformed kid")
        keys = await self.jwks.keys_for(kid)
        if not keys:
            raise InvalidToken(f"The {what} is signed with an unknown key")
        verified = False
        for key in keys:
            try:
                if jws.validate_compact(obj, key, algorithms=list(SIGNING_ALGS)):
                    verified = True
                    break
            except JoseError:
                continue
        if not verified:
            raise InvalidToken(f"The {what} signature does not verify")
        try:
            claims = json.loads(obj.payload or b"")
        except ValueError as exc:
            raise InvalidToken(f"The {what} payload is not JSON") from exc
        if not isinstance(claims, dict):
            raise InvalidToken(f"The {what} payload is not a JSON object")
        return header, claims

    def _check_standard_claims(self, claims: dict[str, Any], what: str, *,
                               extra_essential: Iterable[str] = ()) -> None:
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.okta.issuer},
            "aud": {"essential": True, "value": self.okta.client_id},
            "iat": {"essential": True},
            **{name: {"essential": True} for name in extra_essential},
        }
        registry = JWTClaimsRegistry(now=lambda: int(self.clock()), leeway=self.okta.clock_skew, **options)
        try:
            registry.validate(claims)
        except ClaimError as exc:
            raise InvalidToken(f"The {what} claim check failed ({exc.claim}): {exc.description}") from exc
        aud = claims["aud"]
        if isinstance(aud, list) and self.okta.client_id not in aud:
            raise InvalidToken(f"The {what} is not for this client (aud)")
        azp = claims.get("azp")
        if azp is not None and azp != self.okta.client_id:
            raise InvalidToken(f"The {what} was issued to another party (azp)")
        if isinstance(aud, list) and len(aud) > 1 and azp is None:
            raise InvalidToken(f"The {what} has several audiences and no azp")
        if not isinstance(claims["iat"], int | float) or isinstance(claims["iat"], bool):
            raise InvalidToken(f"The {what} iat is not a number")

    async def validate_id_token(self, token: str, *, nonce: str | None,
                                not_before: float | None = None,
                                original: Mapping[str, Any] | None = None,
                                access_token: str | None = None) -> dict[str, Any]:
        """Validate an ID token and return its claims.

        ``nonce`` is the login transaction's nonce (None for a refreshed ID token);
        ``not_before`` the time the login/refresh began (``iat`` may not be earlier, minus the
        clock skew); ``original`` the claims of the session's first ID token, which a refreshed
        one must match on ``iss``/``sub``/``aud``/``azp`` (OIDC Core 12.2); ``access_token``
        enables the ``at_hash`` check when the claim is present.
        """
        header, claims = await self._verify_jws(token, "ID token")
        self._check_standard_claims(claims, "ID token", extra_essential=("exp",))
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("The ID token has no subject (sub)")
        skew = self.okta.clock_skew
        if not_before is not None and claims["iat"] < not_before - skew:
            raise InvalidToken("The ID token was issued before this sign-in began (iat)")
        if nonce is not None:
            got = claims.get("nonce")
            if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
                raise InvalidToken("The ID token nonce does not match this sign-in")
        if original is not None:
            for name in ("iss", "sub", "aud", "azp"):
                if claims.get(name) != original.get(name):
                    raise InvalidToken(f"The refreshed ID token changed {name}")
            got_nonce = claims.get("nonce")
            if got_nonce is not None and got_nonce != original.get("nonce"):
                raise InvalidToken("The refreshed ID token carries another nonce")
        at_hash = claims.get("at_hash")
        if at_hash is not None and access_token is not None:
            expected = create_half_hash(access_token, header["alg"])
            if not isinstance(at_hash, str) or expected is None or \
                    not hmac.compare_digest(at_hash.encode(), bytes(expected)):
                raise InvalidToken("The ID token at_hash does not match the access token")
        return claims

    async def access_token_claims(self, token: str) -> dict[str, Any] | None:
        """The validated claims of a JWT access token from this issuer (Okta custom
        authorization servers issue RS256 JWTs signed with the same JWKS), or None when the
        token is opaque or not verifiable here: then no claim of it is trusted."""
        if token.count(".") != 2:
            return None
        try:
            _, claims = await self._verify_jws(token, "access token")
        except InvalidToken as exc:
            log.info("access token claims not used: %s", exc.detail)
            return None
        registry = JWTClaimsRegistry(now=lambda: int(self.clock()), leeway=self.okta.clock_skew,
                                     iss={"essential": True, "value": self.okta.issuer},
                                     exp={"essential": True})
        try:
            registry.validate(claims)
        except ClaimError as exc:
            log.info("access token claims not used: %s", exc.error)
            return None
        cid = claims.get("cid", claims.get("client_id"))
        if cid is not None and cid != self.okta.client_id:
            log.info("access token claims not used: issued to another client")
            return None
        return claims

    async def validate_logout_token(self, token: str) -> dict[str, Any]:
        """OIDC Back-Channel Logout 1.0, 2.6: signature, ``iss``, ``aud``, ``iat``, ``exp``,
        ``jti``, the ``events`` member, ``sub`` and/or ``sid``, and no ``nonce``. The ``jti``
        replay check needs the store and is done by the caller."""
        header, claims = await self._verify_jws(token, "logout token")
        typ = header.get("typ")
        if typ is not None and str(typ).lower() not in {"logout+jwt", "application/logout+jwt", "jwt"}:
            raise InvalidToken("The logout token has the wrong typ")
        self._check_standard_claims(claims, "logout token", extra_essential=("exp", "jti"))
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
            raise InvalidToken("The logout token lacks the back-channel logout event")
        if "nonce" in claims:
            raise InvalidToken("A logout token must not carry a nonce")
        sub, sid = claims.get("sub"), claims.get("sid")
        if sub is None and sid is None:
            raise InvalidToken("The logout token names neither sub nor sid")
        for name, value in (("sub", sub), ("sid", sid)):
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidToken(f"The logout token {name} is malformed")
        if not isinstance(claims["jti"], str) or not claims["jti"] or len(claims["jti"]) > 256:
            raise InvalidToken("The logout token jti is malformed")
        return claims


# ------------------------------------------------------------------------------------------


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _json_body(response: httpx.Response, what: str) -> Any:
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise BadGateway(f"Identity provider {what} response is too large")
    try:
        return response.json()
    except ValueError as exc:
        raise BadGateway(f"Identity provider {what} response is not JSON") from exc


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _parse_token_response(body: Any, requested_at: float) -> TokenSet:
    if not isinstance(body, dict):
        raise BadGateway("Identity provider token response is not a JSON object")
    access_token = body.get("access_token")
    token_type = body.get("token_type")
    if not isinstance(access_token, str) or not access_token:
        raise BadGateway("Identity provider token response has no access_token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise BadGateway("Identity provider token response is not a Bearer token")
    expires_in = _number(body.get("expires_in"))
    # RFC 6749 leaves expires_in optional; without it assume a short life (refresh soon).
    expires_at = requested_at + (expires_in if expires_in is not None and expires_in > 0 else 300.0)
    refresh_token = body.get("refresh_token")
    id_token = body.get("id_token")
    scope = body.get("scope")
    refresh_in = _number(body.get("refresh_expires_in", body.get("refresh_token_expires_in")))
    return TokenSet(
        access_token=access_token,
        expires_at=expires_at,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        id_token=id_token if isinstance(id_token, str) and id_token else None,
        scope=frozenset(scope.split()) if isinstance(scope, str) else None,
        refresh_expires_at=requested_at + refresh_in if refresh_in and refresh_in > 0 else None,
    )

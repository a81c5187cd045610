"""Registered OAuth clients (Okta "apps") and client authentication at the token endpoints.

Methods, as Okta: ``client_secret_basic`` / ``client_secret_post`` for apps with a secret,
``private_key_jwt`` for apps with a public JWKS (assertion ``iss`` = ``sub`` = client id,
``aud`` = the token endpoint URL, ``exp`` at most one hour ahead, ``jti`` single use), and
``none`` for public clients (PKCE only).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bff_dev.twins.okta.errors import OAuthError

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]


@dataclass
class Client:
    client_id: str
    secret: str | None = field(default=None, repr=False)
    jwks: dict[str, Any] | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    scopes: tuple[str, ...] = ()  # service apps: granted okta.* scopes
    name: str = ""

    @property
    def auth_method(self) -> str:
        if self.jwks is not None:
            return "private_key_jwt"
        return "client_secret_basic" if self.secret is not None else "none"


class ClientAuthenticator:
    """Authenticates the client of a token/revoke/introspect request."""

    def __init__(self, clients: Mapping[str, Client], now: Callable[[], float]) -> None:
        self._clients = clients
        self._now = now
        self._seen_jti: dict[str, float] = {}

    def authenticate(self, form: Mapping[str, str], headers: Mapping[str, str], endpoint_url: str) -> Client:
        basic = headers.get("authorization", "")
        assertion_type = form.get("client_assertion_type")
        methods = sum((basic.lower().startswith("basic "), "client_secret" in form, bool(assertion_type)))
        if methods > 1:
            raise OAuthError("invalid_request", "Cannot supply multiple client credentials. "
                             "Use one of the following: credentials in the Authorization header, "
                             "credentials in the post body, or a client_assertion in the post body.")
        if basic.lower().startswith("basic "):
            client_id, secret = extract_basic_authorization({"Authorization": basic})
            if not client_id or secret is None:
                raise _invalid_client()
            return self._check_secret(unquote(client_id), unquote(secret), form)
        if assertion_type:
            return self._check_assertion(form, endpoint_url)
        client_id = form.get("client_id")
        if not client_id:
            raise OAuthError("invalid_client", "Client authentication failed. Either the client or the "
                             "client credentials are invalid.", 401)
        if "client_secret" in form:
            return self._check_secret(client_id, form["client_secret"], form)
        client = self._clients.get(client_id)
        if client is None:
            raise _invalid_client()
        if client.auth_method != "none":
            raise OAuthError("invalid_client", "Client authentication failed. Either the client or the "
                             "client credentials are invalid.", 401)
        return client

    def _check_secret(self, client_id: str, secret: str, form: Mapping[str, str]) -> Client:
        if form.get("client_id") not in (None, client_id):
            raise OAuthError("invalid_request", "The 'client_id' parameter does not match the "
                             "authenticated client.")
        client = self._clients.get(client_id)
        if client is None:
            raise _invalid_client()
        if client.secret is None:
            raise OAuthError("invalid_client", "Client authentication failed. Either the client or the "
                             "client credentials are invalid.", 401)
        if not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise OAuthError("invalid_client", "The client secret supplied for a confidential client "
                             "is invalid.", 401)
        return client

    def _check_assertion(self, form: Mapping[str, str], endpoint_url: str) -> Client:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise OAuthError("invalid_client", "The client_assertion_type is invalid.", 401)
        assertion = form.get("client_assertion", "")
        unverified_claims = _peek_claims(assertion)
        client_id = unverified_claims.get("sub")
        client = self._clients.get(client_id) if isinstance(client_id, str) else None
        if client is None or client.jwks is None:
            raise _invalid_client()
        if form.get("client_id") not in (None, client.client_id):
            raise OAuthError("invalid_request", "The 'client_id' parameter does not match the "
                             "authenticated client.")
        try:
            token = jwt.decode(assertion, KeySet.import_key_set(client.jwks),  # type: ignore[arg-type]
                               algorithms=ASSERTION_ALGS)
        except (JoseError, ValueError, TypeError):
            raise OAuthError("invalid_client", "The client_assertion signature is invalid.", 401) from None
        claims = token.claims
        now = self._now()
        problems = []
        if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
            problems.append("The client_assertion token must have iss and sub equal to the client_id.")
        aud = claims.get("aud")
        if endpoint_url not in (aud if isinstance(aud, list) else [aud]):
            problems.append(f"The audience of the client_assertion must be '{endpoint_url}'.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= now:
            problems.append("The client_assertion token is expired.")
        elif exp > now + 3600 + 60:
            problems.append("The client_assertion token has an expiration too far into the future.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            problems.append("The client_assertion token must contain a 'jti' claim.")
        elif jti in self._seen_jti:
            problems.append("The client_assertion token has already been used.")
        if problems:
            raise OAuthError("invalid_client", problems[0], 401)
        self._seen_jti = {j: e for j, e in self._seen_jti.items() if e > now}
        self._seen_jti[str(jti)] = float(exp)  # type: ignore[arg-type]
        return client


def _peek_claims(assertion: str) -> dict[str, Any]:
    """The claims of a compact JWS WITHOUT verifying it (only to find which client's keys to use)."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, TypeError):
        raise OAuthError("invalid_client", "The client_assertion token is malformed.", 401) from None
    if not isinstance(claims, dict):
        raise OAuthError("invalid_client", "The client_assertion token is malformed.", 401)
    return claims


def _invalid_client() -> OAuthError:
    return OAuthError("invalid_client", "Client authentication failed. Either the client or the client "
                      "credentials are invalid.", 401)

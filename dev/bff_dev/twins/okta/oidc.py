"""The custom authorization server's OAuth 2.0 / OIDC endpoints (``{issuer}/...``).

Browser endpoints (``/v1/authorize``, ``/v1/logout``) answer problems with an HTML error page
when the client or redirect URI cannot be trusted, and with ``error``/``error_description``/
``state`` on the redirect URI otherwise, exactly as Okta. Back-channel endpoints answer with
Okta's OAuth error JSON.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta.clients import Client
from bff_dev.twins.okta.directory import User
from bff_dev.twins.okta.errors import NO_STORE, OAuthError
from bff_dev.twins.okta.forms import read_form, unique
from bff_dev.twins.okta.hosted_mfa import MFA_AMR, check_code, wants_mfa
from bff_dev.twins.okta.minter import Minter
from bff_dev.twins.okta.model import AuthRequest, SsoSession
from bff_dev.twins.okta.org import OktaOrg
from bff_dev.twins.okta.pages import Pages
from bff_dev.twins.okta.tokens import AuthCode, Grant, check_refresh, random_id, rotate_refresh

#: RFC 7636 section 4.1: 43-128 unreserved characters.
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
POLICY_DENIED = "Policy evaluation failed for this request, please check the policy configurations."
PENDING_TTL = 600
STANDARD_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", "device_sso")


class BrowserError(Exception):
    """Cannot redirect back (unknown client, unregistered redirect URI): show an error page."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class RedirectError(Exception):
    """An authorization error delivered to the client on its redirect URI."""

    def __init__(self, req: AuthRequest | None, redirect_uri: str, mode: str, state: str | None,
                 error: str, description: str) -> None:
        super().__init__(description)
        self.redirect_uri, self.mode, self.state = redirect_uri, mode, state
        self.error, self.description = error, description


class OidcEndpoints:
    def __init__(self, org: OktaOrg, *, minter: Minter, pages: Pages) -> None:
        self.org = org
        self.minter = minter
        self.pages = pages
        self.pending: dict[str, AuthRequest] = {}
        #: grant_type -> handler of the token endpoint's other grants (``interaction_code``: idx.py)
        self.extra_grants: dict[str, Callable[[Client, dict[str, str]], dict[str, Any]]] = {}

    def routes(self, prefix: str) -> list[BaseRoute]:
        return [
            Route(f"{prefix}/.well-known/openid-configuration", self.openid_configuration),
            Route(f"{prefix}/.well-known/oauth-authorization-server", self.oauth_metadata),
            Route(f"{prefix}/v1/authorize", self.authorize, methods=["GET", "POST"]),
            Route(f"{prefix}/v1/token", self.token, methods=["POST"]),
            Route(f"{prefix}/v1/keys", self.keys),
            Route(f"{prefix}/v1/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route(f"{prefix}/v1/logout", self.logout),
            Route(f"{prefix}/v1/revoke", self.revoke, methods=["POST"]),
            Route(f"{prefix}/v1/introspect", self.introspect, methods=["POST"]),
        ]

    # -- discovery ------------------------------------------------------------------------
    def _metadata(self, *, oidc: bool) -> dict[str, Any]:
        t = self.org
        iss = t.issuer
        auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
        meta: dict[str, Any] = {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/v1/authorize",
            "token_endpoint": f"{iss}/v1/token",
        }
        if oidc:
            meta["userinfo_endpoint"] = f"{iss}/v1/userinfo"
        meta.update({
            "registration_endpoint": f"{t.base_url}/oauth2/v1/clients",
            "jwks_uri": f"{iss}/v1/keys",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        })
        if oidc:
            meta["subject_types_supported"] = ["public"]
            meta["id_token_signing_alg_values_supported"] = ["RS256"]
        meta.update({
            "scopes_supported": list(STANDARD_SCOPES) + sorted(t.custom_scopes),
            "token_endpoint_auth_methods_supported": auth_methods,
        })
        if oidc:
            meta["claims_supported"] = [
                "iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce", "name",
                "nickname", "preferred_username", "given_name", "middle_name", "family_name", "email",
                "email_verified", "profile", "zoneinfo", "locale", "address", "phone_number", "picture",
                "website", "gender", "birthdate", "updated_at", "at_hash", "c_hash",
            ]
        meta.update({
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": f"{iss}/v1/introspect",
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint": f"{iss}/v1/revoke",
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "end_session_endpoint": f"{iss}/v1/logout",
            "request_parameter_supported": False,
        })
        if t.authorization_response_iss:
            meta["authorization_response_iss_parameter_supported"] = True
        return meta

    async def openid_configuration(self, request: Request) -> Response:
        self.org.counters["discovery"] += 1
        return JSONResponse(self._metadata(oidc=True), headers={"Cache-Control": "max-age=86400"})

    async def oauth_metadata(self, request: Request) -> Response:
        self.org.counters["discovery"] += 1
        return JSONResponse(self._metadata(oidc=False), headers={"Cache-Control": "max-age=86400"})

    async def keys(self, request: Request) -> Response:
        self.org.counters["keys"] += 1
        return JSONResponse(self.org.keys.jwks(),
                            headers={"Cache-Control": "max-age=3600, must-revalidate"})

    # -- /v1/authorize --------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        self.org.counters["authorize"] += 1
        try:
            if request.method == "POST":
                return await self._sign_in(request)
            req = self._validate(request)
            self.org.authorize_requests.append(dict(req.params))
            return self._continue(request, req)
        except BrowserError as exc:
            return self.pages.error(exc.status, exc.error, exc.description)
        except RedirectError as exc:
            return self._redirect(exc.redirect_uri, exc.mode, {
                "error": exc.error, "error_description": exc.description, "state": exc.state})
        except OAuthError as exc:
            return self.pages.error(exc.status, exc.error, exc.description)

    def _validate(self, request: Request) -> AuthRequest:
        t = self.org
        params = unique(list(request.query_params.multi_items()))
        client_id = params.get("client_id")
        if not client_id:
            raise BrowserError("invalid_request", "The 'client_id' parameter is required.")
        client = t.clients.get(client_id)
        if client is None or "authorization_code" not in client.grant_types:
            raise BrowserError("invalid_client", "Invalid value for 'client_id' parameter.")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise BrowserError("invalid_request", "The 'redirect_uri' parameter is required.")
        if redirect_uri not in client.redirect_uris:
            raise BrowserError("invalid_request", "The 'redirect_uri' parameter must be a Login redirect "
                               "URI in the client app settings: "
                               f"{t.base_url}/admin/app/oidc_client/instance/{client_id}#tab-general")
        mode = params.get("response_mode", "query")
        state = params.get("state")

        def fail(error: str, description: str) -> RedirectError:
            return RedirectError(None, redirect_uri, mode if mode in ("query", "form_post") else "query",
                                 state, error, description)

        if mode not in ("query", "form_post"):
            raise fail("invalid_request", "The 'response_mode' parameter is invalid or not supported: "
                       f"{mode}.")
        response_type = params.get("response_type")
        if not response_type:
            raise fail("invalid_request", "The 'response_type' parameter is required.")
        if response_type != "code":
            raise fail("unsupported_response_type", "The response type is not supported by the "
                       "authorization server. Configured response types: [code].")
        if not state:
            raise fail("invalid_request", "The authorization request is missing a required parameter: "
                       "'state'.")
        scopes = scope_to_list(params.get("scope", "")) or []
        if not scopes:
            raise fail("invalid_scope", "The authorization request must contain the 'scope' parameter.")
        if "openid" not in scopes:
            raise fail("invalid_scope", "The 'scope' parameter must contain 'openid'.")
        unknown = [s for s in scopes if s not in STANDARD_SCOPES and s not in t.custom_scopes]
        if unknown:
            raise fail("invalid_scope", "One or more scopes are not configured for the authorization "
                       f"server resource. Invalid scopes: {unknown[0]}")
        method = params.get("code_challenge_method")
        challenge = params.get("code_challenge")
        if not challenge:
            raise fail("invalid_request", "PKCE code challenge is required when the token endpoint "
                       "authentication method is not set; the 'code_challenge' parameter is required.")
        if method != "S256":
            raise fail("invalid_request", "The 'code_challenge_method' parameter must be 'S256'.")
        if not CODE_CHALLENGE.match(challenge):
            raise fail("invalid_request", "The 'code_challenge' parameter is malformed.")
        prompt = set(params.get("prompt", "").split())
        if not prompt <= {"none", "login", "consent"} or ("none" in prompt and len(prompt) > 1):
            raise fail("invalid_request", "The 'prompt' parameter is invalid: "
                       f"'{params.get('prompt')}'.")
        max_age: int | None = None
        if "max_age" in params:
            try:
                max_age = int(params["max_age"])
                if max_age < 0:
                    raise ValueError
            except ValueError:
                raise fail("invalid_request", "The 'max_age' parameter must be a non-negative integer.") \
                    from None
        nonce = params.get("nonce")
        return AuthRequest(client=client, redirect_uri=redirect_uri, response_mode=mode, scopes=scopes,
                           state=state, nonce=nonce, code_challenge=challenge, prompt=prompt,
                           login_hint=params.get("login_hint"), idp=params.get("idp"), max_age=max_age,
                           created=t.now(), params=params)

    def _continue(self, request: Request, req: AuthRequest) -> Response:
        t = self.org
        session = t.session_from_cookie(request)
        if session is not None and req.max_age is not None and t.now() - session.auth_time > req.max_age:
            session = None
        if session is not None and wants_mfa(req.params.get("acr_values")) and "mfa" not in session.amr:
            # A one-factor session does not satisfy acr_values=...2fa...; but Okta evaluates the
            # access policy for the user it knows first: a user outside a guarded scope's group
            # is refused at once (access_denied), never asked for a second factor.
            self._check_scope_policy(req, session.user_id)
            session = None
        if "login" in req.prompt:
            session = None
        if session is None:
            if "none" in req.prompt:
                raise RedirectError(req, req.redirect_uri, req.response_mode, req.state, "login_required",
                                    "The client specified not to prompt, but the user is not logged in.")
            token = random_id("", 24)
            self._gc_pending()
            self.pending[token] = req
            return self.pages.signin(token, req, username=req.login_hint or "",
                                     otp=wants_mfa(req.params.get("acr_values")))
        return self._issue_code(req, session)

    def _gc_pending(self) -> None:
        now = self.org.now()
        for key in [k for k, r in self.pending.items() if now - r.created > PENDING_TTL]:
            del self.pending[key]

    async def _sign_in(self, request: Request) -> Response:
        t = self.org
        form = await read_form(request)
        token = form.get("stateToken", "")
        req = self.pending.get(token)
        if req is None or t.now() - req.created > PENDING_TTL:
            raise BrowserError("invalid_request", "Your sign-in session has expired. Go back to the "
                               "application and sign in again.")
        username = form.get("username", "").strip()
        mfa = wants_mfa(req.params.get("acr_values"))
        user = t.directory.authenticate(username, form.get("password", ""))
        if user is None:
            t.counters["signin:failed"] += 1
            return self.pages.signin(token, req, username=username, error="Unable to sign in", status=401,
                                     otp=mfa)
        if mfa and not check_code(user.login, form.get("otp", "")):
            t.counters["signin:otp_failed"] += 1
            return self.pages.signin(token, req, username=username, status=401, otp=True,
                                     error="Enter the current code from your authenticator app")
        del self.pending[token]
        t.counters["signin"] += 1
        session = t.start_session(user, idp=req.idp, amr=list(MFA_AMR) if mfa else None)
        response = self._issue_code(req, session)
        t.set_session_cookie(response, session)
        return response

    def complete_pending(self, token: str, user: User) -> Response | None:
        """After self-service registration: sign the new user in and finish the pending request."""
        req = self.pending.pop(token, None)
        if req is None:
            return None
        session = self.org.start_session(user, idp=req.idp)
        response = self._issue_code(req, session)
        self.org.set_session_cookie(response, session)
        return response

    def _issue_code(self, req: AuthRequest, session: SsoSession) -> Response:
        t = self.org
        user = t.directory.users.get(session.user_id)
        if user is None or user.status != "ACTIVE":
            raise RedirectError(req, req.redirect_uri, req.response_mode, req.state, "access_denied",
                                "User is not assigned to the client application.")
        self._check_scope_policy(req, user.id)
        code = random_id("", 32)
        t.tokens.codes[code] = AuthCode(
            code=code, client_id=req.client.client_id, redirect_uri=req.redirect_uri, user_id=user.id,
            scopes=list(req.scopes), nonce=req.nonce, code_challenge=req.code_challenge,
            auth_time=int(session.auth_time), sid=session.id, amr=list(session.amr), idp=session.idp,
            expires_at=t.now() + t.code_ttl)
        session.clients.add(req.client.client_id)
        params: dict[str, str | None] = {"code": code, "state": req.state}
        if t.authorization_response_iss:
            params["iss"] = t.issuer
        return self._redirect(req.redirect_uri, req.response_mode, params)

    def _check_scope_policy(self, req: AuthRequest, user_id: str) -> None:
        """The access policy: a guarded scope (``admin``) only for its group's members."""
        t = self.org
        for scope in req.scopes:
            group = t.scope_policies.get(scope)
            if group is not None and not t.directory.in_group(user_id, group):
                t.counters["authorize:access_denied"] += 1
                raise RedirectError(req, req.redirect_uri, req.response_mode, req.state, "access_denied",
                                    POLICY_DENIED)

    def _redirect(self, uri: str, mode: str, params: dict[str, str | None]) -> Response:
        fields = [(k, v) for k, v in params.items() if v is not None]
        if mode == "form_post":
            return self.pages.form_post(uri, fields)
        parts = urlsplit(uri)
        query = "&".join(q for q in (parts.query, urlencode(fields)) if q)
        return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302,
                                headers={"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"})

    # -- /v1/token ------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        t = self.org
        try:
            form = await read_form(request)
            grant_type = form.get("grant_type", "")
            t.counters[f"token:{grant_type}"] += 1
            client = t.authenticator.authenticate(form, request.headers, f"{t.issuer}/v1/token")
            if not grant_type:
                raise OAuthError("invalid_request", "The 'grant_type' parameter is required.")
            if grant_type not in ("authorization_code", "refresh_token", "interaction_code"):
                raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported "
                                 "by the authorization server. Configured grant types: "
                                 "[authorization_code, refresh_token, interaction_code].")
            if grant_type not in client.grant_types:
                raise OAuthError("unauthorized_client", "The client is not authorized to use the provided "
                                 f"grant type. Configured grant types: [{', '.join(client.grant_types)}].")
            if grant_type == "interaction_code":
                body = self.extra_grants[grant_type](client, form)
            elif grant_type == "authorization_code":
                body = self._code_grant(client, form)
            else:
                body = self._refresh_grant(client, form)
        except OAuthError as exc:
            return exc.response()
        return JSONResponse(body, headers=NO_STORE)

    def _code_grant(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        t = self.org
        code = form.get("code")
        if not code:
            raise OAuthError("invalid_request", "The 'code' parameter is required.")
        record = t.tokens.codes.get(code)
        if record is None or record.used or record.client_id != client.client_id or \
                t.now() >= record.expires_at:
            raise OAuthError("invalid_grant", "The authorization code is invalid or has expired.")
        record.used = True
        if form.get("redirect_uri") != record.redirect_uri:
            raise OAuthError("invalid_grant", "The 'redirect_uri' does not match the redirection URI used in "
                             "the authorization request.")
        verifier = form.get("code_verifier")
        if not verifier:
            raise OAuthError("invalid_request", "The 'code_verifier' parameter is required.")
        if not CODE_VERIFIER.match(verifier) or \
                create_s256_code_challenge(verifier) != record.code_challenge:
            raise OAuthError("invalid_grant", "PKCE verification failed.")
        user = t.directory.users.get(record.user_id)
        if user is None or user.status != "ACTIVE":
            raise OAuthError("invalid_grant", "The authorization code is invalid or has expired.")
        grant = Grant(id=random_id("grant", 12), client_id=client.client_id, user_id=user.id,
                      scopes=record.scopes, auth_time=record.auth_time, sid=record.sid, amr=record.amr,
                      idp=record.idp, refresh_expires_at=t.now() + t.refresh_token_ttl)
        t.tokens.grants[grant.id] = grant
        return self._token_response(client, user, grant, record.scopes, nonce=record.nonce, first=True)

    def _refresh_grant(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        t = self.org
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "The 'refresh_token' parameter is required.")
        grant = check_refresh(t.tokens, token, client.client_id, t.now(), t.refresh_leeway)
        scopes = grant.scopes
        if "scope" in form:
            asked = scope_to_list(form["scope"]) or []
            if not asked or not set(asked) <= set(grant.scopes):
                raise OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed, "
                                 "or exceeds the scope granted by the resource owner.")
            scopes = asked
        user = t.directory.users.get(grant.user_id)
        if user is None or user.status != "ACTIVE":
            t.tokens.revoke_grant(grant)
            raise OAuthError("invalid_grant", "The refresh token is invalid or expired.")
        return self._token_response(client, user, grant, scopes, nonce=None, first=False)

    def _token_response(self, client: Client, user: User, grant: Grant, scopes: list[str], *,
                        nonce: str | None, first: bool) -> dict[str, Any]:
        t = self.org
        access, _ = self.minter.access_token(client_id=client.client_id, user=user, scopes=scopes,
                                          auth_time=grant.auth_time, grant=grant)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": t.access_token_ttl,
            "access_token": access,
            "scope": " ".join(scopes),
        }
        if "offline_access" in grant.scopes and "refresh_token" in client.grant_types:
            body["refresh_token"] = rotate_refresh(t.tokens, grant, t.now())
        if "openid" in scopes:
            body["id_token"] = self.minter.id_token(
                client_id=client.client_id, user=user, scopes=scopes, auth_time=grant.auth_time,
                nonce=nonce if first else None, access_token=access, sid=grant.sid, amr=grant.amr,
                idp=grant.idp)
        return body

    # -- /v1/userinfo ---------------------------------------------------------------------
    async def userinfo(self, request: Request) -> Response:
        t = self.org
        t.counters["userinfo"] += 1
        challenge = 'Bearer authorization_uri="{0}/v1/authorize", realm="{0}", scope="openid", ' \
                    'error="{1}", error_description="{2}", resource="{3}"'
        auth = request.headers.get("authorization", "")
        claims = t.verify_access_token(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if claims is None:
            desc = "The access token is invalid."
            return JSONResponse({"error": "invalid_token", "error_description": desc}, status_code=401,
                                headers={"WWW-Authenticate": challenge.format(
                                    t.issuer, "invalid_token", desc, "/oauth2/default/v1/userinfo")})
        scopes = list(claims.get("scp", []))
        if "openid" not in scopes:
            desc = "The access token must provide access to at least one of these scopes - profile, " \
                   "email, address or phone"
            return JSONResponse({"error": "insufficient_scope", "error_description": desc}, status_code=403,
                                headers={"WWW-Authenticate": challenge.format(
                                    t.issuer, "insufficient_scope", desc, "/oauth2/default/v1/userinfo")})
        user = t.directory.users[claims["uid"]]
        body: dict[str, Any] = {"sub": user.id}
        body.update(self.minter.scope_claims(user, scopes))
        body["groups"] = t.directory.group_names(user.id)
        if user.profile.get("orgId") is not None:
            body["orgId"] = user.profile["orgId"]
        return JSONResponse(body, headers=NO_STORE)

    # -- /v1/revoke, /v1/introspect -------------------------------------------------------
    async def revoke(self, request: Request) -> Response:
        t = self.org
        t.counters["revoke"] += 1
        try:
            form = await read_form(request)
            client = t.authenticator.authenticate(form, request.headers, f"{t.issuer}/v1/revoke")
            token = form.get("token")
            if not token:
                raise OAuthError("invalid_request", "The 'token' parameter is required.")
            hint = form.get("token_type_hint")
            if hint not in (None, "access_token", "refresh_token", "device_secret"):
                raise OAuthError("unsupported_token_type", "The token_type_hint is not supported.")
        except OAuthError as exc:
            return exc.response()
        grant_id = t.tokens.refresh_index.get(token)
        grant = t.tokens.grants.get(grant_id) if grant_id else None
        if grant is not None and grant.client_id == client.client_id:
            t.tokens.revoke_grant(grant)
        else:
            claims = t.keys.verify(token)
            jti = claims.get("jti") if claims else None
            record = t.tokens.access.get(jti) if isinstance(jti, str) else None
            if record is not None and claims and claims.get("cid") == client.client_id:
                record.revoked = True
        return Response(status_code=200, headers=NO_STORE)

    async def introspect(self, request: Request) -> Response:
        t = self.org
        t.counters["introspect"] += 1
        try:
            form = await read_form(request)
            client = t.authenticator.authenticate(form, request.headers, f"{t.issuer}/v1/introspect")
            token = form.get("token")
            if not token:
                raise OAuthError("invalid_request", "The 'token' parameter is required.")
        except OAuthError as exc:
            return exc.response()
        inactive = JSONResponse({"active": False}, headers=NO_STORE)
        grant_id = t.tokens.refresh_index.get(token)
        if grant_id is not None:
            grant = t.tokens.grants[grant_id]
            usable = not grant.revoked and t.now() < grant.refresh_expires_at and (
                token == grant.refresh_current or
                t.now() - grant.refresh_previous.get(token, -1e18) <= t.refresh_leeway)
            user = t.directory.users.get(grant.user_id)
            if not usable or grant.client_id != client.client_id or user is None:
                return inactive
            return JSONResponse({
                "active": True, "token_type": "refresh_token", "scope": " ".join(grant.scopes),
                "client_id": grant.client_id, "username": user.login, "exp": int(grant.refresh_expires_at),
                "iat": grant.auth_time, "sub": user.login, "aud": t.audience, "iss": t.issuer,
                "uid": user.id,
            }, headers=NO_STORE)
        claims = t.verify_access_token(token)
        if claims is None or claims.get("cid") != client.client_id:
            return inactive
        return JSONResponse({
            "active": True, "scope": " ".join(claims.get("scp", [])), "username": claims.get("sub"),
            "exp": claims["exp"], "iat": claims["iat"], "sub": claims.get("sub"), "aud": claims["aud"],
            "iss": claims["iss"], "jti": claims["jti"], "token_type": "Bearer", "client_id": claims["cid"],
            "uid": claims.get("uid"),
        }, headers=NO_STORE)

    # -- /v1/logout -----------------------------------------------------------------------
    async def logout(self, request: Request) -> Response:
        t = self.org
        t.counters["logout"] += 1
        try:
            params = unique(list(request.query_params.multi_items()))
        except OAuthError as exc:
            return self.pages.error(400, exc.error, exc.description)
        hint = params.get("id_token_hint")
        if not hint:
            return self.pages.error(400, "invalid_request", "The 'id_token_hint' parameter is required.")
        claims = t.keys.verify(hint)  # expiry deliberately not checked: Okta accepts expired hints
        is_id_token = claims is not None and str(claims.get("jti", "")).startswith("ID.")
        if claims is None or claims.get("iss") != t.issuer or not is_id_token:
            return self.pages.error(400, "invalid_request", "The 'id_token_hint' parameter is not a valid "
                                    "ID token.")
        client = t.clients.get(str(claims.get("aud")))
        if client is None:
            return self.pages.error(400, "invalid_request", "The 'id_token_hint' parameter is not a valid "
                                    "ID token.")
        target = params.get("post_logout_redirect_uri")
        if target is not None and target not in client.post_logout_redirect_uris:
            return self.pages.error(400, "invalid_request",
                                    "The 'post_logout_redirect_uri' parameter must be a "
                                    "Logout redirect URI in the client app settings: "
                                    f"{t.base_url}/admin/app/oidc_client/instance/{client.client_id}"
                                    "#tab-general")
        session = t.session_from_cookie(request)
        if session is not None:
            t.end_session(session, notify_except=client.client_id)
        if target is None:
            response: Response = self.pages.render("signed_out.html", {})
        else:
            state = params.get("state")
            sep = "&" if urlsplit(target).query else "?"
            location = target + (sep + urlencode({"state": state}) if state is not None else "")
            response = RedirectResponse(location, status_code=302)
        t.clear_session_cookie(response)
        return response


def epoch() -> float:
    return time.time()

"""The state of the local Okta org and what every part of the twin does with it: knobs, clock,
directory, keys, clients, SSO sessions, tokens, event-hook registrations, injected faults and
background deliveries. :class:`~bff_dev.twins.okta.twin.OktaTwin` is this org with its endpoints
mounted; the parts (OIDC, Management API, event hooks, registration) take the org they serve, so
none of them imports the twin.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from bff_dev.twins.okta.clients import Client, ClientAuthenticator
from bff_dev.twins.okta.directory import Directory, User
from bff_dev.twins.okta.faults import Fault
from bff_dev.twins.okta.keys import SigningKeys
from bff_dev.twins.okta.model import EventHook, SsoSession
from bff_dev.twins.okta.tokens import TokenStore, random_id

SESSION_COOKIE = "sid"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class OktaOrg:
    """One Okta org with a custom authorization server ``default``: its state, no endpoints.

    ``base_url`` is the org URL as clients see it (e.g. ``http://localhost:9001``); the issuer is
    ``{base_url}/oauth2/default``.
    """

    def __init__(self, base_url: str, *, users_file: Path | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = f"{self.base_url}/oauth2/default"
        self.audience = "api://default"
        self.org_id = "00o" + "acmetwin" + "0" * 9  # the Okta org's id: the `idp` claim for local logins

        # -- knobs ------------------------------------------------------------------------
        self.access_token_ttl = 3600
        self.id_token_ttl = 3600
        self.refresh_token_ttl = 7 * 24 * 3600
        self.refresh_leeway = 30
        self.code_ttl = 300
        self.session_ttl = 2 * 3600
        #: guarded scopes: scope -> the group whose members the access policy allows
        self.scope_policies: dict[str, str] = {"admin": "customer-admins"}
        self.custom_scopes: set[str] = {"admin"}
        #: RFC 9207 ``iss`` on the authorization response (real Okta does not send it)
        self.authorization_response_iss = False
        self.clock_offset = 0.0
        #: Management API requests per minute per bucket ("users", "groups"; "default" otherwise)
        self.rate_limits: dict[str, int] = {"users": 600, "groups": 500, "default": 600}
        #: the admin user who owns the SSWS API tokens (the ``actor`` of API-made events)
        self.api_admin_id = "00uapiadmin000000001"

        # -- state ------------------------------------------------------------------------
        self.counters: Counter[str] = Counter()
        self.directory = Directory.load(users_file, now=self.now())
        self.keys = SigningKeys()
        self.clients: dict[str, Client] = {}
        self.api_tokens: set[str] = set()
        self.sessions: dict[str, SsoSession] = {}
        self.tokens = TokenStore()
        self.event_hooks: list[EventHook] = []
        self.authorize_requests: list[dict[str, str]] = []  # query params of each /v1/authorize GET
        self.faults: list[Fault] = []
        self.authenticator = ClientAuthenticator(self.clients, self.now)
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- time -----------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the twin's clock forward (code/refresh/session expiry without sleeping).

        Tokens minted afterwards carry the shifted ``iat``/``exp``: a relying party with the
        real clock sees them as issued in the future.
        """
        self.clock_offset += seconds

    # -- configuration --------------------------------------------------------------------
    def register_client(self, client_id: str, *, secret: str | None = None,
                        jwks: dict[str, Any] | None = None, redirect_uris: Sequence[str] = (),
                        post_logout_redirect_uris: Sequence[str] = (),
                        backchannel_logout_uri: str | None = None,
                        grant_types: Sequence[str] = ("authorization_code", "refresh_token"),
                        name: str = "") -> Client:
        """Register an OIDC web app. ``secret`` → client_secret_basic/post; ``jwks`` (public JWKS
        dict) → private_key_jwt; neither → a public client (PKCE only)."""
        client = Client(client_id=client_id, secret=secret, jwks=jwks, redirect_uris=tuple(redirect_uris),
                        post_logout_redirect_uris=tuple(post_logout_redirect_uris),
                        backchannel_logout_uri=backchannel_logout_uri, grant_types=tuple(grant_types),
                        name=name)
        self.clients[client_id] = client
        return client

    def register_service_app(self, client_id: str, *, jwks: dict[str, Any],
                             scopes: Sequence[str] = ("okta.users.manage", "okta.users.read",
                                                      "okta.groups.manage", "okta.groups.read")) -> Client:
        """Register an API service app (client_credentials + private_key_jwt at the ORG server)
        with the granted Okta API scopes."""
        client = Client(client_id=client_id, jwks=jwks, grant_types=("client_credentials",),
                        scopes=tuple(scopes))
        self.clients[client_id] = client
        return client

    def add_api_token(self, token: str) -> None:
        """Accept ``Authorization: SSWS <token>`` on the Management API."""
        self.api_tokens.add(token)

    def register_event_hook(self, url: str, *, auth_header: str = "Authorization", auth_value: str,
                            events: Iterable[str] = ("user.lifecycle.create",)) -> EventHook:
        hook = EventHook(id="who" + secrets.token_hex(9)[:17], url=url, auth_header=auth_header,
                         auth_value=auth_value, events=tuple(events))
        self.event_hooks.append(hook)
        return hook

    def fail_next(self, path_suffix: str, status: int, body: Any = None,
                  headers: dict[str, str] | None = None, *, times: int = 1) -> None:
        """Answer the next ``times`` requests whose path ends with ``path_suffix`` with ``status``.

        ``body``: dict (JSON), str or bytes; default an Okta-shaped error for the path (API error
        JSON under ``/api/``, OAuth error JSON elsewhere)."""
        self.faults.append(Fault(path_suffix, status, body, dict(headers or {}), times))

    def delay_next(self, path_suffix: str, seconds: float, *, times: int = 1) -> None:
        """Delay (then serve normally) the next ``times`` requests to a path: timeouts in tests."""
        self.faults.append(Fault(path_suffix, None, None, {}, times, delay=seconds))

    def rotate_keys(self) -> str:
        """Sign with a new RS256 key from now on; older keys stay in the JWKS. Returns the new kid."""
        return self.keys.rotate()

    # -- sessions -------------------------------------------------------------------------
    def start_session(self, user: User, *, idp: str | None = None,
                      amr: list[str] | None = None) -> SsoSession:
        now = self.now()
        session = SsoSession(id="102" + secrets.token_urlsafe(18), user_id=user.id, created=now,
                             auth_time=int(now), expires_at=now + self.session_ttl,
                             idp=idp or self.org_id, amr=list(amr or ["pwd"]))
        self.sessions[session.id] = session
        user.last_login = now
        return session

    def session_from_cookie(self, request: Request) -> SsoSession | None:
        sid = request.cookies.get(SESSION_COOKIE)
        session = self.sessions.get(sid) if sid else None
        if session is None or self.now() >= session.expires_at:
            return None
        user = self.directory.users.get(session.user_id)
        if user is None or user.status != "ACTIVE":
            return None
        return session

    def set_session_cookie(self, response: Response, session: SsoSession) -> None:
        response.set_cookie(SESSION_COOKIE, session.id, path="/", httponly=True, samesite="lax",
                            secure=self.base_url.startswith("https://"))

    def clear_session_cookie(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=self.base_url.startswith("https://"))

    def end_session(self, session: SsoSession, *, notify_except: str | None = None) -> None:
        """End an SSO session; clients with a back-channel logout URI that took part are told."""
        self.sessions.pop(session.id, None)
        user = self.directory.users.get(session.user_id)
        for client_id in sorted(session.clients):
            client = self.clients.get(client_id)
            if client is None or not client.backchannel_logout_uri or client_id == notify_except:
                continue
            if user is not None:
                self.spawn(self.send_backchannel_logout(client_id, sub=user.id, sid=session.id))

    def end_user_sessions(self, user_id: str) -> int:
        """End every SSO session of a user (as an admin "clear sessions"); returns how many."""
        ended = [s for s in list(self.sessions.values()) if s.user_id == user_id]
        for session in ended:
            self.end_session(session)
        return len(ended)

    # -- tokens ---------------------------------------------------------------------------
    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """Claims of a live (signed here, unexpired, unrevoked) custom-server access token."""
        claims = self.keys.verify(token) if token else None
        if claims is None or claims.get("iss") != self.issuer or claims.get("aud") != self.audience:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= self.now():
            return None
        record = self.tokens.access.get(str(claims.get("jti")))
        if record is None or record.revoked:
            return None
        uid = claims.get("uid")
        user = self.directory.users.get(uid) if isinstance(uid, str) else None
        if uid is not None and (user is None or user.status != "ACTIVE"):
            return None
        return claims

    def logout_token(self, *, sub: str | None = None, sid: str | None = None, aud: str | None = None,
                     overrides: dict[str, Any] | None = None) -> str:
        """An OIDC Back-Channel Logout 1.0 logout token signed with the current key.

        ``aud`` defaults to the only registered client. ``overrides`` replaces claims (a value of
        None removes the claim) so tests can build invalid tokens."""
        if aud is None:
            if len(self.clients) != 1:
                raise ValueError("aud is required when several clients are registered")
            aud = next(iter(self.clients))
        now = int(self.now())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": aud, "iat": now, "exp": now + 120,
                                  "jti": random_id("", 18), "events": {BACKCHANNEL_EVENT: {}}}
        if sub is not None:
            claims["sub"] = sub
        if sid is not None:
            claims["sid"] = sid
        for name, value in (overrides or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.keys.sign(claims, typ="logout+jwt")

    async def send_backchannel_logout(self, client_id: str, *, sub: str | None = None,
                                      sid: str | None = None) -> int:
        """POST a logout token to the client's back-channel logout URI; returns the HTTP status
        (0 when unreachable)."""
        client = self.clients[client_id]
        if not client.backchannel_logout_uri:
            raise ValueError(f"client {client_id} has no backchannel_logout_uri")
        token = self.logout_token(sub=sub, sid=sid, aud=client_id)
        self.counters["backchannel_logout"] += 1
        try:
            response = await self.http.post(client.backchannel_logout_uri, data={"logout_token": token})
        except httpx.HTTPError:
            return 0
        return response.status_code

    # -- plumbing -------------------------------------------------------------------------
    @property
    def http(self) -> httpx.AsyncClient:
        """Outgoing client (event hooks, back-channel logout)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(3.0), follow_redirects=False)
        return self._http

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until background deliveries (event hooks, back-channel logouts) are done; bound
        it with ``asyncio.timeout`` in tests."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self.idle()
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

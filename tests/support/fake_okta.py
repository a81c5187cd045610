"""A small fake of Okta's Management API and org token endpoint, in process (httpx.MockTransport).

Written from Okta's documentation (/work/shared/reference/okta.md), not from the local twin, so
that tests/integration/okta/test_client_contract.py checks the client against two readings of
the same API: what both accept is what the client may rely on.

What it does: SSWS tokens and ``client_credentials`` + ``private_key_jwt`` service apps (the
assertion verified against the app's JWKS: signature, ``iss``/``sub``, ``aud``, ``exp``, a new
``jti``), Okta API scopes per endpoint; users (create with ``activate``, get, partial update,
deactivate, their groups); groups (create, ``q`` prefix search, members, membership); Okta's
error body; ``Link: <...>; rel="next"`` paging by ``limit``/``after``; ``Date`` and
``X-Rate-Limit-*`` on every answer; :meth:`FakeOktaOrg.fail_next` for injected failures.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TAKEN = "login: An object with this field already exists in the current organization"


@dataclass
class _App:
    keys: KeySet
    scopes: frozenset[str]


@dataclass
class _Fault:
    path_suffix: str
    status: int
    headers: dict[str, str]


@dataclass
class FakeOktaOrg:
    base_url: str = "https://fake-org.okta.test"
    api_tokens: set[str] = field(default_factory=set)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    _apps: dict[str, _App] = field(default_factory=dict)
    _access: dict[str, tuple[frozenset[str], float]] = field(default_factory=dict)
    _seen_jti: set[str] = field(default_factory=set)
    _faults: list[_Fault] = field(default_factory=list)
    cleared: list[tuple[str, bool]] = field(default_factory=list)  # (user id, oauthTokens) per clear

    # -- set-up (the same names as the twin's) ------------------------------------------------

    def add_api_token(self, token: str) -> None:
        self.api_tokens.add(token)

    def register_service_app(self, client_id: str, *, jwks: dict[str, Any], scopes: tuple[str, ...]) -> None:
        self._apps[client_id] = _App(KeySet.import_key_set(jwks), frozenset(scopes))  # type: ignore[arg-type]

    def fail_next(self, path_suffix: str, status: int, *, headers: dict[str, str] | None = None) -> None:
        self._faults.append(_Fault(path_suffix, status, dict(headers or {})))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- the wire -------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request)
        response.headers.setdefault("Date", formatdate(time.time(), usegmt=True))
        window_end = int(time.time()) // 60 * 60 + 60
        for name, value in (("Limit", "600"), ("Remaining", "599"), ("Reset", str(window_end))):
            response.headers.setdefault(f"X-Rate-Limit-{name}", value)
        return response

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for fault in self._faults:
            if path.endswith(fault.path_suffix):
                self._faults.remove(fault)
                return _error(fault.status, {429: "E0000047", 401: "E0000011"}.get(fault.status, "E0000009"),
                              "Injected failure (fake)", headers=fault.headers)
        if path == "/oauth2/v1/token" and request.method == "POST":
            return self._token(request)
        for method, pattern, scope, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                denied = self._authenticate(request, scope)
                return denied or handler(request, *match.groups())
        return _error(404, "E0000007", f"Not found: Resource not found: {path} (Resource)")

    def _routes(self) -> list[tuple[str, str, str, Any]]:
        seg = r"([^/]+)"
        return [
            ("POST", r"/api/v1/users", "okta.users.manage", self._create_user),
            ("GET", rf"/api/v1/users/{seg}", "okta.users.read", self._get_user),
            ("POST", rf"/api/v1/users/{seg}", "okta.users.manage", self._update_user),
            ("POST", rf"/api/v1/users/{seg}/lifecycle/deactivate", "okta.users.manage", self._deactivate),
            ("GET", rf"/api/v1/users/{seg}/groups", "okta.users.read", self._user_groups),
            ("DELETE", rf"/api/v1/users/{seg}/sessions", "okta.users.manage", self._clear_sessions),
            ("POST", r"/api/v1/groups", "okta.groups.manage", self._create_group),
            ("GET", r"/api/v1/groups", "okta.groups.read", self._list_groups),
            ("GET", rf"/api/v1/groups/{seg}/users", "okta.groups.read", self._group_users),
            ("PUT", rf"/api/v1/groups/{seg}/users/{seg}", "okta.groups.manage", self._add_member),
            ("DELETE", rf"/api/v1/groups/{seg}/users/{seg}", "okta.groups.manage", self._remove_member),
        ]

    def _authenticate(self, request: httpx.Request, scope: str) -> httpx.Response | None:
        kind, _, credential = request.headers.get("authorization", "").partition(" ")
        if kind == "SSWS" and credential in self.api_tokens:
            return None
        if kind == "Bearer" and credential in self._access:
            granted, expires = self._access[credential]
            if expires > time.time():
                if {scope, scope.replace(".read", ".manage")} & granted:
                    return None
                return _error(403, "E0000006", "You do not have permission to perform the requested action")
        return _error(401, "E0000011", "Invalid token provided")

    # -- the org authorization server ----------------------------------------------------------

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth(400, "unsupported_grant_type", "The authorization grant type is not supported.")
        if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
            return _oauth(401, "invalid_client", "Client authentication failed.")
        assertion = form["client_assertion"]
        try:
            claimed = json.loads(jws.extract_compact(assertion.encode()).payload).get("sub")
            app = self._apps[claimed]
            claims = jwt.decode(assertion, app.keys, algorithms=["RS256", "ES256"]).claims
        except (JoseError, ValueError, KeyError, TypeError, AttributeError):
            return _oauth(401, "invalid_client", "The client_assertion signature is invalid.")
        now = time.time()
        if claims.get("iss") != claimed or claims.get("aud") != f"{self.base_url}/oauth2/v1/token" or \
                not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 3600 + 60 or \
                not claims.get("jti") or claims["jti"] in self._seen_jti:
            return _oauth(401, "invalid_client", "The client_assertion token is invalid.")
        self._seen_jti.add(claims["jti"])
        scopes = frozenset(form.get("scope", "").split())
        if not scopes or not scopes <= app.scopes:
            return _oauth(400, "invalid_scope", "The following scopes are not allowed.")
        token = "fake-at-" + secrets.token_urlsafe(16)
        self._access[token] = (scopes, now + 3600)
        return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3600, "access_token": token,
                                         "scope": " ".join(sorted(scopes))})

    # -- users ----------------------------------------------------------------------------------

    def _create_user(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        profile = dict(body.get("profile") or {})
        login = str(profile.get("login", ""))
        if any(u["profile"].get("login", "").lower() == login.lower() for u in self.users.values()):
            return _error(400, "E0000001", "Api validation failed: login", [TAKEN])
        password = ((body.get("credentials") or {}).get("password") or {}).get("value")
        if request.url.params.get("activate", "true") == "false":
            status = "STAGED"
        else:
            status = "ACTIVE" if password else "PROVISIONED"
        uid = "00u" + secrets.token_hex(8)
        clean = {k: v for k, v in profile.items() if v is not None}
        self.users[uid] = {"id": uid, "status": status, "profile": clean}
        return httpx.Response(200, json=self.users[uid])

    def _user(self, uid: str) -> dict[str, Any] | httpx.Response:
        return self.users.get(uid) or _error(404, "E0000007", f"Not found: Resource not found: {uid} (User)")

    def _get_user(self, request: httpx.Request, uid: str) -> httpx.Response:
        user = self._user(uid)
        return user if isinstance(user, httpx.Response) else httpx.Response(200, json=user)

    def _update_user(self, request: httpx.Request, uid: str) -> httpx.Response:
        user = self._user(uid)
        if isinstance(user, httpx.Response):
            return user
        for name, value in (json.loads(request.content).get("profile") or {}).items():
            if value is None:
                user["profile"].pop(name, None)
            else:
                user["profile"][name] = value
        return httpx.Response(200, json=user)

    def _deactivate(self, request: httpx.Request, uid: str) -> httpx.Response:
        user = self._user(uid)
        if isinstance(user, httpx.Response):
            return user
        if user["status"] == "DEPROVISIONED":
            return _error(403, "E0000038", "This operation is not allowed in the user's current status.")
        user["status"] = "DEPROVISIONED"
        return httpx.Response(200, json={})

    def _clear_sessions(self, request: httpx.Request, uid: str) -> httpx.Response:
        user = self._user(uid)
        if isinstance(user, httpx.Response):
            return user
        self.cleared.append((uid, request.url.params.get("oauthTokens") == "true"))
        return httpx.Response(204)

    def _user_groups(self, request: httpx.Request, uid: str) -> httpx.Response:
        user = self._user(uid)
        if isinstance(user, httpx.Response):
            return user
        mine = [g for gid, g in self.groups.items() if uid in self.members[gid]]
        return self._page(request, mine, default=200)

    # -- groups ---------------------------------------------------------------------------------

    def _create_group(self, request: httpx.Request) -> httpx.Response:
        profile = json.loads(request.content).get("profile") or {}
        gid = "00g" + secrets.token_hex(8)
        self.groups[gid] = {"id": gid, "type": "OKTA_GROUP", "profile": {
            "name": profile.get("name", ""), "description": profile.get("description", "")}}
        self.members[gid] = set()
        return httpx.Response(200, json=self.groups[gid])

    def _list_groups(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "").lower()
        found = [g for g in self.groups.values() if g["profile"]["name"].lower().startswith(q)]
        return self._page(request, found, default=10_000)

    def _group_users(self, request: httpx.Request, gid: str) -> httpx.Response:
        if gid not in self.groups:
            return _error(404, "E0000007", f"Not found: Resource not found: {gid} (UserGroup)")
        members = [self.users[u] for u in self.members[gid] if u in self.users]
        return self._page(request, members, default=1000)

    def _membership(self, gid: str, uid: str) -> httpx.Response | None:
        if gid not in self.groups:
            return _error(404, "E0000007", f"Not found: Resource not found: {gid} (UserGroup)")
        user = self._user(uid)
        return user if isinstance(user, httpx.Response) else None

    def _add_member(self, request: httpx.Request, gid: str, uid: str) -> httpx.Response:
        missing = self._membership(gid, uid)
        if missing is None:
            self.members[gid].add(uid)
        return missing or httpx.Response(204)

    def _remove_member(self, request: httpx.Request, gid: str, uid: str) -> httpx.Response:
        missing = self._membership(gid, uid)
        if missing is None:
            self.members[gid].discard(uid)
        return missing or httpx.Response(204)

    # -- paging ---------------------------------------------------------------------------------

    def _page(self, request: httpx.Request, items: list[dict[str, Any]], *, default: int) -> httpx.Response:
        limit = int(request.url.params.get("limit", default))
        after = request.url.params.get("after")
        ordered = sorted(items, key=lambda item: str(item["id"]))
        if after:
            ordered = [item for item in ordered if str(item["id"]) > after]
        page = ordered[:limit]
        base = f"{self.base_url}{request.url.path}"
        params = {k: v for k, v in request.url.params.items() if k != "after"}
        links = [f'<{base}?{urlencode(params)}>; rel="self"']
        if len(ordered) > limit:
            links.append(f'<{base}?{urlencode({**params, "after": page[-1]["id"]})}>; rel="next"')
        return httpx.Response(200, json=page, headers={"Link": ", ".join(links)})


def _error(status: int, code: str, summary: str, causes: list[str] | None = None, *,
           headers: dict[str, str] | None = None) -> httpx.Response:
    wire = {name.encode(): value.encode() for name, value in (headers or {}).items()}  # UTF-8, as the twin
    return httpx.Response(status, headers=wire, json={
        "errorCode": code, "errorSummary": summary, "errorLink": code,
        "errorId": "oae" + secrets.token_hex(9), "errorCauses": [{"errorSummary": c} for c in causes or []]})


def _oauth(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description})

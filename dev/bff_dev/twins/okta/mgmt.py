"""The Okta Management API subset the project uses (``/api/v1/users``, ``/api/v1/groups``) and the
ORG authorization server that issues its OAuth tokens (``{base}/oauth2/v1/token``).

Authentication: ``Authorization: SSWS <api token>`` or ``Bearer <org AS access token>`` whose
``scp`` holds the ``okta.users.*`` / ``okta.groups.*`` scope the endpoint needs. Every response
carries ``X-Rate-Limit-Limit/-Remaining/-Reset`` for its bucket (per-minute windows, limits in
``OktaTwin.rate_limits``); an exhausted bucket answers 429 E0000047.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749.util import scope_to_list
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta import search
from bff_dev.twins.okta.activation import Activation
from bff_dev.twins.okta.directory import Group, User, hash_password, iso, okta_id
from bff_dev.twins.okta.errors import NO_STORE, ApiError, OAuthError
from bff_dev.twins.okta.forms import read_form
from bff_dev.twins.okta.hooks import EventHooks
from bff_dev.twins.okta.keys import SigningKeys
from bff_dev.twins.okta.org import OktaOrg
from bff_dev.twins.okta.profile import password_problems, validate_profile

MAX_JSON_BYTES = 256 * 1024
USER_TYPE_ID = "otydefaultusertype01"
ORG_SCOPES = ("okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage")
#: Okta's ``filter=`` for users: only these attributes and operators.
USER_FILTER = {
    "status": {"eq"}, "id": {"eq"}, "lastUpdated": {"eq", "gt", "ge", "lt", "le"},
    "profile.login": {"eq"}, "profile.email": {"eq"}, "profile.firstName": {"eq"},
    "profile.lastName": {"eq"},
}
GROUP_FILTER = {"type": {"eq"}, "id": {"eq"}, "lastUpdated": {"eq", "gt", "ge", "lt", "le"},
                "lastMembershipUpdated": {"eq", "gt", "ge", "lt", "le"}}
Handler = Callable[[Request], Awaitable[Response]]


class ManagementApi:
    def __init__(self, org: OktaOrg, *, hooks: EventHooks) -> None:
        self.org = org
        self.hooks = hooks
        self.org_keys: SigningKeys | None = None
        self.windows: dict[str, tuple[int, int]] = {}  # bucket -> (window start, used)
        #: The activation emails and welcome page (set by the twin; None: no email is sent).
        self.activation: Activation | None = None

    def routes(self) -> list[BaseRoute]:
        e = self.endpoint
        return [
            Route("/oauth2/v1/token", self.org_token, methods=["POST"]),
            Route("/oauth2/v1/keys", self.org_keys_endpoint),
            Route("/.well-known/oauth-authorization-server", self.org_metadata),
            Route("/.well-known/openid-configuration", self.org_metadata),
            Route("/api/v1/users", e("users", "okta.users.read", self.list_users), methods=["GET"]),
            Route("/api/v1/users", e("users", "okta.users.manage", self.create_user), methods=["POST"]),
            Route("/api/v1/users/{uid}", e("users", "okta.users.read", self.get_user), methods=["GET"]),
            Route("/api/v1/users/{uid}", e("users", "okta.users.manage", self.update_user),
                  methods=["POST", "PUT"]),
            Route("/api/v1/users/{uid}", e("users", "okta.users.manage", self.delete_user),
                  methods=["DELETE"]),
            Route("/api/v1/users/{uid}/lifecycle/{op}", e("users", "okta.users.manage", self.lifecycle),
                  methods=["POST"]),
            Route("/api/v1/users/{uid}/groups", e("users", "okta.users.read", self.user_groups),
                  methods=["GET"]),
            Route("/api/v1/users/{uid}/sessions", e("users", "okta.users.manage", self.clear_sessions),
                  methods=["DELETE"]),
            Route("/api/v1/groups", e("groups", "okta.groups.read", self.list_groups), methods=["GET"]),
            Route("/api/v1/groups", e("groups", "okta.groups.manage", self.create_group), methods=["POST"]),
            Route("/api/v1/groups/{gid}", e("groups", "okta.groups.read", self.get_group), methods=["GET"]),
            Route("/api/v1/groups/{gid}/users", e("groups", "okta.groups.read", self.group_users),
                  methods=["GET"]),
            Route("/api/v1/groups/{gid}/users/{uid}", e("groups", "okta.groups.manage", self.membership),
                  methods=["PUT", "DELETE"]),
        ]

    # -- plumbing -------------------------------------------------------------------------
    def endpoint(self, bucket: str, scope: str, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            t = self.org
            route = request.scope.get("route")
            template = getattr(route, "path", request.url.path)
            t.counters[f"mgmt:{request.method} {template}"] += 1
            limit_headers, exhausted = self._rate(bucket)
            try:
                if exhausted:
                    raise ApiError("E0000047")
                request.state.actor = self._authenticate(request, scope)
                response = await handler(request)
            except ApiError as exc:
                response = exc.response()
            response.headers.update(limit_headers)
            return response

        return guarded

    def _rate(self, bucket: str) -> tuple[dict[str, str], bool]:
        now = self.org.now()
        limit = self.org.rate_limits.get(bucket, self.org.rate_limits.get("default", 600))
        start = int(now // 60 * 60)
        window, used = self.windows.get(bucket, (start, 0))
        if window != start:
            window, used = start, 0
        exhausted = used >= limit
        used = min(used + 1, limit)
        self.windows[bucket] = (window, used)
        return {"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": str(limit - used),
                "X-Rate-Limit-Reset": str(window + 60)}, exhausted

    def _authenticate(self, request: Request, scope: str) -> dict[str, Any]:
        t = self.org
        auth = request.headers.get("authorization", "")
        kind, _, credential = auth.partition(" ")
        credential = credential.strip()
        if kind.upper() == "SSWS" and credential in t.api_tokens:
            return {"id": t.api_admin_id, "type": "User", "alternateId": "api-admin@okta-twin.test",
                    "displayName": "API Token Admin", "detailEntry": None}
        if kind.lower() == "bearer" and credential:
            claims = self._org_keys().verify(credential)
            if claims and claims.get("iss") == t.base_url and claims.get("aud") == t.base_url and \
                    isinstance(claims.get("exp"), int) and claims["exp"] > t.now():
                granted = set(claims.get("scp", []))
                needed = {scope, scope.replace(".read", ".manage")}
                if not granted & needed:
                    raise ApiError("E0000006", headers={"WWW-Authenticate": (
                        f'Bearer authorization_uri="{t.base_url}/oauth2/v1/authorize", realm="IdpBearer", '
                        f'scope="{scope}", error="insufficient_scope", error_description="The access token '
                        f'provided does not contain the required scopes.", resource="{request.url.path}"')})
                return {"id": claims.get("cid"), "type": "PublicClientApp", "alternateId": claims.get("cid"),
                        "displayName": claims.get("cid"), "detailEntry": None}
        raise ApiError("E0000011")

    async def read_json(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError("E0000003")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_JSON_BYTES:
                raise ApiError("E0000003")
        try:
            data = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ApiError("E0000003") from None
        if not isinstance(data, dict):
            raise ApiError("E0000003")
        return data

    def _user(self, uid: str) -> User:
        user = self.org.directory.user(uid)
        if user is None:
            raise ApiError("E0000007", f"Resource not found: {uid} (User)")
        return user

    def _group(self, gid: str) -> Group:
        group = self.org.directory.groups.get(gid)
        if group is None:
            raise ApiError("E0000007", f"Resource not found: {gid} (UserGroup)")
        return group

    @staticmethod
    def _limit(request: Request, default: int, maximum: int) -> int:
        raw = request.query_params.get("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError("E0000001", "limit", causes=["limit: The limit must be a number"]) from None
        if value < 1:
            raise ApiError("E0000001", "limit", causes=["limit: The limit must be greater than 0"])
        return min(value, maximum)

    def page(self, request: Request, items: list[Any], key: Callable[[Any], str], *, default: int,
              maximum: int) -> tuple[list[Any], dict[str, str]]:
        limit = self._limit(request, default, maximum)
        after = request.query_params.get("after")
        items = sorted(items, key=key)
        if after:
            items = [i for i in items if key(i) > after]
        page, more = items[:limit], len(items) > limit
        base = f"{self.org.base_url}{request.url.path}"
        params = {k: v for k, v in request.query_params.items() if k != "after"}
        links = [f'<{base}?{urlencode(params)}>; rel="self"' if params else f'<{base}>; rel="self"']
        if more:
            links.append(f'<{base}?{urlencode({**params, "after": key(page[-1]), "limit": str(limit)})}>; '
                         'rel="next"')
        return page, {"Link": ", ".join(links)}

    # -- representations ------------------------------------------------------------------
    def user_json(self, user: User) -> dict[str, Any]:
        base = f"{self.org.base_url}/api/v1/users/{user.id}"
        credentials: dict[str, Any] = {}
        if user.password_hash:
            credentials["password"] = {}
        credentials["emails"] = [{"value": user.profile.get("email"), "status": "VERIFIED",
                                  "type": "PRIMARY"}]
        credentials["provider"] = {"type": "OKTA", "name": "OKTA"}
        links: dict[str, Any] = {"self": {"href": base}}
        ops = {"ACTIVE": ("suspend", "deactivate"), "SUSPENDED": ("unsuspend", "deactivate"),
               "STAGED": ("activate", "deactivate"), "PROVISIONED": ("reactivate", "deactivate"),
               "DEPROVISIONED": ("activate",)}.get(user.status, ())
        for op in ops:
            links[op] = {"href": f"{base}/lifecycle/{op}", "method": "POST"}
        return {
            "id": user.id,
            "status": user.status,
            "created": iso(user.created),
            "activated": iso(user.activated),
            "statusChanged": iso(user.status_changed),
            "lastLogin": iso(user.last_login),
            "lastUpdated": iso(user.last_updated),
            "passwordChanged": iso(user.password_changed),
            "type": {"id": USER_TYPE_ID},
            "profile": dict(user.profile),
            "credentials": credentials,
            "_links": links,
        }

    def group_json(self, group: Group) -> dict[str, Any]:
        base = f"{self.org.base_url}/api/v1/groups/{group.id}"
        profile: dict[str, Any] = {"name": group.name, "description": group.description}
        if group.org_id is not None:
            profile["orgId"] = group.org_id
        return {
            "id": group.id,
            "created": iso(group.created),
            "lastUpdated": iso(group.last_updated),
            "lastMembershipUpdated": iso(group.last_membership_updated),
            "objectClass": ["okta:user_group"],
            "type": group.type,
            "profile": profile,
            "_links": {"logo": [], "users": {"href": f"{base}/users"}, "apps": {"href": f"{base}/apps"}},
        }

    @staticmethod
    def _user_attr(user: User) -> search.Record:
        def value(path: str) -> Any:
            if path.startswith("profile."):
                return user.profile.get(path[8:])
            return {"id": user.id, "status": user.status, "created": iso(user.created),
                    "lastUpdated": iso(user.last_updated), "activated": iso(user.activated),
                    "statusChanged": iso(user.status_changed), "lastLogin": iso(user.last_login),
                    "type.id": USER_TYPE_ID}.get(path)

        return value

    @staticmethod
    def _group_attr(group: Group) -> search.Record:
        def value(path: str) -> Any:
            return {"id": group.id, "type": group.type, "profile.name": group.name,
                    "profile.description": group.description, "profile.orgId": group.org_id,
                    "created": iso(group.created), "lastUpdated": iso(group.last_updated),
                    "lastMembershipUpdated": iso(group.last_membership_updated)}.get(path)

        return value

    # -- users ----------------------------------------------------------------------------
    async def list_users(self, request: Request) -> Response:
        users = list(self.org.directory.users.values())
        q, flt, expr = (request.query_params.get(k) for k in ("q", "filter", "search"))
        if sum(x is not None for x in (q, flt, expr)) > 1:
            raise ApiError("E0000031")
        try:
            if expr is not None:
                tree = search.parse(expr)
                users = [u for u in users if search.matches(tree, self._user_attr(u))]
            elif flt is not None:
                tree = search.parse(flt, allowed=USER_FILTER)
                users = [u for u in users if search.matches(tree, self._user_attr(u))]
            else:
                users = [u for u in users if u.status != "DEPROVISIONED"]
                if q is not None:
                    needle = q.lower()
                    users = [u for u in users if any(str(u.profile.get(a, "")).lower().startswith(needle)
                                                     for a in ("firstName", "lastName", "email"))]
        except search.SearchError:
            raise ApiError("E0000031") from None
        default = 10 if q is not None else 200
        page, headers = self.page(request, users, lambda u: u.id, default=default, maximum=200)
        return JSONResponse([self.user_json(u) for u in page], headers=headers)

    async def get_user(self, request: Request) -> Response:
        return JSONResponse(self.user_json(self._user(request.path_params["uid"])))

    async def create_user(self, request: Request) -> Response:
        t = self.org
        activate = request.query_params.get("activate", "true").lower()
        if activate not in ("true", "false"):
            raise ApiError("E0000001", "activate", causes=["activate: must be true or false"])
        body = await self.read_json(request)
        profile = body.get("profile")
        causes = validate_profile(profile, self.org.directory)
        password = None
        credentials = body.get("credentials")
        if credentials is not None:
            pw = credentials.get("password") if isinstance(credentials, dict) else None
            if pw is not None:
                password = pw.get("value") if isinstance(pw, dict) else None
                if isinstance(profile, dict):
                    causes += password_problems(password, profile)
        group_ids = body.get("groupIds", [])
        if not isinstance(group_ids, list) or not all(isinstance(g, str) for g in group_ids):
            causes.append("groupIds: Does not match required type: array of string")
            group_ids = []
        for gid in group_ids:
            group = t.directory.groups.get(gid)
            if group is None or group.type != "OKTA_GROUP":
                causes.append(f"groupIds: Group {gid} does not exist or cannot be assigned")
        if causes:
            first = causes[0].split(":")[0]
            raise ApiError("E0000001", first, causes=causes)
        assert isinstance(profile, dict)
        now = t.now()
        if activate == "false":
            status = "STAGED"
        else:
            status = "ACTIVE" if password else "PROVISIONED"
        clean = {k: v for k, v in profile.items() if v is not None}
        user = User(id=okta_id("00u"), status=status, profile=clean, created=now, last_updated=now,
                    activated=now if status != "STAGED" else None,
                    status_changed=now if status != "STAGED" else None,
                    password_changed=now if password else None,
                    password_hash=hash_password(password) if isinstance(password, str) else None)
        t.directory.add_user(user)
        for gid in group_ids:
            t.directory.groups[gid].members[user.id] = None
            t.directory.groups[gid].last_membership_updated = now
        self.hooks.log_event("user.lifecycle.create", user, actor=request.state.actor,
                          display_message="Create okta user")
        if status == "ACTIVE":
            self.hooks.log_event("user.lifecycle.activate", user, actor=request.state.actor,
                              display_message="Activate Okta user")
        elif status == "PROVISIONED" and self.activation is not None:
            # Okta emails the activation link; the user is ACTIVE once they open it and choose
            # a password (bff_dev.twins.okta.activation): the address is verified by then.
            self.activation.issue(user, send_email=True)
        return JSONResponse(self.user_json(user))

    async def update_user(self, request: Request) -> Response:
        t = self.org
        user = self._user(request.path_params["uid"])
        body = await self.read_json(request)
        partial = request.method == "POST"
        profile = body.get("profile")
        credentials = body.get("credentials")
        if profile is None and credentials is None:
            raise ApiError("E0000001", "profile", causes=["profile: The field cannot be left blank"])
        causes = validate_profile(profile, self.org.directory, except_id=user.id, partial=partial,
                                        current=user.profile) if profile is not None else []
        password = None
        if credentials is not None:
            pw = credentials.get("password") if isinstance(credentials, dict) else None
            password = pw.get("value") if isinstance(pw, dict) else None
            causes += password_problems(password, profile if isinstance(profile, dict) else user.profile)
        if causes:
            raise ApiError("E0000001", causes[0].split(":")[0], causes=causes)
        now = t.now()
        old_login = user.login
        if isinstance(profile, dict):
            if partial:
                for name, value in profile.items():
                    if value is None:
                        user.profile.pop(name, None)
                    else:
                        user.profile[name] = value
            else:
                user.profile = {k: v for k, v in profile.items() if v is not None}
            if user.login != old_login:
                t.directory.relogin(user, old_login)
        if isinstance(password, str):
            t.directory.set_password(user, password, now)
        user.last_updated = now
        self.hooks.log_event("user.account.update_profile", user, actor=request.state.actor,
                          display_message="Update user profile for Okta")
        return JSONResponse(self.user_json(user))

    async def delete_user(self, request: Request) -> Response:
        t = self.org
        user = self._user(request.path_params["uid"])
        if user.status != "DEPROVISIONED":
            self._deactivate(user, request.state.actor)
        else:
            t.directory.remove_user(user)
            self.hooks.log_event("user.lifecycle.delete.completed", user, actor=request.state.actor,
                              display_message="Delete Okta user completed")
        return Response(status_code=204)

    def _deactivate(self, user: User, actor: dict[str, Any]) -> None:
        t = self.org
        user.set_status("DEPROVISIONED", t.now())
        self._cut_off(user)
        self.hooks.log_event("user.lifecycle.deactivate", user, actor=actor,
                          display_message="Deactivate Okta user")

    def _cut_off(self, user: User) -> None:
        """Deactivation/suspension ends the user's sessions and revokes their tokens, as Okta."""
        self.org.end_user_sessions(user.id)
        self.org.tokens.revoke_user(user.id)

    async def lifecycle(self, request: Request) -> Response:
        t = self.org
        user = self._user(request.path_params["uid"])
        op = request.path_params["op"]
        actor = request.state.actor
        now = t.now()
        if op == "activate":
            if user.status == "ACTIVE":
                raise ApiError("E0000016")
            if user.status not in ("STAGED", "DEPROVISIONED", "PROVISIONED"):
                raise ApiError("E0000038")
            send_email = request.query_params.get("sendEmail", "true").lower() != "false"
            if user.password_hash:
                user.set_status("ACTIVE", now)
                user.activated = now
                self.hooks.log_event("user.lifecycle.activate", user, actor=actor,
                                  display_message="Activate Okta user")
            else:  # the welcome flow: ACTIVE once the link is opened and a password chosen
                user.set_status("PROVISIONED", now)
            if self.activation is not None and not user.password_hash:
                token = self.activation.issue(user, send_email=send_email)
                if not send_email:
                    return JSONResponse({"activationUrl": self.activation.url(token),
                                         "activationToken": token})
            elif not send_email:
                token = okta_id("")[:20]
                return JSONResponse({"activationUrl": f"{t.base_url}/welcome/{token}",
                                     "activationToken": token})
            return JSONResponse({})
        if op == "reactivate":
            if user.status != "PROVISIONED":
                raise ApiError("E0000038")
            user.set_status("PROVISIONED", now)
            self.hooks.log_event("user.lifecycle.reactivate", user, actor=actor,
                              display_message="Reactivate Okta user")
            return JSONResponse({})
        if op == "deactivate":
            if user.status == "DEPROVISIONED":
                raise ApiError("E0000038")
            self._deactivate(user, actor)
            return JSONResponse({})
        if op == "suspend":
            if user.status != "ACTIVE":
                raise ApiError("E0000001", "suspend", causes=["Cannot suspend a user that is not active"])
            user.set_status("SUSPENDED", now)
            self._cut_off(user)
            self.hooks.log_event("user.lifecycle.suspend", user, actor=actor,
                              display_message="Suspend Okta user")
            return JSONResponse({})
        if op == "unsuspend":
            if user.status != "SUSPENDED":
                raise ApiError("E0000001", "unsuspend",
                               causes=["Cannot unsuspend a user that is not suspended"])
            user.set_status("ACTIVE", now)
            self.hooks.log_event("user.lifecycle.unsuspend", user, actor=actor,
                              display_message="Unsuspend Okta user")
            return JSONResponse({})
        raise ApiError("E0000007", f"Resource not found: {op} (Lifecycle operation)")

    async def clear_sessions(self, request: Request) -> Response:
        """``DELETE /api/v1/users/{id}/sessions[?oauthTokens=true]``: Okta's "clear user
        sessions". Every SSO session of the user ends (clients with a back-channel logout URI are
        told), with ``oauthTokens=true`` every token issued to them is revoked too, and
        ``user.session.clear`` goes to the event hooks. 204, also when there was nothing to end."""
        user = self._user(request.path_params["uid"])
        self.org.end_user_sessions(user.id)
        if request.query_params.get("oauthTokens", "false").lower() == "true":
            self.org.tokens.revoke_user(user.id)
        self.hooks.log_event("user.session.clear", user, actor=request.state.actor,
                             display_message="Clear user sessions")
        return Response(status_code=204)

    async def user_groups(self, request: Request) -> Response:
        user = self._user(request.path_params["uid"])
        groups = sorted(self.org.directory.groups_of(user.id), key=lambda g: g.id)
        return JSONResponse([self.group_json(g) for g in groups])

    # -- groups ---------------------------------------------------------------------------
    async def list_groups(self, request: Request) -> Response:
        groups = list(self.org.directory.groups.values())
        q, flt, expr = (request.query_params.get(k) for k in ("q", "filter", "search"))
        try:
            if expr is not None:
                tree = search.parse(expr)
                groups = [g for g in groups if search.matches(tree, self._group_attr(g))]
            if flt is not None:
                tree = search.parse(flt, allowed=GROUP_FILTER)
                groups = [g for g in groups if search.matches(tree, self._group_attr(g))]
        except search.SearchError:
            raise ApiError("E0000031") from None
        if q is not None:
            groups = [g for g in groups if g.name.lower().startswith(q.lower())]
        page, headers = self.page(request, groups, lambda g: g.id, default=10000, maximum=10000)
        return JSONResponse([self.group_json(g) for g in page], headers=headers)

    async def get_group(self, request: Request) -> Response:
        return JSONResponse(self.group_json(self._group(request.path_params["gid"])))

    async def create_group(self, request: Request) -> Response:
        t = self.org
        body = await self.read_json(request)
        profile = body.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ApiError("E0000001", "name", causes=["name: The field cannot be left blank"])
        if t.directory.group_by_name(name) is not None:
            raise ApiError("E0000001", "name", causes=["name: An object with this field already exists in "
                                                        "the current organization"])
        assert isinstance(profile, dict)
        description = profile.get("description")
        org = profile.get("orgId")
        now = t.now()
        group = Group(id=okta_id("00g"), name=name, description=description if isinstance(description, str)
                      else "", created=now, last_updated=now, last_membership_updated=now,
                      org_id=org if isinstance(org, str) else None)
        t.directory.groups[group.id] = group
        return JSONResponse(self.group_json(group))

    async def group_users(self, request: Request) -> Response:
        group = self._group(request.path_params["gid"])
        users = [self.org.directory.users[u] for u in group.members if u in self.org.directory.users]
        page, headers = self.page(request, users, lambda u: u.id, default=1000, maximum=1000)
        return JSONResponse([self.user_json(u) for u in page], headers=headers)

    async def membership(self, request: Request) -> Response:
        group = self._group(request.path_params["gid"])
        user = self._user(request.path_params["uid"])
        if group.type != "OKTA_GROUP":
            raise ApiError("E0000006")
        if request.method == "PUT":
            group.members[user.id] = None
        else:
            group.members.pop(user.id, None)
        group.last_membership_updated = self.org.now()
        return Response(status_code=204)

    # -- the org authorization server (service apps) ---------------------------------------
    def _org_keys(self) -> SigningKeys:
        if self.org_keys is None:
            self.org_keys = SigningKeys()
        return self.org_keys

    async def org_keys_endpoint(self, request: Request) -> Response:
        return JSONResponse(self._org_keys().jwks(),
                            headers={"Cache-Control": "max-age=3600, must-revalidate"})

    async def org_metadata(self, request: Request) -> Response:
        base = self.org.base_url
        return JSONResponse({
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth2/v1/authorize",
            "token_endpoint": f"{base}/oauth2/v1/token",
            "jwks_uri": f"{base}/oauth2/v1/keys",
            "response_types_supported": ["code"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": list(ORG_SCOPES),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "code_challenge_methods_supported": ["S256"],
        }, headers={"Cache-Control": "max-age=86400"})

    async def org_token(self, request: Request) -> Response:
        t = self.org
        token_url = f"{t.base_url}/oauth2/v1/token"
        try:
            form = await read_form(request)
            grant_type = form.get("grant_type", "")
            t.counters[f"org:token:{grant_type}"] += 1
            basic = request.headers.get("authorization", "").lower().startswith("basic ")
            if "client_secret" in form or basic:
                raise OAuthError("invalid_client", "Client Credentials requests to the Org Authorization "
                                 "Server must use the private_key_jwt token_endpoint_auth_method.", 401)
            client = t.authenticator.authenticate(form, request.headers, token_url)
            if grant_type != "client_credentials":
                raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported by "
                                 "the authorization server. Configured grant types: [client_credentials].")
            if "client_credentials" not in client.grant_types:
                raise OAuthError("unauthorized_client", "The client is not authorized to use the provided "
                                 "grant type. Configured grant types: "
                                 f"[{', '.join(client.grant_types)}].")
            scopes = scope_to_list(form.get("scope", "")) or []
            if not scopes:
                raise OAuthError("invalid_scope", "The authorization server resource does not have any "
                                 "configured default scopes, 'scope' must be provided.")
            refused = [s for s in scopes if s not in client.scopes]
            if refused:
                raise OAuthError("invalid_scope", f"The following scopes are not allowed: {refused[0]}")
        except OAuthError as exc:
            return exc.response()
        now = int(t.now())
        claims = {"ver": 1, "jti": f"AT.{okta_id('')}", "iss": t.base_url, "aud": t.base_url, "iat": now,
                  "exp": now + 3600, "cid": client.client_id, "scp": scopes, "sub": client.client_id}
        token = self._org_keys().sign(claims)
        return JSONResponse({"token_type": "Bearer", "expires_in": 3600, "access_token": token,
                             "scope": " ".join(scopes)}, headers=NO_STORE)

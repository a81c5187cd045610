"""The Okta Management API endpoints ``bff okta plan|apply`` provisions through, with Okta's
shapes and errors, in memory: authorization servers (+ scopes, claims, access policies and
their rules), OIDC apps (+ group assignments), group profile updates, trusted origins, the
user profile schema and event hooks (+ activation, verification).

    prov = install_provisioning(twin)      # mounts the routes on a running or new OktaTwin

Like a new developer org, the twin starts with the ``default`` authorization server holding
the system scopes and a "Default Policy" (all clients) whose "Default Policy Rule" grants any
scope to everyone, and an empty ``#custom`` profile schema.

What the rest of the twin does with what was provisioned:

* OIDC apps become twin clients (``twin.clients``): sign in with the provisioned client id and
  secret (or private_key_jwt keys), redirect and logout URIs, back-channel logout URI (an
  extension: Okta's Apps API has no such field). Deactivated or deleted apps stop working.
* Event hooks ARE the twin's hooks (``twin.event_hooks``): verification calls the real
  endpoint with a challenge; deliveries use the provisioned URI, header and secret.
* After a write to the ``default`` server, its custom scopes become ``twin.custom_scopes`` and
  its access policies are projected onto ``twin.scope_policies`` (custom scope → the ONE group
  allowed to ask for it): a scope some active rule grants to Everyone becomes unguarded, as in
  Okta; a scope no rule grants is refused to everybody. The projection is coarse: it ignores
  which client a policy names and keeps only the first of several allowed groups. Claims are
  stored and served by the API, but the tokens' custom claims stay the twin's fixed set
  (``groups``, ``orgId``; ``adminRole``/``adminGroups`` with ``admin``).

Authentication, rate-limit headers and error rendering are the Management API's own
(``ManagementApi.endpoint``): SSWS tokens, or org-server OAuth tokens carrying the
``okta.<resource>.read|manage`` scopes.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff_dev.twins.okta.directory import BASE_ATTRIBUTES, iso, okta_id
from bff_dev.twins.okta.errors import ApiError
from bff_dev.twins.okta.mgmt import Handler
from bff_dev.twins.okta.model import EventHook
from bff_dev.twins.okta.twin import OktaTwin

Json = dict[str, Any]

SYSTEM_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", "device_sso")
RESERVED_CLAIMS = frozenset({"sub", "iss", "aud", "exp", "iat", "nbf", "jti", "cid", "uid", "scp", "ver",
                             "auth_time", "amr", "nonce", "at_hash", "c_hash", "idp", "sid", "acr",
                             "azp", "sub_id", "_links"})
RULE_GRANTS = frozenset({"authorization_code", "password", "implicit", "client_credentials",
                         "interaction_code", "urn:ietf:params:oauth:grant-type:device_code",
                         "urn:ietf:params:oauth:grant-type:token-exchange",
                         "urn:ietf:params:oauth:grant-type:saml2-bearer",
                         "urn:openid:params:grant-type:ciba"})
APP_GRANTS = {
    "web": {"authorization_code", "refresh_token", "implicit", "client_credentials", "interaction_code"},
    "browser": {"authorization_code", "refresh_token", "implicit"},
    "native": {"authorization_code", "refresh_token", "implicit", "password",
               "urn:ietf:params:oauth:grant-type:device_code"},
    "service": {"client_credentials"},
}
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none")
HOOK_EVENTS = frozenset({
    "user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.deactivate", "user.lifecycle.suspend",
    "user.lifecycle.unsuspend", "user.lifecycle.reactivate", "user.lifecycle.delete.initiated",
    "user.lifecycle.delete.completed", "user.account.update_profile", "user.account.lock",
    "user.session.start", "user.session.end", "group.user_membership.add", "group.user_membership.remove",
    "application.user_membership.add", "application.user_membership.remove",
    # event-hook eligible in Okta's event type catalog; the BFF ends sessions on them
    "user.session.clear", "user.account.reset_password", "user.account.update_password",
    "user.mfa.factor.reset_all",
    # the account notice "a new sign-in method was added" (bff.signup.notices)
    "user.mfa.factor.activate",
})
PROPERTY_TYPES = ("string", "boolean", "number", "integer", "array")
PERMISSION_ACTIONS = ("HIDE", "READ_ONLY", "READ_WRITE")
_HEX_ENOUGH = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError("E0000001", field, causes=[f"{field}: {message}"])


def _not_found(what: str, ident: str) -> ApiError:
    return ApiError("E0000007", f"Resource not found: {ident} ({what})")


def _text(body: Json, field: str, *, required: bool = True, maximum: int = 1024) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise _invalid(field, "The field cannot be left blank")
        return None
    if not isinstance(value, str) or len(value) > maximum:
        raise _invalid(field, f"Must be a string of at most {maximum} characters")
    return value


def _strings(value: Any, field: str, *, allowed: frozenset[str] | set[str] | None = None,
             non_empty: bool = True) -> list[str]:
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _invalid(field, "Must be an array of strings")
    if non_empty and not value:
        raise _invalid(field, "The field cannot be left blank")
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise _invalid(field, f"'{v}' is not a valid value")
    return list(value)


def _absolute_uri(value: str, field: str, *, allow_http_local: bool = True) -> str:
    parts = urlsplit(value)
    local = parts.hostname in ("localhost", "127.0.0.1")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment or \
            (parts.scheme == "http" and not (local and allow_http_local)):
        raise _invalid(field, f"'{value}' is not a valid URI")
    return value


def _obj(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


class Provisioning:
    """The provisioning endpoints and their in-memory state for one :class:`OktaTwin`."""

    def __init__(self, twin: OktaTwin) -> None:
        self.twin = twin
        self.servers: dict[str, Json] = {}
        self.scopes: dict[str, dict[str, Json]] = {}
        self.claims: dict[str, dict[str, Json]] = {}
        self.policies: dict[str, dict[str, Json]] = {}
        self.rules: dict[str, dict[str, Json]] = {}
        self.apps: dict[str, Json] = {}
        self.app_secrets: dict[str, str] = {}
        self.app_groups: dict[str, dict[str, Json]] = {}
        self.origins: dict[str, Json] = {}
        self.custom_properties: dict[str, Json] = {}
        self.schema_updated = self._now()
        self.hooks: dict[str, Json] = {}  # event hook id -> name/description/status/created/...
        self._hook_objects: dict[str, EventHook] = {}
        self._seed()

    # -- plumbing ---------------------------------------------------------------------------
    def _now(self) -> str:
        return iso(self.twin.now()) or ""

    def _actor(self, request: Request) -> str:
        return str(_obj(getattr(request.state, "actor", None)).get("id") or self.twin.api_admin_id)

    def _link(self, path: str) -> Json:
        return {"href": f"{self.twin.base_url}{path}"}

    def _action(self, path: str) -> Json:
        return {**self._link(path), "hints": {"allow": ["POST"]}}

    def routes(self) -> list[BaseRoute]:
        e = self.twin.mgmt.endpoint  # Okta's authentication, rate limits and error rendering
        base = "/api/v1/authorizationServers"

        def ep(resource: str, method: str, handler: Handler) -> Handler:
            return e("default", f"okta.{resource}.{'read' if method == 'GET' else 'manage'}", handler)

        def r(path: str, resource: str, handlers: dict[str, Handler]) -> list[BaseRoute]:
            return [Route(path, ep(resource, m, h), methods=[m]) for m, h in handlers.items()]

        a = "authorizationServers"
        return [
            *r(base, a, {"GET": self.list_servers, "POST": self.create_server}),
            *r(base + "/{sid}", a, {"GET": self.get_server, "PUT": self.replace_server,
                                    "DELETE": self.delete_server}),
            *r(base + "/{sid}/lifecycle/{op}", a, {"POST": self.server_lifecycle}),
            *r(base + "/{sid}/scopes", a, {"GET": self.list_scopes, "POST": self.create_scope}),
            *r(base + "/{sid}/scopes/{xid}", a, {"GET": self.get_scope, "PUT": self.replace_scope,
                                                 "DELETE": self.delete_scope}),
            *r(base + "/{sid}/claims", a, {"GET": self.list_claims, "POST": self.create_claim}),
            *r(base + "/{sid}/claims/{xid}", a, {"GET": self.get_claim, "PUT": self.replace_claim,
                                                 "DELETE": self.delete_claim}),
            *r(base + "/{sid}/policies", a, {"GET": self.list_policies, "POST": self.create_policy}),
            *r(base + "/{sid}/policies/{pid}", a, {"GET": self.get_policy, "PUT": self.replace_policy,
                                                   "DELETE": self.delete_policy}),
            *r(base + "/{sid}/policies/{pid}/lifecycle/{op}", a, {"POST": self.policy_lifecycle}),
            *r(base + "/{sid}/policies/{pid}/rules", a, {"GET": self.list_rules, "POST": self.create_rule}),
            *r(base + "/{sid}/policies/{pid}/rules/{rid}", a, {"GET": self.get_rule, "PUT": self.replace_rule,
                                                               "DELETE": self.delete_rule}),
            *r(base + "/{sid}/policies/{pid}/rules/{rid}/lifecycle/{op}", a, {"POST": self.rule_lifecycle}),
            *r("/api/v1/groups/{gid}", "groups", {"PUT": self.replace_group}),
            *r("/api/v1/apps", "apps", {"GET": self.list_apps, "POST": self.create_app}),
            *r("/api/v1/apps/{aid}", "apps", {"GET": self.get_app, "PUT": self.replace_app,
                                              "DELETE": self.delete_app}),
            *r("/api/v1/apps/{aid}/lifecycle/{op}", "apps", {"POST": self.app_lifecycle}),
            *r("/api/v1/apps/{aid}/groups", "apps", {"GET": self.list_app_groups}),
            *r("/api/v1/apps/{aid}/groups/{gid}", "apps", {"GET": self.get_app_group,
                                                           "PUT": self.assign_group,
                                                           "DELETE": self.unassign_group}),
            *r("/api/v1/trustedOrigins", "trustedOrigins", {"GET": self.list_origins,
                                                            "POST": self.create_origin}),
            *r("/api/v1/trustedOrigins/{oid}", "trustedOrigins", {"GET": self.get_origin,
                                                                  "PUT": self.replace_origin,
                                                                  "DELETE": self.delete_origin}),
            *r("/api/v1/trustedOrigins/{oid}/lifecycle/{op}", "trustedOrigins",
               {"POST": self.origin_lifecycle}),
            *r("/api/v1/meta/schemas/user/{schema}", "schemas", {"GET": self.get_schema,
                                                                 "POST": self.update_schema}),
            *r("/api/v1/eventHooks", "eventHooks", {"GET": self.list_hooks, "POST": self.create_hook}),
            *r("/api/v1/eventHooks/{hid}", "eventHooks", {"GET": self.get_hook, "PUT": self.replace_hook,
                                                          "DELETE": self.delete_hook}),
            *r("/api/v1/eventHooks/{hid}/lifecycle/{op}", "eventHooks", {"POST": self.hook_lifecycle}),
        ]

    async def _body(self, request: Request) -> Json:
        return await self.twin.mgmt.read_json(request)

    # -- the seed (a new developer org) ------------------------------------------------------
    @staticmethod
    def _system_scope(xid: str, name: str) -> Json:
        return {"id": xid, "name": name, "description": f"Okta system scope {name}", "system": True,
                "metadataPublish": "ALL_CLIENTS", "consent": "IMPLICIT", "optional": False, "default": False}

    def _seed(self) -> None:
        now = self._now()
        self.servers["default"] = {
            "id": "default", "name": "default", "description": "Default Authorization Server",
            "audiences": [self.twin.audience], "issuer": self.twin.issuer, "issuerMode": "ORG_URL",
            "status": "ACTIVE", "created": now, "lastUpdated": now,
            "credentials": {"signing": {"rotationMode": "AUTO", "kid": self.twin.keys.active_kid}},
        }
        self.scopes["default"] = {}
        for name in SYSTEM_SCOPES:
            sid = okta_id("scp")
            self.scopes["default"][sid] = self._system_scope(sid, name)
        self.claims["default"] = {}
        pid, rid = okta_id("00p"), okta_id("0pr")
        self.policies["default"] = {pid: {
            "id": pid, "type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE", "name": "Default Policy",
            "description": "Default policy description", "priority": 1, "system": False,
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}}, "created": now, "lastUpdated": now}}
        self.rules[pid] = {rid: {
            "id": rid, "type": "RESOURCE_ACCESS", "status": "ACTIVE", "name": "Default Policy Rule",
            "priority": 1, "system": False, "created": now, "lastUpdated": now,
            "conditions": {"people": {"users": {"include": [], "exclude": []},
                                      "groups": {"include": ["EVERYONE"], "exclude": []}},
                           "grantTypes": {"include": ["authorization_code", "password", "implicit",
                                                      "client_credentials"]},
                           "scopes": {"include": ["*"]}},
            "actions": {"token": {"accessTokenLifetimeMinutes": 60, "refreshTokenLifetimeMinutes": 0,
                                  "refreshTokenWindowMinutes": 10080}}}}

    # -- authorization servers ---------------------------------------------------------------
    def _server(self, request: Request) -> Json:
        sid = request.path_params["sid"]
        server = self.servers.get(sid)
        if server is None:
            raise _not_found("AuthorizationServer", sid)
        return server

    def _server_json(self, server: Json) -> Json:
        base = f"/api/v1/authorizationServers/{server['id']}"
        op = "deactivate" if server["status"] == "ACTIVE" else "activate"
        return {**server, "_links": {
            "scopes": self._link(base + "/scopes"), "claims": self._link(base + "/claims"),
            "policies": self._link(base + "/policies"), "self": self._link(base),
            "metadata": [self._link(f"/oauth2/{server['id']}/.well-known/oauth-authorization-server")],
            op: self._action(f"{base}/lifecycle/{op}")}}

    def _server_fields(self, body: Json, *, except_id: str | None = None) -> Json:
        name = _text(body, "name", maximum=128)
        audiences = _strings(body.get("audiences"), "audiences")
        if len(audiences) != 1:
            raise _invalid("audiences", "Okta currently supports only one audience")
        if any(s["name"] == name and s["id"] != except_id for s in self.servers.values()):
            raise _invalid("name", "An authorization server with this name already exists")
        return {"name": name, "description": _text(body, "description", required=False, maximum=1024) or "",
                "audiences": audiences}

    async def list_servers(self, request: Request) -> Response:
        q = (request.query_params.get("q") or "").lower()
        items = [s for s in self.servers.values() if not q or s["name"].lower().startswith(q)
                 or any(a.lower().startswith(q) for a in s["audiences"])]
        page, headers = self.twin.mgmt.page(request, items, lambda s: str(s["id"]), default=200, maximum=200)
        return JSONResponse([self._server_json(s) for s in page], headers=headers)

    async def create_server(self, request: Request) -> Response:
        fields = self._server_fields(await self._body(request))
        sid, now = okta_id("aus"), self._now()
        self.servers[sid] = {"id": sid, **fields, "issuer": f"{self.twin.base_url}/oauth2/{sid}",
                             "issuerMode": "ORG_URL", "status": "ACTIVE", "created": now, "lastUpdated": now,
                             "credentials": {"signing": {"rotationMode": "AUTO"}}}
        self.scopes[sid], self.claims[sid], self.policies[sid] = {}, {}, {}
        for name in SYSTEM_SCOPES:
            xid = okta_id("scp")
            self.scopes[sid][xid] = self._system_scope(xid, name)
        return JSONResponse(self._server_json(self.servers[sid]), status_code=201)

    async def get_server(self, request: Request) -> Response:
        return JSONResponse(self._server_json(self._server(request)))

    async def replace_server(self, request: Request) -> Response:
        server = self._server(request)
        server.update(self._server_fields(await self._body(request), except_id=server["id"]),
                      lastUpdated=self._now())
        self._sync(server["id"])
        return JSONResponse(self._server_json(server))

    async def delete_server(self, request: Request) -> Response:
        server = self._server(request)
        if server["status"] == "ACTIVE":
            raise _invalid("status", "Cannot delete an active authorization server; deactivate it first")
        if server["id"] == "default":
            raise ApiError("E0000006")
        self.servers.pop(server["id"])
        return Response(status_code=204)

    async def server_lifecycle(self, request: Request) -> Response:
        server = self._server(request)
        op = request.path_params["op"]
        if op not in ("activate", "deactivate"):
            raise _not_found("Lifecycle operation", op)
        server.update(status="ACTIVE" if op == "activate" else "INACTIVE", lastUpdated=self._now())
        return Response(status_code=204)

    # -- scopes --------------------------------------------------------------------------------
    def _scope(self, request: Request) -> tuple[Json, Json]:
        server = self._server(request)
        scope = self.scopes[server["id"]].get(request.path_params["xid"])
        if scope is None:
            raise _not_found("OAuth2Scope", request.path_params["xid"])
        return server, scope

    def _scope_json(self, server: Json, scope: Json) -> Json:
        return {**scope, "_links": {"self": self._link(
            f"/api/v1/authorizationServers/{server['id']}/scopes/{scope['id']}")}}

    def _scope_fields(self, server: Json, body: Json, *, except_id: str | None = None) -> Json:
        name = _text(body, "name", maximum=1024)
        if any(s["name"] == name and s["id"] != except_id for s in self.scopes[server["id"]].values()):
            raise _invalid("name", "A scope with this name already exists")
        consent = body.get("consent", "IMPLICIT")
        if consent not in ("IMPLICIT", "REQUIRED", "FLEXIBLE"):
            raise _invalid("consent", f"'{consent}' is not a valid value")
        publish = body.get("metadataPublish", "NO_CLIENTS")
        if publish not in ("NO_CLIENTS", "ALL_CLIENTS"):
            raise _invalid("metadataPublish", f"'{publish}' is not a valid value")
        fields: Json = {"name": name, "description": _text(body, "description", required=False) or "",
                        "system": False, "metadataPublish": publish, "consent": consent,
                        "optional": bool(body.get("optional", False)),
                        "default": bool(body.get("default", False))}
        if body.get("displayName"):
            fields["displayName"] = _text(body, "displayName", maximum=255)
        return fields

    async def list_scopes(self, request: Request) -> Response:
        server = self._server(request)
        return JSONResponse([self._scope_json(server, s) for s in self.scopes[server["id"]].values()])

    async def create_scope(self, request: Request) -> Response:
        server = self._server(request)
        fields = self._scope_fields(server, await self._body(request))
        xid = okta_id("scp")
        self.scopes[server["id"]][xid] = {"id": xid, **fields}
        self._sync(server["id"])
        return JSONResponse(self._scope_json(server, self.scopes[server["id"]][xid]), status_code=201)

    async def get_scope(self, request: Request) -> Response:
        return JSONResponse(self._scope_json(*self._scope(request)))

    async def replace_scope(self, request: Request) -> Response:
        server, scope = self._scope(request)
        if scope.get("system"):
            raise _invalid("name", "System scopes cannot be modified")
        scope.update(self._scope_fields(server, await self._body(request), except_id=scope["id"]))
        self._sync(server["id"])
        return JSONResponse(self._scope_json(server, scope))

    async def delete_scope(self, request: Request) -> Response:
        server, scope = self._scope(request)
        if scope.get("system"):
            raise _invalid("name", "System scopes cannot be deleted")
        self.scopes[server["id"]].pop(scope["id"])
        self._sync(server["id"])
        return Response(status_code=204)

    # -- claims --------------------------------------------------------------------------------
    def _claim(self, request: Request) -> tuple[Json, Json]:
        server = self._server(request)
        claim = self.claims[server["id"]].get(request.path_params["xid"])
        if claim is None:
            raise _not_found("OAuth2Claim", request.path_params["xid"])
        return server, claim

    def _claim_json(self, server: Json, claim: Json) -> Json:
        return {**claim, "_links": {"self": self._link(
            f"/api/v1/authorizationServers/{server['id']}/claims/{claim['id']}")}}

    def _claim_fields(self, server: Json, body: Json, *, except_id: str | None = None) -> Json:
        name = _text(body, "name", maximum=255)
        assert name is not None
        if name in RESERVED_CLAIMS:
            raise _invalid("name", f"The claim name '{name}' is reserved")
        claim_type = body.get("claimType")
        if claim_type not in ("RESOURCE", "IDENTITY"):
            raise _invalid("claimType", "Must be RESOURCE or IDENTITY")
        value_type = body.get("valueType", "EXPRESSION")
        if value_type not in ("EXPRESSION", "GROUPS"):
            raise _invalid("valueType", "Must be EXPRESSION or GROUPS")
        value = _text(body, "value", maximum=1024)
        fields: Json = {"name": name, "status": body.get("status", "ACTIVE"), "claimType": claim_type,
                        "valueType": value_type, "value": value, "system": False,
                        "alwaysIncludeInToken": True if claim_type == "RESOURCE"
                        else bool(body.get("alwaysIncludeInToken", True))}
        if fields["status"] not in ("ACTIVE", "INACTIVE"):
            raise _invalid("status", "Must be ACTIVE or INACTIVE")
        if value_type == "GROUPS":
            kind = body.get("group_filter_type")
            if kind not in ("STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"):
                raise _invalid("group_filter_type", "Required for a GROUPS claim: STARTS_WITH, EQUALS, "
                                                    "CONTAINS or REGEX")
            if kind == "REGEX":
                try:
                    re.compile(str(value))
                except re.error:
                    raise _invalid("value", "Invalid regular expression") from None
            fields["group_filter_type"] = kind
        elif not re.search(r"[A-Za-z]", str(value)):
            raise _invalid("value", "Invalid Okta Expression Language expression")
        scopes = _strings(_obj(body.get("conditions")).get("scopes"), "conditions.scopes", non_empty=False)
        known = {s["name"] for s in self.scopes[server["id"]].values()}
        for scope in scopes:
            if scope not in known:
                raise _invalid("conditions.scopes", f"The scope '{scope}' does not exist")
        fields["conditions"] = {"scopes": scopes}
        if any(c["name"] == name and c["claimType"] == claim_type and c["id"] != except_id
               for c in self.claims[server["id"]].values()):
            raise _invalid("name", "A claim with this name and claim type already exists")
        return fields

    async def list_claims(self, request: Request) -> Response:
        server = self._server(request)
        return JSONResponse([self._claim_json(server, c) for c in self.claims[server["id"]].values()])

    async def create_claim(self, request: Request) -> Response:
        server = self._server(request)
        fields = self._claim_fields(server, await self._body(request))
        xid = okta_id("ocl")
        self.claims[server["id"]][xid] = {"id": xid, **fields}
        return JSONResponse(self._claim_json(server, self.claims[server["id"]][xid]), status_code=201)

    async def get_claim(self, request: Request) -> Response:
        return JSONResponse(self._claim_json(*self._claim(request)))

    async def replace_claim(self, request: Request) -> Response:
        server, claim = self._claim(request)
        fields = self._claim_fields(server, await self._body(request), except_id=claim["id"])
        claim.clear()
        claim.update({"id": request.path_params["xid"], **fields})
        return JSONResponse(self._claim_json(server, claim))

    async def delete_claim(self, request: Request) -> Response:
        server, claim = self._claim(request)
        self.claims[server["id"]].pop(claim["id"])
        return Response(status_code=204)

    # -- access policies and rules ---------------------------------------------------------------
    def _policy(self, request: Request) -> tuple[Json, Json]:
        server = self._server(request)
        policy = self.policies[server["id"]].get(request.path_params["pid"])
        if policy is None:
            raise _not_found("Policy", request.path_params["pid"])
        return server, policy

    def _policy_json(self, server: Json, policy: Json) -> Json:
        base = f"/api/v1/authorizationServers/{server['id']}/policies/{policy['id']}"
        op = "deactivate" if policy["status"] == "ACTIVE" else "activate"
        return {**policy, "_links": {"self": self._link(base), "rules": self._link(base + "/rules"),
                                     op: self._action(f"{base}/lifecycle/{op}")}}

    @staticmethod
    def _reorder(items: dict[str, Json], moved: Json, priority: Any) -> None:
        """Insert ``moved`` at ``priority`` (1-based; default last) and renumber 1..n, as Okta."""
        others = sorted((i for i in items.values() if i["id"] != moved["id"]), key=lambda i: i["priority"])
        at = len(others) + 1
        if isinstance(priority, int) and not isinstance(priority, bool) and priority >= 1:
            at = min(priority, len(others) + 1)
        others.insert(at - 1, moved)
        for n, item in enumerate(others, start=1):
            item["priority"] = n

    def _policy_fields(self, server: Json, body: Json, *, except_id: str | None = None) -> Json:
        if body.get("type") != "OAUTH_AUTHORIZATION_POLICY":
            raise _invalid("type", "Must be OAUTH_AUTHORIZATION_POLICY")
        name = _text(body, "name", maximum=100)
        description = _text(body, "description", maximum=255)
        if any(p["name"] == name and p["id"] != except_id for p in self.policies[server["id"]].values()):
            raise _invalid("name", "A policy with this name already exists")
        clients = _strings(_obj(_obj(body.get("conditions")).get("clients")).get("include"),
                           "conditions.clients.include")
        for client in clients:
            if client != "ALL_CLIENTS" and client not in self.twin.clients and client not in self.apps:
                raise _invalid("conditions.clients.include", f"Invalid client id: {client}")
        status = body.get("status", "ACTIVE")
        if status not in ("ACTIVE", "INACTIVE"):
            raise _invalid("status", "Must be ACTIVE or INACTIVE")
        return {"type": "OAUTH_AUTHORIZATION_POLICY", "status": status, "name": name,
                "description": description, "system": False, "conditions": {"clients": {"include": clients}}}

    async def list_policies(self, request: Request) -> Response:
        server = self._server(request)
        items = sorted(self.policies[server["id"]].values(), key=lambda p: p["priority"])
        return JSONResponse([self._policy_json(server, p) for p in items])

    async def create_policy(self, request: Request) -> Response:
        server = self._server(request)
        body = await self._body(request)
        fields = self._policy_fields(server, body)
        pid, now = okta_id("00p"), self._now()
        policy = {"id": pid, **fields, "priority": 0, "created": now, "lastUpdated": now}
        self.policies[server["id"]][pid] = policy
        self.rules[pid] = {}
        self._reorder(self.policies[server["id"]], policy, body.get("priority"))
        self._sync(server["id"])
        return JSONResponse(self._policy_json(server, policy), status_code=201)

    async def get_policy(self, request: Request) -> Response:
        return JSONResponse(self._policy_json(*self._policy(request)))

    async def replace_policy(self, request: Request) -> Response:
        server, policy = self._policy(request)
        body = await self._body(request)
        policy.update(self._policy_fields(server, body, except_id=policy["id"]), lastUpdated=self._now())
        self._reorder(self.policies[server["id"]], policy, body.get("priority", policy["priority"]))
        self._sync(server["id"])
        return JSONResponse(self._policy_json(server, policy))

    async def delete_policy(self, request: Request) -> Response:
        server, policy = self._policy(request)
        self.policies[server["id"]].pop(policy["id"])
        self.rules.pop(policy["id"], None)
        for n, p in enumerate(sorted(self.policies[server["id"]].values(), key=lambda p: p["priority"]), 1):
            p["priority"] = n
        self._sync(server["id"])
        return Response(status_code=204)

    async def policy_lifecycle(self, request: Request) -> Response:
        server, policy = self._policy(request)
        op = request.path_params["op"]
        if op not in ("activate", "deactivate"):
            raise _not_found("Lifecycle operation", op)
        policy.update(status="ACTIVE" if op == "activate" else "INACTIVE", lastUpdated=self._now())
        self._sync(server["id"])
        return Response(status_code=204)

    def _rule(self, request: Request) -> tuple[Json, Json, Json]:
        server, policy = self._policy(request)
        rule = self.rules[policy["id"]].get(request.path_params["rid"])
        if rule is None:
            raise _not_found("PolicyRule", request.path_params["rid"])
        return server, policy, rule

    def _rule_json(self, server: Json, policy: Json, rule: Json) -> Json:
        base = f"/api/v1/authorizationServers/{server['id']}/policies/{policy['id']}/rules/{rule['id']}"
        op = "deactivate" if rule["status"] == "ACTIVE" else "activate"
        return {**rule, "_links": {"self": self._link(base),
                                   op: self._action(f"{base}/lifecycle/{op}")}}

    def _rule_fields(self, server: Json, policy: Json, body: Json, *, except_id: str | None = None) -> Json:
        if body.get("type", "RESOURCE_ACCESS") != "RESOURCE_ACCESS":
            raise _invalid("type", "Must be RESOURCE_ACCESS")
        name = _text(body, "name", maximum=255)
        if any(r["name"] == name and r["id"] != except_id for r in self.rules[policy["id"]].values()):
            raise _invalid("name", "A rule with this name already exists in the policy")
        conditions = _obj(body.get("conditions"))
        people = _obj(conditions.get("people"))
        groups = _strings(_obj(people.get("groups")).get("include"), "conditions.people.groups.include",
                          non_empty=False)
        users = _strings(_obj(people.get("users")).get("include"), "conditions.people.users.include",
                         non_empty=False)
        if not groups and not users:
            raise _invalid("conditions.people", "Either groups or users must be specified")
        for gid in groups:
            if gid != "EVERYONE" and gid not in self.twin.directory.groups:
                raise _invalid("conditions.people.groups.include", f"Invalid group id: {gid}")
        for uid in users:
            if uid not in self.twin.directory.users:
                raise _invalid("conditions.people.users.include", f"Invalid user id: {uid}")
        grants = _strings(_obj(conditions.get("grantTypes")).get("include"), "conditions.grantTypes.include",
                          allowed=RULE_GRANTS)
        scopes = _strings(_obj(conditions.get("scopes")).get("include"), "conditions.scopes.include")
        known = {s["name"] for s in self.scopes[server["id"]].values()}
        for scope in scopes:
            if scope != "*" and scope not in known:
                raise _invalid("conditions.scopes.include", f"Invalid scope: {scope}")
        token = _obj(_obj(body.get("actions")).get("token"))
        access = token.get("accessTokenLifetimeMinutes", 60)
        window = token.get("refreshTokenWindowMinutes", 10080)
        lifetime = token.get("refreshTokenLifetimeMinutes", 0)
        for field, value, lo, hi in (("accessTokenLifetimeMinutes", access, 5, 1440),
                                     ("refreshTokenWindowMinutes", window, 10, 2_628_000),
                                     ("refreshTokenLifetimeMinutes", lifetime, 0, 2_628_000)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise _invalid(f"actions.token.{field}", f"Must be between {lo} and {hi}")
        if lifetime and lifetime < window:
            raise _invalid("actions.token.refreshTokenLifetimeMinutes",
                           "Must be unlimited (0) or at least refreshTokenWindowMinutes")
        status = body.get("status", "ACTIVE")
        if status not in ("ACTIVE", "INACTIVE"):
            raise _invalid("status", "Must be ACTIVE or INACTIVE")
        return {"type": "RESOURCE_ACCESS", "status": status, "name": name, "system": False,
                "conditions": {"people": {"users": {"include": users, "exclude": []},
                                          "groups": {"include": groups, "exclude": []}},
                               "grantTypes": {"include": grants}, "scopes": {"include": scopes}},
                "actions": {"token": {"accessTokenLifetimeMinutes": access,
                                      "refreshTokenLifetimeMinutes": lifetime,
                                      "refreshTokenWindowMinutes": window}}}

    async def list_rules(self, request: Request) -> Response:
        server, policy = self._policy(request)
        items = sorted(self.rules[policy["id"]].values(), key=lambda r: r["priority"])
        return JSONResponse([self._rule_json(server, policy, r) for r in items])

    async def create_rule(self, request: Request) -> Response:
        server, policy = self._policy(request)
        body = await self._body(request)
        fields = self._rule_fields(server, policy, body)
        rid, now = okta_id("0pr"), self._now()
        rule = {"id": rid, **fields, "priority": 0, "created": now, "lastUpdated": now}
        self.rules[policy["id"]][rid] = rule
        self._reorder(self.rules[policy["id"]], rule, body.get("priority"))
        self._sync(server["id"])
        return JSONResponse(self._rule_json(server, policy, rule), status_code=201)

    async def get_rule(self, request: Request) -> Response:
        return JSONResponse(self._rule_json(*self._rule(request)))

    async def replace_rule(self, request: Request) -> Response:
        server, policy, rule = self._rule(request)
        body = await self._body(request)
        rule.update(self._rule_fields(server, policy, body, except_id=rule["id"]), lastUpdated=self._now())
        self._reorder(self.rules[policy["id"]], rule, body.get("priority", rule["priority"]))
        self._sync(server["id"])
        return JSONResponse(self._rule_json(server, policy, rule))

    async def delete_rule(self, request: Request) -> Response:
        server, policy, rule = self._rule(request)
        self.rules[policy["id"]].pop(rule["id"])
        for n, r in enumerate(sorted(self.rules[policy["id"]].values(), key=lambda r: r["priority"]), 1):
            r["priority"] = n
        self._sync(server["id"])
        return Response(status_code=204)

    async def rule_lifecycle(self, request: Request) -> Response:
        server, _, rule = self._rule(request)
        op = request.path_params["op"]
        if op not in ("activate", "deactivate"):
            raise _not_found("Lifecycle operation", op)
        rule.update(status="ACTIVE" if op == "activate" else "INACTIVE", lastUpdated=self._now())
        self._sync(server["id"])
        return Response(status_code=204)

    # -- the OIDC view of the default server ----------------------------------------------------
    def _sync(self, server_id: str) -> None:
        """Project the ``default`` server's scopes and access policies onto the twin's OIDC knobs."""
        if server_id != "default":
            return
        custom = {s["name"] for s in self.scopes["default"].values() if not s.get("system")}
        self.twin.custom_scopes = custom
        names = {g.id: g.name for g in self.twin.directory.groups.values()}
        guarded: dict[str, str] = {}
        for scope in sorted(custom):
            allowed: list[str] = []
            everyone = False
            for policy in sorted(self.policies["default"].values(), key=lambda p: p["priority"]):
                if policy["status"] != "ACTIVE":
                    continue
                for rule in sorted(self.rules.get(policy["id"], {}).values(), key=lambda r: r["priority"]):
                    c = rule["conditions"]
                    if rule["status"] != "ACTIVE" or "authorization_code" not in c["grantTypes"]["include"]:
                        continue
                    if scope not in c["scopes"]["include"] and "*" not in c["scopes"]["include"]:
                        continue
                    for gid in c["people"]["groups"]["include"]:
                        if gid == "EVERYONE" or names.get(gid) == "Everyone":
                            everyone = True
                        elif gid in names and names[gid] not in allowed:
                            allowed.append(names[gid])
            if not everyone:
                guarded[scope] = allowed[0] if allowed else f"(no group may request {scope})"
        self.twin.scope_policies = guarded

    # -- groups ----------------------------------------------------------------------------------
    async def replace_group(self, request: Request) -> Response:
        gid = request.path_params["gid"]
        group = self.twin.directory.groups.get(gid)
        if group is None:
            raise _not_found("UserGroup", gid)
        if group.type != "OKTA_GROUP":
            raise ApiError("E0000006")
        profile = _obj((await self._body(request)).get("profile"))
        name = _text(profile, "name", maximum=255)
        if any(g.name == name and g.id != gid for g in self.twin.directory.groups.values()):
            raise _invalid("name", "An object with this field already exists in the current organization")
        assert name is not None
        group.name = name
        group.description = _text(profile, "description", required=False) or ""
        org = profile.get("orgId")
        group.org_id = org if isinstance(org, str) else None
        group.last_updated = self.twin.now()
        return JSONResponse(self.twin.mgmt.group_json(group))

    # -- OIDC apps ---------------------------------------------------------------------------------
    def _app(self, request: Request) -> Json:
        aid = request.path_params["aid"]
        app = self.apps.get(aid)
        if app is None:
            raise _not_found("AppInstance", aid)
        return app

    def _app_json(self, app: Json, *, with_secret: bool = False) -> Json:
        out = {**app, "credentials": {**app["credentials"],
                                      "oauthClient": dict(app["credentials"]["oauthClient"])}}
        if with_secret and app["id"] in self.app_secrets:
            out["credentials"]["oauthClient"]["client_secret"] = self.app_secrets[app["id"]]
        base = f"/api/v1/apps/{app['id']}"
        op = "deactivate" if app["status"] == "ACTIVE" else "activate"
        out["_links"] = {"self": self._link(base), "groups": self._link(base + "/groups"),
                         "users": self._link(base + "/users"),
                         op: self._action(f"{base}/lifecycle/{op}")}
        return out

    def _app_fields(self, body: Json) -> tuple[Json, Json, Json]:
        """(label etc., credentials.oauthClient, settings.oauthClient) of an OIDC app request."""
        if body.get("signOnMode") != "OPENID_CONNECT" or body.get("name", "oidc_client") != "oidc_client":
            raise _invalid("signOnMode", "This twin provisions OpenID Connect apps (name oidc_client) only")
        label = _text(body, "label", maximum=100)
        creds = _obj(_obj(body.get("credentials")).get("oauthClient"))
        settings = _obj(_obj(body.get("settings")).get("oauthClient"))
        kind = settings.get("application_type", "web")
        if kind not in APP_GRANTS:
            raise _invalid("settings.oauthClient.application_type", f"'{kind}' is not a valid value")
        grants = _strings(settings.get("grant_types"), "settings.oauthClient.grant_types",
                          allowed=APP_GRANTS[kind])
        if "refresh_token" in grants and not {"authorization_code", "password",
                                              "urn:ietf:params:oauth:grant-type:device_code"} & set(grants):
            raise _invalid("settings.oauthClient.grant_types", "refresh_token requires authorization_code")
        responses = _strings(settings.get("response_types", ["code"]), "settings.oauthClient.response_types",
                             allowed={"code", "token", "id_token"})
        if "authorization_code" in grants and "code" not in responses:
            raise _invalid("settings.oauthClient.response_types", "authorization_code requires code")
        redirects = _strings(settings.get("redirect_uris"), "settings.oauthClient.redirect_uris",
                             non_empty={"authorization_code", "implicit"} & set(grants) != set())
        logouts = _strings(settings.get("post_logout_redirect_uris"),
                           "settings.oauthClient.post_logout_redirect_uris", non_empty=False)
        for uri in redirects:
            _absolute_uri(uri, "settings.oauthClient.redirect_uris")
        for uri in logouts:
            _absolute_uri(uri, "settings.oauthClient.post_logout_redirect_uris")
        out_settings: Json = {
            "client_uri": settings.get("client_uri"), "logo_uri": settings.get("logo_uri"),
            "redirect_uris": redirects, "post_logout_redirect_uris": logouts, "response_types": responses,
            "grant_types": grants, "application_type": kind,
            "consent_method": settings.get("consent_method", "TRUSTED"), "issuer_mode": "DYNAMIC",
            "idp_initiated_login": {"mode": "DISABLED", "default_scope": []}, "wildcard_redirect": "DISABLED",
        }
        if out_settings["consent_method"] not in ("TRUSTED", "REQUIRED"):
            raise _invalid("settings.oauthClient.consent_method", "Must be TRUSTED or REQUIRED")
        if settings.get("initiate_login_uri"):
            out_settings["initiate_login_uri"] = _absolute_uri(str(settings["initiate_login_uri"]),
                                                               "settings.oauthClient.initiate_login_uri")
        if settings.get("backchannel_logout_uri"):
            out_settings["backchannel_logout_uri"] = _absolute_uri(
                str(settings["backchannel_logout_uri"]), "settings.oauthClient.backchannel_logout_uri")
        if "refresh_token" in grants:
            refresh = _obj(settings.get("refresh_token"))
            rotation = refresh.get("rotation_type", "ROTATE" if kind == "browser" else "STATIC")
            leeway = refresh.get("leeway", 30)
            if rotation not in ("ROTATE", "STATIC"):
                raise _invalid("settings.oauthClient.refresh_token.rotation_type", "Must be ROTATE or STATIC")
            if isinstance(leeway, bool) or not isinstance(leeway, int) or not 0 <= leeway <= 60:
                raise _invalid("settings.oauthClient.refresh_token.leeway", "Must be between 0 and 60")
            out_settings["refresh_token"] = {"rotation_type": rotation, "leeway": leeway}
        method = creds.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in AUTH_METHODS or (method == "none" and kind in ("web", "service")):
            raise _invalid("credentials.oauthClient.token_endpoint_auth_method",
                           f"'{method}' is not valid here")
        jwks = settings.get("jwks")
        if method == "private_key_jwt":
            keys = _obj(jwks).get("keys")
            if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
                raise _invalid("settings.oauthClient.jwks", "private_key_jwt requires at least one key")
            if any({"d", "p", "q"} & set(k) for k in keys):
                raise _invalid("settings.oauthClient.jwks", "Private keys are not allowed")
            out_settings["jwks"] = {"keys": keys}
        pkce = creds.get("pkce_required", kind in ("browser", "native"))
        if not isinstance(pkce, bool) or (method == "none" and not pkce):
            raise _invalid("credentials.oauthClient.pkce_required", "Must be true for public clients")
        out_creds: Json = {"autoKeyRotation": bool(creds.get("autoKeyRotation", True)),
                           "token_endpoint_auth_method": method, "pkce_required": pkce}
        return {"label": label}, out_creds, out_settings

    def _register(self, app: Json) -> None:
        """The app as a twin client (sign-in with it), or gone when inactive."""
        client_id = app["credentials"]["oauthClient"]["client_id"]
        if app["status"] != "ACTIVE":
            self.twin.clients.pop(client_id, None)
            return
        s = app["settings"]["oauthClient"]
        method = app["credentials"]["oauthClient"]["token_endpoint_auth_method"]
        self.twin.register_client(
            client_id, secret=self.app_secrets.get(app["id"]) if method.startswith("client_secret") else None,
            jwks=s.get("jwks") if method == "private_key_jwt" else None, redirect_uris=s["redirect_uris"],
            post_logout_redirect_uris=s["post_logout_redirect_uris"],
            backchannel_logout_uri=s.get("backchannel_logout_uri"), grant_types=s["grant_types"],
            name=app["label"])

    def _app_object(self, aid: str, client_id: str, fields: Json, creds: Json, settings: Json,
                    status: str, created: str) -> Json:
        return {"id": aid, "name": "oidc_client", **fields, "status": status, "created": created,
                "lastUpdated": self._now(), "signOnMode": "OPENID_CONNECT", "features": [],
                "accessibility": {"selfService": False, "errorRedirectUrl": None, "loginRedirectUrl": None},
                "visibility": {"autoSubmitToolbar": False, "hide": {"iOS": True, "web": True},
                               "appLinks": {}},
                "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
                                "signing": {"kid": None}, "oauthClient": {**creds, "client_id": client_id}},
                "settings": {"app": {}, "notifications": {"vpn": {"network": {"connection": "DISABLED"}}},
                             "oauthClient": settings}}

    async def list_apps(self, request: Request) -> Response:
        q = (request.query_params.get("q") or "").lower()
        items = [a for a in self.apps.values()
                 if not q or a["label"].lower().startswith(q) or a["name"].lower().startswith(q)]
        page, headers = self.twin.mgmt.page(request, items, lambda a: str(a["id"]), default=20, maximum=200)
        return JSONResponse([self._app_json(a) for a in page], headers=headers)

    async def create_app(self, request: Request) -> Response:
        body = await self._body(request)
        fields, creds, settings = self._app_fields(body)
        aid = okta_id("0oa")
        client_id = _obj(_obj(body.get("credentials")).get("oauthClient")).get("client_id") or aid
        if not isinstance(client_id, str) or not _HEX_ENOUGH.match(client_id) or \
                client_id in self.twin.clients:
            raise _invalid("credentials.oauthClient.client_id", "Invalid or already used client_id")
        if creds["token_endpoint_auth_method"].startswith("client_secret"):
            self.app_secrets[aid] = secrets.token_urlsafe(30)
        app = self._app_object(aid, client_id, fields, creds, settings, "ACTIVE", self._now())
        self.apps[aid] = app
        self.app_groups[aid] = {}
        self._register(app)
        return JSONResponse(self._app_json(app, with_secret=True), status_code=200)

    async def get_app(self, request: Request) -> Response:
        return JSONResponse(self._app_json(self._app(request)))

    async def replace_app(self, request: Request) -> Response:
        app = self._app(request)
        body = await self._body(request)
        fields, creds, settings = self._app_fields(body)
        client_id = app["credentials"]["oauthClient"]["client_id"]
        asked = _obj(_obj(body.get("credentials")).get("oauthClient")).get("client_id")
        if asked not in (None, client_id):
            raise _invalid("credentials.oauthClient.client_id", "client_id cannot be changed")
        if creds["token_endpoint_auth_method"].startswith("client_secret"):
            self.app_secrets.setdefault(app["id"], secrets.token_urlsafe(30))
        else:
            self.app_secrets.pop(app["id"], None)
        updated = self._app_object(app["id"], client_id, fields, creds, settings, app["status"],
                                   app["created"])
        self.apps[app["id"]] = updated
        self._register(updated)
        return JSONResponse(self._app_json(updated, with_secret=True))

    async def delete_app(self, request: Request) -> Response:
        app = self._app(request)
        if app["status"] == "ACTIVE":
            raise _invalid("status", "Cannot delete an active application; deactivate it first")
        self.apps.pop(app["id"])
        self.app_groups.pop(app["id"], None)
        self.twin.clients.pop(app["credentials"]["oauthClient"]["client_id"], None)
        return Response(status_code=204)

    async def app_lifecycle(self, request: Request) -> Response:
        app = self._app(request)
        op = request.path_params["op"]
        if op not in ("activate", "deactivate"):
            raise _not_found("Lifecycle operation", op)
        app.update(status="ACTIVE" if op == "activate" else "INACTIVE", lastUpdated=self._now())
        self._register(app)
        return JSONResponse({})

    def _assignment(self, app: Json, gid: str, row: Json) -> Json:
        return {**row, "_links": {"app": self._link(f"/api/v1/apps/{app['id']}"),
                                  "group": self._link(f"/api/v1/groups/{gid}")}}

    async def list_app_groups(self, request: Request) -> Response:
        app = self._app(request)
        rows = self.app_groups[app["id"]].items()
        return JSONResponse([self._assignment(app, gid, row) for gid, row in rows])

    async def get_app_group(self, request: Request) -> Response:
        app = self._app(request)
        row = self.app_groups[app["id"]].get(request.path_params["gid"])
        if row is None:
            raise _not_found("ApplicationGroupAssignment", request.path_params["gid"])
        return JSONResponse(self._assignment(app, request.path_params["gid"], row))

    async def assign_group(self, request: Request) -> Response:
        app = self._app(request)
        gid = request.path_params["gid"]
        if gid not in self.twin.directory.groups:
            raise _not_found("UserGroup", gid)
        body = await self._body(request) if await request.body() else {}
        priority = body.get("priority", len(self.app_groups[app["id"]]))
        row = {"id": gid, "lastUpdated": self._now(), "priority": priority,
               "profile": _obj(body.get("profile"))}
        self.app_groups[app["id"]][gid] = row
        return JSONResponse(self._assignment(app, gid, row))

    async def unassign_group(self, request: Request) -> Response:
        app = self._app(request)
        self.app_groups[app["id"]].pop(request.path_params["gid"], None)
        return Response(status_code=204)

    # -- trusted origins ---------------------------------------------------------------------------
    def _origin(self, request: Request) -> Json:
        origin = self.origins.get(request.path_params["oid"])
        if origin is None:
            raise _not_found("TrustedOrigin", request.path_params["oid"])
        return origin

    def _origin_json(self, origin: Json) -> Json:
        base = f"/api/v1/trustedOrigins/{origin['id']}"
        op = "deactivate" if origin["status"] == "ACTIVE" else "activate"
        return {**origin, "_links": {"self": self._link(base),
                                     op: self._action(f"{base}/lifecycle/{op}")}}

    def _origin_fields(self, body: Json, *, except_id: str | None = None) -> Json:
        name = _text(body, "name", maximum=255)
        origin = _text(body, "origin", maximum=255)
        assert origin is not None
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or \
                parts.query or parts.fragment:
            raise _invalid("origin", f"'{origin}' is not a valid origin (scheme://host[:port])")
        origin = origin.rstrip("/")
        if any(o["origin"].lower() == origin.lower() and o["id"] != except_id for o in self.origins.values()):
            raise _invalid("origin", "An object with this field already exists in the current organization")
        scopes = body.get("scopes")
        kinds = ("CORS", "REDIRECT", "IFRAME_EMBED")
        if not isinstance(scopes, list) or not scopes or not all(
                isinstance(s, dict) and s.get("type") in kinds for s in scopes):
            raise _invalid("scopes", "At least one scope of type CORS, REDIRECT or IFRAME_EMBED is required")
        return {"name": name, "origin": origin, "scopes": [{"type": s["type"]} for s in scopes]}

    async def list_origins(self, request: Request) -> Response:
        q = (request.query_params.get("q") or "").lower()
        items = [o for o in self.origins.values()
                 if not q or o["name"].lower().startswith(q) or o["origin"].lower().startswith(q)]
        page, headers = self.twin.mgmt.page(request, items, lambda o: str(o["id"]), default=20, maximum=200)
        return JSONResponse([self._origin_json(o) for o in page], headers=headers)

    async def create_origin(self, request: Request) -> Response:
        fields = self._origin_fields(await self._body(request))
        oid, now, actor = okta_id("tos"), self._now(), self._actor(request)
        self.origins[oid] = {"id": oid, **fields, "status": "ACTIVE", "created": now, "createdBy": actor,
                             "lastUpdated": now, "lastUpdatedBy": actor}
        return JSONResponse(self._origin_json(self.origins[oid]))

    async def get_origin(self, request: Request) -> Response:
        return JSONResponse(self._origin_json(self._origin(request)))

    async def replace_origin(self, request: Request) -> Response:
        origin = self._origin(request)
        origin.update(self._origin_fields(await self._body(request), except_id=origin["id"]),
                      lastUpdated=self._now(), lastUpdatedBy=self._actor(request))
        return JSONResponse(self._origin_json(origin))

    async def delete_origin(self, request: Request) -> Response:
        self.origins.pop(self._origin(request)["id"])
        return Response(status_code=204)

    async def origin_lifecycle(self, request: Request) -> Response:
        origin = self._origin(request)
        op = request.path_params["op"]
        if op not in ("activate", "deactivate"):
            raise _not_found("Lifecycle operation", op)
        origin.update(status="ACTIVE" if op == "activate" else "INACTIVE", lastUpdated=self._now())
        return JSONResponse(self._origin_json(origin))

    # -- the user profile schema ---------------------------------------------------------------------
    def _schema_json(self) -> Json:
        base: dict[str, Json] = {}
        for name in BASE_ATTRIBUTES:
            prop: Json = {"title": name, "type": "string", "mutability": "READ_WRITE", "scope": "NONE",
                          "permissions": [{"principal": "SELF",
                                           "action": "READ_ONLY" if name == "login" else "READ_WRITE"}],
                          "master": {"type": "PROFILE_MASTER"}}
            if name in ("login", "email", "firstName", "lastName"):
                prop["required"] = True
            if name == "login":
                prop.update(minLength=5, maxLength=100, pattern=".+", unique="UNIQUE_VALIDATED")
            if name == "email":
                prop["format"] = "email"
            base[name] = prop
        url = f"{self.twin.base_url}/meta/schemas/user/default"
        return {
            "id": url, "$schema": "http://json-schema.org/draft-04/schema#", "name": "user", "title": "User",
            "lastUpdated": self.schema_updated, "created": self.schema_updated, "type": "object",
            "definitions": {
                "custom": {"id": "#custom", "type": "object", "properties": dict(self.custom_properties),
                           "required": []},
                "base": {"id": "#base", "type": "object", "properties": base,
                         "required": ["login", "firstName", "lastName", "email"]},
            },
            "properties": {"profile": {"allOf": [{"$ref": "#/definitions/custom"},
                                                 {"$ref": "#/definitions/base"}]}},
            "_links": {"self": {"href": f"{self.twin.base_url}/api/v1/meta/schemas/user/default",
                                "method": "GET", "rel": "self"}},
        }

    def _schema_id(self, request: Request) -> None:
        if request.path_params["schema"] != "default":
            raise _not_found("UserSchema", request.path_params["schema"])

    async def get_schema(self, request: Request) -> Response:
        self._schema_id(request)
        return JSONResponse(self._schema_json())

    def _property(self, name: str, raw: Any) -> Json:
        where = f"definitions.custom.properties.{name}"
        if not isinstance(raw, dict):
            raise _invalid(where, "Must be an object")
        kind = raw.get("type")
        if kind not in PROPERTY_TYPES:
            raise _invalid(f"{where}.type", "Must be one of string, boolean, number, integer, array")
        current = self.custom_properties.get(name)
        if current is not None and current["type"] != kind:
            raise _invalid(f"{where}.type", "The type of an existing property cannot be changed")
        _text(raw, "title", maximum=255)
        prop = {k: v for k, v in raw.items() if k in (
            "title", "description", "type", "items", "enum", "oneOf", "minLength", "maxLength", "pattern",
            "required", "unique", "permissions", "mutability", "scope", "master", "default", "union")}
        if kind == "array":
            items = _obj(raw.get("items"))
            if items.get("type") not in ("string", "integer", "number"):
                raise _invalid(f"{where}.items.type", "Array items must be string, integer or number")
            prop.setdefault("union", "DISABLE")
        if "enum" in raw and raw["enum"] is not None:
            enum = raw["enum"]
            element = str(_obj(raw.get("items")).get("type") if kind == "array" else kind)
            wanted: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,),
                                                   "number": (int, float)}
            want = wanted.get(element)
            if not isinstance(enum, list) or not enum or len(enum) != len({repr(e) for e in enum}) or \
                    (want is not None and not all(isinstance(e, want) for e in enum)):
                raise _invalid(f"{where}.enum", "Must be a non-empty list of unique values of the type")
        for p in prop.get("permissions") or []:
            if not isinstance(p, dict) or p.get("action") not in PERMISSION_ACTIONS or not p.get("principal"):
                raise _invalid(f"{where}.permissions", "Each permission needs a principal and an action "
                                                       "(HIDE, READ_ONLY, READ_WRITE)")
        prop.setdefault("permissions", [{"principal": "SELF", "action": "READ_ONLY"}])
        prop.setdefault("mutability", "READ_WRITE")
        prop.setdefault("scope", "NONE")
        prop.setdefault("master", {"type": "PROFILE_MASTER"})
        prop.setdefault("required", False)
        return prop

    async def update_schema(self, request: Request) -> Response:
        self._schema_id(request)
        body = await self._body(request)
        props = _obj(_obj(_obj(body.get("definitions")).get("custom")).get("properties"))
        base = {n.lower() for n in BASE_ATTRIBUTES}
        staged: dict[str, Json | None] = {}
        for name, raw in props.items():
            if not isinstance(name, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,99}$", name):
                raise _invalid("definitions.custom.properties", f"Invalid property name: {name!r}")
            if name.lower() in base:
                raise _invalid(f"definitions.custom.properties.{name}",
                               "A custom property cannot have the name of a base property")
            clash = next((n for n in self.custom_properties if n.lower() == name.lower() and n != name), None)
            if clash is not None:
                raise _invalid(f"definitions.custom.properties.{name}", f"Conflicts with {clash}")
            staged[name] = None if raw is None else self._property(name, raw)
        for name, prop in staged.items():  # all or nothing
            if prop is None:
                self.custom_properties.pop(name, None)
            else:
                self.custom_properties[name] = prop
        if staged:
            self.schema_updated = self._now()
        return JSONResponse(self._schema_json())

    # -- event hooks --------------------------------------------------------------------------------
    def _hook(self, request: Request) -> tuple[Json, EventHook | None]:
        hid = request.path_params["hid"]
        meta = self._hook_meta(hid)
        if meta is None:
            raise _not_found("EventHook", hid)
        return meta, self._hook_object(hid)

    def _hook_object(self, hid: str) -> EventHook | None:
        return self._hook_objects.get(hid) or next((h for h in self.twin.event_hooks if h.id == hid), None)

    def _hook_meta(self, hid: str) -> Json | None:
        if hid in self.hooks:
            return self.hooks[hid]
        hook = next((h for h in self.twin.event_hooks if h.id == hid), None)
        if hook is None:
            return None
        now = self._now()  # registered in code (bff dev): give it an API face
        self.hooks[hid] = {"id": hid, "name": f"hook {hid}", "description": None, "status": "ACTIVE",
                           "created": now, "createdBy": self.twin.api_admin_id, "lastUpdated": now,
                           "headers": []}
        self._hook_objects[hid] = hook
        return self.hooks[hid]

    def _hook_json(self, meta: Json) -> Json:
        hook = self._hook_object(meta["id"])
        assert hook is not None
        base = f"/api/v1/eventHooks/{meta['id']}"
        op = "deactivate" if meta["status"] == "ACTIVE" else "activate"
        return {
            "id": meta["id"], "status": meta["status"],
            "verificationStatus": "VERIFIED" if hook.verified else "UNVERIFIED",
            "name": meta["name"], "description": meta["description"], "created": meta["created"],
            "createdBy": meta["createdBy"], "lastUpdated": meta["lastUpdated"],
            "events": {"type": "EVENT_TYPE", "items": list(hook.events), "filter": None},
            "channel": {"type": "HTTP", "version": "1.0.0", "config": {
                "uri": hook.url, "headers": list(meta["headers"]), "method": "POST",
                "authScheme": {"type": "HEADER", "key": hook.auth_header}}},
            "_links": {"self": self._link(base), "verify": {**self._link(f"{base}/lifecycle/verify"),
                                                            "hints": {"allow": ["POST"]}},
                       op: self._action(f"{base}/lifecycle/{op}")},
        }

    def _hook_fields(self, body: Json, *, creating: bool, except_id: str | None = None) -> Json:
        name = _text(body, "name", maximum=255)
        if any(m["name"] == name and m["id"] != except_id for m in self.hooks.values()):
            raise _invalid("name", "An event hook with this name already exists")
        events = _obj(body.get("events"))
        if events.get("type") != "EVENT_TYPE":
            raise _invalid("events.type", "Must be EVENT_TYPE")
        items = _strings(events.get("items"), "events.items", allowed=HOOK_EVENTS)
        channel = _obj(body.get("channel"))
        if channel.get("type") != "HTTP" or channel.get("version") != "1.0.0":
            raise _invalid("channel", "type must be HTTP and version 1.0.0")
        config = _obj(channel.get("config"))
        uri = _text(config, "uri", maximum=1024)
        assert uri is not None
        _absolute_uri(uri, "channel.config.uri")
        auth = _obj(config.get("authScheme"))
        if auth and (auth.get("type") != "HEADER" or not auth.get("key")):
            raise _invalid("channel.config.authScheme", "type must be HEADER, with a key")
        value = auth.get("value")
        if creating and not (isinstance(value, str) and value):
            raise _invalid("channel.config.authScheme.value", "The field cannot be left blank")
        headers = config.get("headers") or []
        if not isinstance(headers, list) or not all(isinstance(h, dict) and h.get("key") for h in headers):
            raise _invalid("channel.config.headers", "Each header needs a key and a value")
        return {"name": name, "description": body.get("description"), "events": items, "uri": uri,
                "auth_header": auth.get("key") or "Authorization", "auth_value": value,
                "headers": [{"key": h["key"], "value": h.get("value")} for h in headers]}

    async def list_hooks(self, request: Request) -> Response:
        ids = list(dict.fromkeys([*self.hooks, *(h.id for h in self.twin.event_hooks)]))
        metas = [m for m in (self._hook_meta(i) for i in ids) if m is not None]
        return JSONResponse([self._hook_json(m) for m in metas])

    async def create_hook(self, request: Request) -> Response:
        fields = self._hook_fields(await self._body(request), creating=True)
        hook = self.twin.register_event_hook(fields["uri"], auth_header=fields["auth_header"],
                                             auth_value=fields["auth_value"], events=fields["events"])
        now = self._now()
        self.hooks[hook.id] = {"id": hook.id, "name": fields["name"], "description": fields["description"],
                               "status": "ACTIVE", "created": now, "createdBy": self._actor(request),
                               "lastUpdated": now, "headers": fields["headers"]}
        self._hook_objects[hook.id] = hook
        return JSONResponse(self._hook_json(self.hooks[hook.id]))

    async def get_hook(self, request: Request) -> Response:
        return JSONResponse(self._hook_json(self._hook(request)[0]))

    async def replace_hook(self, request: Request) -> Response:
        meta, hook = self._hook(request)
        assert hook is not None
        fields = self._hook_fields(await self._body(request), creating=False, except_id=meta["id"])
        if fields["uri"] != hook.url:
            hook.verified = False
        hook.url, hook.auth_header = fields["uri"], fields["auth_header"]
        hook.events = tuple(fields["events"])
        if fields["auth_value"]:
            hook.auth_value = fields["auth_value"]
        meta.update(name=fields["name"], description=fields["description"], headers=fields["headers"],
                    lastUpdated=self._now())
        return JSONResponse(self._hook_json(meta))

    async def delete_hook(self, request: Request) -> Response:
        meta, hook = self._hook(request)
        if meta["status"] == "ACTIVE":
            raise _invalid("status", "Cannot delete an active event hook; deactivate it first")
        self.hooks.pop(meta["id"])
        self._hook_objects.pop(meta["id"], None)
        return Response(status_code=204)

    async def hook_lifecycle(self, request: Request) -> Response:
        meta, hook = self._hook(request)
        assert hook is not None
        op = request.path_params["op"]
        if op == "verify":
            if meta["status"] != "ACTIVE":
                raise _invalid("status", "Only an active event hook can be verified")
            if not await self.twin.hooks.verify(hook):
                raise _invalid("verification", "Verification failed: the endpoint did not answer the "
                                               "challenge with {\"verification\": <challenge>}")
            return JSONResponse(self._hook_json(meta))
        if op not in ("activate", "deactivate"):
            raise _not_found("Lifecycle operation", op)
        meta.update(status="ACTIVE" if op == "activate" else "INACTIVE", lastUpdated=self._now())
        # Only active hooks receive events: the twin delivers to twin.event_hooks.
        if op == "deactivate" and hook in self.twin.event_hooks:
            self.twin.event_hooks.remove(hook)
        elif op == "activate" and hook not in self.twin.event_hooks:
            self.twin.event_hooks.append(hook)
        return JSONResponse(self._hook_json(meta))


def install_provisioning(twin: OktaTwin) -> Provisioning:
    """Mount the provisioning endpoints on ``twin`` (works while it serves) and return their state."""
    provisioning = Provisioning(twin)
    twin.add_routes(provisioning.routes())
    return provisioning


__all__: list[str] = ["Provisioning", "install_provisioning"]

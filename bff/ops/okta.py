"""``bff okta plan|apply``: provision the Okta side of the design from a config file, idempotently.

``plan`` reads the org and prints what ``apply`` would change; ``apply`` runs the same plan
first, refuses to continue when the policy audit fails, then makes exactly those changes and
prints each one as it lands. A second ``apply`` makes no write at all.

One code path does both: :class:`Reconciler` reads the current state, compares it with the
desired state field by field (only the fields the config manages; lists of strings as sets),
and either records the change (plan) or sends it (apply). Objects that a plan would create get
a placeholder id, so the plan can go on describing what depends on them.

Order (each step needs ids from the ones before): groups → user-profile schema → authorization
server → scopes → claims → web app (+ group assignments) → access policy → its rules → other
policies to deactivate → trusted origins → event hook (+ activation, verification).

Updates are Okta's full replacements (``PUT``), built from the object as read with the managed
fields overlaid, so fields this tool does not manage are kept. Nothing is ever deleted except
rules inside the managed access policy that the config no longer lists (a stray rule there
could grant the guarded scope).

**The policy audit.** Okta evaluates access policies and their rules in priority order and
takes the FIRST match; a request that matches no rule of our policy falls through to the next
policy. A non-admin asking for ``admin`` matches neither of our rules, so if a lower policy
(a dev org's "Default Policy": all clients, Everyone, any scope) matches, Okta grants
``admin`` to everyone. The audit simulates that request against every active policy that
applies to the client and fails the run (exit 3, nothing applied) if any rule outside the
allowed groups would grant a custom scope. Fix: list that policy in
``authorization_server.deactivate_policies``, or give the BFF its own authorization server.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bff.config import ConfigError
from bff.okta import AsyncOktaClient, OktaError, RetryPolicy, management_auth
from bff.ops.okta_config import (
    EVERYONE,
    AttributeSpec,
    OktaConfig,
    RuleSpec,
    load_config,
)

#: What the OAuth service app needs (granted to it in Okta: Okta API Scopes tab).
ADMIN_SCOPES = (
    "okta.authorizationServers.manage", "okta.authorizationServers.read",
    "okta.apps.manage", "okta.apps.read",
    "okta.groups.manage", "okta.groups.read",
    "okta.trustedOrigins.manage", "okta.trustedOrigins.read",
    "okta.schemas.manage", "okta.schemas.read",
    "okta.eventHooks.manage", "okta.eventHooks.read",
)
#: An operator is waiting, not a browser: sit through a whole rate-limit window (Okta's are a
#: minute), retry reads on 5xx and connection errors after 2, 4 and 8 s. Writes are not retried
#: on 5xx (Okta may have applied them): the next ``plan`` shows where things stand.
RETRY = RetryPolicy(attempts=4, max_wait=60.0, margin=1.0, backoff=2.0, max_backoff=10.0)
READ_ONLY_FIELDS = frozenset({"_links", "_embedded", "created", "lastUpdated", "createdBy", "lastUpdatedBy",
                              "lastMembershipUpdated", "objectClass"})
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_UNSAFE = 0, 1, 2, 3
_SYMBOL = {"create": "+", "update": "~", "delete": "-", "deactivate": "-", "activate": "~", "assign": "+",
           "verify": "?"}


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete | activate | deactivate | assign | verify
    kind: str
    name: str
    details: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        head = f"{_SYMBOL.get(self.action, '~')} {self.action:<10} {self.kind} {self.name}"
        return [head] + [f"      {d}" for d in self.details]


@dataclass
class Report:
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the run must not (or did not fully) succeed
    outputs: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def is_new(object_id: str | None) -> bool:
    return object_id is None or object_id.startswith("(new")


def _norm(value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    if isinstance(value, list):
        if all(isinstance(v, str | int | float | bool) for v in value):
            return tuple(sorted({json.dumps(v) for v in value}))
        return tuple(sorted(json.dumps(v, sort_keys=True) for v in value))
    return value


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True)


def diff(current: Any, desired: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``field: old -> new`` for every leaf of ``desired`` that ``current`` does not match."""
    out: list[str] = []
    for key, want in desired.items():
        have = current.get(key) if isinstance(current, Mapping) else None
        if isinstance(want, Mapping) and want:
            out += diff(have if isinstance(have, Mapping) else {}, want, f"{prefix}{key}.")
        elif _norm(have) != _norm(want):
            out.append(f"{prefix}{key}: {_show(have)} -> {_show(want)}")
    return out


def merged(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` without read-only fields, with ``desired`` laid over it (a PUT body)."""
    out = {k: copy.deepcopy(v) for k, v in current.items() if k not in READ_ONLY_FIELDS}

    def overlay(base: dict[str, Any], top: Mapping[str, Any]) -> None:
        for key, value in top.items():
            if isinstance(value, Mapping) and isinstance(base.get(key), dict):
                overlay(base[key], value)
            else:
                base[key] = copy.deepcopy(value)

    overlay(out, desired)
    return out


class Reconciler:
    """Compares the config with the org and records (plan) or makes (apply) the changes."""

    def __init__(self, api: AsyncOktaClient, config: OktaConfig, *, apply: bool,
                 hook_secret: str | None = None, update_hook_secret: bool = False,
                 out: Callable[[str], None] | None = None) -> None:
        self.api = api
        self.config = config
        self.apply = apply
        self.hook_secret = hook_secret
        self.update_hook_secret = update_hook_secret
        self.out = out or (lambda line: None)
        self.report = Report()
        self.group_ids: dict[str, str] = {}
        self.server_id: str | None = None
        self.client_id: str | None = None
        self.policy_id: str | None = None
        self._policies: list[dict[str, Any]] = []
        self._rules: dict[str, list[dict[str, Any]]] = {}
        self.writes = 0  # writes sent and accepted by Okta (POST/PUT/DELETE)

    # -- the run --------------------------------------------------------------------------
    async def run(self) -> Report:
        await self.groups()
        await self.profile_schema()
        await self.authorization_server()
        await self.scopes()
        await self.claims()
        await self.app()
        await self.access_policy()
        await self.deactivate_policies()
        await self.trusted_origins()
        await self.event_hook()
        await self.audit()
        return self.report

    async def _write(self, change: Change, method: str, path: str, body: Any = None,
                     placeholder: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.report.changes.append(change)
        if not self.apply:
            return {"id": f"(new {change.kind})", **(placeholder or {})}
        result = await self._send(method, path, body)
        for line in change.lines():
            self.out("  " + line)
        return result if isinstance(result, dict) else {}

    async def _send(self, method: str, path: str, body: Any = None) -> Any:
        result: Any = None
        if method == "POST":
            result = await self.api.post(path, body)
        elif method == "PUT":
            result = await self.api.put(path, body)
        else:
            await self.api.delete(path)
        self.writes += 1
        return result

    def _same(self, kind: str, name: str) -> None:
        self.report.unchanged.append(f"{kind} {name}")

    # -- groups ---------------------------------------------------------------------------
    async def _find_group(self, name: str) -> dict[str, Any] | None:
        found = await self.api.list_all("/api/v1/groups", {"q": name})
        exact = [g for g in found if (g.get("profile") or {}).get("name") == name]
        return exact[0] if exact else None

    async def groups(self) -> None:
        for spec in self.config.groups:
            current = await self._find_group(spec.name)
            desired = {"profile": {"name": spec.name, "description": spec.description}}
            if current is None:
                created = await self._write(Change("create", "group", spec.name), "POST", "/api/v1/groups",
                                            desired)
                self.group_ids[spec.name] = str(created["id"])
                continue
            self.group_ids[spec.name] = str(current["id"])
            changes = diff(current, desired)
            if changes:
                body = {"profile": {**(current.get("profile") or {}), **desired["profile"]}}
                await self._write(Change("update", "group", spec.name, tuple(changes)), "PUT",
                                  f"/api/v1/groups/{current['id']}", body)
            else:
                self._same("group", spec.name)
        referenced = {g for r in (self.config.policy.rules if self.config.policy else ()) for g in r.groups}
        referenced |= set(self.config.app.assign_groups if self.config.app else ())
        for name in sorted(referenced - set(self.group_ids)):
            current = await self._find_group(name)
            if current is None:
                self.report.problems.append(f"group {name!r} is referenced but neither exists in Okta nor is "
                                            "declared in [[groups]]")
            else:
                self.group_ids[name] = str(current["id"])

    # -- user profile schema ----------------------------------------------------------------
    @staticmethod
    def _attribute(spec: AttributeSpec) -> dict[str, Any]:
        prop: dict[str, Any] = {"title": spec.title, "description": spec.description, "type": spec.type,
                                "permissions": [{"principal": "SELF", "action": spec.self_access}]}
        if spec.items_type:
            prop["items"] = {"type": spec.items_type}
        if spec.enum is not None:
            prop["enum"] = list(spec.enum)
        if spec.max_length is not None:
            prop["maxLength"] = spec.max_length
        return prop

    async def profile_schema(self) -> None:
        if not self.config.profile_attributes:
            return
        schema = await self.api.get("/api/v1/meta/schemas/user/default")
        definitions = schema.get("definitions", {}) if isinstance(schema, dict) else {}
        base = (definitions.get("base") or {}).get("properties") or {}
        custom = (definitions.get("custom") or {}).get("properties") or {}
        updates: dict[str, Any] = {}
        changes: list[Change] = []
        for spec in self.config.profile_attributes:
            if spec.name in base:
                self.report.problems.append(f"profile attribute {spec.name!r} is an Okta base attribute")
                continue
            desired = self._attribute(spec)
            current = custom.get(spec.name)
            if current is None:
                updates[spec.name] = {**desired, "required": False, "mutability": "READ_WRITE",
                                      "scope": "NONE", "master": {"type": "PROFILE_MASTER"}}
                changes.append(Change("create", "profile attribute", spec.name,
                                      (f"type {spec.type}, self access {spec.self_access}",)))
                continue
            if current.get("type") != spec.type:
                self.report.problems.append(
                    f"profile attribute {spec.name!r} is a {current.get('type')} in Okta, the config says "
                    f"{spec.type}: Okta cannot change a type in place (migrate the data, delete, re-create)")
                continue
            compared = {k: v for k, v in desired.items() if k != "permissions"}
            found = diff(current, compared)
            self_access = next((p.get("action") for p in current.get("permissions") or []
                                if p.get("principal") == "SELF"), "READ_ONLY")
            if self_access != spec.self_access:
                found.append(f"permissions.SELF: {self_access} -> {spec.self_access}")
            if found:
                others = [p for p in current.get("permissions") or [] if p.get("principal") != "SELF"]
                permissions = [*others, *desired["permissions"]]
                updates[spec.name] = merged(current, {**desired, "permissions": permissions})
                changes.append(Change("update", "profile attribute", spec.name, tuple(found)))
            else:
                self._same("profile attribute", spec.name)
        if not updates:
            return
        # One partial update carries every attribute (Okta merges `definitions.custom.properties`).
        body = {"definitions": {"custom": {"id": "#custom", "type": "object", "properties": updates}}}
        self.report.changes.extend(changes)
        if self.apply:
            await self._send("POST", "/api/v1/meta/schemas/user/default", body)
            for change in changes:
                for line in change.lines():
                    self.out("  " + line)

    # -- authorization server -------------------------------------------------------------
    async def authorization_server(self) -> None:
        spec = self.config.authorization_server
        found = await self.api.list_all("/api/v1/authorizationServers", {"q": spec.name})
        current = next((s for s in found if s.get("name") == spec.name), None)
        desired = {"name": spec.name, "description": spec.description, "audiences": [spec.audience]}
        if current is None:
            created = await self._write(Change("create", "authorization server", spec.name,
                                               (f"audience {spec.audience}",)),
                                        "POST", "/api/v1/authorizationServers", desired,
                                        placeholder={"issuer": "(known after apply)"})
            self.server_id = str(created["id"])
            self.report.outputs["OktaIssuer"] = str(created.get("issuer", ""))
        else:
            self.server_id = str(current["id"])
            self.report.outputs["OktaIssuer"] = str(current.get("issuer", ""))
            changes = diff(current, desired)
            if any(c.startswith("audiences") for c in changes):
                self.report.warnings.append("the audience changes: update the stack's OktaAudience "
                                            "parameter; old-audience tokens stop passing the admin API")
            if changes:
                await self._write(Change("update", "authorization server", spec.name, tuple(changes)), "PUT",
                                  f"/api/v1/authorizationServers/{self.server_id}", merged(current, desired))
            else:
                self._same("authorization server", spec.name)
            if current.get("status") == "INACTIVE":
                await self._write(Change("activate", "authorization server", spec.name), "POST",
                                  f"/api/v1/authorizationServers/{self.server_id}/lifecycle/activate")
        self.report.outputs["OktaAudience"] = spec.audience

    def _server_path(self, suffix: str = "") -> str:
        return f"/api/v1/authorizationServers/{quote(str(self.server_id), safe='')}{suffix}"

    async def _server_list(self, suffix: str) -> list[dict[str, Any]]:
        return [] if is_new(self.server_id) else await self.api.list_all(self._server_path(suffix))

    # -- scopes and claims ----------------------------------------------------------------
    async def scopes(self) -> None:
        current_by_name = {s.get("name"): s for s in await self._server_list("/scopes")}
        for spec in self.config.scopes:
            desired: dict[str, Any] = {"name": spec.name, "description": spec.description,
                                       "consent": spec.consent, "metadataPublish": spec.metadata_publish,
                                       "default": False}
            if spec.display_name:
                desired["displayName"] = spec.display_name
            current = current_by_name.get(spec.name)
            if current is None:
                await self._write(Change("create", "scope", spec.name), "POST", self._server_path("/scopes"),
                                  desired)
                continue
            changes = diff(current, desired)
            if changes:
                await self._write(Change("update", "scope", spec.name, tuple(changes)), "PUT",
                                  self._server_path(f"/scopes/{current['id']}"), merged(current, desired))
            else:
                self._same("scope", spec.name)

    async def claims(self) -> None:
        current = {(c.get("name"), c.get("claimType")): c for c in await self._server_list("/claims")}
        for spec in self.config.claims:
            desired: dict[str, Any] = {
                "name": spec.name, "status": "ACTIVE", "claimType": spec.claim_type,
                "valueType": spec.value_type, "value": spec.value,
                "alwaysIncludeInToken": spec.always_include,
                "conditions": {"scopes": list(spec.scopes)},
            }
            if spec.group_filter_type:
                desired["group_filter_type"] = spec.group_filter_type
            label = f"{spec.name} ({spec.target} token)"
            have = current.get((spec.name, spec.claim_type))
            if have is None:
                detail = f"{spec.value_type} {spec.value}" + (f" when {', '.join(spec.scopes)} granted"
                                                              if spec.scopes else "")
                await self._write(Change("create", "claim", label, (detail,)), "POST",
                                  self._server_path("/claims"), desired)
                continue
            if have.get("system"):
                self.report.warnings.append(f"claim {label} is an Okta system claim; left as it is")
                continue
            changes = diff(have, {**desired, "conditions": {"scopes": list(spec.scopes) or None}})
            if changes:
                await self._write(Change("update", "claim", label, tuple(changes)), "PUT",
                                  self._server_path(f"/claims/{have['id']}"), merged(have, desired))
            else:
                self._same("claim", label)

    # -- the web app ------------------------------------------------------------------------
    async def app(self) -> None:
        spec = self.config.app
        if spec is None:
            return
        oauth: dict[str, Any] = {
            "redirect_uris": list(spec.redirect_uris),
            "post_logout_redirect_uris": list(spec.post_logout_redirect_uris),
            "response_types": ["code"],
            "grant_types": list(spec.grant_types),
            "application_type": "web",
            "consent_method": spec.consent_method,
        }
        if "refresh_token" in spec.grant_types:
            oauth["refresh_token"] = {"rotation_type": spec.refresh_token_rotation,
                                      "leeway": spec.refresh_token_leeway}
        if spec.initiate_login_uri:
            oauth["initiate_login_uri"] = spec.initiate_login_uri
        desired: dict[str, Any] = {
            "name": "oidc_client", "label": spec.label, "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": spec.token_endpoint_auth_method,
                                            "pkce_required": spec.pkce_required, "autoKeyRotation": True}},
            "settings": {"oauthClient": oauth},
        }
        found = await self.api.list_all("/api/v1/apps", {"q": spec.label})
        current = next((a for a in found if a.get("label") == spec.label
                        and a.get("signOnMode") == "OPENID_CONNECT" and a.get("status") != "DELETED"), None)
        if current is None:
            body = copy.deepcopy(desired)
            if spec.backchannel_logout_uri:
                body["settings"]["oauthClient"]["backchannel_logout_uri"] = spec.backchannel_logout_uri
            if spec.jwks is not None:
                body["settings"]["oauthClient"]["jwks"] = spec.jwks
            pkce = "required" if spec.pkce_required else "optional"
            created = await self._write(Change("create", "app", spec.label, (
                f"{spec.token_endpoint_auth_method}, PKCE {pkce}, "
                f"refresh {spec.refresh_token_rotation.lower()}",
                *[f"redirect {u}" for u in spec.redirect_uris])), "POST", "/api/v1/apps", body)
            oauth_client = (created.get("credentials") or {}).get("oauthClient") or {}
            self.client_id = str(oauth_client.get("client_id") or created["id"])
            secret = oauth_client.get("client_secret")
            if isinstance(secret, str) and secret:
                self.report.secrets["BFF_OKTA_CLIENT_SECRET"] = secret
            app_id = str(created["id"])
        else:
            app_id = str(current["id"])
            oauth_client = (current.get("credentials") or {}).get("oauthClient") or {}
            self.client_id = str(oauth_client.get("client_id") or app_id)
            changes = diff(current, desired)
            current_oauth = (current.get("settings") or {}).get("oauthClient") or {}
            if spec.backchannel_logout_uri:
                if "backchannel_logout_uri" in current_oauth:
                    if current_oauth["backchannel_logout_uri"] != spec.backchannel_logout_uri:
                        changes.append(f"settings.oauthClient.backchannel_logout_uri: "
                                       f"{_show(current_oauth['backchannel_logout_uri'])} -> "
                                       f"{_show(spec.backchannel_logout_uri)}")
                        oauth["backchannel_logout_uri"] = spec.backchannel_logout_uri
                else:
                    self.report.warnings.append(
                        "this org does not keep an OIDC back-channel logout URI on apps (no such field in "
                        "Okta's Apps API): sessions then end at their idle/absolute limits, or on sign-out")
            if spec.jwks is not None and _fingerprints(current_oauth.get("jwks")) != _fingerprints(spec.jwks):
                changes.append("settings.oauthClient.jwks: keys differ")
                oauth["jwks"] = spec.jwks
            if changes:
                body = merged(current, desired)
                body.get("credentials", {}).get("oauthClient", {}).pop("client_secret", None)
                await self._write(Change("update", "app", spec.label, tuple(changes)), "PUT",
                                  f"/api/v1/apps/{app_id}", body)
            else:
                self._same("app", spec.label)
            if current.get("status") == "INACTIVE":
                await self._write(Change("activate", "app", spec.label), "POST",
                                  f"/api/v1/apps/{app_id}/lifecycle/activate")
        self.report.outputs["OktaClientId"] = self.client_id or ""
        if spec.email_verify_callback_uri:
            # Okta's Apps API documents no field for it: the Admin Console is the only way.
            self.report.warnings.append(
                f"set by hand: the app's Email verify callback URI = {spec.email_verify_callback_uri} "
                "(Admin Console → Applications → the app → General → Email verification experience); "
                "Okta's Apps API has no documented field for it (docs/signin.md)")
        assigned = set() if is_new(app_id) else {g.get("id") for g in
                                                  await self.api.list_all(f"/api/v1/apps/{app_id}/groups")}
        for name in spec.assign_groups:
            gid = self.group_ids.get(name)
            if gid is None:
                continue  # reported by groups()
            if gid in assigned:
                self._same("app assignment", f"{spec.label} <- {name}")
                continue
            await self._write(Change("assign", "app", f"{spec.label} <- group {name}"), "PUT",
                              f"/api/v1/apps/{app_id}/groups/{gid}", {})

    # -- the access policy and its rules --------------------------------------------------------
    def _rule_body(self, spec: RuleSpec, priority: int) -> dict[str, Any]:
        return {
            "type": "RESOURCE_ACCESS", "status": "ACTIVE", "name": spec.name, "priority": priority,
            "conditions": {
                "people": {"groups": {"include": [self.group_ids.get(g, f"(unknown group {g})")
                                                  for g in spec.groups]}},
                "grantTypes": {"include": list(spec.grant_types)},
                "scopes": {"include": list(spec.scopes)},
            },
            "actions": {"token": {"accessTokenLifetimeMinutes": spec.access_token_minutes,
                                  "refreshTokenLifetimeMinutes": spec.refresh_token_lifetime_minutes,
                                  "refreshTokenWindowMinutes": spec.refresh_token_window_minutes}},
        }

    async def access_policy(self) -> None:
        self._policies = await self._server_list("/policies")
        spec = self.config.policy
        if spec is None:
            return
        client = self.client_id or "ALL_CLIENTS"
        desired = {"type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE", "name": spec.name,
                   "description": spec.description, "priority": 1,
                   "conditions": {"clients": {"include": [client]}}}
        current = next((p for p in self._policies if p.get("name") == spec.name), None)
        if current is None:
            created = await self._write(Change("create", "access policy", spec.name,
                                               (f"for client {client}, priority 1",)),
                                        "POST", self._server_path("/policies"), desired)
            self.policy_id = str(created["id"])
            existing_rules: list[dict[str, Any]] = []
        else:
            self.policy_id = str(current["id"])
            changes = diff(current, desired)
            if changes:
                await self._write(Change("update", "access policy", spec.name, tuple(changes)), "PUT",
                                  self._server_path(f"/policies/{self.policy_id}"), merged(current, desired))
            else:
                self._same("access policy", spec.name)
            existing_rules = await self.api.list_all(self._server_path(f"/policies/{self.policy_id}/rules"))
        by_name = {r.get("name"): r for r in existing_rules}
        rules_path = self._server_path(f"/policies/{self.policy_id}/rules")
        for priority, rule in enumerate(spec.rules, start=1):
            body = self._rule_body(rule, priority)
            have = by_name.get(rule.name)
            label = f"{spec.name} / {rule.name}"
            summary = (f"{', '.join(rule.groups)}: {' '.join(rule.scopes)}",)
            if have is None:
                await self._write(Change("create", "policy rule", label, summary), "POST", rules_path, body)
                continue
            changes = diff(have, body)
            if changes:
                await self._write(Change("update", "policy rule", label, tuple(changes)), "PUT",
                                  f"{rules_path}/{have['id']}", merged(have, body))
            else:
                self._same("policy rule", label)
        wanted = {r.name for r in spec.rules}
        for name, have in by_name.items():
            if name not in wanted and not have.get("system"):
                await self._write(Change("delete", "policy rule", f"{spec.name} / {name}",
                                         ("not in the config: a stray rule could grant the guarded scopes",)),
                                  "DELETE", f"{rules_path}/{have['id']}")

    async def deactivate_policies(self) -> None:
        for name in self.config.authorization_server.deactivate_policies:
            current = next((p for p in self._policies if p.get("name") == name), None)
            if current is None:
                if not is_new(self.server_id):
                    self.report.warnings.append(f"deactivate_policies: no policy named {name!r}")
                continue
            if current.get("status") == "INACTIVE":
                self._same("inactive policy", name)
                continue
            await self._write(Change("deactivate", "access policy", name,
                                     ("listed in authorization_server.deactivate_policies",)),
                              "POST", self._server_path(f"/policies/{current['id']}/lifecycle/deactivate"))

    # -- trusted origins ------------------------------------------------------------------------
    async def trusted_origins(self) -> None:
        if not self.config.trusted_origins:
            return
        existing = {str(o.get("origin", "")).rstrip("/").lower(): o
                    for o in await self.api.list_all("/api/v1/trustedOrigins")}
        for spec in self.config.trusted_origins:
            desired = {"name": spec.name, "origin": spec.origin, "scopes": [{"type": t} for t in spec.scopes]}
            current = existing.get(spec.origin.lower())
            if current is None:
                await self._write(Change("create", "trusted origin", spec.origin, (" ".join(spec.scopes),)),
                                  "POST", "/api/v1/trustedOrigins", desired)
                continue
            have_scopes = sorted({str(s.get("type")) for s in current.get("scopes") or []})
            changes = diff(current, {"name": spec.name, "origin": spec.origin})
            if have_scopes != sorted(spec.scopes):
                changes.append(f"scopes: {' '.join(have_scopes)} -> {' '.join(sorted(spec.scopes))}")
            if changes:
                await self._write(Change("update", "trusted origin", spec.origin, tuple(changes)), "PUT",
                                  f"/api/v1/trustedOrigins/{current['id']}", merged(current, desired))
            else:
                self._same("trusted origin", spec.origin)
            if current.get("status") == "INACTIVE":
                await self._write(Change("activate", "trusted origin", spec.origin), "POST",
                                  f"/api/v1/trustedOrigins/{current['id']}/lifecycle/activate")

    # -- the event hook -------------------------------------------------------------------------
    async def event_hook(self) -> None:
        spec = self.config.event_hook
        if spec is None:
            return
        desired: dict[str, Any] = {
            "name": spec.name,
            "events": {"type": "EVENT_TYPE", "items": list(spec.events)},
            "channel": {"type": "HTTP", "version": "1.0.0",
                        "config": {"uri": spec.uri,
                                   "authScheme": {"type": "HEADER", "key": spec.auth_header}}},
        }
        hooks = await self.api.list_all("/api/v1/eventHooks")
        current = next((h for h in hooks if h.get("name") == spec.name), None)

        def with_secret(body: dict[str, Any]) -> dict[str, Any] | None:
            if not self.hook_secret:
                self.report.problems.append("BFF_OKTA_HOOK_SECRET is required to create or update the event "
                                            "hook (Okta sends it as the hook's Authorization header)")
                return None
            body["channel"]["config"]["authScheme"]["value"] = self.hook_secret
            return body

        if current is None:
            body = with_secret(copy.deepcopy(desired))
            if body is None:
                return
            created = await self._write(Change("create", "event hook", spec.name,
                                               (f"{' '.join(spec.events)} -> {spec.uri}",)),
                                        "POST", "/api/v1/eventHooks", body,
                                        placeholder={"verificationStatus": "UNVERIFIED"})
            hook_id, verified = str(created["id"]), created.get("verificationStatus") == "VERIFIED"
        else:
            hook_id, verified = str(current["id"]), current.get("verificationStatus") == "VERIFIED"
            changes = diff(current, desired)
            if self.update_hook_secret:
                changes.append("channel.config.authScheme.value: (secret replaced)")
            if changes:
                body = with_secret(merged(current, desired))
                if body is None:
                    return
                await self._write(Change("update", "event hook", spec.name, tuple(changes)), "PUT",
                                  f"/api/v1/eventHooks/{hook_id}", body)
                # Okta keeps the verification; a new URI must prove it is ours again.
                verified = verified and not any(c.startswith("channel.config.uri") for c in changes)
            else:
                self._same("event hook", spec.name)
            if current.get("status") == "INACTIVE":
                await self._write(Change("activate", "event hook", spec.name), "POST",
                                  f"/api/v1/eventHooks/{hook_id}/lifecycle/activate")
        if spec.verify and not verified:
            change = Change("verify", "event hook", spec.name,
                            (f"Okta calls GET {spec.uri} with a challenge",))
            try:
                result = await self._write(change, "POST", f"/api/v1/eventHooks/{hook_id}/lifecycle/verify")
            except OktaError as exc:
                self.report.problems.append(f"event hook verification failed: {exc.summary} "
                                            f"({'; '.join(exc.causes) or exc.code}): is the BFF deployed at "
                                            f"{spec.uri} with the same BFF_OKTA_HOOK_SECRET? (If the secret "
                                            "was wrong, apply again with --update-hook-secret.)")
                return
            if self.apply and result.get("verificationStatus") != "VERIFIED":
                status = result.get("verificationStatus")
                self.report.problems.append(f"event hook {spec.name!r} is still {status}")

    # -- the policy audit -----------------------------------------------------------------------
    async def audit(self) -> None:
        """Would any active rule grant a custom scope to someone outside the groups our rules name?"""
        spec = self.config.policy
        if spec is None or not self.config.custom_scopes:
            return
        everyone = self.group_ids.get(EVERYONE) or (await self._find_group(EVERYONE) or {}).get("id")
        allowed: dict[str, set[str]] = {}
        for rule in spec.rules:
            for scope in self.config.custom_scopes:
                if scope in rule.scopes or "*" in rule.scopes:
                    allowed.setdefault(scope, set()).update(self.group_ids.get(g, g) for g in rule.groups)
        names = {v: k for k, v in self.group_ids.items()}
        deactivated = set(self.config.authorization_server.deactivate_policies)
        for policy in self._policies:
            if policy.get("name") == spec.name or policy.get("status") != "ACTIVE" or \
                    policy.get("name") in deactivated:
                continue
            clients = set((((policy.get("conditions") or {}).get("clients") or {}).get("include")) or [])
            if "ALL_CLIENTS" not in clients and (self.client_id is None or self.client_id not in clients):
                continue
            for found in await self.api.list_all(self._server_path(f"/policies/{policy['id']}/rules")):
                if found.get("status") != "ACTIVE":
                    continue
                conditions = found.get("conditions") or {}
                grants = set((conditions.get("grantTypes") or {}).get("include") or [])
                if "authorization_code" not in grants:
                    continue
                scopes = set((conditions.get("scopes") or {}).get("include") or [])
                people = conditions.get("people") or {}
                groups = set((people.get("groups") or {}).get("include") or [])
                users = set((people.get("users") or {}).get("include") or [])
                for scope in sorted(self.config.custom_scopes):
                    if scope not in scopes and "*" not in scopes:
                        continue
                    outside = {g for g in groups if g not in allowed.get(scope, set())}
                    if outside or users:
                        who = ", ".join(sorted(names.get(g, EVERYONE if g in ("EVERYONE", everyone) else g)
                                               for g in outside)) or f"{len(users)} individual user(s)"
                        self.report.problems.append(
                            f"policy audit: {policy.get('name')!r} (priority {policy.get('priority')}) rule "
                            f"{found.get('name')!r} grants {scope!r} to {who}; Okta falls through to it when "
                            f"our rules do not match, so {scope!r} is not guarded. Add the policy to "
                            "authorization_server.deactivate_policies, or use a dedicated authorization "
                            "server.")


def _fingerprints(jwks: Any) -> set[str]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    return {f"{k.get('kty')}:{k.get('kid')}:{k.get('n') or k.get('x')}"
            for k in keys or [] if isinstance(k, dict)}


# -- the command ------------------------------------------------------------------------------
def _print_report(report: Report, *, title: str, verbose: bool, out: Callable[[str], None]) -> None:
    out(title)
    for change in report.changes:
        for line in change.lines():
            out("  " + line)
    if verbose:
        for item in report.unchanged:
            out(f"  = unchanged  {item}")
    for warning in report.warnings:
        out(f"  ! warning: {warning}")
    for problem in report.problems:
        out(f"  ✗ {problem}")
    creates = sum(c.action == "create" for c in report.changes)
    updates = sum(c.action == "update" for c in report.changes)
    others = len(report.changes) - creates - updates
    out(f"{creates} to create, {updates} to update, {others} other change(s), "
        f"{len(report.unchanged)} unchanged.")


def _write_secrets(path: Path, values: Mapping[str, str]) -> None:
    existing: dict[str, str] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            existing = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            existing = {}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({**existing, **values}, fh, indent=2)
        fh.write("\n")
    os.chmod(path, 0o600)


async def run(config: OktaConfig, *, org_url: str, http: httpx.AsyncClient, credentials: httpx.Auth,
              action: str, hook_secret: str | None, update_hook_secret: bool = False, verbose: bool = False,
              secrets_out: Path | None = None, out: Callable[[str], None] = print) -> int:
    api = AsyncOktaClient(org_url, http=http, auth=credentials, retry=RETRY)
    try:
        plan = await Reconciler(api, config, apply=False, hook_secret=hook_secret,
                                update_hook_secret=update_hook_secret).run()
    except OktaError as exc:
        out(f"okta: {exc}")
        return EXIT_FAILED
    _print_report(plan, title=f"Okta org {org_url}: plan", verbose=verbose, out=out)
    creates_secret = any(c.action == "create" and c.kind == "app" for c in plan.changes) and \
        config.app is not None and config.app.token_endpoint_auth_method.startswith("client_secret")
    if action == "plan":
        if creates_secret and secrets_out is None:
            out("  note: apply creates the app's client secret, which Okta shows only once: "
                "pass --secrets-out FILE")
        _print_outputs(plan, out)
        return EXIT_UNSAFE if plan.problems else EXIT_OK
    if plan.problems:
        out("okta: not applying: fix the problems above first (nothing was changed)")
        return EXIT_UNSAFE
    if creates_secret and secrets_out is None:
        out("okta: not applying: the app's client secret is shown only once; pass --secrets-out FILE "
            "(written with mode 0600) to keep it (nothing was changed)")
        return EXIT_CONFIG
    if not plan.changes:
        out("okta: nothing to change")
        _print_outputs(plan, out)
        return EXIT_OK
    out(f"Okta org {org_url}: applying")
    reconciler = Reconciler(api, config, apply=True, hook_secret=hook_secret,
                            update_hook_secret=update_hook_secret, out=out)
    try:
        applied = await reconciler.run()
    except OktaError as exc:
        out(f"okta: stopped: {exc}")
        out("okta: the changes printed above were applied; run `bff okta plan` to see what is left")
        if reconciler.report.secrets and secrets_out is not None:
            _write_secrets(secrets_out, reconciler.report.secrets)
        return EXIT_FAILED
    if applied.secrets and secrets_out is not None:
        _write_secrets(secrets_out, {"BFF_OKTA_CLIENT_ID": applied.outputs.get("OktaClientId", ""),
                                     **applied.secrets})
        out(f"okta: the client credentials were written to {secrets_out} (mode 0600): store them in the "
            "stage's BFF secret, then delete the file")
    for problem in applied.problems:
        out(f"  ✗ {problem}")
    out(f"okta: applied {reconciler.writes} write(s)")
    _print_outputs(applied, out)
    return EXIT_FAILED if applied.problems else EXIT_OK


def _print_outputs(report: Report, out: Callable[[str], None]) -> None:
    shown = {k: v for k, v in report.outputs.items() if v}
    if shown:
        out("Stack parameters: " + " ".join(f"{k}={v}" for k, v in sorted(shown.items())))


def okta_cli(args: argparse.Namespace) -> int:
    from bff.settings import OktaAdminSettings, load_environment

    if args.config is None:
        print("okta: --config FILE is required (start from infra/okta.example.toml)", file=sys.stderr)
        return EXIT_CONFIG
    try:
        config = load_config(Path(args.config))
        settings = OktaAdminSettings.from_env(load_environment())
    except ConfigError as exc:
        for line in exc.lines:
            print(f"okta: {line}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        credentials = management_auth(settings.org_url, api_token=settings.api_token,
                                      client_id=settings.client_id, private_key=settings.private_key,
                                      scopes=ADMIN_SCOPES)
    except ValueError as exc:
        print(f"okta: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    async def main() -> int:
        async with httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False) as http:
            return await run(config, org_url=settings.org_url, http=http, credentials=credentials,
                             action=args.action, hook_secret=settings.hook_secret,
                             update_hook_secret=bool(getattr(args, "update_hook_secret", False)),
                             verbose=bool(getattr(args, "verbose", False)),
                             secrets_out=getattr(args, "secrets_out", None))

    return asyncio.run(main())


__all__ = ["ADMIN_SCOPES", "Change", "Reconciler", "Report", "diff", "merged", "okta_cli", "run"]

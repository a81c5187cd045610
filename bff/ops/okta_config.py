"""The desired Okta set-up for ``bff okta plan|apply``: a TOML (or JSON) file, validated into
frozen dataclasses. Every problem is one line of :class:`~bff.config.ConfigError`, all reported at
once (the reader is :class:`bff.config.TableReader`).

The format is documented in ``docs/deploy.md`` and ``infra/okta.example.toml``. In short::

    public_url = "https://app.example.com"     # the BFF origin; URIs below default from it

    [authorization_server]                      # name, description, audience, deactivate_policies
    [[scopes]]                                  # name, description, display_name, consent, ...
    [[claims]]                                  # name, token = access|id, value | groups_filter, scopes
    [[groups]]                                  # name, description
    [access_policy]                             # name, description
    [[access_policy.rules]]                     # name, groups, grant_types, scopes, token lifetimes
    [app]                                       # label, redirect/logout URIs, PKCE, rotation, ...
                                                # embedded_signin, email_verify_callback_uri
    [[trusted_origins]]                         # name, origin, scopes = [CORS, REDIRECT]
    [[profile_attributes]]                      # name, title, type, self_access, enum, max_length
    [event_hook]                                # name, uri, events, auth_header, verify

Security rules enforced here, before anything reaches Okta: a profile attribute that a claim
reads (``user.adminRole``) may not be user-editable (``self_access = "READ_WRITE"``), or a user
could grant themselves a role from the end-user dashboard; a rule that grants a custom scope
to ``Everyone`` is refused; ``app.jwks`` must hold public keys only.

The embedded sign-in (``BFF_SIGNIN_MODE=embedded``, the BFF's default; docs/signin.md) needs
Okta's Interaction Code grant: with ``app.embedded_signin`` (default true) ``interaction_code``
is added to the app's grant types and to every access-policy rule that allows
``authorization_code``, and the app's email verify callback URI is
``{public_url}/bff/signin/email-callback`` (``app.email_verify_callback_uri``; ``""`` for none).
``embedded_signin = false`` leaves the grant types exactly as written.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bff.config import ConfigError, TableReader

#: Okta's system scopes on every custom authorization server.
SYSTEM_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access", "device_sso"})
EVERYONE = "Everyone"
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "implicit", "password",
               "interaction_code",  # the embedded sign-in (bff/signin, docs/signin.md)
               "urn:ietf:params:oauth:grant-type:device_code",
               "urn:ietf:params:oauth:grant-type:token-exchange")
WEB_APP_GRANTS = frozenset({"authorization_code", "refresh_token", "implicit", "client_credentials",
                            "interaction_code"})
#: Grant types an access-policy rule can name (refresh is governed by the rule that matched the
#: original grant: its refresh token lifetimes).
RULE_GRANT_TYPES = ("authorization_code", "implicit", "password", "client_credentials", "interaction_code",
                    "urn:ietf:params:oauth:grant-type:device_code",
                    "urn:ietf:params:oauth:grant-type:token-exchange")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt")
SELF_ACCESS = ("HIDE", "READ_ONLY", "READ_WRITE")
ATTRIBUTE_TYPES = ("string", "boolean", "integer", "number", "array")
GROUP_FILTERS = ("STARTS_WITH", "EQUALS", "CONTAINS", "REGEX")
ORIGIN_SCOPES = ("CORS", "REDIRECT", "IFRAME_EMBED")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_USER_ATTR = re.compile(r"\buser\.([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class AuthServerSpec:
    name: str
    description: str
    audience: str
    deactivate_policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScopeSpec:
    name: str
    description: str
    display_name: str | None = None
    consent: str = "IMPLICIT"
    metadata_publish: str = "NO_CLIENTS"


@dataclass(frozen=True)
class ClaimSpec:
    name: str
    target: str  # the config's `token`: access | id
    value: str  # an Okta EL expression, or the group filter's value
    group_filter_type: str | None = None  # set for a groups claim (valueType GROUPS)
    scopes: tuple[str, ...] = ()  # only when one of these scopes was granted; () = always
    always_include: bool = True

    @property
    def claim_type(self) -> str:
        return "IDENTITY" if self.target == "id" else "RESOURCE"

    @property
    def value_type(self) -> str:
        return "GROUPS" if self.group_filter_type else "EXPRESSION"


@dataclass(frozen=True)
class GroupSpec:
    name: str
    description: str


@dataclass(frozen=True)
class RuleSpec:
    name: str
    groups: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    access_token_minutes: int = 60
    refresh_token_lifetime_minutes: int = 0  # 0 = unlimited (bounded by the window)
    refresh_token_window_minutes: int = 10080  # idle expiry: 7 days


@dataclass(frozen=True)
class PolicySpec:
    name: str
    description: str
    rules: tuple[RuleSpec, ...]


@dataclass(frozen=True)
class AppSpec:
    label: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    initiate_login_uri: str | None
    grant_types: tuple[str, ...]
    pkce_required: bool
    refresh_token_rotation: str  # ROTATE | STATIC
    refresh_token_leeway: int
    token_endpoint_auth_method: str
    jwks: dict[str, Any] | None
    consent_method: str
    assign_groups: tuple[str, ...]
    embedded_signin: bool = True
    #: the target of the email magic link (Okta's "email verify callback URI" of the app)
    email_verify_callback_uri: str | None = None


@dataclass(frozen=True)
class OriginSpec:
    name: str
    origin: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    title: str
    description: str
    type: str
    items_type: str | None = None
    enum: tuple[str, ...] | None = None
    max_length: int | None = None
    self_access: str = "READ_ONLY"


@dataclass(frozen=True)
class HookSpec:
    name: str
    uri: str
    events: tuple[str, ...]
    auth_header: str = "Authorization"
    verify: bool = True


@dataclass(frozen=True)
class OktaConfig:
    public_url: str
    authorization_server: AuthServerSpec
    scopes: tuple[ScopeSpec, ...]
    claims: tuple[ClaimSpec, ...]
    groups: tuple[GroupSpec, ...]
    policy: PolicySpec | None
    app: AppSpec | None
    trusted_origins: tuple[OriginSpec, ...]
    profile_attributes: tuple[AttributeSpec, ...]
    event_hook: HookSpec | None

    @property
    def custom_scopes(self) -> frozenset[str]:
        return frozenset(s.name for s in self.scopes)


def load_config(path: Path) -> OktaConfig:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from exc
    try:
        text = raw.decode("utf-8")
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        raise ConfigError([f"{path}: {exc}"]) from exc
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a table/object"])
    return parse_config(data, base_dir=path.parent)


def parse_config(data: Mapping[str, Any], *, base_dir: Path = Path(".")) -> OktaConfig:
    r = TableReader()
    top = r.table(dict(data), "config", {"public_url", "authorization_server", "scopes", "claims", "groups",
                                         "access_policy", "app", "trusted_origins", "profile_attributes",
                                         "event_hook"}, {"public_url", "authorization_server"})
    public_url = r.url(r.text(top, "public_url", "config"), "public_url", origin_only=True).rstrip("/")

    a = r.table(top.get("authorization_server", {}), "authorization_server",
                {"name", "description", "audience", "deactivate_policies"}, {"name", "audience"})
    server = AuthServerSpec(
        name=r.text(a, "name", "authorization_server"),
        description=r.text(a, "description", "authorization_server", "Managed by bff okta apply"),
        audience=r.text(a, "audience", "authorization_server"),
        deactivate_policies=r.strings(a, "deactivate_policies", "authorization_server", (), non_empty=False),
    )

    scopes = []
    for i, raw in enumerate(r.array(top, "scopes")):
        where = f"scopes[{i}]"
        s = r.table(raw, where, {"name", "description", "display_name", "consent", "metadata_publish"},
                    {"name", "description"})
        scope = ScopeSpec(name=r.text(s, "name", where), description=r.text(s, "description", where),
                          display_name=r.opt_text(s, "display_name", where),
                          consent=r.choice(s, "consent", where, "IMPLICIT",
                                           ("IMPLICIT", "REQUIRED", "FLEXIBLE")),
                          metadata_publish=r.choice(s, "metadata_publish", where, "NO_CLIENTS",
                                                    ("NO_CLIENTS", "ALL_CLIENTS")))
        if scope.name in SYSTEM_SCOPES:
            r.error(f"{where}.name: {scope.name!r} is a system scope; only declare custom scopes")
        scopes.append(scope)
    r.unique([s.name for s in scopes], "scopes", "name")
    known_scopes = SYSTEM_SCOPES | {s.name for s in scopes}

    claims = []
    for i, raw in enumerate(r.array(top, "claims")):
        where = f"claims[{i}]"
        c = r.table(raw, where, {"name", "token", "value", "groups_filter", "groups_filter_type", "scopes",
                                 "always_include"}, {"name", "token"})
        filter_type = None
        if "groups_filter" in c:
            filter_type = r.choice(c, "groups_filter_type", where, "REGEX", GROUP_FILTERS)
            value = r.text(c, "groups_filter", where)
            if "value" in c:
                r.error(f"{where}: give either value (an expression) or groups_filter, not both")
        else:
            value = r.text(c, "value", where)
        claim = ClaimSpec(name=r.text(c, "name", where),
                          target=r.choice(c, "token", where, "access", ("access", "id")),
                          value=value, group_filter_type=filter_type,
                          scopes=r.strings(c, "scopes", where, (), non_empty=False),
                          always_include=r.boolean(c, "always_include", where, True))
        for name in claim.scopes:
            if name not in known_scopes:
                r.error(f"{where}.scopes: {name!r} is not a system scope nor in [[scopes]]")
        claims.append(claim)
    r.unique([f"{c.name} ({c.target} token)" for c in claims], "claims", "name + token")

    groups = []
    for i, raw in enumerate(r.array(top, "groups")):
        where = f"groups[{i}]"
        g = r.table(raw, where, {"name", "description"}, {"name"})
        groups.append(GroupSpec(name=r.text(g, "name", where),
                                description=r.text(g, "description", where, "")))
        if groups[-1].name == EVERYONE:
            r.error(f"{where}.name: {EVERYONE} is Okta's built-in group; it cannot be declared")
    r.unique([g.name for g in groups], "groups", "name")

    policy = None
    if "access_policy" in top:
        p = r.table(top["access_policy"], "access_policy", {"name", "description", "rules"},
                    {"name", "description", "rules"})
        rules = []
        for i, raw in enumerate(p.get("rules", []) if isinstance(p.get("rules"), list) else []):
            where = f"access_policy.rules[{i}]"
            ru = r.table(raw, where, {"name", "groups", "grant_types", "scopes", "access_token_minutes",
                                      "refresh_token_lifetime_minutes", "refresh_token_window_minutes"},
                         {"name", "groups", "scopes"})
            rule = RuleSpec(
                name=r.text(ru, "name", where), groups=r.strings(ru, "groups", where),
                grant_types=r.strings(ru, "grant_types", where, ("authorization_code",),
                                      allowed=RULE_GRANT_TYPES),
                scopes=r.strings(ru, "scopes", where),
                access_token_minutes=r.integer(ru, "access_token_minutes", where, 60, 5, 1440),
                refresh_token_lifetime_minutes=r.integer(ru, "refresh_token_lifetime_minutes", where, 0, 0,
                                                         2_628_000),
                refresh_token_window_minutes=r.integer(ru, "refresh_token_window_minutes", where, 10080, 10,
                                                       2_628_000),
            )
            for name in rule.scopes:
                if name != "*" and name not in known_scopes:
                    r.error(f"{where}.scopes: {name!r} is not a system scope nor in [[scopes]]")
            custom = [s for s in rule.scopes if s not in SYSTEM_SCOPES]
            if EVERYONE in rule.groups and custom:
                r.error(f"{where}: grants {', '.join(custom)} to {EVERYONE}; a custom scope must be "
                                "granted to specific groups only")
            rules.append(rule)
        if not rules:
            r.error("access_policy.rules: at least one [[access_policy.rules]] is required")
        r.unique([x.name for x in rules], "access_policy.rules", "name")
        policy = PolicySpec(name=r.text(p, "name", "access_policy"),
                            description=r.text(p, "description", "access_policy"), rules=tuple(rules))

    app = _parse_app(r, top["app"], public_url, base_dir) if "app" in top else None
    if app is not None and app.embedded_signin and policy is not None:
        # a rule that lets the app sign users in must let the embedded sign-in do so too
        policy = replace(policy, rules=tuple(
            replace(rule, grant_types=(*rule.grant_types, "interaction_code"))
            if "authorization_code" in rule.grant_types and "interaction_code" not in rule.grant_types
            else rule for rule in policy.rules))

    origins = []
    for i, raw in enumerate(r.array(top, "trusted_origins")):
        where = f"trusted_origins[{i}]"
        o = r.table(raw, where, {"name", "origin", "scopes"}, {"name", "origin"})
        origin = r.url(r.text(o, "origin", where), f"{where}.origin", origin_only=True).rstrip("/")
        origins.append(OriginSpec(name=r.text(o, "name", where), origin=origin,
                                  scopes=r.strings(o, "scopes", where, ("CORS", "REDIRECT"),
                                                   allowed=ORIGIN_SCOPES)))
    r.unique([o.origin for o in origins], "trusted_origins", "origin")

    attributes = []
    for i, raw in enumerate(r.array(top, "profile_attributes")):
        where = f"profile_attributes[{i}]"
        at = r.table(raw, where, {"name", "title", "description", "type", "items_type", "enum", "max_length",
                                  "self_access"}, {"name", "title", "type"})
        kind = r.choice(at, "type", where, "string", ATTRIBUTE_TYPES)
        name = r.text(at, "name", where)
        if name and not _NAME.match(name):
            r.error(f"{where}.name: letters, digits and _ (a letter first), got {name!r}")
        items_type = None
        if kind == "array":
            items_type = r.choice(at, "items_type", where, "string", ("string", "integer", "number"))
        elif "items_type" in at:
            r.error(f"{where}.items_type: only for type = \"array\"")
        enum = r.strings(at, "enum", where, non_empty=True) if "enum" in at else None
        max_length = r.integer(at, "max_length", where, 0, 1, 10_000) if "max_length" in at else None
        attributes.append(AttributeSpec(name=name, title=r.text(at, "title", where),
                                        description=r.text(at, "description", where, ""), type=kind,
                                        items_type=items_type, enum=enum, max_length=max_length,
                                        self_access=r.choice(at, "self_access", where, "READ_ONLY",
                                                             SELF_ACCESS)))
    r.unique([a.name for a in attributes], "profile_attributes", "name")
    for claim in claims:
        for attr in _USER_ATTR.findall(claim.value):
            spec = next((a for a in attributes if a.name == attr), None)
            if spec is not None and spec.self_access == "READ_WRITE":
                r.error(f"profile_attributes: {attr} feeds the {claim.name!r} claim, so users must "
                                "not edit it themselves: set self_access = \"READ_ONLY\" or \"HIDE\"")

    hook = None
    if "event_hook" in top:
        h = r.table(top["event_hook"], "event_hook", {"name", "uri", "events", "auth_header", "verify"},
                    {"name"})
        uri = r.text(h, "uri", "event_hook", f"{public_url}/bff/hooks/okta")
        hook = HookSpec(name=r.text(h, "name", "event_hook"), uri=r.url(uri, "event_hook.uri"),
                        events=r.strings(h, "events", "event_hook", ("user.lifecycle.create",)),
                        auth_header=r.text(h, "auth_header", "event_hook", "Authorization"),
                        verify=r.boolean(h, "verify", "event_hook", True))
        hook_url = urlsplit(hook.uri)
        if hook_url.scheme != "https" and hook_url.hostname not in ("localhost", "127.0.0.1"):
            r.error("event_hook.uri: Okta delivers event hooks over https only")

    r.raise_errors()
    return OktaConfig(public_url=public_url, authorization_server=server, scopes=tuple(scopes),
                      claims=tuple(claims), groups=tuple(groups), policy=policy, app=app,
                      trusted_origins=tuple(origins), profile_attributes=tuple(attributes), event_hook=hook)


def _parse_app(r: TableReader, raw: Any, public_url: str, base_dir: Path) -> AppSpec:
    where = "app"
    a = r.table(raw, where, {"label", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri",
                             "initiate_login_uri", "grant_types", "pkce_required", "refresh_token_rotation",
                             "refresh_token_leeway", "token_endpoint_auth_method", "jwks_file",
                             "consent_method", "assign_groups", "embedded_signin",
                             "email_verify_callback_uri"}, {"label"})
    redirect = r.strings(a, "redirect_uris", where, (f"{public_url}/bff/callback",))
    logout = r.strings(a, "post_logout_redirect_uris", where, (f"{public_url}/",))
    for i, uri in enumerate(redirect + logout):
        r.url(uri, f"{where}.{'redirect_uris' if i < len(redirect) else 'post_logout_redirect_uris'}")
    backchannel = a.get("backchannel_logout_uri", f"{public_url}/bff/backchannel-logout")
    if backchannel == "":
        backchannel = None  # explicitly off
    if backchannel is not None:
        backchannel = r.url(r.text(a, "backchannel_logout_uri", where, backchannel),
                            f"{where}.backchannel_logout_uri")
    grants = r.strings(a, "grant_types", where, ("authorization_code", "refresh_token"), allowed=GRANT_TYPES)
    embedded = r.boolean(a, "embedded_signin", where, True)
    if embedded and "interaction_code" not in grants:
        grants = (*grants, "interaction_code")
    email_callback: str | None = None
    if embedded:
        default_callback = f"{public_url}/bff/signin/email-callback"
        email_callback = r.text(a, "email_verify_callback_uri", where, default_callback)
        if email_callback:
            email_callback = r.url(email_callback, f"{where}.email_verify_callback_uri")
        email_callback = email_callback or None
    elif "email_verify_callback_uri" in a:
        r.error(f"{where}.email_verify_callback_uri: only used with embedded_signin = true")
    for grant in grants:
        if grant not in WEB_APP_GRANTS:
            r.error(f"{where}.grant_types: {grant!r} is not available to a web app")
    if "refresh_token" in grants and "authorization_code" not in grants:
        r.error(f"{where}.grant_types: refresh_token needs authorization_code")
    method = r.choice(a, "token_endpoint_auth_method", where, "client_secret_basic", AUTH_METHODS)
    jwks = None
    if "jwks_file" in a:
        jwks = _read_jwks(r, base_dir / r.text(a, "jwks_file", where))
    if method == "private_key_jwt" and jwks is None:
        r.error(f"{where}: token_endpoint_auth_method = \"private_key_jwt\" needs jwks_file "
                        "(the public keys)")
    if jwks is not None and method != "private_key_jwt":
        r.error(f"{where}.jwks_file: only used with token_endpoint_auth_method = \"private_key_jwt\"")
    initiate = r.opt_text(a, "initiate_login_uri", where)
    return AppSpec(
        label=r.text(a, "label", where), redirect_uris=redirect, post_logout_redirect_uris=logout,
        backchannel_logout_uri=backchannel, initiate_login_uri=r.url(initiate, f"{where}.initiate_login_uri")
        if initiate else None,
        grant_types=grants, pkce_required=r.boolean(a, "pkce_required", where, True),
        refresh_token_rotation=r.choice(a, "refresh_token_rotation", where, "ROTATE", ("ROTATE", "STATIC")),
        refresh_token_leeway=r.integer(a, "refresh_token_leeway", where, 30, 0, 60),
        token_endpoint_auth_method=method, jwks=jwks,
        consent_method=r.choice(a, "consent_method", where, "TRUSTED", ("TRUSTED", "REQUIRED")),
        assign_groups=r.strings(a, "assign_groups", where, (EVERYONE,), non_empty=False),
        embedded_signin=embedded, email_verify_callback_uri=email_callback,
    )


def _read_jwks(r: TableReader, path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        r.error(f"app.jwks_file: cannot read {path}: {exc}")
        return None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        r.error(f"app.jwks_file: {path} must be a JWKS ({{\"keys\": [...]}})")
        return None
    for key in keys:
        if _PRIVATE_JWK_MEMBERS & set(key):
            r.error(f"app.jwks_file: {path} holds PRIVATE key material; give Okta public keys only")
            return None
        if key.get("kty") not in ("RSA", "EC"):
            r.error(f"app.jwks_file: {path}: keys must be RSA or EC")
            return None
    return {"keys": keys}

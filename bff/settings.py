"""The one place configuration is read.

Everything the BFF needs comes from ``BFF_*`` environment variables, parsed into a frozen,
typed :class:`Settings` passed to ``create_app(settings)``. Nothing else in the package reads
``os.environ``. Every invalid or missing value is reported as one line of
:class:`~bff.config.ConfigError`; all of them at once, so an operator fixes a deployment in one
pass (the reader is :class:`bff.config.EnvReader`).

``bff dev`` (the separate ``bff_dev`` package, ``dev/``) builds an environment of embedded
defaults pointing at its local twins and calls ``Settings.from_env(env, dev=True)``; outside
dev, placeholder secrets (:data:`PLACEHOLDER_MARKER`) are refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bff.config import ConfigError, EnvReader
from bff.http.client_ip import ClientAddress

#: Marker contained in every secret that ships with the code (the dev stack's, in
#: ``bff_dev.environment``): refused outside ``bff dev``.
PLACEHOLDER_MARKER = "dev-only-insecure"
#: An Okta IdP id (``0oa...``; Okta's own mocks use ``google-123``): what ``/bff/login?idp=`` may carry.
IDP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# Sign-in core (issue: OIDC + sessions)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OktaSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    private_key: str | None  # PEM or JWK JSON, for private_key_jwt client auth
    scopes: tuple[str, ...]
    stepup_scopes: tuple[str, ...]  # extra scopes a login may ask for (allow-list)
    idp_discovery: dict[str, str]  # email domain → Okta IdP id
    post_logout_path: str
    clock_skew: int
    http_timeout: float
    # Okta groups whose members may attempt the admin step-up (the access policy's allow-list);
    # the SPA shows the admin entry points only to them.
    admin_groups: tuple[str, ...] = ("customer-admins",)
    #: BFF_ADMIN_MAX_AGE: a step-up needs a sign-in at most this old (max_age, auth_time)
    admin_max_age: int = 600
    #: BFF_ADMIN_SCOPE_TTL: how long a step-up scope lasts before the session is refreshed down
    admin_scope_ttl: int = 1800
    #: IdP ids ``/bff/login?idp=`` (and the embedded sign-in's ``redirect-idp``) may name beyond
    #: those of ``idp_discovery`` (``BFF_OKTA_IDPS``: social / enterprise buttons)
    idps: tuple[str, ...] = ()

    @property
    def allowed_idps(self) -> frozenset[str]:
        """Every IdP id the BFF may send a browser to: ``BFF_OKTA_IDPS`` and the values of
        ``BFF_OKTA_IDP_DISCOVERY``. Anything else is refused before Okta is asked."""
        return frozenset(self.idps) | frozenset(self.idp_discovery.values())


@dataclass(frozen=True)
class SessionSettings:
    store: str  # sqlite:///path | redis://... | dynamodb://table | memory://
    cookie_name: str
    idle_timeout: int
    absolute_lifetime: int
    refresh_skew: int
    login_transaction_ttl: int
    csrf_header: str
    csrf_value: str


@dataclass(frozen=True)
class SigninSettings:
    """Embedded sign-in (issue 10, ``bff.signin``). ``mode`` ``redirect`` turns the
    ``/bff/signin`` routes into 404s (``/bff/login`` works in both modes). The attempt limits
    count every sign-in request that would reach Okta, per client IP and per identifier, in a
    fixed window, across instances when the session store is Redis (docs/signin.md)."""

    mode: str = "embedded"  # embedded | redirect
    rate_per_ip: int = 60
    rate_per_identifier: int = 10
    rate_window: int = 300
    #: ``acr_values`` sent to ``/v1/interact`` when a step-up scope is asked for ("" = none)
    stepup_acr: str = "urn:okta:loa:2fa:any"
    #: the SPA page that shows an email magic link's code for the original tab
    email_code_path: str = "/signin/email-code"
    #: the SPA page that continues a sign-in (GET /bff/signin) after a magic link
    continue_path: str = "/signin"
    #: passkeys (the ``webauthn`` authenticator) offered; only with an Okta custom domain whose
    #: relying-party id admits the app's host (bff.signin.passkeys, docs/signin.md)
    webauthn: bool = False


# --------------------------------------------------------------------------------------------
# Who the client is (issue 12 §2): bff.http.client_ip
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientAddressSettings:
    """``BFF_TRUSTED_PROXIES``: CIDRs of the proxies whose ``X-Forwarded-For`` is believed, and/or
    ``cloudfront`` (then ``BFF_CLOUDFRONT_ORIGIN_SECRET``, the value CloudFront sends in
    ``X-BFF-Origin-Verify``, proves a request came through the distribution and its
    ``CloudFront-Viewer-Address`` is believed). Empty: the TCP peer is the client."""

    trusted_proxies: tuple[str, ...] = ()  # normalised CIDRs
    cloudfront: bool = False
    cloudfront_origin_secret: str | None = None

    def resolver(self) -> ClientAddress:
        import ipaddress

        return ClientAddress([ipaddress.ip_network(c) for c in self.trusted_proxies],
                             cloudfront_secret=self.cloudfront_origin_secret if self.cloudfront else None)


def _client_address(r: EnvReader) -> ClientAddressSettings:
    import ipaddress

    cidrs: list[str] = []
    cloudfront = False
    for item in r.items("BFF_TRUSTED_PROXIES"):
        if item.lower() == "cloudfront":
            cloudfront = True
            continue
        try:
            cidrs.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            r.error(f"BFF_TRUSTED_PROXIES entries must be CIDRs, addresses or cloudfront, got {item!r}")
    secret = r.opt("BFF_CLOUDFRONT_ORIGIN_SECRET")
    if cloudfront and (not secret or len(secret) < 32):
        r.error("BFF_TRUSTED_PROXIES=cloudfront needs BFF_CLOUDFRONT_ORIGIN_SECRET (>= 32 characters): "
                "the X-BFF-Origin-Verify value the distribution sends (infra/template.yaml)")
    return ClientAddressSettings(tuple(cidrs), cloudfront, secret)


# --------------------------------------------------------------------------------------------
# Localized copy (issue: AEM)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentSettings:
    aem_url: str
    aem_config: str
    aem_site: str
    aem_author_url: str | None
    aem_author_token: str | None
    aem_ims_url: str | None
    aem_ims_client_id: str | None
    aem_ims_client_secret: str | None
    default_locale: str
    locales: tuple[str, ...]
    ttl: int
    stale_ttl: int
    browser_max_age: int
    timeout: float
    retries: int
    preview_group: str
    webhook_secret: str | None
    bus_url: str | None  # redis:// for cross-instance eviction; defaults to a redis session store
    cloudfront_distribution: str | None
    #: BFF_AEM_EVENTS_CLIENT_ID: our Adobe Developer Console client id; every event must name it
    #: as its recipient (required for signed deliveries)
    events_client_id: str | None = None
    #: BFF_AEM_EVENTS_MAX_AGE: events older than this (seconds, by their ``time``) are replays
    events_max_age: int = 86400
    #: BFF_CONTENT_VARIATIONS: the variations ``?variation=`` may name besides master and those
    #: of the bundled copy; anything else is 400 without an AEM call
    variations: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Proxy to the Lambda APIs (issue: proxy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxySettings:
    routes_file: str | None
    upstream_urls: dict[str, str]  # BFF_API_UPSTREAMS: upstream name -> https URL or Lambda ARN
    max_body: int
    pool_size: int


# --------------------------------------------------------------------------------------------
# Registration (issue: sign-up pipeline)
# --------------------------------------------------------------------------------------------


#: Okta profile attributes that self-service (``BFF_PROFILE_FIELDS``, progressive profiling)
#: may never write: the tenant, what the admin API manages (roles, delegated groups, the
#: compliance verdict, the account status) and the identity itself. Compared case-insensitively.
PRIVILEGED_PROFILE_ATTRIBUTES: frozenset[str] = frozenset({
    "orgId", "adminRole", "adminGroups", "complianceStatus",  # the tenant and the admin API's
    "login", "email", "secondEmail", "status", "userType", "employeeNumber", "manager", "managerId",
})


def _profile_fields(r: EnvReader) -> tuple[str, ...]:
    fields = r.items("BFF_PROFILE_FIELDS", ("company", "title", "mobilePhone", "preferredLanguage"))
    denied = {a.lower() for a in PRIVILEGED_PROFILE_ATTRIBUTES}
    for name in fields:
        if name.lower() in denied:
            r.error(f"BFF_PROFILE_FIELDS names {name!r}, a privileged attribute (tenant, admin API or "
                    "identity) that self-service may never write")
    return fields


def _org_mode(r: EnvReader, dev: bool) -> str:
    mode = r.choice("BFF_SIGNUP_ORG", "invitation", ("organisation", "invitation", "none"))
    if mode == "organisation" and not dev:
        r.error("BFF_SIGNUP_ORG=organisation (the typed company name becomes orgId: anyone joins any "
                "tenant) is allowed under `bff dev` only; use invitation or none")
    return mode


def _password_mode(r: EnvReader) -> str:
    """The Users-API sign-up (``POST /bff/signup``) never sets a password: Okta activates a user
    created with one at once, before anyone has verified the address (issue 11). The user is
    created PROVISIONED and chooses the password on Okta's activation page (the email's link)."""
    mode = r.choice("BFF_SIGNUP_PASSWORD", "none", ("optional", "required", "none"))
    if mode != "none":
        r.error(f"BFF_SIGNUP_PASSWORD={mode} is no longer supported: a password sent with the Users API "
                "activates the account before its email address is verified; use none (Okta's "
                "activation email asks for the password)")
    return mode


def _invitations_secrets(r: EnvReader) -> tuple[str, ...]:
    secrets = r.items("BFF_INVITATIONS_SECRET")
    for i, secret in enumerate(secrets):
        r.check(len(secret) >= 32 and secret.isascii() and secret.isprintable() and " " not in secret,
                f"BFF_INVITATIONS_SECRET entry {i + 1} must be at least 32 printable ASCII characters "
                "without spaces (e.g. `openssl rand -hex 32`)")
    return secrets


@dataclass(frozen=True)
class SignupSettings:
    okta_org_url: str
    okta_api_token: str | None  # SSWS
    okta_mgmt_client_id: str | None  # OAuth service app (private_key_jwt), preferred
    okta_mgmt_private_key: str | None
    password_mode: str  # none (optional | required refuse to start: see _password_mode)
    org_mode: str  # organisation | invitation | none
    profile_fields: tuple[str, ...]
    account_topic_arn: str | None
    outbox: str  # sqlite:///path | memory://
    hook_secret: str | None  # the newest of hook_secrets
    rate_per_ip: int
    rate_per_email: int
    rate_window: int
    # BFF_OKTA_HOOK_SECRET, comma-separated, newest first: the event hook accepts any of them,
    # so the secret rotates without a gap (docs/signup.md "Rotating the hook secret").
    hook_secrets: tuple[str, ...] = ()
    invitation_ttl: int = 7 * 24 * 3600  # BFF_INVITATION_TTL, seconds: how long an invitation is valid
    # BFF_INVITATIONS_SECRET, comma-separated, newest first: the admin API's credential for the
    # BFF's invitation endpoints (/bff/internal/invitations); unset = those endpoints are off (404).
    invitations_secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwsSettings:
    region: str
    endpoint_url: str | None  # moto in dev/tests; unset in production


# --------------------------------------------------------------------------------------------
# Telemetry (issue 13: traces and metrics, bff.observability)
# --------------------------------------------------------------------------------------------

#: The share of new traces (no sampled parent from a trusted proxy) recorded when neither
#: ``OTEL_TRACES_SAMPLER`` nor ``OTEL_TRACES_SAMPLER_ARG`` is set: 1 %, chosen to keep the proxy
#: at >= 0.90 of its throughput with traces and metrics on and exporting. Every recorded trace
#: costs the SDK's span machinery and the OTLP encoding (~220 us per recorded proxied request,
#: as much again as the request); measured side by side: 0.90-0.91 at 1 %, 0.86 at 5 %, 0.56 at
#: 100 % (docs/operations.md, "What telemetry costs").
DEFAULT_TRACE_RATIO = 0.01
#: ``OTEL_TRACES_SAMPLER`` values the SDK knows (the ``jaeger_remote``/``xray`` ones need extras).
TRACE_SAMPLERS = ("always_on", "always_off", "traceidratio", "parentbased_always_on",
                  "parentbased_always_off", "parentbased_traceidratio")


@dataclass(frozen=True)
class TelemetrySettings:
    """Traces (the standard ``OTEL_*`` variables, OTLP over HTTP) and metrics (``BFF_METRICS*``);
    both off by default (docs/operations.md)."""

    traces_exporter: str = "none"  # OTEL_TRACES_EXPORTER: none | otlp | console
    service_name: str = "bff"  # OTEL_SERVICE_NAME
    #: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces
    otlp_endpoint: str = "http://localhost:4318/v1/traces"
    sampler: str = "parentbased_traceidratio"  # OTEL_TRACES_SAMPLER
    #: OTEL_TRACES_SAMPLER_ARG (the ratio of the *traceidratio samplers): DEFAULT_TRACE_RATIO
    #: when neither variable is set, else OpenTelemetry's own default 1.0
    sampler_arg: float = DEFAULT_TRACE_RATIO
    metrics: str = "off"  # BFF_METRICS: off | prometheus | emf
    metrics_host: str = "127.0.0.1"  # BFF_METRICS_ADDR (host:port), Prometheus only
    metrics_port: int = 9464

    @property
    def tracing(self) -> bool:
        return self.traces_exporter != "none"


def _metrics_addr(r: EnvReader, public_url: str) -> tuple[str, int]:
    raw = r.opt("BFF_METRICS_ADDR")
    if raw is None:
        return "127.0.0.1", 9464
    host, sep, port = raw.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        r.error(f"BFF_METRICS_ADDR must be host:port, e.g. 127.0.0.1:9464, got {raw!r}")
        return "127.0.0.1", 9464
    public = urlsplit(public_url) if public_url else None
    if public is not None and public.port == int(port) and host in {"0.0.0.0", "::", public.hostname}:  # noqa: S104
        r.error(f"BFF_METRICS_ADDR must not be the public port ({port}): metrics are a separate listener")
    return host, int(port)


def _telemetry(r: EnvReader, public_url: str) -> TelemetrySettings:
    disabled = r.flag("OTEL_SDK_DISABLED", False)
    exporter = r.choice("OTEL_TRACES_EXPORTER", "none", ("none", "otlp", "console"))
    protocol = r.text("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "") or r.text("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    if exporter == "otlp" and protocol not in {"", "http/protobuf"}:
        r.error(f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf (OTLP over HTTP), got {protocol!r}")
    base = r.url("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318", https_unless_local=True)
    endpoint = r.url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", base.rstrip("/") + "/v1/traces",
                     https_unless_local=True)
    chosen = r.opt("OTEL_TRACES_SAMPLER") is not None
    sampler = r.choice("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", TRACE_SAMPLERS)
    ratio = r.number("OTEL_TRACES_SAMPLER_ARG", 1.0 if chosen else DEFAULT_TRACE_RATIO)
    r.check(ratio <= 1.0, f"OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, got {ratio}")
    addr_set = r.opt("BFF_METRICS_ADDR") is not None
    metrics = r.choice("BFF_METRICS", "prometheus" if addr_set else "off", ("off", "prometheus", "emf"))
    host, port = _metrics_addr(r, public_url)
    return TelemetrySettings(
        traces_exporter="none" if disabled else exporter,
        service_name=r.text("OTEL_SERVICE_NAME", "bff"),
        otlp_endpoint=endpoint,
        sampler=sampler,
        sampler_arg=min(ratio, 1.0),
        metrics=metrics,
        metrics_host=host,
        metrics_port=port,
    )


# --------------------------------------------------------------------------------------------
# Operations: `bff okta plan|apply` (issue: deploy). Read from the OPERATOR's shell, not the
# BFF's runtime environment, so it needs none of the BFF's other variables.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OktaAdminSettings:
    org_url: str  # BFF_OKTA_ORG_URL, else the origin of BFF_OKTA_ISSUER
    api_token: str | None  # BFF_OKTA_API_TOKEN (SSWS): an admin's token
    client_id: str | None  # BFF_OKTA_MGMT_CLIENT_ID + BFF_OKTA_MGMT_PRIVATE_KEY: an OAuth service app
    private_key: str | None
    hook_secret: str | None  # BFF_OKTA_HOOK_SECRET (its newest entry): the event hook's Authorization value
    timeout: float  # BFF_OKTA_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OktaAdminSettings:
        r = EnvReader(os.environ if env is None else env)
        issuer = r.url("BFF_OKTA_ISSUER")
        parts = urlsplit(issuer) if issuer else None
        org = r.url("BFF_OKTA_ORG_URL", f"{parts.scheme}://{parts.netloc}" if parts else None)
        if not org:
            r.error("BFF_OKTA_ORG_URL (or BFF_OKTA_ISSUER) is required: the Okta org, "
                            "e.g. https://acme.okta.com")
        client_id, key = r.opt("BFF_OKTA_MGMT_CLIENT_ID"), r.opt("BFF_OKTA_MGMT_PRIVATE_KEY")
        token = r.opt("BFF_OKTA_API_TOKEN")
        r.check(bool(client_id) == bool(key),
                "BFF_OKTA_MGMT_CLIENT_ID and BFF_OKTA_MGMT_PRIVATE_KEY go together")
        r.check(bool(token or (client_id and key)),
                "BFF_OKTA_API_TOKEN (SSWS) or BFF_OKTA_MGMT_CLIENT_ID + BFF_OKTA_MGMT_PRIVATE_KEY "
                "is required")
        settings = cls(org_url=org, api_token=token, client_id=client_id, private_key=key,
                       hook_secret=next(iter(r.items("BFF_OKTA_HOOK_SECRET")), None),
                       timeout=r.number("BFF_OKTA_TIMEOUT", 30.0, minimum=0.1))
        r.raise_errors()
        return settings


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    dev: bool
    public_url: str
    secret_keys: tuple[str, ...]
    log_level: str
    okta: OktaSettings
    session: SessionSettings
    content: ContentSettings
    proxy: ProxySettings
    signup: SignupSettings
    aws: AwsSettings
    spa_dir: str
    signin: SigninSettings = field(default_factory=SigninSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    extra: dict[str, str] = field(default_factory=dict)
    client_address: ClientAddressSettings = field(default_factory=ClientAddressSettings)

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dev: bool = False) -> Settings:
        r = EnvReader(os.environ if env is None else env)
        settings = _build(r, dev=dev)
        r.raise_errors()
        return settings


def _upstream_urls(r: EnvReader) -> dict[str, str]:
    """``BFF_API_UPSTREAMS=admin=https://id.execute-api...,reports=arn:aws:lambda:...``."""
    out: dict[str, str] = {}
    for item in r.items("BFF_API_UPSTREAMS"):
        name, sep, target = (part.strip() for part in item.partition("="))
        if not sep or not name or not target:
            r.error(f"BFF_API_UPSTREAMS must be a comma-separated list of name=url, got {item!r}")
        elif not target.startswith(("https://", "http://localhost", "http://127.0.0.1", "arn:aws")):
            r.error(f"BFF_API_UPSTREAMS: {name} must be an https URL or a Lambda ARN, got {target!r}")
        else:
            out[name] = target.rstrip("/")
    return out


def _variations(r: EnvReader) -> tuple[str, ...]:
    from bff.content.variations import is_variation  # the one definition of a variation name

    names = r.items("BFF_CONTENT_VARIATIONS")
    for name in names:
        if not is_variation(name):
            r.error(f"BFF_CONTENT_VARIATIONS entries must be 1-64 letters, digits, - or _, got {name[:80]!r}")
    if len(names) > 1000:
        r.error("BFF_CONTENT_VARIATIONS lists more than 1000 variations")
    return names


def _secret_keys(r: EnvReader, dev: bool) -> tuple[str, ...]:
    keys = r.items("BFF_SECRET_KEYS")
    if not keys:
        r.error("BFF_SECRET_KEYS is required (comma-separated, newest first, >= 32 characters each)")
        return ()
    for i, key in enumerate(keys):
        if len(key) < 32:
            r.error(f"BFF_SECRET_KEYS entry {i + 1} is shorter than 32 characters")
    return keys


def _build(r: EnvReader, *, dev: bool) -> Settings:
    public_url = r.url("BFF_PUBLIC_URL", required=True)
    if public_url and urlsplit(public_url).path not in {"", "/"}:
        r.error(f"BFF_PUBLIC_URL must be an origin without a path, got {public_url!r}")
    secret_keys = _secret_keys(r, dev)

    issuer = r.url("BFF_OKTA_ISSUER", required=True)
    client_secret = r.opt("BFF_OKTA_CLIENT_SECRET")
    private_key = r.opt("BFF_OKTA_PRIVATE_KEY")
    r.check(bool(client_secret or private_key),
            "BFF_OKTA_CLIENT_SECRET or BFF_OKTA_PRIVATE_KEY is required (client authentication)")
    scopes = r.items("BFF_OKTA_SCOPES", ("openid", "profile", "email", "offline_access"), sep=None)
    r.check("openid" in scopes, "BFF_OKTA_SCOPES must contain openid")
    idp_discovery = r.mapping("BFF_OKTA_IDP_DISCOVERY")
    idps = r.items("BFF_OKTA_IDPS")
    for name, ids in (("BFF_OKTA_IDP_DISCOVERY", tuple(idp_discovery.values())), ("BFF_OKTA_IDPS", idps)):
        for idp in ids:
            r.check(bool(IDP_ID.fullmatch(idp)),
                    f"{name}: {idp[:80]!r} is not an Okta IdP id (letters, digits, '-' or '_', at most 64)")
    okta = OktaSettings(
        issuer=issuer,
        client_id=r.text("BFF_OKTA_CLIENT_ID", required=True),
        client_secret=client_secret,
        private_key=private_key,
        scopes=scopes,
        stepup_scopes=r.items("BFF_OKTA_STEPUP_SCOPES", ("admin",), sep=None),
        idp_discovery=idp_discovery,
        idps=idps,
        post_logout_path=r.text("BFF_POST_LOGOUT_PATH", "/"),
        clock_skew=r.integer("BFF_OKTA_CLOCK_SKEW", 60, maximum=600),
        http_timeout=r.number("BFF_OKTA_TIMEOUT", 10.0, minimum=0.1),
        admin_groups=r.items("BFF_OKTA_ADMIN_GROUPS", ("customer-admins",)),
        admin_max_age=r.integer("BFF_ADMIN_MAX_AGE", 600, minimum=30, maximum=86400),
        admin_scope_ttl=r.integer("BFF_ADMIN_SCOPE_TTL", 1800, minimum=60, maximum=7 * 24 * 3600),
    )

    store = r.text("BFF_SESSION_STORE", "sqlite:///./.bff-data/sessions.sqlite3")
    if not store.startswith(("sqlite:///", "redis://", "rediss://", "dynamodb://", "memory://")):
        r.error(
            "BFF_SESSION_STORE must start with sqlite:///, redis://, rediss://, dynamodb:// or memory://, "
            f"got {store!r}"
        )
    session = SessionSettings(
        store=store,
        cookie_name=r.text("BFF_COOKIE_NAME", "__Host-bff"),
        idle_timeout=r.integer("BFF_SESSION_IDLE_TIMEOUT", 8 * 3600, minimum=60),
        absolute_lifetime=r.integer("BFF_SESSION_LIFETIME", 7 * 24 * 3600, minimum=60),
        refresh_skew=r.integer("BFF_TOKEN_REFRESH_SKEW", 60, maximum=3600),
        login_transaction_ttl=r.integer("BFF_LOGIN_TTL", 600, minimum=30),
        csrf_header=r.text("BFF_CSRF_HEADER", "X-CSRF"),
        csrf_value=r.text("BFF_CSRF_VALUE", "1"),
    )

    redis_default = store if store.startswith(("redis://", "rediss://")) else None
    content = ContentSettings(
        aem_url=r.url("BFF_AEM_URL", required=True),
        aem_config=r.text("BFF_AEM_CONFIG", "bff"),
        aem_site=r.text("BFF_AEM_SITE", "bff"),
        aem_author_url=r.url("BFF_AEM_AUTHOR_URL") or None,
        aem_author_token=r.opt("BFF_AEM_AUTHOR_TOKEN"),
        aem_ims_url=r.url("BFF_AEM_IMS_URL") or None,
        aem_ims_client_id=r.opt("BFF_AEM_IMS_CLIENT_ID"),
        aem_ims_client_secret=r.opt("BFF_AEM_IMS_CLIENT_SECRET"),
        default_locale=r.text("BFF_DEFAULT_LOCALE", "en"),
        locales=r.items("BFF_LOCALES", ("en", "fr", "fr-CA", "de", "es", "ja")),
        ttl=r.integer("BFF_CONTENT_TTL", 60, minimum=1),
        stale_ttl=r.integer("BFF_CONTENT_STALE_TTL", 86400, minimum=1),
        browser_max_age=r.integer("BFF_CONTENT_MAX_AGE", 60),
        timeout=r.number("BFF_AEM_TIMEOUT", 3.0, minimum=0.05),
        retries=r.integer("BFF_AEM_RETRIES", 2, maximum=10),
        preview_group=r.text("BFF_PREVIEW_GROUP", "content-authors"),
        webhook_secret=r.opt("BFF_AEM_WEBHOOK_SECRET"),
        bus_url=r.opt("BFF_CACHE_BUS") or redis_default,
        cloudfront_distribution=r.opt("BFF_CLOUDFRONT_DISTRIBUTION"),
        events_client_id=r.opt("BFF_AEM_EVENTS_CLIENT_ID"),
        events_max_age=r.integer("BFF_AEM_EVENTS_MAX_AGE", 86400, minimum=60, maximum=7 * 86400),
        variations=_variations(r),
    )

    proxy = ProxySettings(
        routes_file=r.opt("BFF_API_ROUTES"),
        upstream_urls=_upstream_urls(r),
        max_body=r.integer("BFF_PROXY_MAX_BODY", 1024 * 1024, minimum=1),
        pool_size=r.integer("BFF_PROXY_POOL", 200, minimum=1),
    )

    issuer_parts = urlsplit(issuer) if issuer else None
    org_default = f"{issuer_parts.scheme}://{issuer_parts.netloc}" if issuer_parts else ""
    signup = SignupSettings(
        okta_org_url=r.url("BFF_OKTA_ORG_URL", org_default or None),
        okta_api_token=r.opt("BFF_OKTA_API_TOKEN"),
        okta_mgmt_client_id=r.opt("BFF_OKTA_MGMT_CLIENT_ID"),
        okta_mgmt_private_key=r.opt("BFF_OKTA_MGMT_PRIVATE_KEY"),
        password_mode=_password_mode(r),
        org_mode=_org_mode(r, dev),
        profile_fields=_profile_fields(r),
        account_topic_arn=r.opt("BFF_ACCOUNT_TOPIC_ARN"),
        outbox=r.text("BFF_OUTBOX", "sqlite:///./.bff-data/outbox.sqlite3"),
        hook_secret=next(iter(r.items("BFF_OKTA_HOOK_SECRET")), None),
        rate_per_ip=r.integer("BFF_SIGNUP_RATE_PER_IP", 20, minimum=1),
        rate_per_email=r.integer("BFF_SIGNUP_RATE_PER_EMAIL", 3, minimum=1),
        rate_window=r.integer("BFF_SIGNUP_RATE_WINDOW", 3600, minimum=1),
        hook_secrets=r.items("BFF_OKTA_HOOK_SECRET"),
        invitation_ttl=r.integer("BFF_INVITATION_TTL", 7 * 24 * 3600, minimum=60, maximum=90 * 24 * 3600),
        invitations_secrets=_invitations_secrets(r),
    )

    signin = SigninSettings(
        mode=r.choice("BFF_SIGNIN_MODE", "embedded", ("embedded", "redirect")),
        rate_per_ip=r.integer("BFF_SIGNIN_RATE_PER_IP", 60, minimum=1),
        rate_per_identifier=r.integer("BFF_SIGNIN_RATE_PER_IDENTIFIER", 10, minimum=1),
        rate_window=r.integer("BFF_SIGNIN_RATE_WINDOW", 300, minimum=1),
        stepup_acr=r.text("BFF_SIGNIN_STEPUP_ACR", "urn:okta:loa:2fa:any"),
        webauthn=r.flag("BFF_SIGNIN_WEBAUTHN", False),
    )

    aws = AwsSettings(
        region=r.text("BFF_AWS_REGION", "eu-west-1"),
        endpoint_url=r.url("BFF_AWS_ENDPOINT_URL", https_unless_local=True) or None,
    )

    settings = Settings(
        dev=dev,
        public_url=public_url,
        secret_keys=secret_keys,
        log_level=r.choice("BFF_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        okta=okta,
        session=session,
        content=content,
        proxy=proxy,
        signup=signup,
        aws=aws,
        spa_dir=r.text("BFF_SPA_DIR", str(REPO_ROOT / "spa-shell")),
        signin=signin,
        telemetry=_telemetry(r, public_url),
        client_address=_client_address(r),
    )
    if not dev:
        _refuse_placeholders(r, settings)
    return settings


def _refuse_placeholders(r: EnvReader, s: Settings) -> None:
    secrets = {
        "BFF_SECRET_KEYS": ",".join(s.secret_keys),
        "BFF_OKTA_CLIENT_SECRET": s.okta.client_secret,
        "BFF_OKTA_API_TOKEN": s.signup.okta_api_token,
        "BFF_OKTA_HOOK_SECRET": ",".join(s.signup.hook_secrets),  # every entry, not only the newest
        "BFF_AEM_AUTHOR_TOKEN": s.content.aem_author_token,
        "BFF_AEM_WEBHOOK_SECRET": s.content.webhook_secret,
        "BFF_CLOUDFRONT_ORIGIN_SECRET": s.client_address.cloudfront_origin_secret,
    }
    for name, value in secrets.items():
        if value and PLACEHOLDER_MARKER in value:
            r.error(f"{name} holds the development placeholder; set a real secret outside `bff dev`")


def load_environment(env: Mapping[str, str] | None = None, *,
                     secrets_client: object | None = None) -> dict[str, str]:
    """The process environment, overlaid with the secret named by ``BFF_SECRETS_ARN``.

    Deployments keep secrets out of templates and function configuration: the secret (AWS
    Secrets Manager) is a JSON object of ``BFF_*`` names to values, read once at start-up.
    Only ``BFF_*`` keys are taken; a secret value never overrides a variable set explicitly in
    the environment (so an operator can pin one for a hotfix). Failures are ConfigError lines.
    """
    base = dict(os.environ if env is None else env)
    arn = (base.get("BFF_SECRETS_ARN") or "").strip()
    if not arn:
        return base
    import json

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client: Any = secrets_client or boto3.client(
        "secretsmanager",
        region_name=base.get("BFF_AWS_REGION") or "eu-west-1",
        endpoint_url=base.get("BFF_AWS_ENDPOINT_URL") or None,
    )
    try:
        raw = client.get_secret_value(SecretId=arn)["SecretString"]
        values = json.loads(raw)
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError([f"BFF_SECRETS_ARN could not be read: {type(exc).__name__}"]) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(["BFF_SECRETS_ARN must hold a JSON object of BFF_* names to strings"]) from exc
    if not isinstance(values, dict):
        raise ConfigError(["BFF_SECRETS_ARN must hold a JSON object of BFF_* names to strings"])
    errors = [f"BFF_SECRETS_ARN: key {k!r} is not a BFF_* name with a string value"
              for k, v in values.items()
              if not (isinstance(k, str) and k.startswith("BFF_") and isinstance(v, str))]
    if errors:
        raise ConfigError(errors)
    for key, value in values.items():
        if value and not (base.get(key) or "").strip():
            base[key] = value
    return base

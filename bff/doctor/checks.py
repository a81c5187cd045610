"""``bff doctor``: is this deployment wired correctly to Okta, AEM, AWS and its session store?

Read-only. Every check runs against the real service through the client the BFF itself uses
(:class:`bff.auth.oidc.OIDCClient`, :class:`bff.okta.AsyncOktaClient`, :class:`bff.content.aem.AemClient`,
boto3, :func:`bff.sessions.open_store`) and yields one :class:`Result`: a name, pass or fail, what
was seen, and (on a failure) how to fix it. Nothing is written anywhere: the client-authentication
check redeems a code that cannot exist (Okta answers ``invalid_grant`` only after it accepted the
client's credentials), the Management API is only read (``okta.*.read`` scopes suffice).

    okta.discovery      discovery answers and its ``issuer`` is exactly BFF_OKTA_ISSUER
    okta.client_auth    the token endpoint accepts the client's credentials
    okta.grant_types    the app has authorization_code, refresh_token (+ interaction_code when
                        embedded sign-in is on)
    okta.redirect_uris  <public>/bff/callback is a sign-in redirect URI
    okta.logout_uris    <public><BFF_POST_LOGOUT_PATH> is a sign-out redirect URI
    okta.trusted_origin the public origin is a trusted origin (CORS + redirect)
    okta.admin_scope    the step-up scopes (``admin``) exist on the authorization server
    okta.admin_rule     an active rule grants them to the admin groups, and none to anyone else
    okta.claims         the claims the BFF reads (groups, orgId, adminRole, adminGroups)
    okta.event_hook     the event hook to <public>/bff/hooks/okta is active, verified, and subscribes
                        to the event the BFF announces accounts on (bff.signup.hooks.CREATE_EVENT)
    aem.copy            publish answers the persisted query with a fragment per journey and locale
    aem.author          the author tier accepts its credential (when preview is configured)
    aws.topic           the AccountCreated topic exists
    aws.queues          each SQS subscription's queue exists and has a dead-letter queue
    sessions.store      the session store answers
    sessions.ttl        idle timeout <= lifetime, refresh skew and login TTL below the idle timeout
    secrets.keys        secret keys: >= 32 characters, varied, distinct; hook secrets >= 16
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bff.auth.oidc import InvalidGrant, OAuthError, OIDCClient
from bff.content.aem import AemClient, StaticToken
from bff.content.bundle import JOURNEYS
from bff.content.locales import to_aem
from bff.errors import BFFError
from bff.okta import AsyncOktaClient, OktaError, RetryPolicy, management_auth
from bff.sessions import open_store
from bff.settings import PLACEHOLDER_MARKER, Settings
from bff.signup.hooks import CREATE_EVENT

#: What the Management API checks read (grant these to the service app, or use an SSWS token).
READ_SCOPES = (
    "okta.apps.read",
    "okta.authorizationServers.read",
    "okta.groups.read",
    "okta.trustedOrigins.read",
    "okta.eventHooks.read",
)
#: The claims the BFF reads from its tokens (bff.auth: Principal).
CLAIMS = ("groups", "orgId", "adminRole", "adminGroups")
#: The event the BFF announces accounts on (bff.signup.hooks); the hook must subscribe to it.
HOOK_EVENT = CREATE_EVENT
MIN_KEY = 32
MIN_KEY_DISTINCT = 12
MIN_HOOK_SECRET = 16
RETRY = RetryPolicy(attempts=2, max_wait=5.0)


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        tail = "" if self.ok or not self.fix else f"  -> fix: {self.fix}"
        return f"{mark} {self.name:<19} {self.detail}{tail}"


def ok(name: str, detail: str) -> Result:
    return Result(name, True, detail)


def fail(name: str, detail: str, fix: str) -> Result:
    return Result(name, False, detail, fix)


class Doctor:
    """The checks for one deployment's ``settings``, over one ``http`` client."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, *, aws: Any = None) -> None:
        self.s = settings
        self.http = http
        self._aws = aws  # a boto3 Session-like (``.client(name, ...)``); tests and dev pass theirs
        self.oidc = OIDCClient(settings, http)
        self._okta: AsyncOktaClient | None = None
        self._okta_error: str | None = None
        self._app: dict[str, Any] | None = None
        self._group_ids: dict[str, str] = {}

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[Result]:
        checks: list[Callable[[], Awaitable[Result]]] = [
            self.discovery,
            self.client_auth,
            self.grant_types,
            self.redirect_uris,
            self.logout_uris,
            self.trusted_origin,
            self.admin_scope,
            self.admin_rule,
            self.claims,
            self.event_hook,
            self.aem_copy,
            self.aem_author,
            self.topic,
            self.queues,
            self.session_store,
            self.session_ttl,
            self.secret_keys,
        ]
        for check in checks:
            name = check.__name__
            try:
                yield await check()
            except (BFFError, OktaError, httpx.HTTPError, OSError) as exc:
                yield fail(
                    _NAMES.get(name, name),
                    f"could not check: {type(exc).__name__}: {_brief(exc)}",
                    "is the service reachable from here (network, DNS, credentials)?",
                )

    # -- Okta: OIDC ---------------------------------------------------------------------------------

    async def discovery(self) -> Result:
        name = "okta.discovery"
        url = f"{self.s.okta.issuer}/.well-known/openid-configuration"
        try:
            meta = await self.oidc.metadata()
        except BFFError as exc:
            return fail(
                name,
                f"{url}: {exc.detail or exc.instance_code}",
                "BFF_OKTA_ISSUER must be the authorization server's issuer, exactly (e.g. "
                "https://acme.okta.com/oauth2/default, no trailing slash)",
            )
        return ok(name, f"issuer {meta.issuer}")

    async def client_auth(self) -> Result:
        name = "okta.client_auth"
        try:
            await self.oidc.exchange_code(
                "bff-doctor-" + secrets.token_urlsafe(16), secrets.token_urlsafe(48)
            )
        except InvalidGrant:
            return ok(name, f"{self.oidc.auth_method} accepted (a made-up code was refused as invalid_grant)")
        except OAuthError as exc:
            return fail(
                name,
                f"the token endpoint answered {exc.error}",
                "check BFF_OKTA_CLIENT_ID and BFF_OKTA_CLIENT_SECRET (or BFF_OKTA_PRIVATE_KEY and the "
                "app's public key) against the app in Okta",
            )
        return fail(name, "a made-up code was accepted", "this is not an Okta token endpoint")

    # -- Okta: Management API ------------------------------------------------------------------------

    def okta(self) -> AsyncOktaClient | None:
        if self._okta is None and self._okta_error is None:
            sg = self.s.signup
            try:
                auth = management_auth(
                    sg.okta_org_url,
                    api_token=sg.okta_api_token,
                    client_id=sg.okta_mgmt_client_id,
                    private_key=sg.okta_mgmt_private_key,
                    scopes=READ_SCOPES,
                )
            except ValueError as exc:
                self._okta_error = str(exc)
                return None
            self._okta = AsyncOktaClient(sg.okta_org_url, http=self.http, auth=auth, retry=RETRY)
        return self._okta

    def _no_api(self, name: str) -> Result:
        return fail(
            name,
            f"cannot read Okta's configuration: {self._okta_error}",
            "set BFF_OKTA_API_TOKEN (read-only admin) or BFF_OKTA_MGMT_CLIENT_ID + "
            f"BFF_OKTA_MGMT_PRIVATE_KEY with {', '.join(READ_SCOPES)}",
        )

    async def app(self) -> dict[str, Any] | None:
        api = self.okta()
        if api is None:
            return None
        if self._app is None:
            for app in await api.list_all("/api/v1/apps", {"filter": 'status eq "ACTIVE"'}):
                client = ((app.get("credentials") or {}).get("oauthClient") or {}).get("client_id")
                if client == self.s.okta.client_id or app.get("id") == self.s.okta.client_id:
                    self._app = app
                    break
            else:
                self._app = {}
        return self._app

    async def _app_settings(self, name: str) -> tuple[dict[str, Any] | None, Result | None]:
        app = await self.app()
        if app is None:
            return None, self._no_api(name)
        if not app:
            return None, fail(
                name,
                f"no active app with client id {self.s.okta.client_id}",
                "BFF_OKTA_CLIENT_ID must be the client id of an active OIDC web app "
                "(`bff okta apply` creates it)",
            )
        return ((app.get("settings") or {}).get("oauthClient") or {}), None

    async def grant_types(self) -> Result:
        name = "okta.grant_types"
        oauth, problem = await self._app_settings(name)
        if problem is not None or oauth is None:
            return problem or self._no_api(name)
        want = ["authorization_code", "refresh_token"]
        if self.s.signin.mode == "embedded":
            want.append("interaction_code")
        have = set(oauth.get("grant_types") or [])
        missing = [g for g in want if g not in have]
        if missing:
            return fail(
                name,
                f"missing {', '.join(missing)}",
                "enable those grant types on the app (Okta admin: the app's General tab; "
                "interaction_code also needs Interaction Code on the org), or `bff okta apply`",
            )
        return ok(name, ", ".join(want))

    async def redirect_uris(self) -> Result:
        name = "okta.redirect_uris"
        oauth, problem = await self._app_settings(name)
        if problem is not None or oauth is None:
            return problem or self._no_api(name)
        want = f"{self.s.public_url}/bff/callback"
        if want not in (oauth.get("redirect_uris") or []):
            return fail(
                name,
                f"{want} is not a sign-in redirect URI",
                f"add {want} to the app's sign-in redirect URIs (BFF_PUBLIC_URL must match)",
            )
        return ok(name, want)

    async def logout_uris(self) -> Result:
        name = "okta.logout_uris"
        oauth, problem = await self._app_settings(name)
        if problem is not None or oauth is None:
            return problem or self._no_api(name)
        want = f"{self.s.public_url}{self.s.okta.post_logout_path}"
        if want not in (oauth.get("post_logout_redirect_uris") or []):
            return fail(
                name,
                f"{want} is not a sign-out redirect URI",
                f"add {want} to the app's sign-out redirect URIs",
            )
        return ok(name, want)

    async def trusted_origin(self) -> Result:
        name = "okta.trusted_origin"
        api = self.okta()
        if api is None:
            return self._no_api(name)
        origin = self.s.public_origin
        for item in await api.list_all("/api/v1/trustedOrigins"):
            if str(item.get("origin", "")).rstrip("/").lower() == origin.lower():
                kinds = {str(x.get("type")) for x in item.get("scopes") or []}
                if item.get("status") != "ACTIVE":
                    return fail(
                        name, f"{origin} is inactive", "activate it (Security > API > Trusted Origins)"
                    )
                if not {"CORS", "REDIRECT"} <= kinds:
                    return fail(
                        name,
                        f"{origin} has {', '.join(sorted(kinds)) or 'no scope'}",
                        "give it both CORS and Redirect",
                    )
                return ok(name, f"{origin} (CORS, redirect)")
        return fail(
            name,
            f"{origin} is not a trusted origin",
            f"add {origin} with CORS and Redirect (Security > API > Trusted Origins)",
        )

    def _server_id(self) -> str | None:
        path = urlsplit(self.s.okta.issuer).path.strip("/").split("/")
        return path[1] if len(path) == 2 and path[0] == "oauth2" else None

    async def _server_list(self, suffix: str) -> list[dict[str, Any]]:
        api = self.okta()
        assert api is not None
        return await api.list_all(f"/api/v1/authorizationServers/{self._server_id()}{suffix}")

    def _custom_server(self, name: str) -> Result | None:
        if self.okta() is None:
            return self._no_api(name)
        if self._server_id() is None:
            return fail(
                name,
                "BFF_OKTA_ISSUER is the org authorization server: it has no custom scopes or claims",
                "use a custom authorization server (https://<org>/oauth2/<id>)",
            )
        return None

    async def admin_scope(self) -> Result:
        name = "okta.admin_scope"
        problem = self._custom_server(name)
        if problem is not None:
            return problem
        have = {str(x.get("name")) for x in await self._server_list("/scopes")}
        missing = [x for x in self.s.okta.stepup_scopes if x not in have]
        if missing:
            return fail(
                name,
                f"scope {', '.join(missing)} missing on server {self._server_id()}",
                "add it to the authorization server's scopes (`bff okta apply`)",
            )
        return ok(name, ", ".join(self.s.okta.stepup_scopes) or "(no step-up scope configured)")

    async def _group_names(self) -> dict[str, str]:
        """Group id -> name, for the rules' group ids."""
        api = self.okta()
        assert api is not None
        names: dict[str, str] = {}
        for group in self.s.okta.admin_groups:
            for found in await api.list_all("/api/v1/groups", {"q": group}):
                if (found.get("profile") or {}).get("name") == group:
                    names[str(found["id"])] = group
        return names

    async def admin_rule(self) -> Result:
        name = "okta.admin_rule"
        problem = self._custom_server(name)
        if problem is not None:
            return problem
        guarded = set(self.s.okta.stepup_scopes)
        if not guarded:
            return ok(name, "no step-up scope configured")
        app = await self.app() or {}
        client = ((app.get("credentials") or {}).get("oauthClient") or {}).get(
            "client_id"
        ) or self.s.okta.client_id
        admins = await self._group_names()
        granted: set[str] = set()
        leaks: list[str] = []
        policies = sorted(await self._server_list("/policies"), key=lambda p: p.get("priority", 0))
        for policy in policies:
            clients = set(((policy.get("conditions") or {}).get("clients") or {}).get("include") or [])
            if policy.get("status") != "ACTIVE" or not ({"ALL_CLIENTS", client} & clients):
                continue
            for rule in await self._server_list(f"/policies/{policy['id']}/rules"):
                cond = rule.get("conditions") or {}
                if rule.get("status") != "ACTIVE" or "authorization_code" not in set(
                    (cond.get("grantTypes") or {}).get("include") or []
                ):
                    continue
                scopes = set((cond.get("scopes") or {}).get("include") or [])
                hits = guarded if "*" in scopes else guarded & scopes
                if not hits:
                    continue
                people = cond.get("people") or {}
                groups = set((people.get("groups") or {}).get("include") or [])
                users = (people.get("users") or {}).get("include") or []
                outside = sorted(g for g in groups if g not in admins)
                if outside or users:
                    leaks.append(
                        f"{policy.get('name')!r}/{rule.get('name')!r} grants {', '.join(sorted(hits))} "
                        f"to {', '.join(outside) or 'individual users'}"
                    )
                elif groups:
                    granted |= hits
        if leaks:
            return fail(
                name,
                "; ".join(leaks),
                "deactivate that rule or policy: the admin scope must go to "
                f"{', '.join(self.s.okta.admin_groups)} only (see `bff okta plan`'s policy audit)",
            )
        missing = sorted(guarded - granted)
        if missing:
            return fail(
                name,
                f"no active rule grants {', '.join(missing)} to {', '.join(self.s.okta.admin_groups)}",
                "add an access policy rule for the BFF's app: those groups, authorization code, "
                "that scope (`bff okta apply`)",
            )
        return ok(name, f"{', '.join(sorted(granted))} to {', '.join(sorted(set(admins.values())))} only")

    async def claims(self) -> Result:
        name = "okta.claims"
        problem = self._custom_server(name)
        if problem is not None:
            return problem
        have = {str(c.get("name")) for c in await self._server_list("/claims") if c.get("status") == "ACTIVE"}
        missing = [c for c in CLAIMS if c not in have]
        if missing:
            return fail(
                name,
                f"claim {', '.join(missing)} missing",
                "add the claims of infra/okta.example.toml to the authorization server (`bff okta apply`)",
            )
        return ok(name, ", ".join(CLAIMS))

    async def event_hook(self) -> Result:
        name = "okta.event_hook"
        if not self.s.signup.hook_secrets:
            return ok(name, "no event hook configured (BFF_OKTA_HOOK_SECRET unset)")
        api = self.okta()
        if api is None:
            return self._no_api(name)
        uri = f"{self.s.public_url}/bff/hooks/okta"
        for hook in await api.list_all("/api/v1/eventHooks"):
            if ((hook.get("channel") or {}).get("config") or {}).get("uri") != uri:
                continue
            events = set((hook.get("events") or {}).get("items") or [])
            if hook.get("status") != "ACTIVE":
                return fail(name, f"the hook to {uri} is inactive", "activate it (Workflow > Event Hooks)")
            if hook.get("verificationStatus") != "VERIFIED":
                return fail(
                    name,
                    f"the hook to {uri} is not verified",
                    "verify it (Okta calls GET with a challenge; the secret must match "
                    "BFF_OKTA_HOOK_SECRET): `bff okta apply`",
                )
            if HOOK_EVENT not in events:
                return fail(name, f"the hook does not subscribe to {HOOK_EVENT}", f"add {HOOK_EVENT}")
            return ok(name, f"{uri} active, verified, {HOOK_EVENT}")
        return fail(name, f"no event hook delivers to {uri}", "create it (`bff okta apply`)")

    # -- AEM ---------------------------------------------------------------------------------------

    def _aem(self, url: str, tier: str, token: str | None = None) -> AemClient:
        c = self.s.content
        return AemClient(
            self.http,
            url,
            c.aem_config,
            site=c.aem_site,
            timeout=c.timeout,
            retries=0,
            tier=tier,
            auth=StaticToken(token) if token else None,
        )

    async def aem_copy(self) -> Result:
        """The persisted query answers for every journey and locale; a locale without its own
        fragment falls back (fr-CA -> fr -> the default), but the default locale must have each."""
        name = "aem.copy"
        client = self._aem(self.s.content.aem_url, "publish")
        default = self.s.content.default_locale
        pairs = [(j, loc) for j in JOURNEYS for loc in self.s.content.locales]

        async def one(journey: str, locale: str) -> tuple[str, str] | None:
            try:
                fragment = await client.fetch_copy(journey, to_aem(locale))
            except BFFError as exc:
                return "error", f"{journey}/{locale} ({exc.instance_code})"
            return None if fragment is not None else ("absent", f"{journey}/{locale}")

        found = [r for r in await asyncio.gather(*(one(j, loc) for j, loc in pairs)) if r]
        errors = [what for kind, what in found if kind == "error"]
        absent = [what for kind, what in found if kind == "absent"]
        no_default = [what for what in absent if what.endswith(f"/{default}")]
        if errors or no_default:
            problems = errors + [f"{what} (no fragment in the default locale)" for what in no_default]
            shown = ", ".join(problems[:6]) + (f" and {len(problems) - 6} more" if len(problems) > 6 else "")
            return fail(
                name,
                f"{len(problems)} of {len(pairs)} failed: {shown}",
                f"publish the persisted query of BFF_AEM_CONFIG={self.s.content.aem_config} and the "
                "ui-copy fragments (docs/content.md); BFF_AEM_URL must be the publish tier",
            )
        tail = f"; {len(absent)} fall back to another locale ({', '.join(absent[:4])})" if absent else ""
        return ok(
            name,
            f"the persisted query answers for {len(JOURNEYS)} journeys x "
            f"{len(self.s.content.locales)} locales{tail}",
        )

    async def aem_author(self) -> Result:
        name = "aem.author"
        c = self.s.content
        if not c.aem_author_url:
            return ok(name, "preview not configured (BFF_AEM_AUTHOR_URL unset)")
        if not c.aem_author_token:
            return ok(name, "author tier without a static token (IMS or IP allow-list): not checked")
        client = self._aem(c.aem_author_url, "author", c.aem_author_token)
        try:
            await client.fetch_copy(JOURNEYS[0], to_aem(c.default_locale))
        except BFFError as exc:
            return fail(
                name,
                f"{c.aem_author_url}: {exc.instance_code} ({exc.detail or exc.title})",
                "BFF_AEM_AUTHOR_TOKEN must be a valid author-tier token (technical account)",
            )
        return ok(name, f"{c.aem_author_url} accepts the credential")

    # -- AWS ---------------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        import boto3

        session: Any = self._aws or boto3.session.Session()
        return session.client(service, region_name=self.s.aws.region, endpoint_url=self.s.aws.endpoint_url)

    async def topic(self) -> Result:
        name = "aws.topic"
        arn = self.s.signup.account_topic_arn
        if not arn:
            return ok(name, "no topic configured (BFF_ACCOUNT_TOPIC_ARN unset: the outbox only)")
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await asyncio.to_thread(self._client("sns").get_topic_attributes, TopicArn=arn)
        except (BotoCoreError, ClientError) as exc:
            return fail(
                name,
                f"{arn}: {_boto_error(exc)}",
                "BFF_ACCOUNT_TOPIC_ARN must name the stack's topic; the role needs sns:GetTopicAttributes",
            )
        return ok(name, arn)

    async def queues(self) -> Result:
        name = "aws.queues"
        arn = self.s.signup.account_topic_arn
        if not arn:
            return ok(name, "no topic configured")
        from botocore.exceptions import BotoCoreError, ClientError

        def look() -> Result:
            sns, sqs = self._client("sns"), self._client("sqs")
            subs = sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", [])
            queues = [s["Endpoint"] for s in subs if s.get("Protocol") == "sqs"]
            if not queues:
                return fail(name, "the topic has no SQS subscription", "deploy the stack's subscriptions")
            seen = []
            for queue_arn in queues:
                qname, account = queue_arn.rsplit(":", 1)[1], queue_arn.split(":")[4]
                url = sqs.get_queue_url(QueueName=qname, QueueOwnerAWSAccountId=account)["QueueUrl"]
                attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get(
                    "Attributes", {}
                )
                policy = json.loads(attrs.get("RedrivePolicy") or "{}")
                dlq = str(policy.get("deadLetterTargetArn") or "")
                if not dlq:
                    return fail(name, f"{qname} has no dead-letter queue", f"give {qname} a RedrivePolicy")
                sqs.get_queue_url(QueueName=dlq.rsplit(":", 1)[1], QueueOwnerAWSAccountId=dlq.split(":")[4])
                seen.append(qname)
            return ok(name, ", ".join(f"{q} (+DLQ)" for q in seen))

        try:
            return await asyncio.to_thread(look)
        except (BotoCoreError, ClientError) as exc:
            return fail(
                name,
                _boto_error(exc),
                "the queues (and their DLQs) of the topic's subscriptions must "
                "exist; the role needs sqs:GetQueueUrl and sqs:GetQueueAttributes",
            )

    # -- sessions and secrets -------------------------------------------------------------------------

    async def session_store(self) -> Result:
        name = "sessions.store"
        store = open_store(self.s)
        try:
            answered = await store.ping()
        except (BFFError, OSError) as exc:
            answered = False
            detail = f"{type(exc).__name__}"
        else:
            detail = "no answer"
        finally:
            await store.close()
        where = _redacted(self.s.session.store)
        if not answered:
            return fail(name, f"{where}: {detail}", "BFF_SESSION_STORE must be reachable from here")
        return ok(name, f"{where} answers")

    async def session_ttl(self) -> Result:
        name = "sessions.ttl"
        ss = self.s.session
        problems = []
        if ss.idle_timeout > ss.absolute_lifetime:
            problems.append(f"idle timeout {ss.idle_timeout}s > lifetime {ss.absolute_lifetime}s")
        if ss.refresh_skew >= ss.idle_timeout:
            problems.append(f"refresh skew {ss.refresh_skew}s >= idle timeout {ss.idle_timeout}s")
        if ss.login_transaction_ttl >= ss.idle_timeout:
            problems.append(f"login TTL {ss.login_transaction_ttl}s >= idle timeout {ss.idle_timeout}s")
        if problems:
            return fail(
                name,
                "; ".join(problems),
                "BFF_SESSION_IDLE_TIMEOUT <= BFF_SESSION_LIFETIME; "
                "BFF_TOKEN_REFRESH_SKEW and BFF_LOGIN_TTL below the idle timeout",
            )
        return ok(
            name,
            f"idle {ss.idle_timeout}s, lifetime {ss.absolute_lifetime}s, "
            f"refresh skew {ss.refresh_skew}s, login {ss.login_transaction_ttl}s",
        )

    async def secret_keys(self) -> Result:
        name = "secrets.keys"
        problems = []
        keys = self.s.secret_keys
        for i, key in enumerate(keys, 1):
            if len(key) < MIN_KEY:
                problems.append(f"BFF_SECRET_KEYS entry {i} has {len(key)} characters")
            elif len(set(key)) < MIN_KEY_DISTINCT:
                problems.append(f"BFF_SECRET_KEYS entry {i} has only {len(set(key))} distinct characters")
            if not self.s.dev and PLACEHOLDER_MARKER in key:
                problems.append(f"BFF_SECRET_KEYS entry {i} is the development placeholder")
        if len(set(keys)) != len(keys):
            problems.append("BFF_SECRET_KEYS repeats an entry")
        others = {
            "BFF_OKTA_HOOK_SECRET": self.s.signup.hook_secrets,
            "BFF_AEM_WEBHOOK_SECRET": (self.s.content.webhook_secret,)
            if self.s.content.webhook_secret
            else (),
        }
        for var, values in others.items():
            for value in values:
                if len(value) < MIN_HOOK_SECRET:
                    problems.append(f"{var} has an entry of {len(value)} characters")
        if problems:
            return fail(
                name,
                "; ".join(problems),
                f"use random secrets: {MIN_KEY}+ characters for "
                f"BFF_SECRET_KEYS, {MIN_HOOK_SECRET}+ for hook secrets "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')",
            )
        return ok(name, f"{len(keys)} secret key(s), hook secrets long enough")


_NAMES = {
    "discovery": "okta.discovery",
    "client_auth": "okta.client_auth",
    "grant_types": "okta.grant_types",
    "redirect_uris": "okta.redirect_uris",
    "logout_uris": "okta.logout_uris",
    "trusted_origin": "okta.trusted_origin",
    "admin_scope": "okta.admin_scope",
    "admin_rule": "okta.admin_rule",
    "claims": "okta.claims",
    "event_hook": "okta.event_hook",
    "aem_copy": "aem.copy",
    "aem_author": "aem.author",
    "topic": "aws.topic",
    "queues": "aws.queues",
    "session_store": "sessions.store",
    "session_ttl": "sessions.ttl",
    "secret_keys": "secrets.keys",
}
CHECK_NAMES: tuple[str, ...] = tuple(_NAMES.values())


def _brief(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:160]


def _boto_error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or type(exc).__name__)
    return type(exc).__name__


def _redacted(url: str) -> str:
    """A store URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return parts._replace(netloc=netloc).geturl()
    return url


async def diagnose(settings: Settings, http: httpx.AsyncClient, *, aws: Any = None) -> list[Result]:
    """Every check's result, in order."""
    return [result async for result in Doctor(settings, http, aws=aws).run()]

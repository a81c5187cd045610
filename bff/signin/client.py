"""The IDX HTTP client: the wire calls of Okta's Interaction Code flow, on the shared, injected
``httpx.AsyncClient``. It knows nothing of the BFF's transactions, steps or cookies.

    interact()                  POST {issuer}/v1/interact (form, client auth) -> interaction_handle
    introspect()                POST {org}/idp/idx/introspect {"interactionHandle"|"stateHandle"} -> IdxState
    remediate(form, body)       POST form.href (JSON body from steps.prepare)          -> IdxState
    cancel(state)               POST the state's cancel form {"stateHandle"}           -> IdxState
    exchange_interaction_code() POST {token endpoint} grant_type=interaction_code      -> TokenSet

Every IDX call sends ``Accept`` and ``Content-Type: application/ion+json; okta-version=1.0.0``
and, when the caller gives the user's address, ``X-Forwarded-For`` (Okta's risk rules, network
zones and per-IP limits use it; it honours it only from proxies listed in a network zone).

The origin check (:meth:`IdxClient.remediate`): a form is posted only when its ``href`` is
an absolute URL on the configured Okta origin (scheme, host and port of ``BFF_OKTA_ISSUER``
unless ``okta_origin`` says otherwise; no user-info), under ``/idp/idx/``, and its method is
POST. Anything else (another host, a malformed port, a ``redirect-idp`` GET) is refused before
any byte is sent: the state handle must never travel to another party.

Client authentication reuses :class:`bff.auth.oidc.OIDCClient`: the token exchange is its token
request (``client_secret_basic`` or ``private_key_jwt``, its error mapping, its ``TokenSet``);
``/v1/interact`` takes the credentials in the form, as Okta documents it (``client_secret``,
i.e. authlib's ``client_secret_post``, or the OIDC client's ``private_key_jwt`` assertion with
the interact URL as audience). Not verified against a real Okta org: which secret methods
``/v1/interact`` accepts for an app configured with ``client_secret_basic``.

Errors, converted here at the boundary (:mod:`bff.errors`)::

    IdxRejected       400 idx_rejected        Okta answered 4xx WITH an IDX state: a wrong
                                              password, an expired handle, access denied.
                                              ``.state`` holds it (render it), ``.okta_status``
    IdxRateLimited    429 rate_limited        Okta 429; Retry-After from ``Retry-After`` or
                                              ``X-Rate-Limit-Reset`` (else 5 s); ``.state`` if any
    IdxOriginRefused  502 idx_origin_refused  a form outside the Okta origin: nothing was sent
    IdxParseError     502 idx_malformed       the body is JSON but not a usable IDX state
    BadGateway        502 bad_gateway         not JSON, too large, a 3xx, a 4xx without a state
    Unavailable       503 unavailable         5xx (its Retry-After passed on), connection failed
    GatewayTimeout    504 gateway_timeout     Okta did not answer in time
    InvalidGrant      401 invalid_grant       /v1/interact or /v1/token said invalid_grant
    OAuthError        502 idp_error           any other OAuth error of those two

No error, log line or ``repr`` carries the client secret, the code verifier, a state or
interaction handle, the interaction code, or a submitted value.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from bff.auth.oidc import MAX_RESPONSE_BYTES, InvalidGrant, OAuthError, OIDCClient, TokenSet
from bff.errors import BadGateway, BadRequest, GatewayTimeout, RateLimited, Unavailable
from bff.settings import Settings
from bff.signin.idx import ION_MEDIA_TYPE, Form, IdxState, JSONValue, parse_state

log = logging.getLogger("bff.signin.client")

Clock = Callable[[], float]

#: The path every remediation lives under.
IDX_PATH = "/idp/idx/"
#: Retry-After for an Okta 429 that says nothing (Okta's per-user window is about 5 s).
DEFAULT_RETRY_AFTER = 5
#: Longest Retry-After passed on (a wrong clock must not lock users out for a day).
MAX_RETRY_AFTER = 3600
#: An interaction handle longer than this is not one.
MAX_HANDLE_LENGTH = 2048


class IdxRejected(BadRequest):
    """Okta refused the request and answered an IDX state (HTTP 400/401/403...). The state
    still holds the remediations the user can retry, or is terminal (expired, denied)."""

    code = "idx_rejected"
    title = "The sign-in step was not accepted"

    def __init__(self, state: IdxState, okta_status: int) -> None:
        super().__init__(f"Okta refused the sign-in step (HTTP {okta_status})")
        self.state = state
        self.okta_status = okta_status


class IdxRateLimited(RateLimited):
    """Okta answered 429. ``state`` is the IDX state of the body when it carried one."""

    def __init__(self, retry_after: int, state: IdxState | None = None) -> None:
        super().__init__(retry_after, "Okta is rate limiting sign-in; try again shortly")
        self.retry_after = retry_after
        self.state = state


class IdxOriginRefused(BadGateway):
    """A form points outside the Okta org (or is not a POST under /idp/idx/): not sent."""

    def __init__(self, form_name: str, reason: str) -> None:
        super().__init__(f"IDX form {form_name[:64]!r} refused: {reason}", code="idx_origin_refused")


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL without user-info, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # "http://host:3000:1802/..." and other malformed netlocs
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username is not None \
            or parts.password is not None:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else (443 if scheme == "https" else 80)


def retry_after(headers: Mapping[str, str], now: float) -> int | None:
    """Seconds to wait, from ``Retry-After`` (seconds or an HTTP date) or Okta's
    ``X-Rate-Limit-Reset`` (epoch seconds); None when neither says."""
    value = headers.get("retry-after", "").strip()
    if value.isascii() and value.isdigit():
        return min(MAX_RETRY_AFTER, max(1, int(value)))
    if value:
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None:
            return min(MAX_RETRY_AFTER, max(1, int(when - now + 0.999)))
    reset = headers.get("x-rate-limit-reset", "").strip()
    if reset.isascii() and reset.isdigit():
        return min(MAX_RETRY_AFTER, max(1, int(reset) - int(now)))
    return None


def _json_body(response: httpx.Response, what: str) -> object:
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise BadGateway(f"Okta {what} response is too large")
    try:
        body: object = response.json()
    except (ValueError, RecursionError) as exc:
        raise BadGateway(f"Okta {what} response is not JSON (HTTP {response.status_code})") from exc
    return body


class IdxClient:
    """The IDX API client. ``http`` is the app's shared ``httpx.AsyncClient`` (its timeouts
    apply); ``oidc`` the relying party whose client credentials and token endpoint are used;
    ``okta_origin`` the org URL when it differs from the issuer's origin; ``clock`` (epoch
    seconds) turns ``X-Rate-Limit-Reset`` into a delay."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, oidc: OIDCClient, *,
                 okta_origin: str | None = None, clock: Clock = time.time) -> None:
        self.okta = settings.okta
        self.http = http
        self.oidc = oidc
        self.clock = clock
        origin_url = okta_origin or self.okta.issuer
        origin = _origin(origin_url)
        if origin is None:
            raise ValueError(f"not an absolute http(s) Okta origin: {origin_url!r}")
        self.origin = origin
        parts = urlsplit(origin_url)
        self.org_url = f"{parts.scheme}://{parts.netloc}"
        self.interact_url = f"{self.okta.issuer}/v1/interact"
        self.redirect_uri = oidc.redirect_uri

    # -- OAuth: interact and token ---------------------------------------------------------

    async def interact(self, *, code_verifier: str, state: str, scopes: Iterable[str],
                       nonce: str | None = None, acr_values: str | None = None,
                       max_age: int | None = None,
                       redirect_uri: str | None = None, client_ip: str | None = None) -> str:
        """Start an interaction: PKCE S256 from ``code_verifier`` (never sent here), the OAuth
        ``state``, the scopes. Returns the interaction handle (keep it server-side)."""
        form: list[tuple[str, str]] = [
            ("scope", " ".join(scopes)),
            ("redirect_uri", redirect_uri or self.redirect_uri),
            ("code_challenge", create_s256_code_challenge(code_verifier)),
            ("code_challenge_method", "S256"),
            ("state", state),
        ]
        if nonce:
            form.append(("nonce", nonce))
        if acr_values:
            form.append(("acr_values", acr_values))
        if max_age is not None:  # a step-up: the sign-in must be this recent (okta-auth-js sends it too)
            form.append(("max_age", str(max_age)))
        if self.oidc.auth_method == "private_key_jwt":
            # The OIDC client's own assertion, audience = this endpoint; client_id in the form.
            auth = self.oidc.client_auth(self.interact_url)  # the OIDC client owns the key
            form.insert(0, ("client_id", self.okta.client_id))
        else:
            auth = ClientAuth(self.okta.client_id, self.okta.client_secret, "client_secret_post")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        headers.update(self._forwarded(client_ip))
        _, headers, body = auth.prepare("POST", self.interact_url, headers, urlencode(form))
        response = await self._send(self.interact_url, "interact", content=body.encode(), headers=headers)
        if response.status_code != 200:
            self._raise_oauth_error(response, "interact")
        doc = _json_body(response, "interact")
        handle = doc.get("interaction_handle") if isinstance(doc, dict) else None
        if not isinstance(handle, str) or not handle or len(handle) > MAX_HANDLE_LENGTH:
            raise BadGateway("Okta interact response has no interaction_handle")
        return handle

    async def exchange_interaction_code(self, interaction_code: str, code_verifier: str) -> TokenSet:
        """Redeem ``IdxState.interaction_code`` at the token endpoint with the PKCE verifier.
        The ID token in the result must be validated exactly as for the code flow."""
        # The OIDC client's token request: its client auth, error mapping and TokenSet.
        return await self.oidc.token_request({
            "grant_type": "interaction_code",
            "interaction_code": interaction_code,
            "code_verifier": code_verifier,
        })

    # -- IDX --------------------------------------------------------------------------------

    async def introspect(self, *, interaction_handle: str | None = None, state_handle: str | None = None,
                         client_ip: str | None = None) -> IdxState:
        """The current state of a transaction, by the interaction handle (its first state) or
        by a state handle (to resume)."""
        if (interaction_handle is None) == (state_handle is None):
            raise ValueError("introspect takes exactly one of interaction_handle and state_handle")
        body: dict[str, JSONValue] = (
            {"interactionHandle": interaction_handle} if interaction_handle is not None
            else {"stateHandle": state_handle})
        return await self._idx_post(f"{self.org_url}{IDX_PATH}introspect", body, "introspect", client_ip)

    async def remediate(self, form: Form, body: Mapping[str, JSONValue], *,
                        client_ip: str | None = None) -> IdxState:
        """Post ``body`` (from :func:`bff.signin.steps.prepare`, state handle included) to the
        form's ``href``, which must pass the origin check (module docstring)."""
        url = self._checked_href(form)
        return await self._idx_post(url, dict(body), form.name, client_ip)

    async def cancel(self, state: IdxState, *, client_ip: str | None = None) -> IdxState:
        """End the transaction at Okta (the state's ``cancel`` form, else ``/idp/idx/cancel``)."""
        if state.state_handle is None:
            raise ValueError("this state has no state handle to cancel")
        form = state.cancel or Form(name="cancel", href=f"{self.org_url}{IDX_PATH}cancel")
        return await self.remediate(form, {"stateHandle": state.state_handle}, client_ip=client_ip)

    # -- plumbing ---------------------------------------------------------------------------

    def _checked_href(self, form: Form) -> str:
        if form.method != "POST":
            raise IdxOriginRefused(form.name, f"method {form.method[:8]} is not POST")
        href = form.href
        if href is None or _origin(href) != self.origin:
            raise IdxOriginRefused(form.name, "its href is not on the Okta origin")
        if not urlsplit(href).path.startswith(IDX_PATH):
            raise IdxOriginRefused(form.name, f"its href is not under {IDX_PATH}")
        return href

    @staticmethod
    def _forwarded(client_ip: str | None) -> dict[str, str]:
        if client_ip is None:
            return {}
        try:
            return {"X-Forwarded-For": str(ipaddress.ip_address(client_ip))}
        except ValueError:
            log.warning("not forwarding a client address that is not an IP address")
            return {}

    async def _send(self, url: str, what: str, *, content: bytes,
                    headers: Mapping[str, str]) -> httpx.Response:
        try:
            return await self.http.post(url, content=content, headers=dict(headers))
        except httpx.TimeoutException as exc:
            log.warning("okta %s timed out", what)
            raise GatewayTimeout(f"Okta did not answer in time ({what})") from exc
        except httpx.HTTPError as exc:
            log.warning("okta %s unreachable: %s", what, type(exc).__name__)
            raise Unavailable(f"Okta is unreachable ({what})") from exc

    def _raise_transient(self, response: httpx.Response, what: str, state: IdxState | None = None) -> None:
        status = response.status_code
        if status == 429:
            wait = retry_after(response.headers, self.clock())
            log.warning("okta %s rate limited (retry after %s s)", what, wait)
            raise IdxRateLimited(wait if wait is not None else DEFAULT_RETRY_AFTER, state)
        if status >= 500:
            log.warning("okta %s answered %s", what, status)
            wait = retry_after(response.headers, self.clock())
            raise Unavailable(f"Okta answered {status} ({what})",
                              headers={"Retry-After": str(wait)} if wait is not None else None)

    def _raise_oauth_error(self, response: httpx.Response, what: str) -> None:
        self._raise_transient(response, what)
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, str):
            raise BadGateway(f"Okta answered {response.status_code} without an OAuth error ({what})")
        if error == "invalid_grant":
            raise InvalidGrant("Okta no longer accepts this sign-in; start again")
        log.warning("okta %s error: %s (HTTP %s)", what, error[:64], response.status_code)
        raise OAuthError(error[:64])

    async def _idx_post(self, url: str, body: dict[str, JSONValue], what: str,
                        client_ip: str | None) -> IdxState:
        headers = {"Accept": ION_MEDIA_TYPE, "Content-Type": ION_MEDIA_TYPE, **self._forwarded(client_ip)}
        response = await self._send(url, what, content=json.dumps(body, separators=(",", ":")).encode(),
                                    headers=headers)
        status = response.status_code
        if status == 429:
            state: IdxState | None = None
            try:
                state = parse_state(_json_body(response, what))
            except BadGateway:
                pass  # the 429 stands without its body
            self._raise_transient(response, what, state)
        self._raise_transient(response, what)
        if status < 200 or 300 <= status < 400:
            raise BadGateway(f"Okta answered {status} ({what})")
        doc = _json_body(response, what)
        if status < 300:
            return parse_state(doc)
        try:
            rejected = parse_state(doc)
        except BadGateway as exc:
            raise BadGateway(f"Okta refused {what} (HTTP {status}) without an IDX state") from exc
        log.info("okta %s refused (HTTP %s): %s", what, status,
                 ",".join(m.key or "?" for m in rejected.messages)[:200] or "-")
        raise IdxRejected(rejected, status)

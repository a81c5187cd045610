"""A small Marketo REST client: an identity token cached until it expires, and the lead upsert.

Wire facts (Marketo REST API):

- Token: ``POST {identity}/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..``
  answers ``{"access_token","token_type":"bearer","expires_in":3599,"scope"}``; a bad client
  answers HTTP 401 ``{"error":"unauthorized","error_description":"Bad client credentials"}``.
- Upsert: ``POST {rest}/rest/v1/leads.json`` with ``Authorization: Bearer``, body
  ``{"action":"createOrUpdate","lookupField":"email","input":[{...}]}``. Request-level errors
  still come with HTTP 200: ``{"success":false,"errors":[{"code":"601","message":...}]}``;
  per-record outcomes are in ``result[i].status`` (``created``/``updated``/``skipped`` with
  ``reasons``).

Error tree::

    MarketoError                      anything that kept the lead from being written
    ├── MarketoRetryableError         try again later (SQS redelivery): 606/607/615 after a
    │                                 bounded back-off, 604/608/611/713, HTTP 5xx, timeouts
    ├── MarketoAuthError              the identity endpoint refused the client credentials
    ├── MarketoRequestError           any other request-level error code (e.g. 1xxx, 7xx)
    └── MarketoRecordError            the record was ``skipped`` (``reasons`` carries the codes)

Token handling: 600/601/602 (missing/invalid/expired token) drop the cached token, fetch a new
one and retry once more. No exception message ever contains the token or the client secret.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

TOKEN_CODES = frozenset({"600", "601", "602"})
# Rate limit (100 calls/20 s), daily quota, concurrency limit (10): wait and try again.
BACKOFF_CODES = frozenset({"606", "607", "615"})
# Timeout, temporarily unavailable, system error, transient error.
TRANSIENT_CODES = frozenset({"604", "608", "611", "713"})


class MarketoError(Exception):
    """The lead was not written. ``codes`` are Marketo's error/reason codes, when it gave any."""

    retryable = False

    def __init__(self, message: str, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


class MarketoRetryableError(MarketoError):
    retryable = True


class MarketoAuthError(MarketoError):
    pass


class MarketoRequestError(MarketoError):
    pass


class MarketoRecordError(MarketoError):
    pass


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # monotonic clock


def _endpoint(base: str, suffix: str, segment: str) -> str:
    """Marketo Admin shows ``https://xxx.mktorest.com/rest`` and ``.../identity``; accept both
    those and the bare instance URL."""
    base = base.rstrip("/")
    if not base.endswith("/" + segment):
        base = f"{base}/{segment}"
    return base + suffix


def _codes(items: Any) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(str(item.get("code")) for item in items if isinstance(item, dict))


def _messages(items: Any) -> str:
    if not isinstance(items, list):
        return ""
    return "; ".join(f"{item.get('code')} {item.get('message', '')}".strip()
                     for item in items if isinstance(item, dict))


class MarketoClient:
    """Create-or-update leads by email.

    ``identity_url`` and ``rest_url`` are the two URLs of Marketo Admin > Web Services.
    ``http`` is a synchronous ``httpx.Client`` owned by the caller (its timeouts apply).
    ``backoff_attempts`` bounds how many times one call waits and retries on 606/607/615,
    5xx or a timeout before raising :class:`MarketoRetryableError`; waits grow from
    ``backoff_base`` seconds, doubling, with jitter, each at most ``backoff_cap``.
    """

    def __init__(self, identity_url: str, rest_url: str, client_id: str, client_secret: str, *,
                 http: httpx.Client, backoff_attempts: int = 3, backoff_base: float = 1.0,
                 backoff_cap: float = 8.0, token_skew: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._token_url = _endpoint(identity_url, "/oauth/token", "identity")
        self._leads_url = _endpoint(rest_url, "/v1/leads.json", "rest")
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._backoff_attempts = backoff_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._token_skew = token_skew
        self._clock = clock
        self._sleep = sleep
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self.token_requests = 0  # observable for operations and tests

    # ------------------------------------------------------------------------------ tokens

    def _fetch_token(self) -> _Token:
        params = {"grant_type": "client_credentials", "client_id": self._client_id,
                  "client_secret": self._client_secret}
        try:
            resp = self._http.post(self._token_url, params=params,
                                   headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise MarketoRetryableError("Marketo identity endpoint timed out") from exc
        except httpx.TransportError as exc:
            raise MarketoRetryableError(
                f"Marketo identity endpoint unreachable ({type(exc).__name__})") from exc
        self.token_requests += 1
        if resp.status_code in (400, 401, 403):
            raise MarketoAuthError(f"Marketo refused the client credentials (HTTP {resp.status_code})")
        if resp.status_code >= 500 or resp.status_code == 429:
            raise MarketoRetryableError(f"Marketo identity endpoint answered HTTP {resp.status_code}")
        try:
            data = resp.json()
            token = str(data["access_token"])
            expires_in = float(data.get("expires_in", 0))
        except (ValueError, KeyError, TypeError) as exc:
            raise MarketoRequestError("Marketo identity endpoint answered without an access token") from exc
        if not token:
            raise MarketoRequestError("Marketo identity endpoint answered an empty access token")
        # Marketo hands out the still-valid token with its REMAINING lifetime; a token about to
        # expire is used only until skew seconds before its end.
        return _Token(token, self._clock() + max(0.0, expires_in - self._token_skew))

    def access_token(self) -> str:
        """The cached token, fetched anew when absent or within ``token_skew`` of expiry."""
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.expires_at:
                token = self._token = self._fetch_token()
            return token.value

    def invalidate_token(self, value: str) -> None:
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    # ------------------------------------------------------------------------------ leads

    def _backoff(self, attempt: int) -> None:
        delay = min(self._backoff_cap, self._backoff_base * (2 ** attempt))
        self._sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto

    def _classify(self, resp: httpx.Response) -> dict[str, Any] | MarketoError:
        """The body of a successful call, or the error it stands for (raised when final)."""
        if resp.status_code in (413, 414):
            raise MarketoRequestError(f"Marketo rejected the request size (HTTP {resp.status_code})")
        if resp.status_code == 401:  # a gateway in front of Marketo; Marketo itself says 601
            return MarketoRequestError("Marketo answered HTTP 401", ("601",))
        if resp.status_code >= 500 or resp.status_code == 429:
            return MarketoRetryableError(f"Marketo leads endpoint answered HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise MarketoRequestError(f"Marketo leads endpoint answered HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            return MarketoRetryableError("Marketo answered a body that is not JSON")
        if not isinstance(data, dict):
            raise MarketoRequestError("Marketo answered an unexpected JSON document")
        if data.get("success") is True:
            return data
        codes = _codes(data.get("errors"))
        detail = _messages(data.get("errors")) or "no error detail"
        if set(codes) & TOKEN_CODES:
            return MarketoRequestError(f"Marketo refused the access token: {detail}", codes)
        if set(codes) & (BACKOFF_CODES | TRANSIENT_CODES):
            return MarketoRetryableError(f"Marketo asked to back off: {detail}", codes)
        raise MarketoRequestError(f"Marketo refused the request: {detail}", codes)

    def _post_leads(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """One authenticated call, with token renewal and bounded back-off around it."""
        token_retries = 0
        backoffs = 0
        while True:
            token = self.access_token()
            try:
                resp = self._http.post(self._leads_url, json=body, headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/json"})
            except httpx.TimeoutException:
                outcome: dict[str, Any] | MarketoError = MarketoRetryableError(
                    "Marketo leads endpoint timed out")
            except httpx.TransportError as exc:
                outcome = MarketoRetryableError(f"Marketo leads endpoint unreachable ({type(exc).__name__})")
            else:
                outcome = self._classify(resp)
            if not isinstance(outcome, MarketoError):
                return outcome
            if set(outcome.codes) & TOKEN_CODES:
                # Invalid or expired token: drop it, get a new one, try again (twice at most).
                self.invalidate_token(token)
                if token_retries >= 2:
                    raise MarketoRequestError("Marketo kept refusing fresh access tokens", outcome.codes)
                token_retries += 1
                continue
            if backoffs >= self._backoff_attempts:
                raise outcome
            self._backoff(backoffs)
            backoffs += 1

    def upsert_lead(self, email: str, first_name: str, last_name: str,
                    extra: Mapping[str, Any] | None = None) -> int:
        """createOrUpdate one lead looked up by email; returns Marketo's lead id.

        ``extra`` holds further field API names (they must exist in the Marketo instance;
        an unknown field makes Marketo skip the record with reason 1006).
        """
        lead: dict[str, Any] = {**(extra or {}), "email": email, "firstName": first_name,
                                "lastName": last_name}
        body = {"action": "createOrUpdate", "lookupField": "email", "input": [lead]}
        data = self._post_leads(body)
        result = data.get("result")
        if not isinstance(result, list) or not result or not isinstance(result[0], dict):
            raise MarketoRequestError("Marketo answered success without a result record")
        record = result[0]
        status = record.get("status")
        if status in ("created", "updated"):
            try:
                return int(record["id"])
            except (KeyError, TypeError, ValueError) as exc:
                raise MarketoRequestError(f"Marketo answered {status} without a lead id") from exc
        reasons = record.get("reasons")
        raise MarketoRecordError(
            f"Marketo did not write the lead (status {status!r}): {_messages(reasons) or 'no reason given'}",
            _codes(reasons))

"""Minimal Okta Management API client: the partial profile update this function needs.

``POST {org}/api/v1/users/{id}`` with ``{"profile": {...}}`` is a PARTIAL update (``PUT`` would
replace the whole profile). Authenticated with ``Authorization: SSWS {token}``.
404 → :class:`~account_validation.validator.UserGone`; 429 / 5xx / timeouts →
:class:`OktaUnavailable` (retried by SQS); other errors → :class:`OktaError` carrying Okta's
``errorCode`` and ``errorSummary`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from account_validation.validator import UserGone


class OktaError(Exception):
    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class OktaUnavailable(OktaError):
    pass


class OktaProfileClient:
    def __init__(self, org_url: str, api_token: str, *, http: httpx.Client) -> None:
        self._base = org_url.rstrip("/")
        self._token = api_token
        self._http = http

    def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> dict[str, Any]:
        url = f"{self._base}/api/v1/users/{quote(user_id, safe='')}"
        try:
            resp = self._http.post(url, json={"profile": dict(profile)}, headers={
                "Authorization": f"SSWS {self._token}", "Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise OktaUnavailable("Okta timed out") from exc
        except httpx.TransportError as exc:
            raise OktaUnavailable(f"Okta unreachable ({type(exc).__name__})") from exc
        if resp.status_code == 200:
            body = resp.json()
            return body if isinstance(body, dict) else {}
        code, summary = None, ""
        try:
            data = resp.json()
            code, summary = data.get("errorCode"), str(data.get("errorSummary", ""))[:200]
        except ValueError:
            pass
        if resp.status_code == 404:
            raise UserGone(user_id)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise OktaUnavailable(f"Okta answered HTTP {resp.status_code} {code or ''}".strip(), code)
        raise OktaError(
            f"Okta refused the profile update (HTTP {resp.status_code} {code or ''}: {summary})", code)

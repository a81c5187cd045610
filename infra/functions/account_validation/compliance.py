"""Client of the third-party name-compliance (restricted-party screening) API.

Contract: ``POST {COMPLIANCE_API_URL}/v1/screenings`` with ``X-API-Key`` and
``{"reference", "firstName", "lastName"}`` → ``{"screeningId", "result": "pass"|"fail",
"reasons": [{"code", "message"}]}``. Only the names and our opaque user id leave the system
(no email, no organisation): the screening needs nothing else.

A timeout, a connection failure, HTTP 429 or 5xx is NOT a verdict: :class:`ComplianceUnavailable`
is raised and the SQS record is retried (then parked in the DLQ). Any other non-200 answer or an
unreadable body raises :class:`ComplianceError` (also retried: it usually means a bad key or URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


class ComplianceError(Exception):
    """The API gave no verdict (configuration or contract problem)."""


class ComplianceUnavailable(ComplianceError):
    """The API is down, slow or overloaded: try again later."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    screening_id: str | None = None
    reasons: tuple[dict[str, str], ...] = field(default_factory=tuple)


class ComplianceClient:
    def __init__(self, base_url: str, api_key: str, *, http: httpx.Client) -> None:
        self._url = base_url.rstrip("/") + "/v1/screenings"
        self._api_key = api_key
        self._http = http

    def screen(self, reference: str, first_name: str, last_name: str) -> Verdict:
        try:
            resp = self._http.post(self._url, json={
                "reference": reference, "firstName": first_name, "lastName": last_name,
            }, headers={"X-API-Key": self._api_key, "Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise ComplianceUnavailable("compliance API timed out") from exc
        except httpx.TransportError as exc:
            raise ComplianceUnavailable(f"compliance API unreachable ({type(exc).__name__})") from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ComplianceUnavailable(f"compliance API answered HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise ComplianceError(f"compliance API refused the request (HTTP {resp.status_code})")
        try:
            data = resp.json()
            result = data["result"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ComplianceError("compliance API answered without a result") from exc
        reasons = tuple(
            {"code": str(r.get("code", "")), "message": str(r.get("message", ""))}
            for r in (data.get("reasons") or []) if isinstance(r, dict)
        )
        screening_id = data.get("screeningId")
        screening = str(screening_id) if screening_id is not None else None
        if result == "pass":
            return Verdict(True, screening, reasons)
        if result == "fail":
            return Verdict(False, screening, reasons)
        raise ComplianceError(f"compliance API answered an unknown result {str(result)[:40]!r}")

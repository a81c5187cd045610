"""A local Marketo: the identity endpoint and the lead endpoints, with Marketo's response shapes.

Served endpoints (the same paths as an instance's ``https://xxx.mktorest.com``):

- ``GET|POST /identity/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..``
  (query or form): ``{"access_token","token_type":"bearer","expires_in","scope"}``. While a
  token is valid the same token comes back with its remaining lifetime, as Marketo does. Bad
  credentials → HTTP 401 ``{"error":"unauthorized","error_description":"Bad client credentials"}``.
- ``POST /rest/v1/leads.json`` (``Authorization: Bearer`` or ``?access_token=``):
  ``{"action","lookupField","input":[...]}`` → ``{"requestId","success":true,"result":[{"id",
  "status":"created"|"updated"}|{"status":"skipped","reasons":[{"code","message"}]}]}``.
  Request-level errors answer HTTP 200 ``{"requestId","success":false,"errors":[{"code",
  "message"}]}``: 600 no token, 601 invalid token, 602 expired token, 609 invalid JSON, 1003
  invalid request data; record-level: 1003 missing lookup value, 1004 lead not found
  (updateOnly), 1005 lead already exists (createOnly), 1006 unknown field.
- ``GET /rest/v1/leads.json?filterType=email&filterValues=a@x,b@y[&fields=..]``: the stored
  leads, as Marketo's "Get Leads by Filter Type".

Knobs (Python on :class:`MarketoTwin`, or HTTP under ``/__twin/`` for ``bff dev``):
``inject("606", "601", ...)`` makes the next lead calls answer those request-level codes, one
per call, in order (``POST /__twin/faults {"codes": [...]}``); ``skip(email, code, message)``
makes a record come back ``skipped`` (``POST /__twin/skip``); ``expire_tokens()`` /
``revoke_tokens()`` turn the issued tokens into 602 / 601 (``POST /__twin/tokens
{"action": "expire"|"revoke"}``); ``GET /__twin/leads`` lists every stored lead and
``GET /__twin/stats`` the call counters; ``POST /__twin/reset`` forgets everything.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEV_CLIENT_ID = "dev-marketo-client"
DEV_CLIENT_SECRET = "dev-only-insecure-marketo-secret"  # noqa: S105 - the twin's documented dev secret

MAX_BATCH = 300
MAX_BODY = 1024 * 1024  # Marketo answers 413 above 1 MB

#: Field API names the twin's "instance" has: Marketo standard fields plus this project's
#: custom ``oktaUserId`` (create it in the real instance, type String).
DEFAULT_FIELDS = frozenset({
    "id", "email", "firstName", "lastName", "middleName", "company", "title", "phone",
    "mobilePhone", "country", "state", "city", "postalCode", "address", "website", "industry",
    "leadSource", "leadStatus", "unsubscribed", "oktaUserId",
})

ERROR_MESSAGES = {
    "600": "Access token not specified",
    "601": "Access token invalid",
    "602": "Access token expired",
    "604": "Request timed out",
    "606": "Max rate limit '100' exceeded with in '20' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "609": "Invalid JSON",
    "611": "System error",
    "615": "Concurrent access limit reached",
    "713": "Transient Error",
    "1003": "Invalid data",
}

ACTIONS = ("createOrUpdate", "createOnly", "updateOnly", "createDuplicate")


def _now_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_id() -> str:
    return f"{secrets.token_hex(2)}#{secrets.token_hex(6)[:11]}"


@dataclass
class _Issued:
    client_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class MarketoStats:
    token_requests: int = 0
    token_refusals: int = 0
    lead_calls: int = 0  # every POST/GET to the lead endpoints, errors included
    errors: dict[str, int] = field(default_factory=dict)  # request-level code → count
    created: int = 0
    updated: int = 0
    skipped: int = 0


class MarketoTwin:
    """The twin's state: clients, tokens, leads, injected faults and counters."""

    def __init__(self, client_id: str = DEV_CLIENT_ID, client_secret: str = DEV_CLIENT_SECRET, *,
                 token_ttl: int = 3600, fields: Iterable[str] = DEFAULT_FIELDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_ttl = token_ttl
        self.fields = frozenset(fields)
        self._clock = clock
        self._tokens: dict[str, _Issued] = {}
        self._faults: deque[str] = deque()
        self._skips: dict[str, tuple[str, str]] = {}
        self._leads: dict[int, dict[str, Any]] = {}
        self._next_id = 1000
        self.stats = MarketoStats()

    # ------------------------------------------------------------------ knobs (tests, dev)

    def inject(self, *codes: str) -> None:
        """The next ``len(codes)`` lead calls answer these request-level error codes, in order."""
        for code in codes:
            self._faults.append(str(code))

    def skip(self, email: str, code: str = "1003", message: str = "Invalid data") -> None:
        """Records for ``email`` come back ``skipped`` with this reason."""
        self._skips[email.lower()] = (code, message)

    def expire_tokens(self) -> None:
        for issued in self._tokens.values():
            issued.expires_at = min(issued.expires_at, self._clock() - 1)

    def revoke_tokens(self) -> None:
        for issued in self._tokens.values():
            issued.revoked = True

    def reset(self) -> None:
        self._tokens.clear()
        self._faults.clear()
        self._skips.clear()
        self._leads.clear()
        self.stats = MarketoStats()

    # ------------------------------------------------------------------ reads

    @property
    def leads(self) -> list[dict[str, Any]]:
        return [dict(lead) for lead in self._leads.values()]

    def lead_by_email(self, email: str) -> dict[str, Any] | None:
        for lead in self._leads.values():
            if str(lead.get("email", "")).lower() == email.lower():
                return dict(lead)
        return None

    # ------------------------------------------------------------------ identity

    def issue_token(self, client_id: str, client_secret: str) -> dict[str, Any] | None:
        self.stats.token_requests += 1
        if not (secrets.compare_digest(client_id.encode(), self.client_id.encode())
                and secrets.compare_digest(client_secret.encode(), self._client_secret.encode())):
            self.stats.token_refusals += 1
            return None
        now = self._clock()
        for value, issued in self._tokens.items():
            if issued.client_id == client_id and not issued.revoked and issued.expires_at > now + 1:
                return self._token_body(value, issued, now)
        value = f"{uuid.uuid4()}:lo"
        issued = _Issued(client_id, now + self.token_ttl)
        self._tokens[value] = issued
        return self._token_body(value, issued, now)

    def _token_body(self, value: str, issued: _Issued, now: float) -> dict[str, Any]:
        return {"access_token": value, "token_type": "bearer",
                "expires_in": max(0, int(issued.expires_at - now) - 1), "scope": "api-user@acme.test"}

    def check_token(self, value: str | None) -> str | None:
        """The request-level error code for this token, or None when it is good."""
        if not value:
            return "600"
        issued = self._tokens.get(value)
        if issued is None or issued.revoked:
            return "601"
        if issued.expires_at <= self._clock():
            return "602"
        return None

    # ------------------------------------------------------------------ leads

    def next_fault(self) -> str | None:
        return self._faults.popleft() if self._faults else None

    def upsert(self, action: str, lookup: str, records: list[Any]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for record in records:
            results.append(self._upsert_one(action, lookup, record))
        return results

    def _skipped(self, code: str, message: str) -> dict[str, Any]:
        self.stats.skipped += 1
        return {"status": "skipped", "reasons": [{"code": code, "message": message}]}

    def _upsert_one(self, action: str, lookup: str, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict):
            return self._skipped("1003", "Invalid data")
        unknown = sorted(k for k in record if k not in self.fields)
        if unknown:
            return self._skipped("1006", f"Field '{unknown[0]}' not found")
        key = record.get(lookup)
        if key is None or (isinstance(key, str) and not key.strip()):
            return self._skipped("1003", f"Value for required field '{lookup}' not specified")
        email = str(record.get("email", "")).lower()
        if email in self._skips:
            code, message = self._skips[email]
            return self._skipped(code, message)
        existing = None
        if action != "createDuplicate":
            existing = next((lead for lead in self._leads.values()
                             if str(lead.get(lookup, "")).lower() == str(key).lower()), None)
        now = _now_iso(self._clock())
        if existing is not None:
            if action == "createOnly":
                return self._skipped("1005", "Lead already exists")
            existing.update({k: v for k, v in record.items() if k != "id"})
            existing["updatedAt"] = now
            self.stats.updated += 1
            return {"id": existing["id"], "status": "updated"}
        if action == "updateOnly":
            return self._skipped("1004", "Lead not found")
        self._next_id += 1
        lead = {k: v for k, v in record.items() if k != "id"}
        lead.update(id=self._next_id, createdAt=now, updatedAt=now)
        self._leads[self._next_id] = lead
        self.stats.created += 1
        return {"id": self._next_id, "status": "created"}


# ---------------------------------------------------------------------------------- HTTP


def _ok(result: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"requestId": _request_id(), "result": result, "success": True})


def _error(twin: MarketoTwin, code: str, message: str | None = None) -> JSONResponse:
    twin.stats.errors[code] = twin.stats.errors.get(code, 0) + 1
    return JSONResponse({"requestId": _request_id(), "success": False,
                         "errors": [{"code": code, "message": message or ERROR_MESSAGES.get(code, "Error")}]})


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.query_params.get("access_token") or None


def create_app(twin: MarketoTwin) -> Starlette:
    """The twin's ASGI app (serve it with ``bff_dev.devstack.serve_asgi``)."""

    async def token(request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        grant = params.get("grant_type")
        if grant != "client_credentials":
            error = "invalid_request" if not grant else "unsupported_grant_type"
            return JSONResponse({"error": error, "error_description": "Invalid grant type"}, status_code=400)
        body = twin.issue_token(params.get("client_id", ""), params.get("client_secret", ""))
        if body is None:
            return JSONResponse({"error": "unauthorized", "error_description": "Bad client credentials"},
                                status_code=401)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def leads(request: Request) -> Response:
        twin.stats.lead_calls += 1
        code = twin.check_token(_bearer(request))
        if code:
            return _error(twin, code)
        fault = twin.next_fault()
        if fault:
            return _error(twin, fault)
        if request.method == "GET":
            return _get_leads(twin, request)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return Response("Request Entity Too Large", status_code=413)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _error(twin, "609")
        if not isinstance(body, dict):
            return _error(twin, "609")
        action = body.get("action", "createOrUpdate")
        if action not in ACTIONS:
            return _error(twin, "1003", f"Invalid action '{action}'")
        lookup = body.get("lookupField", "email")
        if lookup not in twin.fields:
            return _error(twin, "1003", f"Invalid lookup field '{lookup}'")
        records = body.get("input")
        if not isinstance(records, list) or not records:
            return _error(twin, "1003", "'input' cannot be blank")
        if len(records) > MAX_BATCH:
            return _error(twin, "1003", f"Input exceeds the maximum of {MAX_BATCH} records")
        return _ok(twin.upsert(str(action), str(lookup), records))

    async def admin_leads(request: Request) -> Response:
        return JSONResponse(twin.leads)

    async def admin_stats(request: Request) -> Response:
        s = twin.stats
        return JSONResponse({"tokenRequests": s.token_requests, "tokenRefusals": s.token_refusals,
                             "leadCalls": s.lead_calls, "errors": s.errors, "created": s.created,
                             "updated": s.updated, "skipped": s.skipped})

    async def admin_faults(request: Request) -> Response:
        data = await _json(request)
        codes = data.get("codes") if isinstance(data, dict) else None
        if not isinstance(codes, list) or not all(isinstance(c, str | int) for c in codes):
            return JSONResponse({"error": "body must be {\"codes\": [\"606\", ...]}"}, status_code=400)
        twin.inject(*(str(c) for c in codes))
        return JSONResponse({"queued": [str(c) for c in codes]})

    async def admin_skip(request: Request) -> Response:
        data = await _json(request)
        if not isinstance(data, dict) or not isinstance(data.get("email"), str):
            return JSONResponse({"error": "body must be {\"email\", \"code\"?, \"message\"?}"},
                                status_code=400)
        twin.skip(data["email"], str(data.get("code", "1003")), str(data.get("message", "Invalid data")))
        return JSONResponse({"ok": True})

    async def admin_tokens(request: Request) -> Response:
        data = await _json(request)
        action = data.get("action") if isinstance(data, dict) else None
        if action == "expire":
            twin.expire_tokens()
        elif action == "revoke":
            twin.revoke_tokens()
        else:
            return JSONResponse({"error": "body must be {\"action\": \"expire\"|\"revoke\"}"},
                                status_code=400)
        return JSONResponse({"ok": True})

    async def admin_reset(request: Request) -> Response:
        twin.reset()
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/identity/oauth/token", token, methods=["GET", "POST"]),
        Route("/rest/v1/leads.json", leads, methods=["GET", "POST"]),
        Route("/__twin/leads", admin_leads, methods=["GET"]),
        Route("/__twin/stats", admin_stats, methods=["GET"]),
        Route("/__twin/faults", admin_faults, methods=["POST"]),
        Route("/__twin/skip", admin_skip, methods=["POST"]),
        Route("/__twin/tokens", admin_tokens, methods=["POST"]),
        Route("/__twin/reset", admin_reset, methods=["POST"]),
    ])


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None


def _get_leads(twin: MarketoTwin, request: Request) -> Response:
    filter_type = request.query_params.get("filterType")
    values = [v.strip() for v in request.query_params.get("filterValues", "").split(",") if v.strip()]
    if not filter_type or not values:
        return _error(twin, "1003", "filterType and filterValues are required")
    if filter_type not in twin.fields:
        return _error(twin, "1003", f"Invalid filterType '{filter_type}'")
    wanted = [f.strip() for f in request.query_params.get("fields", "").split(",") if f.strip()]
    columns = wanted or ["id", "updatedAt", "lastName", "email", "createdAt", "firstName"]
    lowered = {v.lower() for v in values}
    result = []
    for lead in twin.leads:
        if str(lead.get(filter_type, "")).lower() in lowered:
            result.append({"id": lead["id"], **{c: lead.get(c) for c in columns}})
    return _ok(result)

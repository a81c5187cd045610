"""A local name-compliance (restricted-party screening) API with a deterministic rule.

The contract (the one ``account_validation`` speaks; see docs/pipeline.md):

``POST /v1/screenings`` with ``X-API-Key: <key>`` and JSON
``{"reference": "<our opaque id>", "firstName": "...", "lastName": "..."}`` →
200 ``{"screeningId", "reference", "result": "pass"|"fail", "reasons": [{"code","message"}],
"checkedAt"}``. Errors: 401 ``{"error":"unauthorized"}`` (missing or wrong key), 400
``{"error":"invalid_request","message"}``, 413 (body over 16 KiB), 415 (not JSON), 5xx
``{"error":"unavailable"}``.

The rule (deterministic, on the LAST name, compared without accents, case or surrounding
space):

==================  ==========================================================
``Review``          ``fail``, reason ``POSSIBLE_MATCH`` (→ manual review)
``Denied``          ``fail``, reason ``DENIED_PARTY`` (→ manual review)
``Unavailable``     HTTP 503, every time (exercises retries and the DLQ)
``Slow``            answers ``pass`` after ``slow_seconds`` (default 10 s: beyond the
                    client's timeout, so it counts as unavailable)
anything else       ``pass``
==================  ==========================================================

Knobs (Python on :class:`ComplianceTwin`, or HTTP under ``/__twin/``):
``fail_next(count, status=503)`` (``POST /__twin/faults {"status": 503, "count": 2}``),
``delay_next(count, seconds)`` (``{"delay": 5, "count": 1}``), ``calls`` / ``GET /__twin/calls``
(what was received and answered), ``POST /__twin/reset``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import unicodedata
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_BODY = 16 * 1024
MAX_NAME = 200

RULES: dict[str, tuple[str, str]] = {
    "review": ("POSSIBLE_MATCH", "The name resembles an entry of a restricted-party list."),
    "denied": ("DENIED_PARTY", "The name matches an entry of a denied-party list."),
}


def _normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().casefold()


def decide(first_name: str, last_name: str) -> tuple[str, list[dict[str, str]]]:
    """The documented rule: ``("pass", [])`` or ``("fail", [reason])`` for these names."""
    rule = RULES.get(_normalise(last_name))
    if rule is None:
        return "pass", []
    return "fail", [{"code": rule[0], "message": rule[1]}]


@dataclass
class Call:
    reference: str | None
    first_name: str | None
    last_name: str | None
    status: int
    result: str | None
    at: float


@dataclass
class _Fault:
    status: int | None = None
    delay: float = 0.0


class ComplianceTwin:
    def __init__(self, api_key: str, *, slow_seconds: float = 10.0) -> None:
        self._api_key = api_key
        self.slow_seconds = slow_seconds
        self._faults: deque[_Fault] = deque()
        self.calls: list[Call] = []

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` screenings answer HTTP ``status`` (5xx or any other)."""
        self._faults.extend(_Fault(status=status) for _ in range(count))

    def delay_next(self, count: int = 1, seconds: float = 10.0) -> None:
        """The next ``count`` screenings answer only after ``seconds``."""
        self._faults.extend(_Fault(delay=seconds) for _ in range(count))

    def reset(self) -> None:
        self._faults.clear()
        self.calls.clear()

    def key_ok(self, presented: str | None) -> bool:
        return presented is not None and secrets.compare_digest(presented.encode(), self._api_key.encode())

    def next_fault(self) -> _Fault | None:
        return self._faults.popleft() if self._faults else None

    def answered(self, request: dict[str, Any] | None, status: int, result: str | None = None) -> None:
        request = request or {}

        def text(key: str) -> str | None:
            value = request.get(key)
            return value if isinstance(value, str) else None

        self.calls.append(Call(text("reference"), text("firstName"), text("lastName"), status, result,
                               time.time()))


def _problem(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def create_app(twin: ComplianceTwin) -> Starlette:
    async def screenings(request: Request) -> Response:
        if not twin.key_ok(request.headers.get("x-api-key")):
            twin.answered(None, 401)
            return _problem(401, "unauthorized", "A valid X-API-Key header is required.")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            twin.answered(None, 415)
            return _problem(415, "unsupported_media_type", "Send application/json.")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            twin.answered(None, 413)
            return _problem(413, "payload_too_large", f"The body exceeds {MAX_BODY} bytes.")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            twin.answered(None, 400)
            return _problem(400, "invalid_request", "The body is not JSON.")
        if not isinstance(body, dict):
            twin.answered(None, 400)
            return _problem(400, "invalid_request", "The body must be a JSON object.")
        for key in ("reference", "lastName"):
            value = body.get(key)
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
                twin.answered(body, 400)
                return _problem(400, "invalid_request", f"{key} must be a non-empty string of at most "
                                                        f"{MAX_NAME} characters.")
        first = body.get("firstName", "")
        if not isinstance(first, str) or len(first) > MAX_NAME:
            twin.answered(body, 400)
            return _problem(400, "invalid_request",
                            f"firstName must be a string of at most {MAX_NAME} characters.")

        fault = twin.next_fault()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            twin.answered(body, fault.status)
            return _problem(fault.status, "unavailable", "Injected failure.")
        last = _normalise(body["lastName"])
        if last == "unavailable":
            twin.answered(body, 503)
            return _problem(503, "unavailable", "The screening service is unavailable.")
        if last == "slow":
            await asyncio.sleep(twin.slow_seconds)
        result, reasons = decide(first, body["lastName"])
        twin.answered(body, 200, result)
        return JSONResponse({
            "screeningId": "scr_" + secrets.token_hex(8),
            "reference": body["reference"],
            "result": result,
            "reasons": reasons,
            "checkedAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        })

    async def admin_calls(request: Request) -> Response:
        return JSONResponse([{"reference": c.reference, "firstName": c.first_name, "lastName": c.last_name,
                              "status": c.status, "result": c.result, "at": c.at} for c in twin.calls])

    async def admin_faults(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return _problem(400, "invalid_request",
                            'Send {"status": 503, "count": 1} or {"delay": 5, "count": 1}.')
        count = data.get("count", 1)
        if not isinstance(count, int) or not 1 <= count <= 100:
            return _problem(400, "invalid_request", "count must be an integer from 1 to 100.")
        if isinstance(data.get("status"), int) and 400 <= data["status"] <= 599:
            twin.fail_next(count, data["status"])
        elif isinstance(data.get("delay"), int | float) and 0 < data["delay"] <= 120:
            twin.delay_next(count, float(data["delay"]))
        else:
            return _problem(400, "invalid_request", "Give status (400-599) or delay (seconds, at most 120).")
        return JSONResponse({"ok": True})

    async def admin_reset(request: Request) -> Response:
        twin.reset()
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/v1/screenings", screenings, methods=["POST"]),
        Route("/__twin/calls", admin_calls, methods=["GET"]),
        Route("/__twin/faults", admin_faults, methods=["POST"]),
        Route("/__twin/reset", admin_reset, methods=["POST"]),
    ])

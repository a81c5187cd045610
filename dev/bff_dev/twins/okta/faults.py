"""Fault injection for tests: answer the next request(s) to a path with a canned failure or delay.

A pure ASGI middleware in front of the whole twin; injected failures still pass through the
rate-limit header middleware so they look like Okta's.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from bff_dev.twins.okta.errors import api_error_body

_DEFAULT_API_CODES = {400: "E0000001", 401: "E0000011", 403: "E0000006", 404: "E0000007",
                      429: "E0000047", 500: "E0000009", 502: "E0000009", 503: "E0000009"}


@dataclass
class Fault:
    path_suffix: str
    status: int | None
    body: Any
    headers: dict[str, str]
    times: int
    delay: float = 0.0


class FaultInjector:
    def __init__(self, app: ASGIApp, counters: Counter[str]) -> None:
        self.app = app
        self.counters = counters
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def _take(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.endswith(fault.path_suffix):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        self.counters[f"http:{scope['method']} {path}"] += 1
        fault = self._take(path) if self.faults else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.counters[f"fault:{path}"] += 1
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            await self.app(scope, receive, send)
            return
        body, ctype = self._body(path, fault)
        headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _body(path: str, fault: Fault) -> tuple[bytes, str]:
        if isinstance(fault.body, bytes):
            return fault.body, "application/octet-stream"
        if isinstance(fault.body, str):
            return fault.body.encode(), "text/plain; charset=utf-8"
        if fault.body is not None:
            return json.dumps(fault.body).encode(), "application/json"
        if path.startswith("/api/"):
            code = _DEFAULT_API_CODES.get(fault.status or 500, "E0000009")
            return json.dumps(api_error_body(code)).encode(), "application/json"
        error = {429: "too_many_requests", 401: "invalid_client"}.get(fault.status or 500, "server_error")
        return json.dumps({"error": error, "error_description": "Injected failure (twin)."}).encode(), \
            "application/json"

"""``GET /bff/openapi.json``: the contract of this deployment, rendered once at start-up.

Public and cacheable (``max-age`` :data:`MAX_AGE`, an ``ETag``, ``304`` on ``If-None-Match``):
it holds no secret and nothing about the caller.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bff.http.negotiation import if_none_match_hits

MAX_AGE = 300


def render(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=False).encode("utf-8")


class DocumentEndpoint:
    """The handler, holding the rendered document and its ETag."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.body = render(document)
        self.etag = '"' + hashlib.blake2b(self.body, digest_size=16).hexdigest() + '"'
        self.headers = {"ETag": self.etag, "Cache-Control": f"public, max-age={MAX_AGE}"}

    async def serve(self, request: Request) -> Response:
        seen = request.headers.get("if-none-match")
        if seen is not None and if_none_match_hits(seen, self.etag):
            return Response(status_code=304, headers=self.headers)
        return Response(self.body, media_type="application/json", headers=self.headers)

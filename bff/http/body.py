"""Reading a request body with a size cap, shared by every endpoint that takes one.

The cap holds twice: by ``Content-Length`` before anything is read, and while streaming (a
chunked body declares no length), so at most ``limit`` bytes plus one chunk are ever
buffered. Over the cap → 413; a malformed ``Content-Length`` → 400.
"""

from __future__ import annotations

from starlette.requests import Request

from bff.errors import BadRequest, PayloadTooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # "²" (latin-1 0xB2) is a str digit
            raise BadRequest("Invalid Content-Length")
        if int(declared) > limit:
            raise PayloadTooLarge(f"The body must be at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body must be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

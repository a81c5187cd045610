"""Reading a request body with a size cap: the one body reader, on raw ASGI, used by every
endpoint that takes a body (the API proxy's raw handler and, through :func:`read_limited`, the
Starlette endpoints).

The cap holds twice: by ``Content-Length`` before anything is read, and while streaming (a
chunked body declares no length), so at most ``limit`` bytes plus one chunk are ever
buffered. Over the cap → 413; a ``Content-Length`` that is not plain ASCII digits → 400 (so
``"1_0"``, ``" +7 "`` and ``"²"``, which ``int()`` or ``str.isdigit()`` would accept, are
refused). A client that disconnects mid-body raises Starlette's ``ClientDisconnect`` (the edge
answers nothing).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from bff.errors import BadRequest, PayloadTooLarge


def declared_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The request's ``Content-Length`` (the first one), or None; 400 when malformed."""
    for name, value in headers:
        if name == b"content-length":
            if not value or len(value) > 19 or not value.isdigit():  # bytes.isdigit: ASCII only
                raise BadRequest("Invalid Content-Length")
            return int(value)
    return None


async def read_body(headers: Iterable[tuple[bytes, bytes]], receive: Receive, limit: int) -> bytes:
    declared = declared_length(headers)
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"The body must be at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The body must be at most {limit} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_limited(request: Request, limit: int) -> bytes:
    """:func:`read_body` for a Starlette request (its body must not have been read yet)."""
    return await read_body(request.scope["headers"], request.receive, limit)

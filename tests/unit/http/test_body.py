"""bff.http.body.read_limited: the size cap and the Content-Length checks."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.types import Message

from bff.errors import BadRequest, PayloadTooLarge
from bff.http.body import read_limited


def request(body: bytes, content_length: bytes | None) -> Request:
    headers = [(b"content-length", content_length)] if content_length is not None else []
    chunks = [body[i:i + 4] for i in range(0, len(body), 4)] or [b""]

    async def receive() -> Message:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


async def test_reads_a_body_within_the_limit() -> None:
    assert await read_limited(request(b"0123456789", b"10"), 10) == b"0123456789"
    assert await read_limited(request(b"0123456789", None), 10) == b"0123456789"  # chunked


async def test_over_the_limit_is_413_by_header_or_while_streaming() -> None:
    with pytest.raises(PayloadTooLarge):
        await read_limited(request(b"", b"11"), 10)
    with pytest.raises(PayloadTooLarge):
        await read_limited(request(b"0123456789A", None), 10)


@pytest.mark.parametrize("value", [b"", b"-1", b"+5", b" 5", b"1_0", b"abc", b"\xb2", b"\xb9\xb2"])
async def test_a_malformed_content_length_is_400(value: bytes) -> None:
    # b"\xb2" is "²" in latin-1: str.isdigit() says yes, int() says no (was a 500)
    with pytest.raises(BadRequest):
        await read_limited(request(b"", value), 10)

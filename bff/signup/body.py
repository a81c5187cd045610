"""Reading a JSON request body defensively: media type (415), size cap while streaming (413,
before the whole body is buffered), strict parsing (400: invalid UTF-8, duplicate keys,
``NaN``/``Infinity``, nesting bombs, a top level that is not an object)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from bff.errors import BadRequest, UnsupportedMediaType
from bff.http.body import read_limited

MAX_DEPTH = 8


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


read_body = read_limited  # the shared size-capped reader (bff/http/body.py)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("The body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("The body must be a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise BadRequest("The body is nested too deeply")
    return value


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's JSON object, after the media-type and size checks."""
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("Send application/json")
    return parse_json_object(await read_body(request, max_bytes))

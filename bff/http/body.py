"""Reading a request body, shared by every endpoint that takes one: the size cap (the one body
reader, on raw ASGI: the API proxy's raw handler and, through :func:`read_limited`, the
Starlette endpoints), and the one strict JSON reader.

The cap holds twice: by ``Content-Length`` before anything is read, and while streaming (a
chunked body declares no length), so at most ``limit`` bytes plus one chunk are ever
buffered. Over the cap → 413; a ``Content-Length`` that is not plain ASCII digits → 400 (so
``"1_0"``, ``" +7 "`` and ``"²"``, which ``int()`` or ``str.isdigit()`` would accept, are
refused). A client that disconnects mid-body raises Starlette's ``ClientDisconnect`` (the edge
answers nothing).

JSON is read strictly (RFC 8259 as interoperable peers write it), each refusal a 400
:class:`~bff.errors.BadRequest` whose ``detail`` says which rule the body broke:

- not UTF-8 (RFC 8259 §8.1), a byte-order mark included;
- not JSON (the parser's message, with line and column);
- an object that repeats a key (§4: the names SHOULD be unique; peers disagree on which
  value wins, so a repeated ``email`` could be checked in one place and used in another);
- ``NaN``, ``Infinity`` or ``-Infinity`` (not JSON), or a number too large for a double
  (``1e999`` would read as infinity);
- nested deeper than ``max_depth`` objects/arrays (the parser's own recursion limit, hit by a
  few kilobytes of ``[``, is reported the same way);
- for :func:`parse_json_object`, a top level that is not an object.

The ``code`` of those problems is the caller's (``bad_request`` unless it passes one: a
webhook answers ``invalid_event``); their status is always 400.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, NoReturn

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from bff.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from bff.http.negotiation import is_json, media_type

#: How deep a request body may nest objects and arrays: the BFF's own APIs need 3 or 4.
MAX_DEPTH = 8


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


class _Refused(ValueError):
    """Raised from inside the parser's hooks; carries the problem's detail."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"The body repeats the key {key[:64]!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> NoReturn:
    raise _Refused(f"The body contains {name}, which is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"The body contains a number out of range ({text[:32]})")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` objects/arrays (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH, code: str | None = None) -> Any:
    """The JSON value of a request body, read strictly (see the module docstring); raises
    :class:`~bff.errors.BadRequest` (400, ``code`` or ``bad_request``) naming the problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The body is not UTF-8 (byte {exc.start})", code=code) from None
    if text.startswith("\ufeff"):
        raise BadRequest("The body starts with a byte-order mark", code=code)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                           parse_float=_finite)
    except _Refused as exc:
        raise BadRequest(str(exc), code=code) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         code=code) from None
    except RecursionError:
        raise BadRequest(f"The body is nested deeper than {max_depth} levels", code=code) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise BadRequest("The body contains a number out of range", code=code) from None
    if _deeper_than(value, max_depth):
        raise BadRequest(f"The body is nested deeper than {max_depth} levels", code=code)
    return value


def parse_json_object(raw: bytes, *, max_depth: int = MAX_DEPTH, code: str | None = None) -> dict[str, Any]:
    """:func:`parse_json`, and the top level must be an object."""
    value = parse_json(raw, max_depth=max_depth, code=code)
    if not isinstance(value, dict):
        raise BadRequest("The body must be a JSON object", code=code)
    return value


async def read_json_object(request: Request, limit: int, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The request's JSON object: a JSON media type (``application/json`` or ``*+json``,
    else 415), at most ``limit`` bytes (413), then :func:`parse_json_object` (400)."""
    if not is_json(media_type(request.headers.get("content-type"))):
        raise UnsupportedMediaType("Send application/json")
    return parse_json_object(await read_limited(request, limit), max_depth=max_depth)

"""Strict parsing of OAuth request bodies: ``application/x-www-form-urlencoded``, bounded, no
repeated parameters (RFC 6749 section 3.1), valid UTF-8. Failures are Okta's ``invalid_request``."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from bff_dev.twins.okta.errors import OAuthError

MAX_FORM_BYTES = 64 * 1024


async def read_form(request: Request, *, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Endpoint only supports 'application/x-www-form-urlencoded' "
                         "content type.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise OAuthError("invalid_request", "The request body is too large.", 413)
    return parse_pairs(bytes(body))


def parse_pairs(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The request body is malformed.") from None
    return unique(pairs)


def unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise OAuthError("invalid_request", f"The '{name}' parameter was provided more than once.")
        if "\x00" in value or "\x00" in name:
            raise OAuthError("invalid_request", f"The '{name}' parameter is malformed.")
        out[name] = value
    return out

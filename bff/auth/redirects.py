"""``returnTo``: where the browser goes after login or logout. Only a local path is accepted
(no open redirects, bff-security.md); anything else becomes the fallback (``/``).

Rejected: absolute and scheme-relative URLs (``https://evil``, ``//evil``), backslashes
(``/\\evil``: browsers treat ``\\`` as ``/``), control characters and whitespace (browsers strip
tab/CR/LF, turning ``/\\t/evil`` into ``//evil``; CR/LF would also split the header), the same
tricks percent-encoded once or several times (``/%2F%2Fevil``, ``%2F%5Cevil``), non-ASCII
(a ``Location`` header is ASCII), over-long values, and the BFF's own ``/bff/`` endpoints (a
login returning to ``/bff/login`` would loop).
"""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

MAX_RETURN_TO = 2048
_DECODE_ROUNDS = 4


def _bad(value: str) -> bool:
    """Structural checks, applied to the raw value and to each percent-decoded form."""
    if not value.startswith("/") or value.startswith("//"):
        return True
    if "\\" in value:
        return True
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme or parts.netloc)


def safe_return_to(value: object, fallback: str = "/") -> str:
    """``value`` when it is a safe local path, else ``fallback``."""
    if not isinstance(value, str) or not value or len(value) > MAX_RETURN_TO:
        return fallback
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in value):
        return fallback  # the raw value goes into a Location header: printable ASCII only
    candidate = value
    for _ in range(_DECODE_ROUNDS):
        if _bad(candidate):
            return fallback
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        candidate = decoded
    else:
        return fallback  # still encoded after several rounds: refuse rather than guess
    # dot segments as the browser resolves them: "/x/../bff/login" lands on /bff/login
    path = urlsplit(urljoin("http://local/", unquote(urlsplit(value).path))).path
    if path == "/bff" or path.startswith("/bff/"):
        return fallback
    return value

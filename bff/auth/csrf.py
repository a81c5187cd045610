"""CSRF defence for state-changing ``/bff/*`` calls and every ``/api/*`` call.

SameSite=Lax alone is not enough (bff-security.md): the request must carry the static custom
header (``X-CSRF: 1`` by default; a cross-site form cannot set it, and a cross-site fetch
with it needs a CORS preflight the BFF never grants) and, when the browser sends them,
``Origin`` must be the BFF's own origin and ``Sec-Fetch-Site`` must be ``same-origin``.
Failures raise :class:`~bff.errors.CSRFRejected` (403 problem+json), never a redirect.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from bff.errors import CSRFRejected
from bff.settings import Settings


def check_csrf(conn: HTTPConnection, settings: Settings, *, require_header: bool = True) -> None:
    headers = conn.headers
    if require_header:
        expected = settings.session.csrf_value
        if headers.get(settings.session.csrf_header) != expected:
            raise CSRFRejected(f"Missing or wrong {settings.session.csrf_header} header")
    origin = headers.get("origin")
    if origin is not None and origin != settings.public_origin:
        raise CSRFRejected("Cross-origin request")
    site = headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin"}:
        raise CSRFRejected("Cross-site request")

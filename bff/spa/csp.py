"""The Content-Security-Policy of the SPA's HTML.

Scripts run only when the page's server put them there: each response gets a fresh random
nonce (:func:`new_nonce`), carried by the import map and the entry module, and
``'strict-dynamic'`` lets the modules those load import the rest. No ``'unsafe-inline'``, no
``'unsafe-eval'``, no host allow-list for scripts (allow-lists are bypassable, nonces are not).
Trusted Types are required for DOM sinks and no policy may be created: the SPA builds its
DOM with ``textContent`` and ``createElement`` only, so an ``innerHTML`` injection fails loudly.

The static variant ``bff build-spa`` writes for S3 cannot carry a per-response nonce; it lists
the SHA-256 hashes of its inline scripts instead (:func:`script_hash`) and allows module
scripts from ``'self'``: ``'strict-dynamic'`` trust flows to static imports only through a
nonce, not from a hash-allowed script, so without ``'self'`` the entry module could not load
its imports. Modules demand a JavaScript MIME type and every response is ``nosniff``, so
``'self'`` admits only the app's own hashed modules, never a JSON endpoint.

Everything else is ``'self'``: styles (one stylesheet, no inline styles), images (plus
``data:``), fetches, fonts (none external). Forms may post to the BFF and to the IdP (a form
post to ``/bff/logout`` is redirected there); the page may not be framed, may not change its
base URL, and embeds no plugins.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from bff.settings import Settings

#: Where browsers post violation reports (``bff.spa.endpoints.csp_report``).
REPORT_PATH = "/bff/csp-report"
REPORT_GROUP = "csp"


def new_nonce() -> str:
    """128 random bits, base64url: unguessable and different on every response."""
    return secrets.token_urlsafe(16)


def script_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def issuer_origin(settings: Settings) -> str | None:
    parts = urlsplit(settings.okta.issuer)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def build_policy(settings: Settings, *, nonce: str | None = None, hashes: Sequence[str] = (),
                 report: bool = True) -> str:
    """The policy for one HTML response: ``nonce`` (BFF-rendered) or ``hashes`` (static)."""
    if not nonce and not hashes:
        raise ValueError("a script nonce or at least one script hash is required")
    if nonce:
        script_sources = [f"'nonce-{nonce}'", *hashes, "'strict-dynamic'"]
    else:
        script_sources = ["'self'", *hashes]
    form_targets = ["'self'"]
    origin = issuer_origin(settings)
    if origin and origin != settings.public_origin:
        form_targets.append(origin)
    directives: list[tuple[str, Sequence[str]]] = [
        ("default-src", ["'self'"]),
        ("script-src", script_sources),
        ("style-src", ["'self'"]),
        ("img-src", ["'self'", "data:"]),
        ("font-src", ["'self'"]),
        ("connect-src", ["'self'"]),
        ("manifest-src", ["'self'"]),
        ("media-src", ["'none'"]),
        ("worker-src", ["'none'"]),
        ("frame-src", ["'none'"]),
        ("object-src", ["'none'"]),
        ("frame-ancestors", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("form-action", form_targets),
        ("require-trusted-types-for", ["'script'"]),
        ("trusted-types", ["'none'"]),
    ]
    if settings.is_https:
        directives.append(("upgrade-insecure-requests", []))
    if report:
        directives.append(("report-uri", [REPORT_PATH]))
        directives.append(("report-to", [REPORT_GROUP]))
    return "; ".join(" ".join([name, *values]) for name, values in directives)


def reporting_endpoints() -> str:
    """The ``Reporting-Endpoints`` header naming :data:`REPORT_GROUP` (Reporting API v1)."""
    return f'{REPORT_GROUP}="{REPORT_PATH}"'

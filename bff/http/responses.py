"""Response headers that mean the same thing wherever they are sent, defined once.

``Cache-Control: no-store`` is for every answer that must never be kept by any cache: per-user
data, sign-in redirects (they carry state and set cookies), webhook and API answers, errors.
``no-store`` alone is the strongest directive (RFC 9111 §5.2.2.5: not stored at all, so
``no-cache``, ``private`` or ``max-age=0`` beside it add nothing), and ``Pragma: no-cache`` is
left out: RFC 9111 §5.4 defines it for requests only and deprecates it (the HTTP/1.0 caches it
was for did not read it on responses either).

``private, no-store`` is for answers at URLs whose other answers a shared cache does store
(copy in preview, per-user API data behind ``/api``): ``private`` says to any shared cache in
front, whatever its own rules, that the answer is one user's (CloudFront, with MinTTL 0,
stores neither: infra/template.yaml, tests/unit/content/test_cdn_contract.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: Headers for a Starlette ``Response(headers=...)``: ``{**NO_STORE, "Vary": "Cookie"}`` to add more.
NO_STORE: Final[Mapping[str, str]] = MappingProxyType({"Cache-Control": "no-store"})

#: The ``Cache-Control`` value of an answer no shared cache may keep.
PRIVATE_NO_STORE: Final = "private, no-store"

#: The same, as a raw ASGI header pair (for header lists built by hand on the hot paths).
PRIVATE_NO_STORE_HEADER: Final[tuple[bytes, bytes]] = (b"cache-control", PRIVATE_NO_STORE.encode("latin-1"))

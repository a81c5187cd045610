"""Okta's list paging: ``Link: <...?after=...>; rel="next"``.

A list answer is one page; the next one is at the URL of its ``rel="next"`` link (absent on
the last page), which carries an opaque ``after`` cursor. The link is followed only when it
points at the org's own origin (scheme, host and port): the client sends its credential with
every request, and a link elsewhere (a misconfigured proxy, a hostile answer) must not get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bff.okta.errors import OktaProtocolError


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_url: str | None = None  # None on the last page

    @property
    def after(self) -> str | None:
        """The ``after`` cursor of the next page (to hand to a caller that pages itself)."""
        if self.next_url is None:
            return None
        values = parse_qs(urlsplit(self.next_url).query).get("after")
        return values[0] if values else None


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def next_link(response: httpx.Response, org_origin: tuple[str, str], *, method: str, path: str) -> str | None:
    """The ``rel="next"`` URL of a list answer, or None on the last page."""
    url = response.links.get("next", {}).get("url")
    if not url:
        return None
    if origin(url) != org_origin:
        raise OktaProtocolError(f"refusing to follow a next link to another origin ({urlsplit(url).netloc})",
                                method=method, path=path, status=response.status_code)
    return url


__all__ = ["Page", "next_link", "origin"]

"""The SPA's pages as the server sees them: which paths are SPA routes (and the copy journey
their first paint needs), and which paths belong to the BFF and must never fall back to the SPA.

The client-side router (``spa-shell/assets/js/routes.js``) lists the same paths; a unit test
keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Path prefixes owned by the BFF itself: unknown paths below them are 404 problem+json,
#: never the SPA's HTML (a typo in an API call must not answer 200 text/html).
RESERVED_PREFIXES: tuple[str, ...] = ("/bff", "/api", "/__dev", "/assets")
#: Exact paths owned by the BFF (health checks, the content preview entry point).
RESERVED_PATHS: frozenset[str] = frozenset({"/healthz", "/readyz", "/preview"})


@dataclass(frozen=True)
class Page:
    name: str
    pattern: re.Pattern[str]
    journey: str  # the copy journey the screen needs besides ``common``
    signed_in_journey: str | None = None  # ``/`` is the sign-in screen or the home screen


PAGES: tuple[Page, ...] = (
    Page("root", re.compile(r"/"), "signin", signed_in_journey="profile"),
    Page("signin", re.compile(r"/signin"), "signin"),
    Page("email-code", re.compile(r"/signin/email-code"), "signin"),  # the magic link elsewhere
    Page("signup", re.compile(r"/signup"), "signup"),
    Page("profile", re.compile(r"/profile"), "profile"),
    Page("admin", re.compile(r"/admin(?:/(?:users|reviews|users/[^/]{1,256}))?"), "admin"),
    Page("email-preview", re.compile(r"/email-preview"), "email"),
)
NOT_FOUND = Page("not-found", re.compile(r"(?!)"), "common")


def is_reserved(path: str) -> bool:
    if path in RESERVED_PATHS:
        return True
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES)


def looks_like_file(path: str) -> bool:
    """``/favicon.ico``, ``/robots.txt``: a file request, not a screen."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in last


def page_for(path: str) -> Page | None:
    """The page for ``path`` (a trailing slash is tolerated), or None for an unknown path."""
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    for page in PAGES:
        if page.pattern.fullmatch(path):
            return page
    return None


def journey_for(page: Page, signed_in: bool) -> str:
    if signed_in and page.signed_in_journey:
        return page.signed_in_journey
    return page.journey

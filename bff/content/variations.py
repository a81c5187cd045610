"""Which variation of a content fragment a request asks for (``?variation=``).

AEM names a fragment's variations freely; the BFF accepts 1-64 letters, digits, ``-`` or
``_`` (the value goes into a GraphQL variable, a cache key and a redirect URL), and
``master`` (AEM's name for the fragment itself) when none is given. Defined once for the copy
API, AEM's preview entry point and the SPA's first-paint copy.

A well-formed name is not enough: every variation is a cache entry per journey and locale and,
when cold, an AEM call. :class:`VariationPolicy` admits only ``master``, the variations listed
in ``BFF_CONTENT_VARIATIONS`` and those the bundled copy carries
(``content/copy/{locale}/{journey}@{variation}.json``); any other is 400
``unknown_variation`` before anything reaches AEM or the cache (anonymous requests with random
variations once caused three AEM calls each and evicted the stale copy an outage needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bff.errors import BadRequest

MASTER = "master"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_variation(name: str) -> bool:
    """Whether ``name`` is an acceptable variation name (the whole of it: ``"x\\n"`` is not)."""
    return _NAME.fullmatch(name) is not None


def parse_variation(value: str | None) -> str:
    """The variation a ``?variation=`` value names: :data:`MASTER` when absent or empty;
    :class:`~bff.errors.BadRequest` (``invalid_variation``) when malformed."""
    if not value:
        return MASTER
    if not is_variation(value):
        raise BadRequest("variation must be 1-64 letters, digits, - or _", code="invalid_variation")
    return value


class VariationPolicy:
    """The variations the copy API serves: ``master``, ``configured`` and ``bundled``."""

    def __init__(self, configured: Iterable[str] = (), bundled: Iterable[str] = ()) -> None:
        self.allowed = frozenset({MASTER, *configured, *bundled})

    def __contains__(self, name: object) -> bool:
        return name in self.allowed

    def check(self, name: str) -> str:
        """``name`` when allowed, else :class:`~bff.errors.BadRequest` ``unknown_variation``."""
        if name not in self.allowed:
            raise BadRequest("Unknown variation; ask for one this application serves",
                             code="unknown_variation")
        return name

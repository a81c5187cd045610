"""Which variation of a content fragment a request asks for (``?variation=``).

AEM names a fragment's variations freely; the BFF accepts 1-64 letters, digits, ``-`` or
``_`` (the value goes into a GraphQL variable, a cache key and a redirect URL), and
``master`` (AEM's name for the fragment itself) when none is given. Defined once for the copy
API, AEM's preview entry point and the SPA's first-paint copy.
"""

from __future__ import annotations

import re

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

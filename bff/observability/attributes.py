"""What may go into a span attribute or a metric label.

Call sites pass only low-cardinality, non-secret values: route templates, upstream names,
status codes, outcomes. :func:`safe` is the net under them: a value that looks like a
credential (a bearer or SSWS token, a JWT, a cookie pair, a ``password=`` pair), an email
address or a URL with a query string is replaced by ``[redacted]`` before the SDK sees it, so a
mistake costs an attribute, never a leak. ``tests/integration/observability/test_no_secrets.py``
scans every attribute of every span of full journeys.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from bff.logs import redact

AttributeValue = str | bool | int | float

REDACTED = "[redacted]"
_EMAIL = re.compile(r"[^\s@/]+@[^\s@/]+\.[A-Za-z]{2,}")
_QUERY = re.compile(r"\?.*=")


def safe(value: AttributeValue) -> AttributeValue:
    """``value``, or ``[redacted]`` when it could carry a secret or a person's address."""
    if not isinstance(value, str):
        return value
    return _safe_text(value)


@functools.lru_cache(maxsize=4096)  # call sites pass a few hundred distinct values at most
def _safe_text(value: str) -> str:
    if _EMAIL.search(value) or _QUERY.search(value) or redact(value) != value:
        return REDACTED
    return value


def safe_all(attributes: Mapping[str, AttributeValue] | None) -> dict[str, AttributeValue]:
    if not attributes:
        return {}
    return {key: safe(value) for key, value in attributes.items()}

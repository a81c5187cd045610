"""When a Management API call is tried again, and after how long.

Okta rate limits every endpoint bucket per window and answers 429 (E0000047) when it is spent,
with ``X-Rate-Limit-Reset``: the epoch second at which the bucket refills. The wait is measured
against the response's own ``Date`` header when it has a readable one (Okta's clock: the
caller's may be off by minutes, and a wait from two clocks is noise), else against the local
clock; it is clamped to ``[0, MAX_RESET_WAIT]`` and gets a small ``margin``, since both values
are whole seconds.

The header is read strictly: ASCII digits only. ``str.isdigit()`` (and ``int()``) accept other
scripts' digits (``'²'.isdigit()`` is true, ``int('²')`` raises; ``int('١٢')`` is 12), which
turned a hostile or broken header into a 500 before; an unreadable reset waits
``default_wait``. A reset absurdly far away (more digits than any epoch second) is simply the
maximum.

:class:`RetryPolicy` says how patient one caller is (a user waiting on sign-up is not an
operator running ``bff okta apply``):

* a 429 is retried, for any method (Okta did not process the request), while attempts remain
  and the reset is at most ``max_wait`` away (the wait is that plus ``margin``); otherwise the
  call fails at once with ``OktaRateLimited(retry_after=wait)`` so the caller can pass the wait
  on (``Retry-After``);
* a 5xx answer, a timeout or a connection error is retried with exponential backoff
  (``backoff * 2**(n-1)``, at most ``max_backoff``) only for ``retry_methods``. Those are the
  safe reads: a write that timed out may have been applied, and Okta's ``PUT`` is a full
  replacement built from an earlier read, so repeating one blindly can undo someone else's
  change; the next read (or ``bff okta plan``) shows where things stand.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

#: The longest wait a reset can mean, whatever the header says (Okta's windows are a minute).
MAX_RESET_WAIT = 300.0
#: The wait for a 429 that says nothing readable about its reset.
DEFAULT_WAIT = 1.0
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only; 18 digits is far past any epoch second
_ASCII_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries of one call, the first included
    max_wait: float = 5.0  # the farthest rate-limit reset this caller waits for (margin on top)
    margin: float = 0.1  # slept past the reset
    default_wait: float = DEFAULT_WAIT  # a 429 without a readable X-Rate-Limit-Reset
    backoff: float = 0.5  # first wait after a 5xx / timeout / connection error (idempotent calls)
    max_backoff: float = 10.0
    retry_methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})

    def backoff_wait(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff))


def parse_reset(value: str | None) -> int | None:
    """``X-Rate-Limit-Reset`` as epoch seconds; None when absent or not ASCII digits.

    More digits than an epoch second can have reads as "very far": the caller clamps it."""
    if value is None:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):
        return int(value)
    if _ASCII_DIGITS.fullmatch(value):
        return 10**18
    return None


def server_time(headers: Mapping[str, str]) -> float | None:
    """The response's ``Date`` as epoch seconds, or None when absent or unreadable."""
    raw = headers.get("date")
    if not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, with no claim about the local zone (RFC 5322)
        when = when.replace(tzinfo=UTC)
    try:
        return when.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def reset_wait(headers: Mapping[str, str], clock: Callable[[], float]) -> float | None:
    """Seconds until ``X-Rate-Limit-Reset`` within ``[0, MAX_RESET_WAIT]``, by the response's
    ``Date`` when it has one, else by ``clock``; None when there is no readable reset."""
    reset = parse_reset(headers.get("x-rate-limit-reset"))
    if reset is None:
        return None
    now = server_time(headers)
    if now is None:
        now = clock()
    return min(max(float(reset) - now, 0.0), MAX_RESET_WAIT)


def rate_limit_wait(headers: Mapping[str, str], clock: Callable[[], float], policy: RetryPolicy) -> float:
    """How long to wait before trying a rate-limited call again (margin included)."""
    wait = reset_wait(headers, clock)
    return policy.default_wait if wait is None else wait + policy.margin


__all__ = ["DEFAULT_WAIT", "MAX_RESET_WAIT", "RetryPolicy", "parse_reset", "rate_limit_wait", "reset_wait",
           "server_time"]

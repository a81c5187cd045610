"""The client without I/O: what a call sends, whether to try it again, what its answer means.

:class:`OktaCore` holds every rule; the two clients in :mod:`bff.okta.client` are thin loops
around it (build the request, send it through their httpx client, ask the core, sleep or
return), one with ``def`` and one with ``async def``. One call goes like this:

1. :meth:`OktaCore.url` resolves the call's path under the org (or takes a ``next`` link, which
   :mod:`bff.okta.paging` has checked is on the org's origin); the request asks for JSON.
2. The transport sends it with the caller's ``httpx.Auth`` (:mod:`bff.okta.auth`).
3. An answer goes to :meth:`OktaCore.after_response`: a wait means "sleep, then send again"
   (a 429 within the policy, a 5xx on a retryable method); None means final, and
   :meth:`OktaCore.check` returns it or raises its :class:`~bff.okta.errors.OktaError`.
   httpx's own exception goes to :meth:`OktaCore.after_error` (a wait for a timeout or a
   connection error on a retryable method) and otherwise :meth:`OktaCore.failure`, raised
   ``from`` it.
4. The caller decodes the checked answer: :meth:`OktaCore.json`, :meth:`OktaCore.object`,
   :meth:`OktaCore.page`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bff.okta.errors import OktaError, OktaProtocolError, OktaTimeout, OktaTransportError, api_error
from bff.okta.paging import Page, next_link, origin
from bff.okta.retry import RetryPolicy, rate_limit_wait

log = logging.getLogger("bff.okta")

ACCEPT_JSON = {"Accept": "application/json"}
MAX_PAGES = 200  # a list longer than this many pages is a runaway (or a loop), not an answer


@dataclass(frozen=True)
class Call:
    """One Management API call, as data."""

    method: str
    path: str  # "/api/v1/..." under the org, or an absolute URL on its origin (a next link)
    params: Mapping[str, str] | None = None
    json: Any = None  # the JSON body; None sends none


class OktaCore:
    def __init__(self, org_url: str, *, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.time, max_pages: int = MAX_PAGES) -> None:
        self.org_url = org_url.rstrip("/")
        self.origin = origin(self.org_url)
        if self.origin[0] not in ("http", "https") or not self.origin[1]:
            raise ValueError(f"the Okta org URL must be an absolute http(s) URL, not {org_url!r}")
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.max_pages = max_pages

    # -- 1. the request ------------------------------------------------------------------------

    def url(self, call: Call) -> str:
        if call.path.startswith(("http://", "https://")):
            if origin(call.path) != self.origin:
                raise OktaProtocolError("refusing to send a request to another origin", method=call.method,
                                        path=urlsplit(call.path).path)
            return call.path
        return self.org_url + call.path

    @staticmethod
    def path(call: Call) -> str:
        """The path for messages: never the query (it may search people by name)."""
        return urlsplit(call.path).path if "://" in call.path else call.path.split("?", 1)[0]

    # -- 3. again, or final? ---------------------------------------------------------------------

    def after_response(self, call: Call, attempt: int, response: httpx.Response) -> float | None:
        """The wait before sending ``call`` again after this answer, or None when it is final."""
        if attempt >= self.retry.attempts:
            return None
        status = response.status_code
        if status == 429:
            wait = rate_limit_wait(response.headers, self.clock, self.retry)
            if wait > self.retry.max_wait + self.retry.margin:  # max_wait bounds the reset itself
                return None
            log.info("okta %s %s rate limited; retrying in %.2fs", call.method, self.path(call), wait)
            return wait
        if status >= 500 and call.method in self.retry.retry_methods:
            wait = self.retry.backoff_wait(attempt)
            log.info("okta %s %s answered %d; retrying in %.2fs", call.method, self.path(call), status, wait)
            return wait
        return None

    def after_error(self, call: Call, attempt: int, exc: httpx.RequestError) -> float | None:
        """The wait before sending ``call`` again after httpx raised ``exc``, or None."""
        if attempt >= self.retry.attempts or call.method not in self.retry.retry_methods or \
                not isinstance(exc, httpx.TransportError):
            return None
        wait = self.retry.backoff_wait(attempt)
        log.info("okta %s %s failed (%s); retrying in %.2fs", call.method, self.path(call),
                 type(exc).__name__, wait)
        return wait

    def check(self, call: Call, response: httpx.Response) -> httpx.Response:
        """The final answer, if it is a success; else its error."""
        status = response.status_code
        if status < 300:
            return response
        if status < 400:
            raise OktaProtocolError(f"unexpected redirect ({status})", method=call.method,
                                    path=self.path(call), status=status)
        retry_after = rate_limit_wait(response.headers, self.clock, self.retry) if status == 429 else 0.0
        raise api_error(call.method, self.path(call), response, retry_after=retry_after)

    def failure(self, call: Call, exc: httpx.RequestError) -> OktaError:
        """The error for httpx's ``exc`` (the caller raises it ``from exc``)."""
        kind = OktaTimeout if isinstance(exc, httpx.TimeoutException) else OktaTransportError
        what = "no answer in time" if kind is OktaTimeout else "Okta unreachable"
        return kind(f"{type(exc).__name__}: {what}", method=call.method, path=self.path(call))

    # -- 4. the answer -------------------------------------------------------------------------

    def json(self, call: Call, response: httpx.Response) -> Any:
        """The JSON body of a checked answer; None when it has none (204)."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:  # not JSON, or not UTF-8
            raise OktaProtocolError("the answer is not JSON", method=call.method, path=self.path(call),
                                    status=response.status_code) from exc

    def object(self, call: Call, response: httpx.Response) -> dict[str, Any]:
        body = self.json(call, response)
        if not isinstance(body, dict):
            raise OktaProtocolError("expected a JSON object", method=call.method, path=self.path(call),
                                    status=response.status_code)
        return body

    def page(self, call: Call, response: httpx.Response) -> Page:
        body = self.json(call, response)
        if not isinstance(body, list):
            raise OktaProtocolError("expected a JSON array", method=call.method, path=self.path(call),
                                    status=response.status_code)
        return Page([item for item in body if isinstance(item, dict)],
                    next_link(response, self.origin, method=call.method, path=self.path(call)))

    def too_many_pages(self, call: Call) -> OktaProtocolError:
        return OktaProtocolError(f"more than {self.max_pages} pages", method=call.method,
                                 path=self.path(call))


__all__ = ["ACCEPT_JSON", "MAX_PAGES", "Call", "OktaCore"]

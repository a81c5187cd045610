"""The Okta Management API client: :class:`OktaClient` (sync) and :class:`AsyncOktaClient`.

The two have the same methods with the same meaning; each is a thin loop over
:class:`~bff.okta.core.OktaCore` (the rules) and :mod:`bff.okta.endpoints` (the calls), with
its own kind of httpx client and sleep. Use them like httpx's own pair::

    okta = AsyncOktaClient("https://acme.okta.com", http=services.http,
                           auth=PrivateKeyJwtAuth(org, client_id, pem, scopes=[...]))
    user = await okta.get_user("00u1")

* ``http`` is the caller's ``httpx.Client``/``AsyncClient``, created once and shared: its
  timeouts, ``User-Agent`` and transport apply. The client never closes it and never sets a
  credential on it; ``auth`` (:mod:`bff.okta.auth`) goes with each request.
* ``retry`` (:class:`~bff.okta.retry.RetryPolicy`): how long this caller waits on a rate
  limit, and how often it retries a safe read. ``sleep`` and ``clock`` are injectable.
* Every failure raises an :class:`~bff.okta.errors.OktaError` (the tree is in
  :mod:`bff.okta.errors`); httpx's exceptions never escape, they are the ``__cause__``.

Methods: the generic ``request``, ``get``, ``post``, ``put``, ``delete``, ``page`` (one page),
``list_all`` (every page, following ``rel="next"``); and the typed calls the project makes:
users (``create_user``, ``get_user``, ``update_profile``, ``lifecycle``, ``user_groups``,
``list_users``) and groups (``list_groups``, ``all_groups``, ``get_group``, ``group_users``,
``all_group_users``, ``add_to_group``, ``remove_from_group``). Objects come back as Okta's
JSON (``dict``); lists of one page as :class:`~bff.okta.paging.Page` (``items``, ``after``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from bff.okta import endpoints
from bff.okta.core import ACCEPT_JSON, MAX_PAGES, Call, OktaCore
from bff.okta.paging import Page
from bff.okta.retry import RetryPolicy

Params = Mapping[str, str] | None


class OktaClient:
    """The synchronous client (the Lambda functions)."""

    def __init__(self, org_url: str, *, http: httpx.Client, auth: httpx.Auth,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, max_pages: int = MAX_PAGES) -> None:
        self.core = OktaCore(org_url, retry=retry, clock=clock, max_pages=max_pages)
        self.org_url = self.core.org_url
        self.http = http
        self.auth = auth
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"OktaClient({self.org_url!r}, auth={self.auth!r})"

    # -- the loop ------------------------------------------------------------------------------

    def send(self, call: Call) -> httpx.Response:
        """Send ``call`` (with the retries the policy allows); the checked final answer."""
        attempt = 0
        while True:
            attempt += 1
            request = self.http.build_request(call.method, self.core.url(call), params=call.params,
                                              json=call.json, headers=ACCEPT_JSON)
            try:
                response = self.http.send(request, auth=self.auth)
            except httpx.RequestError as exc:
                wait = self.core.after_error(call, attempt, exc)
                if wait is None:
                    raise self.core.failure(call, exc) from exc
            else:
                wait = self.core.after_response(call, attempt, response)
                if wait is None:
                    return self.core.check(call, response)
            self._sleep(wait)

    def _object(self, call: Call) -> dict[str, Any]:
        return self.core.object(call, self.send(call))

    def _page(self, call: Call) -> Page:
        return self.core.page(call, self.send(call))

    def _iterate(self, call: Call) -> Iterator[dict[str, Any]]:
        for _ in range(self.core.max_pages):
            page = self._page(call)
            yield from page.items
            if page.next_url is None:
                return
            call = Call("GET", page.next_url)
        raise self.core.too_many_pages(call)

    # -- generic -------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Params = None, json: Any = None) -> httpx.Response:
        return self.send(Call(method, path, params, json))

    def get(self, path: str, params: Params = None) -> Any:
        call = Call("GET", path, params)
        return self.core.json(call, self.send(call))

    def post(self, path: str, body: Any = None, params: Params = None) -> Any:
        call = Call("POST", path, params, body)
        return self.core.json(call, self.send(call))

    def put(self, path: str, body: Any = None) -> Any:
        call = Call("PUT", path, json=body)
        return self.core.json(call, self.send(call))

    def delete(self, path: str) -> None:
        self.send(Call("DELETE", path))

    def page(self, path: str, params: Params = None) -> Page:
        return self._page(Call("GET", path, params))

    def list_all(self, path: str, params: Params = None) -> list[dict[str, Any]]:
        return list(self._iterate(Call("GET", path, params)))

    # -- users ---------------------------------------------------------------------------------

    def create_user(self, profile: Mapping[str, Any], *, password: str | None = None, activate: bool = True,
                    group_ids: Sequence[str] = ()) -> dict[str, Any]:
        return self._object(endpoints.create_user(profile, password=password, activate=activate,
                                                  group_ids=group_ids))

    def get_user(self, user_id: str) -> dict[str, Any]:
        return self._object(endpoints.get_user(user_id))

    def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> dict[str, Any]:
        """Partial update: only the given attributes change (``None`` clears one)."""
        return self._object(endpoints.update_profile(user_id, profile))

    def lifecycle(self, user_id: str, operation: str, *, send_email: bool = False) -> None:
        """``activate``/``reactivate``/``deactivate``/``suspend``/``unsuspend`` ..."""
        self.send(endpoints.lifecycle(user_id, operation, send_email=send_email))

    def clear_sessions(self, user_id: str, *, oauth_tokens: bool = True) -> None:
        """End the user's Okta sessions (and, by default, revoke their OAuth tokens)."""
        self.send(endpoints.clear_sessions(user_id, oauth_tokens=oauth_tokens))

    def user_groups(self, user_id: str) -> list[dict[str, Any]]:
        return list(self._iterate(endpoints.user_groups(user_id)))

    def list_users(self, *, search: str | None = None, filter: str | None = None, q: str | None = None,
                   limit: int = 200, after: str | None = None) -> Page:
        return self._page(endpoints.list_users(search=search, filter=filter, q=q, limit=limit, after=after))

    # -- groups --------------------------------------------------------------------------------

    def list_groups(self, *, search: str | None = None, q: str | None = None, limit: int = 200,
                    after: str | None = None) -> Page:
        return self._page(endpoints.list_groups(search=search, q=q, limit=limit, after=after))

    def all_groups(self, *, search: str | None = None) -> list[dict[str, Any]]:
        return list(self._iterate(endpoints.list_groups(search=search)))

    def get_group(self, group_id: str) -> dict[str, Any]:
        return self._object(endpoints.get_group(group_id))

    def group_users(self, group_id: str, *, limit: int = 200, after: str | None = None) -> Page:
        return self._page(endpoints.group_users(group_id, limit=limit, after=after))

    def all_group_users(self, group_id: str) -> list[dict[str, Any]]:
        return list(self._iterate(endpoints.group_users(group_id)))

    def add_to_group(self, group_id: str, user_id: str) -> None:
        self.send(endpoints.add_to_group(group_id, user_id))

    def remove_from_group(self, group_id: str, user_id: str) -> None:
        self.send(endpoints.remove_from_group(group_id, user_id))


class AsyncOktaClient:
    """The asynchronous client (the BFF, ``bff okta``): :class:`OktaClient`'s methods, awaited."""

    def __init__(self, org_url: str, *, http: httpx.AsyncClient, auth: httpx.Auth,
                 retry: RetryPolicy | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time, max_pages: int = MAX_PAGES) -> None:
        self.core = OktaCore(org_url, retry=retry, clock=clock, max_pages=max_pages)
        self.org_url = self.core.org_url
        self.http = http
        self.auth = auth
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AsyncOktaClient({self.org_url!r}, auth={self.auth!r})"

    # -- the loop ------------------------------------------------------------------------------

    async def send(self, call: Call) -> httpx.Response:
        """Send ``call`` (with the retries the policy allows); the checked final answer."""
        attempt = 0
        while True:
            attempt += 1
            request = self.http.build_request(call.method, self.core.url(call), params=call.params,
                                              json=call.json, headers=ACCEPT_JSON)
            try:
                response = await self.http.send(request, auth=self.auth)
            except httpx.RequestError as exc:
                wait = self.core.after_error(call, attempt, exc)
                if wait is None:
                    raise self.core.failure(call, exc) from exc
            else:
                wait = self.core.after_response(call, attempt, response)
                if wait is None:
                    return self.core.check(call, response)
            await self._sleep(wait)

    async def _object(self, call: Call) -> dict[str, Any]:
        return self.core.object(call, await self.send(call))

    async def _page(self, call: Call) -> Page:
        return self.core.page(call, await self.send(call))

    async def _iterate(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        for _ in range(self.core.max_pages):
            page = await self._page(call)
            for item in page.items:
                yield item
            if page.next_url is None:
                return
            call = Call("GET", page.next_url)
        raise self.core.too_many_pages(call)

    async def _all(self, call: Call) -> list[dict[str, Any]]:
        return [item async for item in self._iterate(call)]

    # -- generic -------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Params = None,
                      json: Any = None) -> httpx.Response:
        return await self.send(Call(method, path, params, json))

    async def get(self, path: str, params: Params = None) -> Any:
        call = Call("GET", path, params)
        return self.core.json(call, await self.send(call))

    async def post(self, path: str, body: Any = None, params: Params = None) -> Any:
        call = Call("POST", path, params, body)
        return self.core.json(call, await self.send(call))

    async def put(self, path: str, body: Any = None) -> Any:
        call = Call("PUT", path, json=body)
        return self.core.json(call, await self.send(call))

    async def delete(self, path: str) -> None:
        await self.send(Call("DELETE", path))

    async def page(self, path: str, params: Params = None) -> Page:
        return await self._page(Call("GET", path, params))

    async def list_all(self, path: str, params: Params = None) -> list[dict[str, Any]]:
        return await self._all(Call("GET", path, params))

    # -- users ---------------------------------------------------------------------------------

    async def create_user(self, profile: Mapping[str, Any], *, password: str | None = None,
                          activate: bool = True, group_ids: Sequence[str] = ()) -> dict[str, Any]:
        return await self._object(endpoints.create_user(profile, password=password, activate=activate,
                                                        group_ids=group_ids))

    async def get_user(self, user_id: str) -> dict[str, Any]:
        return await self._object(endpoints.get_user(user_id))

    async def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> dict[str, Any]:
        """Partial update: only the given attributes change (``None`` clears one)."""
        return await self._object(endpoints.update_profile(user_id, profile))

    async def lifecycle(self, user_id: str, operation: str, *, send_email: bool = False) -> None:
        """``activate``/``reactivate``/``deactivate``/``suspend``/``unsuspend`` ..."""
        await self.send(endpoints.lifecycle(user_id, operation, send_email=send_email))

    async def clear_sessions(self, user_id: str, *, oauth_tokens: bool = True) -> None:
        """End the user's Okta sessions (and, by default, revoke their OAuth tokens)."""
        await self.send(endpoints.clear_sessions(user_id, oauth_tokens=oauth_tokens))

    async def user_groups(self, user_id: str) -> list[dict[str, Any]]:
        return await self._all(endpoints.user_groups(user_id))

    async def list_users(self, *, search: str | None = None, filter: str | None = None, q: str | None = None,
                         limit: int = 200, after: str | None = None) -> Page:
        return await self._page(endpoints.list_users(search=search, filter=filter, q=q, limit=limit,
                                                     after=after))

    # -- groups --------------------------------------------------------------------------------

    async def list_groups(self, *, search: str | None = None, q: str | None = None, limit: int = 200,
                          after: str | None = None) -> Page:
        return await self._page(endpoints.list_groups(search=search, q=q, limit=limit, after=after))

    async def all_groups(self, *, search: str | None = None) -> list[dict[str, Any]]:
        return await self._all(endpoints.list_groups(search=search))

    async def get_group(self, group_id: str) -> dict[str, Any]:
        return await self._object(endpoints.get_group(group_id))

    async def group_users(self, group_id: str, *, limit: int = 200, after: str | None = None) -> Page:
        return await self._page(endpoints.group_users(group_id, limit=limit, after=after))

    async def all_group_users(self, group_id: str) -> list[dict[str, Any]]:
        return await self._all(endpoints.group_users(group_id))

    async def add_to_group(self, group_id: str, user_id: str) -> None:
        await self.send(endpoints.add_to_group(group_id, user_id))

    async def remove_from_group(self, group_id: str, user_id: str) -> None:
        await self.send(endpoints.remove_from_group(group_id, user_id))


__all__ = ["AsyncOktaClient", "OktaClient"]

"""Wiring of the sign-in core into the app: its routes, and at start-up the session store
(``bff.sessions.open_store``), the OIDC client (discovery + JWKS loaded once) and the
:class:`~bff.auth.sessions.SessionManager` (``services.sessions``), all in one
:class:`~bff.auth.endpoints.AuthArea` (``services.auth``, whose ``store`` serves areas that
need ``claim_once`` or locks). Ready checks: ``session_store`` and ``idp_discovery``.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from starlette.routing import BaseRoute

from bff.auth import endpoints, session_endpoints
from bff.auth.endpoints import AuthArea
from bff.auth.expiry import ExpiryWatch
from bff.auth.oidc import OIDCClient
from bff.auth.sessions import SessionManager
from bff.auth.transactions import LoginTransactions
from bff.observability import metrics
from bff.sessions import open_store
from bff.sessions.observed import observed
from bff.settings import Settings


def routes(settings: Settings) -> list[BaseRoute]:
    return [*endpoints.routes(settings), *session_endpoints.routes(settings)]


async def build(settings: Settings, http: httpx.AsyncClient, stack: contextlib.AsyncExitStack) -> AuthArea:
    store = observed(open_store(settings), settings.session.store)
    stack.push_async_callback(store.close)
    oidc = OIDCClient(settings, http)
    await oidc.start()
    manager = SessionManager(
        store=store, oidc=oidc, secret_keys=settings.secret_keys,
        cookie_name=settings.session.cookie_name,
        idle_timeout=settings.session.idle_timeout,
        absolute_lifetime=settings.session.absolute_lifetime,
        refresh_skew=settings.session.refresh_skew,
        stepup_scopes=settings.okta.stepup_scopes, admin_scope_ttl=settings.okta.admin_scope_ttl,
        # The lock must outlive one token call (timeout) with room to write the result.
        lock_ttl=max(10.0, settings.okta.http_timeout * 2 + 5),
    )
    if metrics.enabled():  # count the sessions the store forgets at their deadline
        manager.expiry = ExpiryWatch(store, hard_deadline_of=manager.hard_deadline_of,
                                     tombstone_ttl=settings.session.absolute_lifetime + 3600)
        sweeper = asyncio.create_task(manager.expiry.run(), name="session-expiry-watch")

        async def stop_sweeper() -> None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

        stack.push_async_callback(stop_sweeper)
    transactions = LoginTransactions(store, settings.secret_keys,
                                     ttl=settings.session.login_transaction_ttl)
    return AuthArea(settings, oidc, manager, transactions, store)

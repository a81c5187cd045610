"""Wiring of the sign-in core into the app: its routes, and at start-up the session store
(``bff.sessions.open_store``), the OIDC client (discovery + JWKS loaded once), the
:class:`~bff.auth.sessions.SessionManager` as ``services.sessions``, and the ready checks
``session_store`` and ``idp_discovery``.

Service names: ``services.areas["oidc"]`` (:class:`~bff.auth.oidc.OIDCClient`),
``services.areas["auth"]`` (:class:`~bff.auth.routes.AuthArea`),
``services.areas["session_store"]`` (the store, for areas that need ``claim_once`` or locks).
"""

from __future__ import annotations

import contextlib

from starlette.routing import BaseRoute

from bff.auth import routes as auth_routes
from bff.auth.oidc import OIDCClient
from bff.auth.sessions import SessionManager
from bff.auth.transactions import LoginTransactions
from bff.services import Services
from bff.sessions import open_store
from bff.settings import Settings


def routes(settings: Settings) -> list[BaseRoute]:
    return auth_routes.routes(settings)


async def start(settings: Settings, services: Services, stack: contextlib.AsyncExitStack) -> None:
    store = open_store(settings)
    stack.push_async_callback(store.close)
    oidc = OIDCClient(settings, services.http)
    await oidc.start()
    manager = SessionManager(
        store=store, oidc=oidc, secret_keys=settings.secret_keys,
        cookie_name=settings.session.cookie_name,
        idle_timeout=settings.session.idle_timeout,
        absolute_lifetime=settings.session.absolute_lifetime,
        refresh_skew=settings.session.refresh_skew,
        # The lock must outlive one token call (timeout) with room to write the result.
        lock_ttl=max(10.0, settings.okta.http_timeout * 2 + 5),
    )
    transactions = LoginTransactions(store, settings.secret_keys,
                                     ttl=settings.session.login_transaction_ttl)
    services.sessions = manager
    services.areas["oidc"] = oidc
    services.areas["session_store"] = store
    services.areas["auth"] = auth_routes.AuthArea(settings, oidc, manager, transactions)
    services.ready_checks["session_store"] = store.ping
    services.ready_checks["idp_discovery"] = oidc.ready

"""The long-lived objects of one app instance: a frozen dataclass with one typed field per area.

:func:`bff.app.build_services` builds it once in the lifespan, area by area in written-out
order, passing each area what it depends on. Handlers reach a field through its typed key
(:mod:`bff.lookup`: ``service(request, AUTH)``), which each area declares next to its type, so
the areas never import this module and this module imports them downward. Tests swap a field
with ``dataclasses.replace`` in a ``create_app(settings, overrides=...)`` override.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bff.auth.api import SessionLookup
from bff.auth.endpoints import AuthArea
from bff.content.endpoints import ContentArea
from bff.lookup import NotStarted
from bff.proxy.proxy import Proxy
from bff.settings import Settings
from bff.signin.service import SigninService
from bff.signup.service import SignupService
from bff.spa.endpoints import SpaArea

ReadyCheck = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Services:
    settings: Settings
    http: httpx.AsyncClient  # low-rate outgoing calls: Okta, AEM, Okta Management
    sessions: SessionLookup  # what every area reads the session through (bff.auth.api.SESSIONS)
    auth: AuthArea  # sign-in core: OIDC client, session manager and store, login transactions
    content: ContentArea
    proxy: Proxy
    signup: SignupService
    signin: SigninService  # embedded sign-in (Okta Identity Engine, Interaction Code flow)
    spa: SpaArea
    ready_checks: Mapping[str, ReadyCheck]  # name -> async () -> bool, for /readyz


def services_of(conn: Mapping[str, Any]) -> Services:
    """The whole of the running app's services (the composition root and tests; handlers use
    their area's key instead)."""
    services = getattr(conn["app"].state, "services", None)
    if not isinstance(services, Services):
        raise NotStarted("The service is starting")
    return services

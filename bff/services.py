"""The long-lived objects of one app instance: one typed field per area.

:func:`bff.app.build_services` builds them once in the lifespan, area by area in written-out
order, passing each area what it depends on; request handlers reach them with
:func:`services_of` (``services_of(request).proxy``), fully typed. Tests swap one with
``dataclasses.replace`` in a ``create_app(settings, overrides=...)`` override, or build the
area object themselves.

This module imports the areas' types for the type checker only: at run time it is a leaf that
every area may import (areas import downward; no cycle).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bff.errors import Unavailable
from bff.settings import Settings

if TYPE_CHECKING:
    from bff.auth.api import SessionLookup
    from bff.auth.endpoints import AuthArea
    from bff.content.endpoints import ContentArea
    from bff.proxy.proxy import Proxy
    from bff.signin.service import SigninService
    from bff.signup.service import SignupService
    from bff.spa.endpoints import SpaArea

ReadyCheck = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Services:
    settings: Settings
    http: httpx.AsyncClient  # low-rate outgoing calls: Okta, AEM, Okta Management
    sessions: SessionLookup  # what every area reads the session through (bff.auth.api)
    auth: AuthArea  # sign-in core: OIDC client, session manager and store, login transactions
    content: ContentArea
    proxy: Proxy
    signup: SignupService
    signin: SigninService  # embedded sign-in (Okta Identity Engine, Interaction Code flow)
    spa: SpaArea
    ready_checks: Mapping[str, ReadyCheck]  # name -> async () -> bool, for /readyz


class NotStarted(Unavailable):
    """A request reached a handler before the lifespan built the services (503)."""


def services_of(conn: Mapping[str, Any]) -> Services:
    """The running app's services; ``conn`` is a request (any ``HTTPConnection``) or a raw
    ASGI scope."""
    services = getattr(conn["app"].state, "services", None)
    if not isinstance(services, Services):
        raise NotStarted("The service is starting")
    return services

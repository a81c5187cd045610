"""The long-lived objects of one app instance, built in the lifespan and injected.

Each area owns a ``start(settings, services, stack)`` function that creates its objects once
(HTTP clients, caches, stores) and registers their clean-up on ``stack``; request handlers
reach them through ``request.app.state.services``. Tests build a :class:`Services` with
twins or fakes instead (``create_app(settings, overrides=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from bff.settings import Settings

if TYPE_CHECKING:
    from bff.auth.api import SessionLookup


@dataclass
class Services:
    settings: Settings
    http: httpx.AsyncClient  # low-rate outgoing calls: Okta, AEM, Okta Management
    sessions: SessionLookup | None = None
    # Each area stores its service object under its own name: "oidc", "content", "proxy",
    # "signup", ... (typed accessors live in the area's package).
    areas: dict[str, Any] = field(default_factory=dict)
    ready_checks: dict[str, Any] = field(default_factory=dict)  # name -> async () -> bool

    def area(self, name: str) -> Any:
        try:
            return self.areas[name]
        except KeyError:
            raise RuntimeError(f"service {name!r} was not started") from None

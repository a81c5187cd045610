"""How a request handler reaches its area's long-lived object: a typed key per service.

Each area declares the key of what its handlers need next to that type
(``AUTH: ServiceKey[AuthArea] = ServiceKey("auth")``) and asks ``service(request, AUTH)``,
typed ``AuthArea`` for the type checker and for a reader. The keys name the fields of the
frozen :class:`bff.services.Services` the lifespan builds (a test holds every key to its
field's type). Keyed by interface like warehouse's ``find_service(IFoo)``, and a leaf module:
the areas import it, :mod:`bff.services` imports the areas, nothing imports upward.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

from bff.errors import Unavailable
from bff.settings import Settings

T = TypeVar("T")


class ServiceKey(Generic[T]):
    """The typed name of one field of :class:`bff.services.Services`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r})"


#: The app's configuration (``Services.settings``).
SETTINGS: ServiceKey[Settings] = ServiceKey("settings")


class NotStarted(Unavailable):
    """A request reached a handler before the lifespan built the services (503)."""


def service(conn: Mapping[str, Any], key: ServiceKey[T]) -> T:
    """The running app's service under ``key``; ``conn`` is a request (any ``HTTPConnection``)
    or a raw ASGI scope."""
    services = getattr(conn["app"].state, "services", None)
    if services is None:
        raise NotStarted("The service is starting")
    return cast(T, getattr(services, key.name))

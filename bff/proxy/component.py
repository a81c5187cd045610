"""Wiring of this area into the app (routes and lifespan start-up)."""

from __future__ import annotations

import contextlib

from starlette.routing import BaseRoute

from bff.services import Services
from bff.settings import Settings


def routes(settings: Settings) -> list[BaseRoute]:
    return []


async def start(settings: Settings, services: Services, stack: contextlib.AsyncExitStack) -> None:
    return None

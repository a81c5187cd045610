"""Wiring of the SPA area (handlers: :mod:`bff.spa.endpoints`): at start-up the asset catalog,
the HTML shell and the first-paint copy source, in one :class:`~bff.spa.endpoints.SpaArea`
(``services.spa``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from bff.content.endpoints import ContentArea
from bff.content.variations import MASTER
from bff.settings import Settings
from bff.spa import endpoints
from bff.spa.assets import AssetCatalog
from bff.spa.bootstrap import CopySource
from bff.spa.endpoints import SpaArea
from bff.spa.shell import Shell


def routes(settings: Settings) -> list[BaseRoute]:
    return endpoints.routes(settings)


def content_copy_source(content: ContentArea) -> CopySource:
    """The first-paint copy from the content area: the same document ``GET /bff/content/{journey}``
    answers, from the same cache (no HTTP round trip)."""
    service = content.service
    allowed = content.variations

    async def source(journey: str, requested: str, locale: str, *, preview: bool,
                     variation: str) -> Mapping[str, Any] | None:
        if variation not in allowed:  # a page ignores what the copy API refuses (400)
            variation = MASTER
        render = service.render_preview if preview else service.render
        rendered = await render(journey, requested, locale, variation)
        body: Mapping[str, Any] = json.loads(rendered.body)
        return body

    return source


def build(settings: Settings, content: ContentArea) -> SpaArea:
    spa_dir = Path(settings.spa_dir)
    catalog = AssetCatalog.load(spa_dir)
    shell = Shell(spa_dir, catalog)
    return SpaArea(settings, catalog, shell, content_copy_source(content))

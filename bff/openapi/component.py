"""Wiring of the contract area: its one route, with the document drawn from the settings."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from bff.openapi.document import ContractOptions, build_document
from bff.openapi.endpoints import DocumentEndpoint
from bff.settings import Settings

PATH = "/bff/openapi.json"


def routes(settings: Settings) -> list[BaseRoute]:
    endpoint = DocumentEndpoint(build_document(ContractOptions.from_settings(settings)))
    return [Route(PATH, endpoint.serve, methods=["GET"])]

"""moto in server mode on loopback, with the pipeline's topology created on it.

``start_aws(stack, port=..., spec=...)`` is what the ``bff dev`` part and the tests use: it
starts ``moto.server.ThreadedMotoServer`` on 127.0.0.1 (unless ``endpoint_url`` points at one
already running), creates the topology, and registers the shutdown on ``stack``.

moto keeps its state in process-wide backends: every moto server in one process sees the same
resources. Tests therefore give each pipeline its own ``TopologySpec.prefix`` (and unique
recipients) instead of resetting moto.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from moto.server import ThreadedMotoServer

from bff_dev.twins.aws.topology import Topology, TopologySpec, create_topology

log = logging.getLogger("bff_dev.twins.aws")

#: URLs of the moto servers running in THIS process (their state is this process's moto backends).
IN_PROCESS: set[str] = set()


def running_in_process(url: str) -> bool:
    """Whether ``url`` is a moto server of this process (its backends can be read directly)."""
    return url.rstrip("/").replace("localhost", "127.0.0.1") in IN_PROCESS


class MotoServer:
    """One ``ThreadedMotoServer`` bound to 127.0.0.1:``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # werkzeug logs one line per request at INFO: far too chatty for `bff dev`.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        IN_PROCESS.add(self.url)

    def stop(self) -> None:
        IN_PROCESS.discard(self.url)
        self._server.stop()


@dataclass
class AwsTwin:
    """A running AWS endpoint with the pipeline's resources (``ctx.info["aws"]`` in ``bff dev``)."""

    endpoint_url: str
    topology: Topology
    server: MotoServer | None  # None when the endpoint was started by someone else

    def client(self, service: str) -> Any:
        return self.topology.client(service)

    async def moto_data(self) -> dict[str, Any]:
        """moto's ``GET /moto-api/data.json`` (every backend's models)."""
        async with httpx.AsyncClient(timeout=10) as http:
            resp = await http.get(f"{self.endpoint_url}/moto-api/data.json")
            resp.raise_for_status()
            data = resp.json()
        return data if isinstance(data, dict) else {}


async def start_aws(stack: contextlib.AsyncExitStack, *, port: int | None = None,
                    endpoint_url: str | None = None, spec: TopologySpec | None = None) -> AwsTwin:
    """Start moto on ``port`` (or use ``endpoint_url``) and create the topology on it."""
    server: MotoServer | None = None
    if endpoint_url is None:
        if port is None:
            raise ValueError("start_aws needs a port to start moto on, or the endpoint_url of one")
        server = MotoServer(port)
        await asyncio.to_thread(server.start)
        stack.callback(server.stop)
        endpoint_url = server.url
    topology = await asyncio.to_thread(create_topology, endpoint_url, spec)
    return AwsTwin(endpoint_url=endpoint_url, topology=topology, server=server)

"""Where metrics leave the process: the Prometheus listener of the container deployment.

``BFF_METRICS_ADDR`` (``host:port``, default ``127.0.0.1:9464``) is a listener of its own,
``prometheus_client``'s threaded WSGI server, never the public port: the public app has no
``/metrics`` route, so nothing a browser can reach reveals traffic figures. Bind it to the
address the scraper reaches (the task's private IP, ``0.0.0.0`` inside a container whose port is
not published to the load balancer). On Lambda metrics leave as EMF (:func:`metrics.flush`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from bff.config import ConfigError

log = logging.getLogger("bff.observability")


@dataclass
class MetricsListener:
    host: str
    port: int
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(registry: Any, host: str, port: int) -> MetricsListener:
    """Serve ``registry`` as Prometheus text on ``host:port`` (port 0: any free port) in a
    daemon thread. A port already taken stops start-up with a ConfigError naming it."""
    from prometheus_client import start_http_server

    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError([f"BFF_METRICS_ADDR {host}:{port} cannot be bound: {exc.strerror}"]) from exc
    listener = MetricsListener(host, server.server_port, server, thread)
    log.info("metrics (Prometheus text) on %s", listener.url)
    return listener

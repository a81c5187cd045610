from __future__ import annotations

import contextlib
import json

import httpx
import pytest

from bff.observability import component, metrics, tracing
from bff.settings import TelemetrySettings


def test_emf_is_flushed_when_the_lifespan_ends(capsys: pytest.CaptureFixture[str]) -> None:
    with contextlib.ExitStack() as stack:
        started = component.start(TelemetrySettings(metrics="emf"), stack)
        assert started.metrics == "emf" and started.listener is None and not started.tracing
        metrics.SESSIONS_CREATED.inc()
    assert not metrics.enabled()
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["bff_sessions_created_total"] == 1.0


def test_prometheus_listener_on_its_own_port() -> None:
    with contextlib.ExitStack() as stack:
        started = component.start(TelemetrySettings(metrics="prometheus", metrics_port=0), stack)
        assert started.listener is not None
        metrics.TOKEN_REFRESHES.inc("waited")
        text = httpx.get(started.listener.url).text
        assert 'bff_token_refreshes_total{outcome="waited"} 1.0' in text
        url = started.listener.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)


def test_console_exporter(capsys: pytest.CaptureFixture[str]) -> None:
    with contextlib.ExitStack() as stack:
        settings = TelemetrySettings(traces_exporter="console", sampler="always_on")
        assert component.start(settings, stack).tracing
        with tracing.span("printed"):
            pass
    assert not tracing.active()
    assert '"name": "printed"' in capsys.readouterr().out


def test_off_starts_nothing() -> None:
    with contextlib.ExitStack() as stack:
        started = component.start(TelemetrySettings(), stack)
    assert not started.tracing and started.metrics == "off" and not tracing.active() and not metrics.enabled()

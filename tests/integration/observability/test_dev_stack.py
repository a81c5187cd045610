"""``bff dev`` with telemetry: the metrics listener it prints serves every series, and
``OTEL_TRACES_EXPORTER=console`` prints the spans of a request, the twins' included."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bff_dev.devstack import run_stack
from bff_dev.serving import free_ports
from tests.integration.observability.test_metrics import EXPECTED


async def test_bff_dev_prints_and_serves_its_metrics_and_traces_to_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ports = free_ports()
    async with run_stack(ports, tmp_path / "dev", env_overrides={"OTEL_TRACES_EXPORTER": "console"}) as info:
        metrics_url = f"http://127.0.0.1:{ports.metrics}/metrics"
        assert f"Metrics           {metrics_url}" in info.lines
        assert "Traces            OTEL_TRACES_EXPORTER=console" in info.lines
        async with httpx.AsyncClient(base_url=info.url) as client:
            assert (await client.get("/bff/user")).status_code == 401
            assert (await client.get("/metrics")).status_code != 200 or "bff_" not in (
                await client.get("/metrics")
            ).text
        async with httpx.AsyncClient() as client:
            text = (await client.get(metrics_url)).text
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE bff_")}
    assert {n.removesuffix("_total") for n in names} >= EXPECTED
    assert 'bff_http_request_duration_seconds_count{method="GET",route="/bff/user",status="401"} 1.0' in text
    assert '"name": "GET /bff/user"' in capsys.readouterr().out

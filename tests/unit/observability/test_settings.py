"""Settings.telemetry: the OTEL_* variables and BFF_METRICS* read and validated in bff.settings."""

from __future__ import annotations

import pytest

from bff.config import ConfigError
from bff.settings import DEFAULT_TRACE_RATIO, Settings, TelemetrySettings
from tests.support.env import base_env


def test_off_by_default() -> None:
    t = Settings.from_env(base_env()).telemetry
    assert not t.tracing and t.metrics == "off"


def test_otlp_endpoint_from_the_standard_variables() -> None:
    t = Settings.from_env(
        base_env(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318/")
    ).telemetry
    assert t.tracing and t.otlp_endpoint == "http://127.0.0.1:4318/v1/traces"
    t = Settings.from_env(
        base_env(
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318",
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://otel.example.test/x",
        )
    ).telemetry
    assert t.otlp_endpoint == "https://otel.example.test/x"


def test_the_default_sampler_is_a_parent_based_ratio() -> None:
    t = Settings.from_env(base_env(OTEL_TRACES_EXPORTER="otlp")).telemetry
    assert (t.sampler, t.sampler_arg) == ("parentbased_traceidratio", DEFAULT_TRACE_RATIO) == (
        TelemetrySettings().sampler, TelemetrySettings().sampler_arg)
    assert 0 < DEFAULT_TRACE_RATIO < 1
    # a sampler named without its argument gets OpenTelemetry's default ratio, 1
    t = Settings.from_env(base_env(OTEL_TRACES_SAMPLER="traceidratio")).telemetry
    assert (t.sampler, t.sampler_arg) == ("traceidratio", 1.0)
    t = Settings.from_env(base_env(OTEL_TRACES_SAMPLER_ARG="0.25")).telemetry
    assert (t.sampler, t.sampler_arg) == ("parentbased_traceidratio", 0.25)


def test_sdk_disabled_wins() -> None:
    t = Settings.from_env(base_env(OTEL_TRACES_EXPORTER="console", OTEL_SDK_DISABLED="true")).telemetry
    assert not t.tracing


def test_metrics_addr_turns_prometheus_on() -> None:
    t = Settings.from_env(base_env(BFF_METRICS_ADDR="0.0.0.0:9464")).telemetry
    assert (t.metrics, t.metrics_host, t.metrics_port) == ("prometheus", "0.0.0.0", 9464)
    assert Settings.from_env(base_env(BFF_METRICS="emf")).telemetry.metrics == "emf"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER must be one of none, otlp, console"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "must be http/protobuf"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example.test:4318"}, "must use https"),
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER must be one of"),
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, "ratio between 0 and 1"),
        ({"BFF_METRICS_ADDR": "9464"}, "BFF_METRICS_ADDR must be host:port"),
        ({"BFF_METRICS_ADDR": "127.0.0.1:99999"}, "BFF_METRICS_ADDR must be host:port"),
        ({"BFF_METRICS": "statsd"}, "BFF_METRICS must be one of off, prometheus, emf"),
        (
            {"BFF_PUBLIC_URL": "http://localhost:8000", "BFF_METRICS_ADDR": "localhost:8000"},
            "must not be the public port",
        ),
    ],
)
def test_bad_values_refuse_to_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(base_env(**env))
    assert any(message in line for line in info.value.lines), info.value.lines

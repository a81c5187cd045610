from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest

from bff.observability import metrics


@pytest.fixture
def prometheus() -> Iterator[object]:
    registry = metrics.enable("prometheus")
    yield registry
    metrics.disable()


def test_off_records_nothing() -> None:
    assert not metrics.enabled()
    metrics.TOKEN_REFRESHES.inc("ok")
    metrics.HTTP_REQUEST_SECONDS.observe(0.1, "/x", "GET", "200")
    assert metrics.TOKEN_REFRESHES.series == 0


def test_prometheus_text(prometheus: object) -> None:
    metrics.TOKEN_REFRESHES.inc("ok")
    metrics.TOKEN_REFRESHES.inc("ok")
    metrics.HTTP_REQUEST_SECONDS.observe(0.02, "/bff/user", "GET", "200")
    metrics.OUTBOX_OLDEST_AGE.set(12.5)
    text = generate_latest(prometheus).decode()  # type: ignore[arg-type]
    assert 'bff_token_refreshes_total{outcome="ok"} 2.0' in text
    assert 'bff_http_request_duration_seconds_count{method="GET",route="/bff/user",status="200"} 1.0' in text
    assert "bff_outbox_oldest_pending_age_seconds 12.5" in text
    assert "# TYPE bff_signin_steps_total counter" in text  # declared before any sample


def test_label_sets_are_capped(prometheus: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_SERIES", 3)
    for i in range(10):
        metrics.RATE_LIMITED.inc(f"bucket-{i}")
    assert metrics.RATE_LIMITED.series == 4  # three, then "other"
    assert "bff_rate_limit_rejections_total" in metrics.OVERFLOW
    text = generate_latest(prometheus).decode()  # type: ignore[arg-type]
    assert 'bff_rate_limit_rejections_total{limiter="other"} 7.0' in text


def test_label_values_are_scrubbed(prometheus: object) -> None:
    metrics.SIGNUPS.inc("alice@acme.test")
    text = generate_latest(prometheus).decode()  # type: ignore[arg-type]
    assert "alice@acme.test" not in text and 'outcome="[redacted]"' in text


def test_wrong_label_count_is_a_programming_error(prometheus: object) -> None:
    with pytest.raises(ValueError):
        metrics.TOKEN_REFRESHES.inc()


def test_emf_documents() -> None:
    metrics.enable("emf")
    try:
        metrics.UPSTREAM_SECONDS.observe(0.1, "api", "200")
        metrics.UPSTREAM_SECONDS.observe(0.3, "api", "200")
        metrics.SESSIONS_CREATED.inc()
        metrics.SESSIONS_CREATED.inc()
        out = io.StringIO()
        assert metrics.flush(out) == 2
        docs = [json.loads(line) for line in out.getvalue().splitlines()]
        assert metrics.flush(io.StringIO()) == 0  # reset after a flush
    finally:
        metrics.disable()
    upstream = next(d for d in docs if "bff_upstream_request_duration_seconds" in d)
    assert upstream["bff_upstream_request_duration_seconds"] == [0.1, 0.3]
    assert upstream["upstream"] == "api" and upstream["status"] == "200"
    directive = upstream["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "BFF" and directive["Dimensions"] == [["upstream", "status"], []]
    assert directive["Metrics"] == [{"Name": "bff_upstream_request_duration_seconds", "Unit": "Seconds"}]
    created = next(d for d in docs if "bff_sessions_created_total" in d)
    assert created["bff_sessions_created_total"] == 2.0
    assert created["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]


def test_histogram_buckets_are_cumulative_and_le_inclusive(prometheus: object) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    for value in (0.0005, 0.001, 0.003, 20.0):  # 0.001 falls in le="0.001" (inclusive)
        metrics.UPSTREAM_SECONDS.observe(value, "admin", "200")
    text = generate_latest(prometheus).decode()  # type: ignore[arg-type]
    family = next(f for f in text_string_to_metric_families(text)
                  if f.name == "bff_upstream_request_duration_seconds")
    samples = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert samples["bff_upstream_request_duration_seconds_bucket", "0.001"] == 2
    assert samples["bff_upstream_request_duration_seconds_bucket", "0.005"] == 3
    assert samples["bff_upstream_request_duration_seconds_bucket", "10.0"] == 3
    assert samples["bff_upstream_request_duration_seconds_bucket", "+Inf"] == 4
    assert samples["bff_upstream_request_duration_seconds_count", None] == 4
    assert samples["bff_upstream_request_duration_seconds_sum", None] == pytest.approx(20.0045)


def test_gauges_replace_and_counters_add(prometheus: object) -> None:
    metrics.OUTBOX_DEPTH.set(5, "pending")
    metrics.OUTBOX_DEPTH.set(2, "pending")
    metrics.SIGNUPS.inc("created", amount=2)
    metrics.SIGNUPS.inc("created")
    text = generate_latest(prometheus).decode()  # type: ignore[arg-type]
    assert 'bff_outbox_depth{state="pending"} 2.0' in text
    assert 'bff_signups_total{outcome="created"} 3.0' in text


def test_label_sets_the_scrubber_merges_share_one_series(prometheus: object) -> None:
    metrics.SIGNUPS.inc("alice@acme.test")
    metrics.SIGNUPS.inc("bob@acme.test")  # both scrub to "[redacted]": one series, counting both
    text = generate_latest(prometheus).decode()  # type: ignore[arg-type]
    assert 'bff_signups_total{outcome="[redacted]"} 2.0' in text

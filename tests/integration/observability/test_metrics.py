"""The Prometheus listener (``BFF_METRICS_ADDR``) of a running BFF: the series the issue lists,
labelled by route template, never by path; a flood of random paths leaves the series count
where it was; the public port has no ``/metrics``."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bff.observability import metrics
from bff_dev.serving import free_port
from tests.integration.observability.conftest import running_stack

EXPECTED = {
    "bff_http_request_duration_seconds",
    "bff_upstream_request_duration_seconds",
    "bff_upstream_errors",
    "bff_token_refreshes",
    "bff_session_store_duration_seconds",
    "bff_session_store_errors",
    "bff_sessions_created",
    "bff_sessions_ended",
    "bff_signin_steps",
    "bff_signups",
    "bff_rate_limit_rejections",
    "bff_content_cache",
    "bff_content_fallback",
    "bff_outbox_depth",
    "bff_outbox_oldest_pending_age_seconds",
    "bff_webhook_events",
}


async def _scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        out[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return out


def _series(families: dict[str, list[tuple[dict[str, str], float]]]) -> int:
    return sum(len(samples) for name, samples in families.items() if name.startswith("bff_"))


async def test_the_listener_serves_the_series_by_route_template(tmp_path: Path) -> None:
    port = free_port()
    async with running_stack(tmp_path, BFF_METRICS_ADDR=f"127.0.0.1:{port}") as stack:
        url = f"http://127.0.0.1:{port}/metrics"
        cookie = await stack.login()
        assert (await stack.get(cookie, "/api/admin/users/00u1")).status_code == 200
        assert (await stack.get(cookie, "/bff/user")).status_code == 200
        assert (
            await stack.client.post("/bff/logout", headers={"X-CSRF": "1", "Cookie": f"__Host-bff={cookie}"})
        ).status_code in {200, 303}
        families = await _scrape(url)
        assert EXPECTED <= set(families), EXPECTED - set(families)
        requests = {
            (s["route"], s["method"], s["status"])
            for s, _ in families["bff_http_request_duration_seconds"]
            if "route" in s
        }
        assert ("/api/admin/{rest:path}", "GET", "200") in requests
        assert ("/bff/user", "GET", "200") in requests
        assert not any("00u1" in route for route, _, _ in requests)
        refreshes = {s["outcome"]: v for s, v in families["bff_token_refreshes"] if s}
        assert refreshes.get("ok", 0) >= 1
        upstream = {
            s["upstream"] for s, _ in families["bff_upstream_request_duration_seconds"] if "upstream" in s
        }
        assert {"api", "okta"} <= upstream
        created = [v for s, v in families["bff_sessions_created"] if not s]
        assert created and created[0] >= 1
        ended = {s["reason"]: v for s, v in families["bff_sessions_ended"] if "reason" in s}
        assert ended.get("logout", 0) >= 1
        ops = {s["operation"] for s, _ in families["bff_session_store_duration_seconds"] if "operation" in s}
        assert {"get", "create", "delete"} <= ops
        # The public app has no /metrics of its own.
        assert (await stack.client.get("/metrics")).status_code == 404 or "bff_http_request" not in (
            await stack.client.get("/metrics")
        ).text


async def test_a_flood_of_random_paths_does_not_grow_the_series(tmp_path: Path) -> None:
    port = free_port()
    async with running_stack(tmp_path, BFF_METRICS_ADDR=f"127.0.0.1:{port}") as stack:
        url = f"http://127.0.0.1:{port}/metrics"
        cookie = await stack.login()

        async def flood() -> None:
            for _ in range(60):
                word = secrets.token_hex(6)
                await stack.client.get(f"/{word}")  # the SPA's history fallback
                await stack.client.get(f"/api/{word}")  # no API route
                await stack.client.get(f"/bff/{word}/{word}")
                await stack.client.get(f"/bff/content/{word}")
                await stack.get(cookie, f"/api/admin/{word}")
                await stack.client.request(f"X{word[:4].upper()}", "/")  # a made-up method

        await flood()
        before = _series(await _scrape(url))
        await flood()
        after = _series(await _scrape(url))
        assert after == before, (before, after)
        assert not metrics.OVERFLOW  # bounded by templates, not by the MAX_SERIES net

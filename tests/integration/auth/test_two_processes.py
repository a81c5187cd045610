"""Two BFF processes (uvicorn subprocesses, configured only from the environment) sharing the
real Redis at 127.0.0.1:6379: 50 concurrent requests on an expired access token, split between
them, cause exactly ONE refresh-token call at the Okta twin, and no refresh token is reused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bff.settings import REPO_ROOT, Settings
from bff_dev.serving import free_port
from tests.support.env import base_env
from tests.support.login import SESSION_COOKIE, login_as, register_bff_client
from tests.support.okta import running_okta_twin

REDIS = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def bff_process(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")} | env
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bff.app:app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=REPO_ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise AssertionError(f"BFF process exited: {err[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                r = await http.get(f"{url}/readyz")
                if r.status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} not ready in time")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"test-auth-{secrets.token_hex(4)}:"
    yield prefix
    client = Redis.from_url(REDIS)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_two_processes_sharing_redis_refresh_once(redis_prefix: str) -> None:
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    async with running_okta_twin(refresh_leeway=0) as okta:
        env = base_env(BFF_OKTA_ISSUER=okta.issuer, BFF_PUBLIC_URL=url_a,
                       BFF_SESSION_STORE=f"{REDIS}?prefix={redis_prefix}", BFF_LOG_LEVEL="WARNING",
                       BFF_CACHE_BUS=REDIS)
        settings = Settings.from_env(env)
        register_bff_client(okta, settings)
        with bff_process(env, port_a) as proc_a, bff_process(env, port_b) as proc_b:
            await asyncio.gather(wait_ready(url_a, proc_a), wait_ready(url_b, proc_b))
            async with httpx.AsyncClient(base_url=url_a) as a, httpx.AsyncClient(base_url=url_b) as b:
                okta.access_token_ttl = 30  # under the 60 s refresh skew: needs a refresh at once
                cookie = await login_as(a, "bob@acme.test")
                okta.access_token_ttl = 3600
                assert okta.counters["token:refresh_token"] == 0
                okta.delay_next("/v1/token", 0.3)  # a slow token call: both processes pile up on it
                headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
                calls: list[Any] = [c.get("/bff/user", headers=headers) for c in (a, b) for _ in range(25)]
                responses = await asyncio.gather(*calls)
                assert [r.status_code for r in responses] == [200] * 50
                assert okta.counters["token:refresh_token"] == 1
                # The refresh token now in Redis is the rotated one and its grant is alive: had
                # any process presented the old one (reuse, no leeway here), the twin would have
                # revoked the whole grant. Checked on the wire with RFC 7662 introspection.
                stored = await stored_refresh_token(env, redis_prefix, cookie)
                async with httpx.AsyncClient() as http:
                    r = await http.post(f"{okta.issuer}/v1/introspect", data={"token": stored},
                                        auth=(settings.okta.client_id, settings.okta.client_secret or ""))
                assert r.json()["active"] is True
                # Logout through the other process ends the session for both.
                r = await b.post("/bff/logout", headers={"X-CSRF": "1", **headers})
                assert r.status_code == 200
                assert (await a.get("/bff/user", headers=headers)).status_code == 401
                assert okta.counters["revoke"] == 1


async def stored_refresh_token(env: dict[str, str], prefix: str, cookie: str) -> str:
    """Read the session record from Redis and decrypt it (the test knows BFF_SECRET_KEYS)."""
    import json

    from bff.sessions.crypto import TokenCipher
    from bff.sessions.redis import RedisStore

    session_id = cookie.split(".")[0]
    store = RedisStore.from_url(REDIS, prefix=prefix)
    try:
        record = await store.get(session_id)
    finally:
        await store.close()
    assert record is not None and record.version > 1
    data = json.loads(TokenCipher((env["BFF_SECRET_KEYS"],)).decrypt(record.data, aad=session_id.encode()))
    token: str = data["refresh_token"]
    return token

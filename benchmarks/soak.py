"""Soak test: the real app under mixed traffic for a minute, its memory and file descriptors
watched every second.

    .venv/bin/python benchmarks/soak.py [--seconds 60] [--concurrency 64] [--warmup 30] [--tracemalloc]

Processes (each one uvicorn worker, uvloop + httptools, like production): the BFF from
``create_app`` with a real Redis session store (``redis://127.0.0.1:6379/14``, required), the
Okta twin (access tokens live ``--token-ttl`` s), the AEM twin, and an upstream answering a fixed
JSON body; the load generator is this process (aiohttp, ``--concurrency`` keep-alive
connections).

Traffic, per request drawn at random:

- 45 % proxied API calls ``GET /api/soak/ping`` with one of ``--sessions`` signed-in sessions
  (a session read from Redis + decrypt, CSRF, route checks, token attached, relayed);
- 25 % cached copy ``GET /bff/content/{journey}?locale=``, the same few keys;
- 10 % uncached copy: ``?variation=v<n>`` over 200 variations with ``BFF_CONTENT_TTL=1``, so most
  answers are fetched from AEM again;
- 20 % ``GET /bff/user`` with one of the sessions;
- besides: a full sign-in (``/bff/login`` → the twin's form → ``/bff/callback``) every second,
  and, since every session signed in at start-up, their access tokens expire together
  ``--token-ttl`` s later, and again after each refresh (5 s skew): a refresh wave every
  ``--token-ttl`` - 5 s (each session refreshes once per wave, single-flight), the first in the
  warm-up, the next ones mid-run.

The warm-up (``--warmup``, 30 s) is the same traffic, and must reach the steady state the
verdict compares against: it includes a refresh wave (refused otherwise) and walks every copy
variation once (the uncached copy's working set: its fragments and renderings are cached,
bounded, one per variation), after which the run draws them at random.

The BFF's RSS and open file descriptors are read from ``/proc`` every second. Verdict (exit code
0 pass, 1 fail): 0 errors (transport errors, or a status other than the expected one), 0 5xx, RSS
at the end within ``--rss-tolerance`` (10 %) of its value after the warm-up, no fd growth (the
end's count at most ``--fd-slack`` above the warm-up's). The figures are printed as a table and as
one JSON line. Everything shares the machine: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "dev")]

sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import redis_up, wait_ready  # noqa: E402

from bff_dev.serving import free_port  # noqa: E402  (ports outside the ephemeral range)

CLIENT_ID = "0oasoakclient"
CLIENT_SECRET = "soak-client-secret-value-0123456789"
SECRET_KEY = "soak-secret-key-0123456789abcdef-0123456789"
REDIS = "redis://127.0.0.1:6379/14"
BODY = b'{"status":"ok","items":[1,2,3]}'
JOURNEYS = ("signin", "signup", "profile", "common")
VARIATIONS = 200
ROUTES = """
[upstreams.soak]
url = "{url}"
timeout = 10

[[routes]]
path = "/api/soak/{{rest:path}}"
upstream = "soak"
methods = ["GET"]
"""


# -- the servers (child processes) ------------------------------------------------------------


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    while (await receive()).get("more_body"):
        pass
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def serve(kind: str, port: int, arg: str) -> None:
    import uvicorn

    app: Any
    if kind == "upstream":
        app = upstream_app
    elif kind == "okta":
        from bff_dev.twins.okta import OktaTwin

        twin = OktaTwin(f"http://127.0.0.1:{port}")
        bff_url, ttl = arg.split(" ")
        twin.access_token_ttl = int(ttl)
        twin.register_client(
            CLIENT_ID,
            secret=CLIENT_SECRET,
            redirect_uris=[f"{bff_url}/bff/callback"],
            post_logout_redirect_uris=[f"{bff_url}/"],
        )
        app = twin.app
    elif kind == "aem":
        from bff_dev.twins.aem import AemTwin

        app = AemTwin().app
    else:
        from bff.app import create_app
        from bff.settings import Settings

        app = create_app(Settings.from_env())
        if arg:  # --tracemalloc: snapshots on SIGUSR1, written to arg + ".<n>"
            import tracemalloc

            tracemalloc.start(8)
            taken = [0]

            def snapshot(signum: int, frame: Any) -> None:
                taken[0] += 1
                tracemalloc.take_snapshot().dump(f"{arg}.{taken[0]}")

            signal.signal(signal.SIGUSR1, snapshot)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


def spawn(kind: str, port: int, arg: str = "", env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), arg],
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


async def sign_in(bff_url: str) -> str:
    import httpx

    from tests.support.login import login_as

    async with httpx.AsyncClient(base_url=bff_url, timeout=15) as client:
        return await login_as(client, "alice@acme.test")


# -- sampling the BFF -------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Samples:
    t: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)

    def take(self, pid: int, at: float) -> None:
        self.t.append(at)
        self.rss.append(rss_bytes(pid))
        self.fds.append(open_fds(pid))


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    sign_ins: int = 0
    sign_in_failures: int = 0


# -- the load ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    import aiohttp

    if not redis_up():
        print("soak: Redis is required at 127.0.0.1:6379 (apt-get install redis-server)", file=sys.stderr)
        return 2
    ports = {k: free_port() for k in ("bff", "okta", "aem", "upstream")}
    bff_url = f"http://127.0.0.1:{ports['bff']}"
    work = Path(tempfile.mkdtemp(prefix="bff-soak-"))
    (work / "routes.toml").write_text(ROUTES.format(url=f"http://127.0.0.1:{ports['upstream']}"))
    env = {
        "BFF_PUBLIC_URL": bff_url,
        "BFF_SECRET_KEYS": SECRET_KEY,
        "BFF_OKTA_ISSUER": f"http://127.0.0.1:{ports['okta']}/oauth2/default",
        "BFF_OKTA_CLIENT_ID": CLIENT_ID,
        "BFF_OKTA_CLIENT_SECRET": CLIENT_SECRET,
        "BFF_SESSION_STORE": REDIS,
        "BFF_OUTBOX": "memory://",
        "BFF_AEM_URL": f"http://127.0.0.1:{ports['aem']}",
        "BFF_CONTENT_TTL": "1",
        # the uncached copy's variations must be served ones (else 400 without an AEM call)
        "BFF_CONTENT_VARIATIONS": ",".join(f"v{n}" for n in range(VARIATIONS)),
        "BFF_API_ROUTES": str(work / "routes.toml"),
        "BFF_TOKEN_REFRESH_SKEW": "5",
        "BFF_LOG_LEVEL": "WARNING",
        "BFF_SIGNIN_RATE_PER_IP": "100000",
    }
    procs = [
        spawn("upstream", ports["upstream"]),
        spawn("okta", ports["okta"], f"{bff_url} {args.token_ttl}"),
        spawn("aem", ports["aem"]),
    ]
    snapshots = str(work / "tracemalloc") if args.tracemalloc else ""
    bff = spawn("bff", ports["bff"], snapshots, env=env)
    procs.append(bff)
    tally = Tally()
    samples = Samples()
    try:
        for name in ("upstream", "okta", "aem"):
            await wait_ready(f"http://127.0.0.1:{ports[name]}/", within=60)
        await wait_ready(f"{bff_url}/healthz", within=60)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        sessions = [await sign_in(bff_url) for _ in range(args.sessions)]
        signed_in_at = time.monotonic()
        print(
            f"{len(sessions)} sessions signed in; their access tokens expire in {args.token_ttl} s "
            f"(a refresh wave every {args.token_ttl - 5} s with the 5 s skew, the first in the warm-up)"
        )

        def pick() -> tuple[str, str, dict[str, str], int]:
            r = random.random()  # noqa: S311 (traffic mix, not security)
            cookie = {"Cookie": f"__Host-bff={random.choice(sessions)}"}  # noqa: S311
            if r < 0.45:
                return "api", "/api/soak/ping", {**cookie, "X-CSRF": "1"}, 200
            if r < 0.70:
                return "copy-cached", f"/bff/content/{random.choice(JOURNEYS)}?locale=en", {}, 200  # noqa: S311
            if r < 0.80:
                # the warm-up walks every variation (its working set), the run draws at random
                n = next(variations) if not measuring else random.randrange(VARIATIONS)  # noqa: S311
                return "copy-uncached", f"/bff/content/signin?locale=fr&variation=v{n}", {}, 200
            return "user", "/bff/user", cookie, 200

        stop_at = 0.0
        measuring = False
        variations = itertools.cycle(range(VARIATIONS))

        async def worker(session: aiohttp.ClientSession) -> None:
            while time.monotonic() < stop_at:
                kind, path, headers, expected = pick()
                started = time.perf_counter()
                try:
                    async with session.get(bff_url + path, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if measuring:
                        tally.errors[f"{kind}: {type(exc).__name__}"] += 1
                    continue
                if measuring:
                    tally.requests[kind] += 1
                    tally.statuses[status] += 1
                    tally.latencies.append(time.perf_counter() - started)
                    if status != expected:
                        tally.errors[f"{kind}: {status}"] += 1

        async def sign_ins() -> None:
            while time.monotonic() < stop_at:
                began = time.monotonic()
                try:
                    await sign_in(bff_url)
                    if measuring:
                        tally.sign_ins += 1
                except Exception as exc:  # a failed sign-in is an error of the run
                    if measuring:
                        tally.sign_in_failures += 1
                        tally.errors[f"sign-in: {type(exc).__name__}"] += 1
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))

        async def sampler(start: float) -> None:
            while time.monotonic() < stop_at:
                samples.take(bff.pid, time.monotonic() - start)
                await asyncio.sleep(1.0)

        connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            stop_at = time.monotonic() + args.warmup
            await asyncio.gather(*(worker(session) for _ in range(args.concurrency)), sign_ins())
            warm_rss, warm_fds = rss_bytes(bff.pid), open_fds(bff.pid)
            if snapshots:
                bff.send_signal(signal.SIGUSR1)
            measuring = True
            start = time.monotonic()
            stop_at = start + args.seconds
            await asyncio.gather(
                *(worker(session) for _ in range(args.concurrency)), sign_ins(), sampler(start)
            )
            elapsed = time.monotonic() - start
        end_rss, end_fds = rss_bytes(bff.pid), open_fds(bff.pid)
        if snapshots:
            bff.send_signal(signal.SIGUSR1)
            await asyncio.sleep(3)
            compare_snapshots(f"{snapshots}.1", f"{snapshots}.2")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        period = args.token_ttl - 5
        first = period - (start - signed_in_at)  # the first wave, relative to the measured start
        wave_at = [round(first + k * period, 1) for k in range(-5, 20)
                   if -args.warmup <= first + k * period <= elapsed]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    total = sum(tally.requests.values())
    five = sum(n for s, n in tally.statuses.items() if s >= 500)
    errors = sum(tally.errors.values())
    rss_change = (end_rss - warm_rss) / warm_rss
    lat = sorted(tally.latencies)
    figures = {
        "seconds": round(elapsed, 1),
        "concurrency": args.concurrency,
        "requests": total,
        "rps": round(total / elapsed),
        "mix": dict(tally.requests),
        "statuses": {str(k): v for k, v in tally.statuses.items()},
        "sign_ins": tally.sign_ins,
        "errors": errors,
        "5xx": five,
        "error_kinds": dict(tally.errors),
        "p50_ms": round(statistics.median(lat) * 1000, 2) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2) if lat else None,
        "refresh_waves_at_s": wave_at,  # negative: in the warm-up
        "rss_warm_mib": round(warm_rss / 2**20, 1),
        "rss_end_mib": round(end_rss / 2**20, 1),
        "rss_max_mib": round(max(samples.rss) / 2**20, 1) if samples.rss else None,
        "rss_change_pct": round(rss_change * 100, 1),
        "fds_warm": warm_fds,
        "fds_end": end_fds,
        "fds_max": max(samples.fds) if samples.fds else None,
    }
    verdicts = {
        "no errors": errors == 0,
        "no 5xx": five == 0,
        f"RSS within {args.rss_tolerance:.0%} of warm": abs(rss_change) <= args.rss_tolerance,
        "no fd growth": end_fds <= warm_fds + args.fd_slack,
    }
    print(
        f"\n{total} requests in {elapsed:.1f} s at c={args.concurrency} ({figures['rps']} req/s), "
        f"{tally.sign_ins} sign-ins, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
    )
    print(f"  mix: {dict(tally.requests)}; statuses: {dict(tally.statuses)}")
    print(
        f"  RSS: {figures['rss_warm_mib']} MiB after warm-up -> {figures['rss_end_mib']} MiB at the end "
        f"({figures['rss_change_pct']:+.1f} %, max {figures['rss_max_mib']} MiB); "
        f"fds {warm_fds} -> {end_fds} (max {figures['fds_max']})"
    )
    print(
        "  per second (t, RSS MiB, fds): "
        + " ".join(
            f"{t:.0f}:{r / 2**20:.1f}/{f}"
            for t, r, f in zip(samples.t, samples.rss, samples.fds, strict=True)
        )
    )
    for name, passed in verdicts.items():
        print(f"  {'PASS' if passed else 'FAIL'} {name}")
    if tally.errors:
        print(f"  errors: {dict(tally.errors)}")
    print("SOAK " + json.dumps({**figures, "pass": all(verdicts.values())}))
    return 0 if all(verdicts.values()) else 1


def compare_snapshots(first: str, second: str, top: int = 20) -> None:
    """What the BFF's Python heap gained between two tracemalloc snapshots (top by traceback)."""
    import tracemalloc

    for _ in range(50):
        if Path(second).exists():
            break
        time.sleep(0.2)
    a, b = tracemalloc.Snapshot.load(first), tracemalloc.Snapshot.load(second)
    total_a = sum(s.size for s in a.statistics("filename"))
    total_b = sum(s.size for s in b.statistics("filename"))
    print(f"\ntracemalloc: traced {total_a / 2**20:.1f} MiB after warm-up -> {total_b / 2**20:.1f} MiB "
          "at the end")
    for stat in b.compare_to(a, "traceback")[:top]:
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
        for line in stat.traceback.format()[-6:]:
            print(f"      {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "ARG"), help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="seconds of the same traffic before measuring; at least one refresh wave "
                             "(token TTL - 5 s) and a pass over every copy variation")
    parser.add_argument("--sessions", type=int, default=64, help="signed-in sessions the traffic uses")
    parser.add_argument("--token-ttl", type=int, default=20,
                        help="access token lifetime: a refresh wave every TTL - 5 s (skew)")
    parser.add_argument("--rss-tolerance", type=float, default=0.10)
    parser.add_argument("--fd-slack", type=int, default=4)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace the BFF's allocations; print what grew between warm-up and end")
    args = parser.parse_args(argv)
    if not args.serve and args.warmup < args.token_ttl - 5 + 2:
        parser.error(f"--warmup must include a refresh wave: at least {args.token_ttl - 3} s "
                     f"with --token-ttl {args.token_ttl}")
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the BFF's role-checked proxy versus the fastest bare Python pass-through.

    .venv/bin/python benchmarks/bench_proxy.py [--concurrency 32] [--seconds 8] [--rounds 3]

Processes (each one uvicorn worker, uvloop + httptools, like production):

- upstream: a raw ASGI app answering a fixed 80-byte JSON body (performance.md's upstream);
- baseline: bare Starlette + ``aiohttp.ClientSession`` (pool 200, no cookie jar, no
  decompression) forwarding every request to the upstream (the fastest Python pass-through
  measured in performance.md), with the same garbage-collector tuning the BFF applies at start-up
  (``bff.proxy.component.tune_gc``), so the comparison is between request paths, not GC settings;
- bff: the whole BFF from ``create_app`` with a real Redis session store (``redis://127.0.0.1:6379``,
  else SQLite), a real session from a real sign-in against the Okta twin (step-up ``scope=admin``),
  and the route policy ``/api/admin/{rest:path}`` → the upstream. Per request: session lookup
  (one store read + decrypt), CSRF check, route/method/scope/role checks, token attach, header
  rewriting, streaming relay;
- raw-asgi: the same aiohttp pass-through as a bare ASGI callable (no Starlette routing,
  ``Request`` or ``Response``; headers filtered, body read whole like the baseline) with the same
  GC tuning: the floor for a Python proxy on this client, printed beside the target ratio (the
  BFF's edge hands ``/api`` to a raw-ASGI handler, so it is also compared with this);
- the Okta twin (only used for the sign-in before measuring);
- nginx (when installed; ``--no-nginx`` skips it): one worker, ``proxy_pass`` with keep-alive
  upstream connections, measured in the same rounds: the machine's limit for any proxy;
- the load generator: ``wrk -t1`` when installed (Debian package ``wrk``; what performance.md
  used), else this process with aiohttp; ``--concurrency`` keep-alive connections. The paced
  phase (below) always uses this process.

Both targets are measured in the same run, in alternating rounds, for the same duration; the
program prints each round and the medians: throughput (req/s), p50/p99 latency, the throughput
ratio bff/baseline (target >= 0.80) and the p99 the BFF adds (target < 2 ms). Everything shares the
machine's cores, the load generator included: compare ratios, not absolute figures. The load
average is printed before and after: other work on the machine shows up as noise in both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "dev")]  # bff and the dev package (its twins), installed or not

sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import cpu_seconds, load_average, redis_up, wait_ready  # noqa: E402

from bff_dev.serving import free_port  # noqa: E402  (ports outside the ephemeral range)

BODY = json.dumps({"status": "ok", "items": [1, 2, 3], "message": "hello from the upstream!!"}).encode()
BODY = BODY + b" " * max(0, 80 - len(BODY))  # exactly 80 bytes
CLIENT_ID = "0oabenchclient"
CLIENT_SECRET = "bench-client-secret-value-0123456789"
SECRET_KEY = "bench-secret-key-0123456789abcdef-0123456789"
PATH = "/api/admin/ping"


# ------------------------------------------------------------------------------ the servers


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"80")]})
    await send({"type": "http.response.body", "body": BODY})


def baseline_app(upstream: str) -> Any:
    import aiohttp
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    state: dict[str, aiohttp.ClientSession] = {}
    hop = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        state["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200), auto_decompress=False,
                                          cookie_jar=aiohttp.DummyCookieJar())
        # What bff.proxy.component.tune_gc does in the BFF (written out: the baseline imports no
        # BFF code): start-up objects frozen, generation-0 threshold above the in-flight objects.
        gc.collect()
        gc.freeze()
        gc.set_threshold(7000, *gc.get_threshold()[1:])
        yield
        await state["s"].close()

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k not in hop}
        async with state["s"].request(request.method, upstream + request.url.path, headers=headers,
                                      data=await request.body()) as r:
            body = await r.read()
            out = {k: v for k, v in r.headers.items() if k.lower() not in hop}
            return Response(body, status_code=r.status, headers=out)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])], lifespan=lifespan)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream backend {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def spawn_nginx(port: int, upstream_port: int, workdir: Path) -> subprocess.Popen[bytes] | None:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        return None
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=workdir, upstream=upstream_port, port=port))
    return subprocess.Popen([nginx, "-c", str(conf), "-p", str(workdir)], stderr=subprocess.DEVNULL)


def raw_asgi_app(upstream: str) -> Any:
    import aiohttp
    from yarl import URL

    state: dict[str, aiohttp.ClientSession] = {}
    hop = {b"connection", b"keep-alive", b"transfer-encoding", b"host", b"content-length"}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["s"] = aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=200), auto_decompress=False,
                        cookie_jar=aiohttp.DummyCookieJar())
                    gc.collect()
                    gc.freeze()
                    gc.set_threshold(7000, *gc.get_threshold()[1:])
                else:
                    await state["s"].close()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in hop]
        target = URL(upstream + scope["raw_path"].decode("ascii"), encoded=True)
        async with state["s"].request(scope["method"], target, headers=headers, data=body or None) as r:
            data = await r.read()
            await send({"type": "http.response.start", "status": r.status,
                        "headers": [(k, v) for k, v in r.raw_headers if k.lower() not in hop]
                        + [(b"content-length", str(len(data)).encode())]})
            await send({"type": "http.response.body", "body": data})

    return app


def okta_app(port: int, bff_urls: str) -> Any:
    """The Okta twin with the benchmark's client, for one BFF or several (comma-separated)."""
    from bff_dev.twins.okta import OktaTwin

    urls = bff_urls.split(",")
    twin = OktaTwin(f"http://127.0.0.1:{port}")
    twin.register_client(CLIENT_ID, secret=CLIENT_SECRET, redirect_uris=[f"{u}/bff/callback" for u in urls],
                         post_logout_redirect_uris=[f"{u}/" for u in urls])
    return twin.app


def bff_app() -> Any:
    from bff.app import create_app
    from bff.settings import Settings

    return create_app(Settings.from_env())


def serve(kind: str, port: int, arg: str) -> None:
    import uvicorn

    if kind == "upstream":
        app: Any = upstream_app
    elif kind == "baseline":
        app = baseline_app(arg)
    elif kind == "raw-asgi":
        app = raw_asgi_app(arg)
    elif kind == "okta":
        app = okta_app(port, arg)
    else:
        app = bff_app()
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", access_log=False,
                log_level="warning", lifespan="on")


# ------------------------------------------------------------------------------ orchestration


def spawn(kind: str, port: int, arg: str = "", env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port), arg],
                            env={**os.environ, **(env or {})}, cwd=ROOT)


def session_store(kind: str) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/sessions.sqlite3"
    if redis_up():
        return "redis://127.0.0.1:6379/15"
    return f"sqlite:///{tempfile.mkdtemp()}/sessions.sqlite3"


async def sign_in(bff_url: str) -> str:
    import httpx

    from tests.support.login import login_as

    async with httpx.AsyncClient(base_url=bff_url, timeout=10) as client:
        return await login_as(client, "alice@acme.test", scope="admin")


async def load(url: str, headers: dict[str, str], concurrency: int, seconds: float,
               pid: int | None = None) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    stop_at = 0.0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def worker() -> None:
            nonlocal errors
            while True:
                start = time.perf_counter()
                if start >= stop_at:
                    return
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - start)

        stop_at = time.perf_counter() + 1.0  # warm-up: connections, caches
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        latencies.clear()
        cpu_before = cpu_seconds(pid) if pid else float("nan")
        began = time.perf_counter()
        stop_at = began + seconds
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        cpu = (cpu_seconds(pid) if pid else float("nan")) - cpu_before
    latencies.sort()
    n = len(latencies)
    return {"rps": n / elapsed, "p50": latencies[n // 2] * 1000, "p99": latencies[int(n * 0.99)] * 1000,
            "n": n, "errors": errors, "cpu_us": cpu / n * 1e6}


def parse_wrk(out: str) -> dict[str, float]:
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def pct(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * scale[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": pct("50"), "p99": pct("99"),
            "n": float(done.group(1)) if done else 0.0, "errors": float(bad.group(1)) if bad else 0.0}


async def wrk(url: str, headers: dict[str, str], concurrency: int, seconds: float,
              pid: int | None = None) -> dict[str, float]:
    """The same measurement with wrk (C, one thread): far less CPU than a Python client."""
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    warm = await asyncio.create_subprocess_exec(*cmd[:3], "-d1s", url, stdout=subprocess.DEVNULL)
    await warm.wait()
    cpu_before = cpu_seconds(pid) if pid else float("nan")
    proc = await asyncio.create_subprocess_exec(*cmd, url, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    result = parse_wrk(out.decode())
    cpu = (cpu_seconds(pid) if pid else float("nan")) - cpu_before
    result["cpu_us"] = cpu / result["n"] * 1e6 if result["n"] else float("nan")
    return result


async def paced(url: str, headers: dict[str, str], concurrency: int, seconds: float,
                rate: float) -> dict[str, float]:
    """Open-loop load at a fixed ``rate`` (req/s, at most ``concurrency`` in flight). Latency is
    measured from each request's SCHEDULED start, so queueing counts (no coordinated omission)."""
    import aiohttp

    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def one(scheduled: float) -> None:
            async with session.get(url, headers=headers) as response:
                await response.read()
            latencies.append(time.perf_counter() - scheduled)

        await asyncio.gather(*(one(time.perf_counter()) for _ in range(concurrency)))  # connections
        latencies.clear()
        tasks = []
        began = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            scheduled = began + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    latencies.sort()
    n = len(latencies)
    return {"rps": rate, "p50": latencies[n // 2] * 1000, "p99": latencies[int(n * 0.99)] * 1000, "n": n}


async def main(args: argparse.Namespace) -> None:
    ports = {k: free_port() for k in ("upstream", "baseline", "raw-asgi", "okta", "bff", "nginx")}
    bff_url = f"http://127.0.0.1:{ports['bff']}"
    okta_url = f"http://127.0.0.1:{ports['okta']}"
    upstream_url = f"http://127.0.0.1:{ports['upstream']}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    routes = workdir / "routes.toml"
    routes.write_text(f"""
[upstreams.admin]
url = "{upstream_url}"
timeout = 10

[[routes]]
path = "/api/admin/{{rest:path}}"
upstream = "admin"
methods = ["GET", "POST"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]
""")
    store = session_store(args.store)
    bff_env = {
        "BFF_PUBLIC_URL": bff_url, "BFF_SECRET_KEYS": SECRET_KEY,
        "BFF_OKTA_ISSUER": f"{okta_url}/oauth2/default",
        "BFF_OKTA_CLIENT_ID": CLIENT_ID, "BFF_OKTA_CLIENT_SECRET": CLIENT_SECRET, "BFF_SESSION_STORE": store,
        "BFF_OUTBOX": "memory://", "BFF_AEM_URL": "http://127.0.0.1:9", "BFF_API_ROUTES": str(routes),
        "BFF_LOG_LEVEL": "ERROR", "BFF_PROXY_POOL": "200",
    }
    procs = [spawn("upstream", ports["upstream"]), spawn("baseline", ports["baseline"], upstream_url),
             spawn("okta", ports["okta"], bff_url), spawn("bff", ports["bff"], env=bff_env),
             spawn("raw-asgi", ports["raw-asgi"], upstream_url)]
    nginx = None if args.no_nginx else spawn_nginx(ports["nginx"], ports["upstream"], workdir)
    if nginx is not None:
        procs.append(nginx)
    try:
        for name in ports:
            if name == "nginx" and nginx is None:
                continue
            await wait_ready(f"http://127.0.0.1:{ports[name]}/healthz" if name == "bff"
                             else f"http://127.0.0.1:{ports[name]}/")
        cookie = await sign_in(bff_url)
        targets: dict[str, tuple[str, dict[str, str], int | None]] = {
            "baseline": (f"http://127.0.0.1:{ports['baseline']}{PATH}", {}, procs[1].pid),
            "bff": (f"{bff_url}{PATH}", {"Cookie": f"__Host-bff={cookie}", "X-CSRF": "1"}, procs[3].pid),
            "raw-asgi": (f"http://127.0.0.1:{ports['raw-asgi']}{PATH}", {}, procs[4].pid),
        }
        if nginx is not None:
            # CPU not sampled: the work happens in nginx's worker process, not the master
            targets["nginx"] = (f"http://127.0.0.1:{ports['nginx']}{PATH}", {}, None)
        probe = await load(targets["bff"][0], targets["bff"][1], 1, 0.5)
        if probe["errors"]:
            raise RuntimeError("the BFF refused the benchmark's requests (sign-in or policy problem)")
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        measure = wrk if use_wrk else load
        client = "wrk -t1 (C)" if use_wrk else "aiohttp client in the orchestrator (no wrk found)"
        print(f"load generator: {client}")
        print(f"session store: {store.split('?')[0]}; concurrency {args.concurrency}; "
              f"{args.seconds:g} s per round; {args.rounds} rounds per target (alternating)")
        print(f"machine: {os.cpu_count()} cores, load average {load_average()} before measuring\n")
        print(f"{'round':<7}{'target':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}"
              f"{'errors':>8}")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for i in range(args.rounds):
            order = ["baseline", "bff", "raw-asgi"] if i % 2 == 0 else ["raw-asgi", "bff", "baseline"]
            if "nginx" in targets:
                order.append("nginx")
            for name in order:
                url, headers, pid = targets[name]
                r = await measure(url, headers, args.concurrency, args.seconds, pid)
                results[name].append(r)
                print(f"{i + 1:<7}{name:<10}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                      f"{r['cpu_us']:>12.0f}{r['errors']:>8.0f}")
        med = {name: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu_us")}
               for name, rs in results.items()}
        ratio = med["bff"]["rps"] / med["baseline"]["rps"]
        added_p50 = med["bff"]["p50"] - med["baseline"]["p50"]
        added_p99 = med["bff"]["p99"] - med["baseline"]["p99"]
        print(f"\nmedians (load average {load_average()} after the throughput rounds)")
        for name in targets:
            m = med[name]
            cpu = "(the machine's limit, not a target)" if name == "nginx" else \
                f"server CPU {m['cpu_us']:5.0f} us/request"
            print(f"  {name:<9} {m['rps']:>7.0f} req/s   p50 {m['p50']:6.2f} ms   p99 {m['p99']:6.2f} ms   "
                  + cpu)
        verdict = "met" if ratio >= 0.8 else "MISSED"
        print(f"\nthroughput ratio bff/baseline: {ratio:.2f}   (target >= 0.80: {verdict})")
        print(f"latency added by the BFF: p50 {added_p50:+.2f} ms, p99 {added_p99:+.2f} ms   "
              f"(target p99 < 2 ms: {'met' if added_p99 < 2 else 'MISSED'})")
        floor = med["raw-asgi"]
        print(f"against the raw-ASGI floor: throughput ratio {med['bff']['rps'] / floor['rps']:.2f}, "
              f"p99 {med['bff']['p99'] - floor['p99']:+.2f} ms, server CPU "
              f"{med['bff']['cpu_us'] - floor['cpu_us']:+.0f} us/request")
        print(f"server CPU per request: bff/baseline {med['bff']['cpu_us'] / med['baseline']['cpu_us']:.2f} "
              f"(+{med['bff']['cpu_us'] - med['baseline']['cpu_us']:.0f} us; the session store's own CPU not "
              "included)")
        # The same offered load for both (a share of what the BFF sustained): the latency the BFF adds
        # per request, without the queueing of a saturated server.
        rate = round(med["bff"]["rps"] * args.paced_share)
        if rate > 0:
            print(f"\npaced at {rate} req/s for both ({args.paced_share:.0%} of the BFF's throughput), "
                  f"latency from the scheduled start:")
            paced_results: dict[str, list[dict[str, float]]] = {"baseline": [], "bff": []}
            for i in range(args.rounds):
                for name in (("baseline", "bff") if i % 2 == 0 else ("bff", "baseline")):
                    url, headers, _ = targets[name]
                    paced_results[name].append(
                        await paced(url, headers, args.concurrency, args.seconds, rate))
            pm = {name: {k: statistics.median(r[k] for r in rs) for k in ("p50", "p99")}
                  for name, rs in paced_results.items()}
            for name in ("baseline", "bff"):
                print(f"  {name:<9} p50 {pm[name]['p50']:6.2f} ms   p99 {pm[name]['p99']:6.2f} ms")
            paced_p99 = pm["bff"]["p99"] - pm["baseline"]["p99"]
            print(f"  added by the BFF: p50 {pm['bff']['p50'] - pm['baseline']['p50']:+.2f} ms, "
                  f"p99 {paced_p99:+.2f} ms   (target p99 < 2 ms: {'met' if paced_p99 < 2 else 'MISSED'})")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python-client", action="store_true",
                        help="use the built-in aiohttp load generator even when wrk is installed")
    parser.add_argument("--paced-share", type=float, default=0.25,
                        help="paced phase: offered rate as a share of the BFF's throughput (0: skip)")
    parser.add_argument("--no-nginx", action="store_true", help="do not measure nginx even when installed")
    parser.add_argument("--store", choices=("redis", "sqlite", "memory"), default="redis",
                        help="the BFF's session store (redis falls back to sqlite when none answers)")
    cli = parser.parse_args()
    if cli.concurrency < 32:
        parser.error("the comparison is defined at a concurrency of at least 32")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(cli))

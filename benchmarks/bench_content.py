"""Benchmark: the cached ``GET /bff/content/{journey}`` against a bare Starlette endpoint that
returns the same bytes, in one run, on the same machine. Prints requests/s of both and the ratio
(target >= 0.85).

    .venv/bin/python benchmarks/bench_content.py [--seconds 8] [--connections 32] [--rounds 3]

Each server is one uvicorn process (same loop and HTTP implementation); the load generator is
``wrk`` (Debian package ``wrk``). The BFF runs the full app (every middleware, every area) with
its copy fetched once from the AEM twin (another process) and then served from the cache; the
request carries no session cookie, like CloudFront's shared-cache misses. Rounds alternate
baseline/BFF and the medians are compared, because this kind of machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "dev")]  # bff and the dev package (its twins), installed or not

from bff_dev.serving import free_port  # noqa: E402

PATH = "/bff/content/signin?locale=fr-CA"

BASELINE = """
import json
import os
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = open(os.environ["BENCH_BODY"], "rb").read()
HEADERS = json.loads(os.environ.get("BENCH_HEADERS", "{}"))

async def endpoint(request):
    return Response(BODY, media_type="application/json", headers=HEADERS)

app = Starlette(routes=[Route("/bff/content/{journey}", endpoint)])
"""

TWIN = """
from bff_dev.twins.aem import AemTwin
app = AemTwin().app
"""


def _uvicorn(
    target: str, port: int, env: dict[str, str], *, factory: bool = False
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        cmd.append("--factory")
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"server exited early:\n{err}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 (loopback)
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback)
        return resp.read(), dict(resp.headers)


def _wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in (headers or {}).items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout  # noqa: S603
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install wrk", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="bench-content-"))
    (tmp / "bench_baseline.py").write_text(BASELINE)
    (tmp / "bench_twin.py").write_text(TWIN)
    twin_port, bff_port, base_port, full_port = free_port(), free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp), str(ROOT), str(ROOT / "dev")])
    bff_env = {
        **env,
        "BFF_PUBLIC_URL": f"http://127.0.0.1:{bff_port}",
        "BFF_SECRET_KEYS": "bench-secret-key-0123456789abcdef-0123456789",
        "BFF_OKTA_ISSUER": "http://127.0.0.1:9/oauth2/default",  # not needed on this path
        "BFF_OKTA_CLIENT_ID": "0oabench",
        "BFF_OKTA_CLIENT_SECRET": "bench-client-secret",
        "BFF_SESSION_STORE": "memory://",
        "BFF_OUTBOX": "memory://",
        "BFF_AEM_URL": f"http://127.0.0.1:{twin_port}",
        "BFF_CONTENT_TTL": "3600",
        "BFF_LOG_LEVEL": "ERROR",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_uvicorn("bench_twin:app", twin_port, env))
        _wait(f"http://127.0.0.1:{twin_port}/graphql/list.json/bff", procs[-1])
        procs.append(_uvicorn("bff.app:app_from_env", bff_port, bff_env, factory=True))
        bff_url = f"http://127.0.0.1:{bff_port}{PATH}"
        _wait(bff_url, procs[-1])
        for _ in range(3):  # fill the cache (the first answers are source "aem")
            body, headers = _get(bff_url)
        doc: dict[str, Any] = json.loads(body)
        assert doc["source"] == "cache", doc["source"]
        (tmp / "body.json").write_bytes(body)
        procs.append(_uvicorn("bench_baseline:app", base_port, {**env, "BENCH_BODY": str(tmp / "body.json")}))
        base_url = f"http://127.0.0.1:{base_port}{PATH}"
        _wait(base_url, procs[-1])
        assert _get(base_url)[0] == body
        # The same bytes AND the same response headers (security headers, ETag, Vary, request id):
        # what a Python server pays for an identical response, without the BFF's code.
        same = {
            k: v
            for k, v in headers.items()
            if k.lower() not in {"content-length", "content-type", "date", "connection", "server"}
        }
        procs.append(
            _uvicorn(
                "bench_baseline:app",
                full_port,
                {**env, "BENCH_BODY": str(tmp / "body.json"), "BENCH_HEADERS": json.dumps(same)},
            )
        )
        full_url = f"http://127.0.0.1:{full_port}{PATH}"
        _wait(full_url, procs[-1])

        print(f"GET {PATH}: {len(body)} bytes, {len(doc['strings'])} strings, chain fr-CA > fr > en")
        print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, {args.rounds} alternating rounds\n")
        _wrk(base_url, 2, args.connections)  # warm-up
        _wrk(bff_url, 2, args.connections)
        results: dict[str, list[dict[str, float]]] = {
            "baseline": [],
            "same_headers": [],
            "bff": [],
            "bff_304": [],
        }
        for n in range(args.rounds):
            results["baseline"].append(_wrk(base_url, args.seconds, args.connections))
            results["same_headers"].append(_wrk(full_url, args.seconds, args.connections))
            results["bff"].append(_wrk(bff_url, args.seconds, args.connections))
            results["bff_304"].append(
                _wrk(bff_url, args.seconds, args.connections, {"If-None-Match": headers["etag"]})
            )
            print(
                f"round {n + 1}: baseline {results['baseline'][-1]['rps']:8.0f} req/s   "
                f"same headers {results['same_headers'][-1]['rps']:8.0f} req/s   "
                f"bff {results['bff'][-1]['rps']:8.0f} req/s   "
                f"bff 304 {results['bff_304'][-1]['rps']:8.0f} req/s"
            )
        med = {k: statistics.median(r["rps"] for r in v) for k, v in results.items()}
        p99 = {k: statistics.median(r["p99_ms"] for r in v) for k, v in results.items()}
        errors = sum(r["errors"] for v in results.values() for r in v)
        print()
        print(f"bare Starlette, same bytes   {med['baseline']:8.0f} req/s   p99 {p99['baseline']:6.2f} ms")
        print(
            f"bare Starlette, same response {med['same_headers']:7.0f} req/s   "
            f"p99 {p99['same_headers']:6.2f} ms"
        )
        print(f"BFF /bff/content (cached)    {med['bff']:8.0f} req/s   p99 {p99['bff']:6.2f} ms")
        print(f"BFF 304 (If-None-Match)      {med['bff_304']:8.0f} req/s   p99 {p99['bff_304']:6.2f} ms")
        per_round = [b["rps"] / a["rps"] for a, b in zip(results["baseline"], results["bff"], strict=True)]
        print(
            f"per-round ratios BFF / baseline: {', '.join(f'{r:.2f}' for r in per_round)}"
            f" (median {statistics.median(per_round):.2f})"
        )
        ratio = med["bff"] / med["baseline"]
        print(
            f"\nratio BFF / baseline = {ratio:.2f}  (target >= 0.85)"
            f"{'' if ratio >= 0.85 else '  BELOW TARGET'}"
        )
        print(f"ratio BFF / same-response baseline = {med['bff'] / med['same_headers']:.2f}")
        if errors:
            print(f"non-2xx/3xx responses: {errors:.0f}")
        return 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

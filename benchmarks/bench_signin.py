"""Benchmark: the BFF's CPU cost of one full embedded password sign-in (``POST /bff/signin``
with the identifier, then the password: interact, introspect, identify, challenge/answer, the
interaction-code grant, ID-token validation, session creation), beside the Okta twin's own
CPU in the same run. Target (issue 10): <= 5 ms of BFF CPU per sign-in.

    .venv/bin/python benchmarks/bench_signin.py [--signins 200] [--rounds 3]

Everything runs in one process and one event loop, over ``httpx.ASGITransport`` (no sockets):
the "browser" client calls the BFF app, whose shared ``httpx`` client calls the twin app. Both
apps are wrapped in a meter that adds up ``time.process_time()`` spent inside them; one
sign-in runs at a time, so the BFF's own CPU is (time inside the BFF) - (time inside the twin).
The twin's share is dominated by its PBKDF2 password check, as a real Okta's would be by its
own work; the BFF's includes its outgoing httpx calls, RS256 verification and AES-GCM.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# httpx's ASGITransport tries `import sniffio` on every request; when it is not installed
# that is a failed import (a filesystem search) per call, an artifact of the in-process
# transport that real sockets do not have. A None entry makes it fail at once.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

import httpx  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from bff.app import create_app  # noqa: E402
from bff.settings import Settings  # noqa: E402
from bff_dev.twins.okta import OktaTwin  # noqa: E402

PASSWORD = "Passw0rd!"
SECRET = "bench-secret-key-0123456789abcdef-0123456789"


class Meter:
    """CPU seconds spent inside an ASGI app (sequential use only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cpu = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.cpu += time.process_time() - start


async def run(signins: int) -> tuple[float, float]:
    twin = OktaTwin("http://localhost:9")  # never dialled: ASGITransport
    twin_meter = Meter(twin.app)
    settings = Settings.from_env({
        "BFF_PUBLIC_URL": "https://app.bench", "BFF_SECRET_KEYS": SECRET,
        "BFF_OKTA_ISSUER": twin.issuer, "BFF_OKTA_CLIENT_ID": "0oabench",
        "BFF_OKTA_CLIENT_SECRET": "bench-client-secret", "BFF_SESSION_STORE": "memory://",
        "BFF_OUTBOX": "memory://", "BFF_AEM_URL": "https://aem.bench", "BFF_LOG_LEVEL": "WARNING",
        "BFF_SIGNIN_RATE_PER_IP": "1000000", "BFF_SIGNIN_RATE_PER_IDENTIFIER": "1000000",
    })
    twin.register_client("0oabench", secret="bench-client-secret",
                         redirect_uris=["https://app.bench/bff/callback"],
                         grant_types=("authorization_code", "refresh_token", "interaction_code"))
    okta_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=twin_meter))
    app = create_app(settings, http=okta_http)
    bff_meter = Meter(app)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bff_meter),
                                     base_url="https://app.bench") as browser:
            async def one() -> None:
                browser.cookies.clear()
                r = await browser.post("/bff/signin", headers={"X-CSRF": "1"},
                                       json={"returnTo": "/", "identifier": "bob@acme.test"})
                assert r.json()["step"] == "challenge-authenticator", r.text
                r = await browser.post("/bff/signin/challenge-authenticator", headers={"X-CSRF": "1"},
                                       json={"credentials.passcode": PASSWORD})
                assert r.json()["step"] == "success", r.text

            for _ in range(5):  # warm-up: imports, JWKS, caches
                await one()
            bff_meter.cpu = twin_meter.cpu = 0.0
            for _ in range(signins):
                await one()
    await okta_http.aclose()
    bff_only = (bff_meter.cpu - twin_meter.cpu) / signins
    return bff_only * 1000, twin_meter.cpu / signins * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bff, okta = [], []
    for i in range(args.rounds):
        b, o = asyncio.run(run(args.signins))
        bff.append(b)
        okta.append(o)
        print(f"round {i + 1}: BFF {b:.2f} ms CPU per sign-in, twin {o:.2f} ms (ratio {b / o:.2f})")
    b, o = statistics.median(bff), statistics.median(okta)
    print(f"median: BFF {b:.2f} ms CPU per full password sign-in (target <= 5 ms), "
          f"twin {o:.2f} ms, BFF/twin {b / o:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

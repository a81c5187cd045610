"""Wiring of the role-checked API proxy into the app.

:func:`load` reads the route policy (``BFF_API_ROUTES``) once, when the app is built, so a bad
file stops start-up with one ConfigError line per problem; ``routes()`` lists the proxy at
``/api`` (the edge hands it every ``/api/*`` request: one that no policy route allows is a 404
problem, never the SPA). :func:`build` makes the upstream clients once: one aiohttp session for
every HTTP upstream, one boto3 Lambda client per Lambda upstream, and the worker threads that
run blocking invokes. :func:`tune_gc` tunes the garbage collector for the hot path; the app
calls it once every area is built, when the policy has routes.
"""

from __future__ import annotations

import contextlib
import gc
from concurrent.futures import ThreadPoolExecutor

from starlette.routing import BaseRoute, Mount

from bff.proxy import proxy
from bff.proxy.policy import RoutePolicy, load_policy
from bff.proxy.proxy import Proxy
from bff.proxy.transport import HttpTransport, LambdaTransport, Transport, new_client_session
from bff.settings import Settings


def load(settings: Settings) -> RoutePolicy:
    """The route policy, validated (ConfigError lines): read once per app."""
    return load_policy(settings.proxy.routes_file, dev=settings.dev,
                       upstream_overrides=settings.proxy.upstream_urls)


def routes(settings: Settings) -> list[BaseRoute]:
    return [Mount("/api", app=proxy.endpoint)]


#: Generation-0 threshold while serving: above the few thousand container objects that ~32
#: requests in flight hold at once, so collections run on real garbage, not on live requests.
GC_GEN0_THRESHOLD = 7000
_gc_tuned = False


def tune_gc() -> None:
    """Once per process, after start-up: move everything alive now (modules, settings, clients:
    ~90,000 objects) out of the collector's sight with ``gc.freeze()``, and raise the
    generation-0 threshold to :data:`GC_GEN0_THRESHOLD`.

    Measured on the proxy's hot path (docs/proxy.md): without it a full collection walked the
    whole start-up heap every few thousand requests (up to 69 ms each: the p99 of every request
    queued behind it) and generation-0 collections fired on in-flight requests' objects every ~40
    requests (~8 us per request). Frozen objects are still freed by reference counting; only
    cycles among them would never be collected, and start-up leaves none that matter.
    """
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_GEN0_THRESHOLD), *threshold[1:])


def lambda_client(region: str | None, endpoint_url: str | None, *, timeout: float, pool: int) -> object:
    """A boto3 Lambda client for direct invokes: no SDK retries, bounded timeouts."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=min(5.0, timeout),
        read_timeout=timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=pool,
    )
    return boto3.session.Session().client("lambda", region_name=region, endpoint_url=endpoint_url,
                                          config=config)


async def build(settings: Settings, policy: RoutePolicy, stack: contextlib.AsyncExitStack) -> Proxy:
    transports: dict[str, Transport] = {}
    used = {route.upstream.name: route.upstream for route in policy.routes}
    if any(u.kind == "http" for u in used.values()):
        session = new_client_session(settings.proxy.pool_size)
        stack.push_async_callback(session.close)
        for upstream in used.values():
            if upstream.kind == "http":
                transports[upstream.name] = HttpTransport(upstream, session)
    lambdas = [u for u in used.values() if u.kind == "lambda"]
    if lambdas:
        workers = min(64, settings.proxy.pool_size)
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda-invoke")
        stack.callback(executor.shutdown, wait=False, cancel_futures=True)
        for upstream in lambdas:
            client = lambda_client(upstream.region, upstream.endpoint_url or settings.aws.endpoint_url,
                                   timeout=upstream.timeout, pool=workers)
            transports[upstream.name] = LambdaTransport(upstream, client, executor)
    return Proxy(settings, policy, transports)

"""Wiring of the content area into the app: localized copy from AEM (routes and start-up).

See ``docs/content.md``. ``start`` builds, once: the locale policy, the bundled copy, the AEM
clients (publish tier; author tier for preview, with its server-held credential), the
fragment cache, the eviction bus (Redis pub/sub when configured), the optional CloudFront
invalidator and the webhook processor.
"""

from __future__ import annotations

import contextlib
import logging

import httpx
from starlette.routing import BaseRoute, Route

from bff.content import endpoints
from bff.content.aem import AemClient, Fragment, ImsClientCredentials, StaticToken, TokenSource
from bff.content.bundle import CopyBundle
from bff.content.bus import EvictionBus, LocalBus, RedisBus
from bff.content.cache import FragmentCache, Key
from bff.content.cdn import CloudFrontInvalidator
from bff.content.endpoints import ContentArea
from bff.content.hooks import HookProcessor, SignatureVerifier
from bff.content.locales import LocalePolicy, to_aem
from bff.content.service import ContentService
from bff.content.variations import VariationPolicy
from bff.settings import Settings

log = logging.getLogger("bff.content")


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/bff/content/{journey}", endpoints.content, methods=["GET"]),
        Route("/bff/preview", endpoints.preview_state, methods=["GET"]),
        Route("/bff/preview", endpoints.preview_toggle, methods=["POST"]),
        Route("/preview", endpoints.preview_entry, methods=["GET"]),
        Route("/bff/hooks/aem", endpoints.aem_hook, methods=["GET", "POST"]),
    ]


def _author_auth(settings: Settings, http: httpx.AsyncClient) -> TokenSource | None:
    c = settings.content
    if c.aem_author_token:
        return StaticToken(c.aem_author_token)
    if c.aem_ims_url and c.aem_ims_client_id and c.aem_ims_client_secret:
        return ImsClientCredentials(http, c.aem_ims_url, c.aem_ims_client_id,
                                    c.aem_ims_client_secret)
    return None  # e.g. the preview tier, IP allow-listed


async def build(settings: Settings, http: httpx.AsyncClient, stack: contextlib.AsyncExitStack) -> ContentArea:
    c = settings.content
    bundle = CopyBundle.load()
    policy = LocalePolicy(c.locales, c.default_locale)
    publish = AemClient(http, c.aem_url, c.aem_config, site=c.aem_site, timeout=c.timeout,
                        retries=c.retries, tier="publish")
    author = None
    if c.aem_author_url:
        author = AemClient(http, c.aem_author_url, c.aem_config, site=c.aem_site, timeout=c.timeout,
                           retries=min(c.retries, 1), tier="author", auth=_author_auth(settings, http))

    async def fetch(key: Key) -> Fragment | None:
        return await publish.fetch_copy(key.journey, to_aem(key.locale), key.variation)

    cache = FragmentCache(fetch, ttl=c.ttl, stale_ttl=c.stale_ttl, wait_budget=c.timeout,
                          holdoff=min(5.0, float(c.ttl)))
    stack.push_async_callback(cache.aclose)
    service = ContentService(bundle=bundle, policy=policy, cache=cache, author=author)

    bus: EvictionBus
    if c.bus_url:
        redis_bus = RedisBus(c.bus_url, service.evict)
        stack.push_async_callback(redis_bus.aclose)
        await redis_bus.start()
        bus = redis_bus
    else:
        bus = LocalBus(service.evict)

    cdn = None
    if c.cloudfront_distribution:
        cdn = CloudFrontInvalidator(c.cloudfront_distribution, region=settings.aws.region,
                                    endpoint_url=settings.aws.endpoint_url)
    hooks = HookProcessor(site=c.aem_site, secret=c.webhook_secret, verifier=SignatureVerifier(http),
                          bus=bus, policy=policy, cdn=cdn, client_id=c.events_client_id,
                          max_age=float(c.events_max_age))
    return ContentArea(settings=settings, policy=policy, service=service, hooks=hooks, publish=publish,
                       variations=VariationPolicy(c.variations, bundle.variations),
                       bus=bus)

"""Wiring of the registration area (handlers: :mod:`bff.signup.endpoints`): at start-up the
outbox, the Okta Management client, the SNS publisher, the outbox relay and the sign-up rate
limiter, in one :class:`~bff.signup.service.SignupService` (``services.signup``; its outbox is
the ``outbox`` ready check).
"""

from __future__ import annotations

import contextlib
import logging

import httpx
from starlette.routing import BaseRoute

from bff.config import ConfigError
from bff.okta import PrivateKeyJwtAuth, SswsAuth
from bff.sessions.store import SessionStore
from bff.settings import Settings
from bff.signup import endpoints, invitation_endpoints
from bff.signup.hooks import CREATE_EVENT
from bff.signup.invitations import Invitations
from bff.signup.limiters import open_limiter
from bff.signup.membership import Membership
from bff.signup.notices import NOTICE_FOR
from bff.signup.okta_users import MGMT_SCOPES, OktaManagementClient
from bff.signup.outbox import open_outbox
from bff.signup.publisher import EventPublisher, SnsPublisher
from bff.signup.ratelimit import RateLimiter
from bff.signup.relay import Relay
from bff.signup.service import SignupService, limiter_salt

log = logging.getLogger("bff.signup")


def routes(settings: Settings) -> list[BaseRoute]:
    return [*endpoints.routes(settings), *invitation_endpoints.routes(settings)]


def build_okta_auth(settings: Settings) -> httpx.Auth | None:
    """The Management API credentials (service app preferred), or None when none are set."""
    s = settings.signup
    if s.okta_mgmt_client_id or s.okta_mgmt_private_key:
        if not (s.okta_mgmt_client_id and s.okta_mgmt_private_key):
            raise ConfigError(["BFF_OKTA_MGMT_CLIENT_ID and BFF_OKTA_MGMT_PRIVATE_KEY go together"])
        try:
            return PrivateKeyJwtAuth(s.okta_org_url, s.okta_mgmt_client_id, s.okta_mgmt_private_key,
                                     scopes=MGMT_SCOPES)
        except ValueError as exc:  # names no part of the key
            raise ConfigError([f"BFF_OKTA_MGMT_PRIVATE_KEY is {exc}"]) from None
    if s.okta_api_token:
        return SswsAuth(s.okta_api_token)
    return None


def build_limiter(settings: Settings) -> RateLimiter:
    return open_limiter(settings.session.store, limiter_salt(settings), window=settings.signup.rate_window,
                        region=settings.aws.region, endpoint_url=settings.aws.endpoint_url)


async def build(settings: Settings, http: httpx.AsyncClient, stack: contextlib.AsyncExitStack,
                store: SessionStore) -> SignupService:
    """``store``: the session store, which also keeps the invitations (bff.signup.invitations)."""
    s = settings.signup
    try:
        outbox = open_outbox(s.outbox, region=settings.aws.region, endpoint_url=settings.aws.endpoint_url)
    except ValueError as exc:
        raise ConfigError([str(exc)]) from None
    stack.push_async_callback(outbox.close)

    auth = build_okta_auth(settings)
    okta = OktaManagementClient(s.okta_org_url, http, auth) if auth else None
    if okta is None:
        log.warning("no Okta Management credentials: /bff/signup and /bff/profile answer 503")

    publisher: EventPublisher | None = None
    if s.account_topic_arn:
        sns = SnsPublisher(s.account_topic_arn, region=settings.aws.region,
                           endpoint_url=settings.aws.endpoint_url)
        stack.callback(sns.close)
        publisher = sns

    relay = Relay(outbox, publisher, okta, default_locale=settings.content.default_locale)
    relay.start()
    stack.push_async_callback(relay.stop)

    limiter = build_limiter(settings)
    stack.push_async_callback(limiter.close)

    service = SignupService(
        settings=settings, okta=okta, outbox=outbox, relay=relay, limiter=limiter,
        invitations=Membership(Invitations(store, settings.secret_keys, ttl=s.invitation_ttl), okta))
    service.hook.on(CREATE_EVENT, service.accept_created)
    for event_type in NOTICE_FOR:  # the account notices (bff.signup.notices)
        service.hook.on(event_type, service.accept_notices)
    return service

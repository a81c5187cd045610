"""Wiring of the embedded sign-in (issue 10; handlers: :mod:`bff.signin.endpoints`): at start-up
the IDX client (on the shared ``httpx`` client and the auth area's OIDC client), the
transaction store (the auth area's session store), and the attempt limiter (Redis when the
session store is Redis, else per process), in one :class:`~bff.signin.service.SigninService`
(``service(request, SIGNIN)``), whose step policy adds passkeys when ``BFF_SIGNIN_WEBAUTHN`` is on.
"""

from __future__ import annotations

import contextlib
import hashlib

import httpx
from starlette.routing import BaseRoute

from bff.auth.endpoints import AuthArea
from bff.settings import Settings
from bff.signin import endpoints, passkeys
from bff.signin.client import IdxClient
from bff.signin.service import SigninService
from bff.signin.steps import SUPPORTED_AUTHENTICATORS, StepPolicy
from bff.signin.transactions import SigninTransactions
from bff.signup.idx_signup import IdxSignup
from bff.signup.limiters import open_limiter
from bff.signup.ratelimit import RateLimiter


def routes(settings: Settings) -> list[BaseRoute]:
    return endpoints.routes(settings)


def limiter_salt(settings: Settings) -> bytes:
    return hashlib.sha256(b"bff.signin.ratelimit\x00" + settings.secret_keys[0].encode()).digest()


def build_limiter(settings: Settings) -> RateLimiter:
    return open_limiter(settings.session.store, limiter_salt(settings), window=settings.signin.rate_window,
                        region=settings.aws.region, endpoint_url=settings.aws.endpoint_url)


async def build(settings: Settings, http: httpx.AsyncClient, stack: contextlib.AsyncExitStack,
                auth: AuthArea, signup: IdxSignup | None = None) -> SigninService:
    client = IdxClient(settings, http, auth.oidc, okta_origin=settings.signup.okta_org_url or None)
    transactions = SigninTransactions(
        auth.store, settings.secret_keys, default_ttl=settings.session.login_transaction_ttl,
        # One step holds the lock for at most two Okta calls (remediate, then the token).
        lock_ttl=max(10.0, settings.okta.http_timeout * 2 + 5))
    limiter = build_limiter(settings)
    stack.push_async_callback(limiter.close)
    # Okta's redirect-idp buttons only for IdPs /bff/login?idp= accepts (BFF_OKTA_IDPS, discovery)
    policy = StepPolicy(authenticators=passkeys.authenticators(settings.signin, SUPPORTED_AUTHENTICATORS),
                        idps=settings.okta.allowed_idps)
    return SigninService(settings, client, transactions, auth.oidc, auth.sessions, limiter, policy=policy,
                         signup=signup)

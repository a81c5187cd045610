"""One client for Okta's Management API, for the BFF, ``bff okta`` and the Lambda functions.

Self-contained: it imports httpx, joserfc, authlib and the standard library, nothing else of
``bff``, so the functions' artifact ships this package alone (the Makefile's
``functions-source`` copies ``bff/__init__.py`` and ``bff/okta/``).

    auth.py        credentials as httpx.Auth flows: SswsAuth, PrivateKeyJwtAuth (client
                   credentials + private_key_jwt, token cached, single-flight), management_auth
    retry.py       RetryPolicy; X-Rate-Limit-Reset against the response Date, strictly parsed,
                   clamped; backoff for safe reads
    errors.py      the error tree (OktaError ...), read from Okta's errorCode/errorSummary/errorCauses
    paging.py      Link rel="next" paging (same origin only), Page
    core.py        the rules without I/O: request, retry decision, answer checking (OktaCore, Call)
    endpoints.py   the calls the project makes (users, groups), as data
    client.py      OktaClient (httpx.Client) and AsyncOktaClient (httpx.AsyncClient)
    events.py      event hook deliveries: LogEvent, parse_delivery, EventHook (dispatch by event type)

Callers convert :class:`OktaError` into their own errors at their boundary (the BFF's sign-up
into problem+json, the admin API into its own, ``bff okta`` into a message and an exit code).
"""

from bff.okta.auth import PrivateKeyJwtAuth, SswsAuth, load_private_key, management_auth
from bff.okta.client import AsyncOktaClient, OktaClient
from bff.okta.errors import (
    OktaApiError,
    OktaAuthError,
    OktaError,
    OktaForbidden,
    OktaInvalid,
    OktaNotFound,
    OktaProtocolError,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaTransportError,
)
from bff.okta.paging import Page
from bff.okta.retry import RetryPolicy

__all__ = [
    "AsyncOktaClient", "OktaApiError", "OktaAuthError", "OktaClient", "OktaError", "OktaForbidden",
    "OktaInvalid", "OktaNotFound", "OktaProtocolError", "OktaRateLimited", "OktaServerError", "OktaTimeout",
    "OktaTransportError", "Page", "PrivateKeyJwtAuth", "RetryPolicy", "SswsAuth", "load_private_key",
    "management_auth",
]

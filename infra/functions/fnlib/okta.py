"""The functions' Okta Management API client: :class:`bff.okta.OktaClient` (shipped in the
artifact beside fnlib: the Makefile's ``functions-source``), with the credentials from the
functions' secret and the functions' retry budget.

The secret holds either ``OKTA_CLIENT_ID`` + ``OKTA_PRIVATE_KEY`` (an OAuth service app,
preferred: ``private_key_jwt`` at the org authorization server, granted :data:`SCOPES`) or
``OKTA_API_TOKEN`` (SSWS).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bff.okta import OktaClient, RetryPolicy, management_auth

#: What the functions' service app is granted in Okta (``manage`` includes ``read``).
SCOPES = ("okta.users.manage", "okta.groups.manage")
#: An API Gateway request or an SQS record is waiting: a rate-limit reset at most 5 s away is
#: waited out (three tries in all); a later one answers 503 with Retry-After (or retries the record).
RETRY = RetryPolicy(attempts=3, max_wait=5.0, margin=0.1, backoff=0.5, max_backoff=2.0)


def okta_client(org_url: str, secret: Mapping[str, Any], *, http: httpx.Client) -> OktaClient:
    """The client for ``secret``'s credentials. Raises ValueError when it holds none usable."""
    auth = management_auth(org_url, api_token=secret.get("OKTA_API_TOKEN"),
                           client_id=secret.get("OKTA_CLIENT_ID"), private_key=secret.get("OKTA_PRIVATE_KEY"),
                           scopes=SCOPES)
    return OktaClient(org_url, http=http, auth=auth, retry=RETRY)

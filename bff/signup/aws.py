"""boto3 clients for this area (SNS, DynamoDB), built once at start-up.

Short timeouts and a single attempt: the outbox relay owns retries (with backoff), and a
request path must never hang on AWS. Against a loopback endpoint (moto in dev and tests) and
without any configured credentials, moto's dummy credentials are used, never elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config


def is_local(url: str | None) -> bool:
    host = urlsplit(url).hostname if url else None
    return host in {"localhost", "127.0.0.1", "::1"}


def client(service: str, *, region: str, endpoint_url: str | None, timeout: float = 5.0) -> Any:
    session = boto3.session.Session(region_name=region)
    key_id = secret = None
    if is_local(endpoint_url) and session.get_credentials() is None:
        key_id, secret = "testing", "testing"  # noqa: S105 - moto accepts anything; loopback only
    return session.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(connect_timeout=timeout, read_timeout=timeout,
                      retries={"total_max_attempts": 1, "mode": "standard"}))

"""Sign-up's view of the Okta Management API: create users, read them, partial profile updates.

:class:`OktaUsers` is the small interface the rest of the area uses; :class:`OktaManagementClient`
is its one adapter, over the shared :class:`bff.okta.AsyncOktaClient` (the local Okta twin,
``dev/bff_dev/twins/okta``, speaks the same wire format, so the same code runs against both). Calls
go through the injected ``httpx.AsyncClient`` with the credentials that
``bff.signup.component.build_okta_auth`` makes (:mod:`bff.okta.auth`: a ``private_key_jwt``
service app with :data:`MGMT_SCOPES`, preferred, or an SSWS API token).

Okta's errors are converted here, once, into the BFF hierarchy; nothing of Okta's error body
(``errorSummary``, ``errorCauses``, ``errorId``) reaches a client; ``errorId`` and
``errorCode`` are logged so support can correlate with Okta's System Log:

    taken login (E0000001, "already exists")    → LoginTaken (409, field error.email.taken)
    other E0000001 on a known field             → ValidationFailed (422, error.<field>.invalid/weak)
    429 (E0000047)                              → waited out when the reset is at most
                                                  RETRY.max_wait away (RETRY.attempts tries);
                                                  then Unavailable (503 + Retry-After)
    404 on a user                               → UserNotFound
    timeout                                     → GatewayTimeout (504)
    connection refused / reset                  → Unavailable (503)
    anything else (401/403/5xx/garbage)         → BadGateway (502)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import httpx

from bff.errors import (
    BadGateway,
    Conflict,
    GatewayTimeout,
    NotFound,
    Unavailable,
    UpstreamError,
    ValidationFailed,
)
from bff.observability import outbound
from bff.okta import (
    AsyncOktaClient,
    OktaAuthError,
    OktaError,
    OktaInvalid,
    OktaNotFound,
    OktaRateLimited,
    OktaTimeout,
    OktaTransportError,
    RetryPolicy,
)

log = logging.getLogger("bff.signup.okta")

#: What the sign-up service app is granted in Okta (Okta API Scopes tab).
MGMT_SCOPES = ("okta.users.manage", "okta.users.read")
#: A person is waiting: at most a 2 s wait for a rate-limit reset, three tries in all.
RETRY = RetryPolicy(attempts=3, max_wait=2.0, margin=0.05, backoff=0.25, max_backoff=1.0)

Sleep = Callable[[float], Awaitable[None]]


class LoginTaken(Conflict):
    title = "Account already exists"

    def __init__(self) -> None:
        super().__init__("An account with this email already exists",
                         errors=[{"field": "email", "code": "error.email.taken"}])


class UserNotFound(NotFound):
    title = "User not found"


@dataclass(frozen=True)
class OktaUser:
    id: str
    status: str
    profile: dict[str, Any]


class OktaUsers(Protocol):
    async def create_user(self, profile: Mapping[str, Any], *, password: str | None = None,
                          activate: bool = True) -> OktaUser:
        """``POST /api/v1/users?activate=...``. Raises LoginTaken, ValidationFailed, UpstreamError."""
        ...

    async def get_user(self, user_id: str) -> OktaUser:
        """``GET /api/v1/users/{id}``. Raises UserNotFound, UpstreamError."""
        ...

    async def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> OktaUser:
        """``POST /api/v1/users/{id}``: a PARTIAL profile update (``None`` clears an attribute)."""
        ...


_FIELD_REASONS = {"login": "email", "email": "email", "firstName": "firstName", "lastName": "lastName",
                  "password": "password"}


def _validation_errors(causes: tuple[str, ...]) -> list[dict[str, str]] | LoginTaken | None:
    """Map E0000001's causes to field errors (or LoginTaken); None when they name no known field."""
    errors: list[dict[str, str]] = []
    for summary in causes:
        name, _, message = summary.partition(":")
        name = name.strip()
        # Okta reports password policy failures as "password: Password requirements were not
        # met..." and sometimes without a field prefix at all.
        if name == "password" or "password requirements" in summary.lower():
            errors.append({"field": "password", "code": "error.password.weak"})
            continue
        target = _FIELD_REASONS.get(name)
        if target is None:
            continue
        if target == "email" and "already exists" in message:
            return LoginTaken()
        errors.append({"field": target, "code": f"error.{target}.invalid"})
    unique = list({(e["field"], e["code"]): e for e in errors}.values())
    return unique or None


def _upstream(exc: OktaError, op: str) -> UpstreamError:
    """The BFF error for a failed call (logged with what support needs, never shown)."""
    log.error("okta %s failed: status=%s errorCode=%s errorId=%s (%s)", op, exc.status, exc.code,
              exc.error_id, type(exc).__name__)
    if isinstance(exc, OktaRateLimited):
        return Unavailable("The identity provider is busy; try again shortly",
                           headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))})
    if isinstance(exc, OktaTimeout):
        return GatewayTimeout("The identity provider did not answer in time")
    if isinstance(exc, OktaTransportError):
        return Unavailable("The identity provider is unreachable")
    if isinstance(exc, OktaAuthError):
        return BadGateway("The identity provider refused the service credentials")
    return BadGateway("The identity provider could not complete the request")


def _refused(exc: OktaError, op: str, *, creating: bool) -> NoReturn:
    """Raise the BFF error for ``exc``: field errors for E0000001 on known fields, else upstream."""
    if isinstance(exc, OktaInvalid) and exc.code == "E0000001":
        mapped = _validation_errors(exc.causes)
        if isinstance(mapped, LoginTaken) and creating:
            raise mapped from exc
        if mapped and not isinstance(mapped, LoginTaken):
            raise ValidationFailed(mapped) from exc
    raise _upstream(exc, op) from exc


def _user(body: dict[str, Any]) -> OktaUser:
    if not isinstance(body.get("id"), str) or not isinstance(body.get("profile"), dict):
        log.error("okta answered with an unexpected user body")
        raise BadGateway("Unexpected answer from the identity provider")
    return OktaUser(id=body["id"], status=str(body.get("status", "")), profile=body["profile"])


def _ok(body: object) -> int:
    return 200  # the client raised on anything else (the error's class is counted instead)


class OktaManagementClient:
    """:class:`OktaUsers` over :class:`bff.okta.AsyncOktaClient`; ``auth`` is an ``httpx.Auth``
    from :mod:`bff.okta.auth`. ``retry`` defaults to :data:`RETRY`; ``sleep``/``clock`` for tests."""

    def __init__(self, org_url: str, http: httpx.AsyncClient, auth: httpx.Auth, *,
                 retry: RetryPolicy | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.okta = AsyncOktaClient(org_url, http=http, auth=auth, retry=retry or RETRY, sleep=sleep,
                                    clock=clock)

    async def create_user(self, profile: Mapping[str, Any], *, password: str | None = None,
                          activate: bool = True) -> OktaUser:
        try:
            body = await outbound.call("okta_management", "create user", lambda: self.okta.create_user(
                profile, password=password, activate=activate), status=_ok)
        except OktaError as exc:
            _refused(exc, "create user", creating=True)
        return _user(body)

    async def get_user(self, user_id: str) -> OktaUser:
        try:
            body = await outbound.call("okta_management", "get user", lambda: self.okta.get_user(user_id),
                                       status=_ok)
        except OktaNotFound as exc:
            raise UserNotFound("No such user") from exc
        except OktaError as exc:
            raise _upstream(exc, "get user") from exc
        return _user(body)

    async def update_profile(self, user_id: str, profile: Mapping[str, Any]) -> OktaUser:
        try:
            body = await outbound.call("okta_management", "update profile",
                                       lambda: self.okta.update_profile(user_id, profile), status=_ok)
        except OktaNotFound as exc:
            raise UserNotFound("No such user") from exc
        except OktaError as exc:
            _refused(exc, "update profile", creating=False)
        return _user(body)

"""What the rest of the BFF may know about the signed-in user: the contract between the
sign-in core and its consumers (content preview, the API proxy, profile, the SPA bootstrap).

Consumers call :func:`current_session` / :func:`require_session` and receive a
:class:`SessionAccess`: the :class:`Principal` (claims the SPA may see, plus the validated
access-token claims the Lambda event builder needs) and :meth:`SessionAccess.access_token`,
which refreshes single-flight when the token is near expiry. No consumer touches the session
store, the cookie or a refresh token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from bff.errors import Unauthenticated
from bff.lookup import ServiceKey, service


@dataclass(frozen=True)
class Principal:
    session_id: str  # opaque server-side id (never the cookie value)
    user_id: str  # ID token ``sub`` (Okta user id, 00u...)
    login: str  # access token ``sub`` (the Okta login, usually the email)
    email: str | None
    name: str | None
    groups: tuple[str, ...]
    scopes: frozenset[str]  # granted scopes (access token ``scp``)
    org_id: str | None
    admin_role: str | None  # only when the ``admin`` scope was granted
    admin_groups: tuple[str, ...]
    expires_at: int  # epoch seconds at which the session ends at the latest
    flags: Mapping[str, Any] = field(default_factory=dict)  # per-session UI state (e.g. preview)
    access_claims: Mapping[str, Any] = field(default_factory=dict)  # validated access token claims

    @property
    def preview(self) -> bool:
        return bool(self.flags.get("preview"))

    def public_view(self) -> dict[str, Any]:
        """The JSON ``/bff/user`` answers: claims the SPA may see, never a token."""
        view: dict[str, Any] = {
            "sub": self.user_id,
            "login": self.login,
            "name": self.name,
            "email": self.email,
            "groups": list(self.groups),
            "orgId": self.org_id,
            "scopes": sorted(self.scopes),
            "expiresAt": self.expires_at,
            "preview": self.preview,
            # the admin step-up is in force (it lasts BFF_ADMIN_SCOPE_TTL; bff.auth.stepup)
            "admin": "admin" in self.scopes,
        }
        if self.admin_role:
            view["adminRole"] = self.admin_role
            view["adminGroups"] = list(self.admin_groups)
        return view


class SessionAccess(Protocol):
    @property
    def principal(self) -> Principal: ...

    async def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed first when within the skew of expiry.

        Refreshes are single-flight per session (within the process and across processes
        sharing the store). ``force_refresh`` is for an upstream 401 on an idempotent call.
        Raises ``Unauthenticated`` (session ended: ``invalid_grant``) or ``Unavailable``
        (IdP unreachable; the session is kept).
        """
        ...

    async def set_flag(self, name: str, value: Any) -> None:
        """Persist a small per-session UI flag (e.g. ``preview``)."""
        ...


class SessionLookup(Protocol):
    async def load(self, conn: HTTPConnection) -> SessionAccess | None:
        """The session of this request's cookie, or None (no/invalid/expired cookie). When the
        cookie is genuine but its session has ended, also sets ``conn.scope[ENDED] = True``."""
        ...


#: The scope key a :class:`SessionLookup` sets when the request's cookie named a session that
#: has ended (signed out elsewhere, revoked at Okta, expired): its 401 is ``session_ended``, and
#: the SPA says so and sends the user to sign in.
ENDED = "bff.session_ended"


#: What every area reads the session through (``Services.sessions``).
SESSIONS: ServiceKey[SessionLookup] = ServiceKey("sessions")


async def current_session(conn: HTTPConnection) -> SessionAccess | None:
    """The session of this request, loaded at most once per request."""
    cached = conn.scope.get("bff.session", _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[no-any-return]
    session = await service(conn, SESSIONS).load(conn)
    conn.scope["bff.session"] = session
    return session


async def require_session(conn: HTTPConnection) -> SessionAccess:
    session = await current_session(conn)
    if session is None:
        raise no_session(conn)
    return session


def no_session(conn: HTTPConnection, headers: Mapping[str, str] | None = None) -> Unauthenticated:
    """The 401 of a request without a usable session: ``session_ended`` when its cookie named a
    session that has ended, ``unauthenticated`` otherwise."""
    if conn.scope.get(ENDED):
        return Unauthenticated("Your session has ended; sign in again", code="session_ended", headers=headers)
    return Unauthenticated("No valid session; sign in again", headers=headers)


_MISSING = object()

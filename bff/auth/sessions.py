"""Server-side sessions: the implementation of :class:`~bff.auth.api.SessionLookup` and
:class:`~bff.auth.api.SessionAccess`.

The browser holds ONE cookie, ``__Host-bff`` (``Secure; HttpOnly; Path=/; SameSite=Lax``, no
``Domain``), whose value is the random session id signed with itsdangerous
(:class:`~bff.sessions.cookies.CookieSigner`). Everything else lives in the session store, in a
record whose ``data`` is AES-GCM ciphertext (:class:`~bff.sessions.crypto.TokenCipher`, the
session id as associated data): tokens, ID-token and access-token claims, flags, times.

Lifetimes. A session ends at the earliest of: its sliding idle deadline (``last_seen`` +
``BFF_SESSION_IDLE_TIMEOUT``, extended at most once a minute so a busy session is not a write per
request), its absolute lifetime (``BFF_SESSION_LIFETIME`` from login), the refresh token's
expiry when the provider tells it, and the access token's expiry when there is no refresh token.
The record's ``expires_at`` is that instant, so every store forgets it on time.

Hot path. :meth:`SessionManager.load` reads the store once per request, always (a session
ended anywhere — logout, back-channel logout, ``invalid_grant``, expiry — is refused on the very
next request on every instance sharing the store); :meth:`ManagedSession.access_token` returns
the token from that read unless it is within ``BFF_TOKEN_REFRESH_SKEW`` of expiry. What the
read returns is decoded once per record version, not once per request, by two bounded
per-process memos:

* cookie → session id: the exact ``Cookie`` header(s) whose signature verified (HMAC, the
  security boundary) map to the id they carry; another header, one byte different, is verified
  afresh. Keys only change with a restart (``BFF_SECRET_KEYS`` is read at start), so an entry
  never outlives the key that verified it;
* session id → decoded record: the exact ciphertext bytes the store returned, the
  :class:`SessionData` AES-GCM + JSON made of them and the :class:`Principal` built from it.
  It is used only when the store returns the very same bytes again (compared in full): any
  write (idle-time touch, refresh, flag, re-encryption) produces new bytes (a fresh nonce), so
  the first request after it decodes again. The cached objects are shared by concurrent
  requests of a session and never mutated (every change goes through ``replace`` into a new
  record); the principal's ``flags``/``access_claims`` are read-only views.

Refresh is single-flight per session:

1. within the process, an ``asyncio.Lock`` per session id; a waiter that finds the token already
   refreshed by the holder (kept for a minute in ``_outcomes``) uses it without any I/O;
2. across processes, ``store.acquire_lock("refresh:<id>")``; a process that cannot take it polls
   the record until the holder's new token appears (or the lock frees up);
3. the holder RE-READS the record under the lock (another process may have refreshed meanwhile:
   then its token is used and the refresh token is not spent again), calls the token endpoint,
   and writes with ``replace(expected_version=...)``; a conflicting write (a flag, an idle-time
   touch) is merged and retried, never lost.

So N concurrent requests cause exactly one token call, and a rotated refresh token is never
reused. ``invalid_grant`` deletes the session (401 from then on, ``/bff/user`` included); an
unreachable provider raises ``Unavailable`` (503) and keeps the session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any

from cachetools import TTLCache
from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import Response

from bff.auth.api import ENDED, Principal
from bff.auth.devices import SessionHandles, coarse_network, device_label
from bff.auth.expiry import ExpiryWatch
from bff.auth.oidc import InvalidGrant, InvalidToken, OAuthError, OIDCClient, TokenSet
from bff.errors import BadRequest, BFFError, Unauthenticated, Unavailable
from bff.http.client_ip import client_ip
from bff.observability import metrics, tracing
from bff.sessions.cookies import CookieSigner, new_session_id
from bff.sessions.crypto import DecryptError, TokenCipher
from bff.sessions.store import SessionRecord, SessionStore

log = logging.getLogger("bff.auth.sessions")

#: Flags are small UI state; anything bigger is a misuse.
MAX_FLAG_BYTES = 2048
#: How often a write conflict on one record is merged and retried before giving up.
WRITE_ATTEMPTS = 5
#: Entries of the per-process memos (cookie → id, id → decoded record); oldest dropped first.
MEMO_SIZE = 10_000
#: Longest Cookie header(s) the cookie memo keeps as a key. The key is client-controlled (other
#: cookies around ``__Host-bff``): without a cap one valid cookie padded differently per request
#: would fill the memo with MEMO_SIZE headers of up to the server's header limit each.
MEMO_KEY_MAX = 4096


@dataclass
class SessionData:
    """The decrypted content of a session record."""

    access_token: str = field(repr=False)
    access_expires_at: float
    refresh_token: str | None = field(repr=False)
    refresh_expires_at: float | None
    id_token: str | None = field(repr=False)
    id_claims: dict[str, Any]
    access_claims: dict[str, Any]
    scopes: list[str]
    flags: dict[str, Any]
    created_at: float
    absolute_expires_at: float
    last_seen: float
    # What the user's list of sessions shows (GET /bff/sessions), noted with ``last_seen``: a
    # coarse label of the browser ("Firefox on Linux") and the client's network (an IPv4 /24, an
    # IPv6 /48), never the raw User-Agent or the full address. None until the first request.
    device: str | None = None
    network: str | None = None
    #: when the step-up scope granted at sign-in ends (bff.auth.stepup); None: no step-up scope
    admin_until: float | None = None

    def hard_deadline(self) -> float:
        """When the session ends at the latest, however active it is."""
        end = self.absolute_expires_at
        if self.refresh_token is None:
            end = min(end, self.access_expires_at)
        elif self.refresh_expires_at is not None:
            end = min(end, self.refresh_expires_at)
        return end

    def deadline(self, idle_timeout: float) -> float:
        return min(self.last_seen + idle_timeout, self.hard_deadline())

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionData:
        return cls(**json.loads(raw))


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def build_principal(session_id: str, data: SessionData, expires_at: float) -> Principal:
    """Claims the rest of the BFF may see. Groups, org and admin claims come from the validated
    access token (where Okta's custom authorization server puts them), then the ID token."""
    idc, atc = data.id_claims, data.access_claims

    def claim(name: str) -> Any:
        return atc.get(name) if atc.get(name) is not None else idc.get(name)

    return Principal(
        session_id=session_id,
        user_id=str(idc["sub"]),
        login=_string(atc.get("sub")) or _string(idc.get("preferred_username")) or _string(idc.get("email"))
        or str(idc["sub"]),
        email=_string(idc.get("email")) or _string(atc.get("email")),
        name=_string(idc.get("name")),
        groups=_strings(claim("groups")),
        scopes=frozenset(data.scopes),
        org_id=_string(claim("orgId")),
        admin_role=_string(atc.get("adminRole")),
        admin_groups=_strings(atc.get("adminGroups")),
        expires_at=int(expires_at),
        flags=MappingProxyType(dict(data.flags)),
        access_claims=MappingProxyType(dict(atc)),
    )


class _Decoded:
    """A record's ciphertext and what it decodes to (see "Hot path" in the module docstring)."""

    __slots__ = ("blob", "data", "principal")

    def __init__(self, blob: bytes, data: SessionData) -> None:
        self.blob = blob
        self.data = data
        self.principal: Principal | None = None


def _remember(memo: dict[str, Any], key: str, value: Any) -> None:
    """Insert into a bounded dict, dropping the oldest entry when full."""
    if len(memo) >= MEMO_SIZE and key not in memo:
        del memo[next(iter(memo))]
    memo[key] = value


@dataclass
class _Outcome:
    """What the last refresh of a session in this process produced (for waiting coroutines)."""

    at: float  # monotonic time
    record: SessionRecord | None = None  # None: the session ended
    data: SessionData | None = None
    error: BFFError | None = None


class ManagedSession:
    """One request's view of a session (a :class:`~bff.auth.api.SessionAccess`)."""

    def __init__(self, manager: SessionManager, record: SessionRecord, data: SessionData,
                 decoded: _Decoded | None = None) -> None:
        self._manager = manager
        self._record = record
        self._data = data
        self._decoded = decoded  # the memo entry of this record, where the principal is kept
        self._principal: Principal | None = None

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def record(self) -> SessionRecord:
        return self._record

    @property
    def data(self) -> SessionData:
        return self._data

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            decoded = self._decoded
            if decoded is not None and decoded.data is self._data:  # shared by this record's readers
                if decoded.principal is None:
                    decoded.principal = self._build_principal()
                self._principal = decoded.principal
            else:
                self._principal = self._build_principal()
        return self._principal

    def _build_principal(self) -> Principal:
        return build_principal(self._record.id, self._data, self._data.hard_deadline())

    def _adopt(self, record: SessionRecord, data: SessionData) -> None:
        self._record, self._data, self._principal, self._decoded = record, data, None, None

    def needs_refresh(self) -> bool:
        return self._data.access_expires_at - self._manager.refresh_skew <= self._manager.clock()

    def step_up_expired(self) -> bool:
        until = self._data.admin_until
        return until is not None and until <= self._manager.clock()

    async def access_token(self, *, force_refresh: bool = False) -> str:
        if not force_refresh and not self.needs_refresh():
            return self._data.access_token
        await self._manager.refresh(self, force=force_refresh)
        return self._data.access_token

    async def set_flag(self, name: str, value: Any) -> None:
        if not isinstance(name, str) or not name or len(name) > 64:
            raise BadRequest("Invalid session flag name")
        try:
            size = len(json.dumps(value))
        except (TypeError, ValueError):
            raise BadRequest("Session flags must be JSON values") from None
        if size > MAX_FLAG_BYTES:
            raise BadRequest("Session flag value too large")

        def change(data: SessionData) -> SessionData:
            return replace(data, flags={**data.flags, name: value})

        record, data = await self._manager.update(self._record, self._data, change)
        self._adopt(record, data)


class SessionManager:
    """Sessions over a :class:`~bff.sessions.store.SessionStore`. ``clock`` is epoch seconds,
    injectable for tests (together with ``monotonic`` and ``sleep``)."""

    def __init__(self, *, store: SessionStore, oidc: OIDCClient, secret_keys: tuple[str, ...],
                 cookie_name: str, idle_timeout: float, absolute_lifetime: float,
                 refresh_skew: float, lock_ttl: float = 30.0,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 stepup_scopes: tuple[str, ...] = ("admin",), admin_scope_ttl: float = 1800.0) -> None:
        self.store = store
        # the step-up scopes and how long their grant lasts (bff.auth.stepup, "Expiring")
        self.stepup_scopes = frozenset(stepup_scopes)
        self.admin_scope_ttl = admin_scope_ttl
        self.oidc = oidc
        self.signer = CookieSigner(secret_keys)
        self.cipher = TokenCipher(secret_keys)
        self.cookie_name = cookie_name
        self.idle_timeout = idle_timeout
        self.absolute_lifetime = absolute_lifetime
        self.refresh_skew = refresh_skew
        self.lock_ttl = lock_ttl
        self.touch_interval = max(1.0, min(60.0, idle_timeout / 20))
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._outcomes: TTLCache[str, _Outcome] = TTLCache(maxsize=10_000, ttl=60, timer=monotonic)
        self._cookie_ids: dict[str, str] = {}  # verified Cookie header(s) -> session id
        self._decoded: dict[str, _Decoded] = {}  # session id -> its last decoded record
        self._handles = SessionHandles(secret_keys)
        self.token_calls = 0  # refresh-token grants sent by this process (tests, metrics)
        #: Watches the deadlines of the sessions written here, to count the ones the store
        #: forgets (bff.auth.expiry); set by the component while metrics are on.
        self.expiry: ExpiryWatch | None = None

    # -- encryption --------------------------------------------------------------------------

    def _seal(self, session_id: str, data: SessionData) -> bytes:
        return self.cipher.encrypt(data.to_bytes(), aad=session_id.encode())

    def _open(self, record: SessionRecord) -> SessionData | None:
        try:
            return SessionData.from_bytes(self.cipher.decrypt(record.data, aad=record.id.encode()))
        except (DecryptError, ValueError, TypeError, KeyError):
            log.warning("unreadable session record ignored (key removed from BFF_SECRET_KEYS?)")
            return None

    def _next(self, record: SessionRecord, data: SessionData) -> SessionRecord:
        expires_at = data.deadline(self.idle_timeout)
        if self.expiry is not None:  # (a write that then fails is harmless: the watch re-reads)
            self.expiry.note(record.id, expires_at, data.hard_deadline())
        return replace(record, version=record.version + 1, data=self._seal(record.id, data),
                       expires_at=expires_at)

    def hard_deadline_of(self, record: SessionRecord) -> float | None:
        """When the session of ``record`` ends at the latest (None: unreadable)."""
        data = self._open(record)
        return None if data is None else data.hard_deadline()

    # -- lookup ------------------------------------------------------------------------------

    def session_id_of(self, conn: HTTPConnection) -> str | None:
        """The session id the request's cookie carries, if its signature verifies."""
        headers = [value for name, value in conn.scope["headers"] if name == b"cookie"]
        if not headers:
            return None
        key = headers[0].decode("latin-1") if len(headers) == 1 else \
            "\n".join(h.decode("latin-1") for h in headers)  # no header value holds a newline
        session_id = self._cookie_ids.get(key)
        if session_id is not None:
            return session_id
        cookies: dict[str, str] = {}
        for header in headers:  # exactly as Starlette's ``HTTPConnection.cookies``
            cookies.update(cookie_parser(header.decode("latin-1")))
        value = cookies.get(self.cookie_name)
        session_id = self.signer.unsign(value) if value else None
        if session_id is not None and len(key) <= MEMO_KEY_MAX:
            _remember(self._cookie_ids, key, session_id)
        return session_id

    async def load(self, conn: HTTPConnection) -> ManagedSession | None:
        """The session of this request's cookie (ONE store read), or None. When the cookie is
        genuine but its session has ended (signed out elsewhere, revoked, expired), it marks the
        request (``conn.scope[ENDED]``) so its 401 says ``session_ended``."""
        session_id = self.session_id_of(conn)
        if session_id is None:
            return None
        with tracing.span("session.read") as sp:
            session = await self.get(session_id, conn)
            tracing.note(sp, "bff.session.found", session is not None)
        if session is None:
            conn.scope[ENDED] = True
        return session

    async def get(self, session_id: str, conn: HTTPConnection | None = None) -> ManagedSession | None:
        record = await self.store.get(session_id)
        if record is None:  # ended (maybe by another instance): drop its decoded tokens too
            self._decoded.pop(session_id, None)
            return None
        decoded = self._decoded.get(session_id)
        if decoded is None or decoded.blob != record.data:  # full comparison of the ciphertext
            data = self._open(record)
            if data is None:
                return None
            decoded = _Decoded(record.data, data)
            _remember(self._decoded, session_id, decoded)
        data = decoded.data
        now = self.clock()
        if data.deadline(self.idle_timeout) <= now:
            if metrics.enabled():
                idle = data.last_seen + self.idle_timeout < data.hard_deadline()
                await self.end(session_id, reason="idle" if idle else "lifetime")
            return None
        session = ManagedSession(self, record, data, decoded)
        if data.admin_until is not None and data.admin_until <= now:
            # The step-up scope has expired: refresh down to the normal scopes before anyone
            # reads this session (bff.auth.stepup, "Expiring").
            await self.refresh(session, force=True, narrow=True)
            return session
        if now - data.last_seen >= self.touch_interval or not self.cipher.is_current(record.data) \
                or (conn is not None and data.device is None):
            await self._touch(session, now, conn)
        return session

    async def _touch(self, session: ManagedSession, now: float, conn: HTTPConnection | None) -> None:
        """Slide the idle deadline (and re-encrypt under the newest key), noting the device the
        request came from. A lost race is fine: whoever wrote first also kept the session alive."""
        data = replace(session.data, last_seen=now)
        if conn is not None:
            data = replace(data, device=device_label(conn.headers.get("user-agent")),
                           network=coarse_network(client_ip(conn)))  # the edge's trusted address
        record = self._next(session.record, data)
        try:
            if await self.store.replace(record, expected_version=session.record.version):
                session._adopt(record, data)
        except Unavailable:
            log.warning("could not extend a session's idle deadline (store unavailable)")

    # -- create / end ------------------------------------------------------------------------

    async def create(self, *, tokens: TokenSet, id_claims: Mapping[str, Any],
                     access_claims: Mapping[str, Any] | None,
                     requested_scopes: tuple[str, ...]) -> tuple[ManagedSession, str]:
        """A NEW session (fresh random id: no fixation). Returns it and the cookie value."""
        now = self.clock()
        atc = dict(access_claims or {})
        granted = granted_scopes(tokens, atc, requested_scopes)
        data = SessionData(
            access_token=tokens.access_token,
            access_expires_at=tokens.expires_at,
            refresh_token=tokens.refresh_token,
            refresh_expires_at=tokens.refresh_expires_at,
            id_token=tokens.id_token,
            id_claims=dict(id_claims),
            access_claims=atc,
            scopes=sorted(granted),
            flags={},
            created_at=now,
            absolute_expires_at=now + self.absolute_lifetime,
            last_seen=now,
            admin_until=now + self.admin_scope_ttl if granted & self.stepup_scopes else None,
        )
        session_id = new_session_id()
        record = SessionRecord(id=session_id, user_id=str(id_claims["sub"]),
                               idp_sid=_string(id_claims.get("sid")), created_at=now,
                               expires_at=data.deadline(self.idle_timeout), version=1,
                               data=self._seal(session_id, data))
        await self.store.create(record)
        metrics.SESSIONS_CREATED.inc()
        if self.expiry is not None:
            self.expiry.note(session_id, record.expires_at, data.hard_deadline())
        return ManagedSession(self, record, data), self.signer.sign(session_id)

    async def end(self, session_id: str, *, reason: str = "logout") -> None:
        """End one session; ``reason`` (``logout``, ``idle``, ``lifetime``, ``revoked``:
        the provider refused its refresh token) labels ``bff_sessions_ended_total``."""
        self._decoded.pop(session_id, None)
        await self.store.delete(session_id)
        self._outcomes[session_id] = _Outcome(at=self.monotonic())
        metrics.SESSIONS_ENDED.inc(reason)
        if self.expiry is not None:
            await self.expiry.ended([session_id])

    async def end_for(self, *, user_id: str | None = None, idp_sid: str | None = None,
                      reason: str = "back-channel") -> int:
        ended = await self.store.delete_for(user_id=user_id, idp_sid=idp_sid)
        if ended:
            metrics.SESSIONS_ENDED.inc(reason, amount=ended)
        return ended

    async def end_sessions_of(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                              created_before: float | None = None, reason: str = "revoked") -> int:
        """End the user's sessions matching every filter (all; all but ``keep``; those of the
        IdP session ``idp_sid``; those created before ``created_before``) in ONE store call,
        then revoke each one's refresh token at the provider (failures are logged: the sessions
        are gone either way). Returns how many live sessions ended (counted under ``reason``)."""
        ended = await self.store.end_sessions(user_id, keep=keep, idp_sid=idp_sid,
                                              created_before=created_before)
        if ended:
            metrics.SESSIONS_ENDED.inc(reason, amount=len(ended))
            if self.expiry is not None:
                await self.expiry.ended([record.id for record in ended])
        tokens = []
        for record in ended:
            self._decoded.pop(record.id, None)
            self._outcomes[record.id] = _Outcome(at=self.monotonic())
            data = self._open(record)
            if data is not None and data.refresh_token:
                tokens.append(data.refresh_token)
        await asyncio.gather(*(self._revoke_quietly(token) for token in tokens))
        return len(ended)

    async def end_one(self, user_id: str, session_id: str) -> bool:
        """End the session ``session_id`` if it is a live session of ``user_id``, revoking its
        refresh token; False when there is no such session."""
        record = await self.store.get(session_id)
        if record is None or record.user_id != user_id:
            return False
        data = self._open(record)
        await self.end(session_id)
        if data is not None:
            await self._revoke_quietly(data.refresh_token)
        return True

    async def sessions_of(self, user_id: str) -> list[tuple[SessionRecord, SessionData]]:
        """The user's live sessions and their content, oldest first (one index lookup)."""
        now = self.clock()
        out = []
        for record in await self.store.sessions_of(user_id):
            data = self._open(record)
            if data is not None and data.deadline(self.idle_timeout) > now:
                out.append((record, data))
        return out

    def handle_of(self, session_id: str) -> str:
        """A stable, public name of a session for the user's own list: an HMAC of its id under
        the newest secret key. It names the session without being it: a handle cannot be turned
        back into the id, and the cookie signer refuses it (it is not a signed id)."""
        return self._handles.handle(session_id)

    def set_cookie(self, response: Response, value: str, session: ManagedSession) -> None:
        max_age = max(0, int(session.data.hard_deadline() - self.clock()))
        response.set_cookie(self.cookie_name, value, max_age=max_age, path="/", secure=True,
                            httponly=True, samesite="lax")

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(self.cookie_name, path="/", secure=True, httponly=True, samesite="lax")

    # -- writes ------------------------------------------------------------------------------

    async def update(self, record: SessionRecord, data: SessionData,
                     change: Callable[[SessionData], SessionData]) -> tuple[SessionRecord, SessionData]:
        """Apply ``change`` with a conditional write; on conflict re-read, re-apply, retry."""
        for _ in range(WRITE_ATTEMPTS):
            new_data = change(data)
            new_record = self._next(record, new_data)
            if await self.store.replace(new_record, expected_version=record.version):
                return new_record, new_data
            current = await self.store.get(record.id)
            current_data = self._open(current) if current is not None else None
            if current is None or current_data is None:
                raise Unauthenticated("The session has ended; sign in again")
            record, data = current, current_data
        raise Unavailable("The session is being changed concurrently; try again")

    # -- refresh -----------------------------------------------------------------------------

    def _lock(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[session_id] = lock
        return lock

    def _is_fresh(self, data: SessionData) -> bool:
        return data.access_expires_at - self.refresh_skew > self.clock()

    def _usable(self, data: SessionData, seen_token: str, force: bool, narrow: bool = False) -> bool:
        """Another flight's result serves this caller: a different token that is fresh (for a
        forced refresh, any token other than the one the upstream rejected; for a narrowing,
        one without the expired step-up scope)."""
        if narrow:
            return data.admin_until is None
        return data.access_token != seen_token and (force or self._is_fresh(data))

    async def refresh(self, session: ManagedSession, *, force: bool, narrow: bool = False) -> None:
        """Bring ``session`` a fresh access token, single-flight (see the module docstring).
        ``narrow``: refresh down to the normal scopes (the step-up scope expired).

        Telemetry: a ``session.refresh`` span and ``bff_token_refreshes_total{outcome}``: ``ok``
        (this request's token call), ``coalesced`` (another request's or instance's refresh,
        found done), ``waited`` (another instance's, after waiting on its lock), ``failed``."""
        attributes = {"bff.refresh.forced": force, "bff.refresh.narrow": narrow}
        with tracing.span("session.refresh", attributes) as sp:
            try:
                how = await self._refresh(session, force=force, narrow=narrow)
            except BFFError as exc:
                metrics.TOKEN_REFRESHES.inc("failed")
                tracing.note(sp, "bff.refresh.outcome", "failed")
                tracing.fail(sp, exc.instance_code)
                raise
            metrics.TOKEN_REFRESHES.inc(how)
            tracing.note(sp, "bff.refresh.outcome", how)

    async def _refresh(self, session: ManagedSession, *, force: bool, narrow: bool = False) -> str:
        seen_token = session.data.access_token
        started = self.monotonic()
        async with self._lock(session.id):
            outcome = self._outcomes.get(session.id)
            if outcome is not None and outcome.at >= started:
                if outcome.error is not None:
                    raise type(outcome.error)(outcome.error.detail)
                if outcome.record is None or outcome.data is None:
                    raise Unauthenticated("The session has ended; sign in again")
                if self._usable(outcome.data, seen_token, force, narrow):
                    session._adopt(outcome.record, outcome.data)
                    return "coalesced"
            try:
                record, data, how = await self._refresh_across_processes(session, seen_token, force, narrow)
            except Unauthenticated:
                self._outcomes[session.id] = _Outcome(at=self.monotonic())
                raise
            except Unavailable as exc:
                self._outcomes[session.id] = _Outcome(at=self.monotonic(), error=exc)
                raise
            self._outcomes[session.id] = _Outcome(at=self.monotonic(), record=record, data=data)
            session._adopt(record, data)
            return how

    async def _reread(self, session_id: str) -> tuple[SessionRecord, SessionData]:
        record = await self.store.get(session_id)
        data = self._open(record) if record is not None else None
        if record is None or data is None or data.deadline(self.idle_timeout) <= self.clock():
            raise Unauthenticated("The session has ended; sign in again")
        return record, data

    async def _refresh_across_processes(self, session: ManagedSession, seen_token: str,
                                        force: bool, narrow: bool = False,
                                        ) -> tuple[SessionRecord, SessionData, str]:
        lock_key = f"refresh:{session.id}"
        deadline = self.monotonic() + self.lock_ttl + 5.0
        delay = 0.01
        while True:
            token = await self.store.acquire_lock(lock_key, self.lock_ttl)
            if token is not None:
                break
            # Another process is refreshing: wait for its result to land in the store.
            record, data = await self._reread(session.id)
            if self._usable(data, seen_token, force, narrow):
                tracing.current().add_event("waited on another instance's refresh")
                return record, data, "waited"
            if self.monotonic() > deadline:
                raise Unavailable("A token refresh elsewhere did not finish; try again")
            await self.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            record, data = await self._reread(session.id)
            if narrow:
                if self._usable(data, seen_token, force, narrow):
                    return record, data, "coalesced"  # narrowed by another process meanwhile
                record, data = await self._refresh_locked(record, data, narrow=True)
                return record, data, "ok"
            if self._usable(data, seen_token, force) or (not force and self._is_fresh(data)):
                return record, data, "coalesced"  # refreshed by another process meanwhile
            record, data = await self._refresh_locked(record, data)
            return record, data, "ok"
        finally:
            try:
                await self.store.release_lock(lock_key, token)
            except Unavailable:
                log.warning("could not release a refresh lock (it expires by itself)")

    async def _refresh_locked(self, record: SessionRecord, data: SessionData, *,
                              narrow: bool = False) -> tuple[SessionRecord, SessionData]:
        if data.refresh_token is None:
            await self.end(record.id, reason="lifetime")
            raise Unauthenticated("The session's access token expired and cannot be renewed")
        began = self.clock()
        self.token_calls += 1
        # Narrowing: the scopes of the session without the step-up ones (Okta accepts a subset).
        scope = " ".join(s for s in data.scopes if s not in self.stepup_scopes) if narrow else None
        try:
            tokens = await self.oidc.refresh(data.refresh_token, scope=scope)
        except InvalidGrant:
            log.info("refresh token rejected (invalid_grant): session ended")
            await self.end(record.id, reason="revoked")
            raise Unauthenticated("The session has ended; sign in again") from None
        except OAuthError:
            if not narrow:
                raise
            # The narrower scope was refused: the session must not keep the step-up scope.
            log.warning("refresh down to the normal scopes refused: session ended")
            await self.end(record.id)
            raise Unauthenticated("The administrator sign-in has expired; sign in again") from None
        try:
            id_claims = data.id_claims
            if tokens.id_token is not None and tokens.id_token != data.id_token:
                id_claims = await self.oidc.validate_id_token(
                    tokens.id_token, nonce=None, not_before=began, original=data.id_claims,
                    access_token=tokens.access_token)
        except InvalidToken as exc:
            # The provider issued tokens, but not for this user/client: end the session and
            # return the new refresh token rather than keep it.
            log.error("refreshed ID token rejected (%s): session ended", exc.detail)
            await self.end(record.id, reason="revoked")
            await self._revoke_quietly(tokens.refresh_token)
            raise Unauthenticated("The session has ended; sign in again") from None
        access_claims = await self.oidc.access_token_claims(tokens.access_token) or {}

        def apply(current: SessionData) -> SessionData:
            return replace(
                current,
                access_token=tokens.access_token,
                access_expires_at=tokens.expires_at,
                refresh_token=tokens.refresh_token or current.refresh_token,
                refresh_expires_at=tokens.refresh_expires_at or current.refresh_expires_at,
                id_token=tokens.id_token or current.id_token,
                id_claims=id_claims,
                access_claims=access_claims,
                scopes=scopes,
                admin_until=None if narrow else current.admin_until,
            )

        requested = tuple(scope.split()) if scope is not None else tuple(data.scopes)
        scopes = sorted(granted_scopes(tokens, access_claims, requested))
        if narrow and self.stepup_scopes.intersection(scopes):
            # Okta ignored the narrower scope: never keep what expired.
            log.error("the narrowing refresh still granted a step-up scope: session ended")
            await self.end(record.id)
            await self._revoke_quietly(tokens.refresh_token)
            raise Unauthenticated("The administrator sign-in has expired; sign in again")

        try:
            return await self.update(record, data, apply)
        except Unauthenticated:
            # Logged out while we refreshed: do not leave a live refresh token behind.
            await self._revoke_quietly(tokens.refresh_token)
            raise

    async def _revoke_quietly(self, token: str | None) -> None:
        if not token:
            return
        try:
            await self.oidc.revoke(token, "refresh_token")
        except BFFError as exc:
            log.warning("refresh token revocation failed: %s", exc.instance_code)


def granted_scopes(tokens: TokenSet, access_claims: Mapping[str, Any],
                   requested: tuple[str, ...]) -> set[str]:
    """The scopes a token response granted (``scope``, else the access token's ``scp``, else
    as requested: RFC 6749 5.1)."""
    if tokens.scope is not None:
        return set(tokens.scope)
    scp = access_claims.get("scp")
    if isinstance(scp, list):
        return {s for s in scp if isinstance(s, str)}
    if isinstance(scp, str):
        return set(scp.split())
    return set(requested)  # RFC 6749 5.1: omitted scope means "as requested"

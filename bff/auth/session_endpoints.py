"""The signed-in user's own sessions: ``/bff/sessions``.

    GET    /bff/sessions            the user's live sessions, oldest first
    DELETE /bff/sessions            sign out everywhere else (CSRF)
    DELETE /bff/sessions/{handle}   end one other session (CSRF)

Each session is ``{"handle", "createdAt", "lastSeenAt", "device", "network", "current"}``:
epoch seconds, a coarse browser label, the client's /24 or /48 network
(:mod:`bff.auth.devices`), and whether it is the session of this request. ``handle`` names the
session here and nowhere else: an HMAC of its id, never the id, so nothing in this list can be
used as a cookie. Ending a session deletes it from the store (every instance refuses it on the
next request: 401 ``session_ended``) and revokes its refresh token at Okta.

Errors (problem+json): 401 ``unauthenticated`` / ``session_ended``; 403 ``csrf``; 400
``invalid_handle`` (not a handle's shape); 404 ``session_not_found`` (no session of this user
has that handle, ended already); 409 ``current_session`` (this request's own session: sign out
with ``POST /bff/logout``, which also ends the Okta session).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff.auth.api import require_session
from bff.auth.csrf import check_csrf
from bff.auth.devices import HANDLE_PATTERN
from bff.auth.endpoints import AUTH
from bff.auth.sessions import SessionData
from bff.errors import BadRequest, Conflict, NotFound
from bff.http.responses import NO_STORE
from bff.lookup import service
from bff.sessions.store import SessionRecord
from bff.settings import Settings

log = logging.getLogger("bff.auth.sessions")

_PRIVATE = {**NO_STORE, "Vary": "Cookie"}


def _view(handle: str, record: SessionRecord, data: SessionData, current: bool) -> dict[str, Any]:
    return {"handle": handle, "createdAt": int(record.created_at), "lastSeenAt": int(data.last_seen),
            "device": data.device, "network": data.network, "current": current}


async def list_sessions(request: Request) -> Response:
    area = service(request, AUTH)
    session = await require_session(request)
    me = session.principal
    listed = await area.sessions.sessions_of(me.user_id)
    return JSONResponse({"sessions": [
        _view(area.sessions.handle_of(record.id), record, data, record.id == me.session_id)
        for record, data in listed]}, headers=_PRIVATE)


async def end_other_sessions(request: Request) -> Response:
    area = service(request, AUTH)
    check_csrf(request, area.settings)
    session = await require_session(request)
    me = session.principal
    ended = await area.sessions.end_sessions_of(me.user_id, keep=me.session_id)
    log.info("signed out everywhere else: %d session(s) ended", ended)
    return JSONResponse({"ended": ended}, headers=_PRIVATE)


async def end_one_session(request: Request) -> Response:
    area = service(request, AUTH)
    check_csrf(request, area.settings)
    session = await require_session(request)
    handle = request.path_params["handle"]
    if not HANDLE_PATTERN.fullmatch(handle):
        raise BadRequest("Not a session handle", code="invalid_handle")
    me = session.principal
    for record, _ in await area.sessions.sessions_of(me.user_id):
        if area.sessions.handle_of(record.id) != handle:
            continue
        if record.id == me.session_id:
            raise Conflict("This is the current session; sign out with POST /bff/logout",
                           code="current_session")
        if await area.sessions.end_one(me.user_id, record.id):
            log.info("one other session ended by its user")
            return Response(status_code=204, headers=_PRIVATE)
        break
    raise NotFound("No session of yours has this handle (it may have ended already)",
                   code="session_not_found")


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/bff/sessions", list_sessions, methods=["GET"]),
        Route("/bff/sessions", end_other_sessions, methods=["DELETE"]),
        Route("/bff/sessions/{handle}", end_one_session, methods=["DELETE"]),
    ]

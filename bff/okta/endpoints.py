"""The Management API calls this project makes, as data (:class:`~bff.okta.core.Call`).

Both clients build their typed methods from these, so a path, a query parameter or a body
shape is written once. Ids are path-escaped (``quote(id, safe="")``): an id like
``../../groups`` stays one path segment.

Wire facts (Okta Management API):

* ``POST /api/v1/users?activate=true|false`` creates a user; without credentials and with
  ``activate=true`` the user is ``PROVISIONED`` (activation email), with a password ``ACTIVE``,
  ``activate=false`` leaves it ``STAGED``.
* ``POST /api/v1/users/{id}`` with ``{"profile": ...}`` is a PARTIAL profile update (``None``
  clears an attribute); ``PUT`` would replace the whole profile.
* ``POST /api/v1/users/{id}/lifecycle/{operation}``; ``sendEmail`` applies to activate,
  reactivate and deactivate.
* ``PUT|DELETE /api/v1/groups/{gid}/users/{uid}``: group membership (204).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from bff.okta.core import Call

LIFECYCLE = frozenset({"activate", "reactivate", "deactivate", "suspend", "unsuspend", "unlock",
                       "expire_password", "reset_factors"})
_EMAIL_LIFECYCLE = frozenset({"activate", "reactivate", "deactivate"})


def segment(value: str) -> str:
    return quote(value, safe="")


def query(**values: str | int | bool | None) -> dict[str, str]:
    """Query parameters without the unset ones (bools as Okta spells them)."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


# -- users ------------------------------------------------------------------------------------

def create_user(profile: Mapping[str, Any], *, password: str | None = None, activate: bool = True,
                group_ids: Sequence[str] = ()) -> Call:
    body: dict[str, Any] = {"profile": dict(profile)}
    if password is not None:
        body["credentials"] = {"password": {"value": password}}
    if group_ids:
        body["groupIds"] = list(group_ids)
    return Call("POST", "/api/v1/users", query(activate=activate), body)


def get_user(user_id: str) -> Call:
    return Call("GET", f"/api/v1/users/{segment(user_id)}")


def update_profile(user_id: str, profile: Mapping[str, Any]) -> Call:
    return Call("POST", f"/api/v1/users/{segment(user_id)}", json={"profile": dict(profile)})


def lifecycle(user_id: str, operation: str, *, send_email: bool = False) -> Call:
    if operation not in LIFECYCLE:
        raise ValueError(f"unknown lifecycle operation {operation!r}")
    params = query(sendEmail=send_email) if operation in _EMAIL_LIFECYCLE else None
    return Call("POST", f"/api/v1/users/{segment(user_id)}/lifecycle/{operation}", params)


def clear_sessions(user_id: str, *, oauth_tokens: bool = True) -> Call:
    """``DELETE /api/v1/users/{id}/sessions``: end every Okta session of the user; with
    ``oauthTokens=true`` also revoke the OAuth tokens issued to them (Okta then emits
    ``user.session.clear``, which the BFF's event hook turns into ended BFF sessions)."""
    return Call("DELETE", f"/api/v1/users/{segment(user_id)}/sessions", query(oauthTokens=oauth_tokens))


def user_groups(user_id: str) -> Call:
    return Call("GET", f"/api/v1/users/{segment(user_id)}/groups")


def list_users(*, search: str | None = None, filter: str | None = None, q: str | None = None,
               limit: int | None = 200, after: str | None = None) -> Call:
    return Call("GET", "/api/v1/users", query(search=search, filter=filter, q=q, limit=limit, after=after))


# -- groups -----------------------------------------------------------------------------------

def list_groups(*, search: str | None = None, q: str | None = None, limit: int | None = 200,
                after: str | None = None) -> Call:
    return Call("GET", "/api/v1/groups", query(search=search, q=q, limit=limit, after=after))


def get_group(group_id: str) -> Call:
    return Call("GET", f"/api/v1/groups/{segment(group_id)}")


def group_users(group_id: str, *, limit: int | None = 200, after: str | None = None) -> Call:
    return Call("GET", f"/api/v1/groups/{segment(group_id)}/users", query(limit=limit, after=after))


def add_to_group(group_id: str, user_id: str) -> Call:
    return Call("PUT", f"/api/v1/groups/{segment(group_id)}/users/{segment(user_id)}")


def remove_from_group(group_id: str, user_id: str) -> Call:
    return Call("DELETE", f"/api/v1/groups/{segment(group_id)}/users/{segment(user_id)}")


__all__ = [
    "LIFECYCLE", "add_to_group", "clear_sessions", "create_user", "get_group", "get_user", "group_users",
    "lifecycle", "list_groups", "list_users", "query", "remove_from_group", "segment", "update_profile",
    "user_groups",
]

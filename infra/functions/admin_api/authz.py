"""Who is calling, and what they may touch: authorization inside the function (defence in
depth: API Gateway's authorizer, or the BFF for direct invokes, already checked the token).

The caller comes from ``requestContext.authorizer.jwt``: claims arrive as STRINGS (an array
such as ``adminGroups`` as ``"[acme-sales acme-support]"``; a JSON array string is accepted
too) and ``scopes`` may be null, so ``scp``/``scope`` are read as well. Group names therefore
must not contain spaces (Okta group names used as admin groups here never do).

Every action of the API goes through ONE function, :func:`authorize` (``admin_api.app``
registers routes only through ``admin_route``, which calls it before the handler runs;
tests/unit/functions/admin_api/test_authz.py enumerates the resolver's routes to prove it). It
knows every action by name (:data:`ACTIONS`, fail-closed for any other) and the role each needs;
the rules that depend on the target (who the user is) are :meth:`Caller.may_manage`, which the
service applies to every change of a user: deactivate, reactivate, roles, and the review
decisions (a reject deactivates the user).

Rules:
- the ``admin`` scope and an ``orgId`` are required; ``adminRole`` must be ``org_admin`` or
  ``group_admin``; anything else is 403;
- role changes (``roles.assign``, ``roles.remove``) are for org admins only;
- nobody changes their own account or decides their own review; a group admin never acts on
  another administrator (deactivate, reactivate, approve or reject their review);
- an org admin acts on users and groups of their own ``orgId`` only;
- a group admin acts only on users who belong to one of their ``adminGroups`` (groups of their
  own org), and never on another administrator;
- a user, group or review of another org does not exist for the caller (404), as does a user
  outside a group admin's groups;
- invitations (invite, list, revoke) are an org admin's, into their own ``orgId`` only: a group
  admin gets 403 (an invitation grants membership of the whole organisation, not of a group).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ORG_ADMIN = "org_admin"
GROUP_ADMIN = "group_admin"
ADMIN_ROLES = (ORG_ADMIN, GROUP_ADMIN)
ADMIN_SCOPE = "admin"


class Denied(Exception):
    """The caller may not do this at all (403)."""


ANY_ADMIN = "any_admin"
#: Every action of the admin API and the role it needs (beyond the admin scope and a role).
ACTIONS: dict[str, str] = {
    "users.list": ANY_ADMIN,
    "users.get": ANY_ADMIN,
    "users.deactivate": ANY_ADMIN,
    "users.reactivate": ANY_ADMIN,
    "users.revoke_sessions": ANY_ADMIN,
    "roles.assign": ORG_ADMIN,
    "roles.remove": ORG_ADMIN,
    "groups.list": ANY_ADMIN,
    "reviews.list": ANY_ADMIN,
    "reviews.get": ANY_ADMIN,
    "reviews.approve": ANY_ADMIN,
    "reviews.reject": ANY_ADMIN,
    "invitations.list": ORG_ADMIN,
    "invitations.issue": ORG_ADMIN,
    "invitations.revoke": ORG_ADMIN,
}


def parse_list_claim(value: Any) -> tuple[str, ...]:
    """A claim that is an array in the token, as the authorizer hands it on."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v))
    text = str(value).strip()
    if not text:
        return ()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return tuple(str(v) for v in parsed if str(v))
        text = text[1:-1]
    return tuple(part for part in text.split() if part)


@dataclass(frozen=True)
class Caller:
    login: str
    user_id: str | None
    org_id: str
    role: str
    admin_groups: tuple[str, ...]

    @property
    def is_org_admin(self) -> bool:
        return self.role == ORG_ADMIN

    @classmethod
    def from_authorizer(cls, jwt: Mapping[str, Any] | None) -> Caller:
        """From ``requestContext.authorizer.jwt`` (``{"claims": {...}, "scopes": [...] | null}``)."""
        if not jwt or not isinstance(jwt.get("claims"), Mapping):
            raise Denied("no authorizer claims")
        claims: Mapping[str, Any] = jwt["claims"]
        scopes = set(parse_list_claim(jwt.get("scopes")))
        scopes |= set(parse_list_claim(claims.get("scp")))
        scope_claim = claims.get("scope")
        if isinstance(scope_claim, str):
            scopes |= set(scope_claim.split())
        if ADMIN_SCOPE not in scopes:
            raise Denied("the admin scope is required")
        org_id = str(claims.get("orgId") or "").strip()
        if not org_id:
            raise Denied("no organisation in the token")
        role = str(claims.get("adminRole") or "").strip()
        if role not in ADMIN_ROLES:
            raise Denied("an administrator role is required")
        groups = parse_list_claim(claims.get("adminGroups")) if role == GROUP_ADMIN else ()
        login = str(claims.get("sub") or "").strip()
        if not login:
            raise Denied("no subject in the token")
        return cls(login=login, user_id=str(claims.get("uid") or "") or None, org_id=org_id, role=role,
                   admin_groups=groups)

    # ------------------------------------------------------------------------------ rules

    def owns_org(self, org_id: Any) -> bool:
        return isinstance(org_id, str) and org_id == self.org_id

    def is_self(self, user: Mapping[str, Any]) -> bool:
        profile = user.get("profile") or {}
        return (self.user_id is not None and user.get("id") == self.user_id) or \
            str(profile.get("login", "")).lower() == self.login.lower()

    def sees_user(self, user: Mapping[str, Any], user_group_names: Iterable[str] | None) -> bool:
        """May the caller see ``user`` (an Okta user object)? ``user_group_names`` are the names
        of the user's groups that belong to the caller's org (needed for group admins)."""
        profile = user.get("profile") or {}
        if not self.owns_org(profile.get("orgId")):
            return False
        if self.is_org_admin:
            return True
        return bool(set(user_group_names or ()) & set(self.admin_groups))

    def sees_group(self, group: Mapping[str, Any]) -> bool:
        profile = group.get("profile") or {}
        if not self.owns_org(profile.get("orgId")):
            return False
        return self.is_org_admin or profile.get("name") in self.admin_groups

    def may_manage(self, user: Mapping[str, Any]) -> None:
        """Lifecycle actions on a visible user: not yourself; a group admin never on an admin."""
        if self.is_self(user):
            raise Denied("administrators cannot change their own account here")
        profile = user.get("profile") or {}
        if not self.is_org_admin and profile.get("adminRole"):
            raise Denied("only an org admin can manage another administrator")

    def may_assign_roles(self) -> None:
        if not self.is_org_admin:
            raise Denied("only an org admin can assign or remove the group-admin role")

    def may_invite(self) -> None:
        if not self.is_org_admin:
            raise Denied("only an org admin can invite into, or manage the invitations of, the organisation")


def authorize(jwt: Mapping[str, Any] | None, action: str) -> Caller:
    """THE authorization of every admin action: who calls (from the authorizer's claims) and
    whether their role allows ``action`` at all; raises :class:`Denied` (403). An action this
    table does not know is denied (a new route cannot be forgotten open)."""
    needed = ACTIONS.get(action)
    if needed is None:
        raise Denied("unknown action")
    caller = Caller.from_authorizer(jwt)
    if needed == ORG_ADMIN and not caller.is_org_admin:
        raise Denied("only an org admin can assign or remove the group-admin role"
                     if action.startswith("roles.") else
                     "only an org admin can invite into, or manage the invitations of, the organisation")
    return caller

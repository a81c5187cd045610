"""What customer admins can do, over Okta's Management API and the manual-review queue.

Every operation takes the :class:`~admin_api.authz.Caller` and enforces the tenant rules of
:mod:`admin_api.authz` itself; routes in :mod:`admin_api.app` only parse input. Errors are
:class:`AdminError` subclasses (the app renders them as problem+json); Okta/Marketo internals
never reach the caller.

Data model (Okta): users carry ``profile.orgId`` (tenant), ``adminRole`` (``org_admin`` |
``group_admin`` | null) and ``adminGroups`` (group NAMES); groups carry ``profile.orgId``;
membership of the admins group (``ADMINS_GROUP``, default ``customer-admins``) is what makes
the authorization server grant the ``admin`` scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from admin_api.authz import GROUP_ADMIN, ORG_ADMIN, Caller
from bff.okta import OktaClient, OktaError, OktaNotFound, OktaRateLimited
from fnlib.invitations import BffInvitations, InvitationsError
from fnlib.marketo import MarketoClient, MarketoError
from fnlib.review import APPROVED, REJECTED, STATUSES, BadCursor, Review, ReviewConflict, ReviewRepository

#: Must match account_validation's lead source (tests/unit/functions/admin_api checks it).
LEAD_SOURCE = "Customer Portal registration"
OKTA_STATUSES = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT",
                 "SUSPENDED", "DEPROVISIONED")
_QUERY = re.compile(r"^[\w .@'+-]{1,100}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_GROUP_NAME = re.compile(r"^\S{1,255}$")
MAX_GROUPS = 50
_INVITATION_ID = re.compile(r"^[0-9a-f]{8,64}$")
EMAIL_MAX = 100


class AdminError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


class BadRequest(AdminError):
    status, code, title = 400, "bad_request", "Bad request"


class Forbidden(AdminError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(AdminError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(AdminError):
    status, code, title = 409, "conflict", "Conflict"


class Invalid(AdminError):
    status, code, title = 422, "validation_failed", "Validation failed"

    def __init__(self, errors: list[dict[str, str]], detail: str | None = None) -> None:
        super().__init__(detail or "One or more fields are invalid", errors=errors)


class BadGateway(AdminError):
    status, code, title = 502, "bad_gateway", "Upstream service failed"


class Unavailable(AdminError):
    status, code, title = 503, "unavailable", "Service temporarily unavailable"


@contextmanager
def upstream(what: str) -> Iterator[None]:
    """Convert Okta/Marketo failures at this boundary; nothing of theirs reaches the caller."""
    try:
        yield
    except OktaError as exc:
        if exc.retryable:  # rate limited, 5xx, timeout, unreachable
            retry = int(exc.retry_after) + 1 if isinstance(exc, OktaRateLimited) else 5
            raise Unavailable(f"{what} is temporarily unavailable; try again",
                              headers={"Retry-After": str(retry)}) from exc
        raise BadGateway(f"{what} failed") from exc
    except MarketoError as exc:
        if exc.retryable:
            raise Unavailable(f"{what} is temporarily unavailable; try again",
                              headers={"Retry-After": "30"}) from exc
        raise BadGateway(f"{what} failed") from exc


@contextmanager
def bff_invitations() -> Iterator[None]:
    """The BFF's answers as this API's problems: its field errors (422) pass, nothing else."""
    try:
        yield
    except InvitationsError as exc:
        if exc.status == 422:
            errors = exc.body.get("errors")
            safe = [{"field": str(e.get("field"))[:40], "code": str(e.get("code"))[:80]}
                    for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
            raise Invalid(safe or [{"field": "body", "code": "invalid"}]) from None
        if exc.status == 404:
            raise NotFound("No such invitation") from None
        if exc.status == 409:
            raise Conflict("The invitation was already used") from None
        if exc.retryable:
            raise Unavailable("Invitations are temporarily unavailable; try again",
                              headers={"Retry-After": "5"}) from None
        raise BadGateway("Invitations failed") from None


def _search_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def user_view(user: Mapping[str, Any], groups: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    p = user.get("profile") or {}
    view: dict[str, Any] = {
        "id": user.get("id"),
        "status": user.get("status"),
        "login": p.get("login"),
        "email": p.get("email"),
        "firstName": p.get("firstName"),
        "lastName": p.get("lastName"),
        "orgId": p.get("orgId"),
        "adminRole": p.get("adminRole"),
        "adminGroups": list(p.get("adminGroups") or []),
        "complianceStatus": p.get("complianceStatus"),
        "created": user.get("created"),
        "lastLogin": user.get("lastLogin"),
    }
    if groups is not None:
        view["groups"] = groups
    return view


def group_view(group: Mapping[str, Any]) -> dict[str, Any]:
    p = group.get("profile") or {}
    return {"id": group.get("id"), "name": p.get("name"), "description": p.get("description") or ""}


@dataclass
class AdminService:
    okta: OktaClient
    reviews: ReviewRepository
    marketo: Callable[[], MarketoClient]  # built lazily: only approvals need it
    admins_group: str = "customer-admins"
    #: The BFF's invitation endpoints (fnlib.invitations); None: not configured (503).
    invitations: Callable[[], BffInvitations] | None = None

    # -------------------------------------------------------------------------- lookups

    def _org_groups(self, caller: Caller) -> list[dict[str, Any]]:
        with upstream("The directory"):
            groups = self.okta.all_groups(search=f"profile.orgId eq {_search_value(caller.org_id)}")
        return [g for g in groups if caller.owns_org((g.get("profile") or {}).get("orgId"))]

    def _admin_group_ids(self, caller: Caller) -> list[str]:
        return [str(g["id"]) for g in self._org_groups(caller)
                if (g.get("profile") or {}).get("name") in caller.admin_groups]

    def _user_org_groups(self, caller: Caller, user_id: str) -> list[dict[str, Any]]:
        with upstream("The directory"):
            groups = self.okta.user_groups(user_id)
        return [group_view(g) for g in groups if caller.owns_org((g.get("profile") or {}).get("orgId"))]

    def _visible_user(self, caller: Caller, user_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The user and their org groups, or NotFound (also for other orgs' users)."""
        if not user_id or len(user_id) > 100:
            raise NotFound("No such user")
        with upstream("The directory"):
            try:
                user = self.okta.get_user(user_id)
            except OktaNotFound:
                raise NotFound("No such user") from None
        if not caller.owns_org((user.get("profile") or {}).get("orgId")):
            raise NotFound("No such user")
        groups = self._user_org_groups(caller, str(user["id"]))
        if not caller.sees_user(user, [str(g["name"]) for g in groups]):
            raise NotFound("No such user")
        return user, groups

    def _group_member_ids(self, caller: Caller) -> set[str]:
        ids: set[str] = set()
        for gid in self._admin_group_ids(caller):
            with upstream("The directory"):
                ids.update(str(u["id"]) for u in self.okta.all_group_users(gid))
        return ids

    # -------------------------------------------------------------------------- users

    def list_users(self, caller: Caller, *, q: str | None, status: str | None, limit: int,
                   after: str | None) -> dict[str, Any]:
        errors = []
        if q is not None and not _QUERY.match(q):
            errors.append({"field": "q", "code": "invalid"})
        if status is not None and status not in OKTA_STATUSES:
            errors.append({"field": "status", "code": "invalid"})
        if after is not None and not _CURSOR.match(after):
            errors.append({"field": "after", "code": "invalid"})
        if errors:
            raise Invalid(errors)
        if caller.is_org_admin:
            expr = f"profile.orgId eq {_search_value(caller.org_id)}"
            if q:
                v = _search_value(q.strip())
                expr += (f" and (profile.firstName sw {v} or profile.lastName sw {v} or profile.email sw {v}"
                         f" or profile.login sw {v})")
            if status:
                expr += f" and status eq {_search_value(status)}"
            with upstream("The directory"):
                page = self.okta.list_users(search=expr, limit=limit, after=after)
            users = [u for u in page.items if caller.owns_org((u.get("profile") or {}).get("orgId"))]
            return {"users": [user_view(u) for u in users], "next": page.after}
        # group admin: the members of their groups, filtered and paged here
        members: dict[str, dict[str, Any]] = {}
        for gid in self._admin_group_ids(caller):
            with upstream("The directory"):
                for user in self.okta.all_group_users(gid):
                    if caller.owns_org((user.get("profile") or {}).get("orgId")):
                        members[str(user["id"])] = user
        needle = (q or "").strip().lower()

        def match(user: Mapping[str, Any]) -> bool:
            p = user.get("profile") or {}
            if status and user.get("status") != status:
                return False
            return not needle or any(str(p.get(a) or "").lower().startswith(needle)
                                     for a in ("firstName", "lastName", "email", "login"))

        ordered = sorted((u for u in members.values() if match(u)), key=lambda u: str(u["id"]))
        if after:
            ordered = [u for u in ordered if str(u["id"]) > after]
        page_users = ordered[:limit]
        more = len(ordered) > limit
        return {"users": [user_view(u) for u in page_users],
                "next": str(page_users[-1]["id"]) if more and page_users else None}

    def get_user(self, caller: Caller, user_id: str) -> dict[str, Any]:
        user, groups = self._visible_user(caller, user_id)
        return user_view(user, groups)

    def _refetch(self, caller: Caller, user_id: str) -> dict[str, Any]:
        return self.get_user(caller, user_id)

    def deactivate(self, caller: Caller, user_id: str) -> dict[str, Any]:
        user, _ = self._visible_user(caller, user_id)
        caller.may_manage(user)
        if user.get("status") == "DEPROVISIONED":
            raise Conflict("The user is already deactivated")
        with upstream("The directory"):
            self.okta.lifecycle(str(user["id"]), "deactivate")
        return self._refetch(caller, str(user["id"]))

    def revoke_sessions(self, caller: Caller, user_id: str) -> dict[str, Any]:
        """End every session of the user: Okta's "clear user sessions" with their OAuth tokens
        (``DELETE /api/v1/users/{id}/sessions?oauthTokens=true``). Okta then emits
        ``user.session.clear``, whose event hook ends the user's BFF sessions on every instance
        (bff.auth.revocation). The same tenancy and ``may_manage`` rules as deactivate."""
        user, _ = self._visible_user(caller, user_id)
        caller.may_manage(user)
        with upstream("The directory"):
            self.okta.clear_sessions(str(user["id"]), oauth_tokens=True)
        return {"userId": str(user["id"]), "sessionsRevoked": True}

    def reactivate(self, caller: Caller, user_id: str) -> dict[str, Any]:
        user, _ = self._visible_user(caller, user_id)
        caller.may_manage(user)
        status = user.get("status")
        operation = {"DEPROVISIONED": "activate", "SUSPENDED": "unsuspend"}.get(str(status))
        if operation is None:
            raise Conflict(f"The user is not deactivated (status {status})")
        with upstream("The directory"):
            self.okta.lifecycle(str(user["id"]), operation)
        return self._refetch(caller, str(user["id"]))

    def _admins_group_id(self) -> str:
        with upstream("The directory"):
            page = self.okta.list_groups(q=self.admins_group, limit=20)
        for group in page.items:
            if (group.get("profile") or {}).get("name") == self.admins_group:
                return str(group["id"])
        raise BadGateway("The administrators group is missing from the directory")

    def assign_group_admin(self, caller: Caller, user_id: str, body: Any) -> dict[str, Any]:
        caller.may_assign_roles()
        if not isinstance(body, dict):
            raise Invalid([{"field": "body", "code": "invalid"}], "A JSON object is required")
        errors = []
        role, groups = body.get("role", GROUP_ADMIN), body.get("groups")
        if role != GROUP_ADMIN:
            errors.append({"field": "role", "code": "invalid"})
        if not isinstance(groups, list) or not groups or len(groups) > MAX_GROUPS or \
                not all(isinstance(g, str) and _GROUP_NAME.match(g) for g in groups):
            errors.append({"field": "groups", "code": "invalid"})
        unknown = set(body) - {"role", "groups"}
        if unknown:
            errors.append({"field": sorted(unknown)[0], "code": "unknown"})
        if errors:
            raise Invalid(errors)
        assert isinstance(groups, list)
        names = list(dict.fromkeys(groups))
        user, _ = self._visible_user(caller, user_id)
        caller.may_manage(user)
        profile = user.get("profile") or {}
        if profile.get("adminRole") == ORG_ADMIN:
            raise Conflict("The user is an org admin; that role is managed outside this API")
        if user.get("status") == "DEPROVISIONED":
            raise Conflict("The user is deactivated")
        org_names = {str((g.get("profile") or {}).get("name")) for g in self._org_groups(caller)}
        missing = [n for n in names if n not in org_names]
        if missing:
            raise Invalid([{"field": "groups", "code": "unknown_group"}],
                          f"Not a group of your organisation: {', '.join(missing)}")
        admins = self._admins_group_id()
        with upstream("The directory"):
            self.okta.update_profile(str(user["id"]), {"adminRole": GROUP_ADMIN, "adminGroups": names})
            self.okta.add_to_group(admins, str(user["id"]))
        return self._refetch(caller, str(user["id"]))

    def remove_group_admin(self, caller: Caller, user_id: str) -> dict[str, Any]:
        caller.may_assign_roles()
        user, _ = self._visible_user(caller, user_id)
        caller.may_manage(user)
        role = (user.get("profile") or {}).get("adminRole")
        if role == ORG_ADMIN:
            raise Conflict("The user is an org admin; that role is managed outside this API")
        if role == GROUP_ADMIN or (user.get("profile") or {}).get("adminGroups"):
            admins = self._admins_group_id()
            with upstream("The directory"):
                self.okta.update_profile(str(user["id"]), {"adminRole": None, "adminGroups": None})
                self.okta.remove_from_group(admins, str(user["id"]))
        return self._refetch(caller, str(user["id"]))

    # -------------------------------------------------------------------------- groups

    def list_groups(self, caller: Caller) -> dict[str, Any]:
        groups = [g for g in self._org_groups(caller) if caller.sees_group(g)]
        return {"groups": sorted((group_view(g) for g in groups), key=lambda g: str(g["name"]))}

    # -------------------------------------------------------------------------- invitations

    def _bff(self) -> BffInvitations:
        if self.invitations is None:
            raise Unavailable("Invitations are not configured (BFF_INTERNAL_URL, BFF_INVITATIONS_SECRET)")
        return self.invitations()

    def invite(self, caller: Caller, body: Any) -> dict[str, Any]:
        """Invite one address into the caller's organisation. The answer carries the code,
        shown once (the BFF keeps only its hash)."""
        caller.may_invite()
        if not isinstance(body, dict):
            raise Invalid([{"field": "body", "code": "invalid"}], "A JSON object is required")
        errors = [{"field": str(k)[:40], "code": "unknown"} for k in sorted(set(body) - {"email"})[:5]]
        email = body.get("email")
        if not isinstance(email, str) or not email.strip():
            errors.append({"field": "email", "code": "required"})
        elif len(email) > EMAIL_MAX:
            errors.append({"field": "email", "code": "tooLong"})
        if errors:
            raise Invalid(errors)
        assert isinstance(email, str)
        with bff_invitations():
            return self._bff().issue(caller.org_id, email, invited_by=caller.login)

    def list_invitations(self, caller: Caller) -> dict[str, Any]:
        caller.may_invite()
        with bff_invitations():
            return self._bff().list(caller.org_id)

    def revoke_invitation(self, caller: Caller, invitation_id: str) -> dict[str, Any]:
        caller.may_invite()
        if not _INVITATION_ID.match(invitation_id or ""):
            raise NotFound("No such invitation")
        with bff_invitations():
            return self._bff().revoke(caller.org_id, invitation_id, revoked_by=caller.login)

    # -------------------------------------------------------------------------- reviews

    def list_reviews(self, caller: Caller, *, status: str | None, limit: int,
                     cursor: str | None) -> dict[str, Any]:
        if status not in (*STATUSES, "all", None):
            raise Invalid([{"field": "status", "code": "invalid"}])
        if cursor is not None and not _CURSOR.match(cursor):
            raise Invalid([{"field": "cursor", "code": "invalid"}])
        wanted = None if status == "all" else (status or "pending")
        try:
            items, next_cursor = self.reviews.list_by_org(caller.org_id, status=wanted, limit=limit,
                                                          cursor=cursor)
        except BadCursor:
            raise Invalid([{"field": "cursor", "code": "invalid"}]) from None
        if not caller.is_org_admin:
            members = self._group_member_ids(caller)
            items = [r for r in items if r.user_id in members]
        return {"reviews": [r.public() for r in items], "next": next_cursor}

    def _visible_review(self, caller: Caller, review_id: str) -> Review:
        if not review_id or len(review_id) > 200:
            raise NotFound("No such review")
        review = self.reviews.get(caller.org_id, review_id)  # keyed by the caller's org: no crossing
        if review is None:
            raise NotFound("No such review")
        if not caller.is_org_admin and review.user_id not in self._group_member_ids(caller):
            raise NotFound("No such review")
        return review

    def get_review(self, caller: Caller, review_id: str) -> dict[str, Any]:
        return self._visible_review(caller, review_id).public()

    def _review_subject(self, review: Review) -> dict[str, Any]:
        """The user a review is about, for :meth:`Caller.may_manage` (the directory's view; the
        review's own copy when the user is gone from the directory)."""
        with upstream("The directory"):
            try:
                return self.okta.get_user(review.user_id)
            except OktaNotFound:
                return {"id": review.user_id, "profile": {"login": review.login}}

    def decide(self, caller: Caller, review_id: str, decision: str) -> dict[str, Any]:
        review = self._visible_review(caller, review_id)
        # The same rule as deactivate (a reject deactivates): not your own review, and a group
        # admin never decides on another administrator's.
        caller.may_manage(self._review_subject(review))
        if review.status != "pending":
            raise Conflict(f"The review was already {review.status}", review=review.public())
        try:
            self.reviews.claim(caller.org_id, review.review_id, decision, caller.login)
        except ReviewConflict as exc:
            current = exc.review.public() if exc.review else None
            raise Conflict("The review is already decided or being decided", review=current) from None
        try:
            if decision == APPROVED:
                self._approve_effects(caller, review)
            else:
                self._reject_effects(caller, review)
        except BaseException:
            self.reviews.release(caller.org_id, review.review_id, decision)  # stays pending: retry
            raise
        try:
            decided = self.reviews.decide(caller.org_id, review.review_id, decision, caller.login,
                                          by_id=caller.user_id, role=caller.role)
        except ReviewConflict as exc:
            current = exc.review.public() if exc.review else None
            raise Conflict("The review was decided concurrently", review=current) from None
        return decided.public()

    def _approve_effects(self, caller: Caller, review: Review) -> None:
        with upstream("The directory"):
            try:
                self.okta.update_profile(review.user_id, {"complianceStatus": "passed"})
                user = self.okta.get_user(review.user_id)
            except OktaNotFound:
                raise Conflict("The user no longer exists; reject the review instead") from None
        p = user.get("profile") or {}
        with upstream("The marketing system"):
            self.marketo().upsert_lead(str(p.get("email") or review.email or review.login),
                                       str(p.get("firstName") or review.first_name),
                                       str(p.get("lastName") or review.last_name),
                                       {"leadSource": LEAD_SOURCE, "oktaUserId": review.user_id})

    def _reject_effects(self, caller: Caller, review: Review) -> None:
        with upstream("The directory"):
            try:
                self.okta.update_profile(review.user_id, {"complianceStatus": "rejected"})
                user = self.okta.get_user(review.user_id)
            except OktaNotFound:
                return  # already gone from the directory: nothing left to deactivate
            if user.get("status") != "DEPROVISIONED":
                self.okta.lifecycle(review.user_id, "deactivate")


__all__ = ["APPROVED", "REJECTED", "AdminError", "AdminService"]

"""The admin API's client of the BFF's invitation endpoints (``/bff/internal/invitations``,
bff/signup/invitation_endpoints.py).

Why through the BFF: the invitation records live in the BFF's session store (memory, SQLite,
Redis or DynamoDB, each record encrypted with the BFF's keys), which a Lambda function cannot
read; sharing the store and the keys with the function would widen what it holds for three
small actions. So the admin API authorizes the admin (org admin, own organisation) and then
calls the BFF server to server, with ``Authorization: Bearer <BFF_INVITATIONS_SECRET>``.

Errors: :class:`InvitationsError` with the BFF's status and problem body; a transport failure is
status 0. The admin service maps them to its own problems (nothing of the BFF's reaches the
admin's browser but the field errors of a 422).
"""

from __future__ import annotations

from typing import Any

import httpx


class InvitationsError(Exception):
    def __init__(self, status: int, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"BFF invitations answered {status}")
        self.status = status
        self.body = body or {}

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


class BffInvitations:
    def __init__(self, base_url: str, secret: str, *, http: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.http = http

    def _call(self, method: str, path: str, *, json: Any = None,
              params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            resp = self.http.request(method, f"{self.base_url}/bff/internal/invitations{path}", json=json,
                                     params=params, headers={"Authorization": f"Bearer {self.secret}"})
        except httpx.HTTPError:
            raise InvitationsError(0) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 300 or not isinstance(body, dict):
            raise InvitationsError(resp.status_code, body if isinstance(body, dict) else None)
        return body

    def issue(self, org_id: str, email: str, *, invited_by: str) -> dict[str, Any]:
        return self._call("POST", "", json={"orgId": org_id, "email": email, "invitedBy": invited_by})

    def list(self, org_id: str) -> dict[str, Any]:
        return self._call("GET", "", params={"orgId": org_id})

    def revoke(self, org_id: str, invitation_id: str, *, revoked_by: str) -> dict[str, Any]:
        return self._call("POST", f"/{invitation_id}/revoke", json={"orgId": org_id, "revokedBy": revoked_by})

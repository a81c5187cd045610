"""Okta's two error shapes, raised inside the twin's endpoints and drawn in one place each.

::

    TwinError
     +-- OAuthError   OAuth/OIDC endpoints: {"error", "error_description"} (RFC 6749 section 5.2)
     +-- ApiError     Management API: {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TwinError(Exception):
    status: int = 400


class OAuthError(TwinError):
    """An OAuth error answered as JSON (token, revoke, introspect, userinfo endpoints)."""

    def __init__(self, error: str, description: str, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        headers = {**NO_STORE, **self.headers}
        if self.status == 401 and "WWW-Authenticate" not in headers and self.error == "invalid_client":
            headers["WWW-Authenticate"] = 'Basic realm="Okta"'
        return JSONResponse({"error": self.error, "error_description": self.description},
                            status_code=self.status, headers=headers)


#: Okta's API error catalogue (the subset the twin speaks): code -> (status, summary).
API_ERRORS: dict[str, tuple[int, str]] = {
    "E0000001": (400, "Api validation failed: {0}"),
    "E0000003": (400, "The request body was not well-formed."),
    "E0000005": (400, "Invalid session"),
    "E0000006": (403, "You do not have permission to perform the requested action"),
    "E0000007": (404, "Not found: {0}"),
    "E0000009": (500, "Internal Server Error"),
    "E0000011": (401, "Invalid token provided"),
    "E0000015": (403, "You do not have permission to access the feature you are requesting"),
    "E0000016": (403, "Activation failed because the user is already active"),
    "E0000022": (405, "The endpoint does not support the provided HTTP method"),
    "E0000031": (400, "Invalid search criteria."),
    "E0000038": (403, "This operation is not allowed in the user's current status."),
    "E0000047": (429, "API call exceeded rate limit due to too many requests."),
    "E0000095": (400, "Recovery not allowed for unknown user."),
}


class ApiError(TwinError):
    """A Management API error in Okta's shape."""

    def __init__(self, code: str, detail: str = "", *, causes: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        status, summary = API_ERRORS[code]
        self.code = code
        self.status = status
        self.summary = summary.format(detail) if "{0}" in summary else summary
        self.causes = causes or []
        self.headers = headers or {}
        super().__init__(f"{code}: {self.summary}")

    def body(self) -> dict[str, Any]:
        return api_error_body(self.code, self.summary, self.causes)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def api_error_body(code: str, summary: str | None = None, causes: list[str] | None = None) -> dict[str, Any]:
    if summary is None:
        template = API_ERRORS.get(code, (0, code))[1]
        summary = template.replace(": {0}", "").replace("{0}", "")
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae" + secrets.token_urlsafe(16).replace("-", "A").replace("_", "B")[:19],
        "errorCauses": [{"errorSummary": c} for c in (causes or [])],
    }

"""HTML pages of the twin (sign-in, registration, errors), rendered with autoescaping Jinja2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from bff_dev.twins.okta.model import AuthRequest

TEMPLATES = Path(__file__).parent / "templates"
PAGE_HEADERS = {
    "Cache-Control": "no-cache, no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class Pages:
    def __init__(self, issuer: str, base_url: str) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        self.issuer = issuer
        self.base_url = base_url

    def render(self, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        html = self.env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def signin(self, state_token: str, req: AuthRequest, *, username: str = "", error: str | None = None,
               status: int = 200, otp: bool = False) -> HTMLResponse:
        return self.render("signin.html", {
            "otp": otp,
            "action": f"{self.issuer}/v1/authorize",
            "state_token": state_token,
            "username": username,
            "error": error,
            "idp": req.idp,
            "app_name": req.client.name or req.client.client_id,
            "register_url": f"{self.base_url}/signin/register?stateToken={state_token}",
        }, status)

    def error(self, status: int, error: str, description: str) -> HTMLResponse:
        titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
        return self.render("error.html", {"status": status, "title": titles.get(status, "Error"),
                                          "error": error, "description": description}, status)

    def form_post(self, action: str, fields: Sequence[tuple[str, str]]) -> HTMLResponse:
        return self.render("form_post.html", {"action": action, "fields": fields})

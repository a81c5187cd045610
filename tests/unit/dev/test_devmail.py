"""/__dev/mail: parsing moto's SES outbox, content negotiation, mounted only by the dev stack."""

from __future__ import annotations

from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import create_app
from bff.errors import install_error_handlers
from bff.settings import Settings
from bff_dev.devmail import parse_moto_ses, routes
from tests.support.env import base_env

MOTO = "http://127.0.0.1:9"


def raw_message(to: str, subject: str, text: str, html: str) -> str:
    msg = EmailMessage()
    msg["From"] = "no-reply@acme.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Thu, 26 Nov 2026 10:00:00 +0000"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_string()


DATA = {
    "ses": {
        "RawMessage": [
            {
                "id": "r1",
                "source": "no-reply@acme.test",
                "destinations": ["a@x.test"],
                "raw_data": raw_message("a@x.test", "Hé a", "texte", "<p>a</p>"),
            },
            {
                "id": "r2",
                "source": "no-reply@acme.test",
                "destinations": ["b@x.test"],
                "raw_data": raw_message("b@x.test", "Subject b", "text b", "<p>b<script>x()</script></p>"),
            },
        ],
        "Message": [
            {
                "id": "s1",
                "source": "x@acme.test",
                "subject": "Simple",
                "body": "plain body",
                "destinations": {"ToAddresses": ["c@x.test"]},
            }
        ],
    }
}


def test_parse_raw_and_simple_messages_newest_first() -> None:
    mails = parse_moto_ses(DATA)
    assert [m.id for m in mails] == ["s1", "r2", "r1"]
    r1 = mails[2]
    assert (r1.to, r1.subject, r1.text.strip(), r1.html.strip(), r1.sentAt) == (
        "a@x.test",
        "Hé a",
        "texte",
        "<p>a</p>",
        "2026-11-26T10:00:00Z",
    )
    assert mails[0].text == "plain body" and mails[0].html == "" and mails[0].sentAt is None
    assert set(r1.as_json()) == {"id", "to", "subject", "text", "html", "sentAt", "from"}
    assert parse_moto_ses({}) == []


def paths(app: Starlette) -> set[str]:
    return {str(getattr(r, "path", "")) for r in app.routes}


def test_mounted_only_when_the_dev_stack_passes_them() -> None:
    assert {str(getattr(r, "path", "")) for r in routes(MOTO)} == {"/__dev/mail",
                                                                   "/__dev/mail/{mail_id}/html"}
    # The product never mounts them itself, in dev mode or not (BFF_DEV_MAIL_URL means nothing to it).
    for settings in (Settings.from_env(base_env(BFF_DEV_MAIL_URL=MOTO)),
                     Settings.from_env(base_env(BFF_DEV_MAIL_URL=MOTO), dev=True)):
        assert not any(path.startswith("/__dev") for path in paths(create_app(settings)))
    dev_app = create_app(Settings.from_env(base_env(), dev=True), extra_routes=routes(MOTO))
    assert {"/__dev/mail", "/__dev/mail/{mail_id}/html"} <= paths(dev_app)


@pytest.fixture
async def client() -> Any:
    def moto(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == f"{MOTO}/moto-api/data.json"
        return httpx.Response(200, json=DATA)

    app = Starlette(routes=routes(MOTO))
    install_error_handlers(app)
    app.state.services = SimpleNamespace(http=httpx.AsyncClient(transport=httpx.MockTransport(moto)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff.test") as c:
        yield c


async def test_json_for_programs(client: httpx.AsyncClient) -> None:
    resp = await client.get("/__dev/mail", headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert [m["to"] for m in body] == ["c@x.test", "b@x.test", "a@x.test"]
    assert body[2]["subject"] == "Hé a" and body[2]["sentAt"] == "2026-11-26T10:00:00Z"


async def test_html_for_people_with_escaped_fields_and_sandboxed_frames(client: httpx.AsyncClient) -> None:
    resp = await client.get("/__dev/mail", headers={"Accept": "text/html,application/json;q=0.9"})
    assert resp.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    assert "<script>" not in resp.text and 'src="/__dev/mail/r2/html"' in resp.text and "sandbox" in resp.text
    frame = await client.get("/__dev/mail/r2/html")
    assert frame.status_code == 200 and frame.headers["content-security-policy"].startswith("sandbox;")
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"


async def test_unknown_mail_is_a_problem_404(client: httpx.AsyncClient) -> None:
    resp = await client.get("/__dev/mail/nope/html")
    assert resp.status_code == 404 and resp.headers["content-type"] == "application/problem+json"
    assert (await client.get("/__dev/mail/s1/html")).status_code == 404  # no HTML part


async def test_moto_down_is_a_problem_503() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    app = Starlette(routes=routes(MOTO))
    install_error_handlers(app)
    app.state.services = SimpleNamespace(http=httpx.AsyncClient(transport=httpx.MockTransport(down)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff.test") as c:
        resp = await c.get("/__dev/mail", headers={"Accept": "application/json"})
    assert resp.status_code == 503 and resp.headers["content-type"] == "application/problem+json"

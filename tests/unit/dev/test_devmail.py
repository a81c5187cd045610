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
from bff_dev.devmail import idx_outbox_mail, parse_moto_ses, routes
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


async def test_the_okta_twins_codes_are_listed_with_the_emails() -> None:
    def moto(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=DATA)

    outbox = [
        {"to": "dave@acme.test", "channel": "email", "subject": "Sign in", "code": "123456",
         "link": "http://localhost:8000/bff/signin/email-callback?state=s&otp=123456",
         "text": "Your sign-in code is 123456", "sentAt": "2026-11-26T09:00:00.000Z"},
        {"to": "+15550100199", "channel": "sms", "subject": "SMS", "code": "654321", "link": "",
         "text": "Your verification code is 654321", "sentAt": "2026-11-26T11:00:00.000Z"},
    ]
    sources = [lambda: idx_outbox_mail(outbox)]
    app = Starlette(routes=routes(MOTO, sources))
    install_error_handlers(app)
    app.state.services = SimpleNamespace(http=httpx.AsyncClient(transport=httpx.MockTransport(moto)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff.test") as c:
        body = (await c.get("/__dev/mail", headers={"Accept": "application/json"})).json()
        # newest first across senders (moto's undated c keeps its place): the SMS (11:00) before
        # moto's 10:00 ones, the email (09:00) last
        assert [m["to"] for m in body] == ["c@x.test", "+15550100199", "b@x.test", "a@x.test",
                                           "dave@acme.test"]
        assert body[1]["text"] == "Your verification code is 654321" and body[1]["subject"] == "SMS"
        assert body[1]["from"] == "Okta (twin) sms" and body[1]["sentAt"] == "2026-11-26T11:00:00.000Z"
        outbox.append({"to": "paula@acme.test", "channel": "email", "subject": "Sign in", "code": "1",
                       "link": "", "text": "later", "sentAt": "2026-11-26T12:00:00.000Z"})
        page = await c.get("/__dev/mail")  # read at each request
        assert "paula@acme.test" in page.text and "Your verification code is 654321" in page.text

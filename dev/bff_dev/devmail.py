"""``/__dev/mail``: the emails SES "sent" in ``bff dev`` (read from moto), and the sign-in codes
the Okta twin "sent" by email, SMS or voice call (its IDX outbox), for people and tests.

Mounted in the BFF by the dev stack only: the AWS dev part (:mod:`bff_dev.twins.aws.dev`) adds
these routes for ``create_app(settings, extra_routes=...)``; the product never imports them.

- ``GET /__dev/mail`` with ``Accept: application/json`` →
  ``[{"to","subject","text","html","sentAt","from","id"}]``, newest first;
  otherwise an HTML page listing them (each email's HTML in a sandboxed frame).
- ``GET /__dev/mail/{id}/html`` → that email's HTML alone, under a ``sandbox`` CSP (no scripts,
  no network) so the list page can frame it.

Other senders plug in as *mail sources* (callables answering :class:`SentMail` lists): the Okta
part adds the twin's IDX outbox (:func:`idx_outbox_mail`: ``to`` is the email address or the
phone number, ``subject`` ``Sign in`` / ``SMS`` / ``Voice call``, the code in ``text``). The
list is newest first by ``sentAt`` (an entry without one keeps its place among its sender's).

moto keeps SES's outbox as ``RawMessage`` (MIME, as sent by the welcome email: both parts and the
``Date`` header survive) and ``Message`` (``send_email`` with ``Simple`` content: moto keeps a
single body, the HTML one if present, and no timestamp). When the moto server runs in this
process (``bff dev``) its SES backends are read directly; otherwise ``GET /moto-api/data.json``
(which serialises every backend and fails now and then while DynamoDB tables change: retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html import escape
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff.errors import NotFound, Unavailable


@dataclass(frozen=True)
class SentMail:
    id: str
    to: str
    subject: str
    text: str
    html: str
    sentAt: str | None  # noqa: N815 - the JSON field name
    sender: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("sender")
        return data


#: Another sender of ``bff dev`` whose messages the page lists (the Okta twin's IDX outbox).
MailSource = Callable[[], list["SentMail"]]


def idx_outbox_mail(outbox: Sequence[dict[str, str]]) -> list[SentMail]:
    """The Okta twin's IDX outbox (email codes and magic links, SMS and voice codes) as mail,
    oldest first (as the outbox keeps them)."""
    out: list[SentMail] = []
    for i, item in enumerate(outbox):
        channel = item.get("channel", "email")
        out.append(SentMail(id=f"okta-idx-{i}", to=item.get("to", ""), subject=item.get("subject", ""),
                            text=item.get("text") or f"code {item.get('code', '')} {item.get('link', '')}",
                            html="", sentAt=item.get("sentAt"), sender=f"Okta (twin) {channel}"))
    return out


def _merge_newest_first(a: list[SentMail], b: list[SentMail]) -> list[SentMail]:
    """Merge two newest-first lists; a mail without ``sentAt`` keeps its place in its own list."""
    out: list[SentMail] = []
    i = j = 0
    while i < len(a) and j < len(b):
        first, second = a[i].sentAt, b[j].sentAt
        if first is None or (second is not None and first >= second):
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out + a[i:] + b[j:]


def _iso(date_header: str | None) -> str | None:
    if not date_header:
        return None
    try:
        parsed = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    return parsed.isoformat().replace("+00:00", "Z")


def _part(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def _raw_mail(item: dict[str, Any]) -> SentMail:
    msg = email.message_from_string(str(item.get("raw_data", "")), policy=email.policy.default)
    to = str(msg.get("To") or ", ".join(str(d) for d in item.get("destinations") or []))
    return SentMail(id=str(item.get("id", "")), to=to, subject=str(msg.get("Subject", "")),
                    text=_part(msg, "plain"), html=_part(msg, "html"), sentAt=_iso(msg.get("Date")),
                    sender=str(msg.get("From") or item.get("source", "")))


def _simple_mail(item: dict[str, Any]) -> SentMail:
    body = str(item.get("body", ""))
    is_html = "<" in body and ">" in body
    destinations = item.get("destinations") or {}
    to = ", ".join(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else ""
    return SentMail(id=str(item.get("id", "")), to=to, subject=str(item.get("subject", "")),
                    text="" if is_html else body, html=body if is_html else "", sentAt=None,
                    sender=str(item.get("source", "")))


def parse_moto_ses(data: dict[str, Any]) -> list[SentMail]:
    """The sent emails in moto's ``/moto-api/data.json`` document, newest first."""
    ses = data.get("ses") or {}
    mails = [_raw_mail(item) for item in ses.get("RawMessage") or [] if isinstance(item, dict)]
    mails += [_simple_mail(item) for item in ses.get("Message") or [] if isinstance(item, dict)]
    return list(reversed(mails))


def _in_process_outbox(moto_url: str) -> dict[str, Any] | None:
    """The SES models of this process's moto backends, shaped like ``data.json``'s ``ses``
    section; None when ``moto_url`` is not a moto server of this process."""
    try:
        from moto.ses.models import RawMessage, ses_backends

        from bff_dev.twins.aws.server import running_in_process
    except ImportError:
        return None
    if not running_in_process(moto_url):
        return None
    raw: list[dict[str, Any]] = []
    simple: list[dict[str, Any]] = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            for msg in list(backend.sent_messages):
                if isinstance(msg, RawMessage):
                    raw.append({"id": msg.id, "source": msg.source, "destinations": msg.destinations,
                                "raw_data": msg.raw_data})
                elif hasattr(msg, "subject") and hasattr(msg, "body"):
                    simple.append({"id": msg.id, "source": msg.source, "subject": msg.subject,
                                   "body": msg.body, "destinations": msg.destinations})
    return {"ses": {"RawMessage": raw, "Message": simple}}


async def fetch_sent_mail(moto_url: str, http: httpx.AsyncClient | None = None) -> list[SentMail]:
    """The emails moto's SES has "sent", newest first (raises ``Unavailable`` if moto is down)."""
    local = _in_process_outbox(moto_url)
    if local is not None:
        return parse_moto_ses(local)
    url = f"{moto_url.rstrip('/')}/moto-api/data.json"
    async with contextlib.AsyncExitStack() as stack:
        client = http if http is not None else await stack.enter_async_context(httpx.AsyncClient())
        for attempt in range(3):
            try:
                resp = await client.get(url, timeout=10.0)
                if resp.status_code >= 500 and attempt < 2:
                    await asyncio.sleep(0.1)
                    continue
                resp.raise_for_status()
                data = resp.json()
                break
            except (httpx.HTTPError, ValueError) as exc:
                raise Unavailable("The local SES outbox (moto) cannot be read.") from exc
    return parse_moto_ses(data if isinstance(data, dict) else {})


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if "application/json" not in accept:
        return False
    return "text/html" not in accept or accept.index("application/json") < accept.index("text/html")


_PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; base-uri 'none'; "
             "form-action 'none'; frame-ancestors 'none'")
_MAIL_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
_NO_STORE = {"Cache-Control": "no-store"}


def _page(mails: list[SentMail]) -> str:
    rows = []
    for mail in mails:
        frame = (f'<iframe sandbox title="HTML part" src="/__dev/mail/{escape(mail.id)}/html"></iframe>'
                 if mail.html else "<p><em>no HTML part</em></p>")
        rows.append(
            f"<details><summary><time>{escape(mail.sentAt or '')}</time> <b>{escape(mail.to)}</b> "
            f"{escape(mail.subject)}</summary>{frame}<pre>{escape(mail.text) or '(no text part)'}</pre>"
            "</details>"
        )
    body = "\n".join(rows) or "<p>No email has been sent yet.</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Dev mail</title><style>'
        "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
        "summary{cursor:pointer;padding:.5rem 0}time{color:#666;margin-right:.5rem}"
        "iframe{width:100%;height:28rem;border:1px solid #ccc}pre{white-space:pre-wrap;background:#f6f6f6;"
        "padding:1rem}</style></head><body>"
        f"<h1>Emails sent through SES (moto) <small>({len(mails)})</small></h1>{body}</body></html>"
    )


def routes(moto_url: str, sources: Sequence[MailSource] = ()) -> list[BaseRoute]:
    """The ``/__dev/mail`` routes, reading SES's outbox from the moto server at ``moto_url``
    and every source in ``sources`` (read at each request: a part started later may append
    to the sequence it was given)."""

    async def all_mail(request: Request) -> list[SentMail]:
        mails = await fetch_sent_mail(moto_url, http_client(request))
        for source in sources:
            mails = _merge_newest_first(mails, list(reversed(source())))
        return mails

    def http_client(request: Request) -> httpx.AsyncClient | None:
        client = getattr(getattr(request.app.state, "services", None), "http", None)
        return client if isinstance(client, httpx.AsyncClient) else None

    async def index(request: Request) -> Response:
        mails = await all_mail(request)
        if _wants_json(request):
            return JSONResponse([m.as_json() for m in mails], headers=_NO_STORE)
        return HTMLResponse(_page(mails), headers={**_NO_STORE, "Content-Security-Policy": _PAGE_CSP})

    async def one_html(request: Request) -> Response:
        wanted = request.path_params["mail_id"]
        for mail in await all_mail(request):
            if mail.id == wanted and mail.html:
                return HTMLResponse(mail.html, headers={**_NO_STORE, "Content-Security-Policy": _MAIL_CSP,
                                                        "X-Frame-Options": "SAMEORIGIN"})
        raise NotFound("No sent email has this id.")

    return [
        Route("/__dev/mail", index, methods=["GET"]),
        Route("/__dev/mail/{mail_id}/html", one_html, methods=["GET"]),
    ]

"""Logging: one line per event, with the request id, and a filter that redacts anything that
looks like a credential (bearer tokens, JWTs, cookies, SSWS tokens, passwords) before it is
written. Code should not log secrets in the first place; this is the safety net."""

from __future__ import annotations

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
#: The request's client address as the edge derived it (bff.http.client_ip), "-" outside requests.
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="-")

_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|ssws)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt redacted]"),
    (re.compile(r"(?i)(__Host-bff|cookie|set-cookie)([=:]\s*)[^;\s,]+"), r"\1\2[redacted]"),
    (re.compile(r"(?i)((?:access|refresh|id)_token|client_secret|password|code_verifier|"
                r"client_assertion|api[_-]?key|secret|x-bff-origin-verify)(\"?\s*[=:]\s*\"?)[^\"&\s,}]+"),
     r"\1\2[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.client_ip = client_ip_var.get()
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str) -> None:
    root = logging.getLogger("bff")
    root.setLevel(level)
    if any(isinstance(f, RedactingFilter) for f in root.filters):
        return
    root.addFilter(RedactingFilter())
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(
        "%(asctime)s %(levelname)s %(name)s rid=%(request_id)s client=%(client_ip)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.propagate = False

"""The BFF's trace context on an SQS record, and the function's work joined to it.

The BFF publishes ``AccountCreated`` inside its ``sns publish`` span and puts that span's W3C
trace context in the message attributes ``traceparent`` (and ``tracestate``); SNS raw delivery
copies them to every subscriber queue, so each SQS record carries them in
``messageAttributes``. The functions trace with Powertools' Tracer (X-Ray), the one choice for
all of them (docs/operations.md, "On Lambda"). X-Ray cannot re-parent the segment Lambda opens
for an SQS invocation, so each record's work is a subsegment ``## AccountCreated`` that names
the BFF's trace in X-Ray's own form: the annotation ``bff_trace_id`` (``1-<8 hex>-<24 hex>``,
the AWS X-Ray propagator's mapping of the W3C trace id, the same the BFF sends as
``X-Amzn-Trace-Id`` on a direct invoke; annotations are indexed, so
``annotation.bff_trace_id = "1-..."`` finds every subscriber's work for one sign-up) and the
metadata ``bff_parent_span_id``; the record's log lines carry ``bff_trace_id`` too.

A ``traceparent`` that is not exactly W3C's version ``00`` form (lower-case hex, non-zero ids)
is ignored: the record is processed without it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # 32 lower-case hex digits (W3C)
    parent_id: str  # 16 lower-case hex digits: the publisher's span
    sampled: bool

    @property
    def xray_trace_id(self) -> str:
        """The W3C trace id as X-Ray writes it: ``1-<first 8>-<other 24>``."""
        return f"1-{self.trace_id[:8]}-{self.trace_id[8:]}"


def parse(traceparent: str | None) -> TraceContext | None:
    """The context a well-formed W3C ``traceparent`` names, else None."""
    if not traceparent:
        return None
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return None
    trace_id, parent_id, flags = match.groups()
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return TraceContext(trace_id, parent_id, bool(int(flags, 16) & 1))


def from_record(message_attributes: Mapping[str, Any] | None) -> TraceContext | None:
    """The context in an SQS record's ``messageAttributes`` (Lambda's shape, or the parser
    model's: ``stringValue`` on a dict or an attribute), else None."""
    entry = (message_attributes or {}).get("traceparent")
    if entry is None:
        return None
    value = entry.get("stringValue") if isinstance(entry, Mapping) else getattr(entry, "stringValue", None)
    return parse(value if isinstance(value, str) else None)


@contextlib.contextmanager
def continued(tracer: Any, logger: Any, message_attributes: Mapping[str, Any] | None,
              name: str = "## AccountCreated") -> Iterator[TraceContext | None]:
    """Around one record's work: a subsegment of the Powertools ``tracer`` naming the BFF's
    trace (see the module docstring), and ``bff_trace_id`` on the ``logger``'s lines."""
    context = from_record(message_attributes)
    if context is None:
        yield None
        return
    logger.append_keys(bff_trace_id=context.trace_id)
    try:
        with tracer.provider.in_subsegment(name) as subsegment:
            subsegment.put_annotation("bff_trace_id", context.xray_trace_id)
            subsegment.put_metadata("bff_parent_span_id", context.parent_id)
            yield context
    finally:
        logger.remove_keys(["bff_trace_id"])

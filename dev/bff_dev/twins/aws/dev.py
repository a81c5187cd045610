"""The AWS part of ``bff dev`` (FIRST in DEV_PARTS): moto on ``ctx.ports.moto`` with the topology.

Adds to the BFF's environment ``BFF_ACCOUNT_TOPIC_ARN``, ``BFF_AWS_ENDPOINT_URL`` and
``BFF_AWS_REGION``, and to its routes ``/__dev/mail`` (:mod:`bff_dev.devmail`: the emails SES
"sent", read from moto, and what later parts add to ``ctx.info["mail_sources"]``); shares the
running :class:`~bff_dev.twins.aws.server.AwsTwin` as ``ctx.info["aws"]``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bff_dev import devmail
from bff_dev.twins.aws.server import start_aws
from bff_dev.twins.aws.topology import TopologySpec

if TYPE_CHECKING:
    from bff_dev.parts import DevContext

#: Shorter than the deployed 90 s so a failed message comes back quickly while developing.
DEV_VISIBILITY_TIMEOUT = 10


async def start(ctx: DevContext) -> list[str]:
    # boto3 in this process (the BFF's SNS publisher) needs some credentials; moto takes any.
    # Real ones already in the environment are left alone (they never leave loopback here).
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    region = ctx.env.get("BFF_AWS_REGION") or "eu-west-1"
    spec = TopologySpec(region=region, visibility_timeout=DEV_VISIBILITY_TIMEOUT)
    aws = await start_aws(ctx.stack, port=ctx.ports.moto, spec=spec)
    topo = aws.topology
    ctx.env.update({
        "BFF_ACCOUNT_TOPIC_ARN": topo.topic_arn,
        "BFF_AWS_ENDPOINT_URL": aws.endpoint_url,
        "BFF_AWS_REGION": topo.region,
    })
    # later parts add their senders (the Okta twin's sign-in codes) to ctx.info["mail_sources"]
    sources: list[devmail.MailSource] = ctx.info.setdefault("mail_sources", [])
    ctx.routes.extend(devmail.routes(aws.endpoint_url, sources))
    ctx.info["aws"] = aws
    queues = ", ".join(f"{q.name} (+dlq)" for q in topo.queues.values())
    return [
        f"AWS (moto)        {aws.endpoint_url}   topic {topo.topic_arn}",
        f"  queues: {queues}; maxReceiveCount {topo.max_receive_count}, "
        f"visibility {topo.visibility_timeout} s; tables {topo.review_table}, {topo.idempotency_table}; "
        f"SES sender {topo.sender}",
    ]

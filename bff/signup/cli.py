"""Operations commands of the registration area (wired into ``bff`` by bff/cli.py):

    bff invite ORG_ID [--email ADDRESS]     print an invitation code (BFF_SIGNUP_ORG=invitation)
    bff outbox                              entries per status and when the next retry is due
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bff.config import ConfigError
from bff.settings import Settings, load_environment
from bff.signup.invitations import Invitations
from bff.signup.outbox import open_outbox
from bff.signup.validation import Errors, check_email, org_slug


def _settings() -> Settings | None:
    try:
        return Settings.from_env(load_environment())
    except ConfigError as exc:
        for line in exc.lines:
            print(f"config error: {line}", file=sys.stderr)
        return None


def invite_cli(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    org = org_slug(args.org)
    if not org:
        print("the organisation id must contain letters or digits", file=sys.stderr)
        return 2
    email = None
    if args.email:
        errors = Errors()
        email = check_email(errors, args.email)
        if email is None:
            print(f"not a valid email address: {args.email!r}", file=sys.stderr)
            return 2
    invitations = Invitations(settings.secret_keys)
    print(invitations.issue(org, email))
    days = invitations.max_age // 86400
    print(f"(organisation {org!r}{', for ' + email if email else ''}; valid {days} days)", file=sys.stderr)
    return 0


def outbox_cli(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2

    async def report() -> int:
        outbox = open_outbox(settings.signup.outbox, region=settings.aws.region,
                             endpoint_url=settings.aws.endpoint_url)
        try:
            counts = await outbox.counts()
            due = await outbox.next_due_at()
        finally:
            await outbox.close()
        print(f"outbox {settings.signup.outbox}")
        print("  " + "  ".join(f"{k}={v}" for k, v in counts.items()))
        if due is not None:
            print(f"  next attempt in {max(0.0, due - time.time()):.0f}s")
        return 1 if counts.get("dead") else 0

    return asyncio.run(report())

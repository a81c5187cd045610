"""Operations commands of the registration area (wired into ``bff`` by bff/cli.py):

    bff invite EMAIL --org ORG [--ttl 7d] [--link]
                                            invite one address into an organisation (prints the
                                            code, or with --link the sign-in link to send)
    bff outbox                              entries per status and when the next retry is due
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bff.config import ConfigError
from bff.sessions import open_store
from bff.settings import Settings, load_environment
from bff.signup.invitations import Invitations, Issued, invitation_link
from bff.signup.outbox import open_outbox
from bff.signup.validation import Errors, check_email, org_slug


def _settings() -> Settings | None:
    try:
        return Settings.from_env(load_environment())
    except ConfigError as exc:
        for line in exc.lines:
            print(f"config error: {line}", file=sys.stderr)
        return None


def parse_ttl(text: str) -> int | None:
    """``3600``, ``12h``, ``7d``, ``30m`` → seconds (None when malformed or out of 60 s..90 d)."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(text[-1:], 0)
    number = text[:-1] if factor else text
    if not number.isdigit() or len(number) > 9:
        return None
    seconds = int(number) * (factor or 1)
    return seconds if 60 <= seconds <= 90 * 86400 else None


def invite_cli(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    org = org_slug(args.org)
    if not org:
        print("the organisation id must contain letters or digits", file=sys.stderr)
        return 2
    email = check_email(Errors(), args.email)
    if email is None:
        print(f"not a valid email address: {args.email!r}", file=sys.stderr)
        return 2
    ttl = settings.signup.invitation_ttl
    if args.ttl is not None:
        parsed = parse_ttl(args.ttl)
        if parsed is None:
            print(f"--ttl must be 60s..90d (e.g. 3600, 12h, 7d), got {args.ttl!r}", file=sys.stderr)
            return 2
        ttl = parsed

    async def issue() -> Issued:
        store = open_store(settings)
        try:
            return await Invitations(store, settings.secret_keys, ttl=ttl).issue(org, email,
                                                                                  invited_by=str(args.by)[:100])
        finally:
            await store.close()

    issued = asyncio.run(issue())
    print(invitation_link(settings.public_url, issued.code) if args.link else issued.code)
    print(f"(organisation {org!r}, for {email}; valid until "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(issued.invitation.expires_at))}; "
          f"id {issued.invitation.id[:16]})", file=sys.stderr)
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

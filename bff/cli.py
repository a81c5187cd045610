"""The ``bff`` command: ``serve`` (production, environment only), ``dev`` (the local stack on
embedded defaults) and the operations commands."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from bff.settings import ConfigError, DevPorts, Settings, load_environment


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bff.app import create_app

    try:
        settings = Settings.from_env(load_environment())
        app = create_app(settings)  # areas validate their own files too (e.g. BFF_API_ROUTES)
    except ConfigError as exc:
        for line in exc.lines:
            print(f"config error: {line}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips, access_log=False,
                log_level=settings.log_level.lower())
    return 0


async def _dev(port: int, data_dir: Path) -> None:
    from bff.devstack import run_stack

    ports = DevPorts(bff=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with run_stack(ports, data_dir) as info:
        print("bff dev: the local stack is up (Ctrl-C stops everything)\n")
        for line in info.lines:
            print("  " + line)
        print(flush=True)
        await stop.wait()
        print("\nbff dev: stopping...", flush=True)
    print("bff dev: stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the BFF in production mode, configured from BFF_* variables")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--forwarded-allow-ips", default=None,
                   help="proxies whose X-Forwarded-* headers are trusted (uvicorn semantics; "
                        "default: $FORWARDED_ALLOW_IPS or 127.0.0.1)")

    p = sub.add_parser("dev", help="run the whole product locally on embedded defaults")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", type=Path, default=Path(".bff-dev"))

    p = sub.add_parser("build-spa", help="write the SPA, with hashed assets, to a dist/ folder")
    p.add_argument("--out", type=Path, default=Path("dist"))

    p = sub.add_parser("publish-spa", help="upload a built SPA to S3 and invalidate CloudFront")
    p.add_argument("--bucket", required=True)
    p.add_argument("--distribution", required=True)
    p.add_argument("--dist", type=Path, default=Path("dist"))
    p.add_argument("--endpoint-url", default=None, help="AWS endpoint override (tests: moto)")
    p.add_argument("--region", default=None)
    p.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    p.add_argument("--keep-stale", action="store_true", help="do not delete files that left the build")
    p.add_argument("--max-invalidation-paths", type=int, default=15,
                   help="invalidate /* instead when more paths than this changed")

    p = sub.add_parser("okta", help="provision the Okta side of the design")
    p.add_argument("action", choices=["plan", "apply"])
    p.add_argument("--config", type=Path, default=None, help="TOML file describing the Okta setup")
    p.add_argument("--secrets-out", type=Path, default=None,
                   help="where apply writes a newly generated client secret (JSON, mode 0600)")
    p.add_argument("--update-hook-secret", action="store_true",
                   help="re-send BFF_OKTA_HOOK_SECRET to the event hook (Okta never returns it)")
    p.add_argument("--verbose", action="store_true", help="also list what is unchanged")

    p = sub.add_parser("invite", help="print a sign-up invitation code for an organisation")
    p.add_argument("org", help="the organisation id (orgId)")
    p.add_argument("--email", default=None, help="bind the code to this address")

    sub.add_parser("outbox", help="AccountCreated outbox: entries per status, next retry (exit 1: dead)")

    p = sub.add_parser("dev-totp", help="the current TOTP code of a seeded user of the local Okta twin")
    p.add_argument("user", help="the login, e.g. alice@acme.test")

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "dev":
        try:
            asyncio.run(_dev(args.port, args.data_dir))
        except ConfigError as exc:
            for line in exc.lines:
                print(f"config error: {line}", file=sys.stderr)
            return 2
        return 0
    if args.command == "build-spa":
        from bff.spa.build import build_spa_cli

        return build_spa_cli(args)
    if args.command == "publish-spa":
        from bff.ops.publish import publish_spa_cli

        return publish_spa_cli(args)
    if args.command == "okta":
        from bff.ops.okta import okta_cli

        return okta_cli(args)
    if args.command == "invite":
        from bff.signup.cli import invite_cli

        return invite_cli(args)
    if args.command == "outbox":
        from bff.signup.cli import outbox_cli

        return outbox_cli(args)
    if args.command == "dev-totp":
        from bff.twins.okta.idx import totp_cli

        return totp_cli(args.user)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

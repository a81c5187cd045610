"""The ``bff`` command: ``serve`` (production, environment only), the operations commands, and
the commands other distributions plug in (entry point group ``bff.commands``): ``dev``, the local
stack on embedded defaults, comes from the ``bff-dev`` distribution (``dev/``), which production
never installs; without it ``bff dev`` says how to install it."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from bff.config import ConfigError
from bff.settings import Settings, load_environment

#: Entry-point group of the ``bff`` subcommands other distributions add (name -> :class:`Command`).
COMMANDS_GROUP = "bff.commands"

DEV_MISSING = ("bff dev: the local stack is not installed here. It is the bff-dev distribution in "
               "dev/ (never installed in production): run ./scripts/dev, which installs it and "
               "starts everything, or install it beside bff with: pip install -e ./dev")


class Command(Protocol):
    """A ``bff`` subcommand provided by another distribution (an object, not a class)."""

    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def plugin_commands() -> dict[str, Command]:
    """The installed ``bff.commands`` entry points, loaded (``bff-dev`` adds ``dev``)."""
    return {ep.name: ep.load() for ep in entry_points(group=COMMANDS_GROUP)}


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
    # proxy_headers off: the client address is derived once, by the BFF's edge, from
    # BFF_TRUSTED_PROXIES (bff.http.client_ip); uvicorn must not rewrite it first.
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False, access_log=False,
                log_level=settings.log_level.lower())
    return 0


def _openapi(args: argparse.Namespace) -> int:
    import json

    from bff.openapi.document import ContractOptions, build_document

    options = ContractOptions()
    if args.from_env:
        try:
            options = ContractOptions.from_settings(Settings.from_env(load_environment()))
        except ConfigError as exc:
            for line in exc.lines:
                print(f"config error: {line}", file=sys.stderr)
            return 2
    text = json.dumps(build_document(options), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the BFF in production mode, configured from BFF_* variables")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)

    plugins = plugin_commands()
    for name, command in plugins.items():
        command.configure(sub.add_parser(name, help=command.help))
    if "dev" not in plugins:
        sub.add_parser("dev", help="run the whole product locally (needs the bff-dev package: ./scripts/dev)")

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

    p = sub.add_parser("invite", help="invite one email address into an organisation (prints the code)")
    p.add_argument("email", help="the address invited (the code works for it alone)")
    p.add_argument("--org", required=True, help="the organisation id (orgId)")
    p.add_argument("--ttl", default=None, help="validity: seconds, or with a unit (12h, 7d); "
                   "default BFF_INVITATION_TTL (7 days)")
    p.add_argument("--by", default="bff invite", help="who invites, for the audit (default 'bff invite')")
    p.add_argument("--link", action="store_true",
                   help="print the link to send ({BFF_PUBLIC_URL}/signin?invitation=CODE), not the code")

    sub.add_parser("outbox", help="AccountCreated outbox: entries per status, next retry (exit 1: dead)")

    p = sub.add_parser("openapi", help="write the OpenAPI 3.1 document of the BFF's API (default: stdout)")
    p.add_argument("--output", type=Path, default=None, help="write it to this file instead")
    p.add_argument("--from-env", action="store_true",
                   help="use this deployment's cookie, CSRF header and sign-in mode (from BFF_* variables)")

    p = sub.add_parser("doctor", help="check this deployment against Okta, AEM, AWS and the session store "
                                      "(read-only; exit 0 only when every check passes)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per check")

    args, unknown = parser.parse_known_args(argv)
    if args.command == "dev" and "dev" not in plugins:
        print(DEV_MISSING, file=sys.stderr)
        return 2
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command in plugins:
        return plugins[args.command].run(args)
    if args.command == "serve":
        return _serve(args)
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
    if args.command == "openapi":
        return _openapi(args)
    if args.command == "doctor":
        from bff.doctor.cli import doctor_cli

        return doctor_cli(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

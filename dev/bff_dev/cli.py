"""``bff dev``: the local stack until Ctrl-C/SIGTERM. A ``bff.commands`` entry point (this
distribution's pyproject.toml), so the product's CLI offers it without importing ``bff_dev``.

Importing this module stays cheap (``bff --help`` loads it): the stack is imported when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from bff.config import ConfigError
from bff_dev.environment import DevPorts


async def run_dev(port: int, data_dir: Path) -> None:
    from bff_dev.devstack import run_stack

    ports = DevPorts(bff=port)
    # The standard OTEL_* variables of the shell reach the BFF (OTEL_TRACES_EXPORTER=console
    # prints every span, the twins' included); everything else is the embedded dev defaults.
    overrides = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with run_stack(ports, data_dir, env_overrides=overrides) as info:
        print("bff dev: the local stack is up (Ctrl-C stops everything)\n")
        for line in info.lines:
            print("  " + line)
        print(flush=True)
        await stop.wait()
        print("\nbff dev: stopping...", flush=True)
    print("bff dev: stopped", flush=True)


@dataclass(frozen=True)
class DevCommand:
    help: str = "run the whole product locally on embedded defaults"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=DevPorts.bff)
        parser.add_argument("--data-dir", type=Path, default=Path(".bff-dev"))

    def run(self, args: argparse.Namespace) -> int:
        try:
            asyncio.run(run_dev(args.port, args.data_dir))
        except ConfigError as exc:
            for line in exc.lines:
                print(f"config error: {line}", file=sys.stderr)
            return 2
        return 0


#: The entry point ``bff.commands: dev``.
command = DevCommand()


@dataclass(frozen=True)
class TotpCommand:
    help: str = "print the current TOTP code of a seeded user of the local Okta twin"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("user", help="the login, e.g. alice@acme.test")

    def run(self, args: argparse.Namespace) -> int:
        from bff_dev.twins.okta.idx import totp_cli

        return totp_cli(args.user)


#: The entry point ``bff.commands: dev-totp``.
totp_command = TotpCommand()


@dataclass(frozen=True)
class DoctorCommand:
    help: str = "run `bff doctor` against a running `bff dev` (its embedded settings)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=DevPorts.bff, help="the port `bff dev` serves on")
        parser.add_argument("--data-dir", type=Path, default=Path(".bff-dev"))
        parser.add_argument("--timeout", type=float, default=10.0)

    def run(self, args: argparse.Namespace) -> int:
        import os

        from bff.doctor.cli import doctor_cli
        from bff_dev.environment import dev_environment

        # moto accepts any credentials; the stack's own process sets the same defaults
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        env = dev_environment(DevPorts(bff=args.port), args.data_dir.resolve())
        return doctor_cli(args, dev=True, env=env)


#: The entry point ``bff.commands: dev-doctor``.
doctor_command = DoctorCommand()

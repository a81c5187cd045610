"""``bff dev`` as the bff-dev distribution declares it (``bff.commands`` entry point)."""

from __future__ import annotations

import argparse
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

from bff import cli as bff_cli
from bff_dev.environment import DevPorts

REPO = Path(__file__).resolve().parents[3]


def test_the_entry_point_is_a_bff_command_with_the_dev_options() -> None:
    project = tomllib.loads((REPO / "dev" / "pyproject.toml").read_text())["project"]
    target = project["entry-points"][bff_cli.COMMANDS_GROUP]["dev"]
    command: bff_cli.Command = EntryPoint("dev", target, bff_cli.COMMANDS_GROUP).load()
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["--data-dir", "/tmp/x"])
    assert (args.port, args.data_dir) == (DevPorts().bff, Path("/tmp/x"))
    assert "locally" in command.help

"""The ``bff`` command's plug-in commands (entry point group ``bff.commands``): ``bff dev`` runs
the dev package's command when installed and says how to install it when not."""

from __future__ import annotations

import argparse

import pytest

from bff import cli


class Recorder:
    help = "a plugged-in command"

    def __init__(self) -> None:
        self.ran: list[argparse.Namespace] = []

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=1)

    def run(self, args: argparse.Namespace) -> int:
        self.ran.append(args)
        return 7


def test_bff_dev_without_the_dev_package_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "plugin_commands", dict)
    assert cli.main(["dev", "--port", "8001", "--data-dir", "x"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == cli.DEV_MISSING and "./scripts/dev" in err and "pip install -e ./dev" in err


def test_unknown_arguments_are_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "plugin_commands", dict)
    with pytest.raises(SystemExit) as exc:
        cli.main(["invite", "acme", "--nope"])
    assert exc.value.code == 2


def test_a_plugged_in_command_is_parsed_and_run(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(cli, "plugin_commands", lambda: {"dev": recorder})
    assert cli.main(["dev", "--port", "8001"]) == 7
    assert [(a.command, a.port) for a in recorder.ran] == [("dev", 8001)]

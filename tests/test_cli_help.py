"""The command line explains itself: every option has help, every default is shown."""

from __future__ import annotations

import argparse
from importlib.metadata import version

import pytest

from simulator.cli import COMMANDS, Parser, main


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = Parser(prog="python -m simulator")
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS:
        command.add_parser(sub)
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_has_help_and_shows_its_default(name: str) -> None:
    parser = _subcommands()[name]
    text = "".join(parser.format_help().split())  # help wraps lines, even inside a default
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        flag = "/".join(action.option_strings) or action.dest
        assert action.help, f"{name} {flag} has no help text"
        if action.option_strings and action.default not in (None, False):
            shown = "".join(f"default: {action.default}".split())
            assert shown in text or "default" in action.help, (
                f"{name} {flag}: its default {action.default!r} is not shown"
            )


def test_version_names_the_installed_harness(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"python -m simulator {version('runasync-harness')}"

"""`python -m simulator ...`: one subcommand a module; bad input is one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any, NoReturn

from simulator.cli import (
    bench_cmd,
    calibrate_cmd,
    compare_cmd,
    gates_cmd,
    run_cmd,
    soak_cmd,
    sweep_cmd,
    trace_cmd,
    validate_cmd,
)
from simulator.errors import InputError
from simulator.runtime.errors import HarnessError

COMMANDS = (
    trace_cmd,
    run_cmd,
    calibrate_cmd,
    bench_cmd,
    gates_cmd,
    compare_cmd,
    sweep_cmd,
    soak_cmd,
    validate_cmd,
)


class DefaultsShown(argparse.HelpFormatter):
    """Help that names each option's default, unless the text already does (or there is none)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """Argument errors as one line, like every other bad input; defaults shown in help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsShown)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(prog="python -m simulator", description=__doc__)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('runasync-harness')}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the command they were given to
        sub.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.handler(args))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except HarnessError as error:
        print(
            f"error: the harness failed, not the engine (a bug to report): {error}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> NoReturn:
    """SIGTERM (what a CI timeout or `kill` sends) stops a command as Ctrl-C does: what finished
    is kept and marked partial, worker processes are stopped."""
    raise KeyboardInterrupt

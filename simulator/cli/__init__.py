"""`python -m simulator ...`: one subcommand a module; bad input is one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from simulator.cli import bench_cmd, calibrate_cmd, gates_cmd, run_cmd, trace_cmd
from simulator.errors import InputError

COMMANDS = (trace_cmd, run_cmd, calibrate_cmd, bench_cmd, gates_cmd)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

"""`gates`: measure the gated figures and compare them with simulator/data/gates.json (or accept).

Exit status 1 when a figure regressed (or is no longer measured); improvements are printed with
the command that records them, and pass.
"""

from __future__ import annotations

import argparse
from typing import Any

from simulator.experiments.gates import (
    EXPECTED_PATH,
    compare,
    describe_moves,
    load_expected,
    measure,
    write_expected,
)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("gates", help=__doc__.splitlines()[0])
    parser.add_argument(
        "--accept",
        action="store_true",
        help="record the measured figures as the new expected values",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    measured = measure()
    if args.accept:
        path = write_expected(measured)
        print(f"recorded {len(measured)} gated figures in {path}")
        return 0
    expected = load_expected() if EXPECTED_PATH.exists() else {}
    moves = compare(expected, measured)
    print(describe_moves(moves))
    if any(m.fails for m in moves):
        return 1
    print(f"no regression in {len(measured)} gated figures against {EXPECTED_PATH}")
    return 0

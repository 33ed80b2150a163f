"""`gates`: measure the gated figures and compare them with simulator/data/gates.json (or accept)."""

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
    parser = sub.add_parser("gates", help=__doc__)
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
    if moves:
        print(describe_moves(moves))
        return 1
    print(f"all {len(measured)} gated figures match {EXPECTED_PATH}")
    return 0

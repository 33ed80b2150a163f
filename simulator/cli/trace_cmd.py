"""`trace`: the ordered operations of a canonical call sequence, grouped by call."""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.design import UnknownDesign, design_by_name
from simulator.errors import InputError
from simulator.experiments.trace import (
    TRACE_SCENARIOS,
    UnknownScenario,
    format_trace,
    trace_scenario,
)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("trace", help=__doc__)
    parser.add_argument("--design", default="baseline", help="a design preset name")
    parser.add_argument(
        "--scenario", default="run-async-cold", help=f"one of: {', '.join(TRACE_SCENARIOS)}"
    )
    parser.add_argument("--json", action="store_true", help="print JSON, one object per operation")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        design = design_by_name(args.design)
    except UnknownDesign as error:
        raise InputError(f"--design: {error}") from None
    try:
        entries = trace_scenario(args.scenario, design)
    except UnknownScenario as error:
        raise InputError(f"--scenario: {error}") from None
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=1))
    else:
        print(f"# design {args.design} · scenario {args.scenario} · {len(entries)} operations")
        print(format_trace(entries))
    return 0

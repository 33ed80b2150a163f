"""`compare`: two bench runs side by side (latency changes with intervals, correctness counts)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simulator.cli.outputs import check_output_file
from simulator.errors import InputError
from simulator.report.compare import (
    check_common,
    correctness_changes,
    latency_changes,
    markdown,
    regressions,
)
from simulator.report.compare_inputs import load_run
from simulator.whole_files import write_text

FAIL_ON = ("latency", "correctness")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("compare", help=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("before", type=Path, help="the first run: its results.json or folder")
    parser.add_argument("after", type=Path, help="the second run: its results.json or folder")
    parser.add_argument(
        "--fail-on",
        default="",
        help="exit status 1 on a regression of these, comma-separated: latency (a figure "
        "significantly slower), correctness (a loss count that rose); default: never",
    )
    parser.add_argument(
        "--min-change",
        type=float,
        default=1.0,
        help="a significant latency change smaller than this percentage of the first run's "
        "figure is not labelled slower or faster",
    )
    parser.add_argument("--all", action="store_true", help="list unchanged figures too")
    parser.add_argument("--out", type=Path, help="also write the Markdown to this .md file")
    parser.set_defaults(handler=run)


def _fail_on(text: str) -> set[str]:
    chosen = {t.strip() for t in text.split(",") if t.strip()}
    unknown = sorted(chosen - set(FAIL_ON))
    if unknown:
        raise InputError(
            f"--fail-on: bad value {text!r}; allowed: a comma-separated subset of "
            f"{', '.join(FAIL_ON)}"
        )
    return chosen


def run(args: argparse.Namespace) -> int:
    fail_on = _fail_on(args.fail_on)
    if not 0 <= args.min_change <= 1000:  # also refuses NaN
        raise InputError(f"--min-change: bad value {args.min_change}; allowed: 0 to 1000 (%)")
    if args.out is not None:
        check_output_file("--out", args.out, (".md",))
    before, after = load_run("before", args.before), load_run("after", args.after)
    check_common(before, after, fail_on)
    latency = latency_changes(before, after, args.min_change / 100)
    correctness = correctness_changes(before, after)
    text = markdown(before, after, latency, correctness, args.all)
    print(text, end="")
    if args.out is not None:
        write_text(args.out, text)
    found = regressions(latency, correctness, fail_on)
    for line in found:
        print(f"regression: {line}", file=sys.stderr)
    return 1 if found else 0

"""`sweep`: run a sweep spec's points (resumable) and write its report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from simulator.cli.options import (
    add_executor_options,
    add_progress_option,
    check_executor_options,
    open_executor,
)
from simulator.cli.outputs import check_report_folder
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.sweep import SweepFolder, SweepRun, points, run_sweep
from simulator.experiments.sweep_checks import check_sweep
from simulator.model import budget
from simulator.model.sweep_spec import SweepSpec, load_sweep
from simulator.report.sweep import write_sweep_report


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "sweep",
        help=__doc__.splitlines()[0],
    )
    parser.add_argument("spec", help="a sweep spec: a name (scenarios/sweeps/NAME.toml) or a path")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: reports/sweep-NAME)"
    )
    parser.add_argument(
        "--max-calls",
        type=int,
        default=budget.DEFAULT_MAX_CALLS,
        help="refuse a sweep whose largest point plans more client calls than this (over every "
        "mode, design and replication)",
    )
    add_executor_options(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=run)


#: What a sweep's folder holds (`--out` refuses a folder that holds anything else).
SWEEP_ENTRIES = frozenset({"sweep.json", "points", "figures", "README.md"})


def run(args: argparse.Namespace) -> int:
    if args.max_calls < 1:
        raise InputError(f"--max-calls: bad value {args.max_calls}; allowed: a whole number >= 1")
    spec = load_sweep(args.spec)
    out: Path = args.out or Path("reports") / f"sweep-{spec.name}"
    check_report_folder("--out", out, "sweep.json", SWEEP_ENTRIES.__contains__)
    check_executor_options(args)
    check_sweep(spec, args.max_calls)  # before the folder is made: a bad spec leaves nothing
    started = time.perf_counter()
    state = SweepRun(total=len(points(spec)), skipped=0)
    folder = SweepFolder(out, spec)  # refuses a folder of another sweep, or a damaged one
    with progress(spec.name, "point", state.total, disable=args.no_progress) as bar:
        bar.update(len(folder.done()))
        try:
            with open_executor(args) as pool:
                state = run_sweep(spec, out, pool, on_point=lambda _: bar.update())
        except BaseException:
            _report_what_finished(spec, folder, state)
            raise
    _report(spec, folder, state)
    elapsed = time.perf_counter() - started
    print(
        f"# {'complete' if state.complete else 'INCOMPLETE'}: {state.ran} points run, "
        f"{state.skipped} already done, of {state.total}, in {elapsed:.1f} s; report in {out}/",
        file=sys.stderr,
    )
    print(out / "README.md")
    return 0


def _report(spec: SweepSpec, folder: SweepFolder, state: SweepRun) -> None:
    frame = folder.frame()
    if not frame.empty:
        write_sweep_report(spec, frame, folder.out, complete=len(frame) == state.total)


def _report_what_finished(spec: SweepSpec, folder: SweepFolder, state: SweepRun) -> None:
    """After an interruption or a failure, the report of the points that finished. Its own
    failure is one line, so that it never hides the first (which is raised as it is)."""
    try:
        _report(spec, folder, state)
    except Exception as error:
        print(
            f"note: the report of the points that finished was not written: {error!r}",
            file=sys.stderr,
        )

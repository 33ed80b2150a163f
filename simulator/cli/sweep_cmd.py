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
from simulator.cli.outputs import check_output_folder
from simulator.cli.progress import progress
from simulator.experiments.sweep import SweepFolder, SweepRun, points, run_sweep
from simulator.model.sweep_spec import load_sweep
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
    add_executor_options(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_sweep(args.spec)
    out: Path = args.out or Path("reports") / f"sweep-{spec.name}"
    check_output_folder("--out", out)
    check_executor_options(args)
    started = time.perf_counter()
    state = SweepRun(total=len(points(spec)), skipped=0)
    with progress(spec.name, "point", state.total, disable=args.no_progress) as bar:
        try:
            folder = SweepFolder(out, spec)
            bar.update(len(folder.done()))
            with open_executor(args) as pool:
                state = run_sweep(spec, out, pool, on_point=lambda _: bar.update())
        finally:
            frame = SweepFolder(out, spec).frame()
            if not frame.empty:
                write_sweep_report(spec, frame, out, complete=len(frame) == state.total)
    elapsed = time.perf_counter() - started
    print(
        f"# {'complete' if state.complete else 'INCOMPLETE'}: {state.ran} points run, "
        f"{state.skipped} already done, of {state.total}, in {elapsed:.1f} s; report in {out}/",
        file=sys.stderr,
    )
    print(out / "README.md")
    return 0

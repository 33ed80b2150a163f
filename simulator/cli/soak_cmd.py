"""`soak`: run random fault schedules against designs; a violation is shrunk and written as a
scenario file that reruns it.

The summary goes to stdout and to `summary.json` in `--out`. Interrupted, the soak keeps what
finished: the violations found so far (those not shrunk yet as drawn) and a summary marked
`"complete": false`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from simulator.cli.options import (
    add_executor_options,
    add_progress_option,
    check_executor_options,
    check_seed,
    open_executor,
    parse_designs,
)
from simulator.cli.outputs import check_report_folder
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.soak import (
    SoakChunk,
    Violation,
    file_name,
    scenario_toml,
    shrink,
    soak,
)
from simulator.whole_files import replacing_folder, write_text

BEST = "recovery=alarm+flush=alarm+layer_build=lazy+queue_path=fast"
WRITTEN = 10  # violations written as scenario files: the first ten, shrunk
SUMMARY = "summary.json"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "soak",
        help=__doc__.splitlines()[0],
    )
    parser.add_argument("--designs", default=BEST, help="comma-separated designs to soak")
    parser.add_argument("--schedules", type=int, default=1000, help="random fault schedules")
    parser.add_argument("--seed", type=int, default=1, help="the soak's seed")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports/soak"),
        help="where the summary (summary.json) and the violations are written",
    )
    add_executor_options(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    designs = tuple(parse_designs(args.designs) or ())
    if not 1 <= args.schedules <= 10_000_000:
        raise InputError(f"--schedules: bad value {args.schedules}; allowed: 1 to 10000000")
    check_seed(args.seed)
    check_report_folder("--out", args.out, SUMMARY, _belongs)
    check_executor_options(args)
    started = time.perf_counter()
    found: list[Violation] = []
    done = 0
    files: dict[str, str] = {}  # the scenario files that rerun violations, by name
    complete = False
    try:
        with progress("soak", "schedule", args.schedules, disable=args.no_progress) as bar:

            def tick(chunk: SoakChunk, violations: list[Violation]) -> None:
                nonlocal done
                found.extend(violations)
                done += chunk.count
                bar.set_postfix_str(f"{len(found)} violations", refresh=False)
                bar.update(chunk.count)

            with open_executor(args) as pool:
                for _ in soak(designs, args.schedules, args.seed, pool, on_chunk=tick):
                    pass  # `tick` keeps each chunk's violations as the chunk finishes
        for violation in found[:WRITTEN]:
            files[file_name(violation, args.seed)] = scenario_toml(
                shrink(violation), args.seed, shrunk=True
            )
        complete = True
    finally:
        # Interrupted (Ctrl-C, SIGTERM) or failed: what finished is kept, the violations not
        # shrunk yet as the soak drew them, and the summary says it is partial.
        for violation in found[len(files) : WRITTEN]:
            files[file_name(violation, args.seed)] = scenario_toml(
                violation, args.seed, shrunk=False
            )
        elapsed = time.perf_counter() - started
        summary = {
            "complete": complete,
            "designs": list(designs),
            "schedules": args.schedules,
            "schedules_done": done,
            "seed": args.seed,
            "violations": len(found),
            "seconds": round(elapsed, 1),
            "scenario_files": [str(args.out / name) for name in files],
        }
        # The folder is replaced whole: never an earlier soak's violations beside this summary.
        with replacing_folder(args.out) as folder:
            for name, text in {**files, SUMMARY: json.dumps(summary, indent=1) + "\n"}.items():
                write_text(folder / name, text)
        print(json.dumps(summary))
        print(
            f"# {'' if complete else 'INCOMPLETE: '}{len(found)} violations in {done} of "
            f"{args.schedules} schedules x {len(designs)} designs, {elapsed:.1f} s",
            file=sys.stderr,
        )
    return 1 if found else 0


def _belongs(name: str) -> bool:
    """What an earlier soak's folder holds: its summary and its scenario files."""
    return name == SUMMARY or (name.startswith("violation-") and name.endswith(".toml"))

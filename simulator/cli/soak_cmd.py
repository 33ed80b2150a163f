"""`soak`: run random fault schedules against designs; a violation is shrunk and written as a
scenario file that reruns it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from engine.design import UnknownDesign, design_by_name
from simulator.cli.options import (
    add_executor_options,
    add_progress_option,
    check_executor_options,
    open_executor,
)
from simulator.cli.outputs import check_output_folder
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.soak import SoakChunk, Violation, scenario_toml, shrink, soak
from simulator.whole_files import write_text

BEST = "recovery=alarm+flush=alarm+layer_build=lazy+queue_path=fast"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "soak",
        help=__doc__.splitlines()[0],
    )
    parser.add_argument("--designs", default=BEST, help="comma-separated designs to soak")
    parser.add_argument("--schedules", type=int, default=1000, help="random fault schedules")
    parser.add_argument("--seed", type=int, default=1, help="the soak's seed")
    parser.add_argument(
        "--out", type=Path, default=Path("reports/soak"), help="where violations are written"
    )
    add_executor_options(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def _designs(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise InputError(f"--designs: bad value {text!r}; allowed: one or more design names")
    for name in names:
        try:
            design_by_name(name)
        except UnknownDesign as error:
            raise InputError(f"--designs: {error}") from None
    return names


def run(args: argparse.Namespace) -> int:
    designs = _designs(args.designs)
    if not 1 <= args.schedules <= 10_000_000:
        raise InputError(f"--schedules: bad value {args.schedules}; allowed: 1 to 10000000")
    check_output_folder("--out", args.out)
    check_executor_options(args)
    started = time.perf_counter()
    found: list[Violation] = []
    done = 0
    with progress("soak", "schedule", args.schedules, disable=args.no_progress) as bar:

        def tick(chunk: SoakChunk, violations: list[Violation]) -> None:
            nonlocal done
            done += chunk.count
            bar.set_postfix_str(f"{len(found) + len(violations)} violations", refresh=False)
            bar.update(chunk.count)

        with open_executor(args) as pool:
            found = list(soak(designs, args.schedules, args.seed, pool, on_chunk=tick))
    elapsed = time.perf_counter() - started
    summary = {
        "designs": list(designs),
        "schedules": args.schedules,
        "seed": args.seed,
        "violations": len(found),
        "seconds": round(elapsed, 1),
    }
    written = []
    if found:
        args.out.mkdir(parents=True, exist_ok=True)
        for violation in found[:10]:  # the first ten, shrunk
            small = shrink(violation)
            path = args.out / f"violation-{args.seed}-{small.index}.toml"
            write_text(path, scenario_toml(small, args.seed))
            written.append(str(path))
    summary["scenario_files"] = written
    print(json.dumps(summary))
    print(
        f"# {len(found)} violations in {args.schedules} schedules x {len(designs)} designs, "
        f"{elapsed:.1f} s",
        file=sys.stderr,
    )
    return 1 if found else 0

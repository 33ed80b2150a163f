"""`bench`: run the standard suite and write the report to reports/bench/."""

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
from simulator.experiments.executors import default_workers
from simulator.experiments.jobs import Job, run_jobs
from simulator.experiments.robustness import Robustness, check
from simulator.experiments.run import RunResult
from simulator.experiments.search import SearchResult, search
from simulator.experiments.suite import SuiteResults, SuiteSpec, standard_jobs
from simulator.report.bench import REPORT_ENTRIES, write_bench
from simulator.whole_files import replacing_folder

DEFAULT_OUT = Path("reports/bench")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("bench", help=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--quick", action="store_true", help="a small suite (seconds, for tests)")
    add_executor_options(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    check_report_folder("--out", args.out, "results.json", REPORT_ENTRIES.__contains__)
    check_executor_options(args)
    spec = SuiteSpec.quick() if args.quick else SuiteSpec()
    suite = SuiteResults(spec)
    started = time.perf_counter()
    command = "python -m simulator bench" + (" --quick" if args.quick else "")
    found: SearchResult | None = None
    robust: Robustness | None = None
    bar = progress("search", "run", disable=args.no_progress)

    def tick(job: Job, result: RunResult) -> None:
        bar.set_postfix_str(f"{job.role} {result.design}"[:60], refresh=False)
        bar.update()

    jobs: list[Job] = []
    try:
        with open_executor(args) as pool:
            found = search(spec, pool, on_done=tick)
            jobs = standard_jobs(spec, found.best)
            bar.set_description_str("bench", refresh=False)
            bar.reset(total=len(jobs))
            for result in run_jobs(jobs, pool, on_done=tick, done=found.runs):
                suite.results.append(result)  # one by one: a failure later keeps what finished
            best = found.best.label() if found.best is not None else None
            bar.set_description_str("robustness", refresh=False)
            robust = check(pool, best, bar.update, spec.robustness_duration_s)
        suite.complete = True
    finally:
        bar.close()
        with replacing_folder(args.out) as folder:
            written, problems = write_bench(
                suite, folder, command, found, robust, args.workers or default_workers()
            )
        elapsed = time.perf_counter() - started
        state = "complete" if suite.complete else "INCOMPLETE"
        print(
            f"# {state}: {len(suite.results)} of {len(jobs) or '?'} runs in {elapsed:.1f} s; "
            f"wrote {len(written)} files to {args.out}/",
            file=sys.stderr,
        )
    if problems:
        for problem in problems:
            print(f"error: report section failed: {problem.splitlines()[0]}", file=sys.stderr)
        return 1
    print(args.out / "README.md")
    return 0

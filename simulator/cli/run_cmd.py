"""`run`: simulate a scenario and print a latency summary per design."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from engine.design import PRESETS, design_by_name
from simulator.cli.options import (
    add_executor_options,
    add_progress_option,
    check_executor_options,
    check_seed,
    open_executor,
    parse_designs,
)
from simulator.cli.outputs import check_output_file
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.jobs import RUN, Job, Role, run_jobs
from simulator.experiments.run import Experiment, RunResult, scenario_profile, summary
from simulator.model import budget
from simulator.model.fields import MAX_S
from simulator.model.profile import load_profile
from simulator.model.scenario import Scenario, check_faults_in_run, load_scenario
from simulator.runtime.interface import CALL_KINDS
from simulator.whole_files import writing


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("run", help=__doc__)
    parser.add_argument("scenario", help="a scenario name (scenarios/NAME.toml) or a path")
    parser.add_argument("--designs", help=f"comma-separated preset names ({', '.join(PRESETS)})")
    parser.add_argument("--profile", help="a profile name or path (default: the scenario's)")
    parser.add_argument("--replications", type=int, help="override the scenario's replications")
    parser.add_argument("--out", type=Path, help="write the raw rows (.csv or .parquet)")
    parser.add_argument(
        "--call",
        default="run_async",
        choices=(*CALL_KINDS, "alarm"),
        help="which call to summarise",
    )
    parser.add_argument(
        "--max-calls",
        type=int,
        default=budget.DEFAULT_MAX_CALLS,
        help="refuse a plan of more client calls than this (over every design and replication)",
    )
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="keep of each run only what the summary reads (latency and outcome of --call), so "
        "that memory does not grow with the runs: for millions of workflows over many "
        "replications; not with --out",
    )
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument(
        "--duration", type=float, help="override the scenario's duration_s (seconds of arrivals)"
    )
    add_executor_options(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def overridden(scenario: Scenario, seed: int | None, duration_s: float | None) -> Scenario:
    """The scenario with the command line's --seed and --duration, checked as the file's are."""
    if seed is not None:
        check_seed(seed)
        scenario = scenario.with_changes(seed=seed)
    if duration_s is not None:
        if not 1e-3 <= duration_s <= MAX_S:  # also refuses NaN
            raise InputError(
                f"--duration: bad value {duration_s}; allowed: seconds from 0.001 to {MAX_S:g}"
            )
        scenario = scenario.with_changes(duration_s=duration_s)
        check_faults_in_run(
            f"{scenario.path or scenario.name} with --duration {duration_s:g}", scenario
        )
    return scenario


def partial_path(out: Path) -> Path:
    """Where an interrupted run writes the rows it has: beside `out`, named as partial, so a
    complete file of an earlier run is never replaced by part of one."""
    return out.with_name(f"{out.stem}.partial{out.suffix}")


def write_rows(rows: pd.DataFrame, out: Path) -> None:
    try:
        with writing(out) as partial:
            if out.suffix == ".parquet":
                rows.to_parquet(partial, index=False)
            else:
                rows.to_csv(partial, index=False)
    except OSError as error:
        raise InputError(f"--out: cannot write {str(out)!r}: {error.strerror}") from None


def run(args: argparse.Namespace) -> int:
    if args.out is not None:
        if args.summary_only:
            raise InputError("--out: not with --summary-only, which keeps no rows to write")
        check_output_file("--out", args.out, (".csv", ".parquet"))
    if args.replications is not None and not 1 <= args.replications <= 1000:
        raise InputError(f"--replications: bad value {args.replications}; allowed: 1 to 1000")
    if args.max_calls < 1:
        raise InputError(f"--max-calls: bad value {args.max_calls}; allowed: a whole number >= 1")
    check_executor_options(args)
    scenario = overridden(load_scenario(args.scenario), args.seed, args.duration)
    designs = parse_designs(args.designs) or list(scenario.designs)
    profile = scenario_profile(scenario, load_profile(args.profile) if args.profile else None)
    replications = args.replications or scenario.replications
    budget.check(scenario, len(designs), replications, args.max_calls)
    experiment = Experiment(scenario, profile)
    jobs = [
        Job(
            profile,
            scenario,
            Role(RUN),
            design_by_name(name),
            replication,
            summary_of=args.call if args.summary_only else None,
        )
        for replication in range(replications)
        for name in designs
    ]
    finished = False
    with progress(scenario.name, "run", len(jobs), disable=args.no_progress) as bar:
        try:
            with open_executor(args) as pool:
                for result in run_jobs(jobs, pool):
                    experiment.runs.append(result)
                    bar.set_postfix_str(_postfix(result), refresh=False)
                    bar.update()
            finished = True
        except KeyboardInterrupt:
            if experiment.runs:
                bar.close()
                print(f"# partial: the {len(experiment.runs)} of {len(jobs)} runs that finished")
                finished_replications = len({run.replication for run in experiment.runs})
                _print_summary(experiment, args.call, finished_replications)
            raise
        finally:
            rows = experiment.rows() if args.out is not None and not finished else None
            if rows is not None and not rows.empty:  # no call at all: nothing to write
                out = partial_path(args.out)
                write_rows(rows, out)
                print(
                    f"# partial: the {len(experiment.runs)} of {len(jobs)} runs that "
                    f"finished written to {out} ({args.out} left as it was)",
                    file=sys.stderr,
                )
    calls = experiment.rows()
    if calls.empty and not args.summary_only:  # (with --summary-only: no call of its kind)
        raise InputError(
            f"{scenario.path or scenario.name}: the run planned no call (rate_per_s "
            f"{scenario.workload.rate_per_s:g} over duration_s {scenario.duration_s:g}); "
            "allowed: a workload that makes at least one call"
        )
    made = set() if args.summary_only else set(calls["call"])  # summary rows: --call's only
    if calls.empty or (made and args.call not in made):
        raise InputError(
            f"--call: bad value {args.call!r}; this run made no such call"
            + (f" (it made: {', '.join(sorted(made))})" if made else "")
        )
    if not (calls["outcome"] != "pending").any():
        print(
            f"error: no call of the run answered before it ended ({len(calls)} planned); the "
            "tables would be empty: lengthen drain_s",
            file=sys.stderr,
        )
        return 1
    _print_summary(experiment, args.call, replications)
    if args.out is not None:  # only now: a run refused above writes nothing
        write_rows(calls, args.out)
        print(f"# rows written to {args.out}")
    return 0


def _print_summary(experiment: Experiment, call: str, replications: int) -> None:
    scenario, profile = experiment.scenario, experiment.profile
    print(f"# scenario {scenario.name} · profile {profile.name} · {replications} replication(s)")
    print(f"# {call} latency in ms, measured from the planned send time")
    print(summary(experiment, call).to_string(index=False, float_format=lambda v: f"{v:.1f}"))


def _postfix(result: RunResult) -> str:
    return f"{result.design} rep {result.replication}"

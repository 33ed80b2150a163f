"""`run`: simulate a scenario and print a latency summary per design."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from engine.design import PRESETS, UnknownDesign, design_by_name
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.run import Experiment, RunResult, iterate_runs, scenario_profile, summary
from simulator.model.profile import load_profile
from simulator.model.scenario import load_scenario
from simulator.runtime.interface import CALL_KINDS


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
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def parse_designs(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        for name in names:
            design_by_name(name)
    except UnknownDesign as error:
        raise InputError(f"--designs: {error}") from None
    return names


def write_rows(rows: pd.DataFrame, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            rows.to_parquet(out, index=False)
        else:
            rows.to_csv(out, index=False)
    except OSError as error:
        raise InputError(f"--out: cannot write {str(out)!r}: {error.strerror}") from None


def run(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.suffix not in (".csv", ".parquet"):
        raise InputError(f"--out: {str(args.out)!r} must end in .csv or .parquet")
    if args.replications is not None and args.replications < 1:
        raise InputError(f"--replications: {args.replications} must be at least 1")
    scenario = load_scenario(args.scenario)
    designs = parse_designs(args.designs) or list(scenario.designs)
    profile = scenario_profile(scenario, load_profile(args.profile) if args.profile else None)
    replications = args.replications or scenario.replications
    experiment = Experiment(scenario, profile)
    total = replications * len(designs)
    runs = iterate_runs(scenario, designs, profile, replications)
    with progress(scenario.name, "run", total, disable=args.no_progress) as bar:
        try:
            for result in runs:
                experiment.runs.append(result)
                bar.set_postfix_str(_postfix(result), refresh=False)
                bar.update()
        finally:
            if args.out is not None and experiment.runs:
                write_rows(experiment.rows(), args.out)
    print(f"# scenario {scenario.name} · profile {profile.name} · {replications} replication(s)")
    print(f"# {args.call} latency in ms, measured from the planned send time")
    print(summary(experiment, args.call).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    if args.out is not None:
        print(f"# rows written to {args.out}")
    return 0


def _postfix(result: RunResult) -> str:
    return f"{result.design} rep {result.replication}"

"""Experiments: a scenario × designs × replications, run on a runtime (the simulated platform
unless told otherwise).

Each run gives one row per call (client calls and alarm invocations) and a few run-level counts
(events emitted and delivered, steps completed twice, resets). Runs are deterministic for a seed,
and designs share random streams (common random numbers).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.design import Design, design_by_name
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions
from engine.purge import PurgeConfig
from engine.tracker import TRACKERS
from engine.workflow import two_steps_with_sleep
from simulator.errors import InputError, shown
from simulator.experiments.floor import FLOOR, FloorEngine
from simulator.measure.ledger import InvariantLedger
from simulator.measure.rows import select
from simulator.measure.stats import latency_stats
from simulator.model.profile import Profile, load_profile
from simulator.model.scenario import Scenario
from simulator.model.workload import start_workload
from simulator.runtime.interface import RunSetup
from simulator.runtime.registry import DEFAULT_RUNTIME, build_runtime
from simulator.runtime.runlog import CallTable, RunRecorder


@dataclass
class RunResult:
    scenario: str
    profile: str
    design: str
    replication: int
    rows: pd.DataFrame  # one row per call
    stats: dict[str, Any]


@dataclass
class Experiment:
    scenario: Scenario
    profile: Profile
    runs: list[RunResult] = field(default_factory=list)

    def rows(self) -> pd.DataFrame:
        return rows_frame(self.runs)

    def stats(self) -> pd.DataFrame:
        return stats_frame(self.runs)


def rows_frame(runs: list[RunResult]) -> pd.DataFrame:
    """One row per call of every run (a column that was all empty in one run and text in another
    is text)."""
    frames = [run.rows for run in runs if not run.rows.empty]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).infer_objects()


def stats_frame(runs: list[RunResult]) -> pd.DataFrame:
    """One row per run: its keys and run-level counts (per-type breakdowns left out)."""
    return pd.DataFrame(
        [
            {
                "profile": run.profile,
                "scenario": run.scenario,
                "design": run.design,
                "replication": run.replication,
                **{k: v for k, v in run.stats.items() if not isinstance(v, dict)},
            }
            for run in runs
        ]
    )


def engine_options(scenario: Scenario) -> EngineOptions:
    settings = scenario.engine
    purge = PurgeConfig(settings.purge_delay_ms) if settings.purge_delay_ms is not None else None
    return EngineOptions(
        workflows=(two_steps_with_sleep(settings.sleep_ms, settings.step_io_ms),),
        tracker=TRACKERS[settings.tracker],
        purge=purge,
    )


def scenario_profile(scenario: Scenario, profile: Profile | str | None = None) -> Profile:
    """The profile to run with (given, or the scenario's) with the scenario's overrides."""
    if isinstance(profile, Profile):
        base = profile
    elif profile is not None:
        base = load_profile(profile)
    else:
        reference = scenario.profile
        if reference.endswith(".toml") and scenario.path and not Path(reference).is_absolute():
            reference = str(Path(scenario.path).parent / reference)  # from the scenario's folder
        try:
            base = load_profile(reference)
        except InputError as error:  # name the scenario, then what is wrong in its profile
            raise InputError(
                f"{scenario.path or scenario.name}: field 'profile' ({shown(scenario.profile)}): "
                f"{error}"
            ) from None
    if scenario.profile_overrides:
        return base.with_ops(scenario.profile_overrides)
    return base


def simulate(
    scenario: Scenario,
    design: Design,
    profile: Profile,
    replication: int,
    floor: bool = False,
    runtime: str = DEFAULT_RUNTIME,
    labels: Mapping[str, Any] | None = None,
) -> RunResult:
    """One run: the scenario's workload against one design, to the end of its drain time.

    `floor=True` runs `FloorEngine` instead: run_async doing only the unavoidable work. `labels`
    are columns written into every row after the call's own (a job's role).
    """
    log = InvariantLedger()
    label = FLOOR if floor else design.label()
    keys = {
        "profile": profile.name,
        "scenario": scenario.name,
        "design": label,
        "replication": replication,
    }
    with collector_paused():
        wall = record_run(scenario, design, profile, replication, log, floor, runtime)
        stats = run_stats(log, wall)
        table = log.call_table()
        log.clear()  # what the stats read, gone before the rows are made
        rows = rows_of(table, keys, labels or {})
        del log, table  # garbage from here on, still in the youngest generation
    return RunResult(scenario.name, profile.name, label, replication, rows, stats)


def record_run(
    scenario: Scenario,
    design: Design,
    profile: Profile,
    replication: int,
    log: RunRecorder,
    floor: bool = False,
    runtime: str = DEFAULT_RUNTIME,
) -> float:
    """Run the scenario on `runtime`, recording into `log`; answers the run's wall seconds. The
    runtime is closed before it answers: the run's objects and its rows never coexist."""
    streams = profile.samplers(scenario.seed, replication)
    setup = RunSetup(
        design,
        engine_options(scenario),
        streams,
        scenario.platform,
        scenario.faults,
        FloorEngine if floor else DurableWorkflowEngine,
        log,
    )
    running = build_runtime(runtime, setup)
    start_workload(running, scenario, replication, streams)
    started = time.perf_counter()
    running.run((scenario.duration_s + scenario.drain_s) * 1000.0)
    wall = time.perf_counter() - started
    running.close()
    return wall


def rows_of(table: CallTable, keys: Mapping[str, Any], labels: Mapping[str, Any]) -> pd.DataFrame:
    """One row per call, in its place in the run: the run's keys, the call's fields, the labels.
    The table ends empty, and the frame takes its columns as they are (no copy)."""
    columns = {name: [value] * len(table) for name, value in keys.items()} if len(table) else {}
    columns.update(table.take_columns(labels))
    return pd.DataFrame(columns, copy=False)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a run runs.

    A run allocates objects by the million and most live until it ends, so the collector's
    passes find little: they cost 20-30 % of a run's time (measured at 2,000 and 20,000
    workflows) for 5 % less peak memory. The pause lasts until the run's objects are dropped:
    resumed earlier, the collector would move them, still in use, to its oldest generation,
    which it rarely visits, and a process running run after run would hold the garbage of many.
    Most are freed by reference counting when the runtime is closed and the log dropped; the
    few left in cycles go at the collector's first pass after the pause.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_stats(log: InvariantLedger, wall_s: float) -> dict[str, Any]:
    """Run-level counts: events, resets, harness speed, and the correctness invariants."""
    checked = {k: v for k, v in log.counts().items() if k != "orphans"}
    return {
        "events_duplicated": log.duplicates,
        "tracker_attempts": log.tracker_attempts,
        "sim_ops": log.simulated_ops(),
        "wall_s": wall_s,
        **checked,
    }


def iterate_runs(
    scenario: Scenario,
    designs: list[str] | None = None,
    profile: Profile | None = None,
    replications: int | None = None,
) -> Iterator[RunResult]:
    """Every (replication, design) run of the scenario, in a fixed order."""
    chosen = designs or list(scenario.designs)
    profile = profile or scenario_profile(scenario)
    for replication in range(replications or scenario.replications):
        for name in chosen:
            yield simulate(scenario, design_by_name(name), profile, replication)


def run_experiment(
    scenario: Scenario,
    designs: list[str] | None = None,
    profile: Profile | None = None,
    replications: int | None = None,
    on_run: Callable[[RunResult], None] | None = None,
) -> Experiment:
    profile = profile or scenario_profile(scenario)
    experiment = Experiment(scenario, profile)
    for run in iterate_runs(scenario, designs, profile, replications):
        experiment.runs.append(run)
        if on_run is not None:
            on_run(run)
    return experiment


def summary(experiment: Experiment, call: str = "run_async") -> pd.DataFrame:
    """Per design: count, errors, calls unfinished when the run ended, p50, p95, p99 and max
    latency of `call`; events delivered out of those emitted."""
    rows = experiment.rows()
    stats = experiment.stats()
    out = []
    for design in dict.fromkeys(stats["design"]) if not stats.empty else []:
        mine = select(rows, design=design, call=call) if not rows.empty else rows
        latency = (
            latency_stats(mine)
            if not mine.empty
            else latency_stats(pd.DataFrame({"latency_ms": []}))
        )
        design_stats = stats[stats["design"] == design]
        out.append(
            {
                "design": design,
                "count": len(mine),
                "errors": int(mine["outcome"].isin(("error", "reset")).sum()) if len(mine) else 0,
                # still waiting when the run ended (drain_s too short to see them answered)
                "unfinished": int((mine["outcome"] == "pending").sum()) if len(mine) else 0,
                **{k: latency[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
                "events_delivered": int(design_stats["events_delivered"].sum()),
                "events_emitted": int(design_stats["events_emitted"].sum()),
            }
        )
    return pd.DataFrame(out)

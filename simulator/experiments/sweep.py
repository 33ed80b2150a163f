"""Sweeps: the same runs at many settings of the guessed parameters.

A sweep's points are the nominal profile, each parameter alone at `oat_levels` values across its
range (one at a time, for tornado charts), and `lhs_points` points of a Latin hypercube over all of
them at once (for maps of which design wins). Each point is one job: a worker runs every design in
every mode at that point and sends back one summary row (run_async percentiles per design and
mode, and every cell of the seed's tables), never the calls themselves, so the parent's memory
grows with points, not with simulated calls.

Summaries stream to a Parquet dataset, one file per chunk of points, written whole (to a temporary
name, then renamed). A rerun into the same folder skips the points already written, so a sweep
cut short by a crash or Ctrl-C resumes where it stopped; a folder that holds a different sweep, or
whose record of it is damaged, is refused.

The sweep command checks a spec first (`simulator.experiments.sweep_checks`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from engine.design import design_by_name
from simulator.errors import InputError
from simulator.experiments.executors import in_order
from simulator.experiments.run import scenario_profile, simulate
from simulator.experiments.suite import MODES
from simulator.measure.rows import PHASE, AnsweredCalls, phase_columns
from simulator.measure.seed_cells import cell_values
from simulator.measure.stats import paired_difference
from simulator.model.distributions import parameter as value_of
from simulator.model.profile import Profile
from simulator.model.scenario import Scenario, load_scenario
from simulator.model.sweep_spec import Parameter, SweepSpec
from simulator.whole_files import write_text, writing

CHUNK = 50  # points per Parquet file
PARAM = "param:"  # column prefixes of a summary row
P50 = "p50:"
P99 = "p99:"
CELL = "cell:"
DIFF_LOW = "diff_low:"  # the 95 % interval of a contrast a|b|mode: `paired_difference`
DIFF_HIGH = "diff_high:"
TOP_PHASE = "top_phase:baseline|cold"  # the baseline's largest phase, cold
SEP = "|"


@dataclass(frozen=True)
class Point:
    index: int
    kind: str  # nominal | oat | lhs
    values: tuple[tuple[str, float], ...]  # (parameter name, value), for the varied ones

    @property
    def varied(self) -> dict[str, float]:
        return dict(self.values)


#: A lognormal's p99 drawn with its median is kept at least this far above the median.
P99_OVER_MEDIAN = 1.05


def lhs_values(spec: SweepSpec, base: Profile, row: np.ndarray) -> tuple[tuple[str, float], ...]:
    """One Latin-hypercube row as parameter values. A p99 varied with its median is drawn in
    the part of its range above that median (times `P99_OVER_MEDIAN`), so that the point is a
    valid distribution; its stratification is kept, on the narrower range."""
    values = {p.name: p.at(float(u)) for p, u in zip(spec.parameters, row, strict=True)}
    for parameter, u in zip(spec.parameters, row, strict=True):
        if parameter.parameter != "p99":
            continue
        median = values.get(f"{parameter.op}.median", value_of(base.dist(parameter.op), "median"))
        low = max(parameter.low, median * P99_OVER_MEDIAN)
        if low < parameter.high:
            values[parameter.name] = Parameter(
                parameter.op, "p99", low, parameter.high, parameter.scale
            ).at(float(u))
        else:
            values[parameter.name] = median * P99_OVER_MEDIAN
    return tuple((p.name, values[p.name]) for p in spec.parameters)


def points(spec: SweepSpec) -> list[Point]:
    """Every point of the sweep, in a fixed order."""
    out = [Point(0, "nominal", ())]
    if spec.oat_levels:
        for parameter in spec.parameters:
            for level in range(spec.oat_levels):
                u = level / (spec.oat_levels - 1)
                out.append(Point(len(out), "oat", ((parameter.name, parameter.at(u)),)))
    if spec.lhs_points:
        base = spec.load_profile()  # once: read per point, it took most of the time
        sampler = qmc.LatinHypercube(d=len(spec.parameters), seed=spec.seed)
        for row in sampler.random(spec.lhs_points):
            out.append(Point(len(out), "lhs", lhs_values(spec, base, row)))
    return out


@dataclass(frozen=True)
class PointJob:
    """Everything a worker needs to run one point: small and picklable."""

    point: Point
    profile: Profile
    parameters: tuple[Parameter, ...]
    scenarios: tuple[tuple[str, Scenario], ...]  # (mode, scenario)
    designs: tuple[str, ...]
    replications: int
    #: (a, b) pairs of designs whose p50 difference the summary gives with its interval
    contrasts: tuple[tuple[str, str], ...] = ()


def _median_first(item: tuple[str, float]) -> bool:
    return item[0].rpartition(".")[2] != "median"


def profile_at(base: Profile, parameters: tuple[Parameter, ...], point: Point) -> Profile:
    """The profile at the point. Medians are set first: moving a lognormal's median moves its
    p99 with it (the spread kept), which would otherwise undo a p99 set before it."""
    by_name = {p.name: p for p in parameters}
    profile = base
    for name, value in sorted(point.values, key=_median_first):
        parameter = by_name[name]
        if not parameter.setting:
            profile = profile.with_parameter(parameter.op, parameter.parameter, value)
    return profile


def scenario_at(base: Scenario, parameters: tuple[Parameter, ...], point: Point) -> Scenario:
    """The scenario with the point's settings: a number as it is (an integer rounded), a
    switch on from the middle of its range up."""
    by_name = {p.name: p for p in parameters}
    scenario = base
    for name, value in point.values:
        parameter = by_name[name]
        if not parameter.setting:
            continue
        table = getattr(scenario, parameter.op)
        new = setting_value(getattr(table, parameter.parameter), value)
        scenario = scenario.with_changes(
            **{parameter.op: replace(table, **{parameter.parameter: new})}
        )
    return scenario


def current_setting(scenario: Scenario, parameter: Parameter) -> Any:
    """A setting's value in the scenario: its type decides how a point's value is read."""
    return getattr(getattr(scenario, parameter.op), parameter.parameter)


def setting_value(current: Any, value: float) -> Any:
    """A setting's value at a point, of the type of its `current` one."""
    if isinstance(current, bool):
        return value >= 0.5
    return type(current)(round(value) if isinstance(current, int) else value)


def value_run(scenario: Scenario, parameter: Parameter, value: float) -> float:
    """The value a point runs with: a setting's as `setting_value` makes it (a count rounded, a
    switch 0 or 1), so that the summary records what ran."""
    if not parameter.setting:
        return value
    return float(setting_value(current_setting(scenario, parameter), value))


def run_point(job: PointJob) -> dict[str, Any]:
    """Run every design in every mode at the point; answer its summary row."""
    profile = profile_at(job.profile, job.parameters, job.point)
    frames = []
    for _, base in job.scenarios:
        scenario = scenario_at(base, job.parameters, job.point)
        for name in job.designs:
            for replication in range(job.replications):
                run = simulate(scenario, design_by_name(name), profile, replication)
                frames.append(run.rows)
    rows = pd.concat(frames, ignore_index=True)
    summary: dict[str, Any] = {
        "point": job.point.index,
        "kind": job.point.kind,
        "varied": ",".join(job.point.varied) if job.point.kind == "oat" else "",
    }
    varied = job.point.varied
    for parameter in job.parameters:
        value = varied.get(parameter.name)
        summary[PARAM + parameter.name] = (
            nominal_value(job.profile, job.scenarios[0][1], parameter)
            if value is None
            else value_run(job.scenarios[0][1], parameter, value)
        )
    answered = AnsweredCalls(rows)
    for mode, _ in job.scenarios:
        for name in job.designs:
            latency = answered(design_by_name(name).label(), mode)["latency_ms"]
            summary[f"{P50}{name}{SEP}{mode}"] = float(latency.median()) if len(latency) else None
            summary[f"{P99}{name}{SEP}{mode}"] = (
                float(latency.quantile(0.99)) if len(latency) else None
            )
        for a, b in job.contrasts:
            difference = paired_difference(
                answered(design_by_name(a).label(), mode), answered(design_by_name(b).label(), mode)
            )
            key = f"{a}{SEP}{b}{SEP}{mode}"
            summary[f"{DIFF_LOW}{key}"], summary[f"{DIFF_HIGH}{key}"] = (
                difference.low,
                difference.high,
            )
    for (table, row, mode), value in cell_values(answered).items():
        summary[f"{CELL}{table}{SEP}{row}{SEP}{mode}"] = value
    if "baseline" in job.designs:
        calls = answered("baseline", "cold")
        phases = {c: float(calls[c].median()) for c in phase_columns(calls)} if len(calls) else {}
        summary[TOP_PHASE] = (
            max(phases, key=phases.__getitem__).removeprefix(PHASE) if phases else None
        )
    return summary


def nominal_value(profile: Profile, scenario: Scenario, parameter: Parameter) -> float:
    if parameter.setting:
        return float(current_setting(scenario, parameter))
    return value_of(profile.dist(parameter.op), parameter.parameter)


def mode_scenarios(spec: SweepSpec) -> list[tuple[str, Scenario]]:
    """The scenario of each mode, with the sweep's duration, drain, replications and seed."""
    return [
        (
            mode,
            load_scenario(MODES[mode]).with_changes(
                duration_s=spec.duration_s,
                drain_s=spec.drain_s,
                replications=spec.replications,
                seed=spec.seed,
            ),
        )
        for mode in spec.modes
    ]


def point_jobs(
    spec: SweepSpec, chosen: list[Point], contrasts: tuple[tuple[str, str], ...] = ()
) -> list[PointJob]:
    base = spec.load_profile()
    scenarios = mode_scenarios(spec)
    profile = scenario_profile(scenarios[0][1], base)
    return [
        PointJob(
            point,
            profile,
            spec.parameters,
            tuple(scenarios),
            spec.designs,
            spec.replications,
            contrasts,
        )
        for point in chosen
    ]


# --- checks before anything runs ---


# --- running, streaming, resuming ---


def _damaged(path: Path, what: str, remove: Path | None = None) -> InputError:
    """A damaged record of a sweep in its folder: remove `remove` (by default the damaged file,
    whose points then run again), or give another --out."""
    return InputError(
        f"{path}: {what}; remove {remove or 'it'}, or give another --out to start afresh"
    )


class SweepFolder:
    """The output folder of one sweep: its spec's fingerprint and the Parquet parts."""

    def __init__(self, out: Path, spec: SweepSpec) -> None:
        self.out = out
        self.parts = out / "points"
        self.spec = spec
        marker = out / "sweep.json"
        if self.parts.exists() and not self.parts.is_dir():
            raise _damaged(self.parts, "a file, not the folder of a sweep's points")
        if (marker.exists() or marker.is_symlink()) and not marker.is_file():
            raise _damaged(marker, "not a file", out)
        if marker.exists():
            recorded = _fingerprint(marker)
            if recorded != spec.fingerprint():
                raise InputError(
                    f"{out}: holds the results of a different sweep (fingerprint {recorded}, "
                    f"this one {spec.fingerprint()}); give another --out, or remove it"
                )
        elif self.part_files():
            raise _damaged(self.parts, "holds points, and no sweep.json says of which sweep")
        else:
            self.parts.mkdir(parents=True, exist_ok=True)
            write_text(
                marker, json.dumps({"name": spec.name, "fingerprint": spec.fingerprint()}) + "\n"
            )

    def done(self) -> set[int]:
        return {int(i) for i in self.frame()["point"]} if self.part_files() else set()

    def part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet"))

    def frame(self) -> pd.DataFrame:
        files = self.part_files()
        if not files:
            return pd.DataFrame()
        return pd.concat([_part(f) for f in files], ignore_index=True).sort_values(
            "point", kind="stable", ignore_index=True
        )

    def write(self, summaries: list[dict[str, Any]]) -> Path:
        path = self.parts / f"part-{len(self.part_files()):05d}.parquet"
        with writing(path) as partial:
            pd.DataFrame(summaries).to_parquet(partial, index=False)
        return path


def _fingerprint(marker: Path) -> str:
    """The fingerprint a folder's sweep.json records."""
    folder = marker.parent
    try:
        record = json.loads(marker.read_bytes())
    except OSError as error:
        raise _damaged(marker, f"cannot be read: {error.strerror or error}", folder) from None
    except (ValueError, RecursionError):  # not JSON, or not UTF-8
        raise _damaged(marker, "not JSON: the record of the sweep is damaged", folder) from None
    if not isinstance(record, dict) or not isinstance(record.get("fingerprint"), str):
        raise _damaged(marker, 'not a sweep\'s record (a JSON object with a "fingerprint")', folder)
    return record["fingerprint"]


#: The columns every summary row has; a part without them is not one this code wrote.
KEY_COLUMNS = ("point", "kind", "varied")


def _part(path: Path) -> pd.DataFrame:
    """One Parquet part of a sweep's points, refused whole if it is damaged."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        raise _damaged(path, "not a readable Parquet file") from None
    if not set(KEY_COLUMNS) <= set(frame.columns) or not pd.api.types.is_integer_dtype(
        frame["point"]
    ):
        raise _damaged(path, f"not a part of a sweep's points (no {', '.join(KEY_COLUMNS)})")
    return frame


def summaries(jobs: list[PointJob], pool: Executor | None) -> Iterator[dict[str, Any]]:
    """Run the point jobs; yield their summaries in order."""
    return in_order(run_point, jobs, pool)


@dataclass
class SweepRun:
    total: int
    skipped: int
    ran: int = 0
    complete: bool = False


def run_sweep(
    spec: SweepSpec,
    out: Path,
    pool: Executor | None = None,
    on_point: Callable[[dict[str, Any]], None] | None = None,
) -> SweepRun:
    """Run the sweep's points not yet in `out`, writing every `CHUNK` of them as they finish;
    what finished is kept if it stops part-way. Check the spec first (`check_sweep`)."""
    folder = SweepFolder(out, spec)
    every = points(spec)
    done = folder.done()
    todo = [p for p in every if p.index not in done]
    state = SweepRun(total=len(every), skipped=len(every) - len(todo))
    buffer: list[dict[str, Any]] = []
    try:
        for summary in summaries(point_jobs(spec, todo), pool):
            buffer.append(summary)
            state.ran += 1
            if on_point is not None:
                on_point(summary)
            if len(buffer) >= CHUNK:
                folder.write(buffer)
                buffer = []
        state.complete = True
    finally:
        if buffer:
            folder.write(buffer)
    return state


def as_numbers(frame: pd.DataFrame, prefix: str) -> dict[str, np.ndarray]:
    """The columns of a summary frame with `prefix`, by the rest of their name."""
    return {
        c.removeprefix(prefix): frame[c].to_numpy(dtype=float)
        for c in frame.columns
        if c.startswith(prefix)
    }

"""Jobs: independent simulations, run on an executor (`executors`), answered in a fixed order.

A job is one (profile, scenario, design, replication) run with a *role* that says what it is for:
a mode's run (`cold`, `warm`), the tails, a screening run of the design search, or a run of the
fault matrix (`fault:<name>`, `verify:<name>`). Roles are written into the rows as text; `Role`
writes and reads that text, so no other module spells it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from engine.design import Design
from simulator.experiments.executors import in_order
from simulator.experiments.run import RunResult, simulate
from simulator.model.profile import Profile
from simulator.model.scenario import Scenario

COLD, WARM = "cold", "warm"  # a mode's runs: latency of calls that met that mode
TAILS = "tails"  # runs under a degraded tracker
SCREEN = "screen"  # the design search's speed screening
FAULT = "fault"  # the fault matrix, one run per (design, fault)
VERIFY = "verify"  # the design search's verification under the fault matrix
RUN = "run"  # a run of `python -m simulator run`


#: The columns of a row that a latency summary reads (`experiments.run.summary`).
SUMMARY_COLUMNS = ("design", "call", "latency_ms", "outcome")


@dataclass(frozen=True)
class Role:
    kind: str
    fault: str | None = None

    def __str__(self) -> str:
        return self.kind if self.fault is None else f"{self.kind}:{self.fault}"

    @classmethod
    def parse(cls, text: str) -> Role:
        kind, _, fault = text.partition(":")
        return cls(kind, fault or None)


@dataclass(frozen=True)
class Job:
    profile: Profile
    scenario: Scenario
    role: Role
    design: Design
    replication: int
    floor: bool = False  # run the floor engine instead of the design
    #: When set, the run sends back only what a latency summary of this call kind needs (its
    #: design, latency and outcome), so that memory does not grow with the number of runs.
    summary_of: str | None = None


def run_job(job: Job) -> RunResult:
    role = str(job.role)
    labels = {"role": role} if job.summary_of is None else {}
    result = simulate(
        job.scenario, job.design, job.profile, job.replication, floor=job.floor, labels=labels
    )
    result.stats["role"] = role
    if job.summary_of is not None:
        rows = result.rows
        mine = rows.loc[rows["call"] == job.summary_of, list(SUMMARY_COLUMNS)]
        result.rows = mine.reset_index(drop=True)
    return result


def run_jobs(
    jobs: list[Job],
    pool: Executor | None = None,
    on_done: Callable[[Job, RunResult], None] | None = None,
    done: Sequence[tuple[Job, RunResult]] = (),
) -> Iterator[RunResult]:
    """Run the jobs on `pool` (here, one after another, when it is None); yield the results in
    job order, so the output never depends on scheduling.

    A job that `done` already ran (the same simulation under another role: the design search's
    verification runs are fault-matrix runs) is not run again; its result is relabelled.
    """
    known = {_simulation(job): (job, result) for job, result in done}
    earlier = [_earlier(job, known) for job in jobs]
    fresh = in_order(
        run_job, [job for job, found in zip(jobs, earlier, strict=True) if found is None], pool
    )
    for job, found in zip(jobs, earlier, strict=True):
        result = next(fresh) if found is None else relabelled(found, job.role)
        if on_done is not None:
            on_done(job, result)
        yield result


Simulation = tuple[str, str, str | None, Design, int, bool, str | None]


def _simulation(job: Job) -> Simulation:
    """What names a job's simulation: its role's kind is only a label, its fault is not."""
    return (
        job.profile.name,
        job.scenario.name,
        job.role.fault,
        job.design,
        job.replication,
        job.floor,
        job.summary_of,
    )


def _earlier(job: Job, known: dict[Simulation, tuple[Job, RunResult]]) -> RunResult | None:
    match = known.get(_simulation(job))
    if match is None or (match[0].scenario, match[0].profile) != (job.scenario, job.profile):
        return None  # same names, other settings (a duration, an override): not the same run
    return match[1]


def relabelled(result: RunResult, role: Role) -> RunResult:
    """The result of the same simulation under another role."""
    text = str(role)
    return replace(
        result,
        rows=result.rows.assign(role=text),
        stats={**result.stats, "role": text},
    )

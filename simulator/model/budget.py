"""The size of the work a scenario asks for, estimated before anything runs, and its cap.

Each field of a scenario may be in range while their product asks for days of work or more
memory than the machine has (a rate of 1,000 calls/s for a day is 86 million calls). The estimate
counts the planned client calls (open-loop arrivals with their follow-ups and pre-warming calls,
or closed-loop clients at one call per think time, at least `MIN_CALL_GAP_MS` apart) and the
fault events, for every design and replication, and refuses past the cap with both numbers and
how to raise it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.errors import InputError
from simulator.model.scenario import MIN_CALL_GAP_MS, Scenario

#: Planned client calls a command may simulate unless told otherwise (`--max-calls`).
DEFAULT_MAX_CALLS = 2_000_000
#: Fault events (deploys, restarts, crashes, evictions) a run may plan.
MAX_FAULT_EVENTS = 100_000
#: Resident memory one simulated call keeps until its run ends (measured: about 50 KB per
#: workflow of some 10 calls and alarms), to say what a plan would need.
BYTES_PER_CALL = 5_000


@dataclass(frozen=True)
class Estimate:
    calls: float  # planned client calls over every design and replication
    faults: float  # planned fault events per run

    @property
    def memory_gb(self) -> float:
        return self.calls * BYTES_PER_CALL / 1e9


def calls_per_run(scenario: Scenario) -> float:
    workload = scenario.workload
    duration_ms = scenario.duration_s * 1000.0
    if workload.arrival == "closed":
        return workload.clients * duration_ms / max(workload.think_ms, MIN_CALL_GAP_MS)
    if workload.arrival == "burst":
        arrivals = float(
            workload.burst_size * math.ceil(duration_ms / (workload.burst_every_s * 1000.0))
        )
    else:
        rate = max(workload.rate_per_s, workload.ramp_to_per_s or 0.0)
        arrivals = rate * scenario.duration_s
    extra = len(workload.followups) + (1 if workload.prewarm_ms > 0 else 0)
    return arrivals * (1 + extra)


def estimate(scenario: Scenario, designs: int, replications: int) -> Estimate:
    faults = scenario.faults
    per_hour = (
        faults.deploy_rate_per_hour
        + faults.restart_rate_per_hour
        + faults.crash_rate_per_hour
        + faults.eviction_rate_per_hour
    )
    planned_faults = per_hour * scenario.duration_s / 3600.0 + len(faults.deploys_at_ms)
    return Estimate(calls_per_run(scenario) * designs * replications, planned_faults)


def check(
    scenario: Scenario, designs: int, replications: int, max_calls: int = DEFAULT_MAX_CALLS
) -> Estimate:
    """The estimate, or an `InputError` naming it, the cap and how to raise the cap."""
    found = estimate(scenario, designs, replications)
    source = scenario.path or scenario.name
    if not found.calls <= max_calls:
        raise InputError(
            f"{source}: the planned work is about {_count(found.calls)} client calls "
            f"({designs} design(s) x {replications} replication(s); about "
            f"{_count(found.memory_gb)} GB of memory); the cap is {max_calls:,} calls: shorten "
            "duration_s, lower the rate, or raise the cap deliberately with --max-calls"
        )
    if not found.faults <= MAX_FAULT_EVENTS:
        raise InputError(
            f"{source}: the planned faults are about {_count(found.faults)} events per run; the cap "
            f"is {MAX_FAULT_EVENTS:,}: lower the fault rates"
        )
    return found


def _count(value: float) -> str:
    """A count as people read it: 12,345, or 1.2e+20 when it is astronomical."""
    return f"{value:,.0f}" if value < 1e12 else f"{value:.2g}"

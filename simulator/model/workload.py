"""Workloads and fault schedules: who calls what, when, and what goes wrong.

Open-loop arrivals are planned up front from their own random stream, so every design meets the
same calls at the same planned instants; latency is measured from the planned instant, so a slow
design cannot hide queueing (no coordinated omission). A closed loop issues each client's next
call when its previous one answers (plus think time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from engine.client import WorkflowClient, instance_name
from engine.ops import Program
from simulator.model.scenario import Scenario, Workload
from simulator.runtime.naming import object_id_for
from simulator.runtime.runlog import CallRecord
from simulator.runtime.simulated.outcome import SimGen
from simulator.runtime.simulated.platform import Platform

WORKFLOW = "processOrder"


@dataclass(frozen=True)
class PlannedCall:
    at_ms: float
    kind: str
    execution_id: str

    @property
    def instance(self) -> str:
        return instance_name(WORKFLOW, self.execution_id)


def arrival_times(workload: Workload, duration_ms: float, rng: np.random.Generator) -> list[float]:
    """Planned instants of an open-loop workload, in ms."""
    rate = workload.rate_per_s / 1000.0
    if workload.arrival == "uniform":
        return list(np.arange(0.0, duration_ms, 1.0 / rate))
    if workload.arrival == "burst":
        starts = np.arange(0.0, duration_ms, workload.burst_every_s * 1000.0)
        return [float(t) for t in starts for _ in range(workload.burst_size)]
    if workload.arrival == "ramp":
        # A Poisson process whose rate grows linearly, by thinning one at the peak rate.
        ramp_to = workload.ramp_to_per_s
        end_rate = (workload.rate_per_s if ramp_to is None else ramp_to) / 1000.0
        peak = max(rate, end_rate, 1e-12)
        times: list[float] = []
        t = 0.0
        while True:
            t += rng.exponential(1.0 / peak)
            if t >= duration_ms:
                return times
            if rng.random() < (rate + (end_rate - rate) * t / duration_ms) / peak:
                times.append(t)
    times = []
    t = 0.0
    while True:
        t += rng.exponential(1.0 / rate)
        if t >= duration_ms:
            return times
        times.append(t)


class CallChooser:
    """Chooses each call's kind and execution id from the mix, with its own random stream."""

    def __init__(self, workload: Workload, rng: np.random.Generator, replication: int) -> None:
        self.workload = workload
        self.rng = rng
        self.replication = replication
        self.kinds = list(workload.mix)
        weights = np.asarray([workload.mix[k] for k in self.kinds], dtype=float)
        self.weights = weights / weights.sum()
        self.started: list[str] = []
        self.counter = 0

    def _fresh(self) -> str:
        self.counter += 1
        return f"order-{self.replication}-{self.counter}"

    def next(self) -> tuple[str, str]:
        kind = self.kinds[int(self.rng.choice(len(self.kinds), p=self.weights))]
        if self.workload.ids == "pool":
            return kind, f"order-{int(self.rng.integers(self.workload.pool_size))}"
        if kind in ("run_async", "run") or not self.started:
            execution_id = self._fresh()
            self.started.append(execution_id)
            return kind, execution_id
        return kind, self.started[int(self.rng.integers(len(self.started)))]


def plan_open_loop(scenario: Scenario, replication: int, streams: Any) -> list[PlannedCall]:
    workload = scenario.workload
    times = arrival_times(workload, scenario.duration_s * 1000.0, streams.rng("arrivals"))
    chooser = CallChooser(workload, streams.rng("call-mix"), replication)
    planned: list[PlannedCall] = []
    for at in times:
        kind, execution_id = chooser.next()
        planned.append(PlannedCall(float(at), kind, execution_id))
        if kind == "run_async" and workload.prewarm_ms > 0 and at >= workload.prewarm_ms:
            planned.append(PlannedCall(float(at) - workload.prewarm_ms, "get_status", execution_id))
        if kind == "run_async":
            planned += [
                PlannedCall(float(at) + after, follow, execution_id)
                for follow, after in workload.followups
            ]
    planned.sort(key=lambda call: call.at_ms)
    return planned


def client_program(kind: str, execution_id: str) -> Program[Any]:
    client = WorkflowClient()
    instance = instance_name(WORKFLOW, execution_id)
    if kind == "run_async":
        return client.run_async(WORKFLOW, {"orderId": execution_id}, execution_id)
    if kind == "run":
        return client.run(WORKFLOW, {"orderId": execution_id}, execution_id)
    if kind == "get_status":
        return client.status(instance)
    return client.cancel(instance, "customer cancelled")


def issue(platform: Platform, call: PlannedCall) -> simpy.Process:
    record = CallRecord(call.kind, object_id_for(call.instance), call.at_ms)
    return platform.client_call(client_program(call.kind, call.execution_id), record)


def dispatch(env: simpy.Environment, platform: Platform, planned: list[PlannedCall]) -> SimGen:
    for call in planned:
        if call.at_ms > env.now:
            yield env.timeout(call.at_ms - env.now)
        issue(platform, call)


def closed_loop_client(
    env: simpy.Environment,
    platform: Platform,
    chooser: CallChooser,
    until_ms: float,
    think_ms: float,
) -> SimGen:
    while env.now < until_ms:
        kind, execution_id = chooser.next()
        yield issue(platform, PlannedCall(env.now, kind, execution_id))
        # at least a microsecond, so that calls that take no time cannot stall the clock
        yield env.timeout(max(think_ms, 1e-3))


def poisson_times(
    rate_per_hour: float, horizon_ms: float, rng: np.random.Generator
) -> Iterator[float]:
    if rate_per_hour <= 0:
        return
    mean_gap = 3_600_000.0 / rate_per_hour
    t = rng.exponential(mean_gap)
    while t < horizon_ms:
        yield float(t)
        t += rng.exponential(mean_gap)


def fault_schedule(scenario: Scenario, streams: Any) -> list[tuple[float, str]]:
    """Every fault instant of the run, decided before it starts (the same for every design)."""
    horizon = scenario.duration_s * 1000.0
    faults = scenario.faults
    schedule = [(t, "deploy") for t in faults.deploys_at_ms]
    schedule += [(t, "crash") for t in faults.crashes_at_ms]
    schedule += [(t, "evict") for t in faults.evictions_at_ms]
    schedule += [
        (t, "deploy")
        for t in poisson_times(faults.deploy_rate_per_hour, horizon, streams.rng("deploys"))
    ]
    schedule += [
        (t, "crash")
        for t in poisson_times(faults.crash_rate_per_hour, horizon, streams.rng("crashes"))
    ]
    schedule += [
        (t, "evict")
        for t in poisson_times(faults.eviction_rate_per_hour, horizon, streams.rng("evictions"))
    ]
    return sorted(schedule)


def inject_faults(
    env: simpy.Environment,
    platform: Platform,
    schedule: list[tuple[float, str]],
    rng: np.random.Generator,
) -> SimGen:
    for at, kind in schedule:
        if at > env.now:
            yield env.timeout(at - env.now)
        if kind == "deploy":
            platform.deploy()
            continue
        resident = [h for h in platform.hosts.values() if h.state == "resident"]
        if kind == "crash":
            busy = [h for h in platform.hosts.values() if h.active or h.background]
            pool = busy or resident
            if pool:
                platform.reset(pool[int(rng.integers(len(pool)))], "crash")
        else:
            idle = [h for h in resident if not h.calls_in_flight]
            pending = [h for h in idle if h.background]
            pool = pending or idle
            if pool:
                platform.evict(pool[int(rng.integers(len(pool)))])


def start_workload(
    env: simpy.Environment, platform: Platform, scenario: Scenario, replication: int
) -> None:
    streams = platform.samples
    workload = scenario.workload
    if workload.arrival == "closed":
        chooser = CallChooser(workload, streams.rng("call-mix"), replication)
        for _ in range(workload.clients):
            env.process(
                closed_loop_client(
                    env, platform, chooser, scenario.duration_s * 1000.0, workload.think_ms
                )
            )
    else:
        env.process(dispatch(env, platform, plan_open_loop(scenario, replication, streams)))
    schedule = fault_schedule(scenario, streams)
    if schedule:
        env.process(inject_faults(env, platform, schedule, streams.rng("fault-targets")))

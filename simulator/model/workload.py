"""Workloads and fault schedules: who calls what, when, and what goes wrong, handed to a runtime.

Open-loop arrivals are planned up front from their own random stream, so every design meets the
same calls at the same planned instants; latency is measured from the planned instant, so a slow
design cannot hide queueing (no coordinated omission). A closed loop issues each client's next
call when its previous one answers (plus think time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import numpy as np

from simulator.model.profile import SamplerSet as Streams
from simulator.model.scenario import MIN_CALL_GAP_MS, Scenario, Workload
from simulator.runtime.interface import CallKind, ClientCall, Fault, FaultKind, Runtime
from simulator.runtime.runlog import CallRecord


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
        self.kinds = [cast(CallKind, kind) for kind in workload.mix]
        weights = np.asarray([workload.mix[k] for k in self.kinds], dtype=float)
        self.weights = weights / weights.sum()
        self.started: list[str] = []
        self.counter = 0

    def _fresh(self) -> str:
        self.counter += 1
        return f"order-{self.replication}-{self.counter}"

    def next(self) -> tuple[CallKind, str]:
        kind = self.kinds[int(self.rng.choice(len(self.kinds), p=self.weights))]
        if self.workload.ids == "pool":
            return kind, f"order-{int(self.rng.integers(self.workload.pool_size))}"
        if kind in ("run_async", "run") or not self.started:
            execution_id = self._fresh()
            self.started.append(execution_id)
            return kind, execution_id
        return kind, self.started[int(self.rng.integers(len(self.started)))]


def plan_open_loop(scenario: Scenario, replication: int, streams: Streams) -> list[ClientCall]:
    workload = scenario.workload
    times = arrival_times(workload, scenario.duration_s * 1000.0, streams.rng("arrivals"))
    chooser = CallChooser(workload, streams.rng("call-mix"), replication)
    planned: list[ClientCall] = []
    for at in times:
        kind, execution_id = chooser.next()
        planned.append(ClientCall(float(at), kind, execution_id))
        if kind == "run_async" and workload.prewarm_ms > 0 and at >= workload.prewarm_ms:
            planned.append(ClientCall(float(at) - workload.prewarm_ms, "get_status", execution_id))
        if kind == "run_async":
            planned += [
                ClientCall(float(at) + after, cast(CallKind, follow), execution_id)
                for follow, after in workload.followups
            ]
    planned.sort(key=lambda call: call.at_ms)
    return planned


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


def fault_schedule(scenario: Scenario, streams: Streams) -> list[Fault]:
    """Every fault instant of the run, decided before it starts (the same for every design)."""
    horizon = scenario.duration_s * 1000.0
    faults = scenario.faults
    schedule: list[tuple[float, FaultKind]] = [(t, "deploy") for t in faults.deploys_at_ms]
    schedule += [(t, "restart") for t in faults.restarts_at_ms]
    schedule += [(t, "crash") for t in faults.crashes_at_ms]
    schedule += [(t, "evict") for t in faults.evictions_at_ms]
    rates: tuple[tuple[FaultKind, float, str], ...] = (
        ("deploy", faults.deploy_rate_per_hour, "deploys"),
        ("restart", faults.restart_rate_per_hour, "restarts"),
        ("crash", faults.crash_rate_per_hour, "crashes"),
        ("evict", faults.eviction_rate_per_hour, "evictions"),
    )
    for kind, rate, stream in rates:
        schedule += [(t, kind) for t in poisson_times(rate, horizon, streams.rng(stream))]
    return [Fault(at, kind) for at, kind in sorted(schedule)]


def start_workload(
    runtime: Runtime, scenario: Scenario, replication: int, streams: Streams
) -> None:
    """Hand the runtime the scenario's calls (or its closed-loop clients) and faults."""
    workload = scenario.workload
    if workload.arrival == "closed":
        chooser = CallChooser(workload, streams.rng("call-mix"), replication)
        until_ms = scenario.duration_s * 1000.0
        think_ms = max(workload.think_ms, MIN_CALL_GAP_MS)

        def next_call(answered: CallRecord) -> ClientCall | None:
            at = answered.end_ms + think_ms if answered.end_ms is not None else until_ms
            return ClientCall(at, *chooser.next()) if at < until_ms else None

        for _ in range(workload.clients):
            runtime.submit(ClientCall(0.0, *chooser.next()), next_call)
    else:
        for call in plan_open_loop(scenario, replication, streams):
            runtime.submit(call)
    for fault in fault_schedule(scenario, streams):
        runtime.inject(fault)

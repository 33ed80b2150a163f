"""The harness's own speed: cost per simulated operation, beside bare SimPy and the engine alone.

Both `make test` (so CI) and `make bench-gates` fail when the harness's cost per simulated
operation exceeds its budget; `make bench-gates` also runs it as a pytest-benchmark and saves the
JSON. The budget is a ratio to a bare SimPy timeout measured in the same run, because machines
differ and a ratio holds; `make test` runs these tests alone, after the parallel part.

Three costs per operation are measured side by side:

- a bare SimPy timeout (one process yielding N timeouts): the unit;
- the engine alone: the same run_async calls, then their alarms, on the zero-latency instant
  runtime with tracing off (no SimPy, no platform model): the engine's own cost plus the
  instant runtime's small dispatch;
- the harness: cold run_async at 2/s on the SimPy platform, every platform semantic on.

A simulated operation is one the engine yields, or a commit; read misses and billed units are
accounting, not operations (`CallRecord.simulated_ops`). Commits are about 3.5 % of the harness's
operations and have no counterpart in the engine alone, which flatters the harness's ratio to
the engine alone by as much.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import simpy

from engine.client import WorkflowClient
from engine.design import design_by_name
from simulator.runtime.endpoint import RecordingEndpoint
from simulator.runtime.instant import InstantRuntime
from simulator.runtime.simulated.interpreter import Interpreter
from tests.benchmarks.conftest import SUMMARY, baseline_run_async

pytestmark = [pytest.mark.gate, pytest.mark.serial]

#: Harness cost per simulated operation, as a multiple of one bare SimPy timeout. Measured at
#: 6.6-9.9x on a 2-core machine, of which the engine alone is 2.9-4.2x; the budget leaves room
#: for noisy CI machines.
BUDGET = 15.0

#: Harness cost per simulated operation as a multiple of the engine alone: what the platform model
#: and SimPy add to the engine's own cost. Measured at 2.3-2.5x (the engine alone is the noisier
#: figure). Ours, not the issue's: the issue asks for 3x a bare SimPy timeout, which the engine
#: alone already reaches.
ENGINE_BUDGET = 5.0

#: What users feel: harness time per simulated workflow (a cold run_async with its alarms and
#: events, about 190 operations), in bare SimPy timeouts. Measured at 1,250-1,900.
WORKFLOW_BUDGET = 3000.0


def engine_alone(workflows: int) -> int:
    """The same run_async calls and their alarms with no platform at all; answers the operations.

    It is only a fair comparison if it does the harness's work, so every workflow must complete.
    """
    endpoint = RecordingEndpoint()
    runtime = InstantRuntime(design_by_name("baseline"), endpoint=endpoint, tracing=False)
    client = WorkflowClient()
    for n in range(workflows):
        runtime.run_client(client.run_async("processOrder", {"orderId": n}))
    runtime.run_alarms(limit=100 * workflows)
    completed = endpoint.types()["workflow.completed"]
    assert runtime.next_alarm() is None and completed == workflows, (completed, workflows)
    return runtime.operations


def bare_simpy(timeouts: int) -> None:
    env = simpy.Environment()

    def loop() -> Any:
        for _ in range(timeouts):
            yield env.timeout(1.0)

    env.process(loop())
    env.run()


def best_of(rounds: int, fn: Callable[..., Any], *args: Any) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - started)
    return min(times)


@dataclass(frozen=True)
class Speed:
    """One measurement of the harness beside bare SimPy and the engine alone (seconds each)."""

    ops: int  # simulated operations of the harness's run
    workflows: int
    harness_s: float
    bare_s: float  # as many bare SimPy timeouts as the harness's operations
    engine_ops: int
    engine_s: float  # the same workflows on the engine alone

    @property
    def bare_per_op(self) -> float:
        """The unit: seconds of one bare SimPy timeout."""
        return self.bare_s / self.ops

    @property
    def ratio(self) -> float:
        """Harness cost per operation, in bare SimPy timeouts."""
        return self.harness_s / self.bare_s

    @property
    def engine_ratio(self) -> float:
        return (self.engine_s / self.engine_ops) / self.bare_per_op

    @property
    def over_engine(self) -> float:
        return self.ratio / self.engine_ratio

    @property
    def per_workflow(self) -> float:
        """Harness time per workflow, in bare SimPy timeouts."""
        return (self.harness_s / self.workflows) / self.bare_per_op

    def breaches(self) -> list[str]:
        """Every budget this measurement exceeds, as the gate's failure messages."""
        checks = [
            (self.ratio, BUDGET, "x a bare SimPy timeout per simulated operation"),
            (self.over_engine, ENGINE_BUDGET, "x the engine alone per operation"),
            (self.per_workflow, WORKFLOW_BUDGET, " bare SimPy timeouts per workflow"),
        ]
        return [
            f"the harness costs {value:,.1f}{what}; budget {budget:,g}"
            for value, budget, what in checks
            if value > budget
        ]


def measure_speed(
    duration_s: float = 120.0, rounds: int = 5, harness_s: float | None = None
) -> Speed:
    """Measure side by side; `harness_s`, when given, is the harness's time measured already."""
    stats = baseline_run_async(duration_s)
    ops, workflows = stats["sim_ops"], stats["workflows"]
    assert ops > 1_000 and stats["completed"] == workflows
    if harness_s is None:
        harness_s = best_of(rounds, baseline_run_async, duration_s)
    return Speed(
        ops,
        workflows,
        harness_s,
        best_of(rounds, bare_simpy, ops),
        engine_alone(workflows),
        best_of(rounds, engine_alone, workflows),
    )


def test_harness_cost_per_operation_beside_bare_simpy(benchmark: Any) -> None:
    benchmark.pedantic(baseline_run_async, rounds=5, iterations=1)
    speed = measure_speed(harness_s=None if benchmark.disabled else benchmark.stats.stats.min)
    assert speed.ops > 10_000
    benchmark.extra_info.update(
        {
            "simulated_ops": speed.ops,
            "engine_alone_ops": speed.engine_ops,
            "harness_us_per_op": speed.harness_s / speed.ops * 1e6,
            "bare_simpy_us_per_timeout": speed.bare_per_op * 1e6,
            "engine_alone_us_per_op": speed.engine_s / speed.engine_ops * 1e6,
            "ratio_to_bare_simpy": speed.ratio,
            "engine_alone_ratio_to_bare_simpy": speed.engine_ratio,
            "ratio_to_engine_alone": speed.over_engine,
            "workflows_per_s": speed.workflows / speed.harness_s,
            "bare_simpy_timeouts_per_workflow": speed.per_workflow,
            "workflow_budget": WORKFLOW_BUDGET,
            "budget": BUDGET,
            "engine_budget": ENGINE_BUDGET,
        }
    )
    SUMMARY.append(
        f"{speed.ops} simulated operations: harness {speed.harness_s / speed.ops * 1e6:.2f} "
        f"us/op = {speed.ratio:.1f}x a bare SimPy timeout "
        f"({speed.bare_per_op * 1e6:.2f} us), budget {BUDGET:g}x; the engine alone "
        f"{speed.engine_ratio:.1f}x; the harness over the engine alone {speed.over_engine:.1f}x, "
        f"budget {ENGINE_BUDGET:g}x"
    )
    SUMMARY.append(
        f"{speed.workflows} workflows: {speed.workflows / speed.harness_s:,.0f} per second = the "
        f"time of {speed.per_workflow:,.0f} bare SimPy timeouts each, budget "
        f"{WORKFLOW_BUDGET:,.0f}"
    )
    assert speed.breaches() == []


def test_the_engine_alone_refuses_to_count_unfinished_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert engine_alone(workflows=3) > 3 * 100
    monkeypatch.setattr(InstantRuntime, "run_alarms", lambda self, limit=0: 0)
    with pytest.raises(AssertionError):
        engine_alone(workflows=3)


def test_the_speed_gate_fails_for_a_slowed_harness(monkeypatch: pytest.MonkeyPatch) -> None:
    slow_drive = Interpreter.drive

    def drive(self: Interpreter, program: Any, ctx: Any) -> Any:
        def slowed() -> Any:
            gen = slow_drive(self, program, ctx)
            value = None
            while True:
                time.sleep(0.0002)  # a deliberate 200 us per step of the interpreter
                try:
                    event = gen.send(value)
                except StopIteration as stop:
                    return stop.value
                value = yield event

        return slowed()

    monkeypatch.setattr(Interpreter, "drive", drive)
    breaches = measure_speed(duration_s=5.0, rounds=1).breaches()
    assert [message.split(";")[1] for message in breaches] == [
        f" budget {BUDGET:g}",
        f" budget {ENGINE_BUDGET:g}",
        f" budget {WORKFLOW_BUDGET:,g}",
    ]

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
#: 9-10.5x on a 2-core machine, of which the engine alone is 3-4x; the budget leaves room for
#: noisy CI machines.
BUDGET = 15.0

#: Harness cost per simulated operation as a multiple of the engine alone: what the platform model
#: and SimPy add to the engine's own cost. Measured at 2.6-3.6x (the engine alone is the noisier
#: figure). Ours, not the issue's: the issue asks for 3x a bare SimPy timeout, which the engine
#: alone already reaches.
ENGINE_BUDGET = 5.0

#: What users feel: harness time per simulated workflow (a cold run_async with its alarms and
#: events, about 190 operations), in bare SimPy timeouts. Measured at 1,700-2,000.
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


def speed_ratios(duration_s: float, rounds: int = 3) -> tuple[float, float]:
    """The harness's cost per operation over a bare SimPy timeout, and over the engine alone."""
    stats = baseline_run_async(duration_s)
    ops, workflows = stats["sim_ops"], stats["workflows"]
    harness = best_of(rounds, baseline_run_async, duration_s) / ops
    engine = best_of(rounds, engine_alone, workflows) / engine_alone(workflows)
    return harness / (best_of(rounds, bare_simpy, ops) / ops), harness / engine


def within_budget(ratio: float, budget: float = BUDGET) -> bool:
    return ratio <= budget


def test_harness_cost_per_operation_beside_bare_simpy(benchmark: Any) -> None:
    stats = baseline_run_async()
    ops, workflows = stats["sim_ops"], stats["workflows"]
    assert ops > 10_000 and stats["completed"] == workflows
    benchmark.pedantic(baseline_run_async, rounds=5, iterations=1)
    harness_s = best_of(5, baseline_run_async) if benchmark.disabled else benchmark.stats.stats.min
    bare_s = best_of(5, bare_simpy, ops)
    engine_ops = engine_alone(workflows)
    engine_s = best_of(5, engine_alone, workflows)
    ratio = harness_s / bare_s
    engine_ratio = (engine_s / engine_ops) / (bare_s / ops)
    over_engine = ratio / engine_ratio
    per_workflow = (harness_s / workflows) / (bare_s / ops)
    benchmark.extra_info.update(
        {
            "simulated_ops": ops,
            "engine_alone_ops": engine_ops,
            "harness_us_per_op": harness_s / ops * 1e6,
            "bare_simpy_us_per_timeout": bare_s / ops * 1e6,
            "engine_alone_us_per_op": engine_s / engine_ops * 1e6,
            "ratio_to_bare_simpy": ratio,
            "engine_alone_ratio_to_bare_simpy": engine_ratio,
            "ratio_to_engine_alone": over_engine,
            "workflows_per_s": workflows / harness_s,
            "bare_simpy_timeouts_per_workflow": per_workflow,
            "workflow_budget": WORKFLOW_BUDGET,
            "budget": BUDGET,
            "engine_budget": ENGINE_BUDGET,
        }
    )
    SUMMARY.append(
        f"{ops} simulated operations: harness {harness_s / ops * 1e6:.2f} us/op = {ratio:.1f}x "
        f"a bare SimPy timeout ({bare_s / ops * 1e6:.2f} us), budget {BUDGET:g}x; the engine "
        f"alone {engine_ratio:.1f}x; the harness over the engine alone {over_engine:.1f}x, "
        f"budget {ENGINE_BUDGET:g}x"
    )
    SUMMARY.append(
        f"{workflows} workflows: {workflows / harness_s:,.0f} per second = the time of "
        f"{per_workflow:,.0f} bare SimPy timeouts each, budget {WORKFLOW_BUDGET:,.0f}"
    )
    assert within_budget(ratio), (
        f"the harness costs {ratio:.1f}x a bare SimPy timeout per simulated operation; "
        f"budget {BUDGET}x"
    )
    assert within_budget(over_engine, ENGINE_BUDGET), (
        f"the harness costs {over_engine:.1f}x the engine alone per operation; "
        f"budget {ENGINE_BUDGET}x"
    )

    assert within_budget(per_workflow, WORKFLOW_BUDGET), (
        f"a simulated workflow costs {per_workflow:,.0f} bare SimPy timeouts; "
        f"budget {WORKFLOW_BUDGET:,.0f}"
    )


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
    ratio, over_engine = speed_ratios(duration_s=5.0, rounds=1)
    assert not within_budget(ratio)
    assert not within_budget(over_engine, ENGINE_BUDGET)

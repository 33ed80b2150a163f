"""The harness's own speed: simulated engine operations per second, beside bare SimPy.

`make test` runs these once as plain tests (pytest-benchmark is disabled there and nothing about
speed is asserted); `make bench-gates` runs them as benchmarks, saves pytest-benchmark JSON, and
fails when the harness's cost per simulated operation exceeds its budget. The budget is a ratio to
a bare SimPy timeout measured in the same run, because machines differ and a ratio holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import simpy

from engine.design import design_by_name
from simulator.experiment import scenario_profile, simulate
from simulator.scenario import load_scenario
from simulator.sim.interpreter import Interpreter

pytestmark = pytest.mark.gate

#: Harness cost per simulated operation, as a multiple of one bare SimPy timeout. Measured at
#: about 10-11x on a 2-core machine (the engine's own generator layering and building real
#: httpx requests dominate); the budget leaves room for noisy CI machines.
BUDGET = 20.0


def baseline_run_async(duration_s: float = 120.0) -> int:
    """Cold run_async at 2/s on the baseline; answers the number of operations simulated."""
    scenario = load_scenario("cold-start").with_changes(duration_s=duration_s, drain_s=60.0)
    result = simulate(scenario, design_by_name("baseline"), scenario_profile(scenario), 0)
    return int(result.stats["sim_ops"])


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


def ratio_to_bare_simpy(duration_s: float, rounds: int = 3) -> tuple[float, int]:
    ops = baseline_run_async(duration_s)
    harness = best_of(rounds, baseline_run_async, duration_s)
    return harness / best_of(rounds, bare_simpy, ops), ops


def within_budget(ratio: float, budget: float = BUDGET) -> bool:
    return ratio <= budget


def test_harness_cost_per_operation_beside_bare_simpy(benchmark: Any) -> None:
    ops = baseline_run_async()
    assert ops > 10_000
    benchmark.pedantic(baseline_run_async, rounds=3, iterations=1)
    if benchmark.disabled:
        return  # make test: run once, assert nothing about speed
    harness_s = benchmark.stats.stats.min
    bare_s = best_of(3, bare_simpy, ops)
    ratio = harness_s / bare_s
    benchmark.extra_info.update(
        {
            "simulated_ops": ops,
            "harness_us_per_op": harness_s / ops * 1e6,
            "bare_simpy_us_per_timeout": bare_s / ops * 1e6,
            "ratio_to_bare_simpy": ratio,
            "budget": BUDGET,
        }
    )
    assert within_budget(ratio), (
        f"the harness costs {ratio:.1f}x a bare SimPy timeout per simulated operation; "
        f"budget {BUDGET}x"
    )


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
    ratio, _ = ratio_to_bare_simpy(duration_s=5.0, rounds=1)
    assert not within_budget(ratio)

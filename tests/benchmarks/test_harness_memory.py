"""The harness's memory: peak Python memory per simulated workflow during a run, and what a run
hands back (its rows) per workflow.

Both `make test` (so CI) and `make bench-gates` fail when either exceeds its budget. Traced memory
is deterministic for a given code and does not depend on the machine's load, so these gates run in
the parallel part of `make test` (their figures show in `make bench-gates`' summary).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from engine.design import design_by_name
from simulator.experiments.run import RunResult, scenario_profile, simulate
from simulator.measure.ledger import InvariantLedger
from simulator.model.scenario import load_scenario
from tests.benchmarks.conftest import SUMMARY, baseline_run_async

pytestmark = pytest.mark.gate

#: Peak Python memory per simulated workflow in a run of about 500 workflows (50 s of arrivals
#: at 10/s: every object is still resident at the peak, so none can be retired yet), its rows
#: and counts included. Measured at 21.3 KiB (19.0 before latency streams bound their
#: quantile functions, 18.7 with 1,000 workflows at 20/s; 34.7 before
#: runtimes were closed, 22.3 before evicted objects let go of their cache, 20.3 before the
#: invariants were counted as the run goes); it is deterministic for a given code, so the
#: margin is for growth only.
MEMORY_BUDGET_KIB = 24.0

#: Peak Python memory per simulated workflow in a long run: 300 s of arrivals at 2.5/s (about
#: 750 workflows). Objects at rest are retired (counted, their call records made typed rows,
#: then let go of) within about half a minute of their last work, so a long run holds the objects
#: alive and compact rows. Measured at 6.9 KiB (6.3 before latency streams bound their quantile
#: functions, 6.0 at 5/s; 8.4 before retired records became
#: typed rows; about 16 KiB without retiring: memory grew with the run).
LONG_RUN_BUDGET_KIB = 8.0
LONG_RUN = (300.0, 2.5)  # seconds of arrivals, arrivals per second

#: What a run hands back per simulated workflow: its rows (about four calls), as typed columns.
#: Measured at 1.7 KiB (14.7 KiB as a list of dicts, one per call).
ROWS_BUDGET_KIB = 2.0


def rows_kib_per_workflow(result: RunResult) -> float:
    return float(result.rows.memory_usage(deep=True).sum()) / 1024 / result.stats["workflows"]


def peak_kib_per_workflow(duration_s: float, rate_per_s: float) -> float:
    """The peak of Python's traced memory during a run, over its workflows."""
    tracemalloc.start()
    try:
        stats = baseline_run_async(duration_s, rate_per_s)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1024 / stats["workflows"]


def test_peak_memory_per_simulated_workflow() -> None:
    kib = peak_kib_per_workflow(duration_s=50.0, rate_per_s=10.0)
    SUMMARY.append(f"peak memory {kib:.1f} KiB per workflow, budget {MEMORY_BUDGET_KIB:g} KiB")
    assert kib <= MEMORY_BUDGET_KIB, (
        f"a simulated workflow holds {kib:.1f} KiB at the peak; budget {MEMORY_BUDGET_KIB:g} KiB"
    )


def test_a_long_run_holds_the_objects_alive_not_every_object() -> None:
    kib = peak_kib_per_workflow(*LONG_RUN)
    SUMMARY.append(f"long run {kib:.1f} KiB per workflow, budget {LONG_RUN_BUDGET_KIB:g} KiB")
    assert kib <= LONG_RUN_BUDGET_KIB, (
        f"a long run holds {kib:.1f} KiB per workflow at the peak; "
        f"budget {LONG_RUN_BUDGET_KIB:g} KiB"
    )


@pytest.mark.usefixtures("no_retirement")
def test_the_long_run_gate_fails_when_no_object_is_retired() -> None:
    assert peak_kib_per_workflow(*LONG_RUN) > LONG_RUN_BUDGET_KIB


def test_rows_memory_per_simulated_workflow() -> None:
    scenario = load_scenario("cold-start").with_changes(duration_s=20.0)
    result = simulate(scenario, design_by_name("baseline"), scenario_profile(scenario), 0)
    kib = rows_kib_per_workflow(result)
    SUMMARY.append(f"rows {kib:.2f} KiB per workflow, budget {ROWS_BUDGET_KIB:g} KiB")
    assert kib <= ROWS_BUDGET_KIB, (
        f"a simulated workflow's rows hold {kib:.2f} KiB; budget {ROWS_BUDGET_KIB:g} KiB"
    )
    as_dicts = result.rows.astype(object)  # every field a Python object, as in a row dict
    result.rows = as_dicts
    assert rows_kib_per_workflow(result) > ROWS_BUDGET_KIB


def test_the_memory_gate_fails_for_a_run_that_keeps_more(monkeypatch: pytest.MonkeyPatch) -> None:
    kept: list[bytes] = []
    emit = InvariantLedger.emit

    def emit_and_hoard(self: InvariantLedger, event: Any, at_ms: float) -> None:
        kept.append(bytes(4096))  # a deliberate 4 KiB more per event
        emit(self, event, at_ms)

    monkeypatch.setattr(InvariantLedger, "emit", emit_and_hoard)
    assert peak_kib_per_workflow(10.0, 20.0) > MEMORY_BUDGET_KIB

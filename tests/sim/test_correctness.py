"""Each invariant counter on a hand-built case where the answer is known, so every counter is
shown to be able to fail."""

from __future__ import annotations

from typing import Any

from engine.layers import EngineOptions
from engine.ops import Program
from engine.workflow import Workflow, WorkflowContext, two_steps_with_sleep, work
from simulator.measure.correctness import invariants
from simulator.runtime.config import Faults, PlatformSwitches
from tests.sim.conftest import Sim, constant_profile

IO_STEPS = EngineOptions(workflows=(two_steps_with_sleep(sleep_ms=1000.0, io_ms=200.0),))


def _rejects_the_order(ctx: WorkflowContext, input: Any) -> Program[None]:
    yield from ctx.step("validate", work("step:validate"))
    raise RuntimeError("the order is invalid")


REJECTS = EngineOptions(workflows=(Workflow("processOrder", _rejects_the_order),))


def reset_at(sim: Sim, at: float, execution_id: str = "order-1") -> None:
    def later() -> Any:
        yield sim.env.timeout(at)
        sim.platform.reset(sim.host(execution_id), "crash")

    sim.env.process(later())


def test_a_run_that_dies_mid_step_is_an_orphan_without_a_watchdog() -> None:
    sim = Sim("baseline", options=IO_STEPS)
    sim.call("run")
    reset_at(sim, 100.0)  # during the first step's 200 ms of I/O
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["workflows"] == 1 and counts["orphaned"] == 1 and counts["completed"] == 0
    assert counts["orphans"] == [sim.host().object_id]
    assert counts["resets"] == 1


def test_the_watchdog_alarm_finds_it_again() -> None:
    sim = Sim("alarm-recovery", options=IO_STEPS)
    sim.call("run")
    reset_at(sim, 100.0)
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["orphaned"] == 0 and counts["completed"] == 1
    assert counts["steps_repeated"] == 1  # the first step's body ran again


def test_an_event_the_tracker_never_accepts_is_lost() -> None:
    sim = Sim("baseline", faults=Faults(tracker_outages_ms=((0.0, 3_600_000.0),)))
    sim.call("run_async")
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["events_delivered"] == 0
    assert counts["events_lost"] == counts["events_emitted"] > 0
    assert counts["lifecycle_lost"] == 3  # queued, started, completed
    assert counts["lifecycle_lost_by_type"] == {
        "workflow.queued": 1,
        "workflow.started": 1,
        "workflow.completed": 1,
    }
    assert counts["lost_by_type"]["workflow.queued"] == 1


def test_the_outbox_delivers_them_after_the_outage() -> None:
    sim = Sim("alarm-flush", faults=Faults(tracker_outages_ms=((0.0, 30_000.0),)))
    sim.call("run_async")
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["events_lost"] == 0 and counts["lifecycle_lost"] == 0
    assert counts["alarms_dropped"] == 0


def test_an_outbox_alarm_that_fails_every_retry_is_dropped() -> None:
    # The purge alarm fails while the outbox cannot be delivered: retried six times, then dropped.
    sim = Sim("alarm-flush", faults=Faults(tracker_outages_ms=((0.0, 3_600_000.0),)))
    sim.call("run_async")
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["alarms_dropped"] == 1
    assert counts["completed"] == 1 and counts["orphaned"] == 0


def test_a_workflow_that_throws_is_failed() -> None:
    sim = Sim("baseline", options=REJECTS)
    sim.call("run_async")
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["workflows"] == counts["failed"] == 1
    assert counts["completed"] == counts["cancelled"] == counts["orphaned"] == 0


def test_a_workflow_cancelled_in_its_sleep_is_cancelled() -> None:
    sim = Sim("baseline")
    sim.call("run_async")
    sim.call("cancel", at=500.0)  # during the 1 s sleep
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["workflows"] == counts["cancelled"] == 1
    assert counts["completed"] == counts["failed"] == counts["orphaned"] == 0


def test_an_event_never_emitted_is_missing() -> None:
    sim = Sim("fast-queue")
    sim.call("run_async")
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["lifecycle_missing"] == 1
    assert counts["lifecycle_missing_by_type"] == {"workflow.queued": 1}
    assert counts["events_lost"] == 0


def test_a_late_alarm_makes_a_late_sleep() -> None:
    sim = Sim("baseline", constant_profile(alarm_delay=5000.0))
    sim.call("run_async")
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["sleeps"] == 1 and counts["sleeps_late"] == 1
    assert 5000.0 <= counts["sleep_late_max_ms"] < 5100.0


def test_without_the_output_gate_run_async_can_answer_for_a_workflow_never_queued() -> None:
    ungated = Sim("fast-queue", switches=PlatformSwitches(output_gate=False))
    record = ungated.call("run_async")
    reset_at(ungated, 15.0)  # after the answer (read 10 ms), before the commit (20 ms more)
    ungated.run(600_000)
    assert record.outcome == "ok"
    assert invariants(ungated.log)["acknowledged_not_queued"] == 1

    gated = Sim("fast-queue")
    record = gated.call("run_async")
    reset_at(gated, 15.0)
    gated.run(600_000)
    assert record.outcome == "reset"
    assert invariants(gated.log)["acknowledged_not_queued"] == 0


def test_a_clean_run_keeps_every_invariant() -> None:
    sim = Sim("baseline")
    for n in range(3):
        sim.call("run_async", f"order-{n}", at=n * 100.0)
    sim.run(600_000)
    counts = invariants(sim.log)
    assert counts["workflows"] == counts["completed"] == 3
    for name in (
        "failed",
        "cancelled",
        "orphaned",
        "events_lost",
        "lifecycle_lost",
        "lifecycle_missing",
        "steps_repeated",
        "sleeps_late",
        "acknowledged_not_queued",
        "alarms_dropped",
        "resets",
    ):
        assert counts[name] == 0, name

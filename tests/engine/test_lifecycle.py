"""Whole lifecycles on the instant runtime, for every design preset."""

from __future__ import annotations

import pytest

from engine.design import PRESETS, design_by_name
from simulator.runtime.instant import InstantRuntime
from tests.conftest import INSTANCE, oid, queue_order, status_tag

FULL_LIFE = [
    "workflow.queued",
    "workflow.started",
    "step.started",
    "step.completed",
    "sleep.started",
    "workflow.paused",
    "workflow.resumed",
    "sleep.completed",
    "step.started",
    "step.completed",
    "workflow.completed",
]


@pytest.mark.parametrize("name", list(PRESETS))
def test_run_async_then_alarms_run_the_workflow_to_completion_and_purge(name: str) -> None:
    rt = InstantRuntime(design_by_name(name))
    assert queue_order(rt) == {"id": INSTANCE}
    assert status_tag(rt) == "Queued"
    assert rt.storage_of(oid()).alarm_ms == 1.0

    rt.fire_next_alarm()  # start: first step, then the sleep pauses it
    assert status_tag(rt) == "Paused"
    assert rt.storage_of(oid()).alarm_ms == pytest.approx(1001.0)

    rt.fire_next_alarm()  # resume after the sleep: second step, complete
    assert status_tag(rt) == "Completed"
    data = rt.storage_of(oid()).data
    assert data["workflow:completedSteps"] == ["validate", "charge"]
    assert data["workflow:purge:scheduled"] is True

    rt.fire_next_alarm()  # purge, 60 s later
    assert rt.storage_of(oid()).data == {}
    assert rt.next_alarm() is None

    emitted = [e["type"] for e in rt.log.emitted.values()]
    delivered = [e["type"] for e in rt.endpoint.events.values()]
    design = design_by_name(name)
    if design.queue_path == "fast":
        # The seed's fast path bypasses the layer, so it emits no queued event at all.
        assert emitted == FULL_LIFE[1:]
    else:
        assert emitted == FULL_LIFE
    if design.flush == "seed-literal":
        # The literal code flushes a new call's empty buffer: the queued event never leaves.
        assert delivered == [t for t in emitted if t != "workflow.queued"]
    else:
        assert delivered == emitted


def test_second_run_async_with_the_same_id_is_idempotent() -> None:
    rt = InstantRuntime()
    queue_order(rt)
    rt.trace.clear()
    events_before = len(rt.log.emitted.values())
    assert queue_order(rt) == {"id": INSTANCE}
    assert [e.op for e in rt.trace if e.op not in ("compute",)] == ["get"]
    assert len(rt.log.emitted.values()) == events_before
    assert status_tag(rt) == "Queued"


def test_run_executes_synchronously_until_the_sleep() -> None:
    from engine.client import WorkflowClient

    rt = InstantRuntime()
    rt.run_client(WorkflowClient().run("processOrder", {"orderId": "x"}, "order-1"))
    assert status_tag(rt) == "Paused"
    rt.run_alarms()
    assert rt.storage_of(oid()).data == {}


def test_run_async_of_an_unknown_workflow_fails_and_writes_nothing() -> None:
    rt = InstantRuntime()
    with pytest.raises(LookupError, match="unknown workflow 'nope'; registered: processOrder"):
        queue_order(rt, workflow="nope")
    assert all(not s.data for s in rt.stored.values())


def test_get_completed_steps_and_meta_read_storage() -> None:
    rt = InstantRuntime()
    queue_order(rt)
    rt.fire_next_alarm()
    assert rt.call(oid(), "get_completed_steps") == ["validate"]
    assert rt.call(oid(), "get_meta", "missing") is None

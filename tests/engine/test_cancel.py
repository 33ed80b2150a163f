from __future__ import annotations

from typing import Any

from engine.client import WorkflowClient
from engine.layers import EngineOptions
from engine.ops import Program, Rpc
from engine.workflow import Workflow, work
from simulator.runtime.instant import InstantRuntime
from tests.conftest import INSTANCE, oid, queue_order, status_tag


def test_cancel_a_queued_workflow_removes_its_alarm() -> None:
    rt = InstantRuntime()
    queue_order(rt)
    result = rt.run_client(WorkflowClient().cancel(INSTANCE, "customer changed mind"))
    assert result == {"cancelled": True, "reason": None}
    assert status_tag(rt) == "Cancelled"
    assert rt.storage_of(oid()).alarm_ms is None
    assert rt.storage_of(oid()).data["workflow:cancelReason"] == "customer changed mind"
    assert rt.run_alarms() == 0


def test_cancel_a_paused_workflow_stops_it_before_the_next_step() -> None:
    rt = InstantRuntime()
    queue_order(rt)
    rt.fire_next_alarm()
    assert status_tag(rt) == "Paused"
    rt.call(oid(), "cancel", None)
    assert status_tag(rt) == "Cancelled"
    assert rt.run_alarms() == 0
    assert rt.storage_of(oid()).data["workflow:completedSteps"] == ["validate"]
    # Upstream's cancel does not flush: the cancelled event is emitted but never delivered.
    assert "workflow.cancelled" in [e["type"] for e in rt.log.emitted.values()]
    assert "workflow.cancelled" not in rt.endpoint.types()


def test_cancel_of_a_terminal_or_unknown_workflow_is_refused() -> None:
    rt = InstantRuntime()
    assert rt.run_client(WorkflowClient().cancel("processOrder:ghost")) == {
        "cancelled": False,
        "reason": "not_found",
    }
    queue_order(rt)
    rt.run_alarms(limit=2)
    assert status_tag(rt) == "Completed"
    assert rt.call(oid(), "cancel", None) == {"cancelled": False, "reason": "already_terminal"}


def _cancels_itself() -> Workflow:
    """A workflow whose first step calls `cancel` on its own object, as a concurrent caller would
    while the step awaits I/O; the flag stops the run at the next step."""

    def cancel_me() -> Program[str]:
        yield Rpc(oid(), "cancel", ("stop",))
        return "sent"

    def body(ctx: Any, input: Any) -> Program[None]:
        yield from ctx.step("first", cancel_me)
        yield from ctx.step("second", work("step:second"))

    return Workflow("processOrder", body)


def test_cancel_a_running_workflow_stops_it_at_the_next_step() -> None:
    rt = InstantRuntime(options=EngineOptions(workflows=(_cancels_itself(),)))
    queue_order(rt)
    rt.fire_next_alarm()
    status = rt.storage_of(oid()).data["workflow:status"]
    assert status.tag == "Cancelled"
    # Upstream records the step at which it stopped as the reason, not the caller's reason.
    assert status.reason == "second"
    assert rt.storage_of(oid()).data["workflow:completedSteps"] == ["first"]
    assert "step:second:result" not in rt.storage_of(oid()).data

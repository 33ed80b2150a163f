from __future__ import annotations

import pytest

from engine.client import WorkflowClient
from engine.design import design_by_name
from engine.ops import Compute, Op
from simulator.runtime.errors import ObjectReset
from simulator.runtime.instant import InstantRuntime
from tests.conftest import INSTANCE, oid, queue_order, settle, status_tag


def crash_once_at(label: str):
    """A crash predicate: the object dies before the first `Compute(label)`, then never again."""
    fired = []

    def crash(call: str, op: Op) -> bool:
        if isinstance(op, Compute) and op.label == label and not fired:
            fired.append(call)
            return True
        return False

    return crash


def test_a_crash_mid_alarm_is_retried_and_recovers_the_running_workflow() -> None:
    rt = InstantRuntime()
    queue_order(rt)
    rt.fire_next_alarm()  # runs to the sleep
    rt.crash_when = crash_once_at("step:charge")
    rt.fire_next_alarm()  # resumes, dies before `charge`
    assert status_tag(rt) == "Running"
    assert rt.storage_of(oid()).alarm_ms == pytest.approx(rt.now_ms + 2000)  # platform retry
    assert settle(rt) == "Completed"
    data = rt.storage_of(oid()).data
    assert data["workflow:completedSteps"] == ["validate", "charge"]
    assert [e["type"] for e in rt.log.emitted.values()].count("workflow.resumed") == 2


def _stranded_running_workflow(design: str) -> InstantRuntime:
    """A workflow started with `run` whose object dies in its first step: Running, no alarm."""
    rt = InstantRuntime(design_by_name(design))
    rt.crash_when = crash_once_at("step:validate")
    with pytest.raises(ObjectReset):
        rt.run_client(WorkflowClient().run("processOrder", {"orderId": "x"}, "order-1"))
    assert status_tag(rt) == "Running"
    return rt


def test_the_constructor_recovers_a_stale_running_workflow_on_the_next_call() -> None:
    rt = _stranded_running_workflow("baseline")
    assert rt.next_alarm() is None
    rt.now_ms += 31_000  # past the 30 s stale threshold
    rt.run_client(WorkflowClient().status(INSTANCE))  # any call constructs the object
    assert rt.storage_of(oid()).alarm_ms == pytest.approx(rt.now_ms + 100)
    assert settle(rt) == "Completed"


def test_a_fresh_running_workflow_is_not_yet_stale() -> None:
    rt = _stranded_running_workflow("baseline")
    rt.now_ms += 5_000
    rt.run_client(WorkflowClient().status(INSTANCE))
    assert rt.next_alarm() is None


def test_lazy_recovery_leaves_a_stranded_workflow_until_someone_asks() -> None:
    rt = _stranded_running_workflow("lazy-recovery")
    rt.now_ms += 31_000
    assert rt.next_alarm() is None  # orphaned until a status query, run or alarm
    rt.run_client(WorkflowClient().status(INSTANCE))
    assert settle(rt) == "Completed"


def test_alarm_recovery_keeps_a_watchdog_alarm_while_running() -> None:
    rt = _stranded_running_workflow("alarm-recovery")
    assert rt.next_alarm() is not None  # set when the workflow entered Running
    assert settle(rt) == "Completed"  # no call needed


def test_constructor_recovery_of_a_paused_sleep_wakes_early_and_pushes_the_sleep_out() -> None:
    """Upstream quirk kept on purpose: a Paused workflow with a pending resume counts as
    recoverable, so constructing the object replaces the sleep's alarm with one 100 ms away; that
    early alarm finds the sleep not yet due and starts it again from now."""
    rt = InstantRuntime()
    queue_order(rt)
    rt.fire_next_alarm()
    due = rt.storage_of(oid()).alarm_ms
    rt.evict(oid())
    rt.now_ms += 400
    rt.run_client(WorkflowClient().status(INSTANCE))
    assert rt.storage_of(oid()).alarm_ms == pytest.approx(rt.now_ms + 100)
    rt.fire_next_alarm()  # early: the sleep starts over
    assert status_tag(rt) == "Paused"
    assert rt.storage_of(oid()).alarm_ms == pytest.approx(rt.now_ms + 1000)
    assert rt.storage_of(oid()).alarm_ms > due


def test_recovery_gives_up_after_max_attempts() -> None:
    rt = InstantRuntime()
    queue_order(rt)
    rt.fire_next_alarm()
    data = rt.storage_of(oid()).data
    data["workflow:recoveryAttempts"] = 3
    rt.crash_when = crash_once_at("step:charge")
    rt.fire_next_alarm()  # dies while Running
    rt.fire_next_alarm()  # the retried alarm finds Running and too many attempts
    assert status_tag(rt) == "Failed"

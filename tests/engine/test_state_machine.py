from __future__ import annotations

from typing import Any

import pytest

from engine.layers import EngineOptions
from engine.ops import Program
from engine.state_machine import Keys, StateMachine
from engine.status import Cancel, Complete, InvalidTransition, Queue, Running, Start
from engine.workflow import two_steps_with_sleep
from simulator.runtime.instant import InstantRuntime
from tests.conftest import oid, queue_order


def run_on_object(rt: InstantRuntime, program: Program[Any]) -> Any:
    return rt.run_program(oid(), program)


@pytest.mark.parametrize("reads", ["gets", "list", "multi-get"])
def test_get_state_reads_the_same_state_however_it_reads(reads: str) -> None:
    rt = InstantRuntime()
    queue_order(rt)
    rt.fire_next_alarm()  # paused in its sleep: most keys are set
    state = run_on_object(rt, StateMachine(reads).get_state())
    reference = run_on_object(rt, StateMachine("gets").get_state())
    assert state == reference
    assert state.workflow_name == "processOrder"
    assert state.completed_steps == ("validate",)
    assert state.pending_resume_at == pytest.approx(1001.0)


def test_get_state_of_an_empty_object_is_none() -> None:
    rt = InstantRuntime()
    for reads in ("gets", "list", "multi-get"):
        assert run_on_object(rt, StateMachine(reads).get_state()) is None  # type: ignore[arg-type]


def test_transitions_are_validated_against_the_table() -> None:
    rt = InstantRuntime()
    machine = StateMachine()
    with pytest.raises(InvalidTransition, match="'Complete' from 'none'; allowed: Queue, Start"):
        run_on_object(rt, machine.apply_transition(Complete()))
    run_on_object(rt, machine.apply_transition(Queue()))
    with pytest.raises(InvalidTransition, match="'Complete' from 'Queued'; allowed: Cancel, Start"):
        run_on_object(rt, machine.apply_transition(Complete()))
    status = run_on_object(rt, machine.apply_transition(Start()))
    assert isinstance(status, Running)
    run_on_object(rt, machine.apply_transition(Cancel("stop")))
    with pytest.raises(InvalidTransition, match="none \\(terminal\\)"):
        run_on_object(rt, machine.apply_transition(Start()))


def test_recoverability_follows_status_and_staleness() -> None:
    rt = InstantRuntime()
    machine = StateMachine()
    assert run_on_object(rt, machine.check_recoverability(30_000)).reason == "no_workflow"
    run_on_object(rt, machine.apply_transition(Queue()))
    assert run_on_object(rt, machine.check_recoverability(30_000)).reason == "not_recoverable"
    run_on_object(rt, machine.apply_transition(Start()))
    assert not run_on_object(rt, machine.check_recoverability(30_000)).can_recover
    rt.now_ms += 30_000
    check = run_on_object(rt, machine.check_recoverability(30_000))
    assert check.can_recover and check.reason == "stale_running"


def test_mark_step_completed_is_idempotent() -> None:
    rt = InstantRuntime()
    machine = StateMachine()
    run_on_object(rt, machine.mark_step_completed("a"))
    run_on_object(rt, machine.mark_step_completed("a"))
    assert rt.storage_of(oid()).data[Keys.COMPLETED_STEPS] == ["a"]


def test_without_a_tracker_nothing_is_sent() -> None:
    rt = InstantRuntime(options=EngineOptions(workflows=(two_steps_with_sleep(),), tracker=None))
    queue_order(rt)
    rt.run_alarms()
    assert not [e for e in rt.trace if e.op == "http"]
    assert rt.endpoint.requests == 0

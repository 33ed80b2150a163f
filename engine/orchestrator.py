"""The orchestrator: start, queue, alarm handling, cancellation and status of one workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine import storage
from engine.executor import Emit, ExecutionResult, Executor
from engine.ops import Now, Program
from engine.purge import PurgeManager
from engine.recovery import RecoveryManager
from engine.state_machine import StateMachine, WorkflowState
from engine.status import (
    Cancel,
    Complete,
    Fail,
    Pause,
    Queue,
    Resume,
    Running,
    Start,
    Status,
    Transition,
    is_terminal,
)
from engine.tracker import iso
from engine.workflow import Registry, Workflow


@dataclass(frozen=True)
class WorkflowCall:
    workflow: str
    input: Any = None
    execution_id: str | None = None


@dataclass(frozen=True)
class StartResult:
    id: str
    completed: bool
    output: Any = None


@dataclass(frozen=True)
class CancelResult:
    cancelled: bool
    reason: str | None = None
    previous_status: str | None = None


@dataclass(frozen=True)
class StatusResult:
    status: Status | None
    completed_steps: tuple[str, ...]
    exists: bool


def _transition_for(result: ExecutionResult) -> Transition:
    if result.tag == "Completed":
        return Complete()
    if result.tag == "Paused":
        assert result.pause is not None
        return Pause(result.pause.reason, result.pause.resume_at, result.pause.step_name)
    if result.tag == "Failed":
        return Fail(error=result.error or {})
    return Cancel(reason=result.cancel_reason)


def _event_for(result: ExecutionResult) -> tuple[str, dict[str, Any]]:
    """The event that announces an execution's outcome, with its fields."""
    steps = list(result.completed_steps)
    if result.tag == "Completed":
        return "workflow.completed", {"completedSteps": steps, "durationMs": result.duration_ms}
    if result.tag == "Failed":
        return "workflow.failed", {"error": result.error, "completedSteps": steps}
    if result.tag == "Paused":
        assert result.pause is not None
        return "workflow.paused", {
            "reason": result.pause.reason,
            "resumeAt": iso(result.pause.resume_at),
            "stepName": result.pause.step_name,
        }
    return "workflow.cancelled", {"reason": result.cancel_reason, "completedSteps": steps}


class Orchestrator:
    """`watchdog=True` keeps an alarm set while a workflow runs (the alarm-driven recovery design)."""

    def __init__(
        self,
        instance_id: str,
        registry: Registry,
        machine: StateMachine,
        executor: Executor,
        recovery: RecoveryManager,
        purge: PurgeManager,
        emit: Emit,
        watchdog: bool = False,
    ) -> None:
        self.instance_id = instance_id
        self._registry = registry
        self._machine = machine
        self._executor = executor
        self._recovery = recovery
        self._purge = purge
        self._emit = emit
        self._watchdog = watchdog

    # --- entry points---

    def start(self, call: WorkflowCall) -> Program[StartResult]:
        workflow = self._registry.get(call.workflow)
        existing = yield from self._machine.get_status()
        if existing is not None:
            return StartResult(self.instance_id, existing.tag == "Completed")
        yield from self._machine.initialize(call.workflow, call.input, call.execution_id)
        yield from self._enter_running(Start(input=call.input))
        yield from self._emit(
            call.workflow, call.execution_id, "workflow.started", input=call.input
        )
        result = yield from self._execute_and_settle(
            workflow, call.input, call.workflow, call.execution_id
        )
        return StartResult(self.instance_id, result.tag == "Completed", result.output)

    def queue(self, call: WorkflowCall) -> Program[StartResult]:
        self._registry.get(call.workflow)
        existing = yield from self._machine.get_status()
        if existing is not None:
            return StartResult(self.instance_id, existing.tag == "Completed")
        yield from self._machine.initialize(call.workflow, call.input, call.execution_id)
        yield from self._machine.apply_transition(Queue(input=call.input))
        yield from self._emit(call.workflow, call.execution_id, "workflow.queued", input=call.input)
        now = yield Now()
        yield from storage.set_alarm(now + 1)
        return StartResult(self.instance_id, completed=False)

    def handle_alarm(self) -> Program[None]:
        status = yield from self._machine.get_status()
        if status is None:
            return
        if status.tag == "Queued":
            state, workflow = yield from self._load()
            yield from self._enter_running(Start(input=state.input))
            yield from self._emit(
                state.workflow_name, state.execution_id, "workflow.started", input=state.input
            )
        elif status.tag == "Paused":
            state, workflow = yield from self._load()
            yield from self._enter_running(Resume())
            yield from self._emit(state.workflow_name, state.execution_id, "workflow.resumed")
        elif status.tag == "Running":
            if self._watchdog and not (yield from self._is_stale(status)):
                return
            outcome = yield from self._recovery.execute()
            if not outcome.success:
                return
            if self._watchdog:
                yield from self._arm_watchdog()
            state, workflow = yield from self._load()
            yield from self._emit(state.workflow_name, state.execution_id, "workflow.resumed")
        else:
            return
        yield from self._execute_and_settle(
            workflow, state.input, state.workflow_name, state.execution_id
        )

    def _load(self) -> Program[tuple[WorkflowState, Workflow]]:
        """The stored workflow's state and its definition (an alarm only finds them in storage)."""
        state = yield from self._machine.get_state()
        assert state is not None
        return state, self._registry.get(state.workflow_name)

    def cancel(self, reason: str | None = None) -> Program[CancelResult]:
        status = yield from self._machine.get_status()
        if status is None:
            return CancelResult(False, "not_found")
        if is_terminal(status):
            return CancelResult(False, "already_terminal", status.tag)
        yield from self._machine.set_cancelled(reason)
        if status.tag in ("Queued", "Paused"):
            yield from self._machine.get_completed_steps()
            yield from self._machine.apply_transition(Cancel(reason=reason))
            state = yield from self._machine.get_state()
            if state is not None:
                yield from self._emit(
                    state.workflow_name,
                    state.execution_id,
                    "workflow.cancelled",
                    reason=reason,
                    completedSteps=list(state.completed_steps),
                )
            yield from storage.delete_alarm()
        # Running or Pending: the flag stops the workflow at its next step.
        return CancelResult(True, None, status.tag)

    def get_status(self) -> Program[StatusResult]:
        status = yield from self._machine.get_status()
        steps = yield from self._machine.get_completed_steps()
        return StatusResult(status, tuple(steps), status is not None)

    # --- helpers---

    def _enter_running(self, transition: Start | Resume) -> Program[None]:
        yield from self._machine.apply_transition(transition)
        if self._watchdog:
            yield from self._arm_watchdog()

    def _arm_watchdog(self) -> Program[None]:
        """An alarm at the stale threshold, so a run that dies is always found again."""
        now = yield Now()
        yield from storage.set_alarm(now + self._recovery.config.stale_threshold_ms)

    def _is_stale(self, status: Running) -> Program[bool]:
        now = yield Now()
        if now - status.running_at >= self._recovery.config.stale_threshold_ms:
            return True
        # Still running in this or another call: look again when it would be stale.
        yield from storage.set_alarm(status.running_at + self._recovery.config.stale_threshold_ms)
        return False

    def _execute_and_settle(
        self, workflow: Workflow, input: Any, name: str, execution_id: str | None
    ) -> Program[ExecutionResult]:
        result = yield from self._executor.execute(workflow, input)
        yield from self._machine.apply_transition(_transition_for(result))
        event_type, fields = _event_for(result)
        yield from self._emit(name, execution_id, event_type, **fields)
        if result.tag != "Paused":
            yield from storage.delete_alarm()
            yield from self._purge.schedule(result.tag.lower())
        return result

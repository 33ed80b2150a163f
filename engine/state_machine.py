"""The workflow state machine: the `workflow:*` keys, validated transitions, the state snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine import storage
from engine.design import StateReads
from engine.ops import Now, Program
from engine.status import (
    INITIAL_TRANSITIONS,
    VALID_TRANSITIONS,
    InvalidTransition,
    Paused,
    Pending,
    Queued,
    Running,
    Status,
    Transition,
    is_recoverable,
    is_terminal,
    next_status,
)


class Keys:
    STATUS = "workflow:status"
    NAME = "workflow:name"
    INPUT = "workflow:input"
    EXECUTION_ID = "workflow:executionId"
    COMPLETED_STEPS = "workflow:completedSteps"
    COMPLETED_PAUSE_INDEX = "workflow:completedPauseIndex"
    PENDING_RESUME_AT = "workflow:pendingResumeAt"
    RECOVERY_ATTEMPTS = "workflow:recoveryAttempts"
    CANCELLED = "workflow:cancelled"
    CANCEL_REASON = "workflow:cancelReason"
    STARTED_AT = "workflow:startedAt"
    CURRENT_PAUSE_INDEX = "workflow:currentPauseIndex"
    LAST_RECOVERY_AT = "workflow:lastRecoveryAt"
    PREFIX = "workflow:"

    @staticmethod
    def meta(key: str) -> str:
        """Where a workflow's own metadata (`ctx.set_meta`) is stored."""
        return f"workflow:meta:{key}"


#: The nine keys `getState` reads after the status, in the order the seed's code lists them.
STATE_KEYS: tuple[str, ...] = (
    Keys.NAME,
    Keys.INPUT,
    Keys.EXECUTION_ID,
    Keys.COMPLETED_STEPS,
    Keys.COMPLETED_PAUSE_INDEX,
    Keys.PENDING_RESUME_AT,
    Keys.RECOVERY_ATTEMPTS,
    Keys.CANCELLED,
    Keys.CANCEL_REASON,
)


@dataclass(frozen=True)
class WorkflowState:
    status: Status
    workflow_name: str
    input: Any
    execution_id: str | None
    completed_steps: tuple[str, ...]
    completed_pause_index: int
    pending_resume_at: float | None
    recovery_attempts: int
    cancelled: bool
    cancel_reason: str | None


@dataclass(frozen=True)
class Recoverability:
    can_recover: bool
    reason: str
    stale_ms: float = 0.0


class StateMachine:
    """Reads and writes the workflow's state; `state_reads` picks how `get_state` reads it."""

    def __init__(self, state_reads: StateReads = "gets") -> None:
        self.state_reads = state_reads

    def initialize(self, workflow: str, input: Any, execution_id: str | None) -> Program[None]:
        yield from storage.put_batch(initial_entries(workflow, input, execution_id))

    def get_status(self) -> Program[Status | None]:
        return (yield from storage.get(Keys.STATUS))

    def get_state(self) -> Program[WorkflowState | None]:
        values = yield from self._read_state_keys()
        status = values.get(Keys.STATUS)
        if status is None:
            return None
        return WorkflowState(
            status=status,
            workflow_name=values.get(Keys.NAME) or "unknown",
            input=values.get(Keys.INPUT),
            execution_id=values.get(Keys.EXECUTION_ID),
            completed_steps=tuple(values.get(Keys.COMPLETED_STEPS) or ()),
            completed_pause_index=values.get(Keys.COMPLETED_PAUSE_INDEX) or 0,
            pending_resume_at=values.get(Keys.PENDING_RESUME_AT),
            recovery_attempts=values.get(Keys.RECOVERY_ATTEMPTS) or 0,
            cancelled=bool(values.get(Keys.CANCELLED)),
            cancel_reason=values.get(Keys.CANCEL_REASON),
        )

    def _read_state_keys(self) -> Program[dict[str, Any]]:
        if self.state_reads == "list":
            return (yield from storage.list_prefix(Keys.PREFIX))
        if self.state_reads == "multi-get":
            return (yield from storage.get_many((Keys.STATUS, *STATE_KEYS)))
        # Baseline: the status, then nine `get`s one after another (Effect.all is sequential
        # unless concurrency is asked for, and the seed's code does not ask).
        status = yield from storage.get(Keys.STATUS)
        if status is None:
            return {}
        values: dict[str, Any] = {Keys.STATUS: status}
        for key in STATE_KEYS:
            values[key] = yield from storage.get(key)
        return values

    def apply_transition(self, transition: Transition) -> Program[Status]:
        current = yield from self.get_status()
        if current is None:
            if transition.name not in INITIAL_TRANSITIONS:
                raise InvalidTransition("none", transition.name, INITIAL_TRANSITIONS)
        elif transition.name not in VALID_TRANSITIONS[current.tag]:
            raise InvalidTransition(current.tag, transition.name, VALID_TRANSITIONS[current.tag])
        now = yield Now()
        status = next_status(transition, now)
        yield from storage.put(Keys.STATUS, status)
        return status

    def check_recoverability(self, stale_threshold_ms: float) -> Program[Recoverability]:
        status = yield from self.get_status()
        if status is None:
            return Recoverability(False, "no_workflow")
        if is_terminal(status):
            return Recoverability(False, "already_terminal")
        if not is_recoverable(status):
            return Recoverability(False, "not_recoverable")
        if isinstance(status, Running):
            now = yield Now()
            stale_ms = now - status.running_at
            if stale_ms >= stale_threshold_ms:
                return Recoverability(True, "stale_running", stale_ms)
            return Recoverability(False, "not_recoverable")
        assert isinstance(status, Paused)
        pending = yield from storage.get(Keys.PENDING_RESUME_AT)
        if pending is not None:
            return Recoverability(True, "pending_resume")
        return Recoverability(False, "not_recoverable")

    def mark_step_completed(self, step_name: str) -> Program[None]:
        steps = (yield from storage.get(Keys.COMPLETED_STEPS)) or []
        if step_name not in steps:
            yield from storage.put(Keys.COMPLETED_STEPS, [*steps, step_name])

    def get_completed_steps(self) -> Program[list[str]]:
        return list((yield from storage.get(Keys.COMPLETED_STEPS)) or [])

    def increment_recovery_attempts(self) -> Program[int]:
        attempts = ((yield from storage.get(Keys.RECOVERY_ATTEMPTS)) or 0) + 1
        yield from storage.put(Keys.RECOVERY_ATTEMPTS, attempts)
        return int(attempts)

    def reset_recovery_attempts(self) -> Program[None]:
        yield from storage.put(Keys.RECOVERY_ATTEMPTS, 0)

    def set_cancelled(self, reason: str | None) -> Program[None]:
        yield from storage.put(Keys.CANCELLED, True)
        if reason:
            yield from storage.put(Keys.CANCEL_REASON, reason)

    def is_cancelled(self) -> Program[bool]:
        return bool((yield from storage.get(Keys.CANCELLED)))


def initial_entries(workflow: str, input: Any, execution_id: str | None) -> dict[str, Any]:
    """The batch `initialize` writes: status Pending and the bookkeeping keys."""
    return {
        Keys.STATUS: Pending(),
        Keys.NAME: workflow,
        Keys.INPUT: input,
        Keys.EXECUTION_ID: execution_id,
        Keys.COMPLETED_STEPS: [],
        Keys.COMPLETED_PAUSE_INDEX: 0,
        Keys.RECOVERY_ATTEMPTS: 0,
        Keys.CANCELLED: False,
    }


def queued_entries(
    workflow: str, input: Any, execution_id: str | None, now: float
) -> dict[str, Any]:
    """The same batch with the status already Queued (the fast path writes it in one go)."""
    return {**initial_entries(workflow, input, execution_id), Keys.STATUS: Queued(queued_at=now)}

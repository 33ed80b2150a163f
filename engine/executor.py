"""The executor: runs a workflow body, replaying stored step results and honouring pauses.

Every alarm re-runs the body from the top. A step whose result is stored returns it without
running; a sleep whose pause index is already completed is skipped. A sleep or a retry stops the
run with a `PauseSignal`, and the executor sets the alarm that will resume it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from engine import storage
from engine.ops import Now, OperationTimedOut, Program, Random, Timeout
from engine.state_machine import Keys, StateMachine
from engine.tracker import iso
from engine.workflow import (
    PauseSignal,
    Retry,
    RetryExhausted,
    StepCancelled,
    StepTimedOut,
    Workflow,
)


def step_key(name: str, part: str) -> str:
    return f"step:{name}:{part}"


class Emit(Protocol):
    def __call__(
        self, workflow_name: str, execution_id: str | None, event_type: str, **fields: Any
    ) -> Program[None]: ...


def error_info(error: BaseException) -> dict[str, Any]:
    return {"message": str(error), "type": type(error).__name__}


@dataclass(frozen=True)
class ExecutionResult:
    tag: Literal["Completed", "Paused", "Failed", "Cancelled"]
    completed_steps: tuple[str, ...] = ()
    output: Any = None
    duration_ms: float = 0.0
    error: dict[str, Any] | None = None
    pause: PauseSignal | None = None
    cancel_reason: str | None = None


class StepContext:
    """The `WorkflowContext` a body sees: `step` and `sleep`, each a program to `yield from`."""

    def __init__(self, machine: StateMachine, emit: Emit) -> None:
        self._machine = machine
        self._emit = emit

    def _identity(self) -> Program[tuple[str, str | None]]:
        name = (yield from storage.get(Keys.NAME)) or "unknown"
        execution_id = yield from storage.get(Keys.EXECUTION_ID)
        return name, execution_id

    def set_meta(self, key: str, value: Any) -> Program[None]:
        yield from storage.put(Keys.meta(key), value)

    def step(
        self,
        name: str,
        execute: Callable[[], Program[Any]],
        retry: Retry | None = None,
        timeout_ms: float | None = None,
    ) -> Program[Any]:
        if (yield from self._machine.is_cancelled()):
            raise StepCancelled(name)
        wf_name, execution_id = yield from self._identity()

        def emit(event_type: str, **fields: Any) -> Program[None]:
            yield from self._emit(wf_name, execution_id, event_type, stepName=name, **fields)

        cached = yield from storage.get(step_key(name, "result"))
        if cached is not None:
            return cached["value"]

        now = yield Now()
        started_at = yield from storage.get(step_key(name, "startedAt"))
        attempt = (yield from storage.get(step_key(name, "attempt"))) or 1
        first_run = started_at is None
        if first_run:
            yield from storage.put(step_key(name, "startedAt"), now)
        yield from emit("step.started", attempt=attempt)

        if retry is not None:
            out_of_time = (
                retry.max_duration_ms is not None
                and not first_run
                and now - started_at >= retry.max_duration_ms
            )
            if out_of_time or attempt > retry.max_attempts + 1:
                yield from emit("retry.exhausted", attempts=attempt - 1)
                last_error = yield from storage.get(step_key(name, "meta:lastError"))
                raise RetryExhausted(name, attempt - 1, last_error or "max duration exceeded")

        body: Program[Any] = execute()
        if timeout_ms is not None:
            # The deadline counts from the step's first start and is shared by every attempt.
            deadline = (now if first_run else started_at) + timeout_ms
            if first_run:
                yield from emit("timeout.set", deadline=iso(deadline), timeoutMs=timeout_ms)
            remaining = deadline - now
            if remaining <= 0:
                yield from emit("timeout.exceeded", timeoutMs=timeout_ms)
                raise StepTimedOut(name, timeout_ms)
            body = _with_timeout(remaining, body, name, timeout_ms)

        try:
            value = yield from body
        except (PauseSignal, StepCancelled):
            raise
        except Exception as error:
            if retry is None or (retry.is_retryable is not None and not retry.is_retryable(error)):
                yield from emit(
                    "step.failed", attempt=attempt, error=error_info(error), willRetry=False
                )
                raise
            if attempt > retry.max_attempts:
                yield from emit("retry.exhausted", attempts=attempt)
                raise RetryExhausted(name, attempt, error) from error
            yield from storage.put(step_key(name, "meta:lastError"), error_info(error))
            stored_attempt = (yield from storage.get(step_key(name, "attempt"))) or 1
            yield from storage.put(step_key(name, "attempt"), stored_attempt + 1)
            delay = retry.base_delay_ms(attempt)
            if retry.jitter:
                delay += ((yield Random()) * 2 - 1) * 0.1 * delay
            resume_at = now + delay
            yield from emit(
                "retry.scheduled", attempt=attempt, nextAttemptAt=iso(resume_at), delayMs=delay
            )
            raise PauseSignal("retry", resume_at, name, attempt + 1) from error

        completed_at = yield Now()
        final_attempt = (yield from storage.get(step_key(name, "attempt"))) or 1
        duration = completed_at - (now if first_run else started_at)
        yield from storage.put(
            step_key(name, "result"),
            {
                "value": value,
                "meta": {
                    "completedAt": completed_at,
                    "attempt": final_attempt,
                    "durationMs": duration,
                },
            },
        )
        yield from self._machine.mark_step_completed(name)
        yield from emit("step.completed", attempt=final_attempt, durationMs=duration, cached=False)
        return value

    def sleep(self, duration_ms: float) -> Program[None]:
        wf_name, execution_id = yield from self._identity()
        pause_index = ((yield from storage.get(Keys.CURRENT_PAUSE_INDEX)) or 0) + 1
        yield from storage.put(Keys.CURRENT_PAUSE_INDEX, pause_index)
        completed = (yield from storage.get(Keys.COMPLETED_PAUSE_INDEX)) or 0
        if pause_index <= completed:
            return
        pending = yield from storage.get(Keys.PENDING_RESUME_AT)
        now = yield Now()
        if pending is not None and now >= pending:
            yield from self._emit(wf_name, execution_id, "sleep.completed", durationMs=duration_ms)
            yield from storage.put(Keys.COMPLETED_PAUSE_INDEX, pause_index)
            yield from storage.delete(Keys.PENDING_RESUME_AT)
            return
        # Not due (or never started): start the sleep now. An early wake-up therefore pushes the
        # sleep out to now + duration, as upstream does.
        resume_at = now + duration_ms
        yield from storage.put(Keys.PENDING_RESUME_AT, resume_at)
        yield from self._emit(
            wf_name, execution_id, "sleep.started", durationMs=duration_ms, resumeAt=iso(resume_at)
        )
        raise PauseSignal("sleep", resume_at)


def _with_timeout(
    remaining_ms: float, body: Program[Any], step_name: str, timeout_ms: float
) -> Program[Any]:
    try:
        return (yield Timeout(remaining_ms, body))
    except OperationTimedOut:
        raise StepTimedOut(step_name, timeout_ms) from None


class Executor:
    def __init__(self, machine: StateMachine, emit: Emit) -> None:
        self._machine = machine
        self._emit = emit

    def execute(self, workflow: Workflow, input: Any) -> Program[ExecutionResult]:
        started_at = yield Now()
        yield from storage.put(Keys.STARTED_AT, started_at)
        yield from storage.put(Keys.CURRENT_PAUSE_INDEX, 0)
        ctx = StepContext(self._machine, self._emit)
        outcome: ExecutionResult
        try:
            output = yield from workflow.body(ctx, input)
            outcome = ExecutionResult("Completed", output=output)
        except PauseSignal as pause:
            outcome = ExecutionResult("Paused", pause=pause.with_traceback(None))
        except StepCancelled as cancelled:
            outcome = ExecutionResult("Cancelled", cancel_reason=cancelled.step_name)
        except Exception as error:
            outcome = ExecutionResult("Failed", error=error_info(error))
        finished_at = yield Now()
        steps = tuple((yield from self._machine.get_completed_steps()))
        if outcome.pause is not None:
            yield from storage.set_alarm(outcome.pause.resume_at)
        return replace(outcome, completed_steps=steps, duration_ms=finished_at - started_at)

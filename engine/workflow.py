"""Workflow definitions: a named body that runs steps and sleeps through a `WorkflowContext`.

A workflow body is a generator function `body(ctx, input)`; a step's `execute` is a zero-argument
function returning a program (it may `Compute`, `Wait` on an external service, `Http`, or raise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from engine.ops import Compute, Program, Wait


@dataclass(frozen=True)
class Backoff:
    """A backoff strategy: delay for attempt n (1-based), in ms, capped at `max_ms`."""

    kind: Literal["constant", "linear", "exponential"]
    initial_ms: float
    multiplier: float = 2.0
    increment_ms: float = 0.0
    max_ms: float | None = None

    def delay_ms(self, attempt: int) -> float:
        if self.kind == "constant":
            delay = self.initial_ms
        elif self.kind == "linear":
            delay = self.initial_ms + self.increment_ms * (attempt - 1)
        else:
            delay = self.initial_ms * self.multiplier ** (attempt - 1)
        return min(delay, self.max_ms) if self.max_ms is not None else delay


DelaySpec = float | Backoff | Callable[[int], float] | None


@dataclass(frozen=True)
class Retry:
    """Retry policy of a step. With `max_attempts = N` a step runs at most N + 1 times."""

    max_attempts: int
    delay: DelaySpec = None
    jitter: bool = True
    max_duration_ms: float | None = None
    is_retryable: Callable[[BaseException], bool] | None = None

    def base_delay_ms(self, attempt: int) -> float:
        if self.delay is None:
            return float(min(1000 * 2 ** (attempt - 1), 60_000))
        if isinstance(self.delay, Backoff):
            return self.delay.delay_ms(attempt)
        if callable(self.delay):
            return float(self.delay(attempt))
        return float(self.delay)


class WorkflowContext(Protocol):
    """What a workflow body sees (the executor's `StepContext` is one): steps, sleeps, metadata."""

    def step(
        self,
        name: str,
        execute: Callable[[], Program[Any]],
        retry: Retry | None = None,
        timeout_ms: float | None = None,
    ) -> Program[Any]: ...

    def sleep(self, duration_ms: float) -> Program[None]: ...

    def set_meta(self, key: str, value: Any) -> Program[None]: ...


WorkflowBody = Callable[[WorkflowContext, Any], Program[Any]]


@dataclass(frozen=True)
class Workflow:
    name: str
    body: WorkflowBody


class UnknownWorkflow(LookupError):
    pass


class Registry:
    def __init__(self, workflows: list[Workflow]) -> None:
        self._by_name = {w.name: w for w in workflows}

    def get(self, name: str) -> Workflow:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownWorkflow(
                f"unknown workflow {name!r}; registered: {', '.join(self._by_name) or 'none'}"
            ) from None


# --- errors the primitives raise---


class PauseSignal(Exception):
    """Not an error: the workflow stops here until an alarm at `resume_at` resumes it."""

    def __init__(
        self,
        reason: Literal["sleep", "retry"],
        resume_at: float,
        step_name: str | None = None,
        attempt: int | None = None,
    ) -> None:
        super().__init__(f"pause ({reason}) until {resume_at}")
        self.reason: Literal["sleep", "retry"] = reason
        self.resume_at = resume_at
        self.step_name = step_name
        self.attempt = attempt


class StepCancelled(Exception):
    def __init__(self, step_name: str) -> None:
        super().__init__(f"workflow cancelled before step {step_name!r}")
        self.step_name = step_name


class RetryExhausted(Exception):
    def __init__(
        self, step_name: str, attempts: int, last_error: BaseException | str | None
    ) -> None:
        super().__init__(f'Step "{step_name}" failed after {attempts} attempts: {last_error}')
        self.step_name = step_name
        self.attempts = attempts


class StepTimedOut(Exception):
    def __init__(self, step_name: str, timeout_ms: float) -> None:
        super().__init__(f"step {step_name!r} exceeded its timeout of {timeout_ms} ms")
        self.step_name = step_name


# --- a standard workflow for scenarios---


#: The prefix of a step body's `Compute` label: counting these counts the times a step ran.
STEP_WORK = "step:"


def work(label: str, cpu_ms: float = 1.0, io_ms: float = 0.0) -> Callable[[], Program[str]]:
    """A step body that uses the CPU for `cpu_ms` and then waits `io_ms` on an external service."""

    def execute() -> Program[str]:
        yield Compute(label, cpu_ms)
        if io_ms:
            yield Wait(io_ms)
        return f"{label}:done"

    return execute


def two_steps_with_sleep(sleep_ms: float = 1000.0, io_ms: float = 0.0) -> Workflow:
    """The canonical workflow: `validate`, a sleep, `charge` (the trace scenarios use it)."""

    def body(ctx: WorkflowContext, input: Any) -> Program[dict[str, Any]]:
        validated = yield from ctx.step("validate", work(f"{STEP_WORK}validate", io_ms=io_ms))
        yield from ctx.sleep(sleep_ms)
        charged = yield from ctx.step("charge", work(f"{STEP_WORK}charge", io_ms=io_ms))
        return {"order": input, "validate": validated, "charge": charged}

    return Workflow("processOrder", body)

"""Recovery of workflows interrupted mid-run (a reset while Running, or a sleep whose alarm is due)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from engine import storage
from engine.ops import Now, Program
from engine.state_machine import Keys, StateMachine
from engine.status import Fail, InvalidTransition, Recover, is_terminal


@dataclass(frozen=True)
class RecoveryConfig:
    stale_threshold_ms: float = 30_000.0
    max_attempts: int = 3
    delay_ms: float = 100.0


@dataclass(frozen=True)
class RecoveryCheck:
    scheduled: bool
    reason: str


@dataclass(frozen=True)
class RecoveryOutcome:
    success: bool
    reason: str
    attempt: int = 0


class RecoveryFailed(Exception):
    """The workflow was failed after too many recovery attempts (the alarm call rejects)."""


class RecoveryManager:
    def __init__(self, machine: StateMachine, config: RecoveryConfig) -> None:
        self._machine = machine
        self.config = config

    def _attempts(self) -> Program[int]:
        attempts = (yield from storage.get(Keys.RECOVERY_ATTEMPTS)) or 0
        yield from storage.get(Keys.LAST_RECOVERY_AT)
        return int(attempts)

    def check_and_schedule(self) -> Program[RecoveryCheck]:
        """If the workflow needs recovery, schedule an alarm shortly; the alarm does the work.

        A Paused workflow with a pending resume counts as recoverable, so its sleep alarm is
        replaced by one 100 ms from now (upstream behaviour: the early wake-up re-pauses the sleep).
        """
        check = yield from self._machine.check_recoverability(self.config.stale_threshold_ms)
        if not check.can_recover:
            reason = (
                check.reason
                if check.reason in ("already_terminal", "no_workflow")
                else "not_needed"
            )
            return RecoveryCheck(False, reason)
        if (yield from self._attempts()) >= self.config.max_attempts:
            return RecoveryCheck(False, "max_attempts_exceeded")
        now = yield Now()
        yield from storage.set_alarm(now + self.config.delay_ms)
        yield from storage.put(Keys.LAST_RECOVERY_AT, now)
        return RecoveryCheck(True, check.reason)

    def execute(self) -> Program[RecoveryOutcome]:
        status = yield from self._machine.get_status()
        if status is None or is_terminal(status):
            return RecoveryOutcome(False, "already_completed")
        attempts = yield from self._attempts()
        if attempts >= self.config.max_attempts:
            yield from self._machine.get_completed_steps()
            message = f"Workflow failed after {attempts} recovery attempts"
            with contextlib.suppress(InvalidTransition):
                yield from self._machine.apply_transition(Fail(error={"message": message}))
            raise RecoveryFailed(message)
        attempt = yield from self._machine.increment_recovery_attempts()
        transition = Recover(
            reason="stale_detection" if status.tag == "Running" else "infrastructure_restart",
            attempt=attempt,
        )
        try:
            yield from self._machine.apply_transition(transition)
        except InvalidTransition:
            return RecoveryOutcome(False, "transition_failed", attempt)
        yield from self._machine.reset_recovery_attempts()
        return RecoveryOutcome(True, "recovered", attempt)

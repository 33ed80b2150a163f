"""Workflow statuses, transitions and the table of which transition is valid from which status.

Mirrors the upstream state types: a status is stored under `workflow:status` as an immutable value
with a tag and its fields; a transition is a request to move to a new status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Pending:
    tag: Literal["Pending"] = "Pending"


@dataclass(frozen=True)
class Queued:
    queued_at: float
    tag: Literal["Queued"] = "Queued"


@dataclass(frozen=True)
class Running:
    running_at: float
    tag: Literal["Running"] = "Running"


@dataclass(frozen=True)
class Paused:
    reason: Literal["sleep", "retry"]
    resume_at: float
    step_name: str | None = None
    tag: Literal["Paused"] = "Paused"


@dataclass(frozen=True)
class Completed:
    completed_at: float
    tag: Literal["Completed"] = "Completed"


@dataclass(frozen=True)
class Failed:
    failed_at: float
    error: dict[str, Any] = field(default_factory=dict)
    tag: Literal["Failed"] = "Failed"


@dataclass(frozen=True)
class Cancelled:
    cancelled_at: float
    reason: str | None = None
    tag: Literal["Cancelled"] = "Cancelled"


Status = Pending | Queued | Running | Paused | Completed | Failed | Cancelled


# --- transitions---


@dataclass(frozen=True)
class Start:
    input: Any = None
    name: Literal["Start"] = "Start"


@dataclass(frozen=True)
class Queue:
    input: Any = None
    name: Literal["Queue"] = "Queue"


@dataclass(frozen=True)
class Resume:
    name: Literal["Resume"] = "Resume"


@dataclass(frozen=True)
class Recover:
    reason: Literal["infrastructure_restart", "stale_detection", "manual"]
    attempt: int
    name: Literal["Recover"] = "Recover"


@dataclass(frozen=True)
class Complete:
    name: Literal["Complete"] = "Complete"


@dataclass(frozen=True)
class Pause:
    reason: Literal["sleep", "retry"]
    resume_at: float
    step_name: str | None = None
    name: Literal["Pause"] = "Pause"


@dataclass(frozen=True)
class Fail:
    error: dict[str, Any] = field(default_factory=dict)
    name: Literal["Fail"] = "Fail"


@dataclass(frozen=True)
class Cancel:
    reason: str | None = None
    name: Literal["Cancel"] = "Cancel"


Transition = Start | Queue | Resume | Recover | Complete | Pause | Fail | Cancel

VALID_TRANSITIONS: dict[str, frozenset[str]] = {
    "Pending": frozenset({"Start", "Queue"}),
    "Queued": frozenset({"Start", "Cancel"}),
    "Running": frozenset({"Complete", "Pause", "Fail", "Cancel", "Recover"}),
    "Paused": frozenset({"Resume", "Cancel", "Recover"}),
    "Completed": frozenset(),
    "Failed": frozenset(),
    "Cancelled": frozenset(),
}

#: Transitions allowed when no status is stored yet.
INITIAL_TRANSITIONS = frozenset({"Queue", "Start"})


class InvalidTransition(Exception):
    def __init__(self, from_status: str, transition: str, valid: frozenset[str]) -> None:
        allowed = ", ".join(sorted(valid)) or "none (terminal)"
        super().__init__(
            f"invalid transition {transition!r} from {from_status!r}; allowed: {allowed}"
        )
        self.from_status = from_status
        self.transition = transition


def is_terminal(status: Status) -> bool:
    return not VALID_TRANSITIONS[status.tag]


def is_recoverable(status: Status) -> bool:
    return "Recover" in VALID_TRANSITIONS[status.tag]


def next_status(transition: Transition, now: float) -> Status:
    """The status a transition produces (its validity is checked by the caller)."""
    match transition:
        case Start() | Resume() | Recover():
            return Running(running_at=now)
        case Queue():
            return Queued(queued_at=now)
        case Pause(reason=reason, resume_at=resume_at, step_name=step_name):
            return Paused(reason=reason, resume_at=resume_at, step_name=step_name)
        case Complete():
            return Completed(completed_at=now)
        case Fail(error=error):
            return Failed(failed_at=now, error=error)
        case Cancel(reason=reason):
            return Cancelled(cancelled_at=now, reason=reason)
    raise TypeError(f"not a transition: {transition!r}")

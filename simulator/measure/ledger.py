"""The correctness invariants, counted as a run goes (`simulator.measure.correctness` says what
they mean).

A run log keeps every event, write and alarm change until the run ends. This recorder keeps, per
object that may still run, only the facts the invariants read (the status tags that became
durable, its events' ids and types, its first sleep, its steps, what is scheduled on it); when
the runtime retires an object (it can never run again), its facts are counted and forgotten.
Memory then follows the objects still alive, not the length of the run.
`correctness.invariants(log)` replays a full run log through this same code, so a run log and a
ledger give one answer.

Like `correctness`, this module knows the engine's storage schema (the status key, step labels).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.state_machine import Keys
from engine.status import VALID_TRANSITIONS
from engine.workflow import STEP_WORK
from simulator.runtime.runlog import AlarmChange, CallRecord, CallTable, RunRecorder

TERMINAL = {tag for tag, allowed in VALID_TRANSITIONS.items() if not allowed}
LIFECYCLE = {  # the status a workflow durably reached -> the event that announces it
    "Queued": "workflow.queued",
    "Running": "workflow.started",
    "Completed": "workflow.completed",
    "Failed": "workflow.failed",
    "Cancelled": "workflow.cancelled",
}
LATE_SLEEP_MS = 1000.0


class RetiredTooEarly(RuntimeError):
    """A runtime retired an object that still had something to do: a harness bug."""


@dataclass(slots=True)
class ObjectFacts:
    """What the invariants read of one object, while it may still run."""

    tags: list[str] = field(default_factory=list)  # durable status tags, each once, in order
    final: str | None = None  # the last status that became durable
    events: dict[str, str] = field(default_factory=dict)  # emitted event id -> its type
    accepted: set[str] = field(default_factory=set)  # event ids the endpoint accepted
    sleep_wake_ms: float | None = None  # the first sleep.started: when it meant to wake
    sleep_done_ms: float | None = None  # the first sleep.completed: when
    steps: Counter[str] = field(default_factory=Counter)  # step label -> times run
    alarm: bool = False  # a committed alarm will fire
    retries: int = 0  # failed handlers waiting to run again
    running: int = 0  # handlers running

    def scheduled(self) -> bool:
        """Something will still run the object: its alarm, a retry, or a handler running."""
        return self.alarm or self.retries > 0 or self.running > 0


@dataclass
class Totals:
    """The counts of the objects already closed."""

    workflows: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    orphans: list[str] = field(default_factory=list)
    emitted: Counter[str] = field(default_factory=Counter)  # event type -> emitted
    delivered: Counter[str] = field(default_factory=Counter)  # event type -> delivered
    lifecycle_lost: Counter[str] = field(default_factory=Counter)
    lifecycle_missing: Counter[str] = field(default_factory=Counter)
    steps_repeated: int = 0
    sleeps: int = 0
    sleeps_late: int = 0  # completed more than LATE_SLEEP_MS after they meant to wake
    sleep_late_max_ms: float = 0.0
    alarms_dropped: int = 0
    resets: int = 0
    acknowledged_not_queued: int = 0

    def close(self, object_id: str, facts: ObjectFacts) -> None:
        """Count one object's facts (final: it is retired, or the run has ended)."""
        if facts.tags:
            self.workflows += 1
            final = facts.final
            self.completed += final == "Completed"
            self.failed += final == "Failed"
            self.cancelled += final == "Cancelled"
            if final not in TERMINAL and not facts.scheduled():
                self.orphans.append(object_id)
            for tag in facts.tags:
                wanted = LIFECYCLE.get(tag)
                if wanted is None:
                    continue
                of_type = [i for i, kind in facts.events.items() if kind == wanted]
                if not of_type:
                    self.lifecycle_missing[wanted] += 1
                elif not any(i in facts.accepted for i in of_type):
                    self.lifecycle_lost[wanted] += 1
        self.emitted.update(facts.events.values())
        self.delivered.update(kind for i, kind in facts.events.items() if i in facts.accepted)
        self.steps_repeated += sum(n - 1 for n in facts.steps.values() if n > 1)
        if facts.sleep_wake_ms is not None and facts.sleep_done_ms is not None:
            late = max(0.0, facts.sleep_done_ms - facts.sleep_wake_ms)
            self.sleeps += 1
            self.sleep_late_max_ms = max(self.sleep_late_max_ms, late)
            self.sleeps_late += late > LATE_SLEEP_MS


class InvariantLedger(RunRecorder):
    """A run recorder that counts the invariants as it goes; see the module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._calls = 0
        #: object -> its call records, each with its place in the run, until it retires
        self._records: dict[str, list[tuple[int, CallRecord]]] = {}
        self._table: CallTable | None = None  # the records of retired objects, as rows
        self._live: dict[str, ObjectFacts] = {}
        #: hashes of the retired objects' ids (their strings would outweigh the rest): a guard
        #: against a runtime that retires an object too early
        self._retired: set[int] = set()
        self._queued: set[str] = set()  # objects that durably held a status
        self._stray: set[str] = set()  # accepted ids of events no workflow is named in
        self._totals = Totals()

    def _facts(self, object_id: str) -> ObjectFacts:
        facts = self._live.get(object_id)
        if facts is None:
            if hash(object_id) in self._retired:
                raise RetiredTooEarly(f"object {object_id[:12]} acted after it was retired")
            facts = self._live[object_id] = ObjectFacts()
        return facts

    # --- what runtimes write ---

    def call(self, record: CallRecord) -> None:
        self._records.setdefault(record.object_id, []).append((self._calls, record))
        self._calls += 1

    def emit(self, event: Mapping[str, Any], at_ms: float) -> None:
        facts = self._facts(event["workflowId"])
        kind = event["type"]
        facts.events[event["eventId"]] = kind
        if kind == "sleep.started" and facts.sleep_wake_ms is None:
            facts.sleep_wake_ms = at_ms + event["durationMs"]
        elif kind == "sleep.completed" and facts.sleep_done_ms is None:
            facts.sleep_done_ms = at_ms

    def accept(self, events: Iterable[Mapping[str, Any]], at_ms: float) -> None:
        for event in events:
            workflow = event.get("workflowId")
            seen = self._stray if workflow is None else self._facts(workflow).accepted
            event_id = event["eventId"]
            if event_id in seen:
                self.duplicates += 1
            else:
                seen.add(event_id)

    def commit(self, at_ms: float, object_id: str, key: str, value: Any) -> None:
        if key == Keys.STATUS and value is not None:
            facts = self._facts(object_id)
            if value.tag not in facts.tags:
                facts.tags.append(value.tag)
            facts.final = value.tag
            self._queued.add(object_id)

    def alarm(
        self, at_ms: float, object_id: str, change: AlarmChange, due_ms: float | None = None
    ) -> None:
        facts = self._facts(object_id)
        if change == "set":
            facts.alarm = True
        elif change == "deleted":
            facts.alarm = False
        elif change == "fired":
            facts.alarm = False
            facts.running += 1
        elif change == "finished":
            facts.running -= 1
        elif change == "retrying":
            facts.retries += 1
        elif change == "retry-fired":
            facts.retries -= 1
            facts.running += 1
        elif change == "retry-replaced":
            facts.retries -= 1
        elif change == "dropped":
            self._totals.alarms_dropped += 1

    def reset(self, at_ms: float, object_id: str, reason: str) -> None:
        self._totals.resets += 1

    def ran(self, object_id: str, label: str) -> None:
        if label.startswith(STEP_WORK):
            self._facts(object_id).steps[label] += 1

    def retire(self, object_id: str) -> None:
        facts = self._live.pop(object_id, None)
        self._retired.add(hash(object_id))
        records = self._records.pop(object_id, [])
        if facts is not None and facts.scheduled():
            raise RetiredTooEarly(f"object {object_id[:12]} retired with its alarm scheduled")
        if any(record.end_ms is None for _, record in records):
            raise RetiredTooEarly(f"object {object_id[:12]} retired with a call unanswered")
        self._totals.acknowledged_not_queued += self._acknowledged_not_queued(object_id, records)
        self._rows().add_object(records)
        self._queued.discard(object_id)  # read above, for the last time
        if facts is not None:
            self._totals.close(object_id, facts)

    def _acknowledged_not_queued(
        self, object_id: str, records: list[tuple[int, CallRecord]]
    ) -> bool:
        """run_async answered the object's workflow as queued, yet it never durably was."""
        return object_id not in self._queued and any(
            r.call == "run_async" and r.outcome == "ok" for _, r in records
        )

    def clear(self) -> None:
        self._records.clear()
        self._table = None
        self._live.clear()
        self._retired.clear()
        self._queued.clear()
        self._stray.clear()
        self._totals = Totals()

    # --- what readers use ---

    def _rows(self) -> CallTable:
        if self._table is None:
            self._table = CallTable()
        return self._table

    def simulated_ops(self) -> int:
        live = sum(r.simulated_ops() for records in self._records.values() for _, r in records)
        return self._rows().simulated_ops() + live

    def call_table(self) -> CallTable:
        """Every call's row, in its place: the calls of objects not retired join the table
        (what the counts read of them is counted first)."""
        table = self._rows()
        for object_id, records in self._records.items():
            self._totals.acknowledged_not_queued += self._acknowledged_not_queued(
                object_id, records
            )
            table.add_object(records)
        self._records.clear()
        return table

    @property
    def kept(self) -> int:
        """Objects whose facts are still kept (not retired, and with a fact to keep)."""
        return len(self._live)

    @property
    def retired(self) -> int:
        return len(self._retired)

    def counts(self) -> dict[str, Any]:
        """The invariants of the run so far, every object still live counted as it is now."""
        totals = copy.deepcopy(self._totals)
        for object_id, facts in self._live.items():
            totals.close(object_id, facts)
        for object_id, records in self._records.items():
            totals.acknowledged_not_queued += self._acknowledged_not_queued(object_id, records)
        emitted = sum(totals.emitted.values())
        delivered = sum(totals.delivered.values())
        return {
            "workflows": totals.workflows,
            "completed": totals.completed,
            "failed": totals.failed,
            "cancelled": totals.cancelled,
            "orphaned": len(totals.orphans),
            "orphans": totals.orphans,
            "events_emitted": emitted,
            "events_delivered": delivered,
            "events_lost": emitted - delivered,
            "lost_by_type": {
                kind: n - totals.delivered[kind]
                for kind, n in sorted(totals.emitted.items())
                if n > totals.delivered[kind]
            },
            "lifecycle_lost": sum(totals.lifecycle_lost.values()),
            "lifecycle_missing": sum(totals.lifecycle_missing.values()),
            "lifecycle_lost_by_type": dict(sorted(totals.lifecycle_lost.items())),
            "lifecycle_missing_by_type": dict(sorted(totals.lifecycle_missing.items())),
            "steps_repeated": totals.steps_repeated,
            "sleeps": totals.sleeps,
            "sleeps_late": totals.sleeps_late,
            "sleep_late_max_ms": totals.sleep_late_max_ms,
            "acknowledged_not_queued": totals.acknowledged_not_queued,
            "alarms_dropped": totals.alarms_dropped,
            "resets": totals.resets,
        }

"""The run log: the only thing a run hands upward.

Every runtime writes the same log (the `RunRecorder` interface): one record per call (client calls and alarm invocations), the
events emitted into trackers and those the endpoint accepted, the writes that became durable, the
resets, what happened to each alarm, and the work each object ran. Tables and correctness are
computed from it alone, so they work on any runtime.

The log knows nothing of the engine's storage schema: whoever creates it says which keys' writes
to keep (`keep_key`), which compute labels to count (`count_label`) and which fields of an
emitted event to keep (`event_fields`), so a run keeps only what its readers need. A recorder
that folds the facts as they come (the correctness ledger, `simulator.measure.ledger`) keeps
less still: what it needs of the objects still able to run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from engine.ops import PLATFORM_KINDS
from simulator.runtime.phases import PHASES

#: Counted per call: the platform operations, then what the platform did for them.
OP_KINDS = (*PLATFORM_KINDS, "read_miss", "commit", "read_units", "write_units")

#: Counts that describe operations already counted (a read miss is a read that paid latency;
#: units are what the operations bill), so they are not operations of their own.
ACCOUNTING_COUNTS = frozenset({"read_miss", "read_units", "write_units"})

#: A row carries each phase's time as `phase_<name>` and each count as `ops_<kind>`.
PHASE_COLUMN = "phase_"
OPS_COLUMN = "ops_"

_FIXED_PHASES = frozenset(PHASES)

#: Whether a call met its object resident (`warm`) or had to start it (`cold`).
MODES = ("cold", "warm")

#: The key of a `deleteAll` in the committed writes: every key of the object, deleted.
EVERY_KEY = "*"


@dataclass(slots=True)
class CallRecord:
    call: str
    object_id: str
    planned_ms: float
    source: str = "client"  # client | alarm
    start_ms: float = 0.0
    end_ms: float | None = None
    mode: str = "warm"  # cold: the object was not resident when the call reached it
    outcome: str = "pending"  # ok | error | reset
    error: str | None = None
    spans: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    ops: Counter[str] = field(default_factory=Counter)
    events_emitted: int = 0

    def simulated_ops(self) -> int:
        """The operations this call simulated: every engine operation, and the commits."""
        return sum(n for kind, n in self.ops.items() if kind not in ACCOUNTING_COUNTS)

    @property
    def latency_ms(self) -> float | None:
        return None if self.end_ms is None else self.end_ms - self.planned_ms


def call_columns(records: Sequence[CallRecord], labels: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The records as rows, column by column: each call's fields, its time in every phase
    (`phase_<name>`) and its counts (`ops_<kind>`), then `labels`, the same for every row.

    Columns come in the order a frame of the rows as dicts would give them: the fixed phases,
    the first record's other spans, the counts, the labels, then spans first seen later. A row
    lacks (None) a span other than the fixed phases that its call did not have.
    """
    if not records:
        return {}
    first_spans = [name for name in records[0].spans if name not in _FIXED_PHASES]
    later_spans = dict.fromkeys(
        name for record in records for name in record.spans if name not in _FIXED_PHASES
    )
    columns: dict[str, list[Any]] = {
        "call": [r.call for r in records],
        "source": [r.source for r in records],
        "object": [r.object_id[:12] for r in records],
        "mode": [r.mode for r in records],
        "planned_ms": [r.planned_ms for r in records],
        "start_ms": [r.start_ms for r in records],
        "end_ms": [r.end_ms for r in records],
        "latency_ms": [r.latency_ms for r in records],
        "outcome": [r.outcome for r in records],
        "error": [r.error for r in records],
        "events_emitted": [r.events_emitted for r in records],
    }
    for phase in PHASES:
        columns[PHASE_COLUMN + phase] = [float(r.spans.get(phase, 0.0)) for r in records]
    for name in first_spans:
        columns[PHASE_COLUMN + name] = [r.spans.get(name) for r in records]
    for kind in OP_KINDS:
        columns[OPS_COLUMN + kind] = [r.ops.get(kind, 0) for r in records]
    for label, value in labels.items():
        columns[label] = [value] * len(records)
    for name in later_spans:
        if name not in first_spans:
            columns[PHASE_COLUMN + name] = [r.spans.get(name) for r in records]
    return columns


class Commit(NamedTuple):
    """One key of a write that became durable (`value` None: the key was deleted)."""

    at_ms: float
    object_id: str
    key: str
    value: Any


AlarmChange = Literal[
    "set",  # an alarm write committed (`due_ms` when it is due)
    "deleted",  # a deleteAlarm committed
    "fired",  # the committed alarm came due: it is consumed and its handler runs
    "finished",  # a handler ended (however it ended)
    "retrying",  # a failed handler will run again at `due_ms`
    "retry-fired",  # that retry runs
    "retry-replaced",  # that retry will not run: an alarm written since stands instead
    "dropped",  # a failed handler that will never run again
]


class AlarmEvent(NamedTuple):
    at_ms: float
    object_id: str
    change: AlarmChange
    due_ms: float | None = None


def _everything(_: str) -> bool:
    return True


class RunRecorder(ABC):
    """What a runtime writes as it runs: every call's record, and the facts below.

    `RunLog` keeps all of it; a recorder that only needs counts may fold each fact as it comes
    and forget it (the correctness ledger does). `retire` says an object will never run again:
    nothing of it is scheduled, running or on its way, so whatever a recorder keeps about it is
    final.
    """

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []
        self.duplicates = 0  # events the endpoint accepted again (a batch sent twice)
        self.tracker_attempts = 0  # requests sent to the tracker

    @abstractmethod
    def emit(self, event: Mapping[str, Any], at_ms: float) -> None:
        """An event was emitted into a tracker."""

    @abstractmethod
    def accept(self, events: Iterable[Mapping[str, Any]], at_ms: float) -> None:
        """The endpoint accepted a batch: each event id counts once, again is a duplicate."""

    @abstractmethod
    def commit(self, at_ms: float, object_id: str, key: str, value: Any) -> None:
        """One key of a write became durable (`value` None: deleted)."""

    @abstractmethod
    def alarm(
        self, at_ms: float, object_id: str, change: AlarmChange, due_ms: float | None = None
    ) -> None:
        """What happened to an object's alarm."""

    @abstractmethod
    def reset(self, at_ms: float, object_id: str, reason: str) -> None:
        """An object died at once."""

    @abstractmethod
    def ran(self, object_id: str, label: str) -> None:
        """An object ran the compute work `label`."""

    @abstractmethod
    def retire(self, object_id: str) -> None:
        """`object_id` will never run again (see the class's docstring)."""

    @abstractmethod
    def clear(self) -> None:
        """Drop what was recorded (once read): a runtime left in cycles may still refer to it."""

    def simulated_ops(self) -> int:
        return sum(record.simulated_ops() for record in self.calls)


class RunLog(RunRecorder):
    """What one run recorded, all of it; see the module's docstring."""

    def __init__(
        self,
        keep_key: Callable[[str], bool] = _everything,
        count_label: Callable[[str], bool] = _everything,
        event_fields: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__()
        self.keep_key = keep_key
        self.count_label = count_label
        self.event_fields = event_fields  # the fields of an emitted event kept; None: all
        #: event id -> the event as emitted, with `at`, the time it was emitted
        self.emitted: dict[str, dict[str, Any]] = {}
        #: event id -> when the endpoint first accepted it
        self.accepted: dict[str, float] = {}
        self.commits: list[Commit] = []
        self.resets: list[tuple[float, str, str]] = []  # (when, object, why)
        self.alarms: list[AlarmEvent] = []
        #: (object, compute label) -> times that work ran, for the labels counted
        self.work: Counter[tuple[str, str]] = Counter()

    # --- what runtimes write ---

    def emit(self, event: Mapping[str, Any], at_ms: float) -> None:
        fields = self.event_fields
        kept = event if fields is None else {f: event[f] for f in fields if f in event}
        self.emitted[event["eventId"]] = {**kept, "at": at_ms}

    def accept(self, events: Iterable[Mapping[str, Any]], at_ms: float) -> None:
        for event in events:
            event_id = event["eventId"]
            if event_id in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[event_id] = at_ms

    def commit(self, at_ms: float, object_id: str, key: str, value: Any) -> None:
        if self.keep_key(key):
            self.commits.append(Commit(at_ms, object_id, key, value))

    def alarm(
        self, at_ms: float, object_id: str, change: AlarmChange, due_ms: float | None = None
    ) -> None:
        self.alarms.append(AlarmEvent(at_ms, object_id, change, due_ms))

    def retire(self, object_id: str) -> None:
        """Nothing to forget: the log keeps every object's records."""

    def clear(self) -> None:
        self.calls.clear()
        self.emitted.clear()
        self.accepted.clear()
        self.commits.clear()
        self.resets.clear()
        self.alarms.clear()
        self.work.clear()

    def reset(self, at_ms: float, object_id: str, reason: str) -> None:
        self.resets.append((at_ms, object_id, reason))

    def ran(self, object_id: str, label: str) -> None:
        if self.count_label(label):
            self.work[(object_id, label)] += 1

"""The run log: the only thing a run hands upward.

Every runtime writes the same facts (the `RunRecorder` interface): one record per call (client
calls and alarm invocations), the events emitted into trackers and those the endpoint accepted,
the writes that became durable, the resets, what happened to each alarm, and the work each
object ran. Tables and correctness are computed from them alone, so they work on any runtime.

`RunLog` keeps every fact (tests, traces, the live runtime); it knows nothing of the engine's
storage schema. A recorder that folds the facts as they come (the correctness ledger,
`simulator.measure.ledger`) keeps only what it needs of the objects still able to run, and
their call records as typed rows (`CallTable`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np

from engine.ops import KINDS, PLATFORM_KINDS
from simulator.runtime.phases import PHASES

#: Counted per call: the platform operations, then what the platform did for them.
OP_KINDS = (*PLATFORM_KINDS, "read_miss", "commit", "read_units", "write_units")

#: A call's counts before it ran: every kind of operation, and each of `OP_KINDS`, at zero.
_NO_COUNTS = dict.fromkeys((*KINDS, *OP_KINDS), 0)

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
    #: Operations by kind, every kind there from the start: a plain dict, because counting is
    #: the interpreter's hottest line and a `Counter` there cost 5 % of a run's instructions.
    ops: dict[str, int] = field(default_factory=_NO_COUNTS.copy)
    events_emitted: int = 0

    def simulated_ops(self) -> int:
        """The operations this call simulated: every engine operation, and the commits."""
        return sum(n for kind, n in self.ops.items() if kind not in ACCOUNTING_COUNTS)

    @property
    def latency_ms(self) -> float | None:
        return None if self.end_ms is None else self.end_ms - self.planned_ms


class CallTable:
    """Finished call records as typed columns, each row with its place in the run (`seq`): a
    record holds dicts of its spans and counts (about a kilobyte), a row a few machine words.
    Rows may come in any order (an object's records when it retires); `take_columns` gives them in
    their places."""

    _FLOATS = ("planned_ms", "start_ms", "end_ms", "latency_ms")
    _TEXTS = ("call", "source", "mode", "outcome", "error")

    def __init__(self) -> None:
        self._empty()

    def _empty(self) -> None:
        """No rows (a new table, or one whose columns were taken)."""
        self.seq = array("q")
        self.objects: list[str] = []  # each row's object, as shown (its first 12 digits)
        self.texts: dict[str, list[str | None]] = {name: [] for name in self._TEXTS}
        self.floats = {name: array("d") for name in self._FLOATS}  # NaN: None
        self.events = array("i")  # counts fit in 32 bits: half the memory; int64 in the rows
        self.phases = {name: array("d") for name in PHASES}
        self.ops = {kind: array("i") for kind in OP_KINDS}
        self.other_spans: dict[str, array[float]] = {}  # NaN where a call did not have it
        self._first_seen: dict[str, tuple[int, int]] = {}  # span -> (seq, place in its call)
        self._simulated_ops = 0

    @classmethod
    def of(cls, records: Iterable[CallRecord]) -> CallTable:
        """The records, in the order given."""
        table = cls()
        for seq, record in enumerate(records):
            table.add(seq, record, record.object_id[:12])
        return table

    def add_object(self, records: Iterable[tuple[int, CallRecord]]) -> None:
        """One object's records, each with its place: they share one string for the object."""
        shown = ""
        for seq, record in records:
            shown = shown or record.object_id[:12]
            self.add(seq, record, shown)

    def __len__(self) -> int:
        return len(self.seq)

    def add(self, seq: int, record: CallRecord, shown: str) -> None:
        """`record` in place `seq`, its object shown as `shown`."""
        self.seq.append(seq)
        self._simulated_ops += record.simulated_ops()
        self.objects.append(shown)
        for name in self._TEXTS:
            self.texts[name].append(getattr(record, name))
        for name in self._FLOATS:
            value = getattr(record, name)
            self.floats[name].append(_NONE if value is None else value)
        self.events.append(record.events_emitted)
        spans, ops = record.spans, record.ops
        for phase, column in self.phases.items():
            column.append(spans.get(phase, 0.0))
        for kind, counts in self.ops.items():
            counts.append(ops.get(kind, 0))
        rows = len(self.seq)
        for place, name in enumerate(n for n in spans if n not in _FIXED_PHASES):
            if name not in self.other_spans:
                self.other_spans[name] = array("d", [_NONE]) * (rows - 1)
                self._first_seen[name] = (seq, place)
            elif (seq, place) < self._first_seen[name]:
                self._first_seen[name] = (seq, place)
            self.other_spans[name].append(spans[name])
        for column in self.other_spans.values():
            if len(column) < rows:
                column.append(_NONE)

    def simulated_ops(self) -> int:
        """The operations the table's calls simulated (every kind, not just the columns')."""
        return self._simulated_ops

    def take_columns(self, labels: Mapping[str, Any]) -> dict[str, Any]:
        """The rows in their places, column by column, leaving the table empty (each column
        goes as soon as it is placed, so the rows never take twice their memory): each call's
        fields, its time in every phase (`phase_<name>`) and its counts (`ops_<kind>`), then
        `labels`, the same for every row. Numbers come as numpy arrays (a frame takes them
        without a Python object per value), text as lists.

        Columns come in the order a frame of the rows as dicts would give them: the fixed phases,
        the first call's other spans, the counts, the labels, then spans first seen later. A row
        lacks (NaN; None when the column has no value at all) a span other than the fixed phases
        that its call did not have.
        """
        if not self.seq:
            return {}
        order = np.argsort(np.frombuffer(self.seq, dtype=np.int64), kind="stable")
        first = min(self.seq)
        spans = sorted(self.other_spans, key=self._first_seen.__getitem__)
        first_spans = [name for name in spans if self._first_seen[name][0] == first]

        def text(name: str) -> list[Any]:
            column = self.objects if name == "object" else self.texts.pop(name)
            return [column[i] for i in order]

        def numbers(column: array[Any]) -> np.ndarray[Any, Any]:
            if column.typecode == "d":
                return np.frombuffer(column, dtype=np.float64)[order]
            return np.frombuffer(column, dtype=np.int32)[order].astype(np.int64)

        def maybe(column: array[float]) -> np.ndarray[Any, Any] | list[None]:
            values = numbers(column)
            return [None] * len(values) if np.isnan(values).all() else values

        columns: dict[str, Any] = {
            "call": text("call"),
            "source": text("source"),
            "object": text("object"),
            "mode": text("mode"),
            "planned_ms": numbers(self.floats.pop("planned_ms")),
            "start_ms": numbers(self.floats.pop("start_ms")),
            "end_ms": maybe(self.floats.pop("end_ms")),
            "latency_ms": maybe(self.floats.pop("latency_ms")),
            "outcome": text("outcome"),
            "error": text("error"),
            "events_emitted": numbers(self.events),
        }
        for phase in PHASES:
            columns[PHASE_COLUMN + phase] = numbers(self.phases.pop(phase))
        for name in first_spans:
            columns[PHASE_COLUMN + name] = maybe(self.other_spans.pop(name))
        for kind in OP_KINDS:
            columns[OPS_COLUMN + kind] = numbers(self.ops.pop(kind))
        for label, value in labels.items():
            columns[label] = [value] * len(order)
        for name in spans:
            if name not in first_spans:
                columns[PHASE_COLUMN + name] = maybe(self.other_spans.pop(name))
        self._empty()
        return columns


_NONE = float("nan")  # a float column's None


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


class RunRecorder(ABC):
    """What a runtime writes as it runs: every call's record, and the facts below.

    `RunLog` keeps all of it; a recorder that only needs counts may fold each fact as it comes
    and forget it (the correctness ledger does). `retire` says an object will never run again:
    nothing of it is scheduled, running or on its way, so whatever a recorder keeps about it is
    final.
    """

    def __init__(self) -> None:
        self.duplicates = 0  # events the endpoint accepted again (a batch sent twice)
        self.tracker_attempts = 0  # requests sent to the tracker

    @abstractmethod
    def call(self, record: CallRecord) -> None:
        """A call began (a client call, or an alarm handler): `record` is filled in as it goes."""

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

    @abstractmethod
    def simulated_ops(self) -> int:
        """The operations the run's calls simulated (`CallRecord.simulated_ops`)."""


class RunLog(RunRecorder):
    """What one run recorded, all of it; see the module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[CallRecord] = []
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

    def call(self, record: CallRecord) -> None:
        self.calls.append(record)

    def emit(self, event: Mapping[str, Any], at_ms: float) -> None:
        self.emitted[event["eventId"]] = {**event, "at": at_ms}

    def accept(self, events: Iterable[Mapping[str, Any]], at_ms: float) -> None:
        for event in events:
            event_id = event["eventId"]
            if event_id in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[event_id] = at_ms

    def commit(self, at_ms: float, object_id: str, key: str, value: Any) -> None:
        self.commits.append(Commit(at_ms, object_id, key, value))

    def alarm(
        self, at_ms: float, object_id: str, change: AlarmChange, due_ms: float | None = None
    ) -> None:
        self.alarms.append(AlarmEvent(at_ms, object_id, change, due_ms))

    def retire(self, object_id: str) -> None:
        """Nothing to forget: the log keeps every object's records."""

    def simulated_ops(self) -> int:
        return sum(record.simulated_ops() for record in self.calls)

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
        self.work[(object_id, label)] += 1

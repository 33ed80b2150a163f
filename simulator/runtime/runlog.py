"""One record per call: what the tables are made of."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from engine.ops import PLATFORM_KINDS

#: Phases named in the rows, in waterfall order; spans with other names are kept as well.
PHASES = (
    "stub",
    "rpc",
    "cold-start",
    "input-gate",
    "constructor.layer-build",
    "constructor.recovery-check",
    "layer-build",
    "recovery-check",
    "queue",
    "execute",
    "event-flush",
    "output-gate",
)

#: Counted per call: the platform operations, then what the platform did for them.
OP_KINDS = (*PLATFORM_KINDS, "read_miss", "commit", "read_units", "write_units")

#: Counts that describe operations already counted (a read miss is a read that paid latency;
#: units are what the operations bill), so they are not operations of their own.
ACCOUNTING_COUNTS = frozenset({"read_miss", "read_units", "write_units"})


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

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "call": self.call,
            "source": self.source,
            "object": self.object_id[:12],
            "mode": self.mode,
            "planned_ms": self.planned_ms,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "latency_ms": self.latency_ms,
            "outcome": self.outcome,
            "error": self.error,
            "events_emitted": self.events_emitted,
        }
        for phase in PHASES:
            row[f"phase_{phase}"] = float(self.spans.get(phase, 0.0))
        for name, value in self.spans.items():
            if name not in PHASES:
                row[f"phase_{name}"] = float(value)
        for kind in OP_KINDS:
            row[f"ops_{kind}"] = int(self.ops.get(kind, 0))
        return row

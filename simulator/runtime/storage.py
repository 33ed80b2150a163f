"""The durable contents of one object's storage: key-value data and its single alarm.

Both runtimes apply storage and alarm operations through `read` and `write`, so the data
semantics (what a `list` returns, what `delete_all` removes, that one alarm replaces another) live
in one place; the simulated platform adds the cache, write coalescing and commit latency around
it. `commit` applies a write that became durable and tells the run log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.ops import (
    Delete,
    DeleteAlarm,
    DeleteAll,
    Get,
    GetMany,
    List,
    Op,
    Put,
    PutMany,
    SetAlarm,
)
from simulator.runtime.runlog import EVERY_KEY, RunRecorder


@dataclass
class StoredObject:
    data: dict[str, Any] = field(default_factory=dict)
    alarm_ms: float | None = None

    def read(self, op: Op) -> Any:
        if isinstance(op, Get):
            return self.data.get(op.key)
        if isinstance(op, GetMany):
            return {k: self.data[k] for k in op.keys if k in self.data}
        if isinstance(op, List):
            return {k: self.data[k] for k in sorted(self.data) if k.startswith(op.prefix)}
        raise TypeError(f"not a read: {op!r}")

    def write(self, op: Op) -> None:
        if isinstance(op, Put):
            self.data[op.key] = op.value
        elif isinstance(op, PutMany):
            self.data.update(op.entries)
        elif isinstance(op, Delete):
            self.data.pop(op.key, None)
        elif isinstance(op, DeleteAll):
            self.data.clear()
        elif isinstance(op, SetAlarm):
            self.alarm_ms = op.at_ms
        elif isinstance(op, DeleteAlarm):
            self.alarm_ms = None
        else:
            raise TypeError(f"not a write: {op!r}")

    def commit(self, op: Op, log: RunRecorder, at_ms: float, object_id: str) -> None:
        """Apply a write that became durable, and record it in the log."""
        self.write(op)
        if isinstance(op, Put):
            log.commit(at_ms, object_id, op.key, op.value)
        elif isinstance(op, PutMany):
            for key, value in op.entries.items():
                log.commit(at_ms, object_id, key, value)
        elif isinstance(op, Delete):
            log.commit(at_ms, object_id, op.key, None)
        elif isinstance(op, DeleteAll):
            log.commit(at_ms, object_id, EVERY_KEY, None)
        elif isinstance(op, SetAlarm):
            log.alarm(at_ms, object_id, "set", op.at_ms)
        else:
            log.alarm(at_ms, object_id, "deleted")

"""The durable contents of one object's storage: key-value data and its single alarm.

Both runtimes apply storage and alarm operations through `read` and `write`, so the data
semantics (what a `list` returns, what `delete_all` removes, that one alarm replaces another) live
in one place; the SimPy platform adds the cache, write coalescing and commit latency around it.
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

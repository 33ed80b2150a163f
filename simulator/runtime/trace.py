"""Trace entries: one per platform-visible operation, grouped by the engine call that made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.ops import (
    PLATFORM_KINDS,
    Compute,
    Delete,
    Get,
    GetMany,
    Http,
    List,
    Op,
    Put,
    PutMany,
    SetAlarm,
)

#: Operation kinds that appear in traces (time, chance and composition are not platform work).
TRACED_KINDS = frozenset(PLATFORM_KINDS)


_ONE_KEY = (Get, Put, Delete)


def keys_of(op: Op) -> tuple[str, ...]:
    """The storage keys an operation touches (a `list` touches its prefix)."""
    if isinstance(op, _ONE_KEY):
        return (op.key,)
    if isinstance(op, GetMany):
        return op.keys
    if isinstance(op, PutMany):
        return tuple(op.entries)
    if isinstance(op, List):
        return (op.prefix,)
    return ()


def detail_of(op: Op) -> str | None:
    if isinstance(op, Compute):
        return op.label
    if isinstance(op, Http):
        return f"{op.method} {op.url}"
    if isinstance(op, SetAlarm):
        return f"at {op.at_ms:g} ms"
    return None


@dataclass(frozen=True)
class TraceEntry:
    call: str
    op: str
    keys: tuple[str, ...] = ()
    detail: str | None = None
    object_id: str | None = None

    @classmethod
    def of(cls, call: str, op: Op, object_id: str | None = None) -> TraceEntry:
        return cls(call, op.kind, keys_of(op), detail_of(op), object_id)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"call": self.call, "op": self.op, "keys": list(self.keys)}
        if self.detail is not None:
            out["detail"] = self.detail
        return out

"""Which handler performs which operation: one table for every runtime.

A runtime implements `Handlers` (one method per kind of operation) and builds its dispatch table
with `dispatch_table`, so the mapping from the engine's vocabulary to a runtime's work is written
once. A handler receives the operation and the runtime's context for the program that yielded it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from engine.ops import (
    All,
    BlockConcurrencyWhile,
    Compute,
    Delete,
    DeleteAlarm,
    DeleteAll,
    EventEmitted,
    Fork,
    Get,
    GetAlarm,
    GetMany,
    Http,
    IdFromName,
    List,
    Now,
    Op,
    Put,
    PutMany,
    Random,
    Rpc,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)

Handler = Callable[[Any, Any], Any]


class Handlers(Protocol):
    """What a runtime does for each kind of operation."""

    def get(self, op: Get, ctx: Any) -> Any: ...
    def read(self, op: GetMany | List, ctx: Any) -> Any: ...
    def write(self, op: Put | PutMany | Delete | DeleteAll, ctx: Any) -> Any: ...
    def set_alarm(self, op: SetAlarm, ctx: Any) -> Any: ...
    def delete_alarm(self, op: DeleteAlarm, ctx: Any) -> Any: ...
    def get_alarm(self, op: GetAlarm, ctx: Any) -> Any: ...
    def now(self, op: Now, ctx: Any) -> Any: ...
    def wait(self, op: Wait, ctx: Any) -> Any: ...
    def random(self, op: Random, ctx: Any) -> Any: ...
    def compute(self, op: Compute, ctx: Any) -> Any: ...
    def http(self, op: Http, ctx: Any) -> Any: ...
    def event_emitted(self, op: EventEmitted, ctx: Any) -> Any: ...
    def id_from_name(self, op: IdFromName, ctx: Any) -> Any: ...
    def rpc(self, op: Rpc, ctx: Any) -> Any: ...
    def span(self, op: Span, ctx: Any) -> Any: ...
    def block_concurrency(self, op: BlockConcurrencyWhile, ctx: Any) -> Any: ...
    def all(self, op: All, ctx: Any) -> Any: ...
    def fork(self, op: Fork, ctx: Any) -> Any: ...
    def timeout(self, op: Timeout, ctx: Any) -> Any: ...


def dispatch_table(h: Handlers) -> dict[type[Op], Handler]:
    return {
        Get: h.get,
        GetMany: h.read,
        List: h.read,
        Put: h.write,
        PutMany: h.write,
        Delete: h.write,
        DeleteAll: h.write,
        SetAlarm: h.set_alarm,
        DeleteAlarm: h.delete_alarm,
        GetAlarm: h.get_alarm,
        Now: h.now,
        Wait: h.wait,
        Random: h.random,
        Compute: h.compute,
        Http: h.http,
        EventEmitted: h.event_emitted,
        IdFromName: h.id_from_name,
        Rpc: h.rpc,
        Span: h.span,
        BlockConcurrencyWhile: h.block_concurrency,
        All: h.all,
        Fork: h.fork,
        Timeout: h.timeout,
    }


def unknown_operation(op: object, runtime: str) -> TypeError:
    return TypeError(f"the {runtime} runtime cannot perform {op!r}")

"""Recording the engine's operation programs as scripts that the live Durable Object replays.

The instant runtime runs the plan first; this subclass writes down, for every call delivered to
an object, the platform operations it performed with their structure: a list of steps, where a
composite (a span, blockConcurrencyWhile, background work, all, a timeout) holds the steps of its
child. Each object's constructor and each of its alarm handlers get a script of their own. Time,
chance, events and the client's own operations are the harness's business and are left out.

A script is a replay: the live object performs the same operations, whatever its storage then
answers. The plans validated are ones whose answers do not depend on timing (no faults).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine.ops import (
    All,
    BlockConcurrencyWhile,
    Compute,
    Delete,
    DeleteAlarm,
    DeleteAll,
    Fork,
    Get,
    GetAlarm,
    GetMany,
    Http,
    List,
    Op,
    Program,
    Put,
    PutMany,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)
from simulator.runtime.instant import InstantRuntime
from simulator.runtime.runlog import CallRecord

Step = list[Any]
Script = list[Step]


def stored(value: Any) -> Any:
    """What the live object stores for an engine value: its text (the size and the key are what
    the platform sees; nothing reads the value back)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)[:200]


class RecordingRuntime(InstantRuntime):
    """The instant runtime, writing down the scripts of the calls it delivers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inits: dict[str, Script] = {}
        self.alarm_scripts: defaultdict[str, list[Script]] = defaultdict(list)
        self.call_scripts: dict[int, Script] = {}  # id(record) -> the object call's script
        self._current: Script = []
        for cls, handler in list(self._handlers.items()):
            self._handlers[cls] = self._recording(cls, handler)

    def script_of(self, record: CallRecord) -> Script:
        return self.call_scripts.get(id(record), [])

    # --- where steps go ---

    def _into(self, steps: Script, program: Program[Any]) -> Program[Any]:
        """Drive `program` with its steps written into `steps` (calls are synchronous here, so
        the current list is a stack)."""
        saved, self._current = self._current, steps
        try:
            return (yield from program)
        finally:
            self._current = saved

    def _deliver(
        self, object_id: str, method: str, args: tuple[Any, ...], record: CallRecord
    ) -> Any:
        steps: Script = []
        if method == "alarm":
            self.alarm_scripts[object_id].append(steps)
        else:
            self.call_scripts[id(record)] = steps
        saved, self._current = self._current, steps
        try:
            return super()._deliver(object_id, method, args, record)
        finally:
            self._current = saved

    def _instance(self, object_id: str, record: CallRecord) -> Any:
        if object_id in self.instances:
            return self.instances[object_id]
        steps: Script = []
        saved, self._current = self._current, steps
        try:
            return super()._instance(object_id, record)
        finally:
            self._current = saved
            self.inits.setdefault(object_id, steps)

    # --- what each operation writes ---

    def _recording(
        self, cls: type, handler: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], Any]:
        step = _STEPS.get(cls)
        if step is not None:

            def platform(op: Op, ctx: Any) -> Any:
                self._current.append(step(op, self.now_ms))
                return handler(op, ctx)

            return platform
        if cls in (Span, BlockConcurrencyWhile, Timeout):

            def composite(op: Any, ctx: Any) -> Any:
                child: Script = []
                if isinstance(op, Span):
                    self._current.append(["span", op.name, child])
                elif isinstance(op, Timeout):
                    self._current.append(["timeout", op.ms, child])
                else:
                    self._current.append(["block", child])
                return handler(replace(op, child=self._into(child, op.child)), ctx)

            return composite
        if cls is Fork:

            def fork(op: Fork, ctx: Any) -> Any:
                child: Script = []
                self._current.append(["fork", child])
                return handler(Fork(self._into(child, op.child)), ctx)

            return fork
        if cls is All:

            def all_of(op: All, ctx: Any) -> Any:
                children: list[Script] = [[] for _ in op.children]
                self._current.append(["all", children])
                wrapped = tuple(
                    self._into(s, c) for s, c in zip(children, op.children, strict=True)
                )
                return handler(All(wrapped), ctx)

            return all_of
        return handler


_STEPS: dict[type, Callable[[Any, float], Step]] = {
    Get: lambda op, now: ["get", op.key],
    GetMany: lambda op, now: ["get_many", list(op.keys)],
    List: lambda op, now: ["list", op.prefix],
    Put: lambda op, now: ["put", op.key, stored(op.value)],
    PutMany: lambda op, now: ["put_many", {k: stored(v) for k, v in op.entries.items()}],
    Delete: lambda op, now: ["delete", op.key],
    DeleteAll: lambda op, now: ["delete_all"],
    SetAlarm: lambda op, now: ["set_alarm", max(0.0, op.at_ms - now)],
    GetAlarm: lambda op, now: ["get_alarm"],
    DeleteAlarm: lambda op, now: ["delete_alarm"],
    Compute: lambda op, now: ["compute", op.ms],
    Wait: lambda op, now: ["wait", op.ms],
    Http: lambda op, now: ["http", op.json],
}

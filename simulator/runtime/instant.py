"""The instant runtime: runs the engine with zero latency over in-memory storage.

Time stands still except when asked to move: `Wait` advances the clock, and `fire_next_alarm`
jumps to the next alarm. Every platform-visible operation is traced (unless `tracing` is off, as
for measuring the engine's own speed). Background work (`Fork`)
runs right after the call that started it has answered. It is the runtime for unit tests and for
`python -m simulator trace`.
"""

from __future__ import annotations

import contextlib
import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx

from engine.design import BASELINE, Design
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions, IsolateState
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
    OperationTimedOut,
    Program,
    Put,
    PutMany,
    Random,
    Rpc,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)
from engine.workflow import two_steps_with_sleep
from simulator.errors import ObjectReset
from simulator.runtime.config import ALARM_RETRY_DELAYS_MS
from simulator.runtime.endpoint import RecordingEndpoint
from simulator.runtime.naming import object_id_for
from simulator.runtime.storage import StoredObject
from simulator.runtime.trace import TRACED_KINDS, TraceEntry


class Endpoint(Protocol):
    """Where the engine's HTTP requests go: one method, a mock and a real one beside it."""

    def handle(self, post: Http) -> httpx.Response: ...


@dataclass(frozen=True)
class _Context:
    call: str
    object_id: str | None
    deadline_ms: float | None = None


class InstantRuntime:
    def __init__(
        self,
        design: Design = BASELINE,
        options: EngineOptions | None = None,
        endpoint: RecordingEndpoint | None = None,
        start_ms: float = 0.0,
        seed: int = 0,
        tracing: bool = True,
    ) -> None:
        self.design = design
        self.options = options or EngineOptions(workflows=(two_steps_with_sleep(),))
        self.endpoint: Endpoint = endpoint if endpoint is not None else RecordingEndpoint()
        self.now_ms = start_ms
        self.rng = random.Random(seed)
        self.stored: dict[str, StoredObject] = {}
        self.instances: dict[str, DurableWorkflowEngine] = {}
        self.isolate = IsolateState()
        self.tracing = tracing
        #: Every platform-visible operation, in order, while `tracing` is on.
        self.trace: list[TraceEntry] = []
        self._alarms: list[tuple[float, str]] = []  # a heap of (time, object) as set
        self._alarm_writes: Counter[str] = Counter()  # alarms set or deleted, per object
        self.operations = 0  # every operation performed, traced or not
        self._handlers = self._handler_table()
        self.emitted: list[dict[str, Any]] = []
        self._alarm_failures: dict[str, int] = {}
        self._forks: list[tuple[_Context, Program[Any]]] = []
        #: When it answers true for (call, op), the object dies just before that operation.
        self.crash_when: Callable[[str, Op], bool] | None = None

    # --- calls---

    def run_client(self, program: Program[Any]) -> Any:
        """Drive a client program (`WorkflowClient.run_async(...)` and the like)."""
        return self._drive(program, _Context("client", None))

    def call(self, object_id: str, method: str, *args: Any) -> Any:
        """Deliver one call to the object, constructing it first if it is not resident."""
        try:
            instance = self._instance(object_id)
            return self._drive(getattr(instance, method)(*args), _Context(method, object_id))
        except ObjectReset:
            self.evict(object_id)
            self._forks.clear()
            raise
        finally:
            self._run_forks()

    def run_program(self, object_id: str, program: Program[Any], call: str = "program") -> Any:
        """Drive any engine program against one object's storage (unit tests of engine parts)."""
        return self._drive(program, _Context(call, object_id))

    def storage_of(self, object_id: str) -> StoredObject:
        """The object's storage. Alarms are set by the engine's `SetAlarm`, not by writing
        `alarm_ms` here: `next_alarm` only knows the alarms set through the runtime."""
        stored = self.stored.get(object_id)
        if stored is None:
            stored = self.stored[object_id] = StoredObject()
        return stored

    def evict(self, object_id: str) -> None:
        """Drop the instance (idle eviction, reset): storage and the alarm stay."""
        self.instances.pop(object_id, None)

    def deploy(self) -> None:
        """A deploy: every instance and the isolate's module state are gone."""
        self.instances.clear()
        self.isolate = IsolateState()

    # --- alarms---

    def next_alarm(self) -> tuple[float, str] | None:
        """The earliest alarm set. The heap keeps every alarm ever set; the ones since replaced,
        deleted or fired no longer match their object's storage and are dropped here."""
        heap = self._alarms
        while heap and self.stored[heap[0][1]].alarm_ms != heap[0][0]:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _arm(self, object_id: str, at_ms: float) -> None:
        self.storage_of(object_id).alarm_ms = at_ms
        heapq.heappush(self._alarms, (at_ms, object_id))
        self._alarm_writes[object_id] += 1

    def _delete_alarm(self, op: DeleteAlarm, ctx: _Context) -> None:
        self._write(op, ctx)
        self._alarm_writes[self._object(ctx)] += 1

    def fire_next_alarm(self) -> str | None:
        """Advance the clock to the earliest alarm and run its handler; answer the object id.

        A handler that raises is retried like the platform does (2 s, doubling, six retries),
        unless it set or deleted the alarm itself: that stands instead of the retry.
        """
        nxt = self.next_alarm()
        if nxt is None:
            return None
        at, object_id = nxt
        self.now_ms = max(self.now_ms, at)
        self.stored[object_id].alarm_ms = None
        writes = self._alarm_writes[object_id]
        try:
            self.call(object_id, "alarm")
            self._alarm_failures.pop(object_id, None)
        except (Exception, ObjectReset):
            failures = self._alarm_failures.get(object_id, 0)
            if self._alarm_writes[object_id] != writes:
                pass  # the failed handler set or deleted the alarm: that stands, not a retry
            elif failures < len(ALARM_RETRY_DELAYS_MS):
                self._alarm_failures[object_id] = failures + 1
                self._arm(object_id, self.now_ms + ALARM_RETRY_DELAYS_MS[failures])
            else:
                self._alarm_failures.pop(object_id, None)
        return object_id

    def run_alarms(self, limit: int = 1000) -> int:
        """Fire alarms until none is set; answer how many fired."""
        fired = 0
        while fired < limit and self.fire_next_alarm() is not None:
            fired += 1
        return fired

    # --- the interpreter---

    def _instance(self, object_id: str) -> DurableWorkflowEngine:
        instance = self.instances.get(object_id)
        if instance is None:
            instance = DurableWorkflowEngine(object_id, self.options, self.design, self.isolate)
            self._drive(instance.constructor(), _Context("constructor", object_id))
            self.instances[object_id] = instance
        return instance

    def _run_forks(self) -> None:
        while self._forks:
            ctx, program = self._forks.pop(0)
            # Background work that fails is lost, like an unawaited promise.
            with contextlib.suppress(Exception):
                self._drive(program, ctx)

    def _drive(self, program: Program[Any], ctx: _Context) -> Any:
        handlers = self._handlers
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = program.throw(error) if error is not None else program.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            self.operations += 1
            try:
                if self.tracing and op.kind in TRACED_KINDS:
                    self.trace.append(TraceEntry.of(ctx.call, op, ctx.object_id))
                if self.crash_when is not None and self.crash_when(ctx.call, op):
                    raise ObjectReset(f"crash before {op.kind} in {ctx.call}")
                handler = handlers.get(op.__class__)
                if handler is None:
                    raise TypeError(f"the instant runtime cannot perform {op!r}")
                value = handler(op, ctx)
            except Exception as exc:
                error = exc

    def _handler_table(self) -> dict[type, Callable[[Any, _Context], Any]]:
        return {
            Get: self._read,
            GetMany: self._read,
            List: self._read,
            Put: self._write,
            PutMany: self._write,
            Delete: self._write,
            DeleteAll: self._write,
            SetAlarm: self._set_alarm,
            GetAlarm: lambda op, ctx: self._stored(ctx).alarm_ms,
            DeleteAlarm: self._delete_alarm,
            Now: lambda op, ctx: self.now_ms,
            Wait: lambda op, ctx: self._wait(op.ms, ctx),
            Random: lambda op, ctx: self.rng.random(),
            Compute: lambda op, ctx: None,
            Http: lambda op, ctx: self.endpoint.handle(op),
            EventEmitted: lambda op, ctx: self.emitted.append(dict(op.event)),
            IdFromName: lambda op, ctx: object_id_for(op.name),
            Rpc: lambda op, ctx: self.call(op.object_id, op.method, *op.args),
            Span: self._child,
            BlockConcurrencyWhile: self._child,
            All: lambda op, ctx: [self._drive(child, ctx) for child in op.children],
            Fork: lambda op, ctx: self._forks.append((ctx, op.child)),
            Timeout: self._timeout,
        }

    def _stored(self, ctx: _Context) -> StoredObject:
        return self.storage_of(self._object(ctx))

    def _read(self, op: Op, ctx: _Context) -> Any:
        return self._stored(ctx).read(op)

    def _write(self, op: Op, ctx: _Context) -> None:
        self._stored(ctx).write(op)

    def _set_alarm(self, op: SetAlarm, ctx: _Context) -> None:
        self._arm(self._object(ctx), op.at_ms)

    def _child(self, op: Span | BlockConcurrencyWhile, ctx: _Context) -> Any:
        return self._drive(op.child, ctx)

    def _timeout(self, op: Timeout, ctx: _Context) -> Any:
        deadline = self.now_ms + op.ms
        if ctx.deadline_ms is not None:
            deadline = min(deadline, ctx.deadline_ms)
        return self._drive(op.child, replace(ctx, deadline_ms=deadline))

    def _wait(self, ms: float, ctx: _Context) -> None:
        if ctx.deadline_ms is not None and self.now_ms + ms > ctx.deadline_ms:
            self.now_ms = max(self.now_ms, ctx.deadline_ms)
            raise OperationTimedOut(f"deadline {ctx.deadline_ms} ms passed")
        self.now_ms += ms

    @staticmethod
    def _object(ctx: _Context) -> str:
        if ctx.object_id is None:
            raise RuntimeError(f"a storage operation outside an object in call {ctx.call!r}")
        return ctx.object_id

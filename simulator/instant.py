"""The instant runtime: runs the engine with zero latency over in-memory storage.

Time stands still except when asked to move: `Wait` advances the clock, and `fire_next_alarm`
jumps to the next alarm. Every platform-visible operation is traced. Background work (`Fork`)
runs right after the call that started it has answered. It is the runtime for unit tests and for
`python -m simulator trace`.
"""

from __future__ import annotations

import contextlib
import random
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
    DeleteAlarm,
    EventEmitted,
    Fork,
    GetAlarm,
    Http,
    IdFromName,
    Now,
    Op,
    OperationTimedOut,
    Program,
    Random,
    Rpc,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)
from engine.workflow import two_steps_with_sleep
from simulator.endpoint import RecordingEndpoint
from simulator.errors import ObjectReset
from simulator.naming import object_id_for
from simulator.sim.config import ALARM_RETRY_DELAYS_MS
from simulator.storage import StoredObject
from simulator.trace import TRACED_KINDS, TraceEntry

READS = frozenset({"get", "get_many", "list"})
WRITES = frozenset({"put", "put_many", "delete", "delete_all"})


class Endpoint(Protocol):
    """Where the engine's HTTP requests go: one method, a mock and a real one beside it."""

    def handle(self, request: httpx.Request) -> httpx.Response: ...


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
    ) -> None:
        self.design = design
        self.options = options or EngineOptions(workflows=(two_steps_with_sleep(),))
        self.endpoint: Endpoint = endpoint if endpoint is not None else RecordingEndpoint()
        self.now_ms = start_ms
        self.rng = random.Random(seed)
        self.stored: dict[str, StoredObject] = {}
        self.instances: dict[str, DurableWorkflowEngine] = {}
        self.isolate = IsolateState()
        self.trace: list[TraceEntry] = []
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
        return self.stored.setdefault(object_id, StoredObject())

    def evict(self, object_id: str) -> None:
        """Drop the instance (idle eviction, reset): storage and the alarm stay."""
        self.instances.pop(object_id, None)

    def deploy(self) -> None:
        """A deploy: every instance and the isolate's module state are gone."""
        self.instances.clear()
        self.isolate = IsolateState()

    # --- alarms---

    def next_alarm(self) -> tuple[float, str] | None:
        pending = [(s.alarm_ms, oid) for oid, s in self.stored.items() if s.alarm_ms is not None]
        return min(pending) if pending else None

    def fire_next_alarm(self) -> str | None:
        """Advance the clock to the earliest alarm and run its handler; answer the object id.

        A handler that raises is retried like the platform does (2 s, doubling, six retries).
        """
        nxt = self.next_alarm()
        if nxt is None:
            return None
        at, object_id = nxt
        self.now_ms = max(self.now_ms, at)
        self.stored[object_id].alarm_ms = None
        try:
            self.call(object_id, "alarm")
            self._alarm_failures.pop(object_id, None)
        except (Exception, ObjectReset):
            failures = self._alarm_failures.get(object_id, 0)
            if self.stored[object_id].alarm_ms is not None:
                pass  # the failed handler set a new alarm: it stands instead of a retry
            elif failures < len(ALARM_RETRY_DELAYS_MS):
                self._alarm_failures[object_id] = failures + 1
                self.stored[object_id].alarm_ms = self.now_ms + ALARM_RETRY_DELAYS_MS[failures]
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
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = program.throw(error) if error is not None else program.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            try:
                value = self._perform(op, ctx)
            except Exception as exc:
                error = exc

    def _perform(self, op: Op, ctx: _Context) -> Any:
        kind = op.kind
        if kind in TRACED_KINDS:
            self.trace.append(TraceEntry.of(ctx.call, op, ctx.object_id))
        if self.crash_when is not None and self.crash_when(ctx.call, op):
            raise ObjectReset(f"crash before {kind} in {ctx.call}")
        if kind in READS or kind in WRITES:
            assert ctx.object_id is not None, f"{kind} outside an object"
            stored = self.storage_of(ctx.object_id)
            if kind in READS:
                return stored.read(op)
            stored.write(op)
            return None
        if isinstance(op, SetAlarm):
            self.storage_of(self._object(ctx)).alarm_ms = op.at_ms
        elif isinstance(op, GetAlarm):
            return self.storage_of(self._object(ctx)).alarm_ms
        elif isinstance(op, DeleteAlarm):
            self.storage_of(self._object(ctx)).alarm_ms = None
        elif isinstance(op, Now):
            return self.now_ms
        elif isinstance(op, Wait):
            return self._wait(op.ms, ctx)
        elif isinstance(op, Random):
            return self.rng.random()
        elif isinstance(op, Http):
            return self.endpoint.handle(op.request)
        elif isinstance(op, EventEmitted):
            self.emitted.append(dict(op.event))
        elif isinstance(op, IdFromName):
            return object_id_for(op.name)
        elif isinstance(op, Rpc):
            return self.call(op.object_id, op.method, *op.args)
        elif isinstance(op, Span | BlockConcurrencyWhile):
            return self._drive(op.child, ctx)
        elif isinstance(op, All):
            return [self._drive(child, ctx) for child in op.children]
        elif isinstance(op, Fork):
            self._forks.append((ctx, op.child))
        elif isinstance(op, Timeout):
            deadline = self.now_ms + op.ms
            if ctx.deadline_ms is not None:
                deadline = min(deadline, ctx.deadline_ms)
            return self._drive(op.child, replace(ctx, deadline_ms=deadline))
        elif not isinstance(op, Compute):
            raise TypeError(f"the instant runtime cannot perform {op!r}")
        return None

    def _wait(self, ms: float, ctx: _Context) -> None:
        if ctx.deadline_ms is not None and self.now_ms + ms > ctx.deadline_ms:
            self.now_ms = max(self.now_ms, ctx.deadline_ms)
            raise OperationTimedOut(f"deadline {ctx.deadline_ms} ms passed")
        self.now_ms += ms

    @staticmethod
    def _object(ctx: _Context) -> str:
        if ctx.object_id is None:
            raise RuntimeError(f"alarm operation outside an object in call {ctx.call!r}")
        return ctx.object_id

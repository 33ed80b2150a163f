"""The instant runtime: runs the engine with zero latency over in-memory storage.

Time stands still except when asked to move: `Wait` advances the clock, `fire_next_alarm` jumps to
the next alarm, and `run` (the `Runtime` interface) jumps from one planned call, fault or alarm to
the next. Every write is durable at once. Every platform-visible operation is traced (unless
`tracing` is off, as for measuring the engine's own speed). Background work (`Fork`) runs right
after the call that started it has answered. It is the runtime for unit tests and for `python -m
simulator trace`, and the zero-latency reference the other runtimes are checked against.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

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
    Random,
    Rpc,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)
from engine.workflow import two_steps_with_sleep
from simulator.runtime.config import PlatformSwitches
from simulator.runtime.dispatch import dispatch_table, unknown_operation
from simulator.runtime.endpoint import Endpoint, RecordingEndpoint
from simulator.runtime.errors import ObjectReset, answer_or_stop, mark_engine
from simulator.runtime.interface import ClientCall, Fault, NextCall, RunSetup
from simulator.runtime.naming import object_id_for
from simulator.runtime.rules import after_failed_alarm
from simulator.runtime.runlog import CallRecord, RunLog, RunRecorder
from simulator.runtime.storage import StoredObject
from simulator.runtime.trace import TRACED_KINDS, TraceEntry


@dataclass(frozen=True)
class _Context:
    call: str
    object_id: str | None
    record: CallRecord
    deadline_ms: float | None = None


class InstantRuntime:
    def __init__(
        self,
        design: Design = BASELINE,
        options: EngineOptions | None = None,
        endpoint: Endpoint | None = None,
        start_ms: float = 0.0,
        seed: int = 0,
        tracing: bool = True,
        log: RunRecorder | None = None,
        engine_class: type[DurableWorkflowEngine] = DurableWorkflowEngine,
        switches: PlatformSwitches | None = None,
    ) -> None:
        self.design = design
        self.options = options or EngineOptions(workflows=(two_steps_with_sleep(),))
        self.endpoint: Endpoint = endpoint if endpoint is not None else RecordingEndpoint()
        self.engine_class = engine_class
        self.switches = switches or PlatformSwitches()  # only the rules of `runtime.rules` apply
        self.log: RunRecorder = log if log is not None else RunLog()
        self.now_ms = start_ms
        self.rng = random.Random(seed)
        self.stored: dict[str, StoredObject] = {}
        self.instances: dict[str, DurableWorkflowEngine] = {}
        self.isolate = IsolateState()
        self.tracing = tracing
        #: Every platform-visible operation, in order, while `tracing` is on.
        self.trace: list[TraceEntry] = []
        self.operations = 0  # every operation performed, traced or not
        #: When it answers true for (call, op), the object dies just before that operation.
        self.crash_when: Callable[[str, Op], bool] | None = None
        self._handlers = dispatch_table(self)
        self._alarms: list[tuple[float, str]] = []  # a heap of (time, object) as set
        self._alarm_writes: Counter[str] = Counter()  # alarms set or deleted, per object
        self._alarm_failures: dict[str, int] = {}
        self._retrying: set[str] = set()  # objects whose pending alarm is a retry
        self._forks: list[tuple[_Context, Program[Any]]] = []
        self._planned: list[tuple[float, int, int, Any]] = []  # (time, order, 0 call | 1 fault, it)
        self._order = itertools.count()

    @classmethod
    def from_setup(cls, setup: RunSetup) -> InstantRuntime:
        """A runtime for an experiment: latencies and platform switches do not apply here."""
        return cls(
            setup.design,
            setup.options,
            log=setup.log,
            seed=int(setup.latencies.rng("instant").integers(2**31)),
            tracing=False,
            engine_class=setup.engine_class,
            switches=setup.switches,
        )

    # --- the Runtime interface ---

    def submit(self, call: ClientCall, then: NextCall | None = None) -> None:
        heapq.heappush(self._planned, (call.at_ms, next(self._order), 0, (call, then)))

    def inject(self, fault: Fault) -> None:
        heapq.heappush(self._planned, (fault.at_ms, next(self._order), 1, fault))

    def run(self, until_ms: float) -> RunRecorder:
        """Deliver planned calls, faults and alarms in time order up to `until_ms`."""
        while True:
            alarm = self.next_alarm()
            planned_at = self._planned[0][0] if self._planned else None
            if alarm is not None and (planned_at is None or alarm[0] <= planned_at):
                if alarm[0] > until_ms:
                    break
                self.fire_next_alarm()
                continue
            if planned_at is None or planned_at > until_ms:
                break
            at, _, what, item = heapq.heappop(self._planned)
            self.now_ms = max(self.now_ms, at)
            if what == 0:
                self._make(*item)
            else:
                self._fault(item)
        self.now_ms = max(self.now_ms, until_ms)
        return self.log

    def close(self) -> None:
        self._handlers.clear()  # its bound methods refer back to the runtime

    def _make(self, call: ClientCall, then: NextCall | None) -> None:
        record = call.record()
        # A call that fails is recorded as failed, as on the platform; the run goes on.
        with contextlib.suppress(Exception, ObjectReset):
            self.run_client(call.program(), record)
        if then is not None:
            following = then(record)
            if following is not None:
                self.submit(following, then)

    def _fault(self, fault: Fault) -> None:
        if fault.kind in ("deploy", "restart"):  # nothing is ever in flight between calls here
            self.deploy(fault.kind)
            return
        resident = sorted(self.instances)
        if resident:
            target = resident[self.rng.randrange(len(resident))]
            self.evict(target)
            if fault.kind == "crash":
                self.log.reset(self.now_ms, target, "crash")

    # --- calls ---

    def run_client(self, program: Program[Any], record: CallRecord | None = None) -> Any:
        """Drive a client program (`WorkflowClient.run_async(...)` and the like); its record
        goes into the log."""
        record = record or CallRecord("client", "", self.now_ms)
        record.start_ms = self.now_ms
        self.log.call(record)
        try:
            value = self._drive(program, _Context("client", None, record))
            record.outcome = "ok"
            return value
        except ObjectReset as reset:
            record.outcome, record.error = "reset", str(reset)
            raise
        except Exception as error:
            record.outcome, record.error = "error", f"{type(error).__name__}: {error}"
            raise
        finally:
            record.end_ms = self.now_ms

    def call(self, object_id: str, method: str, *args: Any) -> Any:
        """Deliver one call to the object, constructing it first if it is not resident."""
        record = CallRecord(method, object_id, self.now_ms, start_ms=self.now_ms)
        return self._deliver(object_id, method, args, record)

    def _deliver(
        self, object_id: str, method: str, args: tuple[Any, ...], record: CallRecord
    ) -> Any:
        try:
            record.mode = "warm" if object_id in self.instances else "cold"
            instance = self._instance(object_id, record)
            return self._drive(
                getattr(instance, method)(*args), _Context(method, object_id, record)
            )
        except ObjectReset as reset:
            self.evict(object_id)
            self._forks.clear()
            self.log.reset(self.now_ms, object_id, str(reset))
            raise
        finally:
            self._run_forks()

    def run_program(self, object_id: str, program: Program[Any], call: str = "program") -> Any:
        """Drive any engine program against one object's storage (unit tests of engine parts)."""
        record = CallRecord(call, object_id, self.now_ms)
        return self._drive(program, _Context(call, object_id, record))

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

    def deploy(self, reason: str = "deploy") -> None:
        """A deploy: every instance and the isolate's module state are gone."""
        for object_id in sorted(self.instances):
            self.log.reset(self.now_ms, object_id, reason)
        self.instances.clear()
        self.isolate = IsolateState()

    # --- alarms ---

    def next_alarm(self) -> tuple[float, str] | None:
        """The earliest alarm set. The heap keeps every alarm ever set; the ones since replaced,
        deleted or fired no longer match their object's storage and are dropped here."""
        heap = self._alarms
        while heap and self.stored[heap[0][1]].alarm_ms != heap[0][0]:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _arm(self, object_id: str, at_ms: float) -> None:
        self._replace_retry(object_id)
        self.storage_of(object_id).alarm_ms = at_ms
        heapq.heappush(self._alarms, (at_ms, object_id))
        self._alarm_writes[object_id] += 1

    def _replace_retry(self, object_id: str) -> None:
        """An alarm written while a retry is pending replaces the retry."""
        if object_id in self._retrying:
            self._retrying.discard(object_id)
            self.log.alarm(self.now_ms, object_id, "retry-replaced")

    def fire_next_alarm(self) -> str | None:
        """Advance the clock to the earliest alarm and run its handler; answer the object id.

        A failed handler meets the platform's fate (`simulator.runtime.rules`): retried after
        2 s, doubling, six times; one that wrote the alarm itself is spared only when
        `rewritten_alarm_stops_retry` is on. This runtime keeps one alarm per object, so a retry
        replaces an alarm the handler set.
        """
        nxt = self.next_alarm()
        if nxt is None:
            return None
        at, object_id = nxt
        self.now_ms = max(self.now_ms, at)
        self.stored[object_id].alarm_ms = None
        retry = object_id in self._retrying
        self._retrying.discard(object_id)
        self.log.alarm(self.now_ms, object_id, "retry-fired" if retry else "fired")
        writes = self._alarm_writes[object_id]
        record = CallRecord("alarm", object_id, at, source="alarm", start_ms=self.now_ms)
        self.log.call(record)
        try:
            self._deliver(object_id, "alarm", (), record)
            record.outcome = "ok"
            self._alarm_failures.pop(object_id, None)
        except (Exception, ObjectReset) as error:
            record.outcome = "reset" if isinstance(error, ObjectReset) else "error"
            record.error = f"{type(error).__name__}: {error}"
            failures = self._alarm_failures.get(object_id, 0) + 1
            fate = after_failed_alarm(
                failures, self._alarm_writes[object_id] != writes, self.switches
            )
            if fate.kind == "retry":
                self._alarm_failures[object_id] = failures
                due = self.now_ms + fate.delay_ms
                self._arm(object_id, due)
                self._retrying.add(object_id)
                self.log.alarm(self.now_ms, object_id, "retrying", due)
            else:
                self._alarm_failures.pop(object_id, None)
                if fate.kind == "dropped":
                    self.log.alarm(self.now_ms, object_id, "dropped")
        finally:
            record.end_ms = self.now_ms
            self.log.alarm(self.now_ms, object_id, "finished")
        return object_id

    def run_alarms(self, limit: int = 1000) -> int:
        """Fire alarms until none is set; answer how many fired."""
        fired = 0
        while fired < limit and self.fire_next_alarm() is not None:
            fired += 1
        return fired

    # --- the interpreter ---

    def _instance(self, object_id: str, record: CallRecord) -> DurableWorkflowEngine:
        instance = self.instances.get(object_id)
        if instance is None:
            instance = self.engine_class(object_id, self.options, self.design, self.isolate)
            self._drive(instance.constructor(), _Context("constructor", object_id, record))
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
        counts = ctx.record.ops
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = program.throw(error) if error is not None else program.send(value)
            except StopIteration as stop:
                return stop.value
            except Exception as raised:
                mark_engine(raised)
                raise
            value, error = None, None
            self.operations += 1
            try:
                handler = handlers.get(op.__class__)
                if handler is None:
                    raise unknown_operation(op, "instant")
                counts[op.kind] += 1
                if self.tracing and op.kind in TRACED_KINDS:
                    self.trace.append(TraceEntry.of(ctx.call, op, ctx.object_id))
                if self.crash_when is not None and self.crash_when(ctx.call, op):
                    raise ObjectReset(f"crash before {op.kind} in {ctx.call}")
                value = handler(op, ctx)
            except Exception as exc:
                error = answer_or_stop(exc, op)

    # --- the handlers (`simulator.runtime.dispatch.Handlers`) ---

    def read(self, op: Get | GetMany | List, ctx: _Context) -> Any:
        return self._stored(ctx).read(op)

    get = read

    def write(self, op: Op, ctx: _Context) -> None:
        self._stored(ctx).commit(op, self.log, self.now_ms, self._object(ctx))

    def set_alarm(self, op: SetAlarm, ctx: _Context) -> None:
        self.log.alarm(self.now_ms, self._object(ctx), "set", op.at_ms)
        self._arm(self._object(ctx), op.at_ms)

    def delete_alarm(self, op: DeleteAlarm, ctx: _Context) -> None:
        self._replace_retry(self._object(ctx))
        self.write(op, ctx)
        self._alarm_writes[self._object(ctx)] += 1

    def get_alarm(self, op: GetAlarm, ctx: _Context) -> float | None:
        return self._stored(ctx).alarm_ms

    def now(self, op: Now, ctx: _Context) -> float:
        return self.now_ms

    def wait(self, op: Wait, ctx: _Context) -> None:
        if ctx.deadline_ms is not None and self.now_ms + op.ms > ctx.deadline_ms:
            self.now_ms = max(self.now_ms, ctx.deadline_ms)
            raise OperationTimedOut(f"deadline {ctx.deadline_ms} ms passed")
        self.now_ms += op.ms

    def random(self, op: Random, ctx: _Context) -> float:
        return self.rng.random()

    def compute(self, op: Compute, ctx: _Context) -> None:
        if ctx.object_id is not None:
            self.log.ran(ctx.object_id, op.label)

    def http(self, op: Http, ctx: _Context) -> Any:
        self.log.tracker_attempts += 1
        response = self.endpoint.handle(op)
        if response.is_success:
            self.log.accept(op.json["events"], self.now_ms)
        return response

    def event_emitted(self, op: EventEmitted, ctx: _Context) -> None:
        self.log.emit(op.event, self.now_ms)
        ctx.record.events_emitted += 1

    def id_from_name(self, op: IdFromName, ctx: _Context) -> str:
        return object_id_for(op.name)

    def rpc(self, op: Rpc, ctx: _Context) -> Any:
        ctx.record.object_id = op.object_id
        return self._deliver(op.object_id, op.method, op.args, ctx.record)

    def span(self, op: Span | BlockConcurrencyWhile, ctx: _Context) -> Any:
        return self._drive(op.child, ctx)

    block_concurrency = span

    def all(self, op: All, ctx: _Context) -> list[Any]:
        return [self._drive(child, ctx) for child in op.children]

    def fork(self, op: Fork, ctx: _Context) -> None:
        self._forks.append((ctx, op.child))

    def timeout(self, op: Timeout, ctx: _Context) -> Any:
        deadline = self.now_ms + op.ms
        if ctx.deadline_ms is not None:
            deadline = min(deadline, ctx.deadline_ms)
        return self._drive(op.child, replace(ctx, deadline_ms=deadline))

    def _stored(self, ctx: _Context) -> StoredObject:
        return self.storage_of(self._object(ctx))

    @staticmethod
    def _object(ctx: _Context) -> str:
        if ctx.object_id is None:
            raise RuntimeError(f"a storage operation outside an object in call {ctx.call!r}")
        return ctx.object_id

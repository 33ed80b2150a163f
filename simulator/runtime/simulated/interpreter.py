"""Interprets engine operations in simulated time.

`drive` runs one engine program inside a SimPy process: it sends each operation's answer back into
the program and yields SimPy events while the operation takes time. Operations that take no time
(cache hits, writes into the open batch, `Now`) answer without yielding to SimPy at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

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
from simulator.errors import ObjectReset
from simulator.runtime.naming import object_id_for
from simulator.runtime.runlog import CallRecord
from simulator.runtime.simulated.host import ObjectHost
from simulator.runtime.simulated.outcome import Outcome, SimGen, guarded

if TYPE_CHECKING:
    from simulator.runtime.simulated.platform import Platform


@dataclass(slots=True)
class Ctx:
    """Where a program runs: on which object, for which call record, under which span prefix."""

    host: ObjectHost | None
    record: CallRecord
    prefix: str = ""
    #: Which random stream this program draws from: its call kind, or constructor/background.
    stream: str = field(init=False)

    def __post_init__(self) -> None:
        self.stream = self.prefix.rstrip(".") or self.record.call

    def on_host(self) -> ObjectHost:
        if self.host is None:
            raise RuntimeError(f"{self.record.call}: a storage operation outside an object")
        return self.host


def _outcome(process: simpy.Process) -> Outcome:
    outcome = process.value
    assert isinstance(outcome, Outcome)
    return outcome


def _read_units(op: GetMany | List, answer: dict[str, Any]) -> int:
    """Billed reads: one per key asked for (a multi-get) or returned (a list)."""
    return len(op.keys) if isinstance(op, GetMany) else max(1, len(answer))


_ALARM_WRITES = (SetAlarm, DeleteAlarm)
_WAIT = object()  # an immediate handler's answer meaning "this one takes time after all"


class Interpreter:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.env = platform.env
        self.switches = platform.switches
        # Operations that never take time answer at once, without a generator; the rest are
        # generators that yield SimPy events. A read answers at once when it hits the cache.
        self._immediate: dict[type, Callable[[Any, Ctx], Any]] = {
            Get: self._get,
            GetMany: self._read_cached,
            List: self._read_cached,
            Put: self._write,
            PutMany: self._write,
            Delete: self._write,
            DeleteAll: self._write,
            SetAlarm: self._write,
            DeleteAlarm: self._write,
            GetAlarm: self._get_alarm,
            Now: self._now,
            Random: self._random,
            EventEmitted: self._event_emitted,
            IdFromName: self._id_from_name,
            Fork: self._fork,
        }
        self._waiting: dict[type, Callable[[Any, Ctx], SimGen]] = {
            Get: self._read_miss,
            GetMany: self._read_miss,
            List: self._read_miss,
            Wait: self._wait,
            Compute: self._compute,
            Http: self._http,
            Rpc: self._rpc,
            Span: self._span,
            BlockConcurrencyWhile: self._block_concurrency,
            All: self._all,
            Timeout: self._timeout,
        }

    def drive(self, program: Program[Any], ctx: Ctx) -> SimGen:
        immediate = self._immediate
        waiting = self._waiting
        counts = ctx.record.ops
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = program.send(value) if error is None else program.throw(error)
            except StopIteration as stop:
                return stop.value
            value = error = None
            counts[op.kind] += 1
            try:
                answer = immediate.get(op.__class__)
                value = _WAIT if answer is None else answer(op, ctx)
                if value is _WAIT:
                    value = yield from waiting[op.__class__](op, ctx)
            except simpy.Interrupt as interrupt:
                program.close()
                raise ObjectReset(str(interrupt.cause)) from None
            except ObjectReset:
                program.close()
                raise
            except Exception as exc:
                error = exc

    def end_turn(self, host: ObjectHost, record: CallRecord) -> None:
        """The object awaits: the writes made since its last await go to commit together."""
        if host.batch:
            batch, host.batch = host.batch, []
            record.ops["commit"] += 1
            host.last_commit = self.env.process(
                self._commit(host, batch, host.last_commit, host.generation, record.call)
            )

    def _commit(
        self,
        host: ObjectHost,
        batch: list[Op],
        previous: simpy.Event | None,
        generation: int,
        call: str,
    ) -> SimGen:
        if previous is not None and not previous.processed:
            yield previous
        yield self.env.timeout(host.draw("commit", call))
        if generation != host.generation:
            return  # the object was reset before the write was durable: it is lost
        if self.platform.commit_fails():
            self.platform.reset(host, "commit failed")
            return
        storage = host.storage
        touches_alarm = False
        for op in batch:
            storage.committed.write(op)
            touches_alarm = touches_alarm or isinstance(op, _ALARM_WRITES)
            self.platform.observe_commit(host, op)
        if touches_alarm:
            self.platform.alarm_committed(host)

    # --- storage ---

    def _get(self, op: Get, ctx: Ctx) -> Any:
        storage = ctx.on_host().storage
        ctx.record.ops["read_units"] += 1
        if self.switches.cache and (op.key in storage.cached_keys or storage.everything_cached):
            return storage.view.data.get(op.key)
        return _WAIT

    def _read_cached(self, op: GetMany | List, ctx: Ctx) -> Any:
        storage = ctx.on_host().storage
        if self.switches.cache and storage.is_cached(op):
            answer = storage.view.read(op)
            ctx.record.ops["read_units"] += _read_units(op, answer)
            return answer
        return _WAIT

    def _read_miss(self, op: Get | GetMany | List, ctx: Ctx) -> SimGen:
        host = ctx.on_host()
        ctx.record.ops["read_miss"] += 1
        self.end_turn(host, ctx.record)
        host.pending_reads += 1
        generation = host.generation
        try:
            yield self.env.timeout(host.draw("read", ctx.stream))
        finally:
            if generation == host.generation:
                host.pending_reads -= 1
                host.maybe_open_gate()
        answer = host.storage.view.read(op)
        host.storage.remember_read(op, answer)
        if not isinstance(op, Get):
            ctx.record.ops["read_units"] += _read_units(op, answer)
        return answer

    def _write(self, op: Op, ctx: Ctx) -> None:
        host = ctx.on_host()
        ctx.record.ops["write_units"] += len(op.entries) if isinstance(op, PutMany) else 1
        host.storage.write(op)
        host.batch.append(op)
        if not self.switches.coalescing:
            self.end_turn(host, ctx.record)

    def _get_alarm(self, op: GetAlarm, ctx: Ctx) -> float | None:
        return ctx.on_host().storage.view.alarm_ms

    # --- time, chance, CPU, network ---

    def _now(self, op: Now, ctx: Ctx) -> float:
        return self.env.now

    def _random(self, op: Random, ctx: Ctx) -> float:
        return ctx.host.uniform() if ctx.host is not None else self.platform.client_uniform()

    def _wait(self, op: Wait, ctx: Ctx) -> SimGen:
        if ctx.host is not None:
            self.end_turn(ctx.host, ctx.record)
        yield self.env.timeout(op.ms)

    def _compute(self, op: Compute, ctx: Ctx) -> SimGen:
        host = ctx.on_host()
        if op.label.startswith("step:"):
            self.platform.step_runs[(host.object_id, op.label)] += 1
        ms = self.platform.compute_ms(op, host, ctx.stream)
        if self.switches.single_thread:
            start = max(self.env.now, host.cpu_free_at)
            host.cpu_free_at = start + ms
            ms = host.cpu_free_at - self.env.now
        if ms > 0:
            yield self.env.timeout(ms)

    def _http(self, op: Http, ctx: Ctx) -> SimGen:
        host = ctx.on_host()  # only objects talk to the tracker
        self.end_turn(host, ctx.record)
        if self.switches.output_gate:
            started = self.env.now
            yield from host.output_gate()
            ctx.record.spans[f"{ctx.prefix}fetch-output-gate"] += self.env.now - started
        outcome = yield self.env.process(self.platform.endpoint.exchange(op, host, ctx.stream))
        return outcome.unwrap()

    def _event_emitted(self, op: EventEmitted, ctx: Ctx) -> None:
        self.platform.event_emitted(op.event)
        ctx.record.events_emitted += 1

    def _id_from_name(self, op: IdFromName, ctx: Ctx) -> str:
        return object_id_for(op.name)

    def _rpc(self, op: Rpc, ctx: Ctx) -> SimGen:
        return (yield from self.platform.rpc(op, ctx.record))

    # --- composition ---

    def _span(self, op: Span, ctx: Ctx) -> SimGen:
        started = self.env.now
        try:
            return (yield from self.drive(op.child, ctx))
        finally:
            ctx.record.spans[ctx.prefix + op.name] += self.env.now - started

    def _block_concurrency(self, op: BlockConcurrencyWhile, ctx: Ctx) -> SimGen:
        host = ctx.on_host()
        generation = host.generation
        host.blocking += 1
        try:
            return (yield from self.drive(op.child, ctx))
        except Exception:
            self.platform.reset(host, "blockConcurrencyWhile threw")
            raise
        finally:
            if generation == host.generation:
                host.blocking -= 1
                host.maybe_open_gate()

    def _fork(self, op: Fork, ctx: Ctx) -> None:
        host = ctx.host
        child = Ctx(host, ctx.record, "background.")
        process = self.env.process(guarded(self._background(op.child, child)))
        if host is not None:
            host.track(process, background=True)

    def _background(self, program: Program[Any], ctx: Ctx) -> SimGen:
        """Background work; when it ends, its last writes go to commit like a call's."""
        try:
            return (yield from self.drive(program, ctx))
        finally:
            if ctx.host is not None:
                self.end_turn(ctx.host, ctx.record)

    def _child(self, program: Program[Any], ctx: Ctx) -> simpy.Process:
        process = self.env.process(guarded(self.drive(program, ctx)))
        if ctx.host is not None:
            ctx.host.track(process)
        return process

    def _all(self, op: All, ctx: Ctx) -> SimGen:
        children = [self._child(child, ctx) for child in op.children]
        yield self.env.all_of(children)
        return [_outcome(child).unwrap() for child in children]

    def _timeout(self, op: Timeout, ctx: Ctx) -> SimGen:
        child = self._child(op.child, ctx)
        yield child | self.env.timeout(op.ms)
        if child.triggered:
            return _outcome(child).unwrap()
        child.interrupt("timeout")
        raise OperationTimedOut(f"gave up after {op.ms:g} ms")

"""Interprets engine operations in simulated time.

`drive` runs one engine program inside a SimPy process: it sends each operation's answer back into
the program and yields SimPy events while the operation takes time. A handler answers at once when
its operation takes no time (cache hits, writes into the open batch, `Now`); otherwise it answers
a generator of SimPy events, which `drive` runs to get the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import GeneratorType
from typing import Any, Protocol

import httpx
import simpy

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
    PutMany,
    Random,
    Rpc,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)
from simulator.runtime import phases
from simulator.runtime.config import PlatformSwitches
from simulator.runtime.dispatch import dispatch_table, unknown_operation
from simulator.runtime.errors import ObjectReset, answer_or_stop, mark_engine
from simulator.runtime.interface import Latencies
from simulator.runtime.naming import object_id_for
from simulator.runtime.runlog import CallRecord, RunRecorder
from simulator.runtime.simulated.host import Commit, ObjectHost
from simulator.runtime.simulated.outcome import Outcome, SimGen, guarded


@dataclass(slots=True)
class Ctx:
    """Where a program runs: on which object, for which call record, under which span prefix."""

    host: ObjectHost | None
    record: CallRecord
    prefix: str = ""
    in_block: bool = False  # inside a blockConcurrencyWhile of its object
    #: Which random stream this program draws from: its call kind, or constructor/background.
    stream: str = field(init=False)

    def __post_init__(self) -> None:
        self.stream = self.prefix.rstrip(".") or self.record.call

    def on_host(self) -> ObjectHost:
        if self.host is None:
            raise RuntimeError(f"{self.record.call}: a storage operation outside an object")
        return self.host

    def storage(self) -> ObjectHost:
        """The object, for a storage operation: a call that touches storage while its object
        shuts down after a deploy is stopped at once."""
        host = self.on_host()
        if host.draining:
            raise ObjectReset("storage access during a deploy's grace period")
        return host


class Lifecycle(Protocol):
    """What the interpreter asks of the platform around it: calls between objects, resets, and
    alarms that became durable."""

    def rpc(self, op: Rpc, record: CallRecord) -> SimGen: ...
    def reset(self, host: ObjectHost, reason: str) -> None: ...
    def alarm_committed(self, host: ObjectHost) -> None: ...


class Exchange(Protocol):
    """The tracker endpoint on the simulated network."""

    def exchange(self, post: Http, sender: ObjectHost, call: str) -> simpy.Event: ...


def _outcome(process: simpy.Process) -> Outcome:
    outcome = process.value
    assert isinstance(outcome, Outcome)
    return outcome


def _read_units(op: GetMany | List, answer: dict[str, Any]) -> int:
    """Billed reads: one per key asked for (a multi-get) or returned (a list)."""
    return len(op.keys) if isinstance(op, GetMany) else max(1, len(answer))


_ALARM_WRITES = (SetAlarm, DeleteAlarm)


class Interpreter:
    """Runs programs on objects; one per platform. Implements `dispatch.Handlers`."""

    def __init__(
        self,
        env: simpy.Environment,
        switches: PlatformSwitches,
        latencies: Latencies,
        endpoint: Exchange,
        log: RunRecorder,
        lifecycle: Lifecycle,
        commit_failure_rate: float = 0.0,
    ) -> None:
        self.env = env
        self.switches = switches
        self.latencies = latencies
        self.endpoint = endpoint
        self.log = log
        self.lifecycle = lifecycle
        self.commit_failure_rate = commit_failure_rate
        self._commit_rng = latencies.rng("commit-failures")
        self._client_random = latencies.uniform("client")
        self._priced_labels: dict[str, str | None] = {}  # label -> profile op, or None
        self._alarm_commit_priced = latencies.prices("alarm_commit")
        self._handlers = dispatch_table(self)

    def close(self) -> None:
        """Drop the dispatch table: its bound methods refer back to the interpreter."""
        self._handlers.clear()

    def drive(self, program: Program[Any], ctx: Ctx) -> SimGen:
        handlers = self._handlers
        counts = ctx.record.ops
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = program.send(value) if error is None else program.throw(error)
            except StopIteration as stop:
                return stop.value
            except Exception as raised:
                mark_engine(raised)
                raise
            value = error = None
            try:
                handler = handlers.get(op.__class__)
                if handler is None:
                    raise unknown_operation(op, "simulated")
                counts[op.kind] += 1
                value = handler(op, ctx)
                if value.__class__ is GeneratorType:  # the operation takes time
                    value = yield from value
            except simpy.Interrupt as interrupt:
                program.close()
                raise ObjectReset(str(interrupt.cause)) from None
            except ObjectReset:
                program.close()
                raise
            except Exception as exc:
                error = answer_or_stop(exc, op)

    def end_turn(self, host: ObjectHost, record: CallRecord) -> None:
        """The object awaits: the writes made since its last await go to commit together."""
        if not host.batch:
            return
        batch, host.batch = host.batch, []
        record.ops["commit"] += 1
        commit = Commit(batch, host.generation, record.call)
        previous, host.last_commit = host.last_commit, commit
        host.commits_in_flight += 1
        if previous is not None and not previous.done:
            previous.next = commit
        else:
            self._start_commit(host, commit)

    def _start_commit(self, host: ObjectHost, commit: Commit) -> None:
        ms = host.draw("commit", commit.call)
        if self._alarm_commit_priced and any(isinstance(op, _ALARM_WRITES) for op in commit.batch):
            ms += host.draw("alarm_commit", commit.call)
        self.env.timeout(ms).callbacks.append(lambda _: self._end_commit(host, commit))

    def _end_commit(self, host: ObjectHost, commit: Commit) -> None:
        """The commit latency is over: the batch is durable, unless the object was reset since it
        closed (it is lost) or the commit fails (the object is reset). Then the next one starts."""
        if commit.generation != host.generation:
            pass  # the object was reset before the write was durable: it is lost
        elif self._commit_fails():
            self.lifecycle.reset(host, "commit failed")
        else:
            self._make_durable(host, commit.batch)
        host.commits_in_flight -= 1
        commit.finish()
        if commit.next is not None:
            self._start_commit(host, commit.next)

    def _make_durable(self, host: ObjectHost, batch: list[Op]) -> None:
        committed = host.storage.committed
        touches_alarm = False
        for op in batch:
            committed.commit(op, self.log, self.env.now, host.object_id)
            touches_alarm = touches_alarm or isinstance(op, _ALARM_WRITES)
        if touches_alarm:
            self.lifecycle.alarm_committed(host)

    def _commit_fails(self) -> bool:
        rate = self.commit_failure_rate
        return bool(rate) and float(self._commit_rng.random()) < rate

    # --- storage ---

    def get(self, op: Get, ctx: Ctx) -> Any:
        storage = ctx.storage().storage
        ctx.record.ops["read_units"] += 1
        if self.switches.cache and (op.key in storage.cached_keys or storage.everything_cached):
            return storage.view.data.get(op.key)
        return self._read_miss(op, ctx)

    def read(self, op: GetMany | List, ctx: Ctx) -> Any:
        storage = ctx.storage().storage
        if self.switches.cache and storage.is_cached(op):
            answer = storage.view.read(op)
            ctx.record.ops["read_units"] += _read_units(op, answer)
            return answer
        return self._read_miss(op, ctx)

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

    def write(self, op: Op, ctx: Ctx) -> None:
        host = ctx.storage()
        ctx.record.ops["write_units"] += len(op.entries) if isinstance(op, PutMany) else 1
        host.storage.write(op)
        host.batch.append(op)
        if not self.switches.coalescing:
            self.end_turn(host, ctx.record)

    set_alarm = write
    delete_alarm = write

    def get_alarm(self, op: GetAlarm, ctx: Ctx) -> float | None:
        return ctx.storage().storage.view.alarm_ms

    # --- time, chance, CPU, network ---

    def now(self, op: Now, ctx: Ctx) -> float:
        return self.env.now

    def random(self, op: Random, ctx: Ctx) -> float:
        return ctx.host.uniform() if ctx.host is not None else self._client_random()

    def wait(self, op: Wait, ctx: Ctx) -> SimGen:
        if ctx.host is not None:
            self.end_turn(ctx.host, ctx.record)
        yield self.env.timeout(op.ms)
        if ctx.host is not None:
            yield from self._completion_gate(ctx.host, ctx)

    def _completion_gate(self, host: ObjectHost, ctx: Ctx) -> SimGen:
        if self.switches.input_gate and self.switches.input_gate_holds_completions:
            yield from host.completion_gate(ctx.in_block)

    def compute(self, op: Compute, ctx: Ctx) -> SimGen:
        host = ctx.on_host()
        self.log.ran(host.object_id, op.label)
        ms = self._compute_ms(op, host, ctx.stream)
        if self.switches.single_thread:
            start = max(self.env.now, host.cpu_free_at)
            host.cpu_free_at = start + ms
            ms = host.cpu_free_at - self.env.now
        if ms > 0:
            yield self.env.timeout(ms)

    def _compute_ms(self, op: Compute, host: ObjectHost, call: str) -> float:
        """The profile's price for this label (or its `compute.default`), else the engine's."""
        if op.label not in self._priced_labels:
            name = f"compute.{op.label}"
            self._priced_labels[op.label] = name if self.latencies.prices(name) else None
        priced = self._priced_labels[op.label]
        return host.draw(priced, call) if priced is not None else op.ms

    def http(self, op: Http, ctx: Ctx) -> SimGen:
        host = ctx.on_host()  # only objects talk to the tracker
        self.end_turn(host, ctx.record)
        if self.switches.output_gate:
            started = self.env.now
            yield from host.output_gate()
            ctx.record.spans[ctx.prefix + phases.FETCH_OUTPUT_GATE] += self.env.now - started
        outcome = yield self.endpoint.exchange(op, host, ctx.stream)
        yield from self._completion_gate(host, ctx)
        response: httpx.Response = outcome.unwrap()
        return response

    def event_emitted(self, op: EventEmitted, ctx: Ctx) -> None:
        self.log.emit(op.event, self.env.now)
        ctx.record.events_emitted += 1

    def id_from_name(self, op: IdFromName, ctx: Ctx) -> str:
        return object_id_for(op.name)

    def rpc(self, op: Rpc, ctx: Ctx) -> SimGen:
        return (yield from self.lifecycle.rpc(op, ctx.record))

    # --- composition ---

    def span(self, op: Span, ctx: Ctx) -> SimGen:
        started = self.env.now
        try:
            return (yield from self.drive(op.child, ctx))
        finally:
            ctx.record.spans[ctx.prefix + op.name] += self.env.now - started

    def block_concurrency(self, op: BlockConcurrencyWhile, ctx: Ctx) -> SimGen:
        host = ctx.on_host()
        generation = host.generation
        host.blocking += 1
        try:
            return (yield from self.drive(op.child, Ctx(host, ctx.record, ctx.prefix, True)))
        except Exception:
            self.lifecycle.reset(host, "blockConcurrencyWhile threw")
            raise
        finally:
            if generation == host.generation:
                host.blocking -= 1
                host.maybe_open_gate()

    def fork(self, op: Fork, ctx: Ctx) -> None:
        host = ctx.host
        child = Ctx(host, ctx.record, phases.BACKGROUND)
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

    def all(self, op: All, ctx: Ctx) -> SimGen:
        children = [self._child(child, ctx) for child in op.children]
        yield self.env.all_of(children)
        return [_outcome(child).unwrap() for child in children]

    def timeout(self, op: Timeout, ctx: Ctx) -> SimGen:
        child = self._child(op.child, ctx)
        yield child | self.env.timeout(op.ms)
        if child.triggered:
            return _outcome(child).unwrap()
        child.interrupt("timeout")
        raise OperationTimedOut(f"gave up after {op.ms:g} ms")

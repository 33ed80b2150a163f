"""One Durable Object on the simulated platform: its lifecycle, gates, cache and commits.

Storage is kept twice: `committed` is what survives a reset; `view` is what the object's code sees
(committed writes plus the ones still in flight). Reads answer from `view`; the cache decides only
whether a read pays read latency. Writes land in `view` at once and join the open batch; the batch
closes when the object next awaits (a read miss, a fetch, a timer, the end of a call) and commits
after a commit latency. Commits run one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from engine.durable_object import DurableWorkflowEngine
from engine.ops import (
    DeleteAll,
    Get,
    GetMany,
    List,
    Op,
    Put,
)
from simulator.runtime.interface import Latencies
from simulator.runtime.storage import StoredObject
from simulator.runtime.trace import keys_of


@dataclass
class Storage:
    committed: StoredObject = field(default_factory=StoredObject)
    view: StoredObject = field(default_factory=StoredObject)
    cached_keys: set[str] = field(default_factory=set)
    listed_prefixes: set[str] = field(default_factory=set)
    everything_cached: bool = False

    def forget_cache(self) -> None:
        """A new instance starts with an empty cache and sees only committed data."""
        self.view = StoredObject(dict(self.committed.data), self.committed.alarm_ms)
        self.cached_keys = set()
        self.listed_prefixes = set()
        self.everything_cached = False

    def is_cached(self, op: Op) -> bool:
        if self.everything_cached:
            return True
        if isinstance(op, GetMany):
            return all(k in self.cached_keys for k in op.keys)
        if isinstance(op, List):
            return any(op.prefix.startswith(p) for p in self.listed_prefixes)
        return False

    def remember_read(self, op: Op, answer: Any) -> None:
        if isinstance(op, Get):
            self.cached_keys.add(op.key)
        elif isinstance(op, GetMany):
            self.cached_keys.update(op.keys)
        elif isinstance(op, List):
            self.listed_prefixes.add(op.prefix)
            self.cached_keys.update(answer)

    def write(self, op: Op) -> None:
        if isinstance(op, Put):  # the common case, first
            self.view.data[op.key] = op.value
            self.cached_keys.add(op.key)
            return
        self.view.write(op)
        if isinstance(op, DeleteAll):
            self.everything_cached = True
        else:
            self.cached_keys.update(keys_of(op))


@dataclass(slots=True, eq=False)
class Commit:
    """A closed batch of writes on its way to durability.

    A commit is a timer and a callback, not a SimPy process: a process would add two scheduler
    events to every batch (its start and its end), and batches are the most frequent work of an
    object. The commits of an object run one after another, each starting when the one before
    it is done.
    """

    batch: list[Op]
    generation: int  # the object's generation when the batch closed: a reset loses the batch
    call: str  # the call kind that wrote it (its latency stream)
    done: bool = False  # durable, or lost
    next: Commit | None = None  # the batch closed after this one, waiting for it
    _done_event: simpy.Event | None = None

    def done_event(self, env: simpy.Environment) -> simpy.Event:
        """An event that succeeds when this commit is done (made when someone waits for it)."""
        if self._done_event is None:
            self._done_event = env.event()
        return self._done_event

    def finish(self) -> None:
        self.done = True
        if self._done_event is not None:
            self._done_event.succeed()


class ObjectHost:
    """The platform's side of one object: whether it is resident, and what it is doing."""

    def __init__(
        self, env: simpy.Environment, object_id: str, isolate: int, latencies: Latencies
    ) -> None:
        self.env = env
        self.object_id = object_id
        self.latencies = latencies
        self._streams: dict[tuple[str, str], Callable[[], float]] = {}
        self.isolate = isolate
        self.state = "absent"  # absent | starting | resident
        self.instance: DurableWorkflowEngine | None = None
        self.generation = 0
        self.ready: simpy.Event | None = None
        self.storage = Storage()
        self.batch: list[Op] = []
        self.last_commit: Commit | None = None
        self.cpu_free_at = 0.0
        self.blocking = 0  # blockConcurrencyWhile depth
        self.pending_reads = 0
        self._gate_opened: simpy.Event | None = None  # the gate opened: deliveries go on
        self._gate_changed: simpy.Event | None = None  # a read ended or a block: re-check
        # Running processes, in start order (a dict keeps the order of interrupts deterministic).
        self.active: dict[simpy.Process, None] = {}  # calls and their children: die on reset
        self.background: dict[simpy.Process, None] = {}  # forks: die on reset or eviction
        self.calls_in_flight = 0
        self.last_active = 0.0
        self.watching_idle = False
        self.alarm_token = 0
        self.alarm_running: simpy.Event | None = None  # set while an alarm handler runs
        self.draining = False  # a deploy waits for the in-flight calls before shutting down
        self._drained: simpy.Event | None = None
        self._settled: simpy.Event | None = None  # a call or background work ended
        # Work on its way to the object that its own processes do not show: alarm timers (and
        # their retries), writes on their way to durability, requests on their way to the tracker.
        self.alarm_timers = 0
        self.commits_in_flight = 0
        self.requests_in_flight = 0

    def draw(self, op: str, call: str = "") -> float:
        """The next latency of `op` made by `call` (a call kind) on this object.

        Streams are per (object, call kind, operation), so the n-th read that `run_async` makes on
        an object takes as long in every design, whatever the constructor did before it.
        """
        key = (op, call)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = self.latencies.stream(op, f"{self.object_id}/{call}")
        return stream()

    def uniform(self) -> float:
        """The next uniform draw in [0, 1) for the engine's `Random` on this object."""
        stream = self._streams.get(("random", ""))
        if stream is None:
            stream = self._streams[("random", "")] = self.latencies.uniform(self.object_id)
        return stream()

    # --- the input gate ---

    def gate_closed(self) -> bool:
        return self.blocking > 0 or self.pending_reads > 0

    def gate_opened(self) -> simpy.Event:
        if self._gate_opened is None:
            self._gate_opened = self.env.event()
        return self._gate_opened

    def maybe_open_gate(self) -> None:
        if self._gate_changed is not None:
            changed, self._gate_changed = self._gate_changed, None
            changed.succeed()
        if not self.gate_closed() and self._gate_opened is not None:
            opened, self._gate_opened = self._gate_opened, None
            opened.succeed()

    def completion_gate(self, in_block: bool) -> Generator[simpy.Event, Any, None]:
        """Hold a completion (a fetch's answer, a timer) while the object awaits a storage read,
        or while a blockConcurrencyWhile runs that the completing program is not part of."""
        while self.pending_reads > 0 or (self.blocking > 0 and not in_block):
            if self._gate_changed is None:
                self._gate_changed = self.env.event()
            yield self._gate_changed

    # --- shutting down after a deploy ---

    def settled(self) -> simpy.Event:
        """An event that succeeds when a call or background work on this object ends."""
        if self._settled is None:
            self._settled = self.env.event()
        return self._settled

    def settle(self) -> None:
        if self._settled is not None:
            settled, self._settled = self._settled, None
            settled.succeed()

    def busy(self) -> bool:
        return self.calls_in_flight > 0 or bool(self.background)

    def at_rest(self) -> bool:
        """Nothing of the object runs or is on its way: not in memory, no process, no alarm
        committed or timed, no write or tracker request in flight. Only a new call can wake it."""
        return (
            self.state == "absent"
            and not self.active
            and not self.background
            and not self.draining
            and self.alarm_running is None
            and self.storage.committed.alarm_ms is None
            and not (self.alarm_timers or self.commits_in_flight or self.requests_in_flight)
        )

    def start_draining(self) -> None:
        self.draining = True
        self._drained = self.env.event()

    def wait_drained(self) -> Generator[simpy.Event, Any, None]:
        """Wait until a shutdown after a deploy is over (calls then reach a new instance)."""
        while self.draining and self._drained is not None:
            yield self._drained

    def end_draining(self) -> None:
        self.draining = False
        if self._drained is not None:
            drained, self._drained = self._drained, None
            drained.succeed()

    # --- the output gate ---

    def output_gate(self) -> Generator[simpy.Event, Any, None]:
        """Wait until every write made so far is committed."""
        commit = self.last_commit
        if commit is not None and not commit.done:
            yield commit.done_event(self.env)

    def no_alarm_running(self) -> Generator[simpy.Event, Any, None]:
        """Wait until no alarm handler runs: one handler at a time per object."""
        while self.alarm_running is not None:
            yield self.alarm_running

    def track(self, process: simpy.Process, background: bool = False) -> None:
        """Remember a running process (a reset kills it) until it ends. Background work that
        ends is activity (its last event) and may let the object hibernate or shut down."""
        if not background:
            self.active[process] = None
            process.callbacks.append(lambda _: self.active.pop(process, None))
            return
        self.background[process] = None

        def ended(_: simpy.Event) -> None:
            if self.background.pop(process, None) is not None:
                self.touch()
                self.settle()

        process.callbacks.append(ended)

    def touch(self) -> None:
        self.last_active = self.env.now

    def kill_all(self) -> None:
        """Interrupt every process running on this object (a reset)."""
        for process in [*self.active, *self.background]:
            if process.is_alive and process is not self.env.active_process:
                process.interrupt("reset")
        self.active.clear()
        self.background.clear()

    def kill_background(self) -> None:
        for process in list(self.background):
            if process.is_alive:
                process.interrupt("evicted")
        self.background.clear()

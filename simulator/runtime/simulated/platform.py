"""The simulated platform: objects, their lifecycle, RPC delivery, alarms, resets.

One `Platform` runs one design under one profile and one replication's random streams. The
workload (`simulator.model.workload`) issues client calls through `client_call`; everything the engine
does passes through the `Interpreter`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import simpy

from engine.design import Design
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions, IsolateState
from engine.ops import Compute, Program, Put, PutMany, Rpc
from engine.state_machine import Keys
from simulator.errors import ObjectReset
from simulator.model.profile import SamplerSet, Uniform
from simulator.runtime.config import ALARM_RETRY_DELAYS_MS, Faults, PlatformSwitches
from simulator.runtime.runlog import CallRecord
from simulator.runtime.simulated.endpoint import SimEndpoint
from simulator.runtime.simulated.host import ObjectHost
from simulator.runtime.simulated.interpreter import Ctx, Interpreter
from simulator.runtime.simulated.outcome import Outcome, SimGen, guarded

MIN_WAIT_MS = 1e-3  # the shortest wait of a polling loop, so simulated time always advances


class Platform:
    def __init__(
        self,
        env: simpy.Environment,
        design: Design,
        options: EngineOptions,
        samples: SamplerSet,
        switches: PlatformSwitches | None = None,
        faults: Faults | None = None,
        engine_class: type[DurableWorkflowEngine] = DurableWorkflowEngine,
    ) -> None:
        self.env = env
        self.design = design
        self.options = options
        self.samples = samples
        self.switches = switches or PlatformSwitches()
        self.faults = faults or Faults()
        self.engine_class = engine_class
        self.hosts: dict[str, ObjectHost] = {}
        self.isolates = [IsolateState() for _ in range(max(1, self.switches.isolates))]
        self.records: list[CallRecord] = []
        self.emitted: dict[str, dict[str, Any]] = {}
        # What the correctness invariants are computed from (simulator/correctness.py).
        self.step_runs: Counter[tuple[str, str]] = Counter()
        self.statuses: dict[str, list[str]] = {}  # object -> status tags committed, in order
        self.alarm_retry_pending: Counter[str] = Counter()  # object -> retries waiting
        self.resets: list[tuple[float, str, str]] = []
        self.alarms_dropped: list[tuple[float, str]] = []
        self.endpoint = SimEndpoint(env, samples, self.faults)
        self.interpreter = Interpreter(self)
        self._stubs_checked: set[str] = set()
        self._stub_checks: dict[str, simpy.Event] = {}
        self._commit_rng = samples.rng("commit-failures")
        self._client_random = samples.stream("random", "client", Uniform(0.0, 1.0))
        self._priced_labels: dict[str, str | None] = {}  # label -> profile op, or None

    # --- objects ---

    def host(self, object_id: str) -> ObjectHost:
        host = self.hosts.get(object_id)
        if host is None:
            host = ObjectHost(
                self.env, object_id, int(object_id[:8], 16) % len(self.isolates), self.samples
            )
            self.hosts[object_id] = host
        return host

    def compute_ms(self, op: Compute, host: ObjectHost, call: str) -> float:
        """The profile's price for this label (or its `compute.default`), else the engine's."""
        if op.label not in self._priced_labels:
            ops = self.samples.profile.ops
            name = f"compute.{op.label}"
            self._priced_labels[op.label] = (
                name if name in ops or "compute.default" in ops else None
            )
        priced = self._priced_labels[op.label]
        return host.draw(priced, call) if priced is not None else op.ms

    def client_uniform(self) -> float:
        """A uniform draw for client programs (e.g. an execution id chosen at random)."""
        return self._client_random()

    def commit_fails(self) -> bool:
        rate = self.faults.commit_failure_rate
        return bool(rate) and float(self._commit_rng.random()) < rate

    def event_emitted(self, event: Any) -> None:
        self.emitted[event["eventId"]] = {**event, "at": self.env.now}

    def observe_commit(self, host: ObjectHost, op: Any) -> None:
        """Note each status that became durable (the invariants need the workflow's history)."""
        status = None
        if isinstance(op, Put) and op.key == Keys.STATUS:
            status = op.value
        elif isinstance(op, PutMany) and Keys.STATUS in op.entries:
            status = op.entries[Keys.STATUS]
        if status is not None:
            self.statuses.setdefault(host.object_id, []).append(status.tag)

    # --- the client side ---

    def client_call(self, program: Program[Any], record: CallRecord) -> simpy.Process:
        """Start a client program now; its record gets the latency and outcome."""
        self.records.append(record)
        return self.env.process(self._client(program, record))

    def _client(self, program: Program[Any], record: CallRecord) -> SimGen:
        record.start_ms = self.env.now
        try:
            value = yield from self.interpreter.drive(program, Ctx(None, record))
            record.outcome = "ok"
            return value
        except ObjectReset as reset:
            record.outcome, record.error = "reset", str(reset)
        except Exception as error:
            record.outcome, record.error = "error", f"{type(error).__name__}: {error}"
        finally:
            record.end_ms = self.env.now
        return None

    def rpc(self, op: Rpc, record: CallRecord) -> SimGen:
        """A call through a stub: the uniqueness check on first use, the hop, the object's work."""
        if self.switches.stub_check and op.object_id not in self._stubs_checked:
            check = self._stub_checks.get(op.object_id)
            if check is None:
                check = self.env.timeout(self.host(op.object_id).draw("stub_check", record.call))
                self._stub_checks[op.object_id] = check
            started = self.env.now
            yield check
            record.spans["stub"] += self.env.now - started
            self._stubs_checked.add(op.object_id)
            self._stub_checks.pop(op.object_id, None)
        host = self.host(op.object_id)
        hop = host.draw("rpc", record.call)
        yield self.env.timeout(hop / 2)
        outcome = yield self.spawn_call(host, op.method, op.args, record)
        yield self.env.timeout(hop / 2)
        record.spans["rpc"] += hop
        return outcome.unwrap()

    # --- the object side ---

    def spawn_call(
        self, host: ObjectHost, method: str, args: tuple[Any, ...], record: CallRecord
    ) -> simpy.Process:
        process = self.env.process(guarded(self._deliver(host, method, args, record)))
        host.track(process)
        return process

    def _deliver(
        self, host: ObjectHost, method: str, args: tuple[Any, ...], record: CallRecord
    ) -> SimGen:
        if host.state == "resident":
            record.mode = "warm"
        else:
            record.mode = "cold"
            yield from self._start(host, record)
        if self.switches.input_gate and host.gate_closed():
            started = self.env.now
            while host.gate_closed():
                yield host.gate_opened()
            record.spans["input-gate"] += self.env.now - started
        assert host.instance is not None
        host.calls_in_flight += 1
        error: Exception | None = None
        try:
            value = yield from self.interpreter.drive(
                getattr(host.instance, method)(*args), Ctx(host, record)
            )
        except Exception as failure:  # an error response is output-gated like any other
            error, value = failure, None
        finally:
            host.calls_in_flight -= 1
            host.touch()
            self.interpreter.end_turn(host, record)
            self._watch_idle(host)
        if self.switches.output_gate:
            started = self.env.now
            yield from host.output_gate()
            record.spans["output-gate"] += self.env.now - started
        if error is not None:
            raise error
        return value

    def _start(self, host: ObjectHost, record: CallRecord) -> SimGen:
        """Bring the object up: start latency, then the constructor (others wait for both)."""
        if host.state == "starting":
            assert host.ready is not None
            started = self.env.now
            yield host.ready
            record.spans["input-gate"] += self.env.now - started
            return
        host.state = "starting"
        host.ready = self.env.event()
        started = self.env.now
        if self.switches.cold_start:
            yield self.env.timeout(host.draw("cold_start"))
        record.spans["cold-start"] += self.env.now - started
        host.storage.forget_cache()
        host.instance = self.engine_class(
            host.object_id, self.options, self.design, self.isolates[host.isolate]
        )
        generation = host.generation
        try:
            yield from self.interpreter.drive(
                host.instance.constructor(), Ctx(host, record, "constructor.")
            )
        except Exception:
            if host.generation == generation:  # blockConcurrencyWhile may have reset it already
                self.reset(host, "constructor threw")
            raise
        host.state = "resident"
        ready, host.ready = host.ready, None
        ready.succeed()

    def _watch_idle(self, host: ObjectHost) -> None:
        if self.switches.eviction and not host.watching_idle:
            host.watching_idle = True
            self.env.process(self._idle_watcher(host))

    def _idle_watcher(self, host: ObjectHost) -> SimGen:
        idle = max(host.draw("idle_eviction"), MIN_WAIT_MS)  # time must move between checks
        while host.state == "resident":
            wake = host.last_active + idle
            if wake > self.env.now:
                yield self.env.timeout(wake - self.env.now)
                continue
            busy = host.calls_in_flight > 0 or (
                self.switches.background_keeps_alive and bool(host.background)
            )
            if busy:
                yield self.env.timeout(idle)
                continue
            self.evict(host)
        host.watching_idle = False

    def evict(self, host: ObjectHost) -> None:
        """An idle object leaves memory: its background work is lost; committed state and the
        alarm stay. An object with a call in flight, or one waiting to be delivered, is not idle
        and is not evicted."""
        if host.state != "resident" or host.active:
            return
        self.interpreter.end_turn(host, CallRecord("evict", host.object_id, self.env.now))
        host.kill_background()
        host.state = "absent"
        host.instance = None

    def reset(self, host: ObjectHost, reason: str) -> None:
        """The object dies at once (deploy, crash, failed commit): in-flight work is lost."""
        host.generation += 1
        host.kill_all()
        host.state = "absent"
        host.instance = None
        host.ready = None
        host.blocking = 0
        host.pending_reads = 0
        host.batch = []
        host.last_commit = None
        host.cpu_free_at = self.env.now
        host.storage.forget_cache()
        host.maybe_open_gate()
        self.resets.append((self.env.now, host.object_id, reason))

    def deploy(self) -> None:
        """Every object resets and every isolate starts over (module state is gone)."""
        for host in self.hosts.values():
            if host.state != "absent" or host.active:
                self.reset(host, "deploy")
        self.isolates = [IsolateState() for _ in self.isolates]

    # --- alarms ---

    def alarm_committed(self, host: ObjectHost) -> None:
        host.alarm_token += 1
        at = host.storage.committed.alarm_ms
        if at is not None:
            self.env.process(self._alarm_timer(host, host.alarm_token, at))

    def _alarm_timer(self, host: ObjectHost, token: int, at: float) -> SimGen:
        yield self.env.timeout(max(0.0, at - self.env.now) + host.draw("alarm_delay"))
        yield from host.no_alarm_running()
        if token != host.alarm_token:
            return  # replaced or deleted since it was set
        host.storage.committed.alarm_ms = None
        if host.storage.view.alarm_ms == at:
            host.storage.view.alarm_ms = None
        yield from self._run_alarm(host, at)

    def _run_alarm(self, host: ObjectHost, planned: float) -> SimGen:
        """Run the handler; if it throws or its object dies, retry at +2 s, doubling, 6 times.

        The pending retry is the object's alarm: committing a new alarm (or deleting it), by the
        failed handler or by any call, replaces the retry, as setAlarm replaces any alarm.
        """
        for attempt in range(len(ALARM_RETRY_DELAYS_MS) + 1):
            token = host.alarm_token
            record = CallRecord("alarm", host.object_id, planned, source="alarm")
            self.records.append(record)
            record.start_ms = self.env.now
            host.alarm_running = self.env.event()
            outcome: Outcome = yield self.spawn_call(host, "alarm", (), record)
            running, host.alarm_running = host.alarm_running, None
            running.succeed()
            record.end_ms = self.env.now
            if outcome.error is None:
                record.outcome = "ok"
                return
            reset = isinstance(outcome.error, ObjectReset)
            record.outcome = "reset" if reset else "error"
            record.error = f"{type(outcome.error).__name__}: {outcome.error}"
            if host.alarm_token != token:
                return  # the failed handler committed a new alarm: it stands instead
            if not self.switches.alarm_retries or attempt == len(ALARM_RETRY_DELAYS_MS):
                self.alarms_dropped.append((self.env.now, host.object_id))
                return
            self.alarm_retry_pending[host.object_id] += 1
            yield self.env.timeout(ALARM_RETRY_DELAYS_MS[attempt])
            self.alarm_retry_pending[host.object_id] -= 1
            yield from host.no_alarm_running()
            if host.alarm_token != token:
                return  # an alarm was set or deleted meanwhile: it replaced the retry
            planned = self.env.now

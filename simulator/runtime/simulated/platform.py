"""The simulated platform: objects, their lifecycle, RPC delivery, resets, faults.

One `Platform` runs one design under one set of latencies (a profile's random streams for one
replication). It implements the `Runtime` interface: planned client calls and faults go in, time
runs, the run log comes out. Everything the engine does passes through the `Interpreter`; alarms
are kept by the `AlarmClock`.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import simpy

from engine.layers import IsolateState
from engine.ops import Program, Rpc
from simulator.runtime import phases
from simulator.runtime.errors import ObjectReset
from simulator.runtime.interface import ClientCall, Fault, NextCall, RunSetup
from simulator.runtime.runlog import CallRecord, RunLog, RunRecorder
from simulator.runtime.simulated.alarms import AlarmClock
from simulator.runtime.simulated.endpoint import SimEndpoint
from simulator.runtime.simulated.host import ObjectHost
from simulator.runtime.simulated.interpreter import Ctx, Interpreter
from simulator.runtime.simulated.outcome import SimGen, guarded

MIN_WAIT_MS = 1e-3  # the shortest wait of a polling loop, so simulated time always advances
RETIRE_EVERY_MS = 10_000.0  # how often objects at rest are looked for, to be retired


def _answered(left: Counter[str], object_id: str, _: simpy.Event) -> None:
    left[object_id] -= 1


class Platform:
    def __init__(self, env: simpy.Environment, setup: RunSetup) -> None:
        self.env = env
        self.design = setup.design
        self.options = setup.options
        self.latencies = setup.latencies
        self.switches = setup.switches
        self.faults = setup.faults
        self.engine_class = setup.engine_class
        self.log: RunRecorder = setup.log if setup.log is not None else RunLog()
        self.hosts: dict[str, ObjectHost] = {}
        self.isolates = [IsolateState() for _ in range(max(1, self.switches.isolates))]
        self.endpoint = SimEndpoint(env, self.latencies, self.faults, self.log)
        self.interpreter = Interpreter(
            env,
            self.switches,
            self.latencies,
            self.endpoint,
            self.log,
            self,
            self.faults.commit_failure_rate,
        )
        self.alarms = AlarmClock(env, self.log, self.switches, self.spawn_call)
        self._stubs_checked: set[str] = set()
        self._stub_checks: dict[str, simpy.Event] = {}
        self._planned: list[ClientCall] = []
        self._faults: list[Fault] = []
        self._fault_rng = self.latencies.rng("fault-targets")
        #: Per object, the planned calls not yet answered; None once a closed loop may call any
        #: object at any time (no object is then retired).
        self._calls_left: Counter[str] | None = Counter()
        self._retiring = False
        self._retired_any = False

    @classmethod
    def from_setup(cls, setup: RunSetup) -> Platform:
        return cls(simpy.Environment(), setup)

    # --- the Runtime interface ---

    def submit(self, call: ClientCall, then: NextCall | None = None) -> None:
        self._no_object_retired(call)
        if then is None:
            self._planned.append(call)  # open loop: one dispatcher sends them all, in time order
        else:
            self._calls_left = None
            self.env.process(self._client_loop(call, then))

    def inject(self, fault: Fault) -> None:
        self._faults.append(fault)

    def run(self, until_ms: float) -> RunRecorder:
        if self._planned:
            planned, self._planned = sorted(self._planned, key=lambda c: c.at_ms), []
            self.env.process(self._dispatch(planned))
        if self._faults:
            faults, self._faults = sorted(self._faults, key=lambda f: f.at_ms), []
            self.env.process(self._inject(faults))
        if self._calls_left is not None and not self._retiring:
            self._retiring = True
            self.env.process(self._retire_at_rest())
        self.env.run(until=until_ms)
        return self.log

    def close(self) -> None:
        # The pending events hold the processes, which hold the objects, in cycles (a process and
        # the event it waits for refer to each other): with them gone, reference counting frees
        # the run's objects (a collector pass over a large run cost a sixth of its time). The
        # processes' `finally` clauses still run when the collector frees them, as before.
        self.env._queue.clear()
        self.hosts.clear()
        self.interpreter.close()

    def _dispatch(self, planned: list[ClientCall]) -> SimGen:
        left = self._calls_left
        if left is not None:
            left.update(call.object_id for call in planned)
        for call in planned:
            if call.at_ms > self.env.now:
                yield self.env.timeout(call.at_ms - self.env.now)
            process = self._call(call.program(), call.record())
            if left is not None:
                process.callbacks.append(partial(_answered, left, call.object_id))

    def _retire_at_rest(self) -> SimGen:
        """Every `RETIRE_EVERY_MS`, retire the objects that can never run again: at rest (see
        `ObjectHost.at_rest`), with no planned call left. The log counts and forgets them, and
        the platform lets go of them: memory follows the objects alive, not the run's length.
        Faults never choose such an object (they choose among busy or resident ones), so no
        run goes differently for it."""
        while True:
            yield self.env.timeout(RETIRE_EVERY_MS)
            left = self._calls_left
            if left is None:
                return
            for object_id, host in list(self.hosts.items()):
                if not left[object_id] and host.at_rest():
                    del self.hosts[object_id]
                    self._retired_any = True
                    left.pop(object_id, None)
                    self._stubs_checked.discard(object_id)
                    self.log.retire(object_id)

    def _client_loop(self, call: ClientCall | None, then: NextCall) -> SimGen:
        while call is not None:
            if call.at_ms > self.env.now:
                yield self.env.timeout(call.at_ms - self.env.now)
            record = call.record()
            yield self._call(call.program(), record)
            call = then(record)

    def _inject(self, faults: list[Fault]) -> SimGen:
        for fault in faults:
            if fault.at_ms > self.env.now:
                yield self.env.timeout(fault.at_ms - self.env.now)
            self.fault(fault)

    def fault(self, fault: Fault) -> None:
        """A deploy resets every object; a crash resets one busy object (any resident one if
        none is busy); an eviction takes an idle object, preferring one with background work."""
        if fault.kind == "deploy":
            self.deploy()
            return
        if fault.kind == "restart":
            self.restart()
            return
        resident = [h for h in self.hosts.values() if h.state == "resident"]
        if fault.kind == "crash":
            busy = [h for h in self.hosts.values() if h.active or h.background]
            pool = busy or resident
            if pool:
                self.reset(pool[int(self._fault_rng.integers(len(pool)))], "crash")
        else:
            idle = [h for h in resident if not h.calls_in_flight]
            pool = [h for h in idle if h.background] or idle
            if pool:
                self.evict(pool[int(self._fault_rng.integers(len(pool)))])

    # --- objects ---

    def host(self, object_id: str) -> ObjectHost:
        host = self.hosts.get(object_id)
        if host is None:
            host = ObjectHost(
                self.env, object_id, int(object_id[:8], 16) % len(self.isolates), self.latencies
            )
            self.hosts[object_id] = host
        return host

    # --- the client side ---

    def client_call(self, program: Program[Any], record: CallRecord) -> simpy.Process:
        """Start a client program now; its record gets the latency and outcome. A call made
        this way, not planned, may come to any object: none is retired from then on."""
        self._no_object_retired(record.call)
        self._calls_left = None
        return self._call(program, record)

    def _no_object_retired(self, call: object) -> None:
        """A call planned after objects were retired might reach one of them: refused."""
        if self._retired_any:
            raise RuntimeError(f"{call}: a call after objects were retired, which it may reach")

    def _call(self, program: Program[Any], record: CallRecord) -> simpy.Process:
        self.log.call(record)
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
            record.spans[phases.STUB] += self.env.now - started
            self._stubs_checked.add(op.object_id)
            self._stub_checks.pop(op.object_id, None)
        host = self.host(op.object_id)
        hop = host.draw("rpc", record.call)
        yield self.env.timeout(hop / 2)
        if host.draining:  # the old instance shuts down; the call waits for the new one
            started = self.env.now
            yield from host.wait_drained()
            record.spans[phases.INPUT_GATE] += self.env.now - started
        outcome = yield self.spawn_call(host, op.method, op.args, record)
        yield self.env.timeout(hop / 2)
        record.spans[phases.RPC] += hop
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
            record.spans[phases.INPUT_GATE] += self.env.now - started
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
            host.settle()
        if self.switches.output_gate:
            started = self.env.now
            yield from host.output_gate()
            record.spans[phases.OUTPUT_GATE] += self.env.now - started
        if error is not None:
            raise error
        return value

    def _start(self, host: ObjectHost, record: CallRecord) -> SimGen:
        """Bring the object up: start latency, then the constructor (others wait for both)."""
        if host.state == "starting":
            assert host.ready is not None
            started = self.env.now
            yield host.ready
            record.spans[phases.INPUT_GATE] += self.env.now - started
            return
        host.state = "starting"
        host.ready = self.env.event()
        started = self.env.now
        if self.switches.cold_start:
            yield self.env.timeout(host.draw("cold_start"))
        record.spans[phases.COLD_START] += self.env.now - started
        host.storage.forget_cache()
        host.instance = self.engine_class(
            host.object_id, self.options, self.design, self.isolates[host.isolate]
        )
        generation = host.generation
        try:
            yield from self.interpreter.drive(
                host.instance.constructor(), Ctx(host, record, phases.CONSTRUCTOR)
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
        """Evict the object once it has been idle long enough: `hibernation` when nothing is
        pending (no background work waiting on a fetch or a timer), else `idle_eviction`."""
        # time must move between checks
        evict = max(host.draw("idle_eviction"), MIN_WAIT_MS)
        hibernate = (
            max(host.draw("hibernation"), MIN_WAIT_MS) if self.switches.hibernation else None
        )
        while host.state == "resident":
            idle = hibernate if hibernate is not None and not host.background else evict
            wake = host.last_active + idle
            if wake > self.env.now:
                yield self.env.timeout(wake - self.env.now) | host.settled()
                continue
            busy = (
                host.calls_in_flight > 0
                or bool(host.active)  # a call's own work, or an alarm handler: `evict` refuses
                or (self.switches.background_keeps_alive and bool(host.background))
            )
            if busy:
                yield self.env.timeout(idle) | host.settled()
                continue
            self.evict(host)
        host.watching_idle = False

    def evict(self, host: ObjectHost) -> None:
        """An idle object leaves memory: its background work and its cache are lost; committed
        state and the alarm stay. An object with a call in flight, or one waiting to be delivered, is not idle
        and is not evicted."""
        if host.state != "resident" or host.active:
            return
        self.interpreter.end_turn(host, CallRecord("evict", host.object_id, self.env.now))
        host.kill_background()
        host.state = "absent"
        host.instance = None
        host.storage.forget_cache()  # the cache leaves memory with the instance

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
        self.log.reset(self.env.now, host.object_id, reason)

    def restart(self) -> None:
        """Every object dies at once and every isolate starts over (module state is gone)."""
        for host in self.hosts.values():
            if host.state != "absent" or host.active:
                self.reset(host, "restart")
        self.isolates = [IsolateState() for _ in self.isolates]

    def deploy(self) -> None:
        """New code: every object shuts down. One with calls or background work in flight lets
        them finish for up to `deploy_grace_ms` (a call that touches storage meanwhile is stopped
        at once); calls that arrive meanwhile wait for the new instance. New instances start in
        new isolates."""
        self.isolates = [IsolateState() for _ in self.isolates]
        deadline = self.env.now + self.switches.deploy_grace_ms
        for host in self.hosts.values():
            if host.draining or (host.state == "absent" and not host.active):
                continue
            if host.state == "resident" and host.busy():
                host.start_draining()
                self.env.process(self._shut_down(host, deadline))
            else:
                self.reset(host, "deploy")

    def _shut_down(self, host: ObjectHost, deadline: float) -> SimGen:
        generation = host.generation
        while host.generation == generation and host.busy() and self.env.now < deadline:
            yield self.env.timeout(deadline - self.env.now) | host.settled()
        if host.generation == generation:
            self.reset(host, "deploy")
        host.end_draining()

    # --- alarms ---

    def alarm_committed(self, host: ObjectHost) -> None:
        self.alarms.committed(host)

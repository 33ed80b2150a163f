"""The runtime interface: what experiments drive, whichever runtime runs the engine.

As httpx's client sends requests through a transport it does not care about, an experiment hands
a runtime the calls a workload plans and the faults it injects, lets time run, and reads the run
log. The zero-latency runtime (`instant`), the simulated platform (`simulated`) and a live runtime
implement `Runtime`; a new one is registered in `simulator.runtime.registry` and nothing above
this layer changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

import numpy as np

from engine.client import WorkflowClient, instance_name
from engine.design import Design
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions
from engine.ops import Program
from simulator.runtime.config import Faults, PlatformSwitches
from simulator.runtime.naming import object_id_for
from simulator.runtime.runlog import CallRecord, RunRecorder

CallKind = Literal["run_async", "run", "get_status", "cancel"]
CALL_KINDS: tuple[CallKind, ...] = ("run_async", "run", "get_status", "cancel")
FaultKind = Literal["deploy", "restart", "crash", "evict"]

#: The workflow every planned call is about (the canonical one, `engine.workflow`).
WORKFLOW = "processOrder"


@dataclass(frozen=True)
class ClientCall:
    """A client call planned for `at_ms`: latency is measured from then, not from when it left."""

    at_ms: float
    kind: CallKind
    execution_id: str

    @property
    def instance(self) -> str:
        return instance_name(WORKFLOW, self.execution_id)

    @cached_property
    def object_id(self) -> str:
        return object_id_for(self.instance)

    def program(self) -> Program[Any]:
        """The client program that makes this call."""
        client = WorkflowClient()
        if self.kind == "run_async":
            return client.run_async(WORKFLOW, {"orderId": self.execution_id}, self.execution_id)
        if self.kind == "run":
            return client.run(WORKFLOW, {"orderId": self.execution_id}, self.execution_id)
        if self.kind == "get_status":
            return client.status(self.instance)
        return client.cancel(self.instance, "customer cancelled")

    def record(self) -> CallRecord:
        return CallRecord(self.kind, self.object_id, self.at_ms)


@dataclass(frozen=True)
class Fault:
    """At `at_ms`: a deploy (every object shuts down once its in-flight calls finish, within a
    grace period), a restart (every object dies at once), a crash (one object, busy if any, dies
    at once) or an eviction (one idle object leaves memory)."""

    at_ms: float
    kind: FaultKind


#: After a call answers, the next call of the same client, if any (a closed loop).
NextCall = Callable[[CallRecord], ClientCall | None]


class Latencies(Protocol):
    """Where a runtime that models time draws its latencies (a latency profile provides it).

    Draws are keyed by operation and owner, so two designs that both make their third read on
    an object get the same latency for it (common random numbers).
    """

    def stream(self, op: str, owner: str) -> Callable[[], float]:
        """The successive latencies (ms) of `op` made by `owner`."""
        ...

    def uniform(self, owner: str) -> Callable[[], float]:
        """Successive uniform draws in [0, 1) for `owner` (the engine's `Random`)."""
        ...

    def prices(self, op: str) -> bool:
        """Whether the profile prices `op` (a `compute.<label>`), else the engine's cost stands."""
        ...

    def rng(self, name: str) -> np.random.Generator:
        """A generator of its own for `name` (fault targets, commit failures, tracker errors)."""
        ...


@dataclass(frozen=True)
class RunSetup:
    """Everything a runtime is built from."""

    design: Design
    options: EngineOptions
    latencies: Latencies
    switches: PlatformSwitches = field(default_factory=PlatformSwitches)
    faults: Faults = field(default_factory=Faults)
    engine_class: type[DurableWorkflowEngine] = DurableWorkflowEngine
    log: RunRecorder | None = None


class Runtime(Protocol):
    """Runs the engine: delivers the planned calls and faults, fires alarms, keeps the log."""

    log: RunRecorder

    def submit(self, call: ClientCall, then: NextCall | None = None) -> None:
        """Make `call` at its planned time; when it answers, make `then`'s next call, if any."""
        ...

    def inject(self, fault: Fault) -> None:
        """Let `fault` happen at its time."""
        ...

    def run(self, until_ms: float) -> RunRecorder:
        """Let time run to `until_ms` (calls, alarms, faults, background work); the log so far."""
        ...

    def close(self) -> None:
        """Let go of everything but the log: the runtime cannot run again. Its objects are then
        freed by reference counting, at once, instead of by a pass of the cyclic collector."""
        ...

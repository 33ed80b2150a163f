"""The service layer: what `#runEffect` provides to every call.

Upstream composes a layer stack (registry, executor, recovery, state machine, purge, tracker,
runtime) in the constructor, and provides it anew on every call, so every call gets fresh service
instances, including a tracker with its own event buffer. Here that cost is two named `Compute`
operations, which a latency profile prices: `layer-compose` (building the layer description) and
`layer-provide` (building the services from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine import phases
from engine.design import Design
from engine.executor import Executor
from engine.ops import Compute, EventEmitted, Now, Program, Span
from engine.orchestrator import Orchestrator
from engine.purge import PurgeConfig, PurgeManager
from engine.recovery import RecoveryConfig, RecoveryManager
from engine.state_machine import StateMachine
from engine.tracker import (
    EventFactory,
    EventTracker,
    HttpBatchTracker,
    NoopTracker,
    OutboxTracker,
    TrackerConfig,
)
from engine.workflow import Registry, Workflow


@dataclass(frozen=True)
class EngineOptions:
    """What `createDurableWorkflows` is given: workflows, tracker, recovery and purge options."""

    workflows: tuple[Workflow, ...]
    tracker: TrackerConfig | None = field(default_factory=TrackerConfig)
    recovery: RecoveryConfig = field(default_factory=RecoveryConfig)
    purge: PurgeConfig | None = field(default_factory=PurgeConfig)


@dataclass
class IsolateState:
    """Module-level state shared by every object in one isolate; a deploy gives a new one."""

    layer_composed: bool = False


@dataclass
class Emitter:
    """Stamps an event with the base fields and hands it to the tracker."""

    tracker: EventTracker
    events: EventFactory

    def __call__(
        self, workflow_name: str, execution_id: str | None, event_type: str, **fields: Any
    ) -> Program[None]:
        now = yield Now()
        event = self.events.make(now, workflow_name, execution_id, event_type, **fields)
        yield EventEmitted(event)
        yield from self.tracker.emit(event)


@dataclass
class Services:
    machine: StateMachine
    tracker: EventTracker
    emit: Emitter
    recovery: RecoveryManager
    purge: PurgeManager
    orchestrator: Orchestrator


def compose() -> Program[None]:
    yield Span(phases.LAYER_BUILD, _compute("layer-compose"))


def provide(
    instance_id: str, options: EngineOptions, design: Design, scope: str
) -> Program[Services]:
    """Build the services (the cost of `Effect.provide(layer)`)."""
    yield Span(phases.LAYER_BUILD, _compute("layer-provide"))
    return build_services(instance_id, options, design, scope)


def _compute(label: str) -> Program[None]:
    yield Compute(label)


def build_services(
    instance_id: str, options: EngineOptions, design: Design, scope: str
) -> Services:
    machine = StateMachine(design.state_reads)
    tracker: EventTracker
    if options.tracker is None:
        tracker = NoopTracker()
    elif design.flush == "alarm":
        tracker = OutboxTracker(options.tracker)
    else:
        tracker = HttpBatchTracker(options.tracker)
    recovery = RecoveryManager(machine, options.recovery)
    purge = PurgeManager(options.purge)
    emit = Emitter(tracker, EventFactory(instance_id, scope))
    orchestrator = Orchestrator(
        instance_id,
        Registry(list(options.workflows)),
        machine,
        Executor(machine, emit),
        recovery,
        purge,
        emit,
        watchdog=design.recovery == "alarm",
    )
    return Services(machine, tracker, emit, recovery, purge, orchestrator)

"""Helpers for platform tests: constant latencies, so every expected time is exact."""

from __future__ import annotations

from typing import Any

import pytest
import simpy

from engine.design import design_by_name
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions
from engine.ops import Program
from engine.workflow import two_steps_with_sleep
from simulator.model.profile import Constant, Profile
from simulator.runtime.config import Faults, PlatformSwitches
from simulator.runtime.interface import CallKind, ClientCall, RunSetup
from simulator.runtime.naming import object_id_for
from simulator.runtime.runlog import CallRecord
from simulator.runtime.simulated.interpreter import Ctx
from simulator.runtime.simulated.platform import Platform

LATENCIES = {
    "stub_check": 0.0,
    "rpc": 0.0,
    "cold_start": 0.0,
    "read": 10.0,
    "commit": 20.0,
    "alarm_delay": 0.0,
    "tracker_http": 30.0,
    "hibernation": 100_000.0,
    "idle_eviction": 100_000.0,
    "compute.default": 0.0,
}


def constant_profile(**overrides: float) -> Profile:
    ops = {**LATENCIES, **{k.replace("__", "."): v for k, v in overrides.items()}}
    return Profile("constant-test", {k: Constant(v) for k, v in ops.items()}, {})


class Sim:
    """A platform under test with helpers to issue calls and run programs on objects."""

    def __init__(
        self,
        design: str = "baseline",
        profile: Profile | None = None,
        switches: PlatformSwitches | None = None,
        faults: Faults | None = None,
        options: EngineOptions | None = None,
        engine_class: type[DurableWorkflowEngine] = DurableWorkflowEngine,
    ) -> None:
        self.env = simpy.Environment()
        self.platform = Platform(
            self.env,
            RunSetup(
                design_by_name(design),
                options or EngineOptions(workflows=(two_steps_with_sleep(),)),
                (profile or constant_profile()).samplers(1, 0),
                switches or PlatformSwitches(),
                faults or Faults(),
                engine_class,
            ),
        )
        self.log = self.platform.log

    def call(self, kind: CallKind, execution_id: str = "order-1", at: float = 0.0) -> CallRecord:
        """Schedule a client call at `at`; its record fills in as the simulation runs."""
        call = ClientCall(at, kind, execution_id)
        record = call.record()

        def later() -> Any:
            yield self.env.timeout(at - self.env.now)
            self.platform.client_call(call.program(), record)

        self.env.process(later())
        return record

    def accepted(self) -> list[dict[str, Any]]:
        """The events the tracker endpoint accepted, as emitted."""
        return [self.log.emitted[event_id] for event_id in self.log.accepted]

    def accepted_types(self) -> set[str]:
        return {event["type"] for event in self.accepted()}

    def host(self, execution_id: str = "order-1") -> Any:
        return self.platform.host(object_id_for(f"processOrder:{execution_id}"))

    def run_program(
        self, program: Program[Any], execution_id: str = "order-1", at: float = 0.0
    ) -> CallRecord:
        """Run a hand-written program on an object, as if it were a call."""
        host = self.host(execution_id)
        record = CallRecord("custom", host.object_id, at)

        def body() -> Any:
            yield self.env.timeout(at - self.env.now)
            record.start_ms = self.env.now
            yield from self.platform.interpreter.drive(program, Ctx(host, record))
            self.platform.interpreter.end_turn(host, record)
            record.end_ms = self.env.now

        self.env.process(body())
        return record

    def run(self, until: float) -> None:
        self.env.run(until=until)


@pytest.fixture
def sim() -> Sim:
    return Sim()

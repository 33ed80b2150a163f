"""The ledger counts a run's invariants as the run goes and forgets each object the platform
retires. The same run recorded whole and counted the plain way at its end (the reference) gives
the same counts, in the same order; and retiring objects changes no run: every call goes as it
goes without it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

from engine.design import design_by_name
from simulator.experiments.run import engine_options, record_run, rows_of, scenario_profile
from simulator.measure.correctness import invariants
from simulator.measure.ledger import InvariantLedger
from simulator.model.distributions import Uniform
from simulator.model.fault_matrix import fault_matrix
from simulator.model.scenario import Scenario, load_scenario
from simulator.model.workload import start_workload
from simulator.runtime.interface import ClientCall, RunSetup
from simulator.runtime.runlog import AlarmChange, CallRecord, RunLog, RunRecorder
from simulator.runtime.simulated.platform import Platform
from tests.sim.reference_invariants import reference_invariants

#: Designs that flush and queue differently: awaited, from a durable outbox by alarm, in the
#: background; queued durably or answered first.
DESIGNS = ("baseline", "alarm-flush", "background-flush", "fast-queue")


def _recorded(scenario: Scenario, design: str, log: RunRecorder) -> RunRecorder:
    record_run(scenario, design_by_name(design), scenario_profile(scenario), 0, log)
    return log


def _shown(counts: dict[str, Any]) -> str:
    """The counts as results.json would write them (order kept), orphans as a set."""
    return json.dumps({**counts, "orphans": sorted(counts["orphans"])})


class Both(RunRecorder):
    """One run written to the ledger and to a whole log at once: the same facts, in the same
    order, for a single simulation's price."""

    def __init__(self) -> None:
        self.ledger, self.full = InvariantLedger(), RunLog()
        super().__init__()

    @property
    def tracker_attempts(self) -> int:
        return self.full.tracker_attempts

    @tracker_attempts.setter
    def tracker_attempts(self, value: int) -> None:
        self.ledger.tracker_attempts = self.full.tracker_attempts = value

    def call(self, record: CallRecord) -> None:
        self.ledger.call(record)
        self.full.call(record)

    def emit(self, event: Mapping[str, Any], at_ms: float) -> None:
        self.ledger.emit(event, at_ms)
        self.full.emit(event, at_ms)

    def accept(self, events: Iterable[Mapping[str, Any]], at_ms: float) -> None:
        events = list(events)
        self.ledger.accept(events, at_ms)
        self.full.accept(events, at_ms)

    def commit(self, at_ms: float, object_id: str, key: str, value: Any) -> None:
        self.ledger.commit(at_ms, object_id, key, value)
        self.full.commit(at_ms, object_id, key, value)

    def alarm(
        self, at_ms: float, object_id: str, change: AlarmChange, due_ms: float | None = None
    ) -> None:
        self.ledger.alarm(at_ms, object_id, change, due_ms)
        self.full.alarm(at_ms, object_id, change, due_ms)

    def reset(self, at_ms: float, object_id: str, reason: str) -> None:
        self.ledger.reset(at_ms, object_id, reason)
        self.full.reset(at_ms, object_id, reason)

    def ran(self, object_id: str, label: str) -> None:
        self.ledger.ran(object_id, label)
        self.full.ran(object_id, label)

    def retire(self, object_id: str) -> None:
        self.ledger.retire(object_id)
        self.full.retire(object_id)

    def clear(self) -> None:
        self.ledger.clear()
        self.full.clear()

    def simulated_ops(self) -> int:
        return self.full.simulated_ops()


def _check_against_the_reference(scenario: Scenario, design: str) -> InvariantLedger:
    both = _recorded(scenario, design, Both())
    assert isinstance(both, Both)
    ledger, full = both.ledger, both.full
    assert ledger.simulated_ops() == full.simulated_ops()
    assert _shown(ledger.counts()) == _shown(reference_invariants(full)), design
    assert _shown(invariants(full)) == _shown(reference_invariants(full)), design
    return ledger


def _pool_with_cancels_and_crashes() -> Scenario:
    """Five order ids called again and again (run, run_async, status, cancel) while objects
    crash: an object may be at rest between two calls, and must not be retired then."""
    base = load_scenario("fault-matrix").with_changes(duration_s=60.0, drain_s=900.0)
    mix = {"run_async": 0.4, "cancel": 0.2, "get_status": 0.2, "run": 0.2}
    return base.with_changes(
        workload=replace(base.workload, ids="pool", pool_size=5, rate_per_s=2.0, mix=mix),
        faults=replace(base.faults, crash_rate_per_hour=1200.0),
    )


def _late_follow_ups() -> Scenario:
    """Follow-up calls minutes after each run_async, when its object has long been at rest."""
    base = load_scenario("fault-matrix").with_changes(duration_s=60.0, drain_s=900.0)
    followups = (("get_status", 120_000.0), ("cancel", 200_000.0), ("run_async", 400_000.0))
    return base.with_changes(workload=replace(base.workload, followups=followups))


@pytest.mark.parametrize("fault", list(fault_matrix()))
def test_the_ledger_counts_what_the_whole_log_counts(fault: str) -> None:
    scenario = fault_matrix()[fault]  # 120 s of arrivals, then an hour
    for design in DESIGNS:
        ledger = _check_against_the_reference(scenario, design)
        assert ledger.retired > 0 and ledger.kept < ledger.retired  # it did forget


@pytest.mark.parametrize("make", [_pool_with_cancels_and_crashes, _late_follow_ups])
def test_objects_called_again_are_counted_as_the_whole_log_counts(make: Any) -> None:
    for design in ("baseline", "alarm-flush"):
        _check_against_the_reference(make(), design)


def test_an_answer_the_sender_gave_up_on_still_counts() -> None:
    """The tracker answers in 20-40 s and its senders give up after 300 ms: the endpoint
    accepts each batch long after its object went to rest, which is retired only once the
    batch has arrived."""
    base = fault_matrix()["none"]
    scenario = base.with_changes(
        faults=replace(base.faults, tracker_timeout_ms=300.0),
        profile_overrides={**base.profile_overrides, "tracker_http": Uniform(20_000, 40_000)},
    )
    for design in DESIGNS:
        ledger = _check_against_the_reference(scenario, design)
        assert ledger.retired > 0 and ledger.duplicates > 0  # batches given up on were resent


def _rows(log: InvariantLedger) -> pd.DataFrame:
    return rows_of(log.call_table(), {}, {})


SCENARIOS = {
    **{fault: (scenario, "baseline") for fault, scenario in fault_matrix().items()},
    "pool, cancels, crashes": (_pool_with_cancels_and_crashes(), "alarm-flush"),
    "late follow-ups": (_late_follow_ups(), "baseline"),
    "deploy-during-work": (load_scenario("deploy-during-work"), "background-flush"),
    "status-polling": (load_scenario("status-polling").with_changes(duration_s=60.0), "baseline"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_retiring_objects_changes_no_call(name: str, request: pytest.FixtureRequest) -> None:
    scenario, design = SCENARIOS[name]
    retiring = _recorded(scenario, design, InvariantLedger())
    request.getfixturevalue("no_retirement")
    keeping = _recorded(scenario, design, InvariantLedger())
    assert isinstance(retiring, InvariantLedger) and isinstance(keeping, InvariantLedger)
    assert keeping.retired == 0 < retiring.retired
    assert _shown(retiring.counts()) == _shown(keeping.counts())
    assert retiring.simulated_ops() == keeping.simulated_ops()
    pd.testing.assert_frame_equal(_rows(retiring), _rows(keeping))


def test_the_counts_do_not_depend_on_when_the_rows_are_taken() -> None:
    """An answer for a workflow never durably queued, on an object not retired: taking the
    rows (which moves its record into the table) keeps it counted."""
    ledger = InvariantLedger()
    answered = CallRecord("run_async", "a" * 64, 0.0, end_ms=5.0)
    answered.outcome = "ok"
    ledger.call(answered)
    assert ledger.counts()["acknowledged_not_queued"] == 1
    ledger.call_table()
    assert ledger.counts()["acknowledged_not_queued"] == 1


def test_no_call_is_taken_once_objects_were_retired() -> None:
    """A second round of calls could reach a retired object, which would start again with no
    past (its storage and random streams gone): the platform refuses it."""
    scenario = fault_matrix()["none"]
    streams = scenario_profile(scenario).samplers(scenario.seed, 0)
    setup = RunSetup(
        design_by_name("baseline"), engine_options(scenario), streams, log=InvariantLedger()
    )
    platform = Platform.from_setup(setup)
    start_workload(platform, scenario, 0, streams)
    platform.run(3_600_000.0)
    assert platform.log.retired > 0
    with pytest.raises(RuntimeError, match="after objects were retired"):
        platform.submit(ClientCall(3_700_000.0, "get_status", "order-0-1"))

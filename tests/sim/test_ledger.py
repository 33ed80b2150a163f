"""The ledger counts a run's invariants as the run goes and forgets each object the platform
retires; the full run log of the same run, replayed at its end, gives the same counts. Retiring
objects changes no run: every call goes as it goes without it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

from engine.design import design_by_name
from simulator.experiments.run import record_run, rows_of, scenario_profile
from simulator.measure.correctness import invariants
from simulator.measure.ledger import InvariantLedger
from simulator.model.distributions import Uniform
from simulator.model.fault_matrix import fault_matrix
from simulator.model.scenario import Scenario
from simulator.runtime.runlog import RunLog, RunRecorder

#: Designs that flush, recover and queue differently.
DESIGNS = ("baseline", "fast-queue", "alarm-flush", "background-flush", "seed-recommended")


def _short(scenario: Scenario) -> Scenario:
    """Twenty seconds of the fault's arrivals, then the matrix's own drain (an hour)."""
    return scenario.with_changes(duration_s=120.0)


def _recorded(scenario: Scenario, design: str, log: RunRecorder) -> RunRecorder:
    record_run(scenario, design_by_name(design), scenario_profile(scenario), 0, log)
    return log


def _counts(counts: dict[str, Any]) -> dict[str, Any]:
    return {**counts, "orphans": sorted(counts["orphans"])}


@pytest.mark.parametrize("fault", list(fault_matrix()))
def test_the_ledger_counts_what_the_full_log_counts(fault: str) -> None:
    scenario = _short(fault_matrix()[fault])
    for design in DESIGNS:
        ledger = _recorded(scenario, design, InvariantLedger())
        full = _recorded(scenario, design, RunLog())
        assert isinstance(full, RunLog)
        assert _counts(ledger.counts()) == _counts(invariants(full)), design
        assert ledger.retired > 0 and ledger.live < ledger.retired  # it did forget


def _rows(log: InvariantLedger) -> pd.DataFrame:
    return rows_of(log.call_table(), {}, {})


@pytest.mark.parametrize("fault", ["crashes", "deploys", "delayed-alarms", "tracker-outage"])
def test_retiring_objects_changes_no_call(fault: str, request: pytest.FixtureRequest) -> None:
    scenario = _short(fault_matrix()[fault])
    retiring = _recorded(scenario, "baseline", InvariantLedger())
    request.getfixturevalue("no_retirement")
    keeping = _recorded(scenario, "baseline", InvariantLedger())
    assert isinstance(retiring, InvariantLedger) and isinstance(keeping, InvariantLedger)
    assert keeping.retired == 0 < retiring.retired
    assert retiring.counts() == keeping.counts()
    assert retiring.simulated_ops() == keeping.simulated_ops()
    pd.testing.assert_frame_equal(_rows(retiring), _rows(keeping))


def test_an_answer_the_sender_gave_up_on_still_counts() -> None:
    """The tracker answers in 20-40 s and its senders give up after 300 ms: the endpoint
    accepts each batch long after its object went to rest, which is retired only once the
    batch has arrived."""
    base = fault_matrix()["none"]
    scenario = _short(base).with_changes(
        faults=replace(base.faults, tracker_timeout_ms=300.0),
        profile_overrides={**base.profile_overrides, "tracker_http": Uniform(20_000, 40_000)},
    )
    for design in DESIGNS:
        ledger = _recorded(scenario, design, InvariantLedger())
        full = _recorded(scenario, design, RunLog())
        assert isinstance(full, RunLog)
        assert _counts(ledger.counts()) == _counts(invariants(full)), design
        assert ledger.retired > 0 and ledger.duplicates > 0  # batches given up on were resent

"""Correctness invariants of one finished run, counted from what its runtime recorded.

A workflow is an object that durably held a workflow status. At the end of a run (after its drain
time) each workflow is terminal, or orphaned: not terminal and nothing scheduled (no alarm, no
alarm retry, no handler running) that will ever move it. Events are counted by id: emitted into a
tracker, delivered (accepted by the endpoint). The lifecycle events that tell the tracker a
workflow was queued, ran and ended are checked per workflow: *lost* when emitted but never
delivered, *missing* when never emitted at all (the fast path emits no `workflow.queued`).

The counting itself is `simulator.measure.ledger`'s: a simulated run counts as it goes, and a full
run log (any runtime's) is replayed through the same ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.measure.ledger import LATE_SLEEP_MS, InvariantLedger
from simulator.runtime.runlog import RunLog

__all__ = ["GAPS", "LATE_SLEEP_MS", "LOSSES", "SAFETY", "invariants", "losses", "violations"]

#: Losses: workflows orphaned, lifecycle events emitted and never delivered, answers for
#: workflows never durably queued.
LOSSES = ("orphaned", "lifecycle_lost", "acknowledged_not_queued")
#: Gaps in what the tracker is told: lifecycle events never emitted at all (an observability gap,
#: not a loss: the fast path has no tracker to emit `workflow.queued` into).
GAPS = ("lifecycle_missing",)
#: The counts a safe design keeps at zero under every fault: its violations.
SAFETY = (*LOSSES, *GAPS)


def violations(counts: Mapping[str, Any]) -> int:
    """The sum of a run's safety counts."""
    return sum(int(counts[name]) for name in SAFETY)


def losses(counts: Mapping[str, Any]) -> int:
    return sum(int(counts[name]) for name in LOSSES)


def invariants(log: RunLog) -> dict[str, Any]:
    """The invariants of a full run log: its facts replayed through a ledger, kind by kind (the
    ledger counts at the end, so only the order within a kind matters)."""
    ledger = InvariantLedger()
    for event in log.emitted.values():
        ledger.emit(event, event["at"])
    for event_id, at_ms in log.accepted.items():
        ledger.accept([log.emitted.get(event_id, {"eventId": event_id})], at_ms)
    for commit in log.commits:
        ledger.commit(*commit)
    for change in log.alarms:
        ledger.alarm(*change)
    for at_ms, object_id, reason in log.resets:
        ledger.reset(at_ms, object_id, reason)
    for (object_id, label), times in log.work.items():
        for _ in range(times):
            ledger.ran(object_id, label)
    for record in log.calls:
        ledger.call(record)
    return ledger.counts()

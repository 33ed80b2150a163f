"""Correctness invariants of one finished run, counted from what the platform recorded.

A workflow is an object that durably held a workflow status. At the end of a run (after its drain
time) each workflow is terminal, or orphaned: not terminal and nothing scheduled (no alarm, no
alarm retry) that will ever move it. Events are counted by id: emitted into a tracker, delivered
(accepted by the endpoint). The lifecycle events that tell the tracker a workflow was queued, ran
and ended are checked per workflow: *lost* when emitted but never delivered, *missing* when never
emitted at all (the fast path emits no `workflow.queued`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.status import VALID_TRANSITIONS
from simulator.runtime.simulated.platform import Platform

TERMINAL = {tag for tag, allowed in VALID_TRANSITIONS.items() if not allowed}
LIFECYCLE = {  # the status a workflow durably reached -> the event that announces it
    "Queued": "workflow.queued",
    "Running": "workflow.started",
    "Completed": "workflow.completed",
    "Failed": "workflow.failed",
    "Cancelled": "workflow.cancelled",
}
LATE_SLEEP_MS = 1000.0


def invariants(platform: Platform) -> dict[str, Any]:
    delivered_ids = platform.endpoint.recorder.events.keys()
    emitted = platform.emitted
    by_workflow: dict[str, list[dict[str, Any]]] = {}
    for event in emitted.values():
        by_workflow.setdefault(event["workflowId"], []).append(event)

    workflows = completed = failed = cancelled = orphaned = 0
    lifecycle_lost: Counter[str] = Counter()
    lifecycle_missing: Counter[str] = Counter()
    orphans: list[str] = []
    for object_id, history in platform.statuses.items():
        workflows += 1
        host = platform.hosts[object_id]
        final = history[-1]
        completed += final == "Completed"
        failed += final == "Failed"
        cancelled += final == "Cancelled"
        scheduled = (
            host.storage.committed.alarm_ms is not None
            or platform.alarm_retry_pending[object_id] > 0
            or host.alarm_running is not None
        )
        if final not in TERMINAL and not scheduled:
            orphaned += 1
            orphans.append(object_id)
        events = by_workflow.get(object_id, [])
        for tag in dict.fromkeys(history):
            wanted = LIFECYCLE.get(tag)
            if wanted is None:
                continue
            of_type = [e for e in events if e["type"] == wanted]
            if not of_type:
                lifecycle_missing[wanted] += 1
            elif not any(e["eventId"] in delivered_ids for e in of_type):
                lifecycle_lost[wanted] += 1

    emitted_types = Counter(e["type"] for e in emitted.values())
    delivered_types = Counter(emitted[i]["type"] for i in delivered_ids if i in emitted)
    late = late_sleeps(by_workflow)
    acknowledged = {
        r.object_id for r in platform.records if r.call == "run_async" and r.outcome == "ok"
    }
    return {
        "workflows": workflows,
        "completed": completed,
        "failed": failed,
        "cancelled": cancelled,
        "orphaned": orphaned,
        "orphans": orphans,
        "events_emitted": len(emitted),
        "events_delivered": sum(delivered_types.values()),
        "events_lost": len(emitted) - sum(delivered_types.values()),
        "lost_by_type": {
            t: emitted_types[t] - delivered_types[t]
            for t in emitted_types
            if emitted_types[t] > delivered_types[t]
        },
        "lifecycle_lost": sum(lifecycle_lost.values()),
        "lifecycle_missing": sum(lifecycle_missing.values()),
        "lifecycle_lost_by_type": dict(lifecycle_lost),
        "lifecycle_missing_by_type": dict(lifecycle_missing),
        "steps_repeated": sum(n - 1 for n in platform.step_runs.values() if n > 1),
        "sleeps": len(late),
        "sleeps_late": sum(1 for v in late if v > LATE_SLEEP_MS),
        "sleep_late_max_ms": max(late, default=0.0),
        "acknowledged_not_queued": len(acknowledged - platform.statuses.keys()),
        "alarms_dropped": len(platform.alarms_dropped),
        "resets": len(platform.resets),
    }


def late_sleeps(by_workflow: dict[str, list[dict[str, Any]]]) -> list[float]:
    """For each completed sleep: how long after its first intended wake-up it completed."""
    out = []
    for events in by_workflow.values():
        started = [e for e in events if e["type"] == "sleep.started"]
        done = [e for e in events if e["type"] == "sleep.completed"]
        if started and done:
            first = min(started, key=lambda e: e["at"])
            intended = first["at"] + first["durationMs"]
            out.append(max(0.0, min(e["at"] for e in done) - intended))
    return out

"""The correctness invariants computed the plain way, from a whole run log at its end: the
reference the ledger (which counts as the run goes and forgets retired objects) is checked
against. It is the harness's earlier implementation, kept as the tests' oracle; the by-type
breakdowns are listed by type, as the ledger lists them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.state_machine import Keys
from engine.workflow import STEP_WORK
from simulator.measure.ledger import LATE_SLEEP_MS, LIFECYCLE, TERMINAL
from simulator.runtime.runlog import RunLog


def _step_work(label: str) -> bool:
    return label.startswith(STEP_WORK)


def statuses(log: RunLog) -> dict[str, list[str]]:
    """Per workflow object, the status tags that became durable, in order."""
    out: dict[str, list[str]] = {}
    for commit in log.commits:
        if commit.key == Keys.STATUS and commit.value is not None:
            out.setdefault(commit.object_id, []).append(commit.value.tag)
    return out


def scheduled(log: RunLog) -> set[str]:
    """The objects that, at the end of the run, have something scheduled that will run them: a
    committed alarm, a retry waiting, or a handler running."""
    alarm: dict[str, bool] = {}
    retries: Counter[str] = Counter()
    running: Counter[str] = Counter()
    for event in log.alarms:
        change, obj = event.change, event.object_id
        if change == "set":
            alarm[obj] = True
        elif change == "deleted":
            alarm[obj] = False
        elif change == "fired":
            alarm[obj] = False
            running[obj] += 1
        elif change == "finished":
            running[obj] -= 1
        elif change == "retrying":
            retries[obj] += 1
        elif change == "retry-fired":
            retries[obj] -= 1
            running[obj] += 1
        elif change == "retry-replaced":
            retries[obj] -= 1
    objects = alarm.keys() | retries.keys() | running.keys()
    return {o for o in objects if alarm.get(o) or retries[o] > 0 or running[o] > 0}


def reference_invariants(log: RunLog) -> dict[str, Any]:
    delivered_ids = log.accepted.keys()
    emitted = log.emitted
    by_workflow: dict[str, list[dict[str, Any]]] = {}
    for event in emitted.values():
        by_workflow.setdefault(event["workflowId"], []).append(event)

    histories = statuses(log)
    pending = scheduled(log)
    workflows = completed = failed = cancelled = orphaned = 0
    lifecycle_lost: Counter[str] = Counter()
    lifecycle_missing: Counter[str] = Counter()
    orphans: list[str] = []
    for object_id, history in histories.items():
        workflows += 1
        final = history[-1]
        completed += final == "Completed"
        failed += final == "Failed"
        cancelled += final == "Cancelled"
        if final not in TERMINAL and object_id not in pending:
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
    acknowledged = {r.object_id for r in log.calls if r.call == "run_async" and r.outcome == "ok"}
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
            for t in sorted(emitted_types)
            if emitted_types[t] > delivered_types[t]
        },
        "lifecycle_lost": sum(lifecycle_lost.values()),
        "lifecycle_missing": sum(lifecycle_missing.values()),
        "lifecycle_lost_by_type": dict(sorted(lifecycle_lost.items())),
        "lifecycle_missing_by_type": dict(sorted(lifecycle_missing.items())),
        "steps_repeated": sum(
            n - 1 for (_, label), n in log.work.items() if n > 1 and _step_work(label)
        ),
        "sleeps": len(late),
        "sleeps_late": sum(1 for v in late if v > LATE_SLEEP_MS),
        "sleep_late_max_ms": max(late, default=0.0),
        "acknowledged_not_queued": len(acknowledged - histories.keys()),
        "alarms_dropped": sum(1 for e in log.alarms if e.change == "dropped"),
        "resets": len(log.resets),
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

"""The fault matrix: the base scenario (`scenarios/fault-matrix.toml`) under each kind of fault.

Faults land at random instants (Poisson), so over a few hundred workflows they hit every phase of
a workflow's life: queueing, the alarm that starts it, a step awaiting I/O, the sleep, the resume,
the flush, the purge.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simulator.model.distributions import Distribution, LogNormal, Mixture, Uniform
from simulator.model.scenario import Scenario, load_scenario

BASE = "fault-matrix"
NO_FAULT = "none"  # the run of the fault matrix without a fault


def _with_faults(scenario: Scenario, **faults: Any) -> Scenario:
    return scenario.with_changes(faults=replace(scenario.faults, **faults))


def _with_profile(scenario: Scenario, **ops: Distribution) -> Scenario:
    return scenario.with_changes(profile_overrides={**scenario.profile_overrides, **ops})


def fault_matrix(base: Scenario | None = None) -> dict[str, Scenario]:
    """Each fault applied alone to the base scenario (and `none`, the control)."""
    base = base or load_scenario(BASE)
    polling = replace(
        base.workload,
        followups=(
            ("run_async", 5.0),
            ("get_status", 10.0),
            ("get_status", 300.0),
            ("run_async", 400.0),
        ),
    )
    return {
        NO_FAULT: base,
        # A deploy every 30 s on average: every object shuts down after its in-flight calls
        # (up to 30 s; one that touches storage meanwhile is stopped).
        "deploys": _with_faults(base, deploy_rate_per_hour=120.0),
        # A restart every 30 s on average kills every object at once (no grace period).
        "restarts": _with_faults(base, restart_rate_per_hour=120.0),
        # One busy object dies every 3 s on average, mid-call when any call is in flight.
        "crashes": _with_faults(base, crash_rate_per_hour=1200.0),
        # Half the workflows start with `run`, which executes inline, and a busy object dies every
        # second on average: a run that dies mid-step has no alarm to bring it back (the shrunk
        # counterexample of tests/sim/test_properties.py, made likely enough to be met).
        "crashes-mid-run": base.with_changes(
            faults=replace(base.faults, crash_rate_per_hour=3600.0),
            workload=replace(base.workload, mix={"run_async": 0.5, "run": 0.5}),
        ),
        # Objects with background work pending are evicted (the old waitUntil semantics).
        "evictions": _with_faults(base, eviction_rate_per_hour=720.0),
        # The tracker is unreachable for 90 s, then fails 5 % of requests.
        "tracker-outage": _with_faults(
            base, tracker_outages_ms=((60_000.0, 150_000.0),), tracker_error_rate=0.05
        ),
        # The tracker answers slowly (median 0.4 s, p99 5 s); like upstream's, the fetch never
        # gives up.
        "slow-tracker": _with_profile(base, tracker_http=LogNormal(400.0, 5000.0)),
        # One alarm in ten fires 5-60 s late (failover).
        "delayed-alarms": _with_profile(
            base, alarm_delay=Mixture((0.9, 0.1), (LogNormal(5.0, 50.0), Uniform(5000.0, 60_000.0)))
        ),
        # Each run_async comes with a duplicate during its cold start, two status polls and a
        # late duplicate.
        "polling-duplicates": base.with_changes(workload=polling),
    }


#: The faults, in report order (the keys of `fault_matrix()`).
FAULTS = (
    NO_FAULT,
    "deploys",
    "restarts",
    "crashes",
    "crashes-mid-run",
    "evictions",
    "tracker-outage",
    "slow-tracker",
    "delayed-alarms",
    "polling-duplicates",
)

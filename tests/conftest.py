from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from engine.client import WorkflowClient
from simulator.runtime.instant import InstantRuntime
from simulator.runtime.naming import object_id_for
from simulator.runtime.simulated.platform import Platform

ORDER_ID = "order-1"
INSTANCE = f"processOrder:{ORDER_ID}"


@pytest.fixture
def client() -> WorkflowClient:
    return WorkflowClient()


@pytest.fixture
def no_retirement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated platform keeps every object to the end of the run (it never retires)."""

    def never_retire(self: Platform) -> Generator[Any, Any, None]:
        yield self.env.timeout(0.0)

    monkeypatch.setattr(Platform, "_retire_at_rest", never_retire)


def oid(instance: str = INSTANCE) -> str:
    return object_id_for(instance)


def queue_order(rt: InstantRuntime, order_id: str = ORDER_ID, workflow: str = "processOrder"):
    return rt.run_client(WorkflowClient().run_async(workflow, {"orderId": order_id}, order_id))


def status_tag(rt: InstantRuntime, instance: str = INSTANCE) -> str | None:
    status = rt.storage_of(oid(instance)).data.get("workflow:status")
    return None if status is None else status.tag


def settle(rt: InstantRuntime, instance: str = INSTANCE, limit: int = 50) -> str | None:
    """Fire alarms until the workflow is terminal (before its purge) or nothing is scheduled."""
    for _ in range(limit):
        if status_tag(rt, instance) in ("Completed", "Failed", "Cancelled"):
            break
        if rt.fire_next_alarm() is None:
            break
    return status_tag(rt, instance)


SHARED_BENCH_MODULES = ("tests/report/test_bench.py", "tests/report/test_compare.py")


class SharedBenchScheduling(LoadScopeScheduling):
    """xdist's load balancing, test by test, except that the modules reading the shared quick
    bench (tests/report/conftest.py) go to one worker, which runs it once instead of once per
    worker. (The `xdist_group` mark would say this, but it does not take effect with the pytest
    this project pins: xdist renames items through an attribute pytest 9 no longer reads.)"""

    def _split_scope(self, nodeid: str) -> str:
        return "shared-bench" if nodeid.startswith(SHARED_BENCH_MODULES) else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    return SharedBenchScheduling(config, log) if config.getvalue("dist") == "load" else None

"""Tracker delivery through a real `httpx.Client`, with the endpoint mocked by respx."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from engine.design import PRESETS, design_by_name
from engine.layers import EngineOptions
from engine.tracker import TRACKERS, TrackerConfig, iso
from engine.workflow import two_steps_with_sleep
from simulator.runtime.endpoint import HttpxEndpoint
from simulator.runtime.instant import InstantRuntime
from tests.conftest import queue_order, settle

URL = TrackerConfig().endpoint


@pytest.fixture
def live() -> InstantRuntime:
    return InstantRuntime(endpoint=HttpxEndpoint(httpx.Client()))


@respx.mock
def test_the_batch_body_is_the_documented_json(live: InstantRuntime) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    queue_order(live)
    assert route.call_count == 1
    request = route.calls[0].request
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert list(body) == ["events"]
    (event,) = body["events"]
    assert event["type"] == "workflow.queued"
    assert event["workflowName"] == "processOrder"
    assert event["executionId"] == "order-1"
    assert event["input"] == {"orderId": "order-1"}
    assert event["source"] == "workflow"
    assert event["env"] == "sim" and event["serviceKey"] == "runasync-harness"
    assert {"eventId", "timestamp", "workflowId"} <= set(event)


@respx.mock
def test_a_5xx_is_retried_after_one_second(live: InstantRuntime) -> None:
    route = respx.post(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    start = live.now_ms
    assert queue_order(live) == {"id": "processOrder:order-1"}
    assert route.call_count == 2
    assert live.now_ms - start == 1000


@respx.mock
def test_three_failed_retries_are_given_up_without_failing_the_call(live: InstantRuntime) -> None:
    route = respx.post(URL).mock(
        side_effect=[
            httpx.ConnectError("down"),
            httpx.Response(500),
            httpx.Response(502),
            httpx.Response(503),
        ]
    )
    start = live.now_ms
    assert queue_order(live) == {"id": "processOrder:order-1"}
    assert route.call_count == 4  # one try and three retries
    assert live.now_ms - start == 1000 + 2000 + 4000


@respx.mock
def test_events_of_a_call_are_sent_in_one_batch() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    rt = InstantRuntime(endpoint=HttpxEndpoint(httpx.Client()))
    queue_order(rt)
    rt.fire_next_alarm()  # start: six events in one alarm call
    bodies = [json.loads(c.request.content)["events"] for c in route.calls]
    assert [len(b) for b in bodies] == [1, 5]


@respx.mock
def test_the_alarm_flush_design_sends_run_async_events_from_the_alarm() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    rt = InstantRuntime(design_by_name("alarm-flush"), endpoint=HttpxEndpoint(httpx.Client()))
    queue_order(rt)
    assert route.call_count == 0  # persisted in the outbox, not sent
    assert any(k.startswith("tracker:outbox:") for k in rt.storage_of(next(iter(rt.stored))).data)
    rt.fire_next_alarm()
    sent = [e["type"] for c in route.calls for e in json.loads(c.request.content)["events"]]
    assert sent[0] == "workflow.queued"
    assert not any(
        k.startswith("tracker:outbox:") for k in rt.storage_of(next(iter(rt.stored))).data
    )


def test_the_buffer_flushes_inline_at_the_batch_size() -> None:
    from engine.tracker import HttpBatchTracker
    from simulator.runtime.endpoint import RecordingEndpoint

    endpoint = RecordingEndpoint()
    tracker = HttpBatchTracker(TrackerConfig(batch_size=3))
    rt = InstantRuntime(endpoint=endpoint)

    def emit_five():
        for n in range(5):
            yield from tracker.emit({"eventId": str(n), "type": "t", "workflowId": "w"})

    rt.run_client(emit_five())
    assert endpoint.requests == 1 and len(endpoint.events) == 3
    assert tracker.pending() == 2


@given(
    st.floats(min_value=-1e9, max_value=4e12) | st.integers(0, 4 * 10**12).map(lambda n: n + 0.9995)
)
def test_event_timestamps_are_written_as_datetime_writes_them(ms: float) -> None:
    expected = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    assert iso(ms) == expected


@pytest.mark.parametrize("design", sorted(PRESETS))
@respx.mock
def test_every_design_sends_batches_that_json_encodes(design: str) -> None:
    # The simulated endpoints read bodies without encoding them; real requests must still encode.
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    rt = InstantRuntime(design_by_name(design), endpoint=HttpxEndpoint(httpx.Client()))
    queue_order(rt)
    assert settle(rt) == "Completed"
    rt.run_alarms()
    types = [e["type"] for c in route.calls for e in json.loads(c.request.content)["events"]]
    assert "workflow.completed" in types


@respx.mock
def test_the_example_app_tracker_sends_batches_of_two_and_retries_twice() -> None:
    # upstream examples/effect-worker/src/workflows.ts: `batchSize: 2`, `retry: { maxAttempts: 2 }`
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    options = EngineOptions(workflows=(two_steps_with_sleep(),), tracker=TRACKERS["example-app"])
    rt = InstantRuntime(options=options, endpoint=HttpxEndpoint(httpx.Client()))
    queue_order(rt)
    rt.fire_next_alarm()  # start: five events in the alarm, flushed two at a time
    bodies = [json.loads(c.request.content)["events"] for c in route.calls]
    assert [len(b) for b in bodies] == [1, 2, 2, 1]
    assert TRACKERS["example-app"].retry_delays_ms == (1000.0, 2000.0)
    assert TRACKERS["upstream-defaults"] == TrackerConfig()

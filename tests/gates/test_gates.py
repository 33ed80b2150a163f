"""Simulated-latency and correctness gates against simulator/data/gates.json: a regression fails,
an improvement passes and says how to record it."""

from __future__ import annotations

import pytest

from simulator.experiments.gates import (
    ACCEPT_COMMAND,
    GateSpec,
    compare,
    describe_moves,
    load_expected,
    measure,
)
from simulator.model.distributions import Constant
from simulator.model.profile import load_profile

pytestmark = pytest.mark.gate

SMALL = GateSpec(
    duration_s=10.0,
    faults_duration_s=10.0,
    profiles=("public-figures",),
    designs=("baseline", "fast-queue"),
)


@pytest.fixture(scope="module")
def small() -> dict[str, float]:
    return measure(SMALL)


def test_no_gated_figure_regressed_against_its_committed_value() -> None:
    moves = compare(load_expected(), measure())
    if any(m.fails for m in moves):
        pytest.fail(describe_moves(moves), pytrace=False)


def test_a_deliberately_slowed_design_fails_the_gate(small: dict[str, float]) -> None:
    slow = load_profile("public-figures").with_ops({"commit": Constant(500.0)})
    moves = compare(small, measure(SMALL, profiles={"public-figures": slow}))
    failing = {m.key for m in moves if m.fails}
    assert "public-figures/baseline/cold/p50_ms" in failing
    assert "public-figures/fast-queue/warm/p50_ms" in failing
    report = describe_moves(moves)
    assert ACCEPT_COMMAND in report and report.splitlines()[2].lstrip().startswith("regressed")


def test_a_faster_design_passes_and_is_reported_as_an_improvement(
    small: dict[str, float],
) -> None:
    fast = load_profile("public-figures").with_ops({"commit": Constant(1.0)})
    moves = compare(small, measure(SMALL, profiles={"public-figures": fast}))
    assert moves and not any(m.fails for m in moves)
    assert {m.kind for m in moves} == {"improved"}
    assert "public-figures/baseline/cold/p50_ms" in {m.key for m in moves}
    assert ACCEPT_COMMAND in describe_moves(moves)


def test_one_more_event_lost_fails_and_one_fewer_passes(small: dict[str, float]) -> None:
    fewer = {**small, "faults/baseline/events_lost": small["faults/baseline/events_lost"] - 1}
    more = {**small, "faults/baseline/events_lost": small["faults/baseline/events_lost"] + 1}
    assert [(m.key, m.kind) for m in compare(fewer, small)] == [
        ("faults/baseline/events_lost", "regressed")
    ]
    assert [(m.key, m.kind) for m in compare(more, small)] == [
        ("faults/baseline/events_lost", "improved")
    ]


def test_latency_within_tolerance_does_not_move_and_beyond_it_does(
    small: dict[str, float],
) -> None:
    key = "public-figures/baseline/cold/p50_ms"
    nudged = {**small, key: small[key] * 0.995}  # measured is 0.5 % above: within 1 %
    assert compare(nudged, small) == []
    pushed = {**small, key: small[key] * 0.97}  # 3 % above
    assert [(m.key, m.kind) for m in compare(pushed, small)] == [(key, "regressed")]


def test_a_figure_no_longer_measured_fails_and_a_new_one_passes(small: dict[str, float]) -> None:
    expected = dict(small)
    expected.pop("public-figures/baseline/cold/p99_ms")
    expected["public-figures/retired/cold/p50_ms"] = 1.0
    measured = small | {"faults/baseline/events_lost": float("nan")}  # nothing to count it on
    moves = {m.key: (m.kind, m.fails) for m in compare(expected, measured)}
    assert moves == {
        "public-figures/baseline/cold/p99_ms": ("new", False),
        "public-figures/retired/cold/p50_ms": ("gone", True),
        "faults/baseline/events_lost": ("gone", True),
    }


def test_the_gate_counts_violations_per_design(small: dict[str, float]) -> None:
    # the fast path never emits workflow.queued: a violation under every fault
    assert small["faults/fast-queue/violations"] > small["faults/baseline/violations"]

"""Simulated-latency and correctness gates against tests/data/gates.json, and proof that they
can fail."""

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
from simulator.model.profile import Constant, load_profile

pytestmark = pytest.mark.gate

SMALL = GateSpec(
    duration_s=10.0,
    faults_duration_s=10.0,
    profiles=("public-figures",),
    designs=("baseline", "fast-queue"),
)


def test_every_gated_figure_matches_its_committed_value() -> None:
    moves = compare(load_expected(), measure())
    if moves:
        pytest.fail(describe_moves(moves), pytrace=False)


def test_a_deliberately_slowed_design_fails_the_gate() -> None:
    expected = measure(SMALL)
    slow = load_profile("public-figures").with_ops({"commit": Constant(500.0)})
    moves = compare(expected, measure(SMALL, profiles={"public-figures": slow}))
    moved = {m.key for m in moves}
    assert "public-figures/baseline/cold/p50_ms" in moved
    assert "public-figures/fast-queue/warm/p50_ms" in moved
    assert all(m.measured > m.expected for m in moves if m.key.endswith("p50_ms"))
    report = describe_moves(moves)
    assert ACCEPT_COMMAND in report and "public-figures/baseline/cold/p50_ms" in report


def test_an_altered_expected_value_fails_the_gate() -> None:
    measured = measure(SMALL)
    altered = dict(measured)
    altered["faults/baseline/events_lost"] += 1
    moves = compare(altered, measured)
    assert [m.key for m in moves] == ["faults/baseline/events_lost"]
    assert moves[0].change.startswith("-1.000")


def test_figures_missing_or_new_are_reported() -> None:
    measured = measure(SMALL)
    expected = dict(measured)
    gone = expected.pop("public-figures/baseline/cold/p99_ms")
    expected["public-figures/retired/cold/p50_ms"] = 1.0
    moves = {m.key: m.change for m in compare(expected, measured)}
    assert moves == {
        "public-figures/baseline/cold/p99_ms": "new",
        "public-figures/retired/cold/p50_ms": "gone",
    }
    assert gone > 0

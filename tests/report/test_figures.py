"""The report's presentation: which designs a figure names, which it draws as one line, how points
are labelled, and how long table cells become footnotes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from simulator.report import plots
from simulator.report.highlight import BASELINE, BEST, FLOOR_ROLE, coinciding, group_label
from simulator.report.markdown import Footnotes, opening

ROLES = {"baseline": BASELINE, "best": BEST, "floor": FLOOR_ROLE}


def test_identical_latencies_share_a_line_that_names_every_design() -> None:
    same = np.array([1.0, 2.0, 3.0])
    curves = {"baseline": same, "lazy": same.copy(), "best": same + 1, "floor": same + 1}
    assert coinciding(curves) == [["baseline", "lazy"], ["best", "floor"]]
    assert group_label(["best", "floor"], ROLES) == "best (best design), floor (identical)"


def test_near_curves_share_a_line_only_within_the_tolerance() -> None:
    base = np.linspace(100, 1000, 500)
    curves = {"a": base, "b": base * 1.02, "c": base * 1.05}
    assert coinciding(curves) == [["a"], ["b"], ["c"]]
    assert coinciding(curves, 0.03) == [["a", "b"], ["c"]]
    assert group_label(["a", "b"], {}, 0.03) == "a, b (within 3%)"


def test_the_featured_lines_come_in_the_order_of_their_roles_and_the_rest_are_grey() -> None:
    curves = {
        "floor": np.array([1.0]),
        "other": np.array([5.0]),
        "best": np.array([1.0]),
        "baseline": np.array([9.0]),
    }
    lines = plots.Lines(curves, ROLES)
    mine, others = lines.groups()
    assert mine == [["baseline"], ["floor", "best"]] and others == [["other"]]
    assert lines.role_of(["floor", "best"]) == BEST
    assert lines.share_a_line(BEST, FLOOR_ROLE) and not lines.share_a_line(BASELINE, BEST)


def test_the_tails_axis_is_log_of_one_over_one_minus_the_percentile(tmp_path: Path) -> None:
    fig, ax = plt.subplots()
    values = np.arange(1.0, 1001.0)
    plots._by_percentile(ax, values, {})
    x, y = ax.lines[0].get_data()
    plt.close(fig)
    # the call at the 99th percentile (the 991st of 1000) sits at x = 100, the "99%" tick
    assert float(np.asarray(x)[990]) == 100.0 and float(np.asarray(y)[990]) == 991.0
    assert plots.PERCENTILE_TICKS[100] == "99%" and plots.PERCENTILE_TICKS[1000] == "99.9%"
    path = plots.tails_plot(
        plots.Lines({"baseline": values}, ROLES), tmp_path / "tails.png", "a title", 2000.0
    )
    assert path.stat().st_size > 0


def test_designs_at_one_spot_of_the_trade_off_chart_share_a_block_of_labels() -> None:
    points = pd.DataFrame(
        {
            "design": ["a", "b", "c", "d"],
            "p50_ms": [100.0, 101.0, 200.0, 100.0],
            "lost_percent": [0.0, 0.1, 0.0, 10.0],
        }
    )
    spots = plots._spots(points, "p50_ms", "lost_percent")
    assert sorted(sorted(points.loc[s, "design"]) for s in spots) == [["a", "b"], ["c"], ["d"]]


def test_a_long_cell_leaves_its_opening_and_one_footnote_per_distinct_text() -> None:
    why = "event-flush -58 ms; output-gate -6 ms (-1.0 http) — " + "the literal code" * 10
    notes = Footnotes(limit=80)
    table = f"| row | why |\n|---|---|\n| a | {why} |\n| b | {why} |\n| c | short |"
    moved = notes.tables(table)
    assert "| a | event-flush -58 ms; output-gate -6 ms (-1.0 http) …[^1] |" in moved
    assert "| b | event-flush -58 ms; output-gate -6 ms (-1.0 http) …[^1] |" in moved
    assert "| c | short |" in moved
    assert notes.render() == f"[^1]: {why}"


def test_an_opening_never_ends_inside_a_code_span() -> None:
    assert opening("x `a long.name` y", 9) == "x "
    assert opening("one; two; three", 11) == "one; two"

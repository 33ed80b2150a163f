"""Section 6: where the time of run_async goes (a phase waterfall) and its latency distributions."""

from __future__ import annotations

from simulator.experiments.floor import FLOOR
from simulator.measure.rows import measured, p50_by_design
from simulator.report import plots
from simulator.report.section import Inputs, Section, figure_link


def fastest_design(inputs: Inputs, profile: str) -> str:
    """The search's best design, or else the design with the lowest cold run_async p50."""
    if inputs.search is not None and inputs.search.best is not None:
        return inputs.search.best.label()
    mine = measured(inputs.rows)
    p50 = p50_by_design(mine[mine["profile"] == profile], "cold").drop(FLOOR, errors="ignore")
    return str(p50.sort_index().idxmin()) if len(p50) else "baseline"


def latency_figures_section(inputs: Inputs, profile: str) -> Section:
    mine = measured(inputs.rows)
    mine = mine[mine["profile"] == profile]
    winner = fastest_design(inputs, profile)
    shown = ["baseline", winner] if winner != "baseline" else ["baseline"]
    waterfall = plots.waterfall(
        mine,
        shown,
        inputs.figure(f"waterfall-{profile}.png"),
        f"run_async phases: baseline vs {winner} ({profile})",
    )
    designs = list(dict.fromkeys(mine["design"]))
    cdfs = [
        plots.cdfs(
            mine,
            designs,
            mode,
            inputs.figure(f"cdf-{mode}-{profile}.png"),
            f"run_async latency, {mode}, every design ({profile})",
        )
        for mode in ("cold", "warm")
    ]
    return Section(
        "where the time goes",
        f"Where the time of `run_async` goes, baseline against `{winner}`, and the "
        "latency distribution of every design.\n\n"
        + figure_link(waterfall, "waterfall")
        + "\n\n"
        + "\n\n".join(
            figure_link(path, f"cdf {mode}")
            for path, mode in zip(cdfs, ("cold", "warm"), strict=True)
        ),
        files=[waterfall, *cdfs],
    )

"""Section 6: where the time of run_async goes (a phase waterfall) and its latency distributions,
each figure titled with what it shows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.measure.rows import measured, phase_column, run_async, select
from simulator.model.seed import OPTIMIZED
from simulator.report import plots
from simulator.report.highlight import BASELINE, BEST, FASTEST, FLOOR_ROLE, featured, latencies
from simulator.report.section import Inputs, Section, figure_link
from simulator.runtime.phases import PHASES


def removed_phases(rows: pd.DataFrame, design: str, mode: str = "cold") -> list[str]:
    """The phases the baseline pays (p50 at least 0.5 ms) that `design` does not pay at all."""
    base, mine = run_async(rows, BASELINE, mode), run_async(rows, design, mode)
    return [
        phase
        for phase in PHASES
        if phase_column(phase) in rows.columns
        and base[phase_column(phase)].median() >= 0.5
        and not mine[phase_column(phase)].median() > 0.05
    ]


def waterfall_title(rows: pd.DataFrame, winner: str, role: str, profile: str) -> str:
    p50 = {
        (design, mode): float(run_async(rows, design, mode)["latency_ms"].median())
        for design in (BASELINE, winner)
        for mode in ("cold", "warm")
    }
    gone = removed_phases(rows, winner)
    return (
        f"The {role} cuts run_async p50 from {p50[BASELINE, 'cold']:,.0f} to "
        f"{p50[winner, 'cold']:,.0f} ms cold and from {p50[BASELINE, 'warm']:,.0f} to "
        f"{p50[winner, 'warm']:,.0f} ms warm ({profile})"
        + (f"\nit does not pay {', '.join(gone)}" if gone else "")
    )


def cdf_title(lines: plots.Lines, mode: str, profile: str) -> str:
    """What the CDF shows: the best design's median against the baseline's, and the floor."""
    p50 = {
        role: float(np.median(lines.curves[d]))
        for d, role in lines.roles.items()
        if len(lines.curves.get(d, ()))
    }
    best = next((r for r in (BEST, FASTEST) if r in p50), None)
    if best is None or BASELINE not in p50:
        return f"run_async latency, {mode} ({profile})"
    text = (
        f"{mode}: the {best} answers in {p50[best]:,.0f} ms at the median, "
        f"{p50[BASELINE] / p50[best]:.1f}x faster than the baseline ({p50[BASELINE]:,.0f} ms)"
    )
    if lines.share_a_line(best, FLOOR_ROLE):
        text += "; its curve is the floor's"
    elif FLOOR_ROLE in p50:
        text += f"; the floor: {p50[FLOOR_ROLE]:,.0f} ms"
    return f"{text} ({profile})"


def latency_figures_section(inputs: Inputs, profile: str) -> Section:
    mine = measured(inputs.rows)
    mine = mine[mine["profile"] == profile]
    roles = featured(inputs, profile)
    winner = next(d for d, role in roles.items() if role in (BEST, FASTEST))
    shown = [BASELINE, winner] if winner != BASELINE else [BASELINE]
    waterfall = plots.waterfall(
        mine,
        shown,
        inputs.figure(f"waterfall-{profile}.png"),
        waterfall_title(mine, winner, roles[winner], profile),
    )
    cdfs = []
    for mode in ("cold", "warm"):
        calls = select(mine, call="run_async", mode=mode, outcome="ok")
        lines = plots.Lines(latencies(calls), roles)
        path = inputs.figure(f"cdf-{mode}-{profile}.png")
        cdfs.append(plots.cdfs(lines, path, cdf_title(lines, mode, profile)))
    return Section(
        "where the time goes",
        f"Where the time of `run_async` goes, baseline against the {roles[winner]} `{winner}`, "
        "then the latency distribution of every design: the baseline, the seed's set "
        f"(`{OPTIMIZED.label()}`), the {roles[winner]} and the floor in colour, the rest in grey; designs with identical "
        "latencies share one line, which names them all.\n\n"
        + figure_link(waterfall, "waterfall")
        + "\n\n"
        + "\n\n".join(
            figure_link(path, f"cdf {mode}")
            for path, mode in zip(cdfs, ("cold", "warm"), strict=True)
        ),
        files=[waterfall, *cdfs],
    )

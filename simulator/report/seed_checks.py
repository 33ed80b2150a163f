"""The seed's tables, measured: its breakdown, each change's reduction, the priority order, the
optimized totals; each cell with the seed's figure, the measured one, a verdict and why.

Every figure here is computed from rows (one per call); nothing is copied from the seed except the
seed's own ranges, which stand beside the measured figures.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from simulator.experiments.calibrate import CALIBRATED_PROFILE, FITTED_TABLE
from simulator.experiments.suite import change_labels, cumulative_labels
from simulator.measure.rows import measured, phase_total, run_async
from simulator.measure.stats import (
    Estimate,
    interaction,
    paired_difference,
    quantile_ci,
    reduction,
    saving,
)
from simulator.model.seed import (
    BREAKDOWN,
    BREAKDOWN_PHASES,
    EXPECTED,
    EXPECTED_TOTAL,
    OPTIMIZED,
    TOTALS,
    UNLISTED_PHASES,
    SeedRange,
)
from simulator.report import plots
from simulator.report.explain import explain_breakdown, explain_change, explain_unlisted
from simulator.report.markdown import comparison_table, fmt, table, verdict_sentence
from simulator.report.robustness import label_of
from simulator.report.section import Inputs, Section, figure_link


def breakdown(rows: pd.DataFrame, design: str = "baseline") -> list[dict[str, Any]]:
    """The seed's performance breakdown, measured: one line per seed cell, plus unlisted phases."""
    out: list[dict[str, Any]] = []
    for cell in BREAKDOWN:
        calls = run_async(rows, design, cell.mode)
        if cell.row == "Total":
            values = calls["latency_ms"]
        else:
            values = phase_total(calls, BREAKDOWN_PHASES[cell.row])
        estimate = quantile_ci(values, calls["replication"], 0.5)
        out.append(
            _compared(
                "breakdown",
                cell.row,
                cell.mode,
                cell.range,
                estimate,
                explain_breakdown(cell.row, cell.mode, calls, estimate.value),
            )
        )
    for name, phases in UNLISTED_PHASES.items():
        for mode in ("cold", "warm"):
            calls = run_async(rows, design, mode)
            estimate = quantile_ci(phase_total(calls, phases), calls["replication"], 0.5)
            out.append(
                {
                    "table": "breakdown",
                    "row": name,
                    "mode": mode,
                    "seed": "—",
                    "seed_low_ms": None,
                    "seed_high_ms": None,
                    "measured_ms": estimate.value,
                    "ci_low_ms": estimate.low,
                    "ci_high_ms": estimate.high,
                    "verdict": "missing from the seed",
                    "explanation": explain_unlisted(name, estimate.value),
                }
            )
    return out


def _compared(
    table: str, row: str, mode: str, seed: SeedRange, estimate: Estimate, explanation: str
) -> dict[str, Any]:
    return {
        "table": table,
        "row": row,
        "mode": mode,
        "seed": seed.text,
        "seed_low_ms": seed.low,
        "seed_high_ms": seed.high,
        "measured_ms": estimate.value,
        "ci_low_ms": estimate.low,
        "ci_high_ms": estimate.high,
        "verdict": seed.verdict(estimate.value, estimate.low, estimate.high),
        "explanation": explanation,
    }


def expected(rows: pd.DataFrame, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The seed's Expected Results: each change alone against baseline, then their total."""
    out = []
    for change in EXPECTED:
        name = labels[change.row]
        for mode, seed in (("cold", change.cold), ("warm", change.warm)):
            estimate = reduction(rows, name, mode)
            same_calls = paired_difference(
                run_async(rows, "baseline", mode), run_async(rows, name, mode)
            )
            why = (
                f"on the same calls the change saves {same_calls.text(1)} ms (median of the "
                f"per-call savings); {explain_change(rows, name, mode)}"
            )
            out.append(_compared("expected", change.row, mode, seed, estimate, why))
    row, cold, warm = EXPECTED_TOTAL
    for mode, seed in (("cold", cold), ("warm", warm)):
        estimate = reduction(rows, labels[row], mode)
        singles = sum(saving(rows, labels[c.row], mode) for c in EXPECTED)
        more = interaction(rows, labels[row], [labels[c.row] for c in EXPECTED], mode)
        additive = more.low <= 0 <= more.high
        out.append(
            _compared(
                "expected",
                row,
                mode,
                seed,
                estimate,
                f"the three together save {estimate.value:.1f} ms; alone they sum to "
                f"{singles:.1f} ms; together minus alone {more.text(1)} ms "
                f"({'they add up' if additive else 'they do not add up'}); "
                f"{explain_change(rows, labels[row], mode)}",
            )
        )
    return out


def cumulative(rows: pd.DataFrame, steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The seed's priority order applied one change after another: p50 and the step's saving."""
    out = []
    previous = "baseline"
    for title, name in steps:
        for mode in ("cold", "warm"):
            calls = run_async(rows, name, mode)
            p50 = quantile_ci(calls["latency_ms"], calls["replication"], 0.5)
            step = reduction(rows, name, mode, base=previous)
            out.append(
                {
                    "step": title,
                    "design": name,
                    "mode": mode,
                    "p50_ms": p50.value,
                    "p50_ci95": [p50.low, p50.high],
                    "saved_vs_previous_ms": step.value,
                    "saved_vs_previous_ci95": [step.low, step.high],
                    "saved_vs_baseline_ms": saving(rows, name, mode),
                }
            )
        previous = name
    return out


def totals(rows: pd.DataFrame, optimized: str) -> list[dict[str, Any]]:
    out = []
    for mode, seed in TOTALS.items():
        calls = run_async(rows, optimized, mode)
        estimate = quantile_ci(calls["latency_ms"], calls["replication"], 0.5)
        out.append(
            _compared(
                "totals",
                "Optimized run_async",
                mode,
                seed,
                estimate,
                f"{optimized}: {explain_change(rows, optimized, mode)}",
            )
        )
    return out


# --- the sections ---


def _profile_rows(inputs: Inputs, profile: str) -> pd.DataFrame:
    measured_rows = measured(inputs.rows)
    return measured_rows[measured_rows["profile"] == profile]


def _annotated(inputs: Inputs, profile: str, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cells with their profile, whether the calibration was fitted to them (the rest are
    predictions), and, where checked, whether their verdict is robust across the guesses."""
    out = []
    for c in cells:
        label = label_of(inputs.robustness, profile, (c["table"], c["row"], c["mode"]))
        out.append(
            {
                "profile": profile,
                **c,
                "fitted": profile == CALIBRATED_PROFILE and c["table"] == FITTED_TABLE,
                **({"robustness": label.text()} if label is not None else {}),
            }
        )
    return out


def breakdown_section(inputs: Inputs, profile: str) -> Section:
    cells = _annotated(inputs, profile, breakdown(_profile_rows(inputs, profile)))
    judged = [c for c in cells if c["seed_low_ms"] is not None]
    return Section(
        "breakdown",
        f"`run_async` of the **baseline** under `{profile}`, p50 of each phase "
        "(ms, 95 % bootstrap interval over replications). "
        + verdict_sentence(cells)
        + "\n\n"
        + comparison_table(cells, "p50 ms"),
        {"seed_comparison": judged},
    )


def ablation_title(cells: list[dict[str, Any]], profile: str) -> str:
    """What the ablation chart shows: how many measured reductions miss the seed's range."""
    verdicts = Counter(c["verdict"] for c in cells)
    return (
        f"{verdicts['below']} of {len(cells)} measured reductions fall below the seed's claimed "
        f"range ({verdicts['within']} within, {verdicts['above']} above; {profile})"
    )


def expected_section(inputs: Inputs, profile: str) -> Section:
    cells = _annotated(inputs, profile, expected(_profile_rows(inputs, profile), change_labels()))
    path = plots.ablation(
        cells,
        inputs.figure(f"ablation-{profile}.png"),
        ablation_title(cells, profile),
    )
    return Section(
        "expected",
        "The reduction of `run_async` p50 when each change is applied alone to the "
        "baseline, and all three together. "
        + verdict_sentence(cells)
        + "\n\n"
        + comparison_table(cells, "reduction ms")
        + "\n\n"
        + figure_link(path, "ablation"),
        {"seed_comparison": cells},
        [path],
    )


def cumulative_section(inputs: Inputs, profile: str) -> Section:
    steps = cumulative(_profile_rows(inputs, profile), cumulative_labels())
    return Section(
        "cumulative",
        "The seed's implementation priority, one change after another. Each step's saving is "
        "measured against the step before, so it differs from the same change's saving alone "
        "(section 3) where a change moves work instead of removing it.\n\n"
        + table(
            [
                "step",
                "design",
                "mode",
                "p50 ms [95% CI]",
                "saved vs previous [95% CI]",
                "saved vs baseline",
            ],
            [
                [
                    r["step"],
                    r["design"],
                    r["mode"],
                    Estimate(r["p50_ms"], *r["p50_ci95"]).text(),
                    Estimate(r["saved_vs_previous_ms"], *r["saved_vs_previous_ci95"]).text(),
                    fmt(r["saved_vs_baseline_ms"]),
                ]
                for r in steps
            ],
        ),
        {"cumulative": [{"profile": profile, **r} for r in steps]},
    )


def totals_section(inputs: Inputs, profile: str) -> Section:
    cells = _annotated(inputs, profile, totals(_profile_rows(inputs, profile), OPTIMIZED.label()))
    promised = " and ".join(
        f"{seed.text.removesuffix('ms')} ms {mode}" for mode, seed in TOTALS.items()
    )
    return Section(
        "totals",
        f"The seed promises `run_async` in {promised} with its changes "
        f"(`{OPTIMIZED.label()}`).\n\n" + comparison_table(cells, "p50 ms"),
        {"seed_comparison": cells},
    )

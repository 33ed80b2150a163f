"""Two bench runs side by side, as pyperf's `compare_to` puts two benchmark files.

For every (profile, design, mode, call) both runs measured: the change of p50, p95 and p99 with
a 95 % bootstrap interval over replications, labelled *slower* or *faster* only when the
interval excludes zero and the change is at least `min_change` of the first run's figure. For
every (profile, design, fault) of the fault matrix: every correctness count that changed.
Intervals need the raw rows (`rows.parquet` beside `results.json`); without them a latency
change is shown with no verdict, and `--fail-on latency`, which would pass unchecked, is refused.

Each `results.json` must validate against `results.schema.json`, and the rows beside it must be
its own: the groups of calls it lists, with its counts and quantiles. Two runs with nothing in
common (or nothing of what `--fail-on` gates) are refused rather than passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.errors import InputError
from simulator.measure.correctness import SAFETY
from simulator.measure.stats import Estimate, quantile_changes
from simulator.report.compare_inputs import COMPARED, GROUP, BenchRun, groups
from simulator.report.markdown import table

SLOWER, FASTER, SAME, UNKNOWN = "slower", "faster", "no significant change", "no interval"


def _verdict(change: Estimate, before: float, min_change: float) -> str:
    if np.isnan(change.low):
        return UNKNOWN
    if change.low > 0 and change.value >= min_change * before:
        return SLOWER
    if change.high < 0 and -change.value >= min_change * before:
        return FASTER
    return SAME


def latency_changes(before: BenchRun, after: BenchRun, min_change: float) -> list[dict[str, Any]]:
    """One entry per (profile, design, mode, call, quantile) that both runs measured."""
    paired = before.document["seeds"] == after.document["seeds"]
    groups_a, groups_b = groups(before), groups(after)
    runs_b = {tuple(r[k] for k in GROUP): r for r in after.document["runs"]}
    out = []
    for entry in before.document["runs"]:
        key = tuple(entry[k] for k in GROUP)
        other = runs_b.get(key)
        if other is None:
            continue
        if key in groups_a and key in groups_b:
            changes = quantile_changes(
                groups_a[key], groups_b[key], list(COMPARED.values()), paired
            )
        else:
            nan = float("nan")
            changes = [
                Estimate(nan if None in (entry[q], other[q]) else other[q] - entry[q], nan, nan)
                for q in COMPARED
            ]
        for quantile, change in zip(COMPARED, changes, strict=True):
            if entry[quantile] is None or other[quantile] is None:
                continue  # no call of the group answered in one of the runs: nothing to compare
            out.append(
                {
                    **dict(zip(GROUP, key, strict=True)),
                    "quantile": quantile.removesuffix("_ms"),
                    "before_ms": entry[quantile],
                    "after_ms": other[quantile],
                    "change_ms": change.value,
                    "change_ci95": [change.low, change.high],
                    "verdict": _verdict(change, entry[quantile], min_change),
                }
            )
    return out


def check_common(before: BenchRun, after: BenchRun, fail_on: set[str]) -> None:
    """Refuse a comparison of nothing: runs that share no latency figure and no cell of the
    fault matrix, or that share none of what `--fail-on` gates, or a latency gate on runs
    without their rows (each would pass unchecked)."""
    figures_b = _figures(after)
    cells_b = _cells(after)
    compared = {
        "latency": sum(figure in figures_b for figure in _figures(before)),
        "correctness": sum(cell in cells_b for cell in _cells(before)),
    }
    missing = [what for what in sorted(fail_on) if not compared[what]]
    if not any(compared.values()) or missing:
        what = "" if not any(compared.values()) else f" for --fail-on {','.join(missing)}"
        raise InputError(
            f"nothing in common{what}: {_holdings(before)}; {_holdings(after)}; allowed: two "
            "bench runs that measured some of the same profiles, designs, modes and calls"
        )
    without_rows = [run for run in (before, after) if run.rows is None]
    if "latency" in fail_on and without_rows:
        raise InputError(
            f"--fail-on latency: {str(without_rows[0].path)!r} has no rows.parquet beside it; "
            "allowed: bench folders with their rows (a latency verdict needs its interval)"
        )


def _figures(run: BenchRun) -> set[tuple[str, ...]]:
    """The (profile, design, mode, call, quantile) a run measured."""
    return {
        (*(r[k] for k in GROUP), q)
        for r in run.document["runs"]
        for q in COMPARED
        if r[q] is not None
    }


def _cells(run: BenchRun) -> set[tuple[str, ...]]:
    """The (profile, design, fault) of the fault matrix a run counted."""
    return {(r["profile"], r["design"], r["fault"]) for r in run.document.get("correctness", [])}


def _holdings(run: BenchRun) -> str:
    runs = run.document["runs"]
    profiles = sorted({r["profile"] for r in runs})
    designs = len({r["design"] for r in runs})
    return (
        f"{str(run.path)!r} has {len(runs)} groups of calls (profiles: "
        f"{', '.join(profiles) or 'none'}; {designs} designs) and "
        f"{len(run.document.get('correctness', []))} cells of the fault matrix"
    )


def correctness_changes(before: BenchRun, after: BenchRun) -> list[dict[str, Any]]:
    """Every integer count of the fault matrix that differs between the runs."""
    key = ("profile", "design", "fault")
    b = {tuple(r[k] for k in key): r for r in after.document.get("correctness", [])}
    out = []
    for entry in before.document.get("correctness", []):
        other = b.get(tuple(entry[k] for k in key))
        if other is None:
            continue
        for count, value in entry.items():
            if isinstance(value, int) and not isinstance(value, bool) and other[count] != value:
                out.append(
                    {
                        **{k: entry[k] for k in key},
                        "count": count,
                        "before": value,
                        "after": other[count],
                        "safety": count in SAFETY,
                    }
                )
    return out


def regressions(
    latency: list[dict[str, Any]], correctness: list[dict[str, Any]], fail_on: set[str]
) -> list[str]:
    """What `--fail-on` counts as a regression: latency significantly slower; a safety count
    (a loss or a lifecycle event never emitted) that rose."""
    found = []
    if "latency" in fail_on:
        found += [
            f"{c['design']} {c['mode']} {c['call']} {c['quantile']} ({c['profile']}): "
            f"{c['before_ms']:,.1f} -> {c['after_ms']:,.1f} ms"
            for c in latency
            if c["verdict"] == SLOWER
        ]
    if "correctness" in fail_on:
        found += [
            f"{c['design']} under {c['fault']} ({c['profile']}): {c['count']} "
            f"{c['before']} -> {c['after']}"
            for c in correctness
            if c["safety"] and c["after"] > c["before"]
        ]
    return found


def _change_text(change: dict[str, Any]) -> str:
    low, high = change["change_ci95"]
    relative = change["change_ms"] / change["before_ms"] if change["before_ms"] else float("nan")
    interval = "" if np.isnan(low) else f" [{low:+,.1f}, {high:+,.1f}]"
    return f"{change['change_ms']:+,.1f} ms ({relative:+.1%}){interval}"


def _inputs_text(before: BenchRun, after: BenchRun) -> str:
    a = before.document["provenance"]["inputs_sha256"]
    b = after.document["provenance"]["inputs_sha256"]
    changed = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
    if not changed:
        return "Input files: identical."
    return "Input files that differ: " + ", ".join(f"`{p}`" for p in changed) + "."


def markdown(
    before: BenchRun,
    after: BenchRun,
    latency: list[dict[str, Any]],
    correctness: list[dict[str, Any]],
    show_all: bool,
) -> str:
    significant = [c for c in latency if c["verdict"] in (SLOWER, FASTER)]
    listed = latency if show_all else significant
    paired = before.document["seeds"] == after.document["seeds"]
    lines = [
        f"# Bench comparison: {before.label} → {after.label}",
        "",
        f"{len(latency)} latency figures compared ({len({tuple(c[k] for k in GROUP) for c in latency})}"
        f" groups of calls): {sum(c['verdict'] == SLOWER for c in latency)} slower, "
        f"{sum(c['verdict'] == FASTER for c in latency)} faster, "
        f"{sum(c['verdict'] == SAME for c in latency)} without a significant change"
        + (
            f", {sum(c['verdict'] == UNKNOWN for c in latency)} without rows to compute an interval"
            if any(c["verdict"] == UNKNOWN for c in latency)
            else ""
        )
        + ". Intervals are 95 % bootstrap intervals of the change over replications"
        + (" (same seeds: replications paired)." if paired else " (different seeds: unpaired)."),
        "",
        _inputs_text(before, after),
        "",
    ]
    if before.document["suite"] != after.document["suite"]:
        lines += ["**The suites differ in size**: changes mix the code's and the suite's.", ""]
    if listed:
        lines.append(
            table(
                [
                    "profile",
                    "design",
                    "mode",
                    "call",
                    "quantile",
                    "before ms",
                    "after ms",
                    "change [95% CI]",
                    "verdict",
                ],
                [
                    [
                        c["profile"],
                        c["design"],
                        c["mode"],
                        c["call"],
                        c["quantile"],
                        f"{c['before_ms']:,.1f}",
                        f"{c['after_ms']:,.1f}",
                        _change_text(c),
                        c["verdict"],
                    ]
                    for c in listed
                ],
            )
        )
    else:
        lines.append("No latency figure changed significantly.")
    lines += ["", "## Correctness under the fault matrix", ""]
    if correctness:
        lines.append(
            table(
                ["profile", "design", "fault", "count", "before", "after"],
                [
                    [
                        c["profile"],
                        c["design"],
                        c["fault"],
                        f"**{c['count']}**" if c["safety"] else c["count"],
                        str(c["before"]),
                        str(c["after"]),
                    ]
                    for c in correctness
                ],
            )
        )
        lines += ["", "Counts in bold are safety counts (losses, lifecycle events never emitted)."]
    else:
        lines.append("No correctness count changed.")
    return "\n".join(lines) + "\n"

"""Two bench runs side by side, as pyperf's `compare_to` puts two benchmark files.

For every (profile, design, mode, call) both runs measured: the change of p50, p95 and p99 with
a 95 % bootstrap interval over replications, labelled *slower* or *faster* only when the
interval excludes zero and the change is at least `min_change` of the first run's figure. For
every (profile, design, fault) of the fault matrix: every correctness count that changed.
Intervals need the raw rows (`rows.parquet` beside `results.json`); without them a latency
change is shown with no verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import InputError, shown
from simulator.measure.correctness import SAFETY
from simulator.measure.rows import measured
from simulator.measure.stats import Estimate, quantile_changes
from simulator.report.markdown import table
from simulator.report.results import SCHEMA_VERSION

COMPARED = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}
GROUP = ("profile", "design", "mode", "call")
REQUIRED = ("complete", "provenance", "seeds", "suite", "runs")
SLOWER, FASTER, SAME, UNKNOWN = "slower", "faster", "no significant change", "no interval"


@dataclass(frozen=True)
class BenchRun:
    """One `results.json` and, when it is beside it, its `rows.parquet`."""

    path: Path
    document: dict[str, Any]
    rows: pd.DataFrame | None

    @property
    def label(self) -> str:
        git = self.document["provenance"]["git"]
        commit = (git["commit"] or "no git")[:10] + (" (dirty)" if git["dirty"] else "")
        partial = "" if self.document["complete"] else ", INCOMPLETE"
        return f"`{self.path}` ({commit}{partial})"


def load_run(option: str, path: Path) -> BenchRun:
    """A bench run by its results.json or its folder; one clear line if it is not one."""
    if path.is_dir():
        path = path / "results.json"
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise InputError(f"{option}: cannot read {str(path)!r}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{option}: {str(path)!r} is not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("generator") != "runasync-harness":
        raise InputError(f"{option}: {str(path)!r} is not a results.json of `simulator bench`")
    found = document.get("schema_version")
    if found != SCHEMA_VERSION:
        raise InputError(
            f"{option}: {str(path)!r}: field 'schema_version': bad value {shown(found)}; "
            f"allowed: {SCHEMA_VERSION} (rerun `make bench` with this version)"
        )
    missing = [k for k in REQUIRED if k not in document]
    if missing:
        raise InputError(f"{option}: {str(path)!r} lacks the fields {missing}")
    beside = path.parent / "rows.parquet"
    try:
        rows = pd.read_parquet(beside) if beside.exists() else None
    except (OSError, ValueError) as error:
        raise InputError(f"{option}: {str(beside)!r} is not readable Parquet ({error})") from None
    return BenchRun(path, document, rows)


def _groups(run: BenchRun) -> dict[tuple[str, ...], pd.DataFrame]:
    if run.rows is None:
        return {}
    calls = measured(run.rows)
    return {
        tuple(str(k) for k in key): group
        for key, group in calls[calls["latency_ms"].notna()].groupby(list(GROUP), sort=False)
    }


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
    groups_a, groups_b = _groups(before), _groups(after)
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
            changes = [Estimate(other[q] - entry[q], nan, nan) for q in COMPARED]
        for quantile, change in zip(COMPARED, changes, strict=True):
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

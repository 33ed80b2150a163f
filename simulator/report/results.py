"""`results.json`: a versioned, self-describing record of one `make bench` run.

Like pyperf's result files it carries a format version and says how it was made (command,
profiles, seeds, replications), so a reader years later knows what the numbers mean.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.measure.rows import PHASE, measured
from simulator.measure.stats import QUANTILES, latency_stats, quantile_cis
from simulator.report.provenance import DISTRIBUTION, provenance
from simulator.runtime.runlog import OP_KINDS
from simulator.whole_files import write_text

SCHEMA_VERSION = 2  # 2: provenance; intervals as [low, high] numbers everywhere
SCHEMA_PATH = Path(__file__).with_name("results.schema.json")


def clean(value: Any) -> Any:
    """JSON has no NaN: missing figures are null; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def intervals(calls: pd.DataFrame) -> dict[str, list[float]]:
    """95 % bootstrap intervals (over replications) of the percentiles of a group of calls."""
    finished = calls[calls["latency_ms"].notna()]
    cis = quantile_cis(finished["latency_ms"], finished["replication"], list(QUANTILES.values()))
    return {name: [ci.low, ci.high] for name, ci in zip(QUANTILES, cis, strict=True)}


def run_summaries(rows: pd.DataFrame, stats: pd.DataFrame) -> list[dict[str, Any]]:
    """One object per (profile, design, mode, call) of the cold and warm runs."""
    if rows.empty:
        return []
    out = []
    calls_measured = measured(rows)
    phase_columns = [c for c in rows.columns if c.startswith(PHASE)]
    for (profile, design, mode, call), calls in calls_measured.groupby(
        ["profile", "design", "mode", "call"], sort=False
    ):
        run_stats = stats[
            (stats["profile"] == profile) & (stats["design"] == design) & (stats["role"] == mode)
        ]
        latency = latency_stats(calls)
        out.append(
            {
                "profile": profile,
                "design": design,
                "mode": mode,
                "call": call,
                "n": latency["n"],
                **{k: latency[k] for k in QUANTILES},
                "max_ms": latency["max_ms"],
                "mean_ms": latency["mean_ms"],
                "ci95": intervals(calls),
                "errors": int((calls["outcome"] != "ok").sum()),
                "phases": {
                    c.removeprefix(PHASE): float(calls[c].median())
                    for c in phase_columns
                    if calls[c].abs().sum() > 0
                },
                "ops": {
                    k: float(calls[f"ops_{k}"].mean()) for k in OP_KINDS if f"ops_{k}" in calls
                },
                "events_emitted": int(run_stats["events_emitted"].sum()),
                "events_delivered": int(run_stats["events_delivered"].sum()),
            }
        )
    return out


def build(
    command: str,
    suite: dict[str, Any],
    seeds: dict[str, int],
    rows: pd.DataFrame,
    runs: list[dict[str, Any]],
    sections: dict[str, Any],
    complete: bool,
    inputs: Iterable[Path],
) -> dict[str, Any]:
    """The whole document; `runs` are the run summaries (`run_summaries`), `inputs` the
    scenario and profile files the run read."""
    return clean(
        {
            "schema_version": SCHEMA_VERSION,
            "generator": DISTRIBUTION,
            "command": command,
            "complete": complete,
            "provenance": provenance(inputs),
            "profiles": sorted(set(rows["profile"])) if not rows.empty else [],
            "seeds": seeds,
            "replications": suite["replications"],
            "suite": suite,
            "runs": runs,
            **sections,
        }
    )


def write(results: dict[str, Any], path: Path) -> Path:
    return write_text(path, json.dumps(results, indent=1, sort_keys=False) + "\n")


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded

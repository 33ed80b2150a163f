"""The Markdown report of `make bench`: each table with a sentence on what it shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd


def fmt(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, float):
        if round(value, digits) == 0:
            value = 0.0  # no "-0"
        return f"{value:,.{digits}f}"
    return str(value)


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def ci(row: dict[str, Any], key: str = "measured_ms") -> str:
    return (
        f"{fmt(row[key])} [{fmt(row['ci_low_ms'])}, {fmt(row['ci_high_ms'])}]"
        if row.get("ci_low_ms") is not None
        else fmt(row[key])
    )


def comparison_table(rows: list[dict[str, Any]], what: str) -> str:
    return table(
        ["row", "mode", "seed", f"measured {what} [95% CI]", "verdict", "why (from the model)"],
        [[r["row"], r["mode"], r["seed"], ci(r), _verdict(r), r["explanation"]] for r in rows],
    )


def _verdict(row: dict[str, Any]) -> str:
    label = row.get("robustness")
    return f"**{row['verdict']}**" + (f"; {label}" if label else "")


def verdict_sentence(rows: list[dict[str, Any]]) -> str:
    judged = [r for r in rows if r["verdict"] in ("within", "below", "above")]
    within = sum(r["verdict"] == "within" for r in judged)
    below = sum(r["verdict"] == "below" for r in judged)
    above = sum(r["verdict"] == "above" for r in judged)
    return (
        f"{within} of {len(judged)} cells fall within the seed's range, {below} below it and "
        f"{above} above it."
    )


def frame_table(frame: pd.DataFrame, columns: dict[str, str], digits: int = 0) -> str:
    return table(
        list(columns.values()),
        [
            [fmt(r[c], digits) if not isinstance(r[c], str) else r[c] for c in columns]
            for _, r in frame.iterrows()
        ],
    )

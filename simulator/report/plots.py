"""Figures for the report: phase waterfalls, latency CDFs, ablation bars, tails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulator.measure.rows import phase_column, run_async, select
from simulator.runtime.phases import PHASES
from simulator.whole_files import writing

COLORS = [plt.get_cmap("tab20")(i) for i in range(20)]


def _save(fig: Any, path: Path, layout: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout:
        fig.tight_layout()
    with writing(path) as partial:
        fig.savefig(partial, dpi=110)
    plt.close(fig)
    return path


def waterfall(rows: pd.DataFrame, designs: list[str], path: Path, title: str) -> Path:
    """Per-phase p50 of run_async, laid end to end, for each design, cold and warm."""
    fig, axes = plt.subplots(2, 1, figsize=(10, 1.2 + 1.1 * len(designs) * 2), sharex=True)
    for ax, mode in zip(axes, ("cold", "warm"), strict=True):
        for y, design in enumerate(designs):
            calls = run_async(rows, design, mode)
            start = 0.0
            for i, phase in enumerate(PHASES):
                column = phase_column(phase)
                width = float(calls[column].median()) if column in calls and len(calls) else 0.0
                if width > 0.05:
                    ax.barh(
                        y,
                        width,
                        left=start,
                        color=COLORS[i % len(COLORS)],
                        label=phase if y == 0 or design == designs[-1] else None,
                        edgecolor="white",
                    )
                    start += width
            total = float(calls["latency_ms"].median()) if len(calls) else 0.0
            ax.plot([total], [y], marker="|", markersize=22, color="black")
            ax.text(total, y + 0.35, f" p50 {total:.0f} ms", fontsize=8)
        ax.set_yticks(range(len(designs)), designs)
        ax.invert_yaxis()
        ax.set_title(f"{mode}: phase medians end to end (| = p50 of the whole call)", fontsize=10)
    unique: dict[str, Any] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        unique.update(zip(labels, handles, strict=False))
    axes[1].set_xlabel("ms")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    fig.legend(unique.values(), unique.keys(), fontsize=7, ncol=6, loc="lower center")
    return _save(fig, path, layout=False)


def cdfs(rows: pd.DataFrame, designs: list[str], mode: str, path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, design in enumerate(designs):
        latency = np.sort(
            select(rows, design=design, call="run_async", mode=mode)["latency_ms"]
            .dropna()
            .to_numpy()
        )
        if len(latency):
            ax.step(
                latency,
                np.arange(1, len(latency) + 1) / len(latency),
                where="post",
                label=design,
                color=COLORS[i % len(COLORS)],
                linewidth=2.2 if design in ("baseline", designs[-1]) else 1.0,
            )
    ax.set_xscale("log")
    ax.set_xlabel("run_async latency, ms (log scale)")
    ax.set_ylabel("fraction of calls")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title, fontsize=11)
    return _save(fig, path)


def ablation(table: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Measured reduction of each change (bars, 95 % interval) beside the seed's claimed range."""
    rows = [r for r in table if r["table"] == "expected"]
    names = list(dict.fromkeys(r["row"] for r in rows))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.38
    for k, mode in enumerate(("cold", "warm")):
        mine = {r["row"]: r for r in rows if r["mode"] == mode}
        x = np.arange(len(names)) + (k - 0.5) * width
        values = [mine[n]["measured_ms"] for n in names]
        errors = np.array(
            [
                [
                    mine[n]["measured_ms"] - mine[n]["ci_low_ms"],
                    mine[n]["ci_high_ms"] - mine[n]["measured_ms"],
                ]
                for n in names
            ]
        ).T
        ax.bar(
            x,
            values,
            width,
            yerr=np.clip(errors, 0, None),
            capsize=3,
            color=COLORS[2 * k],
            label=f"measured, {mode}",
        )
        for xi, n in zip(x, names, strict=True):
            ax.plot(
                [xi, xi],
                [mine[n]["seed_low_ms"], mine[n]["seed_high_ms"]],
                color="black",
                linewidth=6,
                alpha=0.25,
                solid_capstyle="butt",
                label="seed's claimed range" if (k == 0 and n == names[0]) else None,
            )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel("p50 reduction of run_async, ms")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=11)
    return _save(fig, path)


def tails_plot(table: pd.DataFrame, path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.8))
    columns = ["p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"]
    x = np.arange(len(columns))
    for i, (_, row) in enumerate(table.iterrows()):
        ax.plot(
            x,
            [row[c] for c in columns],
            marker="o",
            label=row["design"],
            color=COLORS[i % len(COLORS)],
        )
    ax.axhline(2000, color="red", linestyle="--", linewidth=1, label="2 s")
    ax.set_yscale("log")
    ax.set_xticks(x, ["p50", "p95", "p99", "p99.9", "max"])
    ax.set_ylabel("run_async latency, ms (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=11)
    return _save(fig, path)


def tradeoff(points: pd.DataFrame, path: Path, title: str) -> Path:
    """Each design a point: run_async p50 against events lost or never emitted (orphans as
    marker size)."""
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, (_, p) in enumerate(points.iterrows()):
        ax.scatter(
            p["p50_ms"],
            p["lost_share"] * 100,
            s=40 + 40 * p["orphaned"],
            color=COLORS[i % len(COLORS)],
            label=p["design"],
            edgecolor="black",
        )
    ax.set_xlabel("run_async p50, cold, ms")
    ax.set_ylabel("events lost or never emitted, % (all faults)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title, fontsize=11)
    return _save(fig, path)

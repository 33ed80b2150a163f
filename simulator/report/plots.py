"""Figures for the report: phase waterfalls, latency CDFs, ablation bars, tails, the trade-off
chart and the fault heatmaps.

Each figure makes one point, which its caller states in the title. The designs the point is
about (`simulator.report.highlight.featured`) are drawn in colour and named; the others are grey.
Designs whose curves coincide share one line whose label names them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from simulator.measure.rows import phase_column, run_async
from simulator.report.highlight import (
    BASELINE,
    BEST,
    FASTEST,
    FLOOR_ROLE,
    SEED_SET,
    coinciding,
    group_label,
)
from simulator.runtime.phases import PHASES
from simulator.whole_files import writing

COLORS = [plt.get_cmap("tab20")(i) for i in range(20)]
ROLE_COLORS = {
    BASELINE: "tab:blue",
    SEED_SET: "tab:orange",
    BEST: "tab:green",
    FASTEST: "tab:green",
    FLOOR_ROLE: "black",
}
GREY = "0.75"
#: x = 1/(1 - percentile) on a log axis, as HdrHistogram plots latency: each tick a nine more.
PERCENTILE_TICKS = {1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10000: "99.99%"}


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with writing(path) as partial:
        fig.savefig(partial, dpi=110, bbox_inches="tight")  # keeps legends outside the axes
    plt.close(fig)
    return path


def waterfall(rows: pd.DataFrame, designs: list[str], path: Path, title: str) -> Path:
    """Per-phase p50 of run_async, laid end to end, for each design, cold and warm; a phase
    wide enough is named on its bar."""
    span = max(
        (
            float(run_async(rows, d, m)["latency_ms"].median())
            for d in designs
            for m in ("cold", "warm")
        ),
        default=0.0,
    )
    fig, axes = plt.subplots(2, 1, figsize=(10, 1.2 + 1.1 * len(designs) * 2), sharex=True)
    for ax, mode in zip(axes, ("cold", "warm"), strict=True):
        for y, design in enumerate(designs):
            calls = run_async(rows, design, mode)
            start = 0.0
            for i, phase in enumerate(PHASES):
                column = phase_column(phase)
                width = float(calls[column].median()) if column in calls and len(calls) else 0.0
                if width > 0.05:
                    color = COLORS[i % len(COLORS)]
                    ax.barh(y, width, left=start, color=color, label=phase, edgecolor="white")
                    if width > 0.12 * span:
                        ax.text(start + width / 2, y, phase, ha="center", va="center", fontsize=7)
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
    return _save(fig, path)


@dataclass(frozen=True)
class Lines:
    """The sorted latencies of several designs, to draw as one line per group of designs whose
    latencies coincide (within `tolerance`, see `coinciding`)."""

    curves: dict[str, np.ndarray]
    roles: dict[str, str]  # the featured designs and their roles, in the order of the roles
    tolerance: float = 0.0

    def groups(self) -> tuple[list[list[str]], list[list[str]]]:
        """(the groups of featured designs, in the order of their roles; the other groups)."""
        groups = coinciding(self.curves, self.tolerance)
        mine = [g for g in groups if any(d in self.roles for d in g)]
        order = list(self.roles)
        mine.sort(key=lambda g: min(order.index(d) for d in g if d in self.roles))
        return mine, [g for g in groups if g not in mine]

    def role_of(self, group: list[str]) -> str:
        """The first role of the featured designs in the group."""
        return next(self.roles[d] for d in self.roles if d in group)

    def share_a_line(self, role: str, other: str) -> bool:
        """Whether the designs of two roles coincide, and so are drawn as one line."""
        mine, _ = self.groups()
        return any({role, other} <= {self.roles[d] for d in g if d in self.roles} for g in mine)


Draw = Callable[[Axes, np.ndarray, dict[str, Any]], None]


def _draw_lines(ax: Axes, lines: Lines, draw: Draw, summary: Callable[[np.ndarray], str]) -> None:
    """Every group of designs as one line: the featured ones in their role's colour, labelled
    with every design they stand for and `summary` of their values, each narrower than the one
    before; the rest grey."""
    mine, others = lines.groups()
    for group in others:
        draw(ax, lines.curves[group[0]], {"color": GREY, "linewidth": 0.9, "zorder": 1})
    if others:
        ax.plot([], [], color=GREY, label=f"{sum(map(len, others))} other designs, in grey")
    for order, group in enumerate(mine):
        role = lines.role_of(group)
        values = lines.curves[group[0]]
        draw(
            ax,
            values,
            {
                "color": ROLE_COLORS[role],
                # each featured line narrower than the one before, so lines that nearly
                # coincide show as stripes instead of hiding one another
                "linewidth": max(1.0, 3.2 - 0.8 * order),
                "linestyle": "--" if role == FLOOR_ROLE else "-",
                "zorder": 3,
                "label": f"{group_label(group, lines.roles, lines.tolerance)}: {summary(values)}",
            },
        )
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), fontsize=8, frameon=False)


def _cdf(ax: Axes, values: np.ndarray, style: dict[str, Any]) -> None:
    ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", **style)


def cdfs(lines: Lines, path: Path, title: str) -> Path:
    """The distribution of run_async latency per group of designs (log time axis)."""
    fig, ax = plt.subplots(figsize=(9, 5))
    _draw_lines(ax, lines, _cdf, lambda v: f"p50 {np.median(v):,.0f} ms")
    ax.set_xscale("log")
    ax.set_xlabel("run_async latency, ms (log scale)")
    ax.set_ylabel("fraction of calls")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _by_percentile(ax: Axes, values: np.ndarray, style: dict[str, Any]) -> None:
    """Latency against 1/(1 - percentile): the i-th of n sorted calls sits at n/(n - i)."""
    n = len(values)
    ax.step(n / (n - np.arange(n)), values, where="post", **style)


def tails_plot(lines: Lines, path: Path, title: str, threshold_ms: float) -> Path:
    """run_async latency by percentile, on HdrHistogram's log percentile axis."""
    fig, ax = plt.subplots(figsize=(9, 5))
    _draw_lines(ax, lines, _by_percentile, lambda v: f"p99 {np.quantile(v, 0.99):,.0f} ms")
    if any(len(v) and v[-1] >= threshold_ms / 2 for v in lines.curves.values()):
        ax.axhline(threshold_ms, color="red", linestyle=":", linewidth=1)
        ax.text(1, threshold_ms, f" {threshold_ms / 1000:g} s", color="red", va="bottom")
    longest = max((len(v) for v in lines.curves.values()), default=1)
    ticks = {x: text for x, text in PERCENTILE_TICKS.items() if x <= longest}
    ax.set_xscale("log")
    ax.set_xticks(list(ticks), list(ticks.values()))
    ax.minorticks_off()
    ax.set_xlim(1, 1.2 * max(longest, 2))  # the slowest call sits at x = n, off the border
    ax.set_xlabel("percentile (log scale of 1 / (1 - percentile))")
    ax.set_ylabel("run_async latency, ms")
    ax.grid(True, alpha=0.3)
    ax.set_title(title, fontsize=10)
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
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _spots(points: pd.DataFrame, x: str, y: str, near: float = 0.15) -> list[list[int]]:
    """The points in groups that sit at one spot of the chart (within `near` of each axis's
    span of the group's first point), to be named by one block of labels."""
    spans = [max(float(points[c].max() - points[c].min()), 1e-9) for c in (x, y)]
    spots: list[list[int]] = []
    for i in points.sort_values([x, y]).index:
        home = next(
            (
                s
                for s in spots
                if all(
                    abs(points.loc[i, c] - points.loc[s[0], c]) <= near * span
                    for c, span in zip((x, y), spans, strict=True)
                )
            ),
            None,
        )
        if home is None:
            spots.append([i])
        else:
            home.append(i)
    return spots


def _name_spot(ax: Axes, spot: pd.DataFrame, roles: dict[str, str], right: bool) -> None:
    """One line per design of a spot, top to bottom as their points, beside the spot: the
    featured designs in bold with their role."""
    order = spot.sort_values("lost_percent", ascending=False)
    x = order["p50_ms"].max() if right else order["p50_ms"].min()
    y = order["lost_percent"].mean()
    for k, design in enumerate(order["design"]):
        ax.annotate(
            group_label([str(design)], roles),
            (x, y),
            xytext=(9 if right else -9, 4.5 * (len(order) - 1) - 9 * k),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=7,
            fontweight="bold" if design in roles else "normal",
            color="black" if design in roles else "0.35",
        )


def tradeoff(points: pd.DataFrame, roles: dict[str, str], path: Path, title: str) -> Path:
    """Each design a point, run_async p50 against the share of events undelivered or never
    emitted, named on the chart (designs at one spot share a block of labels); featured designs in
    colour."""
    fig, ax = plt.subplots(figsize=(10, 6))
    for _, p in points.iterrows():
        role = roles.get(p["design"])
        ax.scatter(
            p["p50_ms"],
            p["lost_percent"],
            s=80 if role else 40,
            color=ROLE_COLORS[role] if role else GREY,
            edgecolor="black",
            zorder=3 if role else 2,
        )
    middle = (points["p50_ms"].min() + points["p50_ms"].max()) / 2
    for spot in _spots(points, "p50_ms", "lost_percent"):
        mine = points.loc[spot]
        _name_spot(ax, mine, roles, right=bool(mine["p50_ms"].mean() <= middle))
    ax.margins(x=0.1, y=0.15)
    ax.set_xlabel("run_async p50, cold, ms")
    ax.set_ylabel("events undelivered or never emitted, % (all faults)")
    ax.grid(True, alpha=0.3)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


@dataclass(frozen=True)
class Panel:
    """One count of a heatmap figure: designs (rows) by faults (columns)."""

    title: str
    counts: pd.DataFrame
    colormap: str = "Reds"


def heatmaps(panels: list[Panel], roles: dict[str, str], path: Path, title: str) -> Path:
    """One heatmap per count, designs by faults, every count written in its cell (a dot for
    zero), each panel on its own scale with its colour bar; the featured designs' names in
    bold."""
    columns = 3
    rows = -(-len(panels) // columns)
    designs = list(panels[0].counts.index)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.2 * columns + 3, (0.22 * len(designs) + 1.6) * rows),
        sharey=True,
        squeeze=False,
    )
    for ax, panel in zip(axes.flat, panels, strict=False):
        values = panel.counts.to_numpy(dtype=float)
        top = max(float(values.max()), 1.0)
        image = ax.imshow(values, cmap=panel.colormap, vmin=0, vmax=top, aspect="auto")
        fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02).ax.tick_params(labelsize=6)
        for (i, j), value in np.ndenumerate(values):
            shade = "white" if value > 0.6 * top else "black"
            text = f"{value:.0f}" if value else "·"
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color=shade)
        ax.set_xticks(range(values.shape[1]), list(panel.counts.columns), rotation=50, ha="right")
        ax.tick_params(labelsize=7)
        ax.set_title(panel.title, fontsize=9)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(range(len(designs)), [group_label([d], roles) for d in designs])
        for design, label in zip(designs, ax.get_yticklabels(), strict=True):
            label.set_fontweight("bold" if design in roles else "normal")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)

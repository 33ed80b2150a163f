"""The report of a sweep: tornado charts of the key quantities, and which design wins where.

Key quantities, from each point's summary: the baseline's run_async p50, cold and warm, and each
other design's saving over the baseline (baseline p50 minus its p50); in a sweep without the
baseline, each design's p50. A tornado chart shows, for each parameter moved alone across its
range, the span of a quantity; the widest bars are the guesses the quantity depends on most. The
map shows, over the two parameters the baseline's cold p50 (without the baseline: the first
design's) depends on most, which design is fastest cold at each Latin-hypercube point. A point
where a design answered no call (its runs too short for the latencies there) has no p50: the
report lists those points, and the quantities leave them out.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulator.experiments.sweep import P50, PARAM, SEP
from simulator.model.sweep_spec import SweepSpec
from simulator.report.markdown import fmt, table
from simulator.whole_files import write_text, writing

COLD, WARM = "cold", "warm"
#: The columns of a tornado table (also of an empty one: no parameter was moved alone).
TORNADO = ("parameter", "range", "at_low", "at_high", "min", "max", "span", "nominal")
#: Points with no answered call listed in the README; the rest are counted.
MAX_LISTED = 20


def p50(frame: pd.DataFrame, design: str, mode: str) -> pd.Series | None:
    """A design's p50 at every point, NaN where it answered no call (stored as None)."""
    column = f"{P50}{design}{SEP}{mode}"
    if column not in frame:
        return None
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def quantities(spec: SweepSpec, frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The key quantities at every point, by name: per mode, the baseline's p50 and each other
    design's saving over it; in a sweep without the baseline, each design's p50."""
    out: dict[str, pd.Series] = {}
    for mode in spec.modes:
        base = p50(frame, "baseline", mode)
        if base is not None:
            out[f"baseline p50, {mode}"] = base
        for design in spec.designs:
            other = p50(frame, design, mode)
            if design == "baseline" or other is None:
                continue
            if base is None:
                out[f"{design} p50, {mode}"] = other
            else:
                out[f"{design} saves, {mode}"] = base - other
    return out


def tornado(spec: SweepSpec, frame: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    """Per parameter moved alone: the quantity at the low and the high end and its span (over
    the points that have it), widest first; no rows when no parameter was moved alone."""
    at_nominal = values[frame["kind"] == "nominal"]
    nominal = float(at_nominal.iloc[0]) if len(at_nominal) else float("nan")
    rows = []
    for parameter in spec.parameters:
        mine = frame["varied"] == parameter.name
        if not mine.any():
            continue
        at = values[mine]
        levels = frame.loc[mine, PARAM + parameter.name]
        low, high = at[levels.idxmin()], at[levels.idxmax()]
        rows.append(
            {
                "parameter": parameter.name,
                "range": f"{parameter.low:g}-{parameter.high:g}",
                "at_low": float(low),
                "at_high": float(high),
                "min": float(at.min()),
                "max": float(at.max()),
                "span": float(at.max() - at.min()),
                "nominal": nominal,
            }
        )
    return pd.DataFrame(rows, columns=list(TORNADO)).sort_values(
        "span", ascending=False, ignore_index=True
    )


def plot_tornado(name: str, frame: pd.DataFrame, path: Path, top: int = 8) -> Path:
    """One quantity: a bar per parameter from the lowest to the highest value it gives, widest
    first, with the nominal value marked."""
    shown = frame.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.35 * len(shown)))
    y = np.arange(len(shown))
    ax.barh(y, shown["max"] - shown["min"], left=shown["min"], color="#4C72B0")
    if len(shown) and np.isfinite(shown["nominal"].iloc[0]):
        ax.axvline(float(shown["nominal"].iloc[0]), color="black", linewidth=1, label="nominal")
    ax.set_yticks(y, shown["parameter"], fontsize=8)
    ax.set_xlabel("ms")
    ax.set_title(f"{name}: the span each guess gives across its range", fontsize=9)
    fig.tight_layout()
    with writing(path) as partial:
        fig.savefig(partial, dpi=110)
    plt.close(fig)
    return path


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


def winners(spec: SweepSpec, frame: pd.DataFrame, mode: str = COLD) -> pd.Series:
    """The fastest design at each point (by p50), of those that answered there; points where
    none did are left out."""
    found = {d: p50(frame, d, mode) for d in spec.designs}
    by_design = pd.DataFrame({d: s for d, s in found.items() if s is not None}, index=frame.index)
    return by_design.dropna(how="all").idxmin(axis=1)


def _axis_label(spec: SweepSpec, name: str) -> str:
    """A parameter's name, with the unit of a latency (settings have their own units)."""
    setting = next(p.setting for p in spec.parameters if p.name == name)
    return name if setting else f"{name}, ms"


def plot_winners(spec: SweepSpec, frame: pd.DataFrame, x: str, y: str, path: Path) -> Path | None:
    points = frame[frame["kind"] == "lhs"]
    won = winners(spec, points)
    if won.empty:
        return None
    points = points.loc[won.index]
    fig, ax = plt.subplots(figsize=(8, 6))
    for i, design in enumerate(dict.fromkeys(won)):
        mine = won == design
        ax.scatter(
            points.loc[mine, PARAM + x],
            points.loc[mine, PARAM + y],
            s=18,
            color=plt.get_cmap("tab10")(i % 10),
            label=f"{design} ({int(mine.sum())})",
        )
    scales = {p.name: p.scale for p in spec.parameters}
    ax.set_xscale(scales.get(x, "log"))
    ax.set_yscale(scales.get(y, "log"))
    ax.set_xlabel(_axis_label(spec, x))
    ax.set_ylabel(_axis_label(spec, y))
    ax.legend(
        fontsize=8,
        title="fastest cold run_async",
        title_fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
    )
    ax.set_title(
        f"Which design is fastest cold, over {x} and {y} (other guesses vary too)", fontsize=9
    )
    fig.tight_layout()
    with writing(path) as partial:
        fig.savefig(partial, dpi=110)
    plt.close(fig)
    return path


def write_sweep_report(
    spec: SweepSpec, frame: pd.DataFrame, out: Path, complete: bool
) -> list[Path]:
    """README.md and figures for a sweep's summaries; answers the files written."""
    figures = out / "figures"  # made by the first figure written, if any
    found = quantities(spec, frame)
    tables = {name: tornado(spec, frame, values) for name, values in found.items()}
    tables = {name: table_ for name, table_ in tables.items() if table_["span"].max() > 0}
    written: list[Path] = []
    lines = [*_intro(spec, frame, complete), *_unanswered(spec, frame)]
    lines += ["## What each key quantity depends on", "", _depends_on(spec, tables), ""]
    for name, frame_t in tables.items():
        path = plot_tornado(name, frame_t, figures / f"tornado-{_slug(name)}.png")
        written.append(path)
        lines += _tornado_lines(name, frame_t, path)
    axes = _map_axes(spec, tables)
    if axes is not None:
        x, y, why = axes
        won = plot_winners(spec, frame, x, y, figures / "winners.png")
        if won is not None:
            written.append(won)
            counts = winners(spec, frame[frame["kind"] == "lhs"]).value_counts()
            lines += [
                "## Which design wins where",
                "",
                f"The fastest design, cold, at each Latin-hypercube point, over `{x}` and `{y}` "
                f"({why}): " + ", ".join(f"`{d}` at {n} points" for d, n in counts.items()) + ".",
                "",
                "![winners](figures/winners.png)",
                "",
            ]
    readme = write_text(out / "README.md", "\n".join(lines))
    return [*written, readme]


def _intro(spec: SweepSpec, frame: pd.DataFrame, complete: bool) -> list[str]:
    alone = f"each {spec.oat_levels} levels" if spec.oat_levels else "none moved"
    return [
        f"# Sweep `{spec.name}`",
        "",
        ("" if complete else "**This sweep did not finish: the tables hold the points run.**\n"),
        f"Profile `{spec.profile}`; designs {', '.join(f'`{d}`' for d in spec.designs)}; "
        f"{len(spec.parameters)} parameters, {alone} one at a time, and "
        f"{spec.lhs_points} Latin-hypercube points; {spec.duration_s:g} s of arrivals per mode, "
        f"{spec.replications} replication(s), seed {spec.seed}; {len(frame)} points in "
        "`points/` (Parquet, one summary row per point).",
        "",
    ]


def _depends_on(spec: SweepSpec, tables: dict[str, pd.DataFrame]) -> str:
    if not spec.oat_levels:
        return "No parameter was moved alone in this sweep (`oat_levels = 0`): no tornado charts."
    if not tables:
        return (
            "No key quantity changed with a parameter moved alone, at the points where it was "
            "measured."
        )
    return (
        "For each quantity, the parameters moved alone whose range moves it most: its value at "
        "the low and the high end of the parameter's range, and the span."
    )


def _unanswered(spec: SweepSpec, frame: pd.DataFrame) -> list[str]:
    """The points where a design answered no call in a mode, so that it has no p50 there."""
    missing: dict[int, list[str]] = {}
    for mode in spec.modes:
        for design in spec.designs:
            values = p50(frame, design, mode)
            if values is None:
                continue
            for i in frame.index[values.isna()]:
                missing.setdefault(int(i), []).append(f"`{design}` {mode}")
    if not missing:
        return []
    listed = [
        f"{int(frame.at[i, 'point'])} ({frame.at[i, 'kind']}): {', '.join(which)}"
        for i, which in list(missing.items())[:MAX_LISTED]
    ]
    more = f"; and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
    return [
        f"**{len(missing)} of {len(frame)} points have no answered run_async call** for some "
        "design and mode, so no p50 there, and the quantities below leave them out (lengthen "
        "`duration_s` or `drain_s`: a run's calls must answer before it ends, and a warm call "
        "must arrive after its pre-warming call). Point (kind): design and mode: "
        + "; ".join(listed)
        + more
        + ".",
        "",
    ]


def _tornado_lines(name: str, frame_t: pd.DataFrame, path: Path) -> list[str]:
    return [
        f"**{name}** (nominal {fmt(float(frame_t['nominal'].iloc[0]) if len(frame_t) else float('nan'))} ms)",
        "",
        table(
            ["parameter", "range", "at low", "at high", "span"],
            [
                [
                    f"`{r['parameter']}`",
                    r["range"],
                    fmt(r["at_low"]),
                    fmt(r["at_high"]),
                    fmt(r["span"]),
                ]
                for _, r in frame_t.head(6).iterrows()
            ],
        ),
        "",
        f"![{name}](figures/{path.name})",
        "",
    ]


def _map_axes(spec: SweepSpec, tables: dict[str, pd.DataFrame]) -> tuple[str, str, str] | None:
    """The two parameters of the map of winners, and why those: the two the baseline's cold
    p50 (in a sweep without it, the first design's) depends on most; with no parameter moved
    alone to rank them, the first two."""
    design = "baseline" if "baseline" in spec.designs else spec.designs[0]
    ranked = tables.get(f"{design} p50, {COLD}")
    if ranked is not None and len(ranked) >= 2:
        x, y = str(ranked["parameter"].iloc[0]), str(ranked["parameter"].iloc[1])
        return x, y, f"the two parameters the cold p50 of `{design}` depends on most"
    if not spec.oat_levels and len(spec.parameters) >= 2:
        x, y = spec.parameters[0].name, spec.parameters[1].name
        return x, y, "the sweep's first two parameters: none was moved alone to rank them"
    return None

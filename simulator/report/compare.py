"""Two bench runs side by side, as pyperf's `compare_to` puts two benchmark files.

For every (profile, design, mode, call) both runs measured: the change of p50, p95 and p99 with
a 95 % bootstrap interval over replications, labelled *slower* or *faster* only when the
interval excludes zero and the change is at least `min_change` of the first run's figure. For
every (profile, design, fault) of the fault matrix: every correctness count that changed.
Intervals need the raw rows (`rows.parquet` beside `results.json`); without them a latency
change is shown with no verdict.

Each `results.json` must validate against `results.schema.json`, and the rows beside it must be
its own: the groups of calls it lists, with its counts and quantiles. Two runs with nothing in
common (or nothing of what `--fail-on` gates) are refused rather than passed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

from simulator.errors import ConfigError, InputError, shown
from simulator.measure.correctness import SAFETY
from simulator.measure.rows import measured
from simulator.measure.stats import Estimate, quantile_changes
from simulator.report.markdown import table
from simulator.report.results import SCHEMA_VERSION, schema

COMPARED = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}
GROUP = ("profile", "design", "mode", "call")
ROW_COLUMNS = (*GROUP, "role", "replication", "latency_ms")
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
    source = f"{option}: {str(path)!r}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except OSError as error:
        raise InputError(f"{option}: cannot read {str(path)!r}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"{source} is not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("generator") != "runasync-harness":
        raise InputError(f"{source} is not a results.json of `simulator bench`")
    found = document.get("schema_version")
    if found != SCHEMA_VERSION:
        raise InputError(
            f"{source}: field 'schema_version': bad value {shown(found)}; "
            f"allowed: {SCHEMA_VERSION} (rerun `make bench` with this version)"
        )
    _check_schema(source, document)
    seen: set[tuple[str, ...]] = set()
    for entry in document["runs"]:
        key = tuple(entry[k] for k in GROUP)
        if key in seen:
            raise InputError(f"{source}: field 'runs' lists {_group_text(key)} twice")
        seen.add(key)
    run = BenchRun(path, document, _read_rows(option, path.parent / "rows.parquet"))
    _check_rows_match(option, run)
    return run


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_schema(source: str, document: dict[str, Any]) -> None:
    """The document against results.schema.json; its first error as one line naming the JSON
    path of the bad field."""
    error = best_match(Draft202012Validator(schema()).iter_errors(document))
    if error is None:
        return
    allowed = _allowed(str(error.validator), error.validator_value)
    if allowed is None:  # required, additionalProperties: the message names the field
        message = error.message if len(error.message) <= 200 else error.message[:195] + " ..."
        raise InputError(f"{source}: at {error.json_path}: {message}")
    raise ConfigError(source, error.json_path, error.instance, f"allowed: {allowed}")


def _allowed(validator: str, value: Any) -> str | None:
    """What a schema keyword allows, in words (None: the keyword's own message says it)."""
    if validator == "type":
        return "JSON type " + " or ".join([value] if isinstance(value, str) else value)
    if validator in ("const", "pattern"):
        return repr(value)
    if validator == "enum":
        return "one of " + ", ".join(map(repr, value))
    if validator == "minimum":
        return f"a number >= {value}"
    if validator in ("minItems", "maxItems"):
        return f"a list of {'at least' if validator == 'minItems' else 'at most'} {value} items"
    return None


def _read_rows(option: str, path: Path) -> pd.DataFrame | None:
    """The raw rows beside a results.json (None when there are none), with the columns a
    comparison reads."""
    if not path.exists():
        return None
    source = f"{option}: {str(path)!r}"
    if not path.is_file():
        raise InputError(f"{source} is not a file; a bench run's rows are one Parquet file")
    try:
        rows = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise InputError(f"{source} is not readable Parquet ({error})") from None
    missing = [c for c in ROW_COLUMNS if c not in rows.columns]
    if missing:
        raise InputError(
            f"{source} lacks the columns {missing}; the rows of a bench run have "
            f"{list(ROW_COLUMNS)} among others"
        )
    for column in ("replication", "latency_ms"):
        if not pd.api.types.is_numeric_dtype(rows[column]):
            raise InputError(
                f"{source}: column {column!r} holds {rows[column].dtype}; allowed: numbers"
            )
    return rows[list(ROW_COLUMNS)]


def _check_rows_match(option: str, run: BenchRun) -> None:
    """The rows beside a results.json must be the calls it summarises: another run's rows (a
    file copied beside the wrong results.json) would give intervals and verdicts about calls
    its figures do not describe."""
    problem = _rows_mismatch(run)
    if problem is not None:
        raise InputError(
            f"{option}: {str(run.path.parent / 'rows.parquet')!r} is not the rows of "
            f"{str(run.path)!r} ({problem}); allowed: the rows.parquet written with it"
        )


def _rows_mismatch(run: BenchRun) -> str | None:
    """Where the rows differ from the run summaries: the groups of calls, then in each the
    number of measured calls and their p50, p95 and p99."""
    if run.rows is None:
        return None
    calls = measured(run.rows)
    latencies = {
        tuple(str(k) for k in key): group["latency_ms"].dropna().to_numpy(dtype=float)
        for key, group in calls.groupby(list(GROUP), sort=False)
    }
    listed = {tuple(entry[k] for k in GROUP): entry for entry in run.document["runs"]}
    for key in latencies:
        if key not in listed:
            return f"the rows hold calls of {_group_text(key)}, which results.json does not list"
    for key, entry in listed.items():
        if key not in latencies:
            return f"results.json lists {_group_text(key)}, of which the rows hold no call"
        latency = latencies[key]
        figures = {"n": (entry["n"], len(latency))} | {
            name: (entry[name], float(np.quantile(latency, q)) if len(latency) else None)
            for name, q in COMPARED.items()
        }
        for name, (listed_figure, in_rows) in figures.items():
            if not _same(listed_figure, in_rows):
                return (
                    f"{_group_text(key)}: {name} {listed_figure} in results.json, "
                    f"{in_rows} in the rows"
                )
    return None


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _group_text(key: tuple[str, ...]) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in zip(GROUP, key, strict=True))


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
    fault matrix, or that share none of what `--fail-on` gates (which would pass unchecked)."""
    figures_b = _figures(after)
    cells_b = _cells(after)
    compared = {
        "latency": sum(figure in figures_b for figure in _figures(before)),
        "correctness": sum(cell in cells_b for cell in _cells(before)),
    }
    missing = [what for what in sorted(fail_on) if not compared[what]]
    if any(compared.values()) and not missing:
        return
    what = "" if not any(compared.values()) else f" for --fail-on {','.join(missing)}"
    raise InputError(
        f"nothing in common{what}: {_holdings(before)}; {_holdings(after)}; allowed: two bench "
        "runs that measured some of the same profiles, designs, modes and calls"
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

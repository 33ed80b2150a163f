"""The two runs `compare` reads: each `results.json`, checked against its schema, and the
`rows.parquet` beside it, checked to be its own (the groups of calls it lists, with its counts and
quantiles), so a comparison never rests on a file of another run or of another shape.
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
from simulator.measure.rows import measured
from simulator.report.results import SCHEMA_VERSION, schema

COMPARED = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}  # the quantiles compared
GROUP = ("profile", "design", "mode", "call")  # what makes a group of calls
CELL = ("profile", "design", "fault")  # what makes a cell of the fault matrix
ROW_COLUMNS = (*GROUP, "role", "replication", "latency_ms")


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
        document = json.loads(
            path.read_text(encoding="utf-8"), parse_constant=_no_constant, parse_float=_finite
        )
    except OSError as error:
        raise InputError(f"{option}: cannot read {str(path)!r}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError) as error:
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
    for field, key_fields in (("runs", GROUP), ("correctness", CELL)):
        seen: set[tuple[str, ...]] = set()
        for entry in document.get(field, []):
            key = tuple(entry[k] for k in key_fields)
            if key in seen:
                where = _group_text(key, key_fields)
                raise InputError(f"{source}: field {field!r} lists {where} twice")
            seen.add(key)
    run = BenchRun(path, document, _read_rows(option, path.parent / "rows.parquet"))
    _check_rows_match(option, run)
    return run


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range of a number")
    return value


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


def _group_text(key: tuple[str, ...], names: tuple[str, ...] = GROUP) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in zip(names, key, strict=True))


def groups(run: BenchRun) -> dict[tuple[str, ...], pd.DataFrame]:
    if run.rows is None:
        return {}
    calls = measured(run.rows)
    return {
        tuple(str(k) for k in key): group
        for key, group in calls[calls["latency_ms"].notna()].groupby(list(GROUP), sort=False)
    }

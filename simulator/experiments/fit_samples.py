"""A profile fitted to measured samples: `python -m simulator calibrate --samples FILE`.

Samples are rows of (operation, milliseconds), in CSV (header `operation,ms`) or JSON (a list of
`{"operation": ..., "ms": ...}`). Each operation's samples become a lognormal with their median
and 99th percentile (a constant when they do not vary, an empirical distribution when a lognormal
does not fit them), and the fit's quality is its Kolmogorov-Smirnov distance to the samples. An
operation every profile must price and the samples do not cover is taken from a base profile,
and says so. The engine's CPU work (`compute.*`) is left to the engine's own costs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import InputError
from simulator.experiments.calibrate import dist_lines, toml_string
from simulator.model.distributions import Constant, Distribution, Empirical, LogNormal
from simulator.model.fields import is_number
from simulator.model.profile import KNOWN_OPS, REQUIRED_OPS, Profile, load_profile
from simulator.whole_files import writing

#: Above this Kolmogorov-Smirnov distance the lognormal is not kept: the samples are.
KS_LIMIT = 0.1
MAX_SAMPLES = 1_000_000


@dataclass(frozen=True)
class Fitted:
    op: str
    dist: Distribution
    samples: int
    ks: float

    @property
    def source(self) -> str:
        return (
            f"MEASURED: {self.samples} samples, {type(self.dist).__name__.lower()} fit, "
            f"Kolmogorov-Smirnov distance {self.ks:.3f}"
        )


def read_samples(path: Path) -> dict[str, list[float]]:
    """The samples of a CSV or JSON file, by operation; a bad row is a one-line error."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark, as spreadsheets write, is allowed
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: byte {data[error.start]:#04x} at offset {error.start} is not UTF-8; "
            "allowed: a UTF-8 text file"
        ) from None
    if path.suffix == ".json":
        pairs = _json_pairs(path, text)
    elif path.suffix == ".csv":
        pairs = _csv_pairs(path, text)
    else:
        raise InputError(f"{path}: samples must be a .csv or .json file")
    out: dict[str, list[float]] = {}
    for i, (op, ms) in enumerate(pairs, 1):
        if op not in KNOWN_OPS:
            raise InputError(f"{path}: row {i}: operation {op!r}; allowed: {', '.join(KNOWN_OPS)}")
        value = float(ms) if ms is not None and is_number(ms) else -1.0
        if value < 0:
            raise InputError(f"{path}: row {i}: ms {ms!r}; allowed: a finite number >= 0")
        out.setdefault(str(op), []).append(value)
    if not out:
        raise InputError(f"{path}: no samples")
    if sum(len(v) for v in out.values()) > MAX_SAMPLES:
        raise InputError(f"{path}: more than {MAX_SAMPLES} samples")
    return out


def _json_pairs(path: Path, text: str) -> list[tuple[Any, Any]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON: {error.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON: nested too deeply") from None
    if not isinstance(rows, list):
        raise InputError(f"{path}: a list of {{operation, ms}} objects is expected")
    pairs: list[tuple[Any, Any]] = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            pairs.append((row, None))
            continue
        extra = sorted(str(k) for k in row if k not in ("operation", "ms"))
        if extra:
            raise InputError(
                f"{path}: row {i}: fields {extra}; allowed: operation and ms, no other"
            )
        pairs.append((row.get("operation"), row.get("ms")))
    return pairs


def _csv_pairs(path: Path, text: str) -> list[tuple[Any, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _read_csv_pairs(path, reader)
    except csv.Error as error:  # a field longer than the csv module's limit
        raise InputError(f"{path}: line {reader.line_num}: not CSV ({error})") from None


def _read_csv_pairs(path: Path, reader: Any) -> list[tuple[Any, Any]]:
    header = next(reader, None)
    if header != ["operation", "ms"]:
        raise InputError(f"{path}: the header must be `operation,ms`, not {header}")
    pairs: list[tuple[Any, Any]] = []
    for row in reader:
        if not row:
            continue  # a blank line
        where = f"{path}: row {len(pairs) + 1} (line {reader.line_num})"
        if len(row) < 2:
            raise InputError(f"{where}: {row}: no ms; allowed: two values, `operation,ms`")
        if len(row) > 2:
            raise InputError(
                f"{where}: extra values {row[2:]} after `operation,ms`; allowed: two values"
            )
        pairs.append((row[0], _number(row[1])))
    return pairs


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def ks_distance(samples: np.ndarray, dist: Distribution) -> float:
    """The largest gap between the samples' and the distribution's cumulative distributions,
    read through the distribution's quantiles."""
    ordered = np.sort(samples)
    n = len(ordered)
    grid = (np.arange(n) + 0.5) / n
    model = np.array([dist.quantile(u) for u in grid])
    # the model's CDF at each sample, by where the sample falls among the model's quantiles
    model_cdf = np.searchsorted(model, ordered, side="right") / n
    empirical = np.arange(1, n + 1) / n
    return float(np.max(np.abs(model_cdf - empirical)))


def fit(op: str, values: list[float]) -> Fitted:
    samples = np.asarray(values, dtype=float)
    median, p99 = float(np.median(samples)), float(np.quantile(samples, 0.99))
    if math.isclose(samples.min(), samples.max()):
        return Fitted(op, Constant(median), len(samples), 0.0)
    if median > 0 and p99 > median:
        lognormal = LogNormal(median, p99)
        distance = ks_distance(samples, lognormal)
        if distance <= KS_LIMIT:
            return Fitted(op, lognormal, len(samples), distance)
    empirical = Empirical(tuple(float(v) for v in np.sort(samples)))
    return Fitted(op, empirical, len(samples), ks_distance(samples, empirical))


def fitted_profile(
    samples: dict[str, list[float]], name: str, base: str = "public-figures"
) -> tuple[Profile, list[Fitted]]:
    fits = [fit(op, values) for op, values in samples.items()]
    base_profile = load_profile(base)
    ops: dict[str, Distribution] = {f.op: f.dist for f in fits}
    sources = {f.op: f.source for f in fits}
    for op in REQUIRED_OPS:
        if op not in ops:
            ops[op] = base_profile.ops[op]
            sources[op] = f"from {base}: {base_profile.sources.get(op, '')}"
    ordered = {op: ops[op] for op in KNOWN_OPS if op in ops}
    return Profile(name, ordered, sources, f"Fitted to measured samples ({name})."), fits


def _comment(text: str) -> str:
    """`text` fit for a TOML comment: control characters and undecodable bytes (a file name's)
    escaped, no line break."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", lambda m: f"\\x{ord(m[0]):02x}", text)


def write_fitted_profile(
    profile: Profile, fits: list[Fitted], samples_path: Path, path: Path
) -> Path:
    lines = [
        f"# {_comment(profile.name)}: each operation fitted to measured samples "
        f"({_comment(samples_path.name)}) by",
        "# `python -m simulator calibrate --samples`; operations without samples come from a base",
        "# profile, as each source says. The engine's CPU work keeps the engine's own costs.",
        "# Fit quality (Kolmogorov-Smirnov distance; above "
        f"{KS_LIMIT:g} the samples are kept as they are):",
        *(f"#   {f.op}: {f.samples} samples, KS {f.ks:.3f}" for f in fits),
        "",
        f"name = {toml_string(profile.name)}",
        f"description = {toml_string(profile.description)}",
        "",
    ]
    for op, dist in profile.ops.items():
        source = toml_string(profile.sources.get(op, ""))
        lines += [f"[ops.{op}]", *dist_lines(dist), f"source = {source}", ""]
    with writing(path) as partial:
        partial.write_text("\n".join(lines), encoding="utf-8")  # TOML is UTF-8, whatever the locale
    return path

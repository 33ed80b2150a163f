"""Sweep specifications: which parameters to vary over which ranges, for which designs.

A sweep file (TOML) names a profile, the designs and modes to run, the parameters (every guess of
the profile over its plausible range, `parameters = "guesses"`, or a list of `[[parameter]]`
tables: an operation's distribution parameter, `op = "read", parameter = "median"`, or a scenario
setting, `op = "workload", parameter = "rate_per_s"` or `op = "platform", parameter =
"hibernation"`, a switch being on from the middle of its range up), and the sampling: one parameter at a time (`oat_levels` values of each, for tornado
charts) and a Latin hypercube (`lhs_points` points, for maps of which design wins). Every field is
checked on load, each end of a parameter's range against its distribution too; a bad one is a
one-line `ConfigError`. What needs the modes' scenarios (a setting's range, the work budget) is
checked before the sweep runs, by `simulator.experiments.sweep_checks.check_sweep`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.errors import ConfigError
from simulator.model.distributions import parameter
from simulator.model.fields import MAX_MS, Fields
from simulator.model.files import load_named_toml
from simulator.model.profile import Profile, load_profile
from simulator.model.scenario import distinct_designs
from simulator.paths import SCENARIO_DIR
from simulator.runtime.config import PlatformSwitches
from simulator.runtime.runlog import MODES

SWEEP_DIR = SCENARIO_DIR / "sweeps"
SCALES = ("log", "linear")
MAX_TEXT = 200  # characters of a name or a profile reference, as in scenario files
MAX_DESCRIPTION = 10_000
#: A sweep's name becomes its report folder, reports/sweep-NAME: a plain file name, no path.
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
#: Latin-hypercube points a sweep may ask for. Their values take about a second to compute
#: (measured on the 2-core reference machine, 14 parameters: 10,000 points in 0.6 s, 100,000
#: in 5.4 s), and running them, at a CPU-second or more a point, takes hours already.
MAX_LHS_POINTS = 10_000
#: Scenario settings a sweep may vary, besides profile parameters: `op` names the table.
SETTINGS: dict[str, tuple[str, ...]] = {
    "workload": ("rate_per_s", "think_ms", "prewarm_ms"),
    "platform": PlatformSwitches.names(),
}


@dataclass(frozen=True)
class Parameter:
    """One varied parameter of one operation's distribution, over [low, high]."""

    op: str
    parameter: str
    low: float
    high: float
    scale: str = "log"

    @property
    def name(self) -> str:
        return f"{self.op}.{self.parameter}"

    @property
    def setting(self) -> bool:
        """A scenario setting (`workload.*`, `platform.*`), not a profile parameter."""
        return self.op in SETTINGS

    def at(self, u: float) -> float:
        """The value at the fraction `u` of the range (0: low, 1: high), on its scale."""
        if self.scale == "log":
            return float(self.low * (self.high / self.low) ** u)
        return self.low + (self.high - self.low) * u


@dataclass(frozen=True)
class SweepSpec:
    name: str
    profile: str
    designs: tuple[str, ...]
    modes: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    oat_levels: int
    lhs_points: int
    replications: int
    seed: int
    duration_s: float
    drain_s: float
    path: str | None = None

    def fingerprint(self) -> str:
        """A hash of everything that decides the results (not the file's name or path): the
        spec's fields and the prices of its profile, so that a sweep resumed after its profile
        was edited is another sweep, not the old one's points mixed with new ones."""
        data = {k: v for k, v in asdict(self).items() if k not in ("path", "name")}
        data["profile_prices"] = repr(sorted(self.load_profile().ops.items()))
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def load_profile(self) -> Profile:
        return load_profile(self.profile)

    @property
    def source(self) -> str:
        """What its error messages name: the file, or the name of a spec built in code."""
        return self.path or self.name


FIELDS = {
    "name",
    "description",
    "profile",
    "designs",
    "modes",
    "parameters",
    "parameter",
    "oat_levels",
    "lhs_points",
    "replications",
    "seed",
    "duration_s",
    "drain_s",
}


def _names(source: str, field: str, value: Any, allowed: str, check: Any = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(source, field, value, f"allowed: a non-empty list of {allowed}")
    if check is not None:
        for item in value:
            check(item)
    if len(set(value)) != len(value):
        raise ConfigError(source, field, value, "allowed: each name once")
    return tuple(value)


def _parameters(source: str, data: dict[str, Any], profile: Profile) -> tuple[Parameter, ...]:
    if data.get("parameters") == "guesses":
        if "parameter" in data:
            raise ConfigError(
                source, "parameter", "...", 'allowed: none when parameters = "guesses"'
            )
        chosen = [Parameter(p.op, p.parameter, p.low, p.high) for p in profile.plausible if p.guess]
        if not chosen:
            raise ConfigError(source, "parameters", "guesses", f"{profile.name} has no guesses")
        for p in chosen:
            for value in (p.low, p.high):
                refused = refusal(profile, p.op, p.parameter, value)
                if refused:
                    raise ConfigError(
                        source,
                        "parameters",
                        "guesses",
                        f"{profile.name}'s guess of {p.name} reaches {value:g}, which "
                        f"{p.op}'s distribution does not take ({refused}); list [[parameter]] "
                        "tables instead",
                    )
        return tuple(chosen)
    if "parameters" in data:
        raise ConfigError(
            source, "parameters", data["parameters"], 'allowed: "guesses", or [[parameter]] tables'
        )
    tables = data.get("parameter")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(
            source, "parameter", tables, 'allowed: [[parameter]] tables, or parameters = "guesses"'
        )
    out = []
    for i, table in enumerate(tables):
        path = f"parameter[{i}]"
        if not isinstance(table, dict):
            raise ConfigError(source, path, table, "allowed: a table with op, parameter, low, high")
        f = Fields(source, table, path, {"op", "parameter", "low", "high", "scale"})
        op, name = f.text("op", ""), f.text("parameter", "median")
        if op in SETTINGS:
            if name not in SETTINGS[op]:
                f.fail("parameter", name, f"allowed: {', '.join(SETTINGS[op])}")
        elif op not in profile.ops:
            f.fail(
                "op",
                op,
                f"allowed: {', '.join(SETTINGS)}, or an operation of {profile.name}: "
                + ", ".join(profile.ops),
            )
        else:
            try:
                profile.with_parameter(op, name, profile_value(profile, op, name))
            except (KeyError, ValueError):
                f.fail("parameter", name, f"allowed: a parameter of {op}'s distribution")
        scale = f.choice("scale", "log", SCALES)
        floor = 1e-9 if scale == "log" else 0.0  # a log scale cannot reach 0
        low = f.number("low", minimum=floor)
        high = f.number("high", minimum=floor)
        if high <= low:
            f.fail("high", high, f"allowed: a number above low ({low:g})")
        if scale == "log" and not high / low <= 1e300:  # (high / low) ** u must stay finite
            f.fail("high", high, f"allowed: a number at most 1e300 times low ({low:g})")
        if op not in SETTINGS:
            for end, value in (("low", low), ("high", high)):
                refused = refusal(profile, op, name, value)
                if refused:
                    f.fail(end, value, f"allowed: a value {op}'s distribution takes ({refused})")
        out.append(Parameter(op, name, low, high, scale))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise ConfigError(source, "parameter", names, "allowed: each parameter once")
    return tuple(out)


def profile_value(profile: Profile, op: str, name: str) -> float:
    return parameter(profile.dist(op), name)


def refusal(profile: Profile, op: str, name: str, value: float) -> str | None:
    """Why `op`'s distribution cannot take `value` for its parameter `name` (the others at their
    nominal values, as a parameter moved alone has them), or None when it can. Checked on load,
    so that a bad end of a range is refused before anything runs, not found in a run."""
    if name.rpartition(".")[2] == "median" and value <= 0:  # only lognormals have a median
        return "a lognormal's median must be above 0"
    if value > MAX_MS:  # every parameter of a distribution is a latency
        return f"a latency of at most {MAX_MS:g} ms, the longest run"
    try:
        profile.with_parameter(op, name, value)
    except ValueError as error:
        return str(error)
    return None


def _mode(source: str) -> Any:
    def check(mode: str) -> None:
        if mode not in MODES:
            raise ConfigError(source, "modes", mode, f"allowed: {', '.join(MODES)}")

    return check


def _text(f: Fields, key: str, default: str, most: int) -> str:
    """A text field, refused when too long or holding a NUL (which no file name can)."""
    value = f.text(key, default)
    if len(value) > most or "\x00" in value:
        f.fail(key, value, f"allowed: text of at most {most} characters, no NUL")
    return value


def _name(f: Fields, default: str) -> str:
    """The sweep's name, which becomes its report folder: a plain file name, never a path."""
    name = _text(f, "name", default, MAX_TEXT)
    if not NAME.fullmatch(name):
        f.fail(
            "name",
            name,
            "allowed: a plain file name (ASCII letters, digits, -, _ and ., not starting with "
            "'.'), as the report goes to reports/sweep-NAME"
            + ("" if "name" in f.table else "; the file's name is used when name is not set"),
        )
    return name


def _lhs_points(f: Fields) -> int:
    value = f.table.get("lhs_points", 0)
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_LHS_POINTS:
        f.fail(
            "lhs_points",
            value,
            f"allowed: a whole number from 0 to {MAX_LHS_POINTS:,} (that many points' values "
            "take about a second to compute, and running them hours)",
        )
    return f.integer("lhs_points", 0, minimum=0, maximum=MAX_LHS_POINTS)


def parse_sweep(source: str, data: dict[str, Any]) -> SweepSpec:
    f = Fields(source, data, "", FIELDS)
    name = _name(f, Path(source).stem)
    _text(f, "description", "", MAX_DESCRIPTION)
    profile_name = _text(f, "profile", "public-figures", MAX_TEXT)
    profile = load_profile(profile_name)
    oat_levels = f.integer("oat_levels", 3, minimum=0, maximum=101)
    lhs_points = _lhs_points(f)
    if oat_levels == 1:
        f.fail("oat_levels", 1, "allowed: 0 (none), or 2 or more levels")
    if oat_levels == 0 and lhs_points == 0:
        f.fail("lhs_points", 0, "allowed: at least one sample (oat_levels or lhs_points)")
    return SweepSpec(
        name=name,
        profile=profile_name,
        designs=distinct_designs(
            source, _names(source, "designs", data.get("designs"), "design names")
        ),
        modes=_names(source, "modes", data.get("modes", list(MODES)), "modes", _mode(source)),
        parameters=_parameters(source, data, profile),
        oat_levels=oat_levels,
        lhs_points=lhs_points,
        replications=f.integer("replications", 1, minimum=1, maximum=100),
        seed=f.integer("seed", 1, maximum=2**63 - 1),
        duration_s=f.number("duration_s", 30.0, minimum=1.0, maximum=3600.0),
        drain_s=f.number("drain_s", 10.0, maximum=3600.0),
        path=source,
    )


def load_sweep(name_or_path: str) -> SweepSpec:
    """A sweep by name (a file in scenarios/sweeps/) or by path."""
    return parse_sweep(*load_named_toml(name_or_path, SWEEP_DIR, "sweep"))

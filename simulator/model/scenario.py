"""Scenario files: workload, designs, profile, faults, platform switches; loaded and validated.

Every field is checked on load. A wrong field, type or value raises `ConfigError`, whose one-line
message names the file, the field, the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.design import PRESETS, UnknownDesign, design_by_name
from engine.tracker import TRACKERS
from simulator.errors import ConfigError, InputError
from simulator.model.distributions import Distribution
from simulator.model.fields import MAX_MS, MAX_S, Fields, is_number
from simulator.model.files import available, load_named_toml
from simulator.model.profile import parse_ops
from simulator.paths import SCENARIO_DIR
from simulator.runtime.config import Faults, PlatformSwitches
from simulator.runtime.interface import CALL_KINDS

#: A closed-loop client's next call comes at least this long after its last answer, however
#: short its think time: calls that take no time (a zero-latency profile) would otherwise come
#: without end at one instant, and the work estimate (`budget`) counts on this bound.
MIN_CALL_GAP_MS = 1.0
MAX_SEED = 2**63 - 1
MAX_RATE = 1_000_000.0  # calls per second
MAX_FAULT_RATE = 3_600_000.0  # faults per hour (one a millisecond)
MAX_FOLLOWUPS = 1000
ARRIVALS = ("poisson", "uniform", "burst", "ramp", "closed")
ID_MODES = ("fresh", "pool")


@dataclass(frozen=True)
class Workload:
    arrival: str = "poisson"
    rate_per_s: float = 1.0
    ramp_to_per_s: float | None = None
    burst_size: int = 10
    burst_every_s: float = 10.0
    clients: int = 1
    think_ms: float = 0.0
    ids: str = "fresh"
    pool_size: int = 10
    prewarm_ms: float = 0.0
    mix: Mapping[str, float] = field(default_factory=lambda: {"run_async": 1.0})
    #: Extra calls to the same id after each run_async: (kind, ms later), e.g. a duplicate
    #: run_async and status polls that land during its cold start.
    followups: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class EngineSettings:
    sleep_ms: float = 1000.0
    step_io_ms: float = 0.0
    purge_delay_ms: float | None = 60_000.0
    tracker: str = "upstream-defaults"  # a name of `engine.tracker.TRACKERS`


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    profile: str = "public-figures"
    designs: tuple[str, ...] = ("baseline",)
    replications: int = 1
    seed: int = 1
    duration_s: float = 60.0
    drain_s: float = 300.0
    workload: Workload = field(default_factory=Workload)
    faults: Faults = field(default_factory=Faults)
    platform: PlatformSwitches = field(default_factory=PlatformSwitches)
    engine: EngineSettings = field(default_factory=EngineSettings)
    profile_overrides: Mapping[str, Distribution] = field(default_factory=dict)
    path: str | None = None

    def with_changes(self, **changes: Any) -> Scenario:
        return replace(self, **changes)


#: The workload fields that only some arrival processes read: given for another, they would be
#: ignored without a word, so they are refused.
ARRIVAL_FIELDS = {
    "rate_per_s": ("poisson", "uniform", "ramp"),
    "ramp_to_per_s": ("ramp",),
    "burst_size": ("burst",),
    "burst_every_s": ("burst",),
    "clients": ("closed",),
    "think_ms": ("closed",),
}


def _check_applies(source: str, table: Mapping[str, Any]) -> None:
    """Refuse a workload field its arrival process (or id mode) does not read."""
    arrival = table.get("arrival", "poisson")
    for name, arrivals in ARRIVAL_FIELDS.items():
        if name in table and arrival in ARRIVALS and arrival not in arrivals:
            raise ConfigError(
                source,
                f"workload.{name}",
                table[name],
                f"allowed only with arrival = {' or '.join(map(repr, arrivals))} (this "
                f"workload's arrival is {arrival!r}, which does not read it)",
            )
    if "pool_size" in table and table.get("ids", "fresh") != "pool":
        raise ConfigError(
            source, "workload.pool_size", table["pool_size"], "allowed only with ids = 'pool'"
        )


def _workload(source: str, table: Mapping[str, Any]) -> Workload:
    allowed = {f for f in Workload.__dataclass_fields__}
    r = Fields(source, table, "workload", allowed)
    _check_applies(source, table)
    if "mix" in table and not r.table_of("mix"):
        raise ConfigError(
            source, "workload.mix", {}, f"allowed: weights for {', '.join(CALL_KINDS)}, not none"
        )
    mix_table = r.table_of("mix") or {"run_async": 1.0}
    mix = Fields(source, mix_table, "workload.mix", set(CALL_KINDS))
    weights = {kind: mix.number(kind, 0.0, maximum=1e12) for kind in mix_table}
    if sum(weights.values()) <= 0:
        raise ConfigError(
            source,
            "workload.mix",
            dict(mix_table),
            f"allowed: weights >= 0 for {', '.join(CALL_KINDS)}, not all zero",
        )
    ramp_to = r.optional_number("ramp_to_per_s", maximum=MAX_RATE)
    if table.get("arrival") == "ramp" and ramp_to is None:
        r.fail("ramp_to_per_s", None, "missing; a ramp needs the rate it ramps to (arrivals/s)")
    followups = table.get("followups", [])
    if (
        not isinstance(followups, list)
        or len(followups) > MAX_FOLLOWUPS
        or not all(
            isinstance(f, list)
            and len(f) == 2
            and f[0] in CALL_KINDS
            and is_number(f[1])
            and 0 <= f[1] <= MAX_MS
            for f in followups
        )
    ):
        raise ConfigError(
            source,
            "workload.followups",
            followups,
            f"allowed: a list of at most {MAX_FOLLOWUPS} [kind, ms] with kind one of "
            f"{', '.join(CALL_KINDS)} and ms from 0 to {MAX_MS:g}",
        )
    return Workload(
        arrival=r.choice("arrival", "poisson", ARRIVALS),
        rate_per_s=r.number("rate_per_s", 1.0, minimum=1e-6, maximum=MAX_RATE),
        ramp_to_per_s=ramp_to,
        burst_size=r.integer("burst_size", 10, minimum=1),
        burst_every_s=r.number("burst_every_s", 10.0, minimum=1e-3, maximum=MAX_S),
        clients=r.integer("clients", 1, minimum=1),
        think_ms=r.number("think_ms", 0.0, maximum=MAX_MS),
        ids=r.choice("ids", "fresh", ID_MODES),
        pool_size=r.integer("pool_size", 10, minimum=1),
        prewarm_ms=r.number("prewarm_ms", 0.0, maximum=MAX_MS),
        mix=weights,
        followups=tuple((str(kind), float(after)) for kind, after in followups),
    )


def _faults(source: str, table: Mapping[str, Any]) -> Faults:
    allowed = {
        "deploys_at_s",
        "restarts_at_s",
        "crashes_at_s",
        "evictions_at_s",
        "deploy_rate_per_hour",
        "restart_rate_per_hour",
        "crash_rate_per_hour",
        "eviction_rate_per_hour",
        "commit_failure_rate",
        "tracker_error_rate",
        "tracker_outages_s",
        "tracker_timeout_ms",
    }
    r = Fields(source, table, "faults", allowed)
    outages = table.get("tracker_outages_s", [])
    if not isinstance(outages, list) or not all(
        isinstance(w, list) and len(w) == 2 and all(is_number(x) for x in w) and 0 <= w[0] < w[1]
        for w in outages
    ):
        raise ConfigError(
            source,
            "faults.tracker_outages_s",
            outages,
            "allowed: a list of [start, end] pairs in seconds with start < end",
        )
    return Faults(
        deploys_at_ms=tuple(t * 1000 for t in r.number_list("deploys_at_s")),
        restarts_at_ms=tuple(t * 1000 for t in r.number_list("restarts_at_s")),
        crashes_at_ms=tuple(t * 1000 for t in r.number_list("crashes_at_s")),
        evictions_at_ms=tuple(t * 1000 for t in r.number_list("evictions_at_s")),
        deploy_rate_per_hour=r.number("deploy_rate_per_hour", 0.0, maximum=MAX_FAULT_RATE),
        restart_rate_per_hour=r.number("restart_rate_per_hour", 0.0, maximum=MAX_FAULT_RATE),
        crash_rate_per_hour=r.number("crash_rate_per_hour", 0.0, maximum=MAX_FAULT_RATE),
        eviction_rate_per_hour=r.number("eviction_rate_per_hour", 0.0, maximum=MAX_FAULT_RATE),
        commit_failure_rate=r.number("commit_failure_rate", 0.0, maximum=1.0),
        tracker_error_rate=r.number("tracker_error_rate", 0.0, maximum=1.0),
        tracker_outages_ms=tuple((w[0] * 1000.0, w[1] * 1000.0) for w in outages),
        tracker_timeout_ms=r.optional_number("tracker_timeout_ms", minimum=1e-3),
    )


def _switches(source: str, table: Mapping[str, Any]) -> PlatformSwitches:
    r = Fields(source, table, "platform", set(PlatformSwitches.names()))
    defaults = PlatformSwitches()
    values: dict[str, Any] = {}
    for name in PlatformSwitches.names():
        if name == "isolates":
            values[name] = r.integer(name, defaults.isolates, minimum=1, maximum=10_000)
        elif name == "deploy_grace_ms":
            values[name] = r.number(name, defaults.deploy_grace_ms, maximum=3_600_000.0)
        else:
            values[name] = r.boolean(name, getattr(defaults, name))
    return PlatformSwitches(**values)


def _engine(source: str, table: Mapping[str, Any]) -> EngineSettings:
    r = Fields(
        source, table, "engine", {"sleep_ms", "step_io_ms", "purge", "purge_delay_ms", "tracker"}
    )
    purge_delay = r.number("purge_delay_ms", 60_000.0, maximum=MAX_MS)
    if "purge_delay_ms" in table and table.get("purge") is False:
        r.fail("purge_delay_ms", purge_delay, "allowed only with purge = true (nothing is purged)")
    return EngineSettings(
        sleep_ms=r.number("sleep_ms", 1000.0, maximum=MAX_MS),
        step_io_ms=r.number("step_io_ms", 0.0, maximum=MAX_MS),
        purge_delay_ms=purge_delay if r.boolean("purge", True) else None,
        tracker=r.choice("tracker", "upstream-defaults", tuple(TRACKERS)),
    )


def _designs(source: str, value: Any) -> tuple[str, ...]:
    if value == "all" or value == ["all"]:
        return tuple(PRESETS)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            source,
            "designs",
            value,
            f'allowed: "all" or a list of design names from {", ".join(PRESETS)}',
        )
    return distinct_designs(source, value)


def distinct_designs(source: str, names: Sequence[str]) -> tuple[str, ...]:
    """The `designs` field's names, each a known design and no design named twice (a preset
    and its switches are one design)."""
    seen: dict[Any, str] = {}
    for name in names:
        try:
            design = design_by_name(name)
        except UnknownDesign as error:  # its message names the preset or switch at fault
            raise ConfigError(source, "designs", name, str(error)) from None
        if design in seen:
            raise ConfigError(
                source, "designs", name, f"the same design as {seen[design]!r}: name each once"
            )
        seen[design] = name
    return tuple(names)


TOP_FIELDS = {
    "name",
    "description",
    "profile",
    "designs",
    "replications",
    "seed",
    "duration_s",
    "drain_s",
    "workload",
    "faults",
    "platform",
    "engine",
    "profile_overrides",
}


MAX_TEXT = 200  # characters of a name or a profile reference
MAX_DESCRIPTION = 10_000


def parse_scenario(source: str, data: Mapping[str, Any]) -> Scenario:
    if not data:
        raise InputError(f"{source}: the file sets nothing; a scenario needs at least its name")
    r = Fields(source, data, "", TOP_FIELDS)
    for key, most in (("name", MAX_TEXT), ("profile", MAX_TEXT), ("description", MAX_DESCRIPTION)):
        value = data.get(key, "")
        if isinstance(value, str) and (len(value) > most or "\x00" in value):
            raise ConfigError(
                source, key, value, f"allowed: text of at most {most} characters, no NUL"
            )
    overrides, _, ranges = parse_ops(source, "profile_overrides", r.table_of("profile_overrides"))
    if ranges:
        raise ConfigError(
            source,
            f"profile_overrides.{ranges[0].op}",
            ranges[0].parameter,
            "allowed: no guess or range here; plausible ranges belong in a profile file",
        )
    scenario = Scenario(
        name=r.text("name", Path(source).stem),
        description=r.text("description", "")[: MAX_DESCRIPTION + 1],
        profile=r.text("profile", "public-figures"),
        designs=_designs(source, data.get("designs", ["baseline"])),
        replications=r.integer("replications", 1, minimum=1, maximum=1000),
        seed=r.integer("seed", 1, maximum=MAX_SEED),
        duration_s=r.number("duration_s", 60.0, minimum=1e-3, maximum=MAX_S),
        drain_s=r.number("drain_s", 300.0, maximum=MAX_S),
        workload=_workload(source, r.table_of("workload")),
        faults=_faults(source, r.table_of("faults")),
        platform=_switches(source, r.table_of("platform")),
        engine=_engine(source, r.table_of("engine")),
        profile_overrides=overrides,
        path=source,
    )
    check_faults_in_run(source, scenario)
    return scenario


def check_faults_in_run(source: str, scenario: Scenario) -> None:
    """A fault or a follow-up planned after the run has ended would silently never happen:
    refuse it."""
    end_ms = (scenario.duration_s + scenario.drain_s) * 1000.0
    faults = scenario.faults
    for name, instants in (
        ("deploys_at_s", faults.deploys_at_ms),
        ("restarts_at_s", faults.restarts_at_ms),
        ("crashes_at_s", faults.crashes_at_ms),
        ("evictions_at_s", faults.evictions_at_ms),
    ):
        late = [t / 1000 for t in instants if t >= end_ms]
        if late:
            raise ConfigError(
                source,
                f"faults.{name}",
                late,
                f"allowed: instants before the run ends (duration_s + drain_s = {end_ms / 1000:g} s)",
            )
    late_followups = [[k, ms] for k, ms in scenario.workload.followups if ms >= end_ms]
    if late_followups:
        raise ConfigError(
            source,
            "workload.followups",
            late_followups,
            f"allowed: follow-ups sooner than the run lasts (duration_s + drain_s = "
            f"{end_ms:g} ms); a later one never happens",
        )
    late_outages = [[a / 1000, b / 1000] for a, b in faults.tracker_outages_ms if a >= end_ms]
    if late_outages:
        raise ConfigError(
            source,
            "faults.tracker_outages_s",
            late_outages,
            f"allowed: outages that start before the run ends ({end_ms / 1000:g} s)",
        )


def available_scenarios() -> list[str]:
    return available(SCENARIO_DIR)


def load_scenario(name_or_path: str) -> Scenario:
    """A scenario by name (a file in scenarios/) or by path."""
    return parse_scenario(*load_named_toml(name_or_path, SCENARIO_DIR, "scenario"))

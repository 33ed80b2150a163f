"""What a sweep spec file alone cannot show to be wrong, refused before anything runs: the end of a
setting's range that a mode's scenario refuses, or a fractional end of a count's range; a setting
the modes' scenarios do not use (every point would be the same); a combination of the Latin
hypercube that a distribution refuses; and a point over the work budget that `run` applies to a
scenario.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from simulator.errors import ConfigError, InputError
from simulator.experiments.suite import MODES
from simulator.experiments.sweep import (
    Point,
    current_setting,
    lhs_values,
    mode_scenarios,
    profile_at,
    scenario_at,
    setting_value,
)
from simulator.model import budget
from simulator.model.files import load_named_toml
from simulator.model.scenario import Scenario, parse_scenario
from simulator.model.sweep_spec import Parameter, SweepSpec
from simulator.paths import SCENARIO_DIR


def check_sweep(spec: SweepSpec, max_calls: int = budget.DEFAULT_MAX_CALLS) -> None:
    """Refuse, with one line, what would fail or mislead only once the sweep runs: see the
    module's docstring. Cheap: it builds scenarios and profiles, and runs nothing."""
    scenarios = mode_scenarios(spec)
    for index, parameter in enumerate(spec.parameters):
        if parameter.setting:
            _check_setting_used(spec, index, parameter, scenarios)
            _check_setting_range(spec, index, parameter, scenarios)
            _check_whole_range(spec, index, parameter, scenarios)
    if spec.lhs_points:
        _check_combinations(spec)
    _check_budget(spec, scenarios, max_calls)


#: Settings that only some scenarios read: what a scenario must have for the setting to matter.
READ_ONLY_WITH: dict[str, tuple[str, Callable[[Scenario], bool]]] = {
    "workload.think_ms": ("closed-loop arrivals", lambda s: s.workload.arrival == "closed"),
    "workload.rate_per_s": (
        "poisson, uniform or ramp arrivals",
        lambda s: s.workload.arrival not in ("closed", "burst"),
    ),
    "platform.deploy_grace_ms": (
        "deploys",
        lambda s: bool(s.faults.deploys_at_ms or s.faults.deploy_rate_per_hour),
    ),
}


def _check_setting_used(
    spec: SweepSpec, index: int, parameter: Parameter, scenarios: list[tuple[str, Scenario]]
) -> None:
    """A setting no mode's scenario reads would give every point the same result: refuse it."""
    if parameter.name not in READ_ONLY_WITH:
        return
    needs, reads = READ_ONLY_WITH[parameter.name]
    if not any(reads(scenario) for _, scenario in scenarios):
        names = ", ".join(scenario.name for _, scenario in scenarios)
        raise ConfigError(
            spec.source,
            f"parameter[{index}].parameter",
            parameter.parameter,
            f"allowed: a setting the modes' scenarios read ({parameter.parameter} applies only "
            f"to {needs}, and the scenarios of the modes chosen, {names}, have none: every "
            "point would be the same)",
        )


def _check_setting_range(
    spec: SweepSpec, index: int, parameter: Parameter, scenarios: list[tuple[str, Scenario]]
) -> None:
    """Each end of the range, set in each mode's scenario file and checked as that file is."""
    for mode, scenario in scenarios:
        source, data = load_named_toml(MODES[mode], SCENARIO_DIR, "scenario")
        current = current_setting(scenario, parameter)
        for end, value in (("low", parameter.low), ("high", parameter.high)):
            table = {
                **data.get(parameter.op, {}),
                parameter.parameter: setting_value(current, value),
            }
            try:
                parse_scenario(source, {**data, parameter.op: table})
            except ConfigError as error:
                raise ConfigError(
                    spec.source,
                    f"parameter[{index}].{end}",
                    value,
                    f"allowed: a value the {MODES[mode]} scenario takes for {parameter.name} "
                    f"({_allowed(error)})",
                ) from None


def _check_whole_range(
    spec: SweepSpec, index: int, parameter: Parameter, scenarios: list[tuple[str, Scenario]]
) -> None:
    """A count (`platform.isolates`) runs at whole values: a range with a fractional end would
    run other values than its report names (1 to 1.4 runs 1 everywhere)."""
    current = current_setting(scenarios[0][1], parameter)
    if not isinstance(current, int) or isinstance(current, bool):
        return
    for end, value in (("low", parameter.low), ("high", parameter.high)):
        if not float(value).is_integer():
            raise ConfigError(
                spec.source,
                f"parameter[{index}].{end}",
                value,
                f"allowed: a whole number ({parameter.name} is a count)",
            )


def _allowed(error: ConfigError) -> str:
    """What a `ConfigError` says is allowed: its message after the bad value."""
    after_value = str(error).partition(f"field {error.field!r}: bad value ")[2]
    return after_value.partition("; ")[2].removeprefix("allowed: ") or str(error)


def _check_combinations(spec: SweepSpec) -> None:
    """The Latin hypercube draws the parameters of one operation together: each end of each
    range may be valid alone (checked on load) while a combination is not (a uniform's low above
    its high). The constraints are linear, so the corners of the ranges decide."""
    base = spec.load_profile()
    by_op: dict[str, list[int]] = {}
    for index, parameter in enumerate(spec.parameters):
        if not parameter.setting:
            by_op.setdefault(parameter.op, []).append(index)
    for op, indices in by_op.items():
        if len(indices) < 2:
            continue
        for corner in itertools.product((0.0, 1.0), repeat=len(indices)):
            row = np.full(len(spec.parameters), 0.5)
            row[indices] = corner
            values = lhs_values(spec, base, row)
            try:
                profile_at(base, spec.parameters, Point(0, "lhs", values))
            except ValueError as error:
                mine = ", ".join(
                    f"{name} = {value:g}" for name, value in values if name.startswith(f"{op}.")
                )
                raise ConfigError(
                    spec.source,
                    f"parameter[{indices[-1]}]",
                    spec.parameters[indices[-1]].name,
                    f"allowed: ranges of {op}'s parameters that its distribution takes in every "
                    f"combination, as the Latin hypercube draws them together (at {mine}: {error})",
                ) from None


def _check_budget(spec: SweepSpec, scenarios: list[tuple[str, Scenario]], max_calls: int) -> None:
    """`run`'s cap on planned client calls, applied to the sweep's largest point: a point's
    calls, over every mode, design and replication, are held in one worker until it ends."""
    workload = [p for p in spec.parameters if p.op == "workload"]
    ends = [((p.name, p.low), (p.name, p.high)) for p in workload]
    candidates = [Point(0, "nominal", ())]
    candidates += [Point(0, "oat", (end,)) for pair in ends for end in pair]
    if spec.lhs_points:
        candidates += [Point(0, "lhs", corner) for corner in itertools.product(*ends)]

    def calls(point: Point) -> float:
        return sum(
            budget.estimate(
                scenario_at(scenario, spec.parameters, point), len(spec.designs), spec.replications
            ).calls
            for _, scenario in scenarios
        )

    largest = max(candidates, key=calls)
    found = calls(largest)
    if not found <= max_calls:
        where = ", ".join(f"{name} = {value:g}" for name, value in largest.values) or "nominal"
        raise InputError(
            f"{spec.source}: the largest point ({where}) plans about {found:,.0f} client calls "
            f"({len(scenarios)} mode(s) x {len(spec.designs)} design(s) x {spec.replications} "
            f"replication(s); about {found * budget.BYTES_PER_CALL / 1e9:,.1f} GB of memory); "
            f"the cap is {max_calls:,} calls a point: shorten duration_s, narrow the range, or "
            "raise the cap deliberately with --max-calls"
        )

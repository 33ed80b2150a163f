"""The seed's tables, as data, and how the model's phases map onto the seed's rows.

The seed gives ranges ("~300-500ms") and point estimates ("~50ms"). We read a point estimate "~X"
as the range [0.75 X, 1.25 X] and "0ms" as [0, 1]; a measured figure is "within" when it falls in
the range. These readings are ours; they are written into every comparison so nobody mistakes
them for the seed's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import phases as engine_phases
from engine.design import Design, design_by_name
from simulator.runtime import phases

APPROX = 0.25  # "~X" read as X ± 25 %
ZERO_MS = 1.0  # "0ms" read as at most 1 ms


@dataclass(frozen=True)
class SeedRange:
    low: float
    high: float
    text: str

    @classmethod
    def about(cls, value: float, text: str) -> SeedRange:
        if value == 0:
            return cls(0.0, ZERO_MS, text)
        return cls(value * (1 - APPROX), value * (1 + APPROX), text)

    def verdict(self, measured: float, low: float | None = None, high: float | None = None) -> str:
        """Within when the figure, or its confidence interval [low, high], meets the range."""
        low = measured if low is None else low
        high = measured if high is None else high
        if high < self.low:
            return "below"
        if low > self.high:
            return "above"
        return "within"

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class SeedCell:
    table: str  # breakdown | expected | totals
    row: str
    mode: str  # cold | warm
    range: SeedRange


#: Model phases (row columns `phase_<name>`) that make up each row of the seed's breakdown.
BREAKDOWN_PHASES: dict[str, tuple[str, ...]] = {
    "DO Stub Resolution": (phases.STUB, phases.RPC),
    "Constructor Layer Build": (phases.CONSTRUCTOR + engine_phases.LAYER_BUILD,),
    "Constructor Recovery Check": (phases.CONSTRUCTOR + engine_phases.RECOVERY_CHECK,),
    "Queue Operation": (engine_phases.LAYER_BUILD, engine_phases.QUEUE),
    "Event Flush HTTP": (engine_phases.EVENT_FLUSH,),
}

#: Phases the model finds that the seed's table has no row for.
UNLISTED_PHASES: dict[str, tuple[str, ...]] = {
    "Object start (not in the seed)": (phases.COLD_START,),
    "Input gate wait (not in the seed)": (phases.INPUT_GATE,),
    "Response output gate (not in the seed)": (phases.OUTPUT_GATE,),
}

BREAKDOWN: list[SeedCell] = [
    SeedCell("breakdown", "DO Stub Resolution", "cold", SeedRange.about(10, "~10ms")),
    SeedCell("breakdown", "DO Stub Resolution", "warm", SeedRange.about(10, "~10ms")),
    SeedCell("breakdown", "Constructor Layer Build", "cold", SeedRange.about(50, "~50ms")),
    SeedCell("breakdown", "Constructor Layer Build", "warm", SeedRange.about(0, "0ms")),
    SeedCell("breakdown", "Constructor Recovery Check", "cold", SeedRange(300, 500, "~300-500ms")),
    SeedCell("breakdown", "Constructor Recovery Check", "warm", SeedRange.about(0, "0ms")),
    SeedCell("breakdown", "Queue Operation", "cold", SeedRange.about(100, "~100ms")),
    SeedCell("breakdown", "Queue Operation", "warm", SeedRange.about(100, "~100ms")),
    SeedCell("breakdown", "Event Flush HTTP", "cold", SeedRange(200, 500, "~200-500ms")),
    SeedCell("breakdown", "Event Flush HTTP", "warm", SeedRange(200, 500, "~200-500ms")),
    SeedCell("breakdown", "Total", "cold", SeedRange(700, 1200, "~700-1200ms")),
    SeedCell("breakdown", "Total", "warm", SeedRange(300, 600, "~300-600ms")),
]


@dataclass(frozen=True)
class SeedChange:
    row: str
    design: Design  # baseline plus this change alone
    cold: SeedRange
    warm: SeedRange


#: The seed's "Expected Results": each change's reduction of run_async latency.
EXPECTED: list[SeedChange] = [
    SeedChange(
        "Lazy recovery",
        design_by_name("lazy-recovery"),
        SeedRange(300, 500, "-300-500ms"),
        SeedRange.about(0, "0ms"),
    ),
    SeedChange(
        "Fire-and-forget flush",
        design_by_name("background-flush"),
        SeedRange(200, 500, "-200-500ms"),
        SeedRange(200, 500, "-200-500ms"),
    ),
    SeedChange(
        "Batch storage reads",
        design_by_name("batch-reads"),
        SeedRange(50, 100, "-50-100ms"),
        SeedRange(50, 100, "-50-100ms"),
    ),
]
EXPECTED_TOTAL = ("Total", SeedRange(550, 1100, "-550-1100ms"), SeedRange(250, 600, "-250-600ms"))

#: The seed's optimized totals ("~100-300ms on cold start and ~50-100ms warm").
TOTALS = {
    "cold": SeedRange(100, 300, "~100-300ms"),
    "warm": SeedRange(50, 100, "~50-100ms"),
}
OPTIMIZED = design_by_name("seed-recommended")  # the seed's set, its code as written
OPTIMIZED_FIXED = design_by_name("seed-recommended-fixed")  # the same with its flush fixed


def expected_designs() -> dict[str, Design]:
    """The design measured for each row of the seed's Expected Results (against baseline)."""
    designs = {change.row: change.design for change in EXPECTED}
    designs[EXPECTED_TOTAL[0]] = OPTIMIZED
    return designs


def cumulative_designs() -> list[tuple[str, Design]]:
    """The seed's implementation priority, applied one change after another (each step is a
    preset: see `engine/design.py`)."""
    return [
        ("1. Remove recovery check from constructor", design_by_name("lazy-recovery")),
        ("2. + Fire-and-forget event flushing", design_by_name("seed-priority-2")),
        ("3. + Batch storage reads", design_by_name("seed-recommended")),
        ("4. + Optimize queue path", design_by_name("seed-priority-4")),
    ]


def seed_cells() -> list[SeedCell]:
    """Every cell of the seed's three tables that carries a figure."""
    cells = list(BREAKDOWN)
    for change in EXPECTED:
        cells.append(SeedCell("expected", change.row, "cold", change.cold))
        cells.append(SeedCell("expected", change.row, "warm", change.warm))
    row, cold, warm = EXPECTED_TOTAL
    cells += [SeedCell("expected", row, "cold", cold), SeedCell("expected", row, "warm", warm)]
    cells += [SeedCell("totals", "Optimized run_async", mode, r) for mode, r in TOTALS.items()]
    return cells

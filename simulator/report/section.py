"""A report section: its Markdown, its share of results.json and the files it wrote.

Each section of `reports/bench/README.md` is one function from the report's `Inputs` to a
`Section`. `guarded` runs one: a section that cannot be computed (a suite cut short) becomes a
note saying why, and the rest of the report is still written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from simulator.experiments.robustness import Robustness
from simulator.experiments.search import SearchResult
from simulator.experiments.suite import SuiteResults

FIGURES = "figures"


@dataclass
class Inputs:
    """What every section is computed from."""

    suite: SuiteResults
    rows: pd.DataFrame
    out_dir: Path
    command: str
    search: SearchResult | None = None
    robustness: Robustness | None = None

    @property
    def figures(self) -> Path:
        return self.out_dir / FIGURES

    def figure(self, name: str) -> Path:
        return self.figures / name


@dataclass
class Section:
    title: str
    markdown: str
    data: dict[str, Any] = field(default_factory=dict)  # merged into results.json
    files: list[Path] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)  # files read besides scenarios and profiles
    problem: str | None = None  # why it could not be computed

    def render(self) -> str:
        return f"## {self.title}\n\n{self.markdown}\n"


def figure_link(path: Path, alt: str) -> str:
    """Markdown for a figure written under the report's figures folder."""
    return f"![{alt}]({FIGURES}/{path.name})"


def source_of(module: ModuleType) -> str:
    """A module's file as the report names it (`simulator/experiments/search.py`), so prose that
    points at the code cannot go stale when the code moves."""
    return module.__name__.replace(".", "/") + ".py"


def guarded(title: str, build: Callable[[], Section]) -> Section:
    """Build a section; if it fails, a note in its place that says why."""
    try:
        section = build()
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        return Section(title, f"_This section could not be computed: {reason}_", problem=reason)
    section.title = title
    return section

"""The Markdown report of `make bench`: each table with a sentence on what it shows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd


def fmt(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, float):
        if round(value, digits) == 0:
            value = 0.0  # no "-0"
        return f"{value:,.{digits}f}"
    return str(value)


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def ci(row: dict[str, Any], key: str = "measured_ms") -> str:
    return (
        f"{fmt(row[key])} [{fmt(row['ci_low_ms'])}, {fmt(row['ci_high_ms'])}]"
        if row.get("ci_low_ms") is not None
        else fmt(row[key])
    )


def comparison_table(rows: list[dict[str, Any]], what: str) -> str:
    return table(
        ["row", "mode", "seed", f"measured {what} [95% CI]", "verdict", "why (from the model)"],
        [[r["row"], r["mode"], r["seed"], ci(r), _verdict(r), r["explanation"]] for r in rows],
    )


def _verdict(row: dict[str, Any]) -> str:
    label = row.get("robustness")
    return f"**{row['verdict']}**" + (f"; {label}" if label else "")


def verdict_sentence(rows: list[dict[str, Any]]) -> str:
    judged = [r for r in rows if r["verdict"] in ("within", "below", "above")]
    within = sum(r["verdict"] == "within" for r in judged)
    below = sum(r["verdict"] == "below" for r in judged)
    above = sum(r["verdict"] == "above" for r in judged)
    return (
        f"{within} of {len(judged)} cells fall within the seed's range, {below} below it and "
        f"{above} above it."
    )


def frame_table(frame: pd.DataFrame, columns: dict[str, str], digits: int = 0) -> str:
    return table(
        list(columns.values()),
        [
            [fmt(r[c], digits) if not isinstance(r[c], str) else r[c] for c in columns]
            for _, r in frame.iterrows()
        ],
    )


#: A table cell longer than this moves to a footnote, leaving its opening in the table.
CELL_LIMIT = 120

_CELL_BORDER = re.compile(r"(?<!\\)\|")


class Footnotes:
    """Long table cells (the model's "why" of a verdict runs to hundreds of characters) moved
    out of the tables into numbered footnotes, so that a table reads as a table: each distinct
    text is one footnote, however many cells carry it."""

    def __init__(self, limit: int = CELL_LIMIT) -> None:
        self.limit = limit
        self.numbers: dict[str, int] = {}

    def cell(self, text: str) -> str:
        """The text if it fits, else its opening and a reference to its footnote."""
        if len(text) <= self.limit:
            return text
        number = self.numbers.setdefault(text, len(self.numbers) + 1)
        reference = f" …[^{number}]"
        return opening(text, self.limit - len(reference)) + reference

    def tables(self, markdown: str) -> str:
        """The Markdown with every long cell of every table moved to a footnote."""
        return "\n".join(
            "| " + " | ".join(self.cell(c.strip()) for c in _CELL_BORDER.split(line)[1:-1]) + " |"
            if line.startswith("| ") and line.endswith(" |")
            else line
            for line in markdown.split("\n")
        )

    def render(self) -> str:
        """The footnotes, in the order of their numbers."""
        return "\n".join(f"[^{n}]: {text}" for text, n in self.numbers.items())


def opening(text: str, limit: int) -> str:
    """The start of a text, at most `limit` characters: up to its first dash or last semicolon
    that fit, else whole words; never inside a code span."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for mark in (" — ", "; ", " "):
        cut = text.find(mark) if mark == " — " else head.rfind(mark)
        if 0 < cut <= limit:
            head = text[:cut]
            break
    return head[: head.rfind("`")] if head.count("`") % 2 else head

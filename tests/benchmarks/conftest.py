"""Prints the speed figures of a benchmark run in the terminal summary."""

from __future__ import annotations

from typing import Any

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("harness speed")
        for line in SUMMARY:
            terminalreporter.write_line(line)

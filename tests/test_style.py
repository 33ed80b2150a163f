"""The code stays linted, formatted and typed: CI fails when it does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint_is_clean() -> None:
    result = run("ruff", "check", "engine", "simulator", "tests")
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", "engine", "simulator", "tests")
    assert result.returncode == 0, result.stdout


def test_mypy_is_clean_on_engine_and_simulator() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout

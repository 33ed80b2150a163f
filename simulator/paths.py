"""Where the project's data lives: scenario and profile files, and the simulator's own data."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SCENARIO_DIR = PACKAGE_DIR.parent / "scenarios"
PROFILE_DIR = SCENARIO_DIR / "profiles"
DATA_DIR = PACKAGE_DIR / "data"

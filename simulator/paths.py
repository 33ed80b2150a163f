"""Where the project's data lives: scenario and profile files, and the simulator's own data."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
SCENARIO_DIR = PROJECT_DIR / "scenarios"
PROFILE_DIR = SCENARIO_DIR / "profiles"
DATA_DIR = PACKAGE_DIR / "data"

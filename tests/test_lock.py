"""Every declared dependency is pinned by requirements.lock, which make installs with."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_declared_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [
        d for ds in project["optional-dependencies"].values() for d in ds
    ]
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, exact = line.partition("==")
            assert exact, f"requirements.lock: {line!r} is not an exact pin"
            pinned[_name(name)] = exact
    missing = sorted(_name(d) for d in declared if _name(d) not in pinned)
    assert not missing, f"not pinned in requirements.lock: {missing}"
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()

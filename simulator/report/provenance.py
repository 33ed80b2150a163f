"""Where a result came from: the harness's version and commit, its dependencies, its input files.

A result file says enough for a reader to rebuild the run or to see why two runs differ: the
git commit (and whether the tree had uncommitted changes), the version of every runtime
dependency (the exact gates depend on numpy's and SimPy's arithmetic), and a SHA-256 of every
scenario and profile file the run read, and of the records it reports on (the calibration's fit,
the last validation).
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path
from typing import Any

from simulator.paths import PROJECT_DIR

DISTRIBUTION = "runasync-harness"


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state() -> dict[str, Any]:
    """The commit checked out and whether tracked files differ from it (None outside git)."""
    commit = _git("rev-parse", "HEAD")
    changes = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if changes is None else bool(changes)}


def dependency_versions() -> dict[str, str | None]:
    """The installed version of every runtime dependency the harness declares."""
    declared = [r for r in requires(DISTRIBUTION) or [] if "extra ==" not in r]
    names = sorted({re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in declared})
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def file_hashes(paths: Iterable[Path]) -> dict[str, str]:
    """SHA-256 of each input file, keyed by its path relative to the project when inside it."""
    out = {}
    for path in sorted(set(paths)):
        resolved = path.resolve()
        key = (
            str(resolved.relative_to(PROJECT_DIR))
            if resolved.is_relative_to(PROJECT_DIR)
            else str(resolved)
        )
        out[key] = hashlib.sha256(resolved.read_bytes()).hexdigest()
    return out


def provenance(inputs: Iterable[Path]) -> dict[str, Any]:
    return {
        "harness_version": version(DISTRIBUTION),
        "git": git_state(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "dependencies": dependency_versions(),
        "inputs_sha256": file_hashes(inputs),
    }

"""Output paths, checked before a long run starts: a command that would fail to write its
results refuses at once, with one line naming the option, the path and what is allowed."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from simulator.errors import InputError


def _writable_folder(option: str, folder: Path) -> None:
    """The nearest existing ancestor must be a folder a file can be created in (tried)."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{option}: {str(folder)!r} lies under {str(existing)!r}, which is a file")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise InputError(
            f"{option}: {str(folder)!r} cannot be written: {error.strerror or error}"
        ) from None


def check_output_file(option: str, path: Path, suffixes: tuple[str, ...]) -> None:
    if path.suffix not in suffixes:
        raise InputError(f"{option}: {str(path)!r} must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise InputError(f"{option}: {str(path)!r} is a folder; give a file")
    _writable_folder(option, path.parent)


def check_output_folder(option: str, folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{option}: {str(folder)!r} is a file; give a folder")
    _writable_folder(option, folder)


def check_report_folder(
    option: str, folder: Path, marker: str, belongs: Callable[[str], bool]
) -> None:
    """A folder the command writes its report into (or replaces whole): it must have a name of
    its own, and be empty or an earlier report of the command: one that holds its `marker` file
    and nothing of which `belongs` says no. So no file of the user's is ever replaced or deleted
    (a folder holding only the user's README.md is not a report)."""
    check_output_folder(option, folder)
    if folder.name in ("", ".", ".."):
        raise InputError(
            f"{option}: {str(folder)!r} is not a folder of its own (it is replaced whole); "
            "give one by name, such as reports/bench"
        )
    if not folder.is_dir():
        return
    names = sorted(p.name for p in folder.iterdir())
    foreign = [name for name in names if not belongs(name)]
    if foreign:
        raise InputError(
            f"{option}: {str(folder)!r} holds {_some(foreign)}, which no earlier report holds; "
            "the report's files would replace the user's, so give a new folder, an empty one "
            "or an earlier report's"
        )
    if names and marker not in names:
        raise InputError(
            f"{option}: {str(folder)!r} holds {_some(names)} but no {marker}, so it is no "
            "earlier report and its files are the user's; give a new folder, an empty one or "
            "an earlier report's"
        )


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

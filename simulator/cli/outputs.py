"""Output paths, checked before a long run starts: a command that would fail to write its
results refuses at once, with one line naming the option, the path and what is allowed."""

from __future__ import annotations

import tempfile
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

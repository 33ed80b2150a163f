"""Finding and reading the TOML files users give by name or by path."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from simulator.errors import InputError


def available(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_named_toml(name_or_path: str, directory: Path, kind: str) -> tuple[str, dict[str, Any]]:
    """A file by path (ending in .toml) or by name in `directory`: its path and its contents.

    An unknown name, a missing file or broken TOML is an `InputError` of one line.
    """
    path = Path(name_or_path)
    if not name_or_path.strip():
        raise InputError(f"no {kind} given; available: {', '.join(available(directory))}")
    if path.suffix != ".toml" and path.exists():
        raise InputError(f"{path}: a {kind} file must end in .toml")
    if path.suffix == ".toml" and not path.exists() and (directory / path.name).exists():
        raise InputError(f"{path}: no such file; the {kind} {path.stem!r} is named without .toml")
    if path.exists() and not path.is_file() and not path.is_dir():
        raise InputError(f"{path}: not a regular file (a pipe or a device); give a {kind} file")
    if path.suffix != ".toml":
        path = directory / f"{name_or_path}.toml"
        if not path.exists():
            raise InputError(
                f"unknown {kind} {name_or_path!r}; available: {', '.join(available(directory))}"
            )
    try:
        # a UTF-8 byte order mark is allowed (editors write one); TOML itself does not take it
        return str(path), tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except RecursionError:
        raise InputError(f"{path}: not valid TOML: nested too deeply") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a {kind} file") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror}") from None

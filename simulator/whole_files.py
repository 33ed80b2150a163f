"""Outputs written whole or not at all.

Every file goes to a hidden temporary name beside its target and is renamed over it only when it
is complete, so a reader never sees half a file, even after a Ctrl-C, a SIGTERM or a full disk.
A folder of outputs (a report) is built beside its target and swapped in as a whole, so it is
never a mix of an old and a new run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _beside(path: Path, tag: str) -> Path:
    # The suffix is kept: some writers (matplotlib, pandas) choose the format by it.
    return path.with_name(f".{path.stem}.{tag}-{os.getpid()}{path.suffix}")


@contextmanager
def writing(path: Path) -> Iterator[Path]:
    """A temporary path to write `path`'s content to; it becomes `path` when the block ends
    normally and is removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _beside(path, "partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    with writing(path) as partial:
        partial.write_text(text)
    return path


@contextmanager
def replacing_folder(folder: Path) -> Iterator[Path]:
    """A fresh folder to build `folder`'s new content in; swapped in for the old one when the
    block ends normally, removed otherwise (the old folder is then untouched)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    new = _beside(folder, "new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    try:
        yield new
        old = _beside(folder, "old")
        if folder.exists():
            os.replace(folder, old)
        os.replace(new, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(new, ignore_errors=True)

"""Progress bars for long runs: live on a terminal, a few plain lines in a log.

tqdm redraws its bar with carriage returns, which a CI log shows as one enormous line. When stderr
is not a terminal, the bar refreshes at most every `LOG_INTERVAL_S` and each refresh is a line.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 10.0


class _Lines:
    """A stream that writes each redraw of the bar as a line of its own."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        line = text.replace("\r", "").strip()
        return self.stream.write(line + "\n") if line else 0

    def flush(self) -> None:
        self.stream.flush()


def progress(desc: str, unit: str, total: int | None = None, disable: bool = False) -> tqdm:
    stream = sys.stderr
    if stream.isatty():
        return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=stream)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=disable,
        file=_Lines(stream),
        mininterval=LOG_INTERVAL_S,
        bar_format="{desc}: {n_fmt}/{total_fmt} {unit}s, {elapsed}{postfix}",
    )

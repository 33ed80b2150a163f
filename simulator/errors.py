"""Errors in what a user gave us (a file, a name, a value): reported as one line, exit status 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input; the message names the file, field, value and what is allowed."""


MAX_SHOWN = 80  # characters of a bad value shown in a message


def shown(value: object) -> str:
    """A value as a message shows it: its repr, cut to `MAX_SHOWN` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 5] + " ...'"


class ConfigError(InputError):
    def __init__(self, source: str, field: str, value: object, allowed: str) -> None:
        super().__init__(f"{source}: field {field!r}: bad value {shown(value)}; {allowed}")
        self.source = source
        self.field = field

"""Errors in what a user gave us (a file, a name, a value): reported as one line, exit status 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input; the message names the file, field, value and what is allowed."""


class ConfigError(InputError):
    def __init__(self, source: str, field: str, value: object, allowed: str) -> None:
        super().__init__(f"{source}: field {field!r}: bad value {value!r}; {allowed}")
        self.source = source
        self.field = field

"""Errors in what a user gave us (a file, a name, a value): reported as one line, exit status 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input; the message names the file, field, value and what is allowed."""


class ConfigError(InputError):
    def __init__(self, source: str, field: str, value: object, allowed: str) -> None:
        super().__init__(f"{source}: field {field!r}: bad value {value!r}; {allowed}")
        self.source = source
        self.field = field


class ObjectReset(BaseException):
    """The object died (deploy, crash, failed commit) while this program ran.

    A BaseException, so engine code that handles its own errors (`except Exception`) cannot catch
    it: a reset ends the call, as a process restart does.
    """

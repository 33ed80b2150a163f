"""What a runtime raises into the programs it runs."""

from __future__ import annotations


class ObjectReset(BaseException):
    """The object died (deploy, crash, failed commit) while this program ran.

    A BaseException, so engine code that handles its own errors (`except Exception`) cannot catch
    it: a reset ends the call, as a process restart does.
    """

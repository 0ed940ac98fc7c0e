"""What a ``send`` run raises: one clear line for the user, nothing left half-recorded."""

from __future__ import annotations


class SendError(Exception):
    """The run could not start or had to stop; nothing is left half-recorded."""


class SendBusy(SendError):
    """Another ``send`` holds the state folder (SQLite admits one sender at a time)."""


class Stopped(Exception):
    """The transport can send nothing now (transient): the run stops, the rest stays queued."""


__all__ = ["SendBusy", "SendError", "Stopped"]

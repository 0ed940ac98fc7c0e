"""The outbox transport: finished messages as ``.eml`` files in a folder, for checking, not delivery.

Nobody receives them, so the outbox may carry the public development secret's links and plain
http:// ones; the registry says so (:data:`KIND`'s ``reaches_readers`` is false).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pipeline.config.site import Settings
from pipeline.delivery.message import Prepared
from pipeline.delivery.transports.failures import TransportUnavailable


class OutboxTransport:
    """One ``.eml`` file per message in a folder, named after its Message-ID.

    The file is written under a temporary name and renamed into place, so the outbox never holds a
    half-written message, and sending the same (issue, subscriber) again replaces the same file.
    """

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, prepared: Prepared) -> Path:
        safe = prepared.message_id.strip("<>").replace("/", "_")
        return self.folder / f"{safe}.eml"

    def open(self) -> None:
        """Nothing to connect to (the folder exists)."""

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        target = self.path_for(prepared)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(prepared.data)
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TransportUnavailable(
                f"cannot write to the outbox {self.folder}: {exc.strerror}", transient=False
            ) from None

    def close(self) -> None:
        pass


def make(settings: Settings, environ: Mapping[str, str] | None, channel: str) -> OutboxTransport:
    """The configured ``[newsletter] outbox`` folder for issues; a subfolder per other channel
    (``web`` for the service's sign-up mails), so the two kinds of mail are never confused."""
    folder = settings.newsletter.outbox
    return OutboxTransport(folder if channel == "issues" else folder / channel)

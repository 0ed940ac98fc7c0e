"""After-publish effects: what happens once a site build's files are in place.

Publishing is the last step that may fail a build; an effect runs after it, with the publish
report (which files were written or removed) and the settings, and must not undo the publish.
``run_build`` walks :data:`AFTER_PUBLISH` in order. To add one (e.g. purge a CDN for changed
URLs), write a module with a function of the :class:`AfterPublish` shape and add one line here::

    "cdn-purge": cdn_purge.after_publish,

An effect that talks to the network should only record what to do (as WebSub does: the ping
itself is a scheduled job), so a build never waits on another host.
"""

from __future__ import annotations

from typing import Protocol

from pipeline.config.site import Settings
from pipeline.publishing import websub
from pipeline.publishing.publish import PublishReport


class AfterPublish(Protocol):
    """One effect of a publish; ``report`` says what changed in the output folder."""

    def __call__(self, report: PublishReport, settings: Settings) -> None: ...


AFTER_PUBLISH: dict[str, AfterPublish] = {
    "websub": websub.record_build,  # remember changed feeds for the next WebSub ping
}


def run_after_publish(report: PublishReport, settings: Settings) -> None:
    """Every registered effect, in registry order."""
    for effect in AFTER_PUBLISH.values():
        effect(report, settings)

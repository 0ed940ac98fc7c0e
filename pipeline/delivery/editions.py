"""The message templates of one issue: one render per (language, target filter), not per reader.

Rendering an edition is the costly part of a message; personalising a template for one reader is
a few byte joins. So a send renders each distinct edition once and reuses it for every reader who
gets that edition.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import Settings
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import MessageTemplate
from pipeline.outputs.newsletter.render import render_edition
from pipeline.stores.subscribers import Subscriber


class EditionTemplates:
    """Message templates per (language, target filter): rendered once, reused for every recipient."""

    def __init__(
        self, issue: Issue, settings: Settings, config: NewsletterConfig, secret: bytes, date: datetime
    ):
        self.issue, self.settings, self.config, self.secret, self.date = issue, settings, config, secret, date
        self.cache: dict[tuple[str, tuple[str, ...]], MessageTemplate | None] = {}

    def for_subscriber(self, subscriber: Subscriber) -> MessageTemplate | None:
        """The reader's template, or None when the issue has nothing for their targets."""
        key = (subscriber.lang, subscriber.targets)
        if key not in self.cache:
            if not self.issue.for_targets(subscriber.targets) and self.issue.items:
                self.cache[key] = None  # nothing in this issue for these targets
            else:
                edition = render_edition(
                    self.issue, subscriber.lang, self.settings, self.config, targets=subscriber.targets
                )
                self.cache[key] = MessageTemplate(edition, self.settings, self.config, self.secret, self.date)
        return self.cache[key]


__all__ = ["EditionTemplates"]

"""Building the next issue: choose updates, render, check the size, record, publish the archive.

The ``newsletter`` command and the scheduler's ``newsletter`` job both call :func:`build_issue`.
The issue is recorded only after every edition rendered and passed the size check, so a template
error or an oversized issue never uses up a number or marks updates as sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.caching.content_cache import read_cached
from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import LANGUAGES, Settings
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import MessageTemplate
from pipeline.delivery.tokens import DEVELOPMENT_SECRET
from pipeline.outputs.newsletter.archive import archive_files, publish_archive
from pipeline.outputs.newsletter.render import Edition, render_edition
from pipeline.publishing.publish import PublishReport
from pipeline.reading.model import ContentSet
from pipeline.stores.backend import open_backend


class IssueTooLarge(Exception):
    """The HTML part would be clipped by Gmail (and hide the unsubscribe link)."""


@dataclass
class IssueBuildOutcome:
    """What building the next issue did: the issue (None: nothing new), its sizes, the archive."""

    issue: Issue | None  # None: nothing new, no issue
    content: ContentSet
    report: PublishReport | None
    warnings: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # language -> encoded HTML part bytes


@dataclass
class SizeCheck:
    """An issue measured in every language, with the message editions rendered to measure it.

    The editions are kept so that what follows (the archive's sample message, a preview) uses
    them instead of rendering the same edition again.
    """

    sizes: dict[str, int]  # language -> encoded HTML part bytes
    warnings: list[str]
    editions: dict[str, Edition]  # language -> the edition as mailed (personal, no target filter)


def html_size(edition: Edition, settings: Settings, config: NewsletterConfig, date: datetime) -> int:
    """Bytes of the HTML part of ``edition`` as encoded for sending to a typical recipient."""
    return MessageTemplate(edition, settings, config, DEVELOPMENT_SECRET, date).html_part_size()


def check_size(issue: Issue, settings: Settings, config: NewsletterConfig) -> SizeCheck:
    """Encoded HTML size per language; raises :class:`IssueTooLarge` above the limit, warns above the warning."""
    check = SizeCheck(sizes={}, warnings=[], editions={})
    for lang in LANGUAGES:
        edition = check.editions[lang] = render_edition(issue, lang, settings, config)
        size = check.sizes[lang] = html_size(edition, settings, config, issue.created_at)
        kb = f"{size / 1024:.1f} KB"
        if size > config.size_limit_bytes:
            raise IssueTooLarge(
                f"issue {issue.number} ({lang}): the HTML part is {kb} as encoded, above the "
                f"{config.size_limit_bytes // 1024} KB limit (Gmail clips the message and hides the unsubscribe "
                f"link); split it with --since or shorten the summaries of its {len(issue.items)} updates"
            )
        if size > config.size_warn_bytes:
            check.warnings.append(
                f"warning: issue {issue.number} ({lang}): the HTML part is {kb} as encoded, above "
                f"{config.size_warn_bytes // 1024} KB; Gmail clips at about 102 KB"
            )
    return check


def build_issue(
    content_dir: str | Path,
    out_dir: str | Path,
    settings: Settings,
    now: datetime,
    *,
    since: datetime | None = None,
    force: bool = False,
) -> IssueBuildOutcome:
    """Build the next issue (if there is anything new) and republish the whole archive.

    Each edition is rendered once: the message editions the size check rendered are handed to
    the archive (its sample message), past issues are deferred and not rendered at all.
    """
    config = settings.newsletter
    content = read_cached(content_dir, settings, now)  # shares the site build's caches
    outcome = IssueBuildOutcome(issue=None, content=content, report=None)
    checked: list[tuple[Issue, dict[str, Edition]]] = []

    def check(issue: Issue) -> None:
        sizes = check_size(issue, settings, config)
        outcome.sizes, outcome.warnings = sizes.sizes, sizes.warnings
        checked.append((issue, sizes.editions))

    with open_backend(settings).issues() as store:
        outcome.issue = store.create(
            content.updates,
            now,
            since=since,
            first_issue_days=config.first_issue_days,
            force=force,
            check=check,
        )
        issues = store.all()
    files = archive_files(issues, settings, config, rendered=checked)
    outcome.report = publish_archive(out_dir, files, settings)
    return outcome

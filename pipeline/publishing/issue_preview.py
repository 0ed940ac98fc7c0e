"""``newsletter preview``: the next issue (or an existing one) as a file, nothing recorded.

The page and the text are the message's parts with the example recipient's address and links
filled in, written to ``state_dir/preview/issue-N.LANG.{html,txt}``. The edition previewed is the
one the size check rendered: one render per language, not one more for the preview.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.caching.content_cache import read_cached
from pipeline.config.site import Settings
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import MessageTemplate
from pipeline.delivery.tokens import DEVELOPMENT_SECRET
from pipeline.outputs.newsletter.archive import EXAMPLE_UID
from pipeline.outputs.newsletter.render import SLOTS, Edition
from pipeline.publishing.issue_build import check_size
from pipeline.stores.backend import open_backend


class NoSuchIssue(LookupError):
    """``--issue N`` names an issue that was never built."""


@dataclass
class IssuePreview:
    issue: Issue
    edition: Edition
    path: Path  # the HTML file; the text is beside it with the suffix .txt
    existing: bool  # an issue already recorded (else the next one, not recorded)
    warnings: list[str]  # size warnings, as a build would print them


def preview_issue(
    content_dir: str | Path,
    settings: Settings,
    now: datetime,
    *,
    since: datetime | None = None,
    number: int | None = None,
    lang: str | None = None,
) -> IssuePreview:
    """Render issue ``number`` (default: the next one) in ``lang`` to the state folder's preview/."""
    config = settings.newsletter
    with open_backend(settings).issues() as store:
        if number is not None:
            issue = store.get(number)
            if issue is None:
                raise NoSuchIssue(f"there is no issue {number}")
        else:
            content = read_cached(content_dir, settings, now)
            issue = store.plan(content.updates, now, since=since, first_issue_days=config.first_issue_days)
    lang = lang or settings.language
    checked = check_size(issue, settings, config)
    edition = checked.editions[lang]
    template = MessageTemplate(edition, settings, config, DEVELOPMENT_SECRET, now)
    unsubscribe_url, preferences_url = template.urls(EXAMPLE_UID)
    values = {
        "address": config.example_recipient,
        "unsubscribe": unsubscribe_url,
        "preferences": preferences_url,
    }
    page, text = edition.html, edition.text
    for name, marker in SLOTS.items():
        page = page.replace(marker, html.escape(values[name]))
        text = text.replace(marker, values[name])
    folder = config.state_dir / "preview"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"issue-{issue.number}.{lang}.html"
    target.write_text(page, encoding="utf-8")
    target.with_suffix(".txt").write_text(text, encoding="utf-8")
    return IssuePreview(issue, edition, target, number is not None, checked.warnings)

"""The newsletter's web archive: every issue's web version, text, a sample message, an index and a feed.

Pure like the site builders — issues in, ``{relative path: bytes}`` out, no clock — and published
by the newsletter job with ``preserve`` set so the site build's files stay untouched (the site
build in turn carries ``newsletters/`` over). Files::

    newsletters/<n>/index.html      web version in the site's language (no personal data)
    newsletters/<n>/index.txt       its plain-text twin
    newsletters/<n>/<lang>/…        the same in the other language
    newsletters/<n>/message.eml     a complete sample message to an example recipient
    newsletters/index.html          all issues
    newsletters/atom.xml            an Atom feed of issues
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from pipeline.dates import display_date
from pipeline.newsletter.config import NewsletterConfig
from pipeline.newsletter.issues import Issue
from pipeline.newsletter.message import MessageTemplate
from pipeline.newsletter.render import WORDS, context, render_edition, web_path
from pipeline.newsletter.tokens import DEVELOPMENT_SECRET
from pipeline.publish import PublishReport, publish
from pipeline.settings import LANGUAGES, Settings
from pipeline.templating import environment

PREFIX = "newsletters/"
EXAMPLE_UID = "example00000"


def issue_files(issue: Issue, settings: Settings, config: NewsletterConfig) -> dict[str, bytes]:
    """The web versions (both languages) and the sample message of one issue."""
    files: dict[str, bytes] = {}
    for lang in LANGUAGES:
        edition = render_edition(issue, lang, settings, config, personal=False)
        folder = web_path(issue.number, lang, settings)
        files[folder + "index.html"] = edition.html.encode("utf-8")
        files[folder + "index.txt"] = edition.text.encode("utf-8")
    sample = render_edition(issue, settings.language, settings, config, personal=True)
    # The development secret: the sample's links must never be valid for a real subscriber.
    template = MessageTemplate(sample, settings, config, DEVELOPMENT_SECRET, issue.created_at)
    files[f"{PREFIX}{issue.number}/message.eml"] = template.personalise(
        EXAMPLE_UID, config.example_recipient
    ).data
    return files


def _entries(issues: Sequence[Issue], settings: Settings, config: NewsletterConfig) -> list[dict]:
    lang = settings.language
    other = next(code for code in LANGUAGES if code != lang)
    entries = []
    for issue in sorted(issues, key=lambda i: i.number, reverse=True):
        ctx = context(issue, lang, settings, config, personal=False)
        links = "".join(
            f'<li><a href="{html.escape(item["url"])}">{html.escape(item["title"])}</a></li>'
            for item in ctx["items"]
        )
        entries.append(
            {
                "id": f"tag:{settings.host},{issue.created_at.year}:newsletter/{issue.number}",
                "subject": ctx["subject"],
                "preheader": ctx["preheader"],
                "created_at": issue.created_at,
                "date": display_date(issue.created_at, lang, settings.tz),
                "url": ctx["web_url"],
                "other_url": settings.url(web_path(issue.number, other, settings)),
                "other_lang": other,
                "content": f"<p>{html.escape(ctx['intro'])}</p><ul>{links}</ul>",
            }
        )
    return entries


def archive_files(issues: Sequence[Issue], settings: Settings, config: NewsletterConfig) -> dict[str, bytes]:
    """Every file under ``newsletters/`` for these issues; same issues and settings → same bytes."""
    env = environment()
    files: dict[str, bytes] = {}
    for issue in issues:
        files.update(issue_files(issue, settings, config))
    entries = _entries(issues, settings, config)
    lang = settings.language
    common = {"settings": settings, "lang": lang, "words": WORDS[lang], "entries": entries}
    files[PREFIX + "index.html"] = env.get_template("newsletter/archive.html").render(common).encode("utf-8")
    updated = max((i.created_at for i in issues), default=None)
    if updated is not None:
        atom = env.get_template("newsletter/atom.xml").render(
            common,
            updated=updated,
            feed_id=f"tag:{settings.host},{min(i.created_at for i in issues).year}:newsletters",
        )
        files[PREFIX + "atom.xml"] = atom.encode("utf-8")
    return dict(sorted(files.items()))


def publish_archive(out_dir: str | Path, files: dict[str, bytes]) -> PublishReport:
    """Publish ``newsletters/`` atomically; everything else in the output folder is kept as it is."""
    return publish(out_dir, files, preserve=lambda path: not path.startswith(PREFIX))


__all__ = ["PREFIX", "archive_files", "issue_files", "publish_archive"]

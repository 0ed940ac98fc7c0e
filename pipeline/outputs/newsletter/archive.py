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

A past issue never changes, so its files are :class:`~pipeline.caching.deferred.Deferred`, keyed by the
issue, the settings and the code: publishing (with the manifest in the state folder) makes only
the new issue's files, not 500 past issues' three renders each on every build. Each edition
(issue × language) is rendered once per build, for both its HTML and its text file.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest
from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import LANGUAGES, Settings
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import MessageTemplate
from pipeline.delivery.tokens import DEVELOPMENT_SECRET
from pipeline.outputs import urls
from pipeline.outputs.newsletter.render import Edition, context, render_edition
from pipeline.publishing.publish import PublishReport, publish
from pipeline.reading.dates import display_date

PREFIX = urls.NEWSLETTERS
EXAMPLE_UID = "example00000"


# Message editions (personal, no target filter) already rendered, with the issue they were made for.
Rendered = Sequence[tuple[Issue, Mapping[str, Edition]]]


def issue_files(issue: Issue, settings: Settings, config: NewsletterConfig) -> dict[str, bytes]:
    """The web versions (both languages) and the sample message of one issue."""
    return {path: produce() for path, produce in _issue_outputs(issue, settings, config, ()).items()}


def _issue_outputs(issue: Issue, settings: Settings, config: NewsletterConfig, rendered: Rendered) -> dict:
    """``{path: function making its bytes}``; a file's language is rendered once for both files,
    and a message edition in ``rendered`` (the size check's) is not rendered again."""
    last: dict[tuple[str, bool], Edition] = {}

    def edition(lang: str, personal: bool) -> Edition:
        key = (lang, personal)
        if personal:
            made = next((eds[lang] for done, eds in rendered if done == issue and lang in eds), None)
            if made is not None:
                return made
        if key not in last:
            last.clear()  # files of one edition are made one after the other: keep one render
            last[key] = render_edition(issue, lang, settings, config, personal=personal)
        return last[key]

    def sample() -> bytes:
        # The development secret: the sample's links must never be valid for a real subscriber.
        rendered = edition(settings.language, True)
        template = MessageTemplate(rendered, settings, config, DEVELOPMENT_SECRET, issue.created_at)
        return template.personalise(EXAMPLE_UID, config.example_recipient).data

    outputs = {}
    for lang in LANGUAGES:
        folder = urls.issue_path(issue.number, lang, settings.language)
        outputs[folder + "index.html"] = lambda lang=lang: edition(lang, False).html.encode("utf-8")
        outputs[folder + "index.txt"] = lambda lang=lang: edition(lang, False).text.encode("utf-8")
    outputs[f"{PREFIX}{issue.number}/message.eml"] = sample
    return outputs


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
                "other_url": settings.url(urls.issue_path(issue.number, other, settings.language)),
                "other_lang": other,
                "content": f"<p>{html.escape(ctx['intro'])}</p><ul>{links}</ul>",
            }
        )
    return entries


def archive_files(
    issues: Sequence[Issue], settings: Settings, config: NewsletterConfig, rendered: Rendered = ()
) -> dict[str, Output]:
    """Every file under ``newsletters/`` for these issues; same issues and settings → same bytes.

    Each issue's files are deferred, keyed by everything they are made from. ``rendered``: message
    editions made already (the new issue's size check), used instead of rendering them again.
    """
    env = settings.env
    files: dict[str, Output] = {}
    inputs = digest(settings.context_digest, repr(config))
    for issue in issues:
        key = digest(inputs, "newsletter issue", repr(issue))
        for path, produce in _issue_outputs(issue, settings, config, rendered).items():
            files[path] = Deferred(f"{key}:{path}", produce)
    entries = _entries(issues, settings, config)
    lang = settings.language
    common = {"settings": settings, "lang": lang, "entries": entries}
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


def publish_archive(
    out_dir: str | Path, files: dict[str, Output], settings: Settings | None = None
) -> PublishReport:
    """Publish ``newsletters/`` atomically; everything else in the output folder is kept as it is.

    With ``settings``, the archive's own manifest in the state folder lets unchanged issues be
    kept without being made (the site build's manifest for the same folder is a different file).
    """
    manifest = None
    if settings is not None:
        out = Path(out_dir).absolute()
        manifest = Path(settings.state_dir) / "outputs" / f"newsletters-{digest(str(out))}.json"
    return publish(out_dir, files, preserve=lambda path: not path.startswith(PREFIX), manifest_path=manifest)


__all__ = ["PREFIX", "archive_files", "issue_files", "publish_archive"]

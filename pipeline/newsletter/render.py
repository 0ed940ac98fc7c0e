"""Rendering an issue: Jinja → MJML → HTML (mjml-python), once per issue, language and target filter.

The result is an :class:`Edition`: subject, preheader, HTML and plain text in which the few
per-recipient values are *slots* (:data:`SLOTS`). :mod:`pipeline.newsletter.message` fills them in
per subscriber without rendering anything again; the web archive fills them with nothing personal
(``personal=False`` renders a footer without address or tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import mjml

from pipeline.dates import display_date
from pipeline.newsletter.config import NewsletterConfig
from pipeline.newsletter.issues import Issue, IssueItem
from pipeline.newsletter.plaintext import render_text
from pipeline.settings import Settings
from pipeline.taxonomy import load_taxonomy
from pipeline.templating import environment

HTML_TEMPLATE = "newsletter/issue.mjml"
TEXT_TEMPLATE = "newsletter/issue.txt"

# Per-recipient values, as they appear in a rendered edition. Only URL-safe characters, so they
# pass Jinja escaping and MJML untouched and are found again byte for byte.
SLOTS = {
    "address": "@@goal17-address@@",
    "unsubscribe": "@@goal17-unsubscribe-url@@",
    "preferences": "@@goal17-preferences-url@@",
}

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "newsletter": "Nyhetsbrev",
        "targets": "Delmål",
        "read_more": "Läs mer",
        "other": "Övrigt",
        "nothing_new": "Inga nya nyheter den här gången.",
        "why_before": "Du får det här nyhetsbrevet eftersom",
        "why_after": "prenumererar på nyheter om Agenda 2030, mål 17.",
        "unsubscribe": "Avsluta prenumerationen",
        "preferences": "Ändra inställningar",
        "web_version": "Läs i webbläsaren",
        "web_why": "Det här är webbversionen av ett nyhetsbrev. Varje brev har en länk för att avsluta prenumerationen.",
        "archive": "Alla nyhetsbrev",
        "links": "Länkar",
        "more": "och {n} till",
        "news_count": "{n} nyheter",
        "one_news": "1 nyhet",
    },
    "en": {
        "newsletter": "Newsletter",
        "targets": "Targets",
        "read_more": "Read more",
        "other": "Other",
        "nothing_new": "No new updates this time.",
        "why_before": "You receive this newsletter because",
        "why_after": "is subscribed to updates on Agenda 2030, goal 17.",
        "unsubscribe": "Unsubscribe",
        "preferences": "Change preferences",
        "web_version": "View in browser",
        "web_why": "This is the web version of a newsletter. Every message has a link to unsubscribe.",
        "archive": "All newsletters",
        "links": "Links",
        "more": "and {n} more",
        "news_count": "{n} updates",
        "one_news": "1 update",
    },
}


class RenderError(Exception):
    """A template failed; the message names the template."""


@dataclass(frozen=True)
class Edition:
    """One issue rendered for one language and target filter, with slots for the recipient."""

    number: int
    lang: str
    targets: tuple[str, ...]
    items: tuple[IssueItem, ...]
    subject: str
    preheader: str
    html: str
    text: str
    web_url: str
    personal: bool


def web_path(number: int, lang: str, settings: Settings) -> str:
    """Site-relative folder of an issue's web version (the site's language at the top)."""
    return f"newsletters/{number}/" if lang == settings.language else f"newsletters/{number}/{lang}/"


def subject_line(issue: Issue, items: Sequence[IssueItem], lang: str, settings: Settings) -> str:
    words = WORDS[lang]
    head = f"{words['newsletter']} {issue.number}"
    if not items:
        return f"{head}: {settings.title}"
    first = items[0].title
    if len(first) > 70:
        first = first[:69].rstrip() + "…"
    more = f" {words['more'].format(n=len(items) - 1)}" if len(items) > 1 else ""
    return f"{head}: {first}{more}"


def _preheader(items: Sequence[IssueItem], lang: str, config: NewsletterConfig) -> str:
    words = WORDS[lang]
    if not items:
        return words["nothing_new"]
    count = words["one_news"] if len(items) == 1 else words["news_count"].format(n=len(items))
    text = f"{count}: " + " · ".join(item.title for item in items[1:4] or items[:1])
    return text if len(text) <= 140 else text[:139].rstrip() + "…"


def _groups(items: Sequence[IssueItem], lang: str, settings: Settings) -> list[dict[str, Any]]:
    """Items grouped by the target group of their first target, in taxonomy order, newest first."""
    taxonomy = load_taxonomy()
    order = {group.id: n for n, group in enumerate(taxonomy.groups)}
    buckets: dict[str, list[IssueItem]] = {}
    for item in items:
        key = taxonomy.group_of(item.targets[0]).id if item.targets else ""
        buckets.setdefault(key, []).append(item)
    groups = []
    for key in sorted(buckets, key=lambda k: order.get(k, len(order))):
        title = taxonomy.group(key).title(lang) if key else WORDS[lang]["other"]
        groups.append({"id": key or "other", "title": title, "entries": buckets[key]})
    return groups


def context(
    issue: Issue,
    lang: str,
    settings: Settings,
    config: NewsletterConfig,
    *,
    targets: Sequence[str] = (),
    personal: bool = True,
) -> dict[str, Any]:
    """Everything both templates see; items carry display dates, badge titles and link numbers."""
    if lang not in WORDS:
        raise RenderError(f"no newsletter words for language {lang!r}")
    taxonomy = load_taxonomy()
    chosen = issue.for_targets(targets)
    groups = _groups(chosen, lang, settings)
    views: list[dict[str, Any]] = []
    for group in groups:
        shown = []
        for item in group["entries"]:
            view = {
                "id": item.id,
                "title": item.title,
                "url": item.url,
                "lang": item.lang,
                "summary": item.summary,
                "display_date": _display(item, lang, settings),
                "targets": [{"id": t, "title": taxonomy.target(t).title(lang)} for t in item.targets],
                "ref": len(views) + 1,
            }
            views.append(view)
            shown.append(view)
        group["entries"] = shown
    return {
        "issue": issue,
        "lang": lang,
        "settings": settings,
        "words": WORDS[lang],
        "intro": config.intro[lang],
        "logo": config.logo,
        "logo_width": config.logo_width,
        "groups": groups,
        "items": views,
        "subject": subject_line(issue, chosen, lang, settings),
        "preheader": _preheader(chosen, lang, config),
        "personal": personal,
        "slot": SLOTS,
        "web_url": settings.url(web_path(issue.number, lang, settings)),
        "archive_url": settings.url("newsletters/"),
        "chosen": chosen,
    }


def _display(item: IssueItem, lang: str, settings: Settings) -> str:
    return display_date(item.date, lang, settings.tz)


def render_html(ctx: dict[str, Any], env: jinja2.Environment | None = None) -> str:
    """Jinja → MJML → HTML; a template or MJML error becomes :class:`RenderError` naming the template."""
    env = env or environment()
    try:
        source = env.get_template(HTML_TEMPLATE).render(ctx)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"templates/{exc.name or HTML_TEMPLATE}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"templates/{HTML_TEMPLATE}: {exc}") from None
    try:
        html = mjml.mjml2html(source, fonts={})
    except (ValueError, RuntimeError) as exc:
        raise RenderError(f"templates/{HTML_TEMPLATE}: MJML error: {exc}") from None
    missing = [
        name for name, slot in SLOTS.items() if ctx["personal"] and slot not in html and name != "address"
    ]
    if missing:
        raise RenderError(f"templates/{HTML_TEMPLATE}: the footer lost its {', '.join(missing)} link")
    return html if html.endswith("\n") else html + "\n"  # MIME text bodies end with a line break


def _render_text(ctx: dict[str, Any], env: jinja2.Environment | None) -> str:
    try:
        return render_text(ctx, env or environment(), TEXT_TEMPLATE)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"templates/{exc.name or TEXT_TEMPLATE}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"templates/{TEXT_TEMPLATE}: {exc}") from None


def render_edition(
    issue: Issue,
    lang: str,
    settings: Settings,
    config: NewsletterConfig,
    *,
    targets: Sequence[str] = (),
    personal: bool = True,
    env: jinja2.Environment | None = None,
) -> Edition:
    """Render the HTML and text parts of one edition (the expensive step, done once per edition)."""
    ctx = context(issue, lang, settings, config, targets=targets, personal=personal)
    return Edition(
        number=issue.number,
        lang=lang,
        targets=tuple(targets),
        items=ctx["chosen"],
        subject=ctx["subject"],
        preheader=ctx["preheader"],
        html=render_html(ctx, env),
        text=_render_text(ctx, env),
        web_url=ctx["web_url"],
        personal=personal,
    )


__all__ = ["SLOTS", "WORDS", "Edition", "RenderError", "render_edition", "subject_line", "web_path"]

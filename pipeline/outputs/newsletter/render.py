"""Rendering an issue: Jinja → MJML → HTML (mjml-python), once per issue, language and target filter.

The result is an :class:`Edition`: subject, preheader, HTML and plain text in which the few
per-recipient values are *slots* (:data:`SLOTS`). :mod:`pipeline.delivery.message` fills them in
per subscriber without rendering anything again; the web archive fills them with nothing personal
(``personal=False`` renders a footer without address or tokens).
"""

from __future__ import annotations

import html as html_lib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import mjml

from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.delivery.issues import Issue, IssueItem
from pipeline.locale import languages, translations
from pipeline.outputs import urls
from pipeline.outputs.labels import format_list, format_number
from pipeline.outputs.newsletter.plaintext import render_text
from pipeline.outputs.newsletter.subject import shorten, subject_line
from pipeline.reading.dates import display_date

HTML_TEMPLATE = "newsletter/issue.mjml"
TEXT_TEMPLATE = "newsletter/issue.txt"

# Per-recipient values, as they appear in a rendered edition. Only URL-safe characters, so they
# pass Jinja escaping and MJML untouched and are found again byte for byte.
SLOTS = {
    "address": "@@goal17-address@@",
    "unsubscribe": "@@goal17-unsubscribe-url@@",
    "preferences": "@@goal17-preferences-url@@",
}

# The preheader (the line inbox lists show after the subject) is hidden the standard way:
# display:none plus mso-hide for Outlook, and no colours at all, so spam filters see no
# low-contrast text (SpamAssassin's HTML_FONT_LOW_CONTRAST). Zero-width padding after it keeps
# clients from filling the preview with the text that follows.
PREHEADER_STYLE = "display:none;max-height:0;max-width:0;overflow:hidden;mso-hide:all;"
PREHEADER_PADDING = "&zwnj;&nbsp;" * 40  # blank in text-mode readers, unlike &#847;


class RenderError(Exception):
    """A template failed; the message names the template."""


@dataclass(frozen=True)
class Edition:
    """One issue rendered for one language and target filter, with slots for the recipient."""

    number: int
    lang: str
    targets: tuple[str, ...]
    items: tuple[IssueItem, ...]  # in the order the edition shows them ([n] in the text part)
    subject: str
    preheader: str
    html: str
    text: str
    web_url: str
    personal: bool


def edition_subject(
    issue: Issue, items: Sequence[IssueItem], lang: str, settings: Settings, config: NewsletterConfig
) -> str:
    """The subject from ``[newsletter] subject_<lang>`` (see :mod:`pipeline.outputs.newsletter.subject`)."""
    lead = lead_item(items, lang)
    return subject_line(
        config.subject[lang],
        lead=lead.title if lead else "",
        number=issue.number,
        created_at=issue.created_at,
        tz=settings.tz,
        count=len(items),
        empty_title=translations(lang).gettext("Inga nya nyheter den här gången.").rstrip("."),
    )


def lead_item(items: Sequence[IssueItem], lang: str) -> IssueItem | None:
    """The update the subject names: the newest in the edition's language, else the newest."""
    return next((item for item in items if item.lang == lang), items[0] if items else None)


def _preheader(items: Sequence[IssueItem], lang: str) -> str:
    """ "4 nyheter: B · C · D": the count and the titles the subject did not already show."""
    i18n = translations(lang)
    if not items:
        return i18n.gettext("Inga nya nyheter den här gången.")
    count = i18n.ngettext("{n} nyhet", "{n} nyheter", len(items)).format(n=format_number(len(items), lang))
    lead = lead_item(items, lang)
    others = [item.title for item in items if item is not lead][:3]
    return shorten(f"{count}: " + " · ".join(others or [items[0].title]), 140)


def group_of(targets: Sequence[str], order: Sequence[str]) -> str:
    """The group an update is filed under: the one holding most of its targets.

    Ties go to the group that comes first in ``order`` (``[newsletter] group_order``), so an
    update on 17.6, 17.9 and 17.16 is not filed under "Teknik" just because 17.6 is listed
    first. No targets: "" (the "Övrigt" section, last).
    """
    taxonomy = load_taxonomy()
    counts = Counter(taxonomy.group_of(t).id for t in targets if taxonomy.has_target(t))
    if not counts:
        return ""
    most = max(counts.values())
    rank = {group: n for n, group in enumerate(order)}
    return min((g for g, c in counts.items() if c == most), key=lambda g: rank.get(g, len(rank)))


def _groups(items: Sequence[IssueItem], lang: str, config: NewsletterConfig) -> list[dict[str, Any]]:
    """Items in sections by :func:`group_of`, sections in ``group_order``, newest first in each."""
    taxonomy = load_taxonomy()
    order = {group: n for n, group in enumerate(config.group_order)}
    buckets: dict[str, list[IssueItem]] = {}
    for item in items:
        buckets.setdefault(group_of(item.targets, config.group_order), []).append(item)
    groups = []
    for key in sorted(buckets, key=lambda k: order.get(k, len(order))):
        title = taxonomy.group(key).title(lang) if key else translations(lang).gettext("Övrigt")
        groups.append({"id": key or "other", "title": title, "entries": buckets[key]})
    return groups


def _target_list(ids: Sequence[str], lang: str) -> str:
    """ "17.9, 17.16 och 17.17": numbers the reader can look up, joined as a sentence."""
    return format_list(ids, lang)


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
    if lang not in languages():
        raise RenderError(f"no newsletter words for language {lang!r} (no catalogue in pipeline/locale/)")
    taxonomy = load_taxonomy()
    chosen = issue.for_targets(targets)
    groups = _groups(chosen, lang, config)
    views: list[dict[str, Any]] = []
    shown_items: list[IssueItem] = []  # in reading order: by section, newest first in each
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
                "target_list": _target_list(item.targets, lang),
                "ref": len(views) + 1,
            }
            views.append(view)
            shown.append(view)
            shown_items.append(item)
        group["entries"] = shown
    subject = edition_subject(issue, chosen, lang, settings, config)
    return {
        "issue": issue,
        "lang": lang,
        "week": issue.created_at.astimezone(settings.tz).isocalendar().week,
        "settings": settings,
        "intro": config.intro[lang],
        "logo": config.logo,
        "logo_width": config.logo_width,
        "groups": groups,
        "items": views,
        "subject": subject,
        "preheader": _preheader(chosen, lang),
        "postal_address": config.postal_address,
        "site_url": settings.url(""),
        "subscribe_url": settings.web.url("subscribe"),
        "personal": personal,
        "slot": SLOTS,
        "web_url": settings.url(urls.issue_path(issue.number, lang, settings.language)),
        "archive_url": settings.url(urls.NEWSLETTERS),
        "chosen": tuple(shown_items),
    }


def _display(item: IssueItem, lang: str, settings: Settings) -> str:
    return display_date(item.date, lang, settings.tz)


def render_html(ctx: dict[str, Any], env: jinja2.Environment) -> str:
    """Jinja → MJML → HTML; a template or MJML error becomes :class:`RenderError` naming the template."""
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
    html = _with_preheader(html, ctx["preheader"])
    missing = [
        name for name, slot in SLOTS.items() if ctx["personal"] and slot not in html and name != "address"
    ]
    if missing:
        raise RenderError(f"templates/{HTML_TEMPLATE}: the footer lost its {', '.join(missing)} link")
    return html if html.endswith("\n") else html + "\n"  # MIME text bodies end with a line break


def _with_preheader(html: str, preheader: str) -> str:
    """Put the hidden preheader right after the brand line (see :data:`PREHEADER_STYLE`).

    Inbox lists show the brand and then the preheader; a text-mode reader (w3m, lynx), which
    ignores CSS, starts with the site's name rather than a stray sentence and a run of padding.
    """
    marker = "<!--goal17-preheader-->"
    block = f'<div style="{PREHEADER_STYLE}">{html_lib.escape(preheader)}{PREHEADER_PADDING}</div>'
    if marker not in html:
        raise RenderError(f"templates/{HTML_TEMPLATE}: the preheader marker {marker} is missing")
    return html.replace(marker, block, 1)


def _render_text(ctx: dict[str, Any], env: jinja2.Environment) -> str:
    try:
        return render_text(ctx, env, TEXT_TEMPLATE)
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
    env = env or settings.env
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


__all__ = [
    "SLOTS",
    "Edition",
    "RenderError",
    "edition_subject",
    "group_of",
    "render_edition",
]

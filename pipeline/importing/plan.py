"""Every decision of an import, made before anything is written: file names, front matter, bodies,
what is skipped and what needs a human. Pure: the same feed and folder give the same plan.

Ids: the source's guid (RSS) or id (Atom) is kept as the update's ``id``, so readers who
followed the old feed do not see the items again. A guid that is a URI stays as it is; one that
is a short id stays short (mapped to ``tag:`` when read, :mod:`pipeline.reading.ids`); anything else
(spaces, non-ASCII) becomes ``import-<hash>``, the same for the same guid on every run. An item
without guid and link gets ``import-<hash of title and date>``. An item whose id is already in
the content folder is skipped, so running the same import twice adds nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config.site import LANGUAGES, Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.importing.convert import to_markdown
from pipeline.importing.existing import Existing
from pipeline.importing.mapping import Mapping
from pipeline.importing.model import Entry, Feed, Skipped
from pipeline.reading import ids, sanitize
from pipeline.reading.slugs import SLUG_RE, slugify

SLUG_LIMIT = 80
SUMMARY_LIMIT = 300


@dataclass(frozen=True)
class PlannedFile:
    rel: str  # content-relative path of the new file
    text: str
    line: int  # of the item in the input
    id: str  # as written in the file
    title: str
    date: datetime
    lang: str
    targets: tuple[str, ...]
    draft: bool
    images: tuple[str, ...]  # absolute URLs the body refers to
    notes: tuple[str, ...]  # what a human should look at


@dataclass
class Plan:
    files: list[PlannedFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unknown_categories: Counter[str] = field(default_factory=Counter)

    @property
    def needs_human(self) -> list[PlannedFile]:
        return [f for f in self.files if f.notes]


def make_plan(
    feed: Feed,
    settings: Settings,
    mapping: Mapping,
    existing: Existing,
    lang: str | None = None,
    image_paths: MappingType[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """The files ``feed`` becomes in a content folder holding ``existing``.

    ``lang`` forces every item's language; ``image_paths`` replaces image URLs with downloaded
    copies (content-relative paths).
    """
    plan = Plan(skipped=list(feed.skipped))
    seen_ids: dict[str, int] = {}
    slugs = set(existing.slugs)
    paths = set(existing.paths)
    taxonomy = load_taxonomy()
    for number, entry in enumerate(feed.entries, start=1):
        if progress is not None:
            progress(number, len(feed.entries))
        notes = list(entry.notes)
        if entry.published is None:
            plan.skipped.append(Skipped(entry.line, _title(entry) or "(untitled)", "no date: add it by hand"))
            continue
        title = _title(entry)
        body = to_markdown(
            entry.content_html or "",
            entry.base or entry.link or feed.link,
            wordpress=entry.wordpress,
            image_url=(lambda url: image_paths.get(url, url)) if image_paths else None,
        )
        notes += body.notes
        if not title:
            text = sanitize.plain_text(entry.content_html or "")
            if not text:
                plan.skipped.append(Skipped(entry.line, "(untitled)", "no title and no text"))
                continue
            title = sanitize.shorten(text, 80)
            notes.append("no title in the source: made from the first words")
        update_id, id_note = _id(entry, title)
        if id_note:
            notes.append(id_note)
        canonical = ids.canonical_id(update_id, settings.tag_authority) or update_id
        if canonical in existing.ids:
            plan.skipped.append(
                Skipped(entry.line, title, f"already in the content folder as {existing.ids[canonical]}")
            )
            continue
        if canonical in seen_ids:
            plan.skipped.append(
                Skipped(entry.line, title, f"same id as the item on line {seen_ids[canonical]}")
            )
            continue
        seen_ids[canonical] = entry.line

        targets: set[str] = set()
        for name in entry.categories + entry.tags:
            mapped = mapping.lookup(name)
            if mapped is None:
                if name in entry.categories:
                    plan.unknown_categories[name] += 1
            else:
                targets.update(mapped)
        ordered_targets = taxonomy.sort_targets(list(targets))
        if not ordered_targets:
            categories = ", ".join(entry.categories) or "none"
            notes.append(f"no target (categories: {categories})")
        item_lang, lang_note = _lang(lang, entry.lang or feed.lang, settings.language)
        if lang_note:
            notes.append(lang_note)
        if not body.markdown:
            notes.append("no text")

        slug = _slug(entry, title, slugs, paths)
        rel = f"{slug}.md"
        slugs.add(slug)
        paths.add(rel.casefold())
        summary = (
            sanitize.shorten(sanitize.plain_text(entry.summary_html), SUMMARY_LIMIT)
            if entry.summary_html
            else ""
        )
        meta: list[tuple[str, object]] = [
            ("id", update_id),
            ("title", title),
            ("date", _when(entry.published, settings)),
        ]
        if entry.updated and entry.updated > entry.published:
            meta.append(("updated", _when(entry.updated, settings)))
        if summary:
            meta.append(("summary", summary))
        if entry.author:
            meta.append(("author", sanitize.clean_text(entry.author)))
        meta.append(("lang", item_lang))
        meta.append(("targets", list(ordered_targets)))
        tags = list(dict.fromkeys(" ".join(t.split()) for t in entry.categories + entry.tags))
        meta.append(("tags", tags))
        if entry.draft:
            meta.append(("draft", True))
        origin = f"# imported from {entry.link}" if entry.link else f"# imported from {feed.format}"
        text = (
            "---\n"
            + _yaml_comment(origin)
            + "".join(_yaml_line(k, v) for k, v in meta)
            + "---\n\n"
            + sanitize.clean_text(body.markdown)
        )
        plan.files.append(
            PlannedFile(
                rel=rel,
                text=text,
                line=entry.line,
                id=update_id,
                title=title,
                date=entry.published,
                lang=item_lang,
                targets=ordered_targets,
                draft=entry.draft,
                images=body.images,
                notes=tuple(notes),
            )
        )
    return plan


def _title(entry: Entry) -> str:
    # RSS titles are plain text, but many feeds escape them twice ("Tom &amp; Jerry").
    return sanitize.clean_text(" ".join(html.unescape(entry.title).split()))


def _id(entry: Entry, title: str) -> tuple[str, str | None]:
    original = entry.original_id or entry.link
    if original is None:
        made = "import-" + _hash(title, entry.published.isoformat() if entry.published else "")
        return made, f"no guid or link in the source: id {made} made from title and date"
    original = original.strip()
    if ids.is_valid_id(original) or ids.is_short_id(original):
        return original, None
    made = "import-" + _hash(original)
    return made, f"source id {original!r} is neither a URI nor a short id: written as {made}"


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]


def _lang(forced: str | None, written: str | None, default: str) -> tuple[str, str | None]:
    if forced:
        return forced, None
    if not written:
        return default, None
    primary = re.split(r"[-_]", written.strip().lower())[0]
    if primary in LANGUAGES:
        return primary, None
    return default, f"language {written!r} is not one of {', '.join(LANGUAGES)}: imported as {default}"


def _slug(entry: Entry, title: str, slugs: set[str], paths: set[str]) -> str:
    base = slugify(entry.slug or "") or slugify(title)
    if len(base) > SLUG_LIMIT:
        base = base[:SLUG_LIMIT].rsplit("-", 1)[0] or base[:SLUG_LIMIT]
    if not base or not SLUG_RE.match(base):
        base = "import"
    candidate, number = base, 1
    while candidate in slugs or f"{candidate}.md".casefold() in paths:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _when(moment: datetime, settings: Settings) -> str:
    """The moment in the site's zone with its offset: what the author would write."""
    return moment.astimezone(settings.tz).isoformat(timespec="seconds")


def _yaml_line(key: str, value: object) -> str:
    # JSON scalars and flow sequences are YAML too, and quoting everything keeps 17.10 a string.
    if isinstance(value, bool):
        return f"{key}: {'true' if value else 'false'}\n"
    if isinstance(value, list):
        return f"{key}: [{', '.join(_quote(v) for v in value)}]\n"
    return f"{key}: {_quote(value)}\n"


def _quote(value: object) -> str:
    quoted = json.dumps(sanitize.clean_text(str(value)), ensure_ascii=False)
    return quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")  # YAML line breaks


def _yaml_comment(text: str) -> str:
    return " ".join(text.split()) + "\n"

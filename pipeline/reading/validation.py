"""Front-matter checks: one file's bytes → a validated :class:`Source`, or its problems.

Every problem of a file is collected (``path:line: severity: message``), never just the first;
checks across files (unique ids and slugs, the image exists) are here too, and the caller
reports everything together before anything is built.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.config.site import LANGUAGES, Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale.cli import tr
from pipeline.reading import frontmatter, ids, sanitize
from pipeline.reading.dates import DateError, parse_datetime
from pipeline.reading.frontmatter import Field
from pipeline.reading.links import content_path
from pipeline.reading.markdown_limits import check_unclosed
from pipeline.reading.model import Problem, Source
from pipeline.reading.slugs import SLUG_RE, slugify

KNOWN_KEYS = {
    "title",
    "date",
    "updated",
    "id",
    "slug",
    "summary",
    "targets",
    "tags",
    "lang",
    "author",
    "image",
    "image_alt",
    "draft",
}

# Characters no front-matter value may hold: C0 controls (CR and LF would start a new mail
# header in a Subject made from a title), DEL, C1 controls and the Unicode line and paragraph
# separators (which some clients treat as line breaks).
CONTROL_CHARACTERS = _CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A summary written as a YAML block scalar keeps its line breaks; its whitespace is collapsed.
_SUMMARY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# Characters XML 1.0 cannot carry at all (feeds): refused in the body too.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Those of them below U+0080, which UTF-8 writes as the same single bytes (and never as part of
# another character's bytes): a file whose bytes hold none of them has none in its text.
_XML_ILLEGAL_BYTES = bytes(code for code in range(0x80) if _XML_ILLEGAL.match(chr(code)))


def decode_text(data: bytes) -> str:
    """A file's text: UTF-8 (a BOM is dropped), every line ending made ``\\n``."""
    text = data.decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _xml_illegal(data: bytes, body: str) -> re.Match[str] | None:
    """The first character of ``body`` (a part of ``data``'s text) that XML cannot carry.

    The regular expression reads 5 ns a character; looking for each of the single-byte ones in
    ``data`` (an ``int in bytes`` is a memchr) and for the two others in ``body`` with ``in`` is
    several times cheaper (it was ``bytes.translate``, a copy of the file and a table lookup per
    byte, 11 % of reading a file), and when either finds something the expression says where.
    """
    for byte in _XML_ILLEGAL_BYTES:
        if byte in data:
            return _XML_ILLEGAL.search(body)
    if "\ufffe" in body or "\uffff" in body:
        return _XML_ILLEGAL.search(body)
    return None


def read_source(rel: str, data: bytes, settings: Settings, problems: list[Problem]) -> Source | None:
    def problem(line: int, message: str, severity: str = "error") -> None:
        problems.append(Problem(rel, line, message, severity))

    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem(line, tr("not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8", byte=data[exc.start]))
        return None
    try:
        doc = frontmatter.split(text)
    except frontmatter.FrontMatterError as exc:
        problem(exc.line, exc.message)
        return None
    meta = doc.meta
    before = len([p for p in problems if p.severity == "error"])
    if not doc.plain:  # the fast reader's values hold no control character (it declines on any)
        _check_controls(meta, problem)
    illegal = _xml_illegal(data, doc.body)
    if illegal:
        line = doc.body_line + doc.body.count("\n", 0, illegal.start())
        problem(
            line,
            tr("the text contains the control character {char}; remove it", char=_describe(illegal.group())),
        )
    for key, fld in meta.items():
        if key not in KNOWN_KEYS:
            problem(fld.line, tr("unknown front-matter key '{key}' (ignored)", key=key), "warning")

    def text_value(key: str, required: bool = False) -> str | None:
        fld = meta.get(key)
        if fld is None or fld.value in (None, ""):
            if required:
                problem(doc.meta_line, tr("missing required '{key}'", key=key))
            return None
        if not isinstance(fld.value, str):
            problem(fld.line, tr("'{key}' must be a single text value", key=key))
            return None
        return fld.value.strip()

    title = text_value("title", required=True)
    if title is not None and not title:
        problem(meta["title"].line, tr("'title' is empty"))

    tz = settings.tz
    published = _date_value(meta, "date", tz, problem, doc.meta_line, required=True)
    updated = _date_value(meta, "updated", tz, problem, doc.meta_line, required=False)
    if published and updated and updated < published:
        problem(meta["updated"].line, tr("'updated' is earlier than 'date'"))

    update_id = text_value("id")
    if update_id is None:
        suggestion = ids.mint_id(settings.host, date.today())
        problem(
            doc.meta_line,
            tr(
                "missing 'id': add a line 'id: \"{suggestion}\"' (or create files with "
                "'python -m pipeline new'); never change it afterwards",
                suggestion=suggestion,
            ),
        )
    elif (
        mapped := update_id  # a URI stays as written: no need to work out the authority (a URL parse)
        if ids.is_valid_id(update_id)
        else ids.canonical_id(update_id, settings.tag_authority)
    ) is None:
        problem(
            meta["id"].line,
            tr(
                "'id' must be a URI such as tag:example.se,2026-01-31:ab12 or a short id "
                "(1–100 of A–Z a–z 0–9 . _ -, starting with a letter or digit), got {value}",
                value=repr(update_id),
            ),
        )
    else:
        update_id = mapped  # short ids become tag:AUTHORITY:id (docs/forfattare.md)

    raw_slug = text_value("slug")
    stem = posixpath.splitext(posixpath.basename(rel))[0]
    slug = slugify(raw_slug if raw_slug is not None else stem)
    if not slug or not SLUG_RE.match(slug):
        line = meta["slug"].line if raw_slug is not None else 1
        problem(line, tr("cannot make a URL slug from {value}; set 'slug'", value=repr(raw_slug or stem)))

    lang = text_value("lang") or settings.language
    if lang not in LANGUAGES:
        problem(
            meta["lang"].line,
            tr(
                "'lang' must be one of {languages}, got {value}",
                languages=", ".join(LANGUAGES),
                value=repr(lang),
            ),
        )

    targets = _targets(meta.get("targets"), problem)
    tags = tuple(dict.fromkeys(" ".join(t.split()) for t in _text_list(meta.get("tags"), "tags", problem)))
    draft_text = text_value("draft")
    draft = False
    if draft_text is not None:
        if draft_text.lower() in ("true", "false"):
            draft = draft_text.lower() == "true"
        else:
            problem(
                meta["draft"].line, tr("'draft' must be true or false, got {value}", value=repr(draft_text))
            )

    image = text_value("image")
    image_alt = text_value("image_alt")
    if image and not image_alt:
        problem(
            meta["image"].line,
            tr("'image' needs 'image_alt': describe the picture for people who cannot see it"),
        )
    if image_alt and not image:
        problem(meta["image_alt"].line, tr("'image_alt' given without 'image'"), "warning")
    summary = text_value("summary")
    author = text_value("author")
    if not doc.body or doc.body.isspace():  # not body.strip(), without its copy of the body
        problem(doc.body_line, tr("the update has no text"), "warning")
    check_unclosed(doc.body, doc.body_line, problem)

    if len([p for p in problems if p.severity == "error"]) > before:
        return None
    assert title and published and update_id
    return Source(
        rel=rel,
        body=doc.body,
        body_line=doc.body_line,
        id=update_id,
        slug=slug,
        title=title,
        date=published,
        updated=updated or published,
        lang=lang,
        targets=targets,
        tags=tags,
        author=author,
        summary=sanitize.plain_text(summary) if summary else None,
        image=image,
        image_alt=image_alt,
        image_line=meta["image"].line if image else 0,
        draft=draft,
    )


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" ({repr(char)[1:-1]})" if ord(char) < 0x100 else "")


def _check_controls(meta: dict[str, Field], problem: Callable[..., None]) -> None:
    """Refuse control characters in every key and value: a title becomes a mail Subject, and a
    CR LF in it would start a header of the author's choosing (Bcc: …)."""
    if _surely_no_controls(meta):
        return
    pending: list[tuple[str, Field]] = [(key, fld) for key, fld in meta.items()]
    while pending:
        key, fld = pending.pop()
        found = _CONTROL.search(key)
        if found is None and isinstance(fld.value, str):
            pattern = _SUMMARY_CONTROL if key == "summary" else _CONTROL
            found = pattern.search(fld.value.strip())  # what is used: surrounding blanks are dropped
        if found is not None:
            problem(
                fld.line,
                tr(
                    "'{key}' contains the control character {char}: "
                    "front-matter values must be plain text on one line",
                    key=key,
                    char=_describe(found.group()),
                ),
            )
        elif isinstance(fld.value, list):
            pending.extend((key, item) for item in fld.value)
        elif isinstance(fld.value, dict):
            pending.extend(fld.value.items())


def _surely_no_controls(meta: dict[str, Field]) -> bool:
    """True when no key or value, nor any entry of a list value, holds a control character.

    One search over all of them joined by blanks (which no pattern here matches) instead of one
    per value; the summary's pattern is a part of ``_CONTROL``, and a value without a match has
    none once stripped either. Nested values other than lists of text are left to the full walk.
    """
    texts = list(meta)
    for fld in meta.values():
        value = fld.value
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            for item in value:
                if not isinstance(item.value, str):
                    return False
                texts.append(item.value)
        elif value is not None:
            return False
    return _CONTROL.search(" ".join(texts)) is None


def _date_value(meta, key, tz, problem, meta_line, required) -> datetime | None:
    fld: Field | None = meta.get(key)
    if fld is None or fld.value in (None, ""):
        if required:
            problem(
                meta_line,
                tr("missing required '{key}' (ISO 8601, e.g. 2026-03-14 or 2026-03-14T09:30)", key=key),
            )
        return None
    if not isinstance(fld.value, str):
        problem(fld.line, tr("'{key}' must be a single date", key=key))
        return None
    try:
        return parse_datetime(fld.value, tz)
    except DateError as exc:
        problem(fld.line, tr("'{key}': {reason}", key=key, reason=exc))
        return None


def _text_list(fld: Field | None, key: str, problem) -> list[str]:
    if fld is None or fld.value in (None, ""):
        return []
    if isinstance(fld.value, str):
        return [fld.value.strip()]
    if isinstance(fld.value, list):
        values = []
        for item in fld.value:
            if isinstance(item.value, str) and item.value.strip():
                values.append(item.value.strip())
            else:
                problem(item.line, tr("'{key}' entries must be plain text", key=key))
        return values
    problem(fld.line, tr("'{key}' must be a list", key=key))
    return []


@lru_cache(maxsize=4096)
def _sorted_if_all_known(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """The targets in taxonomy order when every value names one, else None (then the values are
    checked one by one for their messages). Updates name the same few combinations again and
    again, and the taxonomy never changes in a process, so the answer is remembered."""
    taxonomy = load_taxonomy()
    targets = [value.strip().strip('"') for value in values]
    if all(taxonomy.has_target(target) for target in targets):
        return taxonomy.sort_targets(targets)
    return None


def _targets(fld: Field | None, problem) -> tuple[str, ...]:
    values = _text_list(fld, "targets", problem)
    known = _sorted_if_all_known(tuple(values))
    if known is not None:
        return known
    taxonomy = load_taxonomy()
    found: list[str] = []
    for value in values:
        target = value.strip().strip('"')
        if taxonomy.has_target(target):
            found.append(target)
        else:
            line = fld.line if fld else 1
            if isinstance(fld.value, list):
                line = next((i.line for i in fld.value if i.value == value), line)
            problem(
                line,
                tr(
                    'unknown goal-17 target {value}: use 17.1 … 17.19, e.g. targets: ["17.9", "17.17"]',
                    value=repr(value),
                ),
            )
    return taxonomy.sort_targets(found)


def check_unique(sources: Iterable[Source], attr: str, problems: list[Problem]) -> None:
    seen: dict[str, Source] = {}
    for source in sources:
        value = getattr(source, attr)
        if value in seen:
            first = seen[value]
            problems.append(Problem(source.rel, 1, _duplicate(attr, value, first.rel)))
            problems.append(Problem(first.rel, 1, _duplicate(attr, value, source.rel)))
        else:
            seen[value] = source


def _duplicate(attr: str, value: str, other: str) -> str:
    if attr == "id":
        return tr("duplicate id {value}: also used by {other}", value=repr(value), other=other)
    return tr("duplicate slug {value}: also used by {other}", value=repr(value), other=other)


def check_image(root: Path, source: Source, assets: dict[str, Path], problems: list[Problem]) -> None:
    if not source.image:
        return
    scheme = urlsplit(source.image).scheme
    if scheme in ("http", "https"):
        return
    if scheme:
        problems.append(
            Problem(
                source.rel,
                source.image_line,
                tr(
                    "'image' must be a file in the content folder or an http(s) URL, got {value}",
                    value=repr(source.image),
                ),
            )
        )
        return
    rel = content_path(source.rel, source.image)
    if rel not in assets:
        problems.append(
            Problem(
                source.rel,
                source.image_line,
                tr("image file not found: {image} (looked for {path})", image=source.image, path=rel),
            )
        )

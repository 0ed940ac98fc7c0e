"""Reading a content folder into validated, rendered :class:`Update` values.

All validation happens here, and every problem in the folder is collected and reported together
as ``path:line: message`` before anything is built. Drafts and updates dated after ``now`` are
dropped here, against an explicit ``now``, so no builder ever looks at the clock.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pipeline.caching.fingerprint import digest
from pipeline.config.site import LANGUAGES, Settings, SettingsError
from pipeline.config.taxonomy import load_taxonomy
from pipeline.forkpool import map_forked
from pipeline.reading import frontmatter, ids, imagesize, sanitize
from pipeline.reading.dates import DateError, parse_datetime
from pipeline.reading.files import UnsafeFile, discover, read_beneath
from pipeline.reading.frontmatter import Field
from pipeline.reading.markdown_render import Rendered, render_markdown
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
SUMMARY_LIMIT = 300

# Characters no front-matter value may hold: C0 controls (CR and LF would start a new mail
# header in a Subject made from a title), DEL, C1 controls and the Unicode line and paragraph
# separators (which some clients treat as line breaks).
CONTROL_CHARACTERS = _CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A summary written as a YAML block scalar keeps its line breaks; its whitespace is collapsed.
_SUMMARY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# Python-Markdown looks for the end of a link, an image or a tag from every '[', '(' and '<'
# that has none: with a few thousand such openers in one paragraph the time grows with their
# number times the paragraph's length (4,000 "[a](" take 8 s, a 1 MiB file would take hours).
# A paragraph may cost this many opener-characters, an update four times as many; ordinary
# text with hundreds of finished links costs nothing.
PARAGRAPH_SCAN_LIMIT = 2_000_000
UPDATE_SCAN_LIMIT = 4 * PARAGRAPH_SCAN_LIMIT
_OPENERS = {"[": "]", "(": ")", "<": ">"}
# Block-level shapes Python-Markdown handles in quadratic time or by recursion: a paragraph of
# thousands of lines (each "---" or "===" line splits it once more), thousands of footnotes,
# lists nested hundreds deep (RecursionError). Far beyond anything an update needs.
PARAGRAPH_LINE_LIMIT = 300
# Inline patterns (code spans, emphasis, entities) are tried across a whole paragraph; some take
# time growing with its length squared. 20,000 characters is about 3,000 words in one paragraph.
# A table is read cell by cell: there the limit applies to each row.
PARAGRAPH_CHAR_LIMIT = 20_000
FOOTNOTE_LIMIT = 500
INDENT_LIMIT = 64  # columns of leading blanks: lists nested 16 deep
# Characters XML 1.0 cannot carry at all (feeds): refused in the body too.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class ContentError(Exception):
    """The content folder has errors; nothing may be built from it."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        files = len({p.path for p in errors})
        super().__init__(f"{len(errors)} problem(s) in {files} file(s)")


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    length: int | None = None  # bytes, for RSS enclosures; None for external images
    media_type: str | None = None
    width: int | None = None  # pixels, read from a local file's header (pipeline.reading.imagesize)
    height: int | None = None


@dataclass(frozen=True)
class Update:
    id: str
    slug: str
    title: str
    date: datetime
    updated: datetime
    lang: str
    targets: tuple[str, ...]
    tags: tuple[str, ...]
    author: str | None
    summary: str  # plain text
    html: str  # sanitized, every URL absolute
    toc_html: str  # sanitized table of contents, empty for short updates
    feed_html: str  # html as feeds carry it: re-parses to itself (often the very same string)
    image: Image | None
    source: str  # path relative to the content folder, posix style
    url: str  # absolute URL of the update's page
    fingerprint: str = ""  # digest of every field above: equal fingerprints, equal outputs

    @property
    def path(self) -> str:
        """Site-relative folder of the update's page."""
        return f"updates/{self.slug}/"


@dataclass
class Source:
    """One parsed and validated file, before rendering."""

    rel: str
    body: str | None  # None when the source came from the content cache (read again if needed)
    body_line: int
    id: str
    slug: str
    title: str
    date: datetime
    updated: datetime
    lang: str
    targets: tuple[str, ...]
    tags: tuple[str, ...]
    author: str | None
    summary: str | None
    image: str | None
    image_alt: str | None
    image_line: int
    draft: bool


@dataclass
class ContentSet:
    updates: list[Update]  # published, newest first
    assets: dict[str, Path]  # content-relative path -> file, copied to the site as-is
    warnings: list[Problem] = field(default_factory=list)
    drafts: int = 0
    scheduled: list[tuple[datetime, str]] = field(default_factory=list)  # (date, source) not yet due


Lookup = tuple[str, "str | None", bool]  # content path, update URL it named (if any), is an asset


@dataclass(frozen=True)
class Finished:
    """A rendered update and what its rendering looked up in the content folder."""

    update: Update
    lookups: tuple[Lookup, ...]
    image_size: tuple[str, int] | None  # (content path, bytes) of a local front-matter image
    warnings: tuple[Problem, ...]

    def still_valid(self, md_links: dict[str, str], assets: dict[str, Path]) -> bool:
        """Would rendering again resolve every link and the image exactly as before?"""
        for rel, url, is_asset in self.lookups:
            if md_links.get(rel) != url or (rel in assets) != is_asset:
                return False
        if self.image_size is not None:
            rel, size = self.image_size
            try:
                return rel in assets and assets[rel].stat().st_size == size
            except OSError:
                return False
        return True


@dataclass(frozen=True)
class CachedSource:
    """What the content cache keeps per file: the parsed source and, once made, its update."""

    source: Source  # with body None
    warnings: tuple[Problem, ...]
    finished: Finished | None


class ContentCache(Protocol):
    def get(self, key: str) -> CachedSource | None: ...

    def put(self, key: str, entry: CachedSource) -> None: ...


Then = Callable[[int, Rendered], Any]  # what to do with body i once rendered (e.g. finish it)


class Renderer(Protocol):
    """Markdown bodies → ``then(i, rendered)`` for each, in order (the renderings without ``then``).

    ``then`` runs where the rendering was made (a forked worker, for many bodies), so rendering
    and what follows it share one pass over both cores and only the result travels back.
    """

    def __call__(self, bodies: list[str], then: Then | None = None) -> list[Any]: ...


def render_all(bodies: list[str], then: Then | None = None) -> list[Any]:
    """Render without a cache; with ``then``, on both cores when there are many bodies."""
    if then is None:
        return [render_markdown(body) for body in bodies]
    return list(map_forked(lambda i: then(i, render_markdown(bodies[i])), len(bodies)))


def read_content(
    content_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer = render_all,
    cache: ContentCache | None = None,
) -> ContentSet:
    """Read, validate and render every update under ``content_dir``; raise :class:`ContentError`.

    With a ``cache`` (see :mod:`pipeline.caching.content_cache`), a file whose bytes, path, settings and
    code are unchanged is not parsed again, and its finished :class:`Update` is reused as long as
    every link it resolved still resolves the same way.
    """
    root = Path(content_dir)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 0, "content folder not found")])
    limit = max_update_bytes(settings)
    problems: list[Problem] = []
    sources: list[Source] = []
    cached: dict[str, tuple[str, CachedSource]] = {}
    context = settings.context_digest if cache is not None else ""
    markdown_files, assets = _discover(root, problems)
    # A file is known by its stats (as make and git's index do): size, mtime and ctime change
    # with every write, so an unchanged file is not even read. The others are read and parsed on
    # both cores (a cold build parses 10,000 files); results are taken in file order.
    keys = [
        digest(context, rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        if cache is not None
        else ""
        for rel, st in markdown_files
    ]
    hits = [cache.get(key) if cache is not None else None for key in keys]
    misses = [index for index, hit in enumerate(hits) if hit is None]
    parsed = dict(
        zip(
            misses,
            map_forked(
                lambda i: _parse_file(root, markdown_files[misses[i]][0], settings, limit), len(misses)
            ),
            strict=True,
        )
    )
    for index, (rel, _) in enumerate(markdown_files):
        key, hit = keys[index], hits[index]
        if hit is not None:
            sources.append(hit.source)
            problems.extend(hit.warnings)
            cached[rel] = (key, hit)
            continue
        source, file_problems = parsed[index]
        problems.extend(file_problems)
        if source is not None:
            sources.append(source)
            if cache is not None:
                entry = CachedSource(replace(source, body=None), file_problems, None)
                cache.put(key, entry)
                cached[rel] = (key, entry)
    _check_unique(sources, "id", problems)
    _check_unique(sources, "slug", problems)
    for source in sources:
        _check_image(root, source, assets, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ContentError(problems)
    warnings = [p for p in problems if p.severity == "warning"]

    md_links = {s.rel: settings.url(f"updates/{s.slug}/") for s in sources}
    published = [s for s in sources if not s.draft and s.date <= now]
    result = ContentSet(updates=[], assets=assets, warnings=warnings)
    result.drafts = sum(1 for s in sources if s.draft)
    result.scheduled = sorted((s.date, s.rel) for s in sources if not s.draft and s.date > now)
    todo: list[Source] = []
    for source in published:
        key, entry = cached.get(source.rel, ("", None))
        finished = entry.finished if entry is not None else None
        if finished is not None and finished.still_valid(md_links, assets):
            result.updates.append(finished.update)
            warnings.extend(finished.warnings)
        else:
            if source.body is None:
                source = replace(source, body=_body_of(_read_again(root, source.rel, limit)))
            todo.append(source)
    # Sanitizing is the second-largest cost of a cold build (nh3 plus our URL resolver): it runs
    # right after each rendering, in the same worker.
    finishing = renderer(
        [s.body or "" for s in todo],
        lambda i, rendered: _finish(todo[i], rendered, settings, md_links, assets),
    )
    for source, finished in zip(todo, finishing, strict=True):
        result.updates.append(finished.update)
        warnings.extend(finished.warnings)
        if cache is not None:
            key, entry = cached[source.rel]
            cache.put(key, replace(entry, finished=finished))
    result.updates.sort(key=sort_key)
    result.warnings = sorted(warnings)
    return result


def sort_key(update: Update) -> tuple:
    """Newest first; equal dates fall back to the id so the order never depends on file names."""
    return (-update.date.timestamp(), update.id)


def max_update_bytes(settings: Settings) -> int:
    """``[content] max_update_bytes``: the largest Markdown file a build reads.

    A setting problem is reported like a content problem, so every command that reads content
    fails with one clear line even when it was handed settings that were never checked.
    """
    try:
        return settings.content_limits
    except SettingsError as exc:
        raise ContentError([Problem(settings.source, 0, "; ".join(exc.problems))]) from None


def _discover(
    root: Path, problems: list[Problem]
) -> tuple[list[tuple[str, os.stat_result]], dict[str, Path]]:
    """Markdown files (with their stats) and assets, skipping names starting with . or _.

    Links, hard-linked files and special files are refused (:mod:`pipeline.reading.files`):
    each is an error, so nothing is published while one is there.
    """
    found = discover(root)
    for refused in found.refused:
        line = 1 if refused.rel.lower().endswith(".md") else 0
        problems.append(Problem(refused.rel, line, f"{refused.rel} {refused.reason}"))
    return found.markdown, {rel: path for rel, (path, _st) in found.assets.items()}


def _parse_file(
    root: Path, rel: str, settings: Settings, limit: int
) -> tuple[Source | None, tuple[Problem, ...]]:
    """One file read and parsed, with its own problems (None when it cannot be used)."""
    problems: list[Problem] = []
    try:
        data = read_beneath(root, rel, limit)
    except UnsafeFile as exc:
        line = 1 if rel.lower().endswith(".md") else 0
        hint = (
            " (raise [content] max_update_bytes in site.toml if it must be)"
            if "allowed" in exc.reason
            else ""
        )
        return None, (Problem(rel, line, f"{rel} {exc.reason}{hint}"),)
    except OSError as exc:
        return None, (Problem(rel, 1, f"cannot read {rel}: {exc.strerror}"),)
    source = _read_source(rel, data, settings, problems)
    return source, tuple(problems)


def _read_again(root: Path, rel: str, limit: int) -> bytes:
    """A cached file's bytes, read as safely as the first time."""
    try:
        return read_beneath(root, rel, limit)
    except UnsafeFile as exc:
        raise ContentError([Problem(rel, 1, f"{rel} {exc.reason}")]) from None
    except OSError as exc:
        raise ContentError([Problem(rel, 1, f"cannot read {rel}: {exc.strerror}")]) from None


def _body_of(data: bytes) -> str:
    """The Markdown body of a file that was valid when it was cached."""
    return frontmatter.split(_text_of(data)).body


def _text_of(data: bytes) -> str:
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def _read_source(rel: str, data: bytes, settings: Settings, problems: list[Problem]) -> Source | None:
    def problem(line: int, message: str, severity: str = "error") -> None:
        problems.append(Problem(rel, line, message, severity))

    try:
        text = _text_of(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None
    try:
        doc = frontmatter.split(text)
    except frontmatter.FrontMatterError as exc:
        problem(exc.line, exc.message)
        return None
    meta = doc.meta
    before = len([p for p in problems if p.severity == "error"])
    _check_controls(meta, problem)
    illegal = _XML_ILLEGAL.search(doc.body)
    if illegal:
        line = doc.body_line + doc.body.count("\n", 0, illegal.start())
        problem(line, f"the text contains the control character {_describe(illegal.group())}; remove it")
    for key, fld in meta.items():
        if key not in KNOWN_KEYS:
            problem(fld.line, f"unknown front-matter key '{key}' (ignored)", "warning")

    def text_value(key: str, required: bool = False) -> str | None:
        fld = meta.get(key)
        if fld is None or fld.value in (None, ""):
            if required:
                problem(doc.meta_line, f"missing required '{key}'")
            return None
        if not isinstance(fld.value, str):
            problem(fld.line, f"'{key}' must be a single text value")
            return None
        return fld.value.strip()

    title = text_value("title", required=True)
    if title is not None and not title:
        problem(meta["title"].line, "'title' is empty")

    tz = settings.tz
    published = _date_value(meta, "date", tz, problem, doc.meta_line, required=True)
    updated = _date_value(meta, "updated", tz, problem, doc.meta_line, required=False)
    if published and updated and updated < published:
        problem(meta["updated"].line, "'updated' is earlier than 'date'")

    update_id = text_value("id")
    if update_id is None:
        suggestion = ids.mint_id(settings.host, date.today())
        problem(
            doc.meta_line,
            f"missing 'id': add a line 'id: \"{suggestion}\"' (or create files with "
            "'python -m pipeline new'); never change it afterwards",
        )
    elif (mapped := ids.canonical_id(update_id, settings.tag_authority)) is None:
        problem(
            meta["id"].line,
            f"'id' must be a URI such as tag:example.se,2026-01-31:ab12 or a short id "
            f"({ids.SHORT_ID_RULE}), got {update_id!r}",
        )
    else:
        update_id = mapped  # short ids become tag:AUTHORITY:id (docs/forfattare.md)

    raw_slug = text_value("slug")
    stem = posixpath.splitext(posixpath.basename(rel))[0]
    slug = slugify(raw_slug if raw_slug is not None else stem)
    if not slug or not SLUG_RE.match(slug):
        line = meta["slug"].line if raw_slug is not None else 1
        problem(line, f"cannot make a URL slug from {raw_slug or stem!r}; set 'slug'")

    lang = text_value("lang") or settings.language
    if lang not in LANGUAGES:
        problem(meta["lang"].line, f"'lang' must be one of {', '.join(LANGUAGES)}, got {lang!r}")

    targets = _targets(meta.get("targets"), problem)
    tags = tuple(dict.fromkeys(" ".join(t.split()) for t in _text_list(meta.get("tags"), "tags", problem)))
    draft_text = text_value("draft")
    draft = False
    if draft_text is not None:
        if draft_text.lower() in ("true", "false"):
            draft = draft_text.lower() == "true"
        else:
            problem(meta["draft"].line, f"'draft' must be true or false, got {draft_text!r}")

    image = text_value("image")
    image_alt = text_value("image_alt")
    if image and not image_alt:
        problem(
            meta["image"].line, "'image' needs 'image_alt': describe the picture for people who cannot see it"
        )
    if image_alt and not image:
        problem(meta["image_alt"].line, "'image_alt' given without 'image'", "warning")
    summary = text_value("summary")
    author = text_value("author")
    if not doc.body.strip():
        problem(doc.body_line, "the update has no text", "warning")
    _check_unclosed(doc.body, doc.body_line, problem)

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


def _paragraphs(body: str, first_line: int) -> Iterable[tuple[int, str]]:
    """(line, text) of each blank-line separated paragraph outside fenced code blocks."""
    lines: list[str] = []
    start = first_line
    fence = ""
    for number, line in enumerate(body.split("\n"), first_line):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        if fence or not line.strip():
            if lines:
                yield start, "\n".join(lines)
            lines = []
            continue
        if not lines:
            start = number
        lines.append(line)
    if lines:
        yield start, "\n".join(lines)


def _unclosed(text: str) -> int:
    """How many '[', '(' and '<' in ``text`` are never closed."""
    depth = dict.fromkeys(_OPENERS, 0)
    closers = {close: open_ for open_, close in _OPENERS.items()}
    for char in text:
        if char in depth:
            depth[char] += 1
        elif char in closers and depth[closers[char]]:
            depth[closers[char]] -= 1
    return sum(depth.values())


def _check_unclosed(body: str, body_line: int, problem: Callable[..., None]) -> None:
    """Refuse text that would make Markdown take minutes or overflow its stack (see
    PARAGRAPH_SCAN_LIMIT and PARAGRAPH_LINE_LIMIT): a build must never hang on what an author wrote."""
    footnotes = 0
    for line, text in _paragraphs(body, body_line):
        rows = text.split("\n")
        table = all(row.lstrip().startswith("|") for row in rows)
        runs = rows if table else [text]
        longest = max(len(run) for run in runs)
        if longest > PARAGRAPH_CHAR_LIMIT:
            what = "table row" if table else "paragraph"
            problem(
                line,
                f"this {what} has {longest} characters (at most {PARAGRAPH_CHAR_LIMIT}): split it with blank lines",
            )
            return
        if len(rows) > PARAGRAPH_LINE_LIMIT and not table:
            problem(
                line,
                f"this paragraph has {len(rows)} lines (at most {PARAGRAPH_LINE_LIMIT}): split it with blank lines",
            )
            return
        for offset, row in enumerate(rows):
            indent = (
                len(row) - len(row.lstrip(" \t")) + 3 * row[: len(row) - len(row.lstrip(" \t"))].count("\t")
            )
            if indent > INDENT_LIMIT:
                problem(
                    line + offset,
                    f"this line is indented {indent} columns (at most {INDENT_LIMIT}): lists nest too deep",
                )
                return
            if row.startswith("[^") and "]:" in row:
                footnotes += 1
    if footnotes > FOOTNOTE_LIMIT:
        problem(body_line, f"the text has {footnotes} footnotes (at most {FOOTNOTE_LIMIT})")
        return
    if not any(opener in body for opener in _OPENERS):
        return
    total = 0
    for line, text in _paragraphs(body, body_line):
        open_count = _unclosed(text)
        cost = open_count * len(text)
        total += cost
        if cost > PARAGRAPH_SCAN_LIMIT:
            problem(
                line,
                f"this paragraph has {open_count} unclosed '[', '(' or '<' in {len(text)} characters, "
                "which would take Markdown minutes to read: close them, escape them as \\[ \\( \\<, "
                "or split the paragraph",
            )
            return
    if total > UPDATE_SCAN_LIMIT:
        problem(
            body_line,
            "the text has too many unclosed '[', '(' or '<' for Markdown to read it in reasonable time: "
            "close them or escape them as \\[ \\( \\<",
        )


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" ({repr(char)[1:-1]})" if ord(char) < 0x100 else "")


def _check_controls(meta: dict[str, Field], problem: Callable[..., None]) -> None:
    """Refuse control characters in every key and value: a title becomes a mail Subject, and a
    CR LF in it would start a header of the author's choosing (Bcc: …)."""
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
                f"'{key}' contains the control character {_describe(found.group())}: "
                "front-matter values must be plain text on one line",
            )
        elif isinstance(fld.value, list):
            pending.extend((key, item) for item in fld.value)
        elif isinstance(fld.value, dict):
            pending.extend(fld.value.items())


def _date_value(meta, key, tz, problem, meta_line, required) -> datetime | None:
    fld: Field | None = meta.get(key)
    if fld is None or fld.value in (None, ""):
        if required:
            problem(meta_line, f"missing required '{key}' (ISO 8601, e.g. 2026-03-14 or 2026-03-14T09:30)")
        return None
    if not isinstance(fld.value, str):
        problem(fld.line, f"'{key}' must be a single date")
        return None
    try:
        return parse_datetime(fld.value, tz)
    except DateError as exc:
        problem(fld.line, f"'{key}': {exc}")
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
                problem(item.line, f"'{key}' entries must be plain text")
        return values
    problem(fld.line, f"'{key}' must be a list")
    return []


def _targets(fld: Field | None, problem) -> tuple[str, ...]:
    taxonomy = load_taxonomy()
    found: list[str] = []
    for value in _text_list(fld, "targets", problem):
        target = value.strip().strip('"')
        if taxonomy.has_target(target):
            found.append(target)
        else:
            line = fld.line if fld else 1
            if isinstance(fld.value, list):
                line = next((i.line for i in fld.value if i.value == value), line)
            problem(
                line, f'unknown goal-17 target {value!r}: use 17.1 … 17.19, e.g. targets: ["17.9", "17.17"]'
            )
    return taxonomy.sort_targets(found)


def _check_unique(sources: Iterable[Source], attr: str, problems: list[Problem]) -> None:
    seen: dict[str, Source] = {}
    for source in sources:
        value = getattr(source, attr)
        if value in seen:
            first = seen[value]
            problems.append(Problem(source.rel, 1, f"duplicate {attr} {value!r}: also used by {first.rel}"))
            problems.append(Problem(first.rel, 1, f"duplicate {attr} {value!r}: also used by {source.rel}"))
        else:
            seen[value] = source


def _check_image(root: Path, source: Source, assets: dict[str, Path], problems: list[Problem]) -> None:
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
                f"'image' must be a file in the content folder or an http(s) URL, got {source.image!r}",
            )
        )
        return
    rel = _content_path(source.rel, source.image)
    if rel not in assets:
        problems.append(
            Problem(source.rel, source.image_line, f"image file not found: {source.image} (looked for {rel})")
        )


def _content_path(source_rel: str, url_path: str) -> str:
    """A path written in ``source_rel`` resolved to a content-relative path (no leading ../)."""
    return _content_path_from(posixpath.dirname(source_rel), url_path)


@lru_cache(maxsize=1 << 16)
def _content_path_from(folder: str, url_path: str) -> str:
    # Remembered per (folder, path): the same links recur in update after update (media files,
    # other updates), and a cold build resolves ~140,000 of them.
    path = unquote(url_path)
    joined = path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path)
    normal = posixpath.normpath(joined) if joined else ""
    while normal.startswith("../"):
        normal = normal[3:]
    return "" if normal in (".", "..") else normal


_split = lru_cache(maxsize=1 << 16)(urlsplit)  # pure, and links recur across updates


def make_resolver(
    source_rel: str,
    page_url: str,
    settings: Settings,
    md_links: dict[str, str],
    assets: dict[str, Path],
    on_missing: Callable[[str], None],
    lookups: list[Lookup] | None = None,
) -> Callable[[str], str | None]:
    """Relative URL → absolute URL, the way an author of ``source_rel`` means it.

    A path naming a content file (``other.md``, ``media/x.jpg``) is taken relative to the
    Markdown file and points at that update's page or the copied asset; ``/path`` is taken from
    the site root (the base URL); anything else is resolved like a browser would, against the
    update's own page. Each lookup of a content path is appended to ``lookups``, so a cached
    result can later be checked against the content folder as it is then.
    """

    def resolve(url: str) -> str | None:
        if url.startswith("//"):
            return "https:" + url
        parts = _split(url)
        if parts.scheme:
            return None
        if not parts.path:
            target = page_url
        else:
            rel = _content_path(source_rel, parts.path)
            if lookups is not None:
                lookups.append((rel, md_links.get(rel), rel in assets))
            if rel in md_links:
                target = md_links[rel]
            elif rel in assets or parts.path.startswith("/"):
                target = settings.url(quote(rel, safe="/"))
                if parts.path.endswith("/") and not target.endswith("/"):
                    target += "/"
            else:
                if rel.endswith(".md") or posixpath.splitext(rel)[1]:
                    on_missing(parts.path)
                base = urlsplit(page_url)
                joined = posixpath.normpath(posixpath.join(base.path, unquote(parts.path)))
                if parts.path.endswith("/") and not joined.endswith("/"):
                    joined += "/"
                root_path = urlsplit(settings.base_url).path
                if not joined.startswith(root_path):
                    joined = root_path + joined.lstrip("/")
                target = urlunsplit((base.scheme, base.netloc, quote(joined, safe="/"), "", ""))
        query = f"?{parts.query}" if parts.query else ""
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        return target + query + fragment

    return resolve


def _finish(
    source: Source,
    rendered: Rendered,
    settings: Settings,
    md_links: dict[str, str],
    assets: dict[str, Path],
) -> Finished:
    page_url = settings.url(f"updates/{source.slug}/")
    body = source.body or ""
    warnings: list[Problem] = []
    lookups: list[Lookup] = []

    def on_missing(path: str) -> None:
        offset = next((i for i, line in enumerate(body.split("\n")) if path in line), 0)
        line = source.body_line + offset
        warnings.append(Problem(source.rel, line, f"link to a missing file: {path}", "warning"))

    resolve = make_resolver(source.rel, page_url, settings, md_links, assets, on_missing, lookups)
    html = sanitize.clean_html(rendered.html, resolve)
    toc = sanitize.clean_html(rendered.toc_html, resolve) if rendered.toc_html else ""
    summary = source.summary or sanitize.shorten(sanitize.first_paragraph_text(html), SUMMARY_LIMIT)
    image = None
    image_size: tuple[str, int] | None = None
    if source.image:
        if urlsplit(source.image).scheme in ("http", "https"):
            image = Image(url=source.image, alt=source.image_alt or "")
        else:
            rel = _content_path(source.rel, source.image)
            length = assets[rel].stat().st_size
            image_size = (rel, length)
            width, height = imagesize.image_size(assets[rel]) or (None, None)
            image = Image(
                url=settings.url(quote(rel, safe="/")),
                alt=source.image_alt or "",
                length=length,
                media_type=mimetypes.guess_type(rel)[0] or "application/octet-stream",
                width=width,
                height=height,
            )
    values = {
        "id": source.id,
        "slug": source.slug,
        "title": source.title,
        "date": source.date,
        "updated": source.updated,
        "lang": source.lang,
        "targets": source.targets,
        "tags": source.tags,
        "author": source.author,
        "summary": summary,
        "html": html,
        "toc_html": toc,
        "feed_html": sanitize.stable_html(html, body),
        "image": image,
        "source": source.rel,
        "url": page_url,
    }
    update = Update(**values, fingerprint=digest(*(part for item in values.items() for part in item)))
    return Finished(
        update=update, lookups=tuple(dict.fromkeys(lookups)), image_size=image_size, warnings=tuple(warnings)
    )

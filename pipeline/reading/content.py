"""Reading a content folder into validated, rendered :class:`Update` values.

The orchestration: walk the folder (:mod:`~pipeline.reading.discovery`), check every file
(:mod:`~pipeline.reading.validation`), render and finish what is published
(:mod:`~pipeline.reading.finishing`). Every problem in the folder is collected and reported
together as ``path:line: message`` before anything is built. Drafts and updates dated after
``now`` are dropped here, against an explicit ``now``, so no builder ever looks at the clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.caching import wire
from pipeline.config.site import Settings, SettingsError
from pipeline.forkpool import map_forked
from pipeline.locale.cli import cli_language, tr
from pipeline.outputs.urls import update_path
from pipeline.reading.discovery import body_of, discover_content, parse_file, read_again
from pipeline.reading.files import Found, version
from pipeline.reading.finishing import finish_update
from pipeline.reading.model import (
    AfterRender,
    CachedSource,
    ContentError,
    ContentSet,
    LinkTargets,
    Problem,
    Renderer,
    Settle,
    Source,
    SourceCache,
    Update,
    sort_key,
)
from pipeline.reading.validation import check_image, check_unique


def render_all(bodies: list[str], then: AfterRender | None = None, settle: Settle | None = None) -> list[Any]:
    """Render without a cache; with ``then``, on both cores when there are many bodies.

    ``settle`` (see :class:`pipeline.reading.model.Renderer`) is given one result at a time.
    """
    from pipeline.reading.markdown_render import render_markdown  # Markdown only when rendering

    if then is None:
        return [render_markdown(body) for body in bodies]
    if settle is None:
        return list(map_forked(lambda i: then(i, render_markdown(bodies[i])), len(bodies)))
    return list(
        map_forked(lambda i: settle(range(i, i + 1), [then(i, render_markdown(bodies[i]))])[0], len(bodies))
    )


def read_content(
    content_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer = render_all,
    cache: SourceCache | None = None,
    found: Found | None = None,
) -> ContentSet:
    """Read, validate and render every update under ``content_dir``; raise :class:`ContentError`.

    With a ``cache`` (see :mod:`pipeline.caching.content_cache`), a file whose bytes, path, settings and
    code are unchanged is not parsed again, and its finished :class:`Update` is reused as long as
    every link it resolved still resolves the same way. ``found``: the folder's walk
    (:func:`pipeline.reading.files.discover`) when the caller made it already.
    """
    root = Path(content_dir)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 0, tr("content folder not found"))])
    limit = max_update_bytes(settings)
    problems: list[Problem] = []
    sources: list[Source] = []
    cached: dict[str, tuple[str, CachedSource]] = {}
    context = settings.context_digest if cache is not None else ""
    markdown_files, assets, sizes = discover_content(root, problems, found)
    # A file is known by its stats (as make and git's index do): size, mtime and ctime change
    # with every write, so an unchanged file is not even read. The others are read and parsed on
    # both cores (a cold build parses 10,000 files); results are taken in file order. A cached
    # warning is text in the terminal's language, so that language is part of the key.
    language = cli_language()
    keys = (
        file_keys(f"{context}\0{language}", markdown_files)
        if cache is not None
        else [""] * len(markdown_files)
    )
    hits = cache.get_many(keys) if cache is not None else [None] * len(keys)
    misses = [index for index, hit in enumerate(hits) if hit is None]
    # Results come back as content-cache records (pipeline.caching.wire says why), with each
    # body beside its source: the sources themselves are kept without their bodies.
    parsed = dict(
        zip(
            misses,
            map_forked(
                lambda i: wire.pack_parsed(parse_file(root, markdown_files[misses[i]][0], settings, limit)),
                len(misses),
            ),
            strict=True,
        )
    )
    bodies: dict[str, str] = {}  # rel -> the body of a file parsed by this read
    unput: dict[str, tuple[str, CachedSource, Any]] = {}  # parsed entries not yet given to the cache
    page_urls: dict[str, str] = {}  # a rendered update's page URL, made with these very settings
    for index, (rel, _) in enumerate(markdown_files):
        key, hit = keys[index], hits[index]
        if hit is not None:
            sources.append(hit.source)
            problems.extend(hit.warnings)
            cached[rel] = (key, hit)
            if hit.finished is not None:
                page_urls[rel] = hit.finished.update.url
            continue
        source, file_problems, body, flat = wire.unpack_parsed(parsed[index])
        problems.extend(file_problems)
        if source is not None:
            sources.append(source)
            if body is not None:
                bodies[rel] = body
            if cache is not None:
                entry = CachedSource(
                    source if flat is not None else replace(source, body=None), file_problems, None
                )
                cached[rel] = (key, entry)
                unput[rel] = (key, entry, flat)  # put once: finished, or as parsed after the rendering
    check_unique(sources, "id", problems)
    check_unique(sources, "slug", problems)
    for source in sources:
        if source.image:  # check_image returns at once for the others (10,000 calls)
            check_image(root, source, assets, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ContentError(problems)
    warnings = [p for p in problems if p.severity == "warning"]

    get_url = page_urls.get
    pages = {s.rel: get_url(s.rel) or settings.url(update_path(s.slug)) for s in sources}
    targets = LinkTargets(pages, assets, sizes)
    # One pass and one date comparison per source (two passes compared each date twice, and
    # comparing dates in different zones asks each zone for its offset: 0.02 s at 10,000).
    published: list[Source] = []
    later: list[tuple[datetime, str]] = []
    drafts = 0
    for s in sources:
        if s.draft:
            drafts += 1
        elif s.date <= now:
            published.append(s)
        else:
            later.append((s.date, s.rel))
    result = ContentSet(updates=[], assets=assets, warnings=warnings)
    result.drafts = drafts
    result.scheduled = sorted(later)
    todo: list[Source] = []  # without their bodies, which are in todo_bodies
    todo_bodies: list[str] = []
    todo_warnings: list[tuple[Problem, ...]] = []  # each source's own, kept in its cache entry
    known: dict[Any, bool] = {}  # lookup -> still answered the same (shared by every update)
    for source in published:
        key, entry = cached.get(source.rel, ("", None))
        finished = entry.finished if entry is not None else None
        if finished is not None and finished.still_valid(targets, known):
            result.updates.append(finished.update)
            warnings.extend(finished.warnings)
        else:
            body = bodies.get(source.rel)
            if body is None:
                body = (
                    source.body if source.body is not None else body_of(read_again(root, source.rel, limit))
                )
            todo.append(source)
            todo_bodies.append(body)
            todo_warnings.append(entry.warnings if entry is not None else ())

    # The content cache's way of sending each batch of finished updates back (their HTML put in
    # its store by the worker); without one, each travels as its record with its strings.
    settle = cache.settler(todo, todo_warnings, len(result.updates)) if cache is not None and todo else None

    def finish(i: int, rendered: Any) -> Any:
        """Runs where body ``i`` was rendered: finish it (and pack it for the trip back)."""
        source = _with_body(todo[i], todo_bodies[i])
        finished = finish_update(source, rendered, settings, targets)
        return finished if settle is not None else wire.pack_finished(source, todo_warnings[i], finished)

    # Sanitizing is the second-largest cost of a cold build (nh3 plus our URL resolver): it runs
    # right after each rendering, in the same worker.
    finishing = renderer(todo_bodies, finish, settle) if settle is not None else renderer(todo_bodies, finish)
    for source, item in zip(todo, finishing, strict=True):
        finished, made, flat = wire.unpack_finished(item)
        result.updates.append(finished.update)
        warnings.extend(finished.warnings)
        if cache is not None:
            key, entry = cached[source.rel]
            unput.pop(source.rel, None)
            cache.put(key, made if made is not None else replace(entry, finished=finished), flat)
    if cache is not None:
        for key, entry, flat in unput.values():  # drafts, scheduled updates
            cache.put(key, entry, flat)
    result.updates.sort(key=sort_key)
    result.warnings = sorted(warnings)
    if cache is not None:
        cache.repair_with(_repairer(root, limit, settings, sources, targets, result.updates))
    return result


def _with_body(source: Source, body: str) -> Source:
    """``source`` with ``body``: one dict copy (:func:`dataclasses.replace` runs ``__init__``)."""
    made = object.__new__(Source)
    made.__dict__.update(source.__dict__)
    made.__dict__["body"] = body
    return made


def file_keys(context: str, files: list[tuple[str, Any]]) -> list[str]:
    """The content cache's key of each file: its path, its stats and the context, NUL-joined.

    The cache finds a record by the path and reuses it only while the stats and the context are
    the ones it was made with (:func:`pipeline.caching.content_cache.split_key`); no digest per
    file (10,000 of them cost 0.07 s). A path cannot hold NUL, the numbers do not.
    """
    return [f"{rel}\0{version(st)}\0{context}" for rel, st in files]


def _repairer(
    root: Path,
    limit: int,
    settings: Settings,
    sources: list[Source],
    targets: LinkTargets,
    updates: list[Update],
) -> Any:
    """Make a cached update's HTML again from its source (its HTML record was damaged).

    None for an update this read did not give out. Should the file have changed since it was
    read, its HTML now is used: the next build sees its new stats and remakes what shows it.
    """

    def repair(fingerprint: str) -> tuple[str, str, str] | None:
        from pipeline.reading.markdown_render import render_markdown

        update = next((u for u in updates if u.fingerprint == fingerprint), None)
        source = next((s for s in sources if update is not None and s.rel == update.source), None)
        if source is None:
            return None
        if source.body is None:
            source = replace(source, body=body_of(read_again(root, source.rel, limit)))
        made = finish_update(source, render_markdown(source.body or ""), settings, targets).update
        return made.html, made.toc_html, made.feed_html

    return repair


def max_update_bytes(settings: Settings) -> int:
    """``[content] max_update_bytes``: the largest Markdown file a build reads.

    A setting problem is reported like a content problem, so every command that reads content
    fails with one clear line even when it was handed settings that were never checked.
    """
    try:
        return settings.content_limits
    except SettingsError as exc:
        raise ContentError([Problem(settings.source, 0, "; ".join(exc.problems))]) from None

"""What forked readers and renderers send back: content-cache records, not pickled objects.

A cold build parses 10,000 files in one pool and renders and finishes them in another, and
every result travels back to the parent through a pipe. Pickled as objects (``Source``,
``Finished``, ``Update``, their datetimes and lookups) that cost about 0.7 s of CPU to dump in
the workers and 0.45 s to load in the parent at 10,000 updates, nearly all of it for the
objects' structure, not their bytes; the parent then copied each source without its body and
each entry with its update (20,000 :func:`dataclasses.replace` calls, 0.2 s on one core while
the other waited), and the content cache's writer encoded every entry once more. Here a
worker encodes its result as the very tuples the content cache stores
(:mod:`pipeline.caching.content_records`, ``inline``: the body and the HTML strings ride beside
them) and marshals them; the parent decodes them with one :class:`~content_records.Decoder`
and hands the tuples to the cache, which stores them as they came (only the HTML's place in
the HTML store is filled in). Whatever the record format cannot carry exactly travels as the
objects themselves, as before: the parent gets equal objects either way.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.caching import content_records, html_store
from pipeline.caching.html_store import HtmlRef
from pipeline.reading.model import CachedSource, Finished, Problem, Settle, Source, sort_key

_ENCODER: list[content_records.Encoder] = []  # one per process: each zone is pickled once
# Decodes what arrives in this process. Its tables hold the zones and the images of the updates
# read, which a long-running process (the scheduler) reads again and again: bounded by the content.
_DECODER = content_records.Decoder()


def _encoder() -> content_records.Encoder:
    if not _ENCODER:
        _ENCODER.append(content_records.Encoder())
    return _ENCODER[0]


class Arrived(NamedTuple):
    """A record decoded where it arrived: the entry and the record itself (for the cache)."""

    entry: CachedSource
    flat: tuple[Any, ...]


class Packed:
    """A marshalled record on its way to the parent, decoded there as it is unpickled.

    The pool's result thread unpickles each batch as it comes, while the workers go on: so
    the records are decoded then, not in a serial loop after the pool (0.3 s at 10,000). Kept
    in-process (no pool), it is decoded when it is unpacked.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (_arrive, (self.data,))

    def open(self) -> Arrived:
        return _arrive(self.data)


def _arrive(data: bytes) -> Arrived:
    flat = marshal.loads(data)
    finished = flat[2]
    # Inline (str, str, str | None) or stored (path, offset, length) HTML: see settle_into.
    return Arrived(_DECODER.decode(flat, inline=finished is not None and type(finished[5][1]) is str), flat)


def pack_parsed(result: tuple[Source | None, tuple[Problem, ...]]) -> Any:
    """A parse worker's ``(source, problems)`` as ``(record, body)``; as it is when unencodable."""
    source, problems = result
    if source is None or type(source.body) is not str:
        return result
    try:
        flat = content_records.encode(CachedSource(source, problems, None), _encoder(), inline=True)
    except content_records.Unencodable:
        return result
    return (Packed(marshal.dumps(flat)), source.body)


def unpack_parsed(item: Any) -> tuple[Source | None, tuple[Problem, ...], str | None, tuple[Any, ...] | None]:
    """``(source without its body, problems, body, record or None)`` of :func:`pack_parsed`'s item."""
    if len(item) == 2 and type(item[0]) in (Arrived, Packed):
        entry, flat = item[0] if type(item[0]) is Arrived else item[0].open()
        return entry.source, entry.warnings, item[1], flat
    source, problems = item
    return source, problems, None if source is None else source.body, None


def pack_finished(source: Source, warnings: tuple[Problem, ...], finished: Finished) -> Any:
    """A render worker's finished update (with its source and the source's warnings) as a record.

    The sort key is computed here, on both cores, and carried in the record. ``finished``
    itself when the record format cannot carry it exactly.
    """
    update = finished.update
    sort_key(update)
    state = update.__dict__
    feed = state.get("feed_html")
    strings = (state.get("html"), state.get("toc_html"), None if feed is state.get("html") else feed)
    try:
        flat = content_records.encode(
            CachedSource(source, warnings, finished), _encoder(), strings, inline=True
        )
    except content_records.Unencodable:
        return finished
    return Packed(marshal.dumps(flat))


def unpack_finished(item: Any) -> tuple[Finished, CachedSource | None, tuple[Any, ...] | None]:
    """``(finished, its cache entry, record)`` of :func:`pack_finished`'s item (None, None: objects)."""
    if type(item) is Packed:
        item = item.open()
    if type(item) is Arrived:
        assert item.entry.finished is not None
        return item.entry.finished, item.entry, item.flat
    return item, None, None


def settle_into(sink: Path, sources: list[Source], warnings: list[tuple[Problem, ...]]) -> Settle:
    """A :data:`~pipeline.reading.model.Settle` that puts a batch's HTML into the HTML store.

    Runs in the render worker: the batch's records are appended to ``sink`` (made by
    :meth:`pipeline.caching.content_cache.ContentCache.html_sink`) in one locked write, and
    each finished update travels back as its stored record, naming its HTML by place: the
    parent never holds the strings, and the cache's writer has nothing left to encode. Should
    the write fail (the file removed by another build, a full disk), the batch travels with its
    strings (:func:`pack_finished`) and the cache's save writes them, as it did before.
    """

    def settle(indices: range, results: list[Any]) -> list[Any]:
        updates = [finished.update for finished in results]
        try:
            records = (html_store.encode(u.fingerprint, u.html, u.toc_html, u.feed_html) for u in updates)
            refs = html_store.append(sink, records, create=False)
        except (OSError, UnicodeError):
            return [pack_finished(sources[i], warnings[i], f) for i, f in zip(indices, results, strict=True)]
        return [
            _pack_stored(sources[i], warnings[i], f, ref)
            for i, f, ref in zip(indices, results, refs, strict=True)
        ]

    return settle


def _pack_stored(source: Source, warnings: tuple[Problem, ...], finished: Finished, ref: HtmlRef) -> Any:
    sort_key(finished.update)
    try:
        flat = content_records.encode(CachedSource(source, warnings, finished), _encoder(), ref, inline=True)
    except content_records.Unencodable:
        return finished  # its HTML is written but named by nothing: a dead record, dropped when compacted
    return Packed(marshal.dumps(flat))


class Sharer:
    """Records made in separate processes with their equal parts as one object again.

    A save's :class:`~pipeline.caching.content_records.Encoder` keeps equal languages, targets,
    tags, zones, images and link lookups as one object, so marshal writes each once (and a load
    makes each once); records encoded one by one in the workers share nothing, which made the
    base file of a cold 10,000-update build 16.3 MB instead of 9.7. The cache's writer passes
    each worker-made record through :meth:`share` first: the same values, fewer objects.
    """

    def __init__(self) -> None:
        self._words: dict[Any, Any] = {}  # str, bytes or None: each kind only equals itself
        self._tuples: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def share(self, flat: tuple[Any, ...]) -> tuple[Any, ...]:
        word, one = self._words.setdefault, self._tuples.setdefault
        source_t, warnings_t, finished = flat
        s = list(source_t)
        s[6], s[7] = self._date(s[6]), self._date(s[7])
        for i in (8, 11, 13, 14):  # lang, author, image, image_alt
            s[i] = word(s[i], s[i])
        s[9], s[10] = one(s[9], s[9]), one(s[10], s[10])  # targets, tags
        if finished is not None:
            shared, own, lookups, size, warnings, ref, key = finished
            own = list(own)
            if shared:  # summary, picture, rel, url, fingerprint
                own[1] = None if own[1] is None else one(own[1], own[1])
                own[2] = word(own[2], own[2])
            else:  # the update's own id, slug, title, dates, lang, targets, tags, author, …
                own[3], own[4] = self._date(own[3]), self._date(own[4])
                own[5], own[8], own[11] = word(own[5], own[5]), word(own[8], own[8]), word(own[11], own[11])
                own[6], own[7] = one(own[6], own[6]), one(own[7], own[7])
                own[10] = None if own[10] is None else one(own[10], own[10])
            shown = tuple([one(lookup, lookup) for lookup in lookups])
            ref = (word(ref[0], ref[0]), *ref[1:]) if type(ref[0]) is str and type(ref[1]) is int else ref
            size = None if size is None else one(size, size)
            finished = (shared, tuple(own), one(shown, shown), size, warnings, ref, key)
        return (tuple(s), warnings_t, finished)

    def _date(self, value: tuple[bytes, bytes | None]) -> tuple[bytes, bytes | None]:
        zone = value[1]
        return value if zone is None else (value[0], self._words.setdefault(zone, zone))

"""A content cache entry as plain tuples of str, int, bool, bytes and None, for :mod:`marshal`.

An edit build loads every entry of the content cache (10,000 at 10,000 updates). As pickled
dataclasses and datetimes that took 0.22 s of CPU; ``marshal.loads`` of the same data as
tuples takes 0.05–0.08 s, and making the objects from them with ``object.__new__`` and one
``__dict__`` update each (no ``__init__``, no frozen ``__setattr__``) another 0.07 s. What the
update shares with its source (id, slug, title, dates, language, targets, tags, author) is
stored once: the update's slot holds ``...`` and the decoded update takes the source's object.

:func:`encode` is strict: every field must have exactly the type the model declares (a
``list`` where a ``tuple`` belongs would come back unequal, a ``str`` subclass would not come
back at all), and the objects must hold exactly the model's fields. Anything else raises
:class:`Unencodable` and the entry is simply not stored: a miss next time, never a misread.
A datetime is its pickle state (10 bytes, fold included) and its ``tzinfo`` pickled; equal
``tzinfo`` objects are pickled once per save and kept once per load.
"""

from __future__ import annotations

import operator
import pickle
from datetime import datetime
from typing import Any

from pipeline.caching.html_store import HtmlRef
from pipeline.reading.model import LAZY_FIELDS, CachedSource, Finished, Image, Problem, Source, Update

NoneType = type(None)
_DATE = "date"  # a datetime: (state bytes, pickled tzinfo or None)
_STRS = "strs"  # a tuple of str
_IMAGE = "image"  # None or an Image
SOURCE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("rel", (str,)),
    ("body", (NoneType,)),  # always None in the cache: read again when it must be rendered
    ("body_line", (int,)),
    ("id", (str,)),
    ("slug", (str,)),
    ("title", (str,)),
    ("date", _DATE),
    ("updated", _DATE),
    ("lang", (str,)),
    ("targets", _STRS),
    ("tags", _STRS),
    ("author", (str, NoneType)),
    ("summary", (str, NoneType)),
    ("image", (str, NoneType)),
    ("image_alt", (str, NoneType)),
    ("image_line", (int,)),
    ("draft", (bool,)),
)
UPDATE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("id", (str,)),
    ("slug", (str,)),
    ("title", (str,)),
    ("date", _DATE),
    ("updated", _DATE),
    ("lang", (str,)),
    ("targets", _STRS),
    ("tags", _STRS),
    ("author", (str, NoneType)),
    ("summary", (str,)),
    ("image", _IMAGE),
    ("source", (str,)),
    ("url", (str,)),
    ("fingerprint", (str,)),
)
IMAGE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("url", (str,)),
    ("alt", (str,)),
    ("length", (int, NoneType)),
    ("media_type", (str, NoneType)),
    ("width", (int, NoneType)),
    ("height", (int, NoneType)),
)
PROBLEM_FIELDS = ("path", "line", "message", "severity")
SOURCE_NAMES = tuple(name for name, _ in SOURCE_FIELDS)
UPDATE_NAMES = tuple(name for name, _ in UPDATE_FIELDS)
IMAGE_NAMES = tuple(name for name, _ in IMAGE_FIELDS)
# The update's fields that are (nearly always) its source's: stored once when all are equal.
SHARED = ("id", "slug", "title", "date", "updated", "lang", "targets", "tags", "author")
OWN_NAMES = tuple(name for name in UPDATE_NAMES if name not in SHARED)
_shared_of = operator.itemgetter(*SHARED)
_UPDATE_KEYS = frozenset(UPDATE_NAMES)
_UPDATE_EXTRA = frozenset(("_sort_key", "_body", *LAZY_FIELDS))
_new = object.__new__


class Unencodable(Exception):
    """An entry holds something the record format does not carry exactly: it is not stored."""


class Encoder:
    """One save's encoding state: each distinct ``tzinfo`` pickled once, equal strings and
    tuples kept as one object, so marshal writes each once and a load makes each once (the
    bench corpus's 10,000 updates make 80,000 link lookups, most of them to the same pages)."""

    def __init__(self) -> None:
        self._zones: dict[int, tuple[Any, bytes]] = {}
        self._strings: dict[str, str] = {}
        self._tuples: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def zone(self, tz: Any) -> bytes | None:
        if tz is None:
            return None
        known = self._zones.get(id(tz))
        if known is None:
            known = self._zones[id(tz)] = (tz, pickle.dumps(tz, protocol=pickle.HIGHEST_PROTOCOL))
        return known[1]

    def string(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def strings(self, value: tuple[Any, ...]) -> tuple[Any, ...]:
        """A checked tuple of str, None, bool and int, its strings and itself shared (tuples of
        one length never mix bools and ints in one position, so equal means identical)."""
        shared = tuple(self._strings.setdefault(v, v) if type(v) is str else v for v in value)
        return self._tuples.setdefault(shared, shared)


def encode(entry: CachedSource, encoder: Encoder) -> tuple[Any, ...]:
    """``entry`` as nested tuples of marshal's exact types; raises :class:`Unencodable`."""
    try:
        if type(entry) is not CachedSource or type(entry.source) is not Source:
            raise Unencodable("not a CachedSource of a Source")
        source = entry.source.__dict__
        if source.keys() != set(SOURCE_NAMES):
            raise Unencodable("the Source holds other fields than the record format knows")
        source_t = tuple(_value(source[name], kind, encoder) for name, kind in SOURCE_FIELDS)
        finished = entry.finished
        return (
            source_t,
            _problems(entry.warnings),
            None if finished is None else _finished(finished, source, encoder),
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise Unencodable(str(exc)) from None


def _finished(finished: Finished, source: dict[str, Any], encoder: Encoder) -> tuple[Any, ...]:
    update = finished.update
    if type(finished) is not Finished or type(update) is not Update:
        raise Unencodable("not a Finished Update")
    state = update.__dict__
    if not state.keys() >= _UPDATE_KEYS or not state.keys() <= _UPDATE_KEYS | _UPDATE_EXTRA:
        raise Unencodable("the Update holds other fields than the record format knows")
    body = state.get("_body")
    if type(body) is not HtmlRef or type(body.path) is not str:
        raise Unencodable("the Update's HTML is not in the HTML store")
    if type(body.offset) is not int or type(body.length) is not int:
        raise Unencodable("an unexpected HTML reference")
    shared = all(_same(state[name], source[name]) for name in SHARED)
    values = tuple(
        _value(state[name], kind, encoder) for name, kind in UPDATE_FIELDS if not shared or name not in SHARED
    )
    sort_key = state.get("_sort_key")
    if sort_key is not None and not (
        type(sort_key) is tuple
        and len(sort_key) == 2
        and type(sort_key[0]) is float
        and type(sort_key[1]) is str
    ):
        raise Unencodable("an unexpected sort key")
    lookups = finished.lookups
    if type(lookups) is not tuple or not all(
        type(item) is tuple
        and len(item) == 3
        and type(item[0]) is str
        and type(item[1]) in (str, NoneType)
        and type(item[2]) is bool
        for item in lookups
    ):
        raise Unencodable("unexpected lookups")
    lookups = encoder.strings(tuple(encoder.strings(item) for item in lookups))
    size = finished.image_size
    if size is not None:
        if not (type(size) is tuple and len(size) == 2 and type(size[0]) is str and type(size[1]) is int):
            raise Unencodable("an unexpected image size")
        size = (encoder.string(size[0]), size[1])
    warnings = _problems(finished.warnings)
    ref = (encoder.string(body.path), body.offset, body.length)
    return (shared, values, lookups, size, warnings, ref, sort_key)


def _same(value: Any, other: Any) -> bool:
    """Equal and of the same exact type; datetimes also in the same zone (equal instants in
    different zones compare equal but print differently)."""
    if type(value) is not type(other) or value != other:
        return False
    return type(value) is not datetime or value.tzinfo is other.tzinfo and value.fold == other.fold


def _value(value: Any, kind: Any, encoder: Encoder) -> Any:
    if kind is _DATE:
        if type(value) is not datetime:
            raise Unencodable(f"not a datetime: {value!r}")
        state = value.__reduce_ex__(4)[1]  # protocol 4: the fold bit is kept
        return (state[0], encoder.zone(state[1] if len(state) > 1 else None))
    if kind is _STRS:
        if type(value) is not tuple or not all(type(item) is str for item in value):
            raise Unencodable(f"not a tuple of str: {value!r}")
        return encoder.strings(value)
    if kind is _IMAGE:
        if value is None:
            return None
        if type(value) is not Image or value.__dict__.keys() != set(IMAGE_NAMES):
            raise Unencodable(f"not an Image: {value!r}")
        return encoder.strings(
            tuple(_value(value.__dict__[name], inner, encoder) for name, inner in IMAGE_FIELDS)
        )
    if type(value) not in kind:
        raise Unencodable(f"unexpected {type(value).__name__}: {value!r}")
    return encoder.string(value) if type(value) is str else value


def _problems(problems: Any) -> tuple[tuple[Any, ...], ...]:
    if type(problems) is not tuple:
        raise Unencodable("problems not in a tuple")
    out = []
    for problem in problems:
        if type(problem) is not Problem:
            raise Unencodable("not a Problem")
        values = tuple(problem.__dict__[name] for name in PROBLEM_FIELDS)
        if [type(v) for v in values] != [str, int, str, str] or len(problem.__dict__) != len(PROBLEM_FIELDS):
            raise Unencodable("an unexpected Problem")
        out.append(values)
    return tuple(out)


class Decoder:
    """Tuples back into objects, sharing each ``tzinfo`` of a load."""

    def __init__(self) -> None:
        self._zones: dict[bytes, Any] = {}
        self._images: dict[tuple[Any, ...], Image] = {}

    def decode(self, flat: tuple[Any, ...]) -> CachedSource:
        """The entry :func:`encode` made ``flat`` from (raises on a malformed tuple).

        Written for speed (10,000 calls per edit build): tuples unpacked into dict displays,
        ``object.__new__`` and the instance's own dict instead of ``__init__``, equal images
        made once.
        """
        source_t, warnings_t, finished_t = flat
        (rel, body, body_line, id_, slug, title, date, updated, lang, targets, tags, author, summary,
         image, image_alt, image_line, draft) = source_t  # fmt: skip
        zones = self._zones
        date = datetime(date[0], zones.get(date[1]) or self._zone(date[1]))  # type: ignore[call-overload]
        updated = datetime(updated[0], zones.get(updated[1]) or self._zone(updated[1]))  # type: ignore[call-overload]
        source = _new(Source)
        source.__dict__ = {
            "rel": rel, "body": body, "body_line": body_line, "id": id_, "slug": slug, "title": title,
            "date": date, "updated": updated, "lang": lang, "targets": targets, "tags": tags,
            "author": author, "summary": summary, "image": image, "image_alt": image_alt,
            "image_line": image_line, "draft": draft,
        }  # fmt: skip
        finished = None
        if finished_t is not None:
            shared, values, lookups, size, warnings, ref, sort_key = finished_t
            if shared:
                summary, picture, rel, url, fingerprint = values
            else:
                (id_, slug, title, date, updated, lang, targets, tags, author, summary, picture, rel, url,
                 fingerprint) = values  # fmt: skip
                date = datetime(date[0], zones.get(date[1]) or self._zone(date[1]))  # type: ignore[call-overload]
                updated = datetime(updated[0], zones.get(updated[1]) or self._zone(updated[1]))  # type: ignore[call-overload]
            if picture is not None:
                picture = self._image(picture)
            update = _new(Update)
            update.__dict__.update(
                {
                    "id": id_, "slug": slug, "title": title, "date": date, "updated": updated, "lang": lang,
                    "targets": targets, "tags": tags, "author": author, "summary": summary, "image": picture,
                    "source": rel, "url": url, "fingerprint": fingerprint,
                    "_body": tuple.__new__(HtmlRef, ref),
                }
            )  # fmt: skip
            if sort_key is not None:
                update.__dict__["_sort_key"] = sort_key
            finished = _new(Finished)
            finished.__dict__.update(
                {
                    "update": update,
                    "lookups": lookups,
                    "image_size": size,
                    "warnings": _problem_objects(warnings) if warnings else (),
                }
            )
        entry = _new(CachedSource)
        entry.__dict__.update(
            {
                "source": source,
                "warnings": _problem_objects(warnings_t) if warnings_t else (),
                "finished": finished,
            }
        )
        return entry

    def _image(self, values: tuple[Any, ...]) -> Image:
        """One Image per distinct value (they are frozen: updates showing the same picture share it)."""
        image = self._images.get(values)
        if image is None:
            image = self._images[values] = _new(Image)
            image.__dict__.update(zip(IMAGE_NAMES, values, strict=True))
        return image

    def _zone(self, tz: bytes | None) -> Any:
        if tz is None:
            return None
        zone = self._zones[tz] = pickle.loads(tz)  # our own file, verified by its checksum
        return zone


def _problem_objects(values: tuple[tuple[Any, ...], ...]) -> tuple[Problem, ...]:
    return tuple(Problem(*value) for value in values) if values else ()


def html_ref(flat: tuple[Any, ...]) -> tuple[str, int, int] | None:
    """The (path, offset, length) of an encoded entry's HTML record, or None when not rendered."""
    finished = flat[2]
    return None if finished is None else finished[5]


def with_html_ref(flat: tuple[Any, ...], ref: tuple[str, int, int]) -> tuple[Any, ...]:
    """An encoded rendered entry whose HTML record is now at ``ref``."""
    source_t, warnings_t, finished = flat
    return (source_t, warnings_t, (*finished[:5], ref, finished[6]))


def without_finished(flat: tuple[Any, ...]) -> tuple[Any, ...]:
    """An encoded entry kept as parsed only (its HTML record could not be kept)."""
    return (flat[0], flat[1], None)

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

import itertools
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


def _signatures(fields: tuple[tuple[str, Any], ...]) -> frozenset[tuple[type, ...]]:
    """Every allowed tuple of exact field types: one ``in`` test checks a whole object."""
    options: list[tuple[type, ...]] = []
    for _name, kind in fields:
        if kind is _DATE:
            options.append((datetime,))
        elif kind is _STRS:
            options.append((tuple,))
        elif kind is _IMAGE:
            options.append((NoneType, Image))
        else:
            options.append(kind)
    return frozenset(itertools.product(*options))


_SOURCE_TYPES = _signatures(SOURCE_FIELDS)
_UPDATE_TYPES = _signatures(UPDATE_FIELDS)
_IMAGE_TYPES = _signatures(IMAGE_FIELDS)
_LOOKUP_TYPES = frozenset({(str, str, bool), (str, NoneType, bool)})
_PROBLEM_TYPES = frozenset({(str, int, str, str)})
_INLINE_TYPES = frozenset({(str, str, str), (str, str, NoneType)})  # html, toc_html, feed_html or None
_SOURCE_KEYS = frozenset(SOURCE_NAMES)
_UPDATE_ALLOWED = _UPDATE_KEYS | _UPDATE_EXTRA
_IMAGE_KEYS = frozenset(IMAGE_NAMES)
_STR = frozenset({str})
_source_values = operator.itemgetter(*SOURCE_NAMES)
_update_values = operator.itemgetter(*UPDATE_NAMES)
_image_values = operator.itemgetter(*IMAGE_NAMES)
_problem_values = operator.itemgetter(*PROBLEM_FIELDS)


class Encoder:
    """One save's encoding: each distinct ``tzinfo`` pickled once, repeated strings and tuples
    (languages, targets, tags, images, link lookups) kept as one object, so marshal writes each
    once and a load makes each once (10,000 bench updates make 80,000 lookups, most of them of
    pages other updates link to as well).

    Checked by exact type signatures (one ``tuple(map(type, ...)) in`` per object): encoding
    10,000 entries field by field cost 0.6 s, twice what pickling them did.
    """

    def __init__(self) -> None:
        self._zones: dict[int, tuple[Any, bytes]] = {}
        self._strings: dict[Any, Any] = {}
        self._tuples: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._lookups: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # each checked (equal means equivalent)

    def encode(self, entry: CachedSource, html: Any = None, inline: bool = False) -> tuple[Any, ...]:
        """``entry`` as nested tuples of marshal's exact types; raises :class:`Unencodable`.

        ``html``: where the update's HTML has just been put, for an update that still holds it
        in memory (no lazy copy of the update only to encode it: 10,000 of them cold).
        ``inline``: the form a forked worker sends back (:mod:`pipeline.caching.wire`): the
        source's body is left out (None, as stored), and ``html`` may be the HTML strings.
        """
        if type(entry) is not CachedSource or type(entry.source) is not Source:
            raise Unencodable("not a CachedSource of a Source")
        source = entry.source.__dict__
        if source.keys() != _SOURCE_KEYS:
            raise Unencodable("the Source holds other fields than the record format knows")
        values = _source_values(source)
        if inline and values[1] is not None:
            values = (values[0], None, *values[2:])
        if tuple(map(type, values)) not in _SOURCE_TYPES:
            raise Unencodable("a Source field of an unexpected type")
        (rel, body, body_line, id_, slug, title, date, updated, lang, targets, tags, author, summary,
         image, image_alt, image_line, draft) = values  # fmt: skip
        word = self._strings.setdefault
        source_t = (
            rel, body, body_line, id_, slug, title, self._date(date), self._date(updated), word(lang, lang),
            self._strs(targets), self._strs(tags), word(author, author), summary, word(image, image),
            word(image_alt, image_alt), image_line, draft,
        )  # fmt: skip
        finished = entry.finished
        return (
            source_t,
            self._problems(entry.warnings),
            None if finished is None else self._finished(finished, source, html, inline),
        )

    def _finished(
        self, finished: Finished, source: dict[str, Any], html: Any, inline: bool
    ) -> tuple[Any, ...]:
        update = finished.update
        if type(finished) is not Finished or type(update) is not Update:
            raise Unencodable("not a Finished Update")
        state = update.__dict__
        keys = state.keys()
        if not (keys >= _UPDATE_KEYS and keys <= _UPDATE_ALLOWED):
            raise Unencodable("the Update holds other fields than the record format knows")
        values = _update_values(state)
        if tuple(map(type, values)) not in _UPDATE_TYPES:
            raise Unencodable("an Update field of an unexpected type")
        (id_, slug, title, date, updated, lang, targets, tags, author, summary, image, rel, url,
         fingerprint) = values  # fmt: skip
        word = self._strings.setdefault
        body = state.get("_body") if html is None else html
        if inline and type(body) is tuple and tuple(map(type, body)) in _INLINE_TYPES:
            ref = body  # the HTML strings themselves
        elif type(body) is not HtmlRef or tuple(map(type, body)) != (str, int, int):
            raise Unencodable("the Update's HTML is not in the HTML store")
        else:
            ref = (word(body.path, body.path), body.offset, body.length)
        picture = None if image is None else self._image(image)
        # Shared when equal (types are checked alike on both sides); dates also in the same zone
        # and fold: equal instants in two zones compare equal but print differently.
        other_date, other_updated = source["date"], source["updated"]
        if (
            (id_, slug, title, date, updated, lang, targets, tags, author)
            == (source["id"], source["slug"], source["title"], other_date, other_updated, source["lang"],
                source["targets"], source["tags"], source["author"])
            and date.tzinfo is other_date.tzinfo
            and date.fold == other_date.fold
            and updated.tzinfo is other_updated.tzinfo
            and updated.fold == other_updated.fold
        ):  # fmt: skip
            shared, own = True, (summary, picture, word(rel, rel), url, fingerprint)
        else:
            shared = False
            own = (
                id_, slug, title, self._date(date), self._date(updated), word(lang, lang), self._strs(targets),
                self._strs(tags), word(author, author), summary, picture, word(rel, rel), url, fingerprint,
            )  # fmt: skip
        sort_key = state.get("_sort_key")
        if sort_key is not None and (
            type(sort_key) is not tuple or tuple(map(type, sort_key)) != (float, str)
        ):
            raise Unencodable("an unexpected sort key")
        lookups = finished.lookups
        if type(lookups) is not tuple:
            raise Unencodable("lookups not in a tuple")
        one, seen = self._tuples.setdefault, self._lookups
        kept = []
        for item in lookups:
            known = seen.get(item) if type(item) is tuple else None  # checked once per distinct lookup
            if known is None:
                if type(item) is not tuple or tuple(map(type, item)) not in _LOOKUP_TYPES:
                    raise Unencodable(f"an unexpected lookup: {item!r}")
                known = seen[item] = item
            kept.append(known)
        shown = tuple(kept)
        size = finished.image_size
        if size is not None:
            if type(size) is not tuple or tuple(map(type, size)) != (str, int):
                raise Unencodable("an unexpected image size")
            size = one(size, size)
        return (shared, own, one(shown, shown), size, self._problems(finished.warnings), ref, sort_key)

    def _date(self, value: datetime) -> tuple[bytes, bytes | None]:
        state = value.__reduce_ex__(4)[1]  # protocol 4: the fold bit is kept
        if len(state) == 1:
            return (state[0], None)
        tz = state[1]
        known = self._zones.get(id(tz))
        if known is None:
            known = self._zones[id(tz)] = (tz, pickle.dumps(tz, protocol=pickle.HIGHEST_PROTOCOL))
        return (state[0], known[1])

    def _strs(self, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if value and set(map(type, value)) != _STR:
            raise Unencodable(f"not a tuple of str: {value!r}")
        return self._tuples.setdefault(value, value)

    def _image(self, image: Image) -> tuple[Any, ...]:
        state = image.__dict__
        if state.keys() != _IMAGE_KEYS:
            raise Unencodable("the Image holds other fields than the record format knows")
        values = _image_values(state)
        if tuple(map(type, values)) not in _IMAGE_TYPES:
            raise Unencodable("an Image field of an unexpected type")
        return self._tuples.setdefault(values, values)

    def _problems(self, problems: Any) -> tuple[tuple[Any, ...], ...]:
        if type(problems) is not tuple:
            raise Unencodable("problems not in a tuple")
        out = []
        for problem in problems:
            if type(problem) is not Problem or len(problem.__dict__) != len(PROBLEM_FIELDS):
                raise Unencodable("not a Problem")
            values = _problem_values(problem.__dict__)
            if tuple(map(type, values)) not in _PROBLEM_TYPES:
                raise Unencodable("an unexpected Problem")
            out.append(values)
        return tuple(out)


def encode(entry: CachedSource, encoder: Encoder, html: Any = None, inline: bool = False) -> tuple[Any, ...]:
    """``entry`` as nested tuples of marshal's exact types; raises :class:`Unencodable`."""
    try:
        return encoder.encode(entry, html, inline)
    except (AttributeError, KeyError, TypeError) as exc:
        raise Unencodable(str(exc)) from None


class Decoder:
    """Tuples back into objects, sharing each ``tzinfo`` of a load."""

    def __init__(self) -> None:
        self._zones: dict[bytes, Any] = {}
        self._images: dict[tuple[Any, ...], Image] = {}

    def decode(self, flat: tuple[Any, ...], inline: bool = False) -> CachedSource:
        """The entry :func:`encode` made ``flat`` from (raises on a malformed tuple).

        ``inline``: ``flat`` holds the HTML strings (see :meth:`Encoder.encode`).
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
                }
            )  # fmt: skip
            if inline:
                html, toc, feed = ref
                update.__dict__.update(html=html, toc_html=toc, feed_html=html if feed is None else feed)
            else:
                update.__dict__["_body"] = tuple.__new__(HtmlRef, ref)
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

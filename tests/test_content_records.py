"""Content cache records: an entry encoded as tuples and decoded is the entry it was, or it is refused.

Differential over real inputs (example content, the bench corpus with two seeds, the dense
corpus, tests/data/markdown_wider) and over hypothesis-made hostile values: every field comes
back equal and of the same exact type, every datetime in the same zone with the same fold.
"""

from __future__ import annotations

import marshal
import struct
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.caching import content_records as cr
from pipeline.caching.html_store import HtmlRef
from pipeline.reading.content import read_content
from pipeline.reading.model import LAZY_FIELDS, CachedSource, Finished, Image, Problem, Source, Update
from tests.conftest import NOW
from tests.test_html_store_records import _corpus


class Capture:
    """A SourceCache that misses everything and keeps what the read puts."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedSource] = {}

    def get(self, key: str) -> None:
        return None

    def get_many(self, keys: list[str]) -> list[None]:
        return [None] * len(keys)

    def put(self, key: str, entry: CachedSource, flat: Any = None) -> None:
        self.entries[key] = entry

    def repair_with(self, make: Any) -> None:
        pass

    def settler(self, sources: Any, warnings: Any, kept: int) -> None:
        return None


def stored(entry: CachedSource, at: int = 0) -> CachedSource:
    """The entry as the content cache stores it: the HTML in the HTML store."""
    if entry.finished is None:
        return entry
    ref = ref_for(at)
    return replace(entry, finished=replace(entry.finished, update=entry.finished.update.with_body(ref)))


def ref_for(at: int) -> HtmlRef:
    return HtmlRef(f"/state/html-{at % 3}.blob", at * 1000, 999)


def round_trip(entry: CachedSource) -> CachedSource:
    flat = cr.encode(entry, cr.Encoder())
    return cr.Decoder().decode(marshal.loads(marshal.dumps(flat, 4)))


def exactly(a: Any, b: Any) -> bool:
    """Equal and of the same type, recursively through tuples; datetimes in the same zone and fold;
    floats bit for bit (a NaN comes back as the NaN it was, and -0.0 as -0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b)
    if type(a) is tuple:
        return len(a) == len(b) and all(exactly(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is datetime:
        return a == b and repr(a) == repr(b) and a.fold == b.fold and a.isoformat() == b.isoformat()
    if type(a) in (Image, Problem):
        return a.__dict__.keys() == b.__dict__.keys() and all(
            exactly(a.__dict__[k], b.__dict__[k]) for k in a.__dict__
        )
    return a == b


def same_entry(a: CachedSource, b: CachedSource) -> None:
    assert type(b) is CachedSource and type(b.source) is Source
    assert a.source.__dict__.keys() == b.source.__dict__.keys()
    for name, value in a.source.__dict__.items():
        assert exactly(value, b.source.__dict__[name]), name
    assert exactly(a.warnings, b.warnings)
    assert (a.finished is None) == (b.finished is None)
    if a.finished is None or b.finished is None:
        return
    ua, ub = a.finished.update.__dict__, b.finished.update.__dict__
    keep = [k for k in ua if k not in LAZY_FIELDS]
    assert sorted(keep) == sorted(ub)
    for name in keep:
        assert exactly(ua[name], ub[name]), name
    assert type(b.finished) is Finished and type(b.finished.update) is Update
    assert exactly(a.finished.lookups, b.finished.lookups)
    assert exactly(a.finished.image_size, b.finished.image_size)
    assert exactly(a.finished.warnings, b.finished.warnings)


@pytest.mark.parametrize("kind", ["example", "wider", "seed17", "seed3", "dense"])
def test_real_entries_come_back_as_they_were(kind, tmp_path, settings):
    content = _corpus(kind, tmp_path / "c")
    capture = Capture()
    read = read_content(content, settings, NOW, cache=capture)
    assert read.updates and capture.entries
    rendered = 0
    for at, fresh in enumerate(capture.entries.values()):
        entry = stored(fresh, at)
        rendered += entry.finished is not None
        same_entry(entry, round_trip(entry))
        if fresh.finished is not None:  # encoded with its HTML still in memory: the same record
            assert cr.encode(fresh, cr.Encoder(), ref_for(at)) == cr.encode(entry, cr.Encoder())
    assert rendered == len(read.updates)


TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=40)  # surrogates and NUL too
ZONES = st.sampled_from(
    [
        None,
        UTC,
        timezone(timedelta(hours=5, minutes=30), "IST"),
        timezone(timedelta(hours=-3)),
        ZoneInfo("Europe/Stockholm"),
        ZoneInfo("America/New_York"),
    ]
)
DATES = st.builds(
    lambda d, tz, fold: d.replace(tzinfo=tz, fold=fold), st.datetimes(), ZONES, st.sampled_from([0, 1])
)
STRS = st.lists(TEXT, max_size=4).map(tuple)
OPTIONAL = st.none() | TEXT
PROBLEMS = st.lists(st.builds(Problem, TEXT, st.integers(-(2**40), 2**40), TEXT, TEXT), max_size=3).map(tuple)
IMAGES = st.none() | st.builds(
    Image,
    TEXT,
    TEXT,
    st.none() | st.integers(0, 2**62),
    OPTIONAL,
    st.none() | st.integers(),
    st.none() | st.integers(),
)


@st.composite
def entries(draw: st.DrawFn) -> CachedSource:
    source = Source(
        rel=draw(TEXT),
        body=None,
        body_line=draw(st.integers(-5, 2**70)),
        id=draw(TEXT),
        slug=draw(TEXT),
        title=draw(TEXT),
        date=draw(DATES),
        updated=draw(DATES),
        lang=draw(TEXT),
        targets=draw(STRS),
        tags=draw(STRS),
        author=draw(OPTIONAL),
        summary=draw(OPTIONAL),
        image=draw(OPTIONAL),
        image_alt=draw(OPTIONAL),
        image_line=draw(st.integers()),
        draft=draw(st.booleans()),
    )
    if draw(st.booleans()):
        return CachedSource(source, draw(PROBLEMS), None)
    own = draw(st.booleans())  # the update's shared fields its own, or its source's
    update = Update(
        id=draw(TEXT) if own else source.id,
        slug=source.slug,
        title=draw(TEXT) if own else source.title,
        date=draw(DATES) if own else source.date,
        updated=source.updated,
        lang=source.lang,
        targets=draw(STRS) if own else source.targets,
        tags=source.tags,
        author=draw(OPTIONAL) if own else source.author,
        summary=draw(TEXT),
        html=draw(TEXT),
        toc_html="",
        feed_html="",
        image=draw(IMAGES),
        source=source.rel,
        url=draw(TEXT),
        fingerprint=draw(TEXT),
    )
    if draw(st.booleans()):
        update.__dict__["_sort_key"] = (draw(st.floats()), draw(TEXT))
    lookups = tuple(draw(st.lists(st.tuples(TEXT, OPTIONAL, st.booleans()), max_size=4)))
    size = draw(st.none() | st.tuples(TEXT, st.integers()))
    finished = Finished(update, lookups, size, draw(PROBLEMS))
    return stored(CachedSource(source, draw(PROBLEMS), finished), draw(st.integers(0, 5)))


@given(entries())
def test_hostile_entries_come_back_as_they_were(entry):
    same_entry(entry, round_trip(entry))


def test_a_shared_date_in_another_zone_is_stored_as_its_own():
    """Equal instants in two zones compare equal but print differently: never shared."""
    base = _plain_entry()
    source = replace(base.source, date=datetime(2026, 1, 1, 12, tzinfo=UTC))
    update = replace(base.finished.update, date=datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))))
    entry = stored(CachedSource(source, (), replace(base.finished, update=update)))
    back = round_trip(entry)
    assert back.finished.update.date.isoformat() == "2026-01-01T13:00:00+01:00"
    assert back.source.date.isoformat() == "2026-01-01T12:00:00+00:00"


def _one_entry() -> list[CachedSource]:
    return [stored(_plain_entry())]


def _plain_entry() -> CachedSource:
    date = datetime(2026, 1, 1, 12, tzinfo=ZoneInfo("Europe/Stockholm"))
    source = Source(
        "a.md", None, 5, "id", "a", "A", date, date, "sv", ("17.1",), (), None, None, None, None, 0, False
    )
    update = Update(
        "id",
        "a",
        "A",
        date,
        date,
        "sv",
        ("17.1",),
        (),
        None,
        "S",
        "<p>x</p>",
        "",
        "<p>x</p>",
        None,
        "a.md",
        "u",
        "f",
    )
    return CachedSource(source, (), Finished(update, (), None, ()))


class Text(str):
    pass


class Moment(datetime):
    pass


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: replace(e, source=replace(e.source, targets=["17.1"])),  # a list where a tuple belongs
        lambda e: replace(e, source=replace(e.source, title=Text("A"))),  # a str subclass
        lambda e: replace(e, source=replace(e.source, date=Moment(2026, 1, 1))),  # a datetime subclass
        lambda e: replace(e, source=replace(e.source, body="text")),  # the body is never cached
        lambda e: replace(e, source=replace(e.source, draft=1)),  # an int where a bool belongs
        lambda e: _with(e.source, "extra", 1) or e,  # a field the format does not know
        lambda e: _with(e.finished.update, "extra", 1) or e,
        lambda e: replace(e, finished=replace(e.finished, update=e.finished.update.with_body(("p", 0, 1)))),
        lambda e: replace(e, finished=replace(e.finished, lookups=(("a.md", None, 1),))),
        lambda e: replace(e, warnings=[Problem("a.md", 1, "m")]),
    ],
)
def test_what_the_format_cannot_carry_exactly_is_refused(spoil):
    (entry,) = _one_entry()
    round_trip(entry)  # the unspoilt entry is fine
    with pytest.raises(cr.Unencodable):
        cr.encode(spoil(entry), cr.Encoder())


def _with(target: Any, name: str, value: Any) -> None:
    target.__dict__[name] = value


def test_a_record_of_another_shape_raises_instead_of_decoding():
    (entry,) = _one_entry()
    flat = cr.encode(entry, cr.Encoder())
    source_t, warnings_t, finished_t = flat
    for bad in [
        (source_t[:-1], warnings_t, finished_t),
        (source_t, warnings_t, finished_t[:-1]),
        (source_t,),
    ]:
        with pytest.raises((ValueError, TypeError, IndexError)):
            cr.Decoder().decode(bad)

"""The content model: what reading a content folder produces, and the types its caches keep.

Plain frozen data (plus a few protocols), so builders, caches and tests can import the shapes
without pulling in parsing, validation or rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.locale.cli import tr
from pipeline.outputs.urls import update_path

if TYPE_CHECKING:  # importing Markdown costs a build that renders nothing 0.1 s
    from pipeline.reading.markdown_render import Rendered


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
        super().__init__(tr("{errors} problem(s) in {files} file(s)", errors=len(errors), files=files))


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
    fingerprint: str = ""  # digest of what every field above is made of: equal fingerprints, equal outputs

    @property
    def path(self) -> str:
        """Site-relative folder of the update's page."""
        return update_path(self.slug)

    def __getattr__(self, name: str) -> Any:
        """``html``, ``toc_html`` and ``feed_html`` of an update from the content cache, on first use.

        Four fifths of the content cache are these three strings, and a build that remakes a few
        outputs reads the HTML of a few updates. So the cache keeps them in its HTML store
        (:mod:`pipeline.caching.html_store`) and its updates carry a ``_body`` reference
        instead; reading any of the three loads all three into the instance (Python calls
        ``__getattr__`` only for attributes the instance does not have). Equality, hashing,
        ``repr`` and :func:`dataclasses.replace` read the fields too, so they see the same values.
        """
        if name in LAZY_FIELDS:
            body = self.__dict__.get("_body")
            if body is not None:
                self.__dict__.update(zip(LAZY_FIELDS, body.load(self.fingerprint), strict=True))
                return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling: without this, pickle's lookup of ``__setstate__`` would reach
        ``__getattr__`` and raise for each of the 10,000 cached updates (0.02 s)."""
        self.__dict__.update(state)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the HTML when it lives in the HTML store (loaded again on use)."""
        state = self.__dict__
        if "_body" in state and not state.keys().isdisjoint(LAZY_FIELDS):  # loaded since
            return {key: value for key, value in state.items() if key not in LAZY_FIELDS}
        return state

    def with_body(self, body: HtmlBody) -> Update:
        """This update without its HTML in memory, read from ``body`` when it is used."""
        lazy = object.__new__(Update)
        state = lazy.__dict__
        state.update(self.__dict__)  # a copy and three deletions: cheaper than a filtered copy
        for name in LAZY_FIELDS:
            state.pop(name, None)
        state["_body"] = body
        return lazy


LAZY_FIELDS = ("html", "toc_html", "feed_html")


class HtmlBody(Protocol):
    """Where a cached update's ``LAZY_FIELDS`` are (:class:`pipeline.caching.html_store.HtmlRef`)."""

    def load(self, fingerprint: str) -> tuple[str, str, str]: ...


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
class LinkTargets:
    """What a link in an update can point at: the other updates' pages and the assets."""

    pages: dict[str, str]  # content path of an update's Markdown file -> its page URL
    assets: dict[str, Path]  # content path -> file, copied to the site as-is
    sizes: dict[str, int] | None = None  # content path -> bytes of each asset, from the walk


@dataclass(frozen=True)
class Finished:
    """A rendered update and what its rendering looked up in the content folder."""

    update: Update
    lookups: tuple[Lookup, ...]
    image_size: tuple[str, int] | None  # (content path, bytes) of a local front-matter image
    warnings: tuple[Problem, ...]

    def still_valid(self, targets: LinkTargets, known: dict[Lookup, bool] | None = None) -> bool:
        """Would rendering again resolve every link and the image exactly as before?

        ``known``: answers for lookups already checked against the same ``targets`` (a build
        checks 10,000 updates; most of their links point at pages other updates link to, and the
        content cache keeps equal lookups as one tuple).
        """
        md_links, assets = targets.pages, targets.assets
        if known is None:
            known = {}
        for lookup in self.lookups:
            ok = known.get(lookup)
            if ok is None:
                rel, url, is_asset = lookup
                ok = known[lookup] = md_links.get(rel) == url and (rel in assets) == is_asset
            if not ok:
                return False
        if self.image_size is not None:
            rel, size = self.image_size
            if targets.sizes is not None:  # the walk's lstat: no second stat per update
                return targets.sizes.get(rel) == size
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


class SourceCache(Protocol):
    """Where parsed sources are kept between builds (:class:`pipeline.caching.content_cache.ContentCache`)."""

    def get(self, key: str) -> CachedSource | None: ...

    def get_many(self, keys: list[str]) -> list[CachedSource | None]:
        """``get`` of each key, in order."""
        ...

    def put(self, key: str, entry: CachedSource, flat: tuple[Any, ...] | None = None) -> None:
        """Keep ``entry``; ``flat``: the same entry as its record (``content_records``, inline)."""
        ...

    def repair_with(self, make: Callable[[str], tuple[str, str, str] | None]) -> None:
        """How to make a cached update's HTML again (by fingerprint) if its record is damaged."""

    def settler(self, sources: list[Source], warnings: list[tuple[Problem, ...]], kept: int) -> Settle | None:
        """How the renderers send ``sources``' finished updates back (None: as records with
        their HTML); ``warnings``: each source's own, ``kept``: the updates reused as they were."""


AfterRender = Callable[[int, "Rendered"], Any]  # what to do with body i once rendered (e.g. finish it)
Settle = Callable[[range, list[Any]], list[Any]]  # a batch of then's results -> what travels back


class Renderer(Protocol):
    """Markdown bodies → ``then(i, rendered)`` for each, in order (the renderings without ``then``).

    ``then`` runs where the rendering was made (a forked worker, for many bodies), so rendering
    and what follows it share one pass over both cores and only the result travels back.
    ``settle(indices, results)``, when given, runs there too, on each batch of ``then``'s
    results (``indices``: the bodies they are for), and returns what travels back instead:
    the content cache writes a batch's HTML into its store there, in one write.
    """

    def __call__(
        self, bodies: list[str], then: AfterRender | None = None, settle: Settle | None = None
    ) -> list[Any]: ...


def sort_key(update: Update) -> tuple[float, str]:
    """Newest first; equal dates fall back to the id so the order never depends on file names.

    Kept on the update once computed (``_sort_key`` in its ``__dict__``, pickled with it into
    the content cache): ``datetime.timestamp()`` of a zoned date costs 2 µs, and an edit build
    of 10,000 updates sorted them three times (reading, the feed scopes, the feed archive), 30,000
    calls. The update is frozen, so its date and id, and with them the key, never change;
    :func:`dataclasses.replace` makes a new instance, which computes its own.
    """
    state = update.__dict__
    key = state.get("_sort_key")
    if key is None:
        key = state["_sort_key"] = (-update.date.timestamp(), update.id)
    return key

"""Finishing made cheaper without changing a byte: the memoized link resolver, the text scrub.

The resolver now works out what a URL written in a folder resolves to once per build and replays
it (with its lookup and its missing-file warning) for every later update. The reference below
is the resolver as it was before, verbatim: for generated URLs, folders and two different builds
in one process, both must answer the same, record the same lookups and warn the same way.
"""

from __future__ import annotations

import posixpath
import random
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pipeline.config.site import Settings, default_settings
from pipeline.reading import sanitize
from pipeline.reading.links import _split, content_path, make_resolver
from pipeline.reading.model import LinkTargets, Lookup


def reference_resolver(
    source_rel: str,
    page_url: str,
    settings: Settings,
    targets: LinkTargets,
    on_missing: Callable[[str], None],
    lookups: list[Lookup] | None = None,
) -> Callable[[str], str | None]:
    """``links.make_resolver`` before its results were memoised (the oracle: see the module doc)."""

    md_links, assets = targets.pages, targets.assets

    def resolve(url: str) -> str | None:
        if url.startswith("//"):
            return "https:" + url
        parts = _split(url)
        if parts.scheme:
            return None
        if not parts.path:
            target = page_url
        else:
            rel = content_path(source_rel, parts.path)
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


PIECES = [
    "",
    ".",
    "..",
    "/",
    "//",
    "a",
    "b.md",
    "media",
    "bild.png",
    "x y",
    "å",
    "%C3%A5",
    "?q=1",
    "#frag",
    ":",
    "https:",
    "mailto:",
]
FOLDERS = ["", "nyheter", "nyheter/2026", "a/b/c"]


def _url(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) + rng.choice(["", "/", ""]) for _ in range(rng.randint(1, 4)))


def _targets(seed: int, settings: Settings) -> LinkTargets:
    rng = random.Random(seed)
    pages = {
        f"{folder}/b.md".lstrip("/"): settings.url(f"b{seed}/") for folder in FOLDERS if rng.random() < 0.7
    }
    pages["a"] = settings.url("a-page/")
    assets = {"media/bild.png": Path("media/bild.png"), f"x{seed}/bild.png": Path("bild.png")}
    return LinkTargets(pages, assets)


def test_the_memoized_resolver_answers_records_and_warns_as_the_reference() -> None:
    rng = random.Random(16)
    seen: set[str] = set()
    for build in range(3):  # each build has its own settings and targets: the memo must follow
        settings = default_settings(base_url=f"https://s{build}.example/root/")
        targets = _targets(build, settings)
        for _ in range(60):
            folder = rng.choice(FOLDERS)
            source = posixpath.join(folder, f"u{rng.randint(0, 9)}.md")
            page = settings.url(f"u/{rng.randint(0, 9)}/")
            urls = [_url(rng) for _ in range(20)]
            results: list[tuple[list, list[Lookup], list[str]]] = []
            for factory in (make_resolver, reference_resolver):
                missing: list[str] = []
                lookups: list[Lookup] = []
                resolve = factory(source, page, settings, targets, missing.append, lookups)
                results.append(([resolve(url) for url in urls + urls], lookups, missing))
            assert results[0] == results[1], (source, urls)
            answers, lookups, missing = results[0]
            recorded: list[str | None] = []  # the fingerprint's record: every answer, in call order
            recording = make_resolver(source, page, settings, targets, [].append, [], recorded)
            assert [recording(url) for url in urls + urls] == answers == recorded
            seen.update({"warned"} if missing else set())
            seen.update({"looked up"} if lookups else set())
            seen.update({"refused"} if None in answers else set())
            seen.update({"page"} if any(a and a.startswith(page) for a in answers) else set())
    assert seen == {"warned", "looked up", "refused", "page"}  # every kind of answer was compared


def test_clean_text_removes_exactly_the_characters_the_pattern_names() -> None:
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    assert sanitize.clean_text(every) == sanitize._UNSAFE_CHARS.sub("", every)
    for code in range(0x110000):
        char = chr(code)
        assert (sanitize.clean_text(f"a{char}b") == "ab") == bool(sanitize._UNSAFE_CHARS.match(char))
        assert (sanitize.clean_text(char) == "") == bool(sanitize._UNSAFE_CHARS.match(char))  # at the edge
    long = "x" * sanitize._SHORT_TEXT  # the memchr path (the ones above take the short one)
    for char in sanitize._UNSAFE_LIST:
        assert sanitize.clean_text(long + char) == long

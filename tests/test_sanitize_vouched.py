"""The fused path: HTML the fast Markdown path vouches for is cleaned without the nesting walk.

``FastCleaner.clean_vouched`` skips :meth:`FastCleaner.clean`'s check of every tag, because the
fast Markdown path writes its elements only where the grammar allows them
(``Rendered.vouched``). The proof is differential: for every body of the example content, the
tests' fixtures, ``tests/data/markdown_wider``, the bench corpus with two seeds, the dense corpus
and generated hostile Markdown, the vouched result (HTML, table of contents, feed HTML, warnings,
lookups, every resolver call in order) equals the present path's (the fast cleaner, or nh3 where
it declines), or the vouched path declines before calling the resolver. And where it vouches,
the full fast cleaner must accept the HTML too: the nesting claim itself is checked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import update_text, write_corpus
from bench.dense_corpus import write_dense_corpus
from pipeline import forkpool
from pipeline.config.site import default_settings
from pipeline.reading import content, frontmatter, sanitize
from pipeline.reading.markdown_render import Rendered, render_markdown, render_with_library
from pipeline.reading.sanitize_fast import FastCleaner
from tests.test_markdown_fast import _example_bodies, _fixture_strings
from tests.test_sanitize_fast import recording_resolver

WIDER = sorted((Path(__file__).parent / "data" / "markdown_wider").glob("*.md"))
NOW = datetime.fromisoformat("2026-11-27T12:00:00+01:00")


def vouched_same_or_declined(body: str) -> bool:
    """True when the body's HTML took the vouched path (and matched the present path)."""
    rendered = render_markdown(body)
    if not rendered.vouched:
        return False
    taken = True
    for raw in (rendered.html, rendered.toc_html):
        if not raw:
            continue
        calls: list[str] = []
        got = sanitize._fast_cleaner.clean_vouched(raw, recording_resolver(calls))
        if got is None:
            assert calls == [], "declined after calling the resolver"
            taken = False
            continue
        present_calls: list[str] = []
        assert got == sanitize.clean_html(raw, recording_resolver(present_calls)), repr(body[:300])
        assert calls == present_calls, repr(body[:300])
        # The nesting the fast path vouches for is the grammar's: the full check accepts it.
        assert sanitize._fast_cleaner.clean(raw, recording_resolver([])) is not None, repr(body[:300])
    return taken


def test_example_content_takes_the_vouched_path_and_matches() -> None:
    bodies = _example_bodies()
    taken = [vouched_same_or_declined(body) for body in bodies]
    assert sum(taken) >= 0.7 * len(bodies)


def test_every_string_fixture_matches_or_declines() -> None:
    taken = [vouched_same_or_declined(text) for text in _fixture_strings()]
    assert sum(taken) > 50


@pytest.mark.parametrize("path", WIDER, ids=lambda p: p.stem)
def test_hand_written_updates_take_the_vouched_path_and_match(path: Path) -> None:
    assert vouched_same_or_declined(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("seed", [17, 3])
def test_benchmark_updates_take_the_vouched_path_and_match(seed: int) -> None:
    bodies = [frontmatter.split(update_text(i, 2000, seed)).body for i in range(0, 2000, 10)]
    assert all(vouched_same_or_declined(body) for body in bodies)


def _finished_both_ways(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list, int]:
    """finish_update on every update of ``folder``: as rendered, and with the vouching taken away."""
    monkeypatch.setattr(forkpool, "WORKERS", 1)
    captured: list[tuple] = []
    original = content.finish_update

    def capture(*args: object) -> object:
        captured.append(args)
        return original(*args)

    monkeypatch.setattr(content, "finish_update", capture)
    content.read_content(folder, default_settings(), NOW)
    vouched = sum(rendered.vouched for _, rendered, _, _ in captured)
    fused = [original(*args) for args in captured]
    present = [
        original(source, replace(rendered, vouched=False), *rest) for source, rendered, *rest in captured
    ]
    return fused, present, vouched


def test_finished_updates_are_the_same_on_the_bench_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's own resolver: HTML, feed HTML, fingerprints (every resolver answer in
    order), lookups and missing-file warnings."""
    folder = write_corpus(tmp_path / "corpus", 120, seed=11)
    (folder / "trasig.md").write_text(
        '---\ntitle: Trasig\nid: tag:bench.example,2026-01-05:trasig\ndate: 2026-01-05T10:00\ntargets: ["17.1"]\n---\n\n'
        "## Ett\n\nSe [saknad](finns-inte.md), ![bild](media/saknas.png) och [hem](/) samt [x](?q=1#f).\n\n"
        "## Två\n\n| a | [b](JavaScript:void) |\n|:-|-:|\n| [c](mailto:x@e.org) | ![d](//cdn.e.org/d.png) |\n\n"
        '## Tre\n\n```\nkod & "citat"\n```\n',
        encoding="utf-8",
    )
    fused, present, vouched = _finished_both_ways(folder, monkeypatch)
    assert len(fused) == 121 and vouched == 121
    assert fused == present
    assert any(finished.warnings for finished in fused)


def test_finished_updates_are_the_same_on_the_dense_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_dense_corpus(tmp_path / "dense", 60)
    fused, present, vouched = _finished_both_ways(folder, monkeypatch)
    assert len(fused) >= 50 and vouched >= 0.9 * len(fused)
    assert fused == present


def test_the_example_content_finishes_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    fused, present, vouched = _finished_both_ways(Path(__file__).parent.parent / "content", monkeypatch)
    assert vouched >= 10
    assert fused == present


# Hostile Markdown: links of every scheme, javascript: hidden by entities, case and control
# characters, entities in text and attributes, nested brackets, raw HTML, autolinks, headings
# with markup, tables, code spans and fences (also where the library's placeholder lands in
# phrasing, which the fast path must not vouch for).
URLS = [
    "annan.md",
    "../2025/x.md",
    "media/a.png",
    "/om/",
    "#avsnitt",
    "?q=1&amp;r=2",
    "//cdn.e.org/x.png",
    "https://e.org/a_b?x=1&y=2",
    "http://E.ORG:8080/p",
    "https://xn--mn-fka.se/",
    "https://192.168.0.1/",
    "https://e.org:99999/",
    "http:bara",
    "mailto:a@e.org",
    "tel:+4612345",
    "ftp://e.org/f",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java&#115;cript:alert(1)",
    "&#106;avascript:x",
    "javascript&colon;x",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:x",
    "a&quot;b",
    "a&amp;b&lt;c&gt;",
    "x&nbsp;y",
    "%20rum",
    "w&#0;x",
    "w&#128;x",
    "y&ingen;z",
]
LABELS = ["text", "*em*", "`kod`", "a & b", "&copy;", "&lt;b&gt;", "", "[inre]", "x\u00a0y", "a\\]b"]
TITLES = ["", ' "titel"', ' "a &amp; b"', ' "&quot;x"', ' "&#34;"', ' "<&>"']
PIECES = [
    "ord",
    "Malmö",
    " ",
    "&amp;",
    "&copy;",
    "&#169;",
    "&#x3C;",
    "&nbsp;",
    "&ingen;",
    "&#0;",
    "AT&T",
    "a > b",
    "\u00a0",
    "\ud800",
    '"citat"',
    "*em*",
    "**fet**",
    "`kod & <x>`",
    "<b>rå</b>",
    "<script>x</script>",
    "<https://e.org>",
    "<a@e.org>",
    "[[a]](b.md)",
    "[a [b](c.md)](d.md)",
    "![![x](y.png)](z.md)",
    "[ref][x]",
    "\\*",
    "  \n",
    "\x01",
]


@st.composite
def link(draw: st.DrawFn) -> str:
    url, label, title = (
        draw(st.sampled_from(URLS)),
        draw(st.sampled_from(LABELS)),
        draw(st.sampled_from(TITLES)),
    )
    return ("!" if draw(st.booleans()) else "") + f"[{label}]({url}{title})"


inline = st.lists(st.one_of(link(), link(), st.sampled_from(PIECES)), min_size=1, max_size=8).map("".join)
line = inline.map(lambda text: text.replace("\n", " "))
FENCE = "```{lang}\n{code}\n```"
codes = st.sampled_from(['a & b < "c" >', "&copy; \u00a0", "", "\n\nefter tomrad", "kod"])
langs = st.sampled_from(["", "python", "c++", "sh"])


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["p", "p", "h", "list", "table", "quote", "fence", "fence-inside"]))
    if kind == "h":
        return "#" * draw(st.integers(1, 6)) + " " + draw(line)
    if kind == "list":
        marker = draw(st.sampled_from(["-", "1.", "3."]))
        return "\n".join(f"{marker} {item}" for item in draw(st.lists(line, min_size=1, max_size=3)))
    if kind == "table":
        cells = draw(st.lists(line.map(lambda t: t.replace("|", "")), min_size=2, max_size=2))
        align = draw(st.sampled_from(["---|---", ":--|--:", ":-:|---"]))
        return f"| {cells[0]} | {cells[1]} |\n|{align}|\n| {draw(line).replace('|', '')} | x |"
    if kind == "quote":
        return "> " + draw(line)
    fence = FENCE.format(lang=draw(langs), code=draw(codes))
    if kind == "fence":
        return fence
    # A fence right under a heading line, a table row or a list item: a bare placeholder.
    return draw(st.sampled_from(["## Rubrik\n", "| a | b |\n|---|---|\n", "- punkt\n", "text "])) + fence


documents = st.lists(block(), min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_hostile_documents_match_or_decline(body: str) -> None:
    vouched_same_or_declined(body)


def test_the_hostile_grammar_exercises_the_vouched_path() -> None:
    """Without this, the property above could hold because everything declined."""
    outcomes: list[tuple[bool, bool]] = []

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(documents)
    def run(body: str) -> None:
        rendered = render_markdown(body)
        outcomes.append((rendered.vouched, vouched_same_or_declined(body)))

    run()
    assert sum(taken for _, taken in outcomes) >= 0.1 * len(outcomes), outcomes.count((True, True))


def test_a_fence_placeholder_left_in_phrasing_is_not_vouched_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fence extractor puts each placeholder in a block of its own (a <p> swapped for the
    <pre>), but should one land in phrasing, html5ever would move the <pre>: no vouching then."""
    from pipeline.reading import markdown_fast, markdown_fast_fences

    original = markdown_fast_fences.extract

    def inline_placeholder(text: str) -> tuple[str, list[str], list[str]]:
        made, outside, codes = original(text)
        return made.replace("\n\n\x02f0\x03\n", " \x02f0\x03\n"), outside, codes

    monkeypatch.setattr(markdown_fast_fences, "extract", inline_placeholder)
    made = markdown_fast.render_fast_vouched("## Rubrik\n```\nkod\n```\n")
    assert made is not None and made[0].startswith("<h2") and "<pre>" in made[0]
    assert made[3] is False
    assert sanitize._fast_cleaner.clean(made[0], recording_resolver([])) is None  # why


def test_a_fence_on_its_own_is_vouched_for_and_cleans_the_same() -> None:
    body = '## Ett\n\n```py\nx = "a & b" > 3 &copy;\n```\n\n- punkt\n\n~~~\nefter\xa0punkt\n~~~\n'
    assert render_markdown(body).vouched
    assert vouched_same_or_declined(body)


def test_library_renderings_are_never_vouched_for() -> None:
    assert not render_with_library("Text *med* [länk](a.md).\n").vouched
    assert not render_markdown("Text med <b>HTML</b>.\n").vouched  # the fast path declines it


def test_a_policy_without_one_of_the_renderers_elements_declines_the_vouched_path() -> None:
    raw = render_markdown("Text *med* betoning.\n").html
    narrower = FastCleaner(sanitize.CONTENT_TAGS - {"em"}, sanitize.CONTENT_ATTRIBUTES, sanitize.URL_SCHEMES)
    assert narrower.clean_vouched(raw, recording_resolver([])) is None
    assert sanitize._fast_cleaner.clean_vouched(raw, recording_resolver([])) == raw


def test_render_cache_entries_are_not_vouched_for() -> None:
    from pipeline.caching.render_cache import _pack, _unpack

    fresh = render_markdown("Text *med* [länk](a.md).\n")
    assert fresh.vouched
    again = _unpack(_pack(fresh))
    assert isinstance(again, Rendered) and not again.vouched and again == fresh

"""The fast cleaner gives exactly nh3's output and resolver calls, or declines, on real documents.

"Exactly" is the cleaned HTML and the sequence of URLs handed to the resolver (the pipeline's
resolver records lookups and warns about missing files: those must not change). The reference is
``sanitize.nh3_clean_html``, nh3 with the same allow-lists. Inputs: the example content, every
multi-line string in the tests rendered as Markdown, benchmark corpora of two seeds, and cases
written for one rule each; ``tests/test_sanitize_fast_property.py`` adds generated ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from bench.corpus import update_text, write_corpus
from pipeline import forkpool
from pipeline.config.site import default_settings
from pipeline.reading import content, frontmatter, sanitize
from pipeline.reading.markdown_render import render_markdown
from pipeline.reading.sanitize_fast_text import text_of
from tests.test_markdown_fast import _example_bodies, _fixture_strings

REPO = Path(__file__).resolve().parent.parent


def recording_resolver(calls: list[str]) -> Callable[[str], str | None]:
    """Answers like a resolver may (None for some URLs, text needing escapes for others)."""

    def resolve(url: str) -> str | None:
        calls.append(url)
        if len(url) % 7 == 3:
            return None
        return "https://e.org/p?u=" + url + ('&"<>\xa0' if len(url) % 5 == 1 else "")

    return resolve


def assert_same_or_declined(html: str) -> bool:
    """True when the fast cleaner took ``html`` (and matched nh3), False when it declined."""
    fast_calls: list[str] = []
    fast = sanitize._fast_cleaner.clean(html, recording_resolver(fast_calls))
    if fast is None:
        assert fast_calls == [], "declined after calling the resolver"
        return False
    nh3_calls: list[str] = []
    assert fast == sanitize.nh3_clean_html(html, recording_resolver(nh3_calls)), repr(html[:400])
    assert fast_calls == nh3_calls, repr(html[:400])
    return True


def _rendered(body: str) -> list[str]:
    rendered = render_markdown(body)
    return [h for h in (rendered.html, rendered.toc_html) if h]


def test_example_content_cleans_as_nh3_and_takes_the_fast_path() -> None:
    documents = [h for body in _example_bodies() for h in _rendered(body)]
    taken = [assert_same_or_declined(h) for h in documents]
    assert len(documents) >= 17
    assert all(taken)  # footnotes, tables, images, entities: all within the grammar today


def test_every_string_fixture_in_the_tests_cleans_as_nh3_or_declines() -> None:
    documents = [h for text in _fixture_strings() for h in _rendered(text)]
    taken = [assert_same_or_declined(h) for h in documents]
    assert sum(taken) > 0.5 * len(documents)
    assert not all(taken)  # raw HTML in some fixtures: the declining side is exercised too


@pytest.mark.parametrize("seed", [17, 3])
def test_benchmark_updates_clean_as_nh3_all_through_the_fast_path(seed: int) -> None:
    bodies = [frontmatter.split(update_text(i, 2000, seed)).body for i in range(0, 2000, 10)]
    assert all(assert_same_or_declined(h) for body in bodies for h in _rendered(body))


def _finished_both_ways(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    """finish_update on every update of ``folder``, with the fast cleaner and with nh3 alone."""
    monkeypatch.setattr(forkpool, "WORKERS", 1)
    captured: list[tuple] = []
    original = content.finish_update

    def capture(*args: object) -> object:
        captured.append(args)
        return original(*args)

    monkeypatch.setattr(content, "finish_update", capture)
    content.read_content(folder, default_settings(), datetime.fromisoformat("2026-11-27T12:00:00+01:00"))
    fast = [original(*args) for args in captured]
    monkeypatch.setattr(sanitize._fast_cleaner, "clean", lambda raw, resolve: None)
    return fast, [original(*args) for args in captured]


def test_finished_updates_lookups_and_warnings_are_those_of_nh3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's own resolver: same HTML, fingerprints, link lookups and missing-file warnings."""
    folder = write_corpus(tmp_path / "corpus", 150, seed=5)
    (folder / "trasig.md").write_text(
        '---\ntitle: Trasig\nid: tag:bench.example,2026-01-05:trasig\ndate: 2026-01-05T10:00\ntargets: ["17.1"]\n---\n\n'
        "Se [saknad](finns-inte.md), [bild](media/saknas.png) och [hem](/) samt [x](?q=1#f).\n",
        encoding="utf-8",
    )
    fast, reference = _finished_both_ways(folder, monkeypatch)
    assert len(fast) == 151
    assert fast == reference
    assert any(finished.warnings for finished in fast)  # the warnings compared are not all empty


# One rule of nh3's each; every one of these must take the fast path (the assert says so).
TAKEN = [
    '<p>a &amp; b &lt; c &gt; d &quot; e &#39; f &#160; &nbsp; &copy; &#x1F600; &NotEqualTilde; > "q"</p>',
    '<p><a href="x&amp;y" title="a&lt;b&gt;c&quot;d\xa0e">t</a></p>',  # attribute escapes
    '<p><a href="">e</a><a href="#f">f</a><a href="//h">g</a><a href="c:x">h</a></p>',
    '<p><a href="HTTP://X.Y">j</a><a href="mailto:a@b">m</a><a href="javascript:x">drop</a></p>',
    '<p><a href="javascript&#58;alert(1)">encoded colon</a></p>',
    '<p><br /><img src="a.png" alt="x" /><img alt="y" src="zz3">x</p>',  # void forms, src order
    '<p><a href="abc" title="t" hreflang="h" id="i">swap_remove</a></p>',  # None: last takes place
    '<div class="toc" id="q"><ul>\n<li><a href="#x">x</a></li>\n</ul>\n</div>\n',
    '<table>\n<thead>\n<tr>\n<th style="text-align: left;">a</th>\n</tr>\n</thead>\n<tbody>\n'
    '<tr>\n<td align="right">1</td>\n</tr>\n</tbody>\n</table>',
    "<pre><code>kod &amp; mer\n</code></pre>",
    '<ol start="3">\n<li><p>a</p>\n<ul><li>b</li></ul></li>\n</ol><blockquote><p>c</p></blockquote><hr>',
    '<p>x<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup></p>',
    '<h2 id="a-b">A &amp; B</h2><h6 lang="sv">x</h6>',
    '<p><a href="https://www.example.org:8080/a?b=1&amp;c=2#d">port</a></p>',
    '<p id="a\x0bb\x01c\x7f\x85d" title="a\tb\nc\x0cd">controls in values stay</p>',
    '<h2 id="&Tab;&NewLine;">x</h2><p><img src="a.png" alt="&#9;&#10;"></p>',
    "<p>&amp;amp; &amp;copy \ufeffx\u2028</p>",
    "<ul>\ntext\n<li>x</li></ul><ol>\n<li>a<ul>\n<li>b</li>\n</ul></li></ol>",
    "<blockquote>\n<blockquote><p>x</p></blockquote></blockquote>",
    '<h1><a href="#x"><code>k</code></a></h1><pre><code class="language-py">x\n</code></pre>',
]
DECLINED = [
    "<p>a\rb</p>",
    "<p>a\x00b</p>",
    "<p>a < b</p>",
    "<p><div>x</div></p>",
    "<p><a href='x'>single quotes</a></p>",
    "<p><a href=x>unquoted</a></p>",
    '<p><a href="x" href="y">dup</a></p>',
    "<P>upper</P>",
    "<p>x<!-- c --></p>",
    "<p><![CDATA[x]]></p>",
    "<p>unclosed",
    "<p><em>mis</p></em>",
    '<p><a href="#">a<em><a href="#">b</a></em></a></p>',  # html5ever closes the outer link
    "<pre>\nx</pre>",
    "<table><tr><td>x</td></tr></table>",
    "<table>\n<tbody>\ntext<tr><td>x</td></tr></tbody></table>",
    "<p>&amp x &notit; &#0; &#x80; &#xD800; &#1114112;</p>",
    '<p><a href="  java\tscript:x">ws</a></p>',
    '<p><a href="http://1.2.3.4/">ipv4</a><a href="http://a@b.c/">userinfo</a></p>',
    '<p><a href="http://1.2.3.999/">not an IPv4 address: nh3 drops it</a></p>',
    '<p><a href="http://xn--a.de/">bad punycode: dropped</a></p>',
    '<p><a href="http://a.b:99999/">port out of range: dropped</a></p>',
    "<span>not in the grammar</span>",
    "<script>x</script>",
    "<p />",
]


@pytest.mark.parametrize("html", TAKEN)
def test_each_rule_is_reproduced_on_the_fast_path(html: str) -> None:
    assert assert_same_or_declined(html)


@pytest.mark.parametrize("html", DECLINED)
def test_what_is_not_modelled_declines_and_clean_html_still_gives_nh3(html: str) -> None:
    assert not assert_same_or_declined(html)
    calls: list[str] = []
    assert sanitize.clean_html(html, recording_resolver(calls)) == sanitize.nh3_clean_html(
        html, recording_resolver([])
    )


def test_lone_surrogates_decline_where_nh3_refuses_them() -> None:
    with pytest.raises(UnicodeEncodeError):
        sanitize.nh3_clean_html("<p>\ud800</p>", recording_resolver([]))
    assert sanitize._fast_cleaner.clean("<p>\ud800</p>", recording_resolver([])) is None


def test_first_paragraph_text_matches_nh3_on_example_and_benchmark_updates() -> None:
    bodies = _example_bodies() + [frontmatter.split(update_text(i, 500, 17)).body for i in range(0, 500, 5)]
    for body in bodies:
        html = sanitize.clean_html(render_markdown(body).html, lambda url: "https://e.org/" + url)
        assert sanitize.first_paragraph_text(html) == _nh3_first_paragraph_text(html)


@pytest.mark.parametrize(
    "fragment",
    [
        "a &amp; b &lt;c&gt; &quot;d&quot; &#160;e&nbsp;f &copy; &NotEqualTilde; > ' \xa0",
        'x <a href="y">l&amp;nk</a> <em>e<strong>s</strong></em> <code>&lt;k&gt;</code><br><img alt="a">z',
        "mis<em>nested</strong> x",  # declined (misnested): nh3 answers
    ],
)
def test_plain_text_decodes_like_nh3_and_the_shortcut_takes_plain_inline_markup(fragment: str) -> None:
    assert sanitize.plain_text(fragment) == sanitize.nh3_plain_text(fragment)
    assert (text_of(fragment) is not None) == ("mis" not in fragment)


def _nh3_first_paragraph_text(clean: str) -> str:
    match = re.search(r"<p\b[^>]*>(.*?)</p>", clean, flags=re.S)
    return sanitize.nh3_plain_text(match.group(1)) if match else sanitize.nh3_plain_text(clean)

"""A JSON Feed item escaped member by member: the text the regular-expression pass gives."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pipeline.outputs.feeds import jsonfeed
from pipeline.reading.model import Image
from tests.test_feeds_splice import HOSTILE, updates
from tests.update_factory import plain_update

# Text that the encoder escapes (quotes, backslashes, controls) beside what the pass escapes
# (markup, and in content_html only what ends a script block), and the body's own key and
# member written out, as if to fool a pass that looked for them in the text.
PIECES = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "</",
        "<!--",
        "</script>",
        "<!",
        "-->",
        '"',
        "\\",
        '\\"',
        "\\u003c",
        "\n",
        "\x00",
        "\u2028",
        "é",
        "🎉",
        "content_html",
        '"content_html":"',
        '"content_html":"<p>',
        '","content_html":"',
        "x",
    ]
)
TEXT = st.lists(PIECES, max_size=20).map("".join)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
# Keys on both sides of "content_html" in the encoder's sorted order, the body's key among them.
KEYS = (
    st.sampled_from(
        [
            "_goal17",
            "authors",
            "content",
            "content_htm",
            "content_html",
            "content_html_",
            "content_text",
            "date_modified",
            "id",
            "image",
            "summary",
            "tags",
            "title",
            "url",
            "Z",
            "ä",
            "",
        ]
    )
    | TEXT
)


_HTML_MEMBER = re.compile(r'"content_html":"(?:[^"\\]|\\.)*"')


def _reference(item: dict) -> str:
    """The item as the writer escaped it before (its whole text through one regex pass)."""
    text = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    out, position = [], 0
    for match in _HTML_MEMBER.finditer(text):
        out.append(_markup(text[position : match.start()]))
        out.append(match.group(0).replace("</", "<\\/").replace("<!--", "\\u003c!--"))
        position = match.end()
    out.append(_markup(text[position:]))
    return "".join(out)


def _markup(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=8), st.one_of(st.none(), TEXT, st.integers()))
def test_any_item_gives_the_reference_text(item, body):
    if body is not None:
        item["content_html"] = body
    assert jsonfeed._escaped_item(item) == _reference(item)


@hypothesis_settings(max_examples=150, deadline=None)
@given(updates(), st.booleans())
def test_items_of_hostile_updates_give_the_reference_text(found, full_content):
    for update in found:
        item = jsonfeed._item(update, full_content)
        assert jsonfeed._escaped_item(item) == _reference(item)


def test_the_tricky_cases_by_hand():
    cases = [
        {"content_html": ""},
        {"content_html": "</script><!--x-->"},
        {"a": "<b>", "content_html": "</p>"},
        {"content_html": "<p>&</p>", "z": "</"},
        {"a": '"content_html":"</', "content_html": '\\"</', "z": "<!--"},
        {"content_html": "<p>", "content_html_": "</x>", "content_htm": "</y>"},
        {"content_html": None, "summary": "</p>"},
        {"content_html": ["</p>"], "summary": "<"},
        {"_goal17": {"content_html": "</p><x>"}, "content_html": "<!--</"},
    ]
    for item in cases:
        assert jsonfeed._escaped_item(item) == _reference(item), item


def test_a_full_item_keeps_its_body_raw_but_script_safe():
    moment = datetime(2026, 11, 20, 10, tzinfo=UTC)
    update = replace(
        plain_update(1, moment, targets=("17.9",)),
        title="A <b> & c",
        author="<x>",
        summary="<i>s</i>",
        feed_html='<p>a</p></script><!-- c --><a href="x">&amp;</a>',
        image=Image(url="https://example.se/media/a.png", alt="<"),
    )
    text = jsonfeed._escaped_item(jsonfeed._item(update, True))
    assert text == _reference(jsonfeed._item(update, True))
    assert '"content_html":"<p>a<\\/p><\\/script>\\u003c!-- c --><a href=\\"x\\">&amp;<\\/a>"' in text
    assert '"title":"A \\u003cb\\u003e \\u0026 c"' in text


@hypothesis_settings(max_examples=50, deadline=None)
@given(HOSTILE)
def test_a_body_alone_is_the_script_escape_of_its_json_string(body):
    assert jsonfeed._escaped_item({"content_html": body}) == _reference({"content_html": body})

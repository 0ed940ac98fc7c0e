"""The shortcuts of reading and finishing give what the general path gives.

Each compares a shortcut with the expression or the call it stands for, on real inputs (the
example content, tests/data/markdown_wider, the bench corpus with two seeds, the dense corpus)
and on hypothesis-made hostile ones:

* the summary's first paragraph found by ``str.find`` (``sanitize._first_paragraph``) and its
  whitespace collapsed once (``sanitize.summary_text``);
* the vouched cleaner's quick split of tags with attributes (``[^>]*``, the exact ``[^<>]*``
  split when a tag holds a second "<");
* XML-illegal bytes found by one memchr each (``validation._xml_illegal``);
* ``str.isprintable`` ruling out the fast front-matter reader's unusual characters, and the
  fast reader tried before the size and control checks in ``frontmatter.split``;
* an image's facts remembered by its path and file version (``finishing._asset_facts``);
* a file's read ending at a short read (``files._read_all``).
"""

from __future__ import annotations

import os
import re
import struct
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import update_text
from bench.dense_corpus import write_dense_corpus
from pipeline.config.site import default_settings
from pipeline.reading import (
    files,
    finishing,
    frontmatter,
    frontmatter_fast,
    sanitize,
    sanitize_fast,
    validation,
)
from pipeline.reading.frontmatter import FrontMatterError
from pipeline.reading.markdown_render import render_markdown
from pipeline.reading.model import LinkTargets
from tests.conftest import REPO

WIDER = sorted((Path(__file__).parent / "data" / "markdown_wider").glob("*.md"))
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", flags=re.S)


def _texts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "content").glob("*.md"))]
    texts += [p.read_text(encoding="utf-8") for p in WIDER]
    texts += [update_text(i, 300, seed) for seed in (17, 3) for i in range(0, 300, 3)]
    dense = write_dense_corpus(tmp_path_factory.mktemp("dense"), 60)
    texts += [p.read_text(encoding="utf-8") for p in sorted(dense.rglob("*.md"))]
    return texts


@pytest.fixture(scope="module")
def real_html(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Cleaned HTML and tables of contents of every real body."""
    found: list[str] = []
    for text in _texts(tmp_path_factory):
        rendered = render_markdown(frontmatter.split(text).body if text.startswith("---") else text)
        for html in (rendered.html, rendered.toc_html):
            found.append(html)
            found.append(sanitize.clean_html(html, lambda url: "https://e.org/" + url, rendered.vouched))
    return found


@pytest.fixture(scope="module")
def real_files(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    return [text.encode("utf-8") for text in _texts(tmp_path_factory)]


# --- the summary ------------------------------------------------------------------------------

_HTML_BITS = ["<p>", "</p>", "<p", "<pre>", "<p class=x>", "<p\u00e9>", "<p_>", ">", "<", "a ", "\n", "  "]
HTMLISH = st.lists(st.one_of(st.sampled_from(_HTML_BITS), st.text(max_size=4)), max_size=14).map("".join)


def _expression_paragraph(clean: str) -> str:
    match = _PARAGRAPH.search(clean)
    return match.group(1) if match else clean


def test_the_first_paragraph_is_the_expressions_on_real_html(real_html: list[str]) -> None:
    for html in real_html:
        assert sanitize._first_paragraph(html) == _expression_paragraph(html)
        assert sanitize.summary_text(html, 300) == sanitize.shorten(sanitize.first_paragraph_text(html), 300)


@settings(max_examples=800, deadline=None)
@given(HTMLISH, st.integers(min_value=1, max_value=40))
def test_the_first_paragraph_and_summary_are_the_general_ones(html: str, limit: int) -> None:
    assert sanitize._first_paragraph(html) == _expression_paragraph(html)
    assert sanitize.summary_text(html, limit) == sanitize.shorten(sanitize.first_paragraph_text(html), limit)


# --- the vouched cleaner's split ----------------------------------------------------------------


_quick_split = sanitize_fast.split_with_attributes


def test_the_quick_split_is_the_exact_one_on_real_html(real_html: list[str]) -> None:
    for html in real_html:
        assert _quick_split(html) == sanitize_fast._WITH_ATTRIBUTES(html)


_TAG_BITS = ["<", ">", "<a ", '<a href="x">', "<p>", "</a>", "a", " ", '="', "<b1 ", "<A ", "<a<b >"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_TAG_BITS), st.text(max_size=3)), max_size=16).map("".join))
def test_the_quick_split_is_the_exact_one(raw: str) -> None:
    assert _quick_split(raw) == sanitize_fast._WITH_ATTRIBUTES(raw)


def test_a_tag_holding_a_second_angle_bracket_takes_the_exact_split() -> None:
    """A tag holding a second "<": the exact split decides (here it sees two tags, not one)."""
    raw = '<p>x <a b<c d="e">y</a></p>'
    assert (
        _quick_split(raw) == sanitize_fast._WITH_ATTRIBUTES(raw) != sanitize_fast._WITH_ATTRIBUTES_QUICK(raw)
    )


# --- reading: XML-illegal bytes, unusual characters, the front matter read fast first ----------

_ILLEGAL = "".join(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF))
BODY = st.text(alphabet=st.sampled_from(list("ab \n\t\r\x85\u2028é€😀\ufffd" + _ILLEGAL)), max_size=30)


def _expression_xml(data: bytes, body: str) -> re.Match[str] | None:
    return validation._XML_ILLEGAL.search(body)


def _same_match(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a.span() == b.span())


def test_xml_illegal_is_the_expressions_on_real_files(real_files: list[bytes]) -> None:
    for data in real_files:
        body = data.decode("utf-8")
        assert _same_match(validation._xml_illegal(data, body), _expression_xml(data, body))


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab\n" + _ILLEGAL[:6])), max_size=8), BODY)
def test_xml_illegal_is_the_expressions(head: str, body: str) -> None:
    """``data`` is the file (front matter and body), ``body`` a part of its text."""
    data = (head + body).encode("utf-8", "surrogatepass")
    assert _same_match(validation._xml_illegal(data, body), _expression_xml(data, body))


def test_every_unusual_character_is_one_isprintable_refuses() -> None:
    unusual = frontmatter_fast._UNUSUAL.match
    assert not [c for c in range(sys.maxunicode + 1) if unusual(chr(c)) and chr(c).isprintable()]


def _reference_outcome(text: str) -> tuple:
    """frontmatter.split with the fast reader switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontmatter_fast, "parse", lambda yaml_text, first_line: None)
        return _outcome(text)


def _outcome(text: str) -> tuple:
    try:
        doc = frontmatter.split(text)
    except FrontMatterError as exc:
        return ("error", exc.line, exc.message)
    shape = {
        key: (fld.value if isinstance(fld.value, str) else repr(fld.value), fld.line)
        for key, fld in doc.meta.items()
    }
    return ("ok", shape, doc.body, doc.body_line, doc.meta_line)


@pytest.mark.parametrize(
    "size", [0, 100, frontmatter._SURELY_SMALL - 20, frontmatter._SURELY_SMALL + 5, 40_000, 70_000]
)
@pytest.mark.parametrize("char", ["y", "é", "€", "😀"])
def test_split_reads_the_same_around_the_size_limit(size: int, char: str) -> None:
    text = f"---\ntitle: '{char * size}'\nid: x\n---\nbody\n"
    assert _outcome(text) == _reference_outcome(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            ["title: a", "x: 'b'", 'y: "c"', "tags: [a, b]", "t:", "  - a", "\x07", "\u2028", "#", "\t", ""]
        )
        | st.text(max_size=6),
        max_size=6,
    )
)
def test_split_reads_the_same_with_and_without_the_fast_reader(lines: list[str]) -> None:
    text = "---\n" + "\n".join(lines) + "\n---\nbody"
    assert _outcome(text) == _reference_outcome(text)


# --- finishing: an image's facts remembered ---------------------------------------------------


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _finish_with_image(root: Path) -> finishing.Finished:
    from pipeline.reading.discovery import parse_file

    source, problems = parse_file(root, "u.md", default_settings(), 1 << 20)
    assert source is not None, problems
    targets = LinkTargets({"u.md": "https://e.org/u/"}, {"media/b.png": root / "media" / "b.png"})
    return finishing.finish_update(source, render_markdown(source.body or ""), default_settings(), targets)


def test_an_images_facts_follow_the_file_and_equal_a_fresh_reading(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "u.md").write_text(
        "---\ntitle: T\nid: tag:e.org,2026:u\ndate: 2026-01-02\nimage: media/b.png\nimage_alt: a b\n---\ntext\n",
        encoding="utf-8",
    )
    image = tmp_path / "media" / "b.png"
    image.write_bytes(_png(32, 20))
    first = _finish_with_image(tmp_path)
    again = _finish_with_image(tmp_path)  # from the memo
    finishing._facts.clear()
    fresh = _finish_with_image(tmp_path)
    assert first.update.image == again.update.image == fresh.update.image
    assert (first.update.image.width, first.update.image.height) == (32, 20)
    image.write_bytes(_png(640, 480) + b"more")  # another size, mtime and ctime: another version
    changed = _finish_with_image(tmp_path)
    assert (changed.update.image.width, changed.update.image.height) == (640, 480)
    assert changed.update.image.length == len(_png(640, 480)) + 4 == changed.image_size[1]
    finishing._facts.clear()
    assert _finish_with_image(tmp_path).update.image == changed.update.image


# --- reading a file: one read when it is as large as fstat said -------------------------------


@pytest.mark.parametrize("size", [0, 1, 4095, 65536, 65537, 200_000])
def test_a_file_is_read_whole_with_one_read_when_it_keeps_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "f.md").write_bytes(data)
    reads: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(files.os, "read", counting_read)
    assert files.read_beneath(tmp_path, "f.md") == data
    assert len(reads) == 1  # no second, empty read (an empty file: one empty read)
    assert files.read_beneath(tmp_path, "f.md", size) == data  # at the limit
    with pytest.raises(files.UnsafeFile):
        files.read_beneath(tmp_path, "f.md", size - 1)


def test_a_file_larger_than_fstat_said_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that grew after fstat: the reads go on past the size fstat gave, to the end."""
    data = b"y" * 100_000
    (tmp_path / "f.md").write_bytes(data)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        values = list(st)
        values[6] = 10  # st_size as it was before the file grew
        return os.stat_result(values)

    monkeypatch.setattr(files.os, "fstat", stale_fstat)
    assert files.read_beneath(tmp_path, "f.md") == data

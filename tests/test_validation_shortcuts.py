"""Reading a file gives the same Source and the same problems with and without the shortcuts.

The shortcuts: ``split`` finds its lines with ``str.find`` (compared with the former
line-splitting version, kept here as the reference), the XML check deletes single bytes from the
file's bytes before any per-character search, the control-character check joins every key and
value into one search, ``decode_text`` skips line-ending replacement when there is no CR, and
front matter may take ``frontmatter_fast``. Each is compared with the general path on the example
content, every multi-line string in the tests, benchmark corpora of two seeds and generated files
full of control characters, escapes, noncharacters, BOMs and line endings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import update_text
from pipeline.config.site import default_settings
from pipeline.locale.cli import tr
from pipeline.reading import frontmatter, frontmatter_fast, ids, validation
from pipeline.reading.frontmatter import Document, FrontMatterError
from tests.conftest import REPO
from tests.test_frontmatter_fast import _fixture_strings

SETTINGS = default_settings()


def reference_split(text: str) -> Document:
    """``frontmatter.split`` as it was before it used ``str.find``: the whole text split in lines."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError(1, tr("missing front matter: the file must start with a line '---'"))
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            end = index
            break
    else:
        raise FrontMatterError(1, tr("front matter is not closed: add a line '---' after it"))
    meta = frontmatter._parse_yaml("\n".join(lines[1:end]), first_line=2)
    return Document(meta=meta, body="\n".join(lines[end + 1 :]), body_line=end + 2, meta_line=1)


def _split_outcome(split, text: str) -> tuple:
    try:
        return ("ok", split(text))
    except FrontMatterError as exc:
        return ("error", exc.line, exc.message)


@contextlib.contextmanager
def _general_only() -> Iterator[None]:
    """Every shortcut of read_source switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontmatter_fast, "parse", lambda yaml_text, first_line: None)
        patch.setattr(frontmatter, "split", reference_split)
        patch.setattr(validation, "_xml_illegal", lambda data, body: validation._XML_ILLEGAL.search(body))
        patch.setattr(validation, "_surely_no_controls", lambda meta: False)
        patch.setattr(validation, "_sorted_if_all_known", lambda values: None)
        patch.setattr(
            validation,
            "decode_text",
            lambda data: data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n"),
        )
        yield


def _read(data: bytes) -> tuple:
    problems: list = []
    source = validation.read_source("2026/a-file.md", data, SETTINGS, problems)
    return source, problems


@pytest.fixture(autouse=True)
def _same_minted_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 'missing id' message suggests a random id; both readings must suggest the same one."""
    monkeypatch.setattr(ids, "mint_id", lambda host, today: f"tag:{host},2026-01-01:0")


def same_reading(data: bytes) -> tuple:
    quick = _read(data)
    with _general_only():
        general = _read(data)
    assert quick == general, repr(data[:300])
    text = None
    with contextlib.suppress(UnicodeDecodeError):
        text = validation.decode_text(data)
    if text is not None:
        assert _split_outcome(frontmatter.split, text) == _split_outcome(reference_split, text)
    return quick


def test_example_content_reads_the_same() -> None:
    files = sorted((REPO / "content").glob("*.md"))
    assert len(files) >= 15
    assert all(same_reading(path.read_bytes())[0] is not None for path in files)


def test_every_string_fixture_in_the_tests_reads_the_same() -> None:
    strings = _fixture_strings()
    assert len(strings) > 200
    for text in strings:
        same_reading(text.encode("utf-8", "surrogatepass"))
        same_reading(("---\n" + text + "\n---\n\nText.\n").encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("seed", [17, 3])
def test_benchmark_updates_read_the_same(seed: int) -> None:
    for i in range(0, 2000, 4):
        assert same_reading(update_text(i, 2000, seed).encode("utf-8"))[0] is not None


# Characters every check here is about: all C0 controls, DEL, C1, the line separators, a BOM,
# the two XML noncharacters, CR (a line ending to normalise), and ordinary non-ASCII.
SPECIAL = [chr(code) for code in [*range(0x20), 0x7F, 0x85, 0x9F, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF]]
TEXT = st.text(alphabet=st.sampled_from([*SPECIAL, "a", " ", "é", "中", "😀", "[", "\\"]), max_size=12)
# Double-quoted YAML escapes make any character from plain ASCII, past the front-matter check.
ESCAPES = st.sampled_from(
    ["\\x01", "\\t", "\\n", "\\r", "\\u2028", "\\x85", "\\x7f", "\\ufffe", "\\e", "\\0"]
)
VALUE = st.one_of(
    TEXT,
    st.lists(st.one_of(TEXT, ESCAPES), max_size=4).map(lambda parts: '"' + "".join(parts) + '"'),
    st.lists(TEXT, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    TEXT.map(lambda text: "|\n  " + text + "\n  more"),
)
# Targets known and unknown (quoted twice, blank-padded, repeated), and ids short, URI and neither.
TARGETS = st.lists(
    st.sampled_from(["17.1", "17.9", " 17.17", "17.99", "x", "'\"17.2\"'", "17.1"]), max_size=4
)
IDS = st.sampled_from(["tag:example.se,2026:a", "sdg17-2024-015", "a.b_c", "-bad", "urn:x:y", "x" * 101])
KEY = st.sampled_from(
    ["title", "id", "date", "summary", "tags", "targets", "author", "x", "a\x01", '"k\\x01"', '"k\\t"']
)


@st.composite
def files(draw: st.DrawFn) -> bytes:
    fields = {
        "title": '"A title"',
        "id": draw(IDS),
        "date": "2026-03-14",
        "targets": "[" + ", ".join(draw(TARGETS)) + "]",
    }
    for key in draw(st.lists(KEY, max_size=4)):
        fields[key] = draw(VALUE)
    front = "\n".join(f"{key}: {value}" for key, value in fields.items())
    body = draw(st.lists(TEXT, max_size=6).map("\n".join))
    text = "---\n" + front + "\n---\n" + body
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return (bom + text.replace("\n", newline)).encode("utf-8")


@settings(max_examples=600, deadline=None)
@given(data=files())
def test_generated_files_read_the_same(data: bytes) -> None:
    same_reading(data)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from(["---", "...", " --- ", "\u3000---", "--- x", "a: b", "", "x"]), max_size=8)
)
def test_split_finds_the_same_lines(text: list[str]) -> None:
    joined = "\n".join(text)
    assert _split_outcome(frontmatter.split, joined) == _split_outcome(reference_split, joined)


def test_the_generated_files_reach_every_check() -> None:
    """The property above would pass trivially if no generated file were refused by the checks."""
    base = "---\ntitle: 'T'\nid: tag:example.se,2026:a\ndate: 2026-03-14\n"
    said = {
        "xml": _read((base + "---\nText \x0c.\n").encode())[1],
        "xml-nonchar": _read((base + "---\nText \ufffe.\n").encode())[1],
        "control-escape": _read((base + 'author: "a\\x01"\n---\nText.\n').encode())[1],
        "control-list": _read((base + 'tags: ["a\\u2028b"]\n---\nText.\n').encode())[1],
        "control-key": _read((base + '"k\\x01": v\n---\nText.\n').encode())[1],
    }
    assert all(problems and problems[0].severity == "error" for problems in said.values()), said
    for problems in said.values():
        assert "control character" in problems[0].message


@pytest.mark.parametrize("update_id", ["tag:example.se,2026:a", "sdg17-2024-015", "a.b_c", "-bad", "urn:x:y"])
@pytest.mark.parametrize("targets", ["[]", '["17.9", " 17.1", "17.9"]', "['\"17.2\"']", '["17.99", "17.1"]'])
def test_ids_and_targets_of_otherwise_valid_files_read_the_same(update_id: str, targets: str) -> None:
    data = f"---\ntitle: T\nid: {update_id}\ndate: 2026-03-14\ntargets: {targets}\n---\nText.\n".encode()
    source, problems = same_reading(data)
    assert (source is not None) == (update_id != "-bad" and "17.99" not in targets), problems
    if source is not None:  # the id is worked out without the authority only when it is a URI
        assert source.id == ids.canonical_id(update_id, SETTINGS.tag_authority)

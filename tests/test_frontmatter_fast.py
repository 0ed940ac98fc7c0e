"""The fast front-matter reader gives the general path's answer, or declines.

``frontmatter_fast.parse`` reads the subset of YAML updates are written in without a YAML parser.
Every test here compares reading with it and without it (``_parse_yaml`` with the fast path
switched off), on real front matter (the example content, every multi-line string in the tests,
benchmark corpora of two seeds) and on generated front matter: valid, near-valid (one hostile
fragment put into valid text) and hostile (lines of YAML's special characters, tabs, comments,
quotes, escapes, anchors, aliases, tags, unicode, BOMs, long lines, duplicate keys, deep nesting).
Results are compared with their order and every line number; errors by line and text.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import update_text
from pipeline.reading import frontmatter, frontmatter_fast
from pipeline.reading.frontmatter import FrontMatterError
from tests.conftest import REPO


def _shape(value: object) -> object:
    """A value tree as nested tuples that keep key order and every line number."""
    if isinstance(value, dict):
        return ("map", tuple((key, _shape(fld.value), fld.line) for key, fld in value.items()))
    if isinstance(value, list):
        return ("seq", tuple((_shape(fld.value), fld.line) for fld in value))
    return value


def _outcome(yaml_text: str) -> tuple:
    try:
        return ("ok", _shape(frontmatter._parse_yaml(yaml_text, first_line=2)))
    except FrontMatterError as exc:
        return ("error", exc.line, exc.message)


@contextlib.contextmanager
def _general_only() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontmatter_fast, "parse", lambda yaml_text, first_line: None)
        yield


def same_or_declined(yaml_text: str) -> bool:
    """Assert the fast path agrees with the general one; True when it did not decline."""
    fast = frontmatter_fast.parse(yaml_text, 2)
    with _general_only():
        general = _outcome(yaml_text)
    assert _outcome(yaml_text) == general, repr(yaml_text[:400])
    if fast is not None and len(yaml_text.encode("utf-8")) <= frontmatter.MAX_FRONT_MATTER_BYTES:
        assert ("ok", _shape(fast)) == general, repr(yaml_text[:400])  # on its own, too
    return fast is not None


def _yaml_of(text: str) -> str | None:
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index])
    return None


def _fixture_strings() -> list[str]:
    """Every multi-line string literal in the tests: front matter where it starts with ---, and
    the whole string otherwise (as hostile YAML: prose, HTML, TOML, Markdown)."""
    found: list[str] = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                yaml_text = _yaml_of(node.value.lstrip())
                found.append(node.value if yaml_text is None else yaml_text)
    return found


def test_example_content_is_read_fast_and_the_same() -> None:
    texts = [_yaml_of(p.read_text(encoding="utf-8")) for p in sorted((REPO / "content").glob("*.md"))]
    assert len(texts) >= 15 and None not in texts
    assert all(same_or_declined(text) for text in texts)  # every example takes the fast path


def test_every_string_fixture_in_the_tests_reads_the_same_or_declines() -> None:
    strings = _fixture_strings()
    assert len(strings) > 200
    taken = [same_or_declined(text) for text in strings]
    assert sum(taken) > 20  # the comparison is not vacuous


@pytest.mark.parametrize("seed", [17, 3])
def test_benchmark_front_matter_all_takes_the_fast_path_and_reads_the_same(seed: int) -> None:
    texts = [_yaml_of(update_text(i, 2000, seed)) for i in range(2000)]
    assert all(text is not None and same_or_declined(text) for text in texts)


# --- generated front matter ------------------------------------------------------------------

KEYS = st.sampled_from(["title", "id", "date", "tags", "targets", "image_alt", "x", "A_1", "lang"])
_LETTERS = "abcxyzåäöÅÉ中😀ß0123456789"
_INSIDE = _LETTERS + " .,-/()?!&*'\"@%`[]{}|>=+~\xa0\u3000\\"
WORDS = st.text(alphabet=_LETTERS, min_size=1, max_size=8)
PLAIN = st.builds(
    lambda first, rest, clock: first + rest.rstrip() + (f" {clock}" if clock else ""),
    WORDS,
    st.text(alphabet=_INSIDE, max_size=30),
    st.sampled_from(["", "09:30", "2026-03-14T09:30:00+01:00", "tag:a.se,2026:x"]),
)
DOUBLE = st.text(alphabet=_INSIDE.replace('"', "").replace("\\", "") + "#:'", max_size=30).map(
    lambda text: f'"{text}"'
)
SINGLE = st.text(alphabet=_INSIDE + "#:", max_size=30).map(lambda text: "'" + text.replace("'", "''") + "'")
FLOW_PLAIN = st.builds(lambda a, b: (a + b).rstrip(), WORDS, st.text(alphabet=_LETTERS + " .-/", max_size=10))
FLOW = st.lists(st.one_of(DOUBLE, SINGLE, FLOW_PLAIN), max_size=5).flatmap(
    lambda items: st.sampled_from([", ", ",", " , "]).map(lambda comma: "[" + comma.join(items) + "]")
)
SCALAR = st.one_of(PLAIN, DOUBLE, SINGLE)
BLANKS = st.sampled_from(["", " ", "   "])


@st.composite
def valid_front_matter(draw: st.DrawFn) -> str:
    """Front matter in the subset the fast path reads: unique keys, one kind of value each."""
    lines: list[str] = []
    for key in draw(st.lists(KEYS, min_size=1, max_size=7, unique=True)):
        kind = draw(st.sampled_from(["scalar", "flow", "block", "empty"]))
        if kind == "block":
            indent = " " * draw(st.integers(0, 4))
            lines.append(f"{key}:{draw(BLANKS)}")
            for item in draw(st.lists(SCALAR, min_size=1, max_size=4)):
                lines.extend([""] * draw(st.integers(0, 1)))
                lines.append(f"{indent}-{' ' * draw(st.integers(1, 3))}{item}{draw(BLANKS)}")
        elif kind == "empty":
            lines.append(f"{key}:{draw(BLANKS)}")
        else:
            value = draw(SCALAR if kind == "scalar" else FLOW)
            lines.append(f"{key}:{' ' * draw(st.integers(1, 3))}{value}{draw(BLANKS)}")
        lines.extend([""] * draw(st.integers(0, 1)))
    return "\n".join(lines)


HOSTILE = [":", ": ", " :", "::", " ", "  ", "\t", "-", "- ", "#", " #", "# c", "'", "''", '"', "\\", '\\"']
HOSTILE += ["\\n", "\\t", "\\x01", "\\u2028", "[", "]", "{", "}", "{a: b}", ",", ", ", "&a ", "*a", "!t "]
HOSTILE += ["!!str ", "|", "|-", ">", "? ", "?", "%", "@", "`", "<<: ", "...", "---", "\n", "\n  ", "\n- "]
HOSTILE += ["\n\t", "å", "中", "😀", "\xa0", "\u3000", "\ufeff", "\ufffe", "\x85", "\u2028", "\x01", "\x7f"]
HOSTILE += ["\r", "17.1", "true", "~", "null", "a" * 70, "b" * 1100, "x: y", "\nx:", "\n# comment\n"]
FRAGMENT = st.one_of(st.sampled_from(HOSTILE), WORDS, KEYS)


@st.composite
def near_valid_front_matter(draw: st.DrawFn) -> str:
    """Valid front matter with one hostile fragment put in somewhere."""
    text = draw(valid_front_matter())
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(FRAGMENT) + text[at:]


HOSTILE_FRONT_MATTER = st.lists(
    st.builds(lambda indent, parts: indent + "".join(parts), BLANKS, st.lists(FRAGMENT, max_size=8)),
    max_size=8,
).map("\n".join)


@st.composite
def ragged_block_sequences(draw: st.DrawFn) -> str:
    """Block sequences whose items are indented differently, with continuation lines between."""
    lines = [f"{draw(KEYS)}:"]
    for _ in range(draw(st.integers(1, 4))):
        indent = " " * draw(st.integers(0, 3))
        kind = draw(st.sampled_from(["item", "item", "continued", "blank", "key"]))
        if kind == "key":
            lines.append(f"{draw(KEYS)}: {draw(SCALAR)}")
        elif kind == "blank":
            lines.append("")
        else:
            lines.append(f"{indent}{'- ' if kind == 'item' else ''}{draw(SCALAR)}")
    return "\n".join(lines)


@settings(max_examples=600, deadline=None)
@given(yaml_text=valid_front_matter())
def test_valid_front_matter_takes_the_fast_path_and_reads_the_same(yaml_text: str) -> None:
    assert same_or_declined(yaml_text)


@settings(max_examples=800, deadline=None)
@given(yaml_text=near_valid_front_matter())
def test_near_valid_front_matter_reads_the_same_or_declines(yaml_text: str) -> None:
    same_or_declined(yaml_text)


@settings(max_examples=800, deadline=None)
@given(yaml_text=HOSTILE_FRONT_MATTER)
def test_hostile_front_matter_reads_the_same_or_declines(yaml_text: str) -> None:
    same_or_declined(yaml_text)


@settings(max_examples=400, deadline=None)
@given(yaml_text=ragged_block_sequences())
def test_ragged_block_sequences_read_the_same_or_decline(yaml_text: str) -> None:
    same_or_declined(yaml_text)


@settings(max_examples=300, deadline=None)
@given(yaml_text=st.text(alphabet=st.sampled_from(list(":-#'\"[]{},&*!|>?%@` \t\na1é\\")), max_size=60))
def test_any_text_of_yaml_characters_reads_the_same_or_declines(yaml_text: str) -> None:
    same_or_declined(yaml_text)


@pytest.mark.parametrize(
    "yaml_text",
    [
        'a: &x ["lol"]\nb: [*x, *x, *x]\nc: [*b, *b]',  # a billion laughs, in small
        "x: " + "[" * 50 + "]" * 50,
        "x: " + "[" * 5000 + "]" * 5000,
        "title: a\ntitle: b",  # a duplicate key
        "<<: {a: b}",
        "x: !!python/object:os.system ls",
        "a: b\n---\nc: d",
        "title: a # a comment",
        'title: "a \\" b"',
        "title: multi\n  line",
        "title: a\t",  # YAML drops a trailing tab, keeps one inside; tabs are declined
        "title: a\tb",
        "tags: [a,\tb]",
        "tags:\n\t- a",
        "tags:\n  - a\n   - b",  # more indented: a continuation of 'a'
        "tags:\n  - a\n - b",
        "- a\n- b",
        # Long lines that almost match: read in linear time (each took hours with backtracking).
        "title: a" + " " * 30_000 + "#",
        "tags: [a" + " " * 30_000 + "#]",
        "tags: [" + "a, " * 10_000 + "#]",
        "x: " + "a:b " * 10_000 + ":",
        "tags:\n  - a" + " " * 30_000 + "#",
        "just text",
        "",
    ],
)
def test_bombs_and_oddities_are_declined_and_the_general_path_answers(yaml_text: str) -> None:
    assert frontmatter_fast.parse(yaml_text, 2) is None
    assert not same_or_declined(yaml_text)


def test_front_matter_over_the_size_limit_is_refused_before_the_fast_path() -> None:
    yaml_text = "x: '" + "y" * 70_000 + "'"
    assert frontmatter_fast.parse(yaml_text, 2) is not None  # in the subset, but too large
    assert _outcome(yaml_text)[:2] == ("error", 2)
    assert not same_or_declined(yaml_text[:-1])  # unclosed: declined, and the same error


def test_the_values_and_lines_the_fast_path_gives() -> None:
    """The subset spelled out once, with lines counted from the file's line 2."""
    text = "\n".join(
        [
            'title: "Hej: #1"',
            "id: tag:example.se,2026:a-1  ",
            "quote: 'it''s'",
            "targets: [\"17.1\", 17.2 , '17.3']",
            "tags:",
            "  - a b",
            "",
            '  - "c"',
            "draft:",
        ]
    )
    meta = frontmatter_fast.parse(text, 2)
    assert meta is not None
    assert _shape(meta) == (
        "map",
        (
            ("title", "Hej: #1", 2),
            ("id", "tag:example.se,2026:a-1", 3),
            ("quote", "it's", 4),
            ("targets", ("seq", (("17.1", 5), ("17.2", 5), ("17.3", 5))), 5),
            ("tags", ("seq", (("a b", 7), ("c", 9))), 6),
            ("draft", "", 10),
        ),
    )
    assert same_or_declined(text)

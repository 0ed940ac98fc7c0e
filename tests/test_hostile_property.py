"""Generated hostile content through the reader, the sanitizer and every output (issue 17, deliverable 5).

Front matter and Markdown are generated from the OWASP XSS filter-evasion payloads in
``tests/data/xss_payloads.txt``, control characters, header lines and YAML syntax, quoted or
not. Each document either is refused with ``path:line`` problems (and nothing else may go
wrong) or is built into every output: pages, feeds, snippets, the newsletter archive and a
personalised message. Then, with real parsers (html5lib, lxml, json, email):

* no HTML-bearing output holds live script: no ``<script>``, ``<style>``, ``<iframe>``,
  ``<object>``, ``<embed>``, ``<base>``, ``<frame>``, ``<meta http-equiv>``, no ``on*``
  attribute, no ``javascript:``/``vbscript:``/``data:`` URL in ``href``, ``src``, ``action``,
  ``formaction``, ``xlink:href`` and friends — beyond the template's own, fixed elements, which
  are learnt from a benign build (the sign-up form snippet has its script, the newsletter its
  styles);
* every feed and snippet still parses; every message has exactly the expected headers, once;
* time and memory stay bounded: alias bombs and deep nesting run in a subprocess under
  ``RLIMIT_AS`` and a timeout.

Bounded: a fixed number of examples, no per-example deadline (the machine may be busy) but an
overall time cap after which the remaining examples pass without work.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes
from email.policy import default as default_policy
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.caching.deferred import materialize_all
from pipeline.config.mail import newsletter_config
from pipeline.config.site import load_settings
from pipeline.delivery.issues import IssueStore
from pipeline.delivery.message import MessageTemplate
from pipeline.outputs.newsletter.archive import archive_files
from pipeline.outputs.newsletter.render import render_edition
from pipeline.publishing.site_build import build_files
from pipeline.reading.model import ContentError
from tests.conftest import NOW, REPO
from tests.live_script import live_parts, local_name
from tests.state_db import connect

DATA = Path(__file__).parent / "data"
PAYLOADS = [
    line.replace("\\n", "\n")
    for line in (DATA / "xss_payloads.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
EXAMPLES = 30
TIME_CAP = 90.0  # seconds for all generated documents together
BOMB_TIME_CAP = 60.0
MEMORY_LIMIT = 1024 * 1024 * 1024

PROBLEM_LINE = re.compile(r"^[^\n]+:\d+: (error|warning): [^\n]+$")
EXPECTED_HEADERS = {
    "from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
    "list-unsubscribe-post", "mime-version", "content-type", "content-language", "feedback-id",
}  # fmt: skip
_STARTED: list[float] = []
_BOMBS_STARTED: list[float] = []
pytestmark = pytest.mark.filterwarnings("ignore::html5lib.constants.DataLossWarning")


def html_fragments(path: str, data: bytes) -> list[str]:
    """The HTML inside one output file (the file itself, feed entries, JSON values)."""
    if path.endswith(".html"):
        return [data.decode("utf-8")]
    if path.endswith((".xml", ".opml")):
        root = etree.fromstring(data)  # must still be well-formed XML
        fragments = []
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            tag = local_name(element.tag)
            declared = element.get("type")
            # Atom: type="html" text is HTML; RSS: description and content:encoded are HTML to
            # most readers, whatever the spec says, so they are checked as HTML too.
            if declared == "html" or tag in ("description", "encoded"):
                fragments.append(element.text or "")
            elif declared == "xhtml":
                fragments.append(etree.tostring(element, encoding="unicode"))
        return fragments
    if path.endswith(".json"):
        fragments = []

        def walk(value: object, key: str = "") -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, k)
            elif isinstance(value, list):
                for v in value:
                    walk(v, key)
            elif isinstance(value, str) and key.endswith("html"):
                fragments.append(value)

        walk(json.loads(data))
        return fragments
    return []


def message_problems(raw: bytes) -> list[str]:
    """Header injection: every header line is a known header (once) or a continuation."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    problems = []
    names = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        name = line.split(b":", 1)[0].decode("ascii", "replace").lower()
        names.append(name)
        if name not in EXPECTED_HEADERS and name != "dkim-signature":
            problems.append(f"unexpected header line {line[:120]!r}")
    problems += [f"header {n} given {names.count(n)} times" for n in set(names) if names.count(n) > 1]
    if b"\n" in raw.replace(b"\r\n", b""):
        problems.append("a bare LF in the message")
    parsed = message_from_bytes(raw, policy=default_policy)
    problems += [f"parser defect {d!r}" for d in parsed.defects]
    return problems


# -- a small real site around one generated update -------------------------------------------------


def write_site(folder: Path, hostile: str) -> tuple[Path, Path]:
    content = folder / "content"
    (content / "media").mkdir(parents=True)
    (content / "media" / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (content / "vanlig.md").write_text(
        '---\ntitle: "Vanlig nyhet"\nid: "tag:test.example,2026:vanlig"\ndate: 2026-11-20T10:00\n'
        'targets: ["17.17"]\n---\nEn vanlig nyhet som länkar till [den andra](hostile.md).\n',
        encoding="utf-8",
    )
    (content / "hostile.md").write_text(hostile, encoding="utf-8")
    config = folder / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    return content, config


def every_output(folder: Path, content: Path, config: Path) -> dict[str, bytes] | list[str]:
    """All outputs of a build plus the newsletter's, or the problems when the content is refused."""
    site = load_settings(config)
    try:
        result = build_files(content, site, NOW, use_cache=False)
    except ContentError as exc:
        return [str(p) for p in exc.problems]
    files = materialize_all(result.files)
    newsletter = newsletter_config(site)
    with connect(newsletter) as conn:
        issue = IssueStore(conn).plan(result.content.updates, NOW)
    if issue is not None:
        files.update(materialize_all(archive_files([issue], site, newsletter)))
        for lang in ("sv", "en"):
            edition = render_edition(issue, lang, site, newsletter)
            template = MessageTemplate(edition, site, newsletter, b"k" * 32, NOW)
            files[f"message-{lang}.eml"] = template.personalise("Ab3_x-9QrStU", "anna@example.se").data
            files[f"edition-{lang}.html"] = edition.html.encode("utf-8")
    return files


@cache
def allowed_live_parts() -> frozenset[str]:
    """The templates' own scripts and styles, from a build of benign content."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        benign = '---\ntitle: "Andra"\nid: "tag:test.example,2026:h"\ndate: 2026-11-19T10:00\n---\nText.\n'
        content, config = write_site(folder, benign)
        files = every_output(folder, content, config)
        assert isinstance(files, dict), files
        return frozenset(
            part for path, data in files.items() for f in html_fragments(path, data) for part in live_parts(f)
        )


def check_outputs(files: dict[str, bytes]) -> None:
    allowed = allowed_live_parts()
    for path, data in sorted(files.items()):
        for fragment in html_fragments(path, data):
            new = [part for part in live_parts(fragment) if part not in allowed]
            assert not new, f"{path}: live script {new[:3]}"
        if path.endswith(".eml"):
            assert not message_problems(data), f"{path}: {message_problems(data)}"


# -- generated documents -----------------------------------------------------------------------------

payload = st.sampled_from(PAYLOADS)
syntax = st.sampled_from(
    ["Bcc: victim@example.org", "X-Injected: yes", "&", "<", ">", "]]>", "&a ", "*a", "<<: ", "'", '"', "{", "}",
     "[", "]", ": ", " #", "---", "%", "@", "!!python/object:os.system", "\u202e", "é", "𝔘", "\\r\\n", "=?utf-8?q?x?="]
)  # fmt: skip
controls = st.sampled_from(["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x00", "\x7f", "\t", "\x1b[31m"])
safe_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12)
value_text = st.lists(st.one_of(payload, payload, syntax, safe_text), min_size=1, max_size=4).map("".join)


def yaml_value(text: str, style: int) -> str:
    if style == 0:
        return json.dumps(text, ensure_ascii=False)  # a YAML double-quoted scalar
    if style == 1:
        return "'" + text.replace("'", "''") + "'"
    if style == 2:
        return text  # plain: may well be invalid YAML, which must be a path:line error
    return "|\n  " + "\n  ".join(text.splitlines() or [""])


@st.composite
def front_matter(draw) -> str:
    title = draw(value_text)
    if draw(st.integers(0, 7)) == 0:
        title += draw(controls)
    lines = ["---", f"title: {yaml_value(title, draw(st.integers(0, 3)))}"]
    lines.append('id: "tag:test.example,2026:hostile"')
    lines.append("date: 2026-11-19T10:00")
    keys = draw(st.lists(st.sampled_from(["summary", "author", "tags", "image_alt", "slug", "lang", "x_extra"]),
                         max_size=4, unique=True))  # fmt: skip
    poisoned = draw(st.integers(0, 5)) == 0  # now and then one value gets a control character
    for key in keys:
        text = draw(value_text)
        if poisoned:
            text, poisoned = text + draw(controls) + draw(value_text), False
        if key == "tags":
            lines.append(
                f"tags: [{', '.join(json.dumps(t, ensure_ascii=False) for t in draw(st.lists(value_text, max_size=3)))}]"
            )
        elif key == "image_alt":
            lines.append("image: media/bild.png")
            lines.append(f"image_alt: {yaml_value(text, draw(st.integers(0, 3)))}")
        else:
            lines.append(f"{key}: {yaml_value(text, draw(st.integers(0, 3)))}")
    lines.append("---")
    return "\n".join(lines) + "\n"


@st.composite
def markdown_body(draw) -> str:
    blocks = []
    for _ in range(draw(st.integers(1, 6))):
        text = draw(payload)
        form = draw(st.integers(0, 9))
        blocks.append(
            [
                text,
                f"Text med {text} inuti.",
                f"<div>\n{text}\n</div>",
                f"[länk]({text.replace(' ', '%20')})",
                f"![bild]({text.replace(' ', '%20')})",
                f"# {text}",
                f"> {text}",
                f"```\n{text}\n```",
                f"| a | b |\n|---|---|\n| {text} | x |",
                f"* {text}\n* [x](<{text}>)",
            ][form]
        )
    return "\n\n".join(blocks) + "\n"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(head=front_matter(), body=markdown_body())
def test_hostile_documents_are_refused_or_neutralised_in_every_output(head: str, body: str) -> None:
    if not _STARTED:
        _STARTED.append(time.monotonic())
    if time.monotonic() - _STARTED[0] > TIME_CAP:
        return  # the time cap: the examples so far have run
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        content, config = write_site(folder, head + body)
        outcome = every_output(folder, content, config)
        if isinstance(outcome, list):
            assert outcome, "a refusal names its problems"
            for line in outcome:
                assert PROBLEM_LINE.match(line), f"not a one-line path:line problem: {line!r}"
            assert any(": error: " in line for line in outcome)
            return
        check_outputs(outcome)


def test_every_payload_alone_in_a_body_is_neutralised() -> None:
    """Each payload at least once, whatever hypothesis draws."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        head = '---\ntitle: "Alla"\nid: "tag:test.example,2026:h"\ndate: 2026-11-19T10:00\n---\n'
        body = "\n\n".join(f"{p}\n\n<div>\n{p}\n</div>\n\n[l]({p.replace(' ', '%20')})" for p in PAYLOADS)
        content, config = write_site(folder, head + body + "\n")
        outcome = every_output(folder, content, config)
        assert isinstance(outcome, dict), outcome
        check_outputs(outcome)


def test_every_payload_as_a_title_and_summary_is_neutralised() -> None:
    for start in range(0, len(PAYLOADS), 20):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            content, config = write_site(folder, "")
            (content / "hostile.md").unlink()
            for n, text in enumerate(PAYLOADS[start : start + 20]):
                clean = text.replace("\n", " ")
                (content / f"p{n}.md").write_text(
                    f'---\ntitle: {json.dumps(clean)}\nid: "tag:test.example,2026:p{n}"\n'
                    f"date: 2026-11-19T1{n % 10}:00\nsummary: {json.dumps(clean)}\nauthor: {json.dumps(clean)}\n"
                    f"tags: [{json.dumps(clean)}]\n---\n{text}\n",
                    encoding="utf-8",
                )
            outcome = every_output(folder, content, config)
            if isinstance(outcome, list):  # a payload with a control character in it
                assert all(PROBLEM_LINE.match(line) for line in outcome), outcome
                continue
            check_outputs(outcome)


# -- bombs: bounded time and memory in a subprocess ------------------------------------------------------


@st.composite
def bomb(draw) -> str:
    kind = draw(st.sampled_from(["aliases", "merge", "nesting", "wide", "long"]))
    if kind == "aliases":
        width, depth = draw(st.integers(2, 12)), draw(st.integers(2, 12))
        lines = ['l0: &l0 ["lol"]']
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
        return "\n".join(lines)
    if kind == "merge":
        return "base: &b {lang: en}\nmore:\n  <<: *b\n  <<: *b"
    if kind == "nesting":
        depth = draw(st.integers(9, 20000))
        return "x: " + "[" * depth + "]" * depth
    if kind == "wide":
        return "x: [" + ", ".join(["a"] * draw(st.integers(22000, 60000))) + "]"
    return "x: '" + "y" * draw(st.integers(70000, 400000)) + "'"


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(bombs=st.lists(bomb(), min_size=2, max_size=5))
def test_bombs_are_refused_in_bounded_time_and_memory(bombs: list[str]) -> None:
    """Several bombs per content folder, one ``check`` process per example under RLIMIT_AS."""
    if not _BOMBS_STARTED:
        _BOMBS_STARTED.append(time.monotonic())
    if time.monotonic() - _BOMBS_STARTED[0] > BOMB_TIME_CAP:
        return
    with tempfile.TemporaryDirectory() as name:
        content = Path(name) / "content"
        content.mkdir()
        for n, text in enumerate(bombs):
            (content / f"bomb{n}.md").write_text(
                f'---\ntitle: "B"\nid: "tag:test.example,2026:b{n}"\ndate: 2026-11-19T10:00\n{text}\n---\nText.\n',
                encoding="utf-8",
            )

        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "check", "--content", str(content)],
            cwd=name,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            preexec_fn=limit,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
        for n in range(len(bombs)):
            assert re.search(rf"^bomb{n}\.md:\d+: error: ", done.stderr, re.M), done.stderr


def test_the_checks_themselves_find_live_script() -> None:
    """The checker must be able to fail: raw payloads, an RSS description and a forged message."""
    live = [p for p in PAYLOADS if live_parts(p)]
    assert len(live) >= 30, f"only {len(live)} raw payloads look live to the checker"
    for sample in (
        "<p>x</p><script>alert(1)</script>",
        "<a href=' JaVa&#x09;script:alert(1)'>x</a>",
        "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>",
        "<button formaction='javascript:alert(1)'>x</button>",
        "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
        "<img src=x onerror=alert(1)>",
    ):
        assert live_parts(sample), sample
    rss = b"<rss><channel><item><description>&lt;script&gt;alert(1)&lt;/script&gt;</description></item></channel></rss>"
    assert any(live_parts(f) for f in html_fragments("feeds/rss.xml", rss))
    assert any(
        live_parts(f)
        for f in html_fragments("x.json", b'{"items": [{"excerpt_html": "<script>1</script>"}]}')
    )
    forged = b"From: a@example.se\r\nSubject: x\r\nBcc: victim@example.org\r\n\r\nbody\r\n"
    assert message_problems(forged) == ["unexpected header line b'Bcc: victim@example.org'"]

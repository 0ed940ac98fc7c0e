"""``import`` on broken and hostile input: one line, exit 1, no traceback, nothing written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.cli import main
from pipeline.config.site import default_settings
from pipeline.importing import rss
from pipeline.importing.existing import Existing
from pipeline.importing.mapping import EMPTY
from pipeline.importing.model import ImportFailed
from pipeline.importing.plan import make_plan
from pipeline.importing.writer import write_all
from pipeline.importing.xmlparse import parse
from pipeline.reading.content import read_content
from tests.conftest import NOW, REPO
from tests.import_helpers import WXR, serve
from tests.live_script import live_parts

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">\n' for i in range(1, 10))
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>\n'
)
QUADRATIC = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + "x" * 50_000 + '">]>\n<rss version="2.0"><channel>'
    "<item><title>" + "&a;" * 20_000 + "</title></item></channel></rss>\n"
)


def xxe(secret: Path) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY s SYSTEM "file://{secret}">]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>&s;</title><guid>https://x.example/1</guid>'
        "<pubDate>Tue, 05 Mar 2024 14:30:00 GMT</pubDate><description>&s;</description></item></channel></rss>\n"
    )


BROKEN = {
    "html-page": (
        "<!DOCTYPE html><html><head><title>Hem</title></head><body><p>Hej</p></body></html>",
        "not a feed",
    ),
    "xhtml-page": (
        '<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        "not a feed: the document is <html>",
    ),
    "json": ('{"version": "https://jsonfeed.org/version/1.1"}', "not a feed"),
    "empty": ("", "the file is empty"),
    "truncated": (WXR[: len(WXR) // 2], "the file is truncated"),
    "rss-1.0": (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"/>',
        "RSS 1.0 (RDF) feeds are not supported",
    ),
    "rss-without-channel": ('<rss version="2.0"><item/></rss>', "<rss> without a <channel>"),
    "billion-laughs": (BILLION_LAUGHS, "refused"),
    "quadratic-blowup": (QUADRATIC, "refused"),
}


def run_import(capsys, *args) -> tuple[int, str, str]:
    code = main(["import", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_failure(code: int, err: str, *expected: str) -> None:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for part in expected:
        assert part in lines[0]


@pytest.mark.parametrize("kind", list(BROKEN))
def test_each_broken_input_is_one_line_and_writes_nothing(kind, content_dir, capsys, tmp_path):
    text, message = BROKEN[kind]
    path = tmp_path / f"{kind}.xml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_import(capsys, path, "--content", content_dir)
    assert_one_line_failure(code, err, str(path), message)
    assert list(content_dir.iterdir()) == []


def test_truncated_file_names_the_line(content_dir, capsys, tmp_path):
    path = tmp_path / "cut.xml"
    path.write_text(WXR[: len(WXR) // 2], encoding="utf-8")
    code, _, err = run_import(capsys, path, "--content", content_dir)
    line = int(err.split(f"{path}:", 1)[1].split(":", 1)[0])
    assert code == 1 and line == WXR[: len(WXR) // 2].count("\n") + 1


def test_xml_bomb_is_refused_in_a_fresh_process_without_blowing_up(tmp_path):
    # A real process with a generous bound (not a timing assertion): an expanding parser would
    # need about 3 GB for the billion laughs, or hang; a refusing one answers at once.
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    content = tmp_path / "content"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "import", str(bomb), "--content", str(content)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GOAL17_PROGRESS": "0"},
    )
    assert_one_line_failure(result.returncode, result.stderr, "refused")
    assert not content.exists() or list(content.iterdir()) == []


def test_external_entity_is_refused_and_the_file_is_never_read(content_dir, capsys, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPPHEMLIGT", encoding="utf-8")
    path = tmp_path / "xxe.xml"
    path.write_text(xxe(secret), encoding="utf-8")
    code, out, err = run_import(capsys, path, "--content", content_dir)
    assert_one_line_failure(code, err, "refused", "entities")
    assert "TOPPHEMLIGT" not in out + err and list(content_dir.iterdir()) == []
    with pytest.raises(ImportFailed):
        parse(path.read_bytes(), "xxe.xml")


def test_missing_file_folder_and_other_schemes(content_dir, capsys, tmp_path):
    code, _, err = run_import(capsys, tmp_path / "finns-inte.xml", "--content", content_dir)
    assert_one_line_failure(code, err, "file not found")
    code, _, err = run_import(capsys, tmp_path, "--content", content_dir)
    assert_one_line_failure(code, err, "is a folder")
    code, _, err = run_import(capsys, f"file://{tmp_path}/x.xml", "--content", content_dir)
    assert_one_line_failure(code, err, "only http(s) URLs and files")


def test_input_over_the_size_limit_is_refused(content_dir, capsys, tmp_path):
    path = tmp_path / "wxr.xml"
    path.write_text(WXR, encoding="utf-8")
    code, _, err = run_import(capsys, path, "--content", content_dir, "--max-bytes", "1000")
    assert_one_line_failure(code, err, "more than the limit of 1000")


def test_unreachable_url_http_error_and_timeout(content_dir, capsys):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    code, _, err = run_import(capsys, f"http://127.0.0.1:{port}/feed", "--content", content_dir)
    assert_one_line_failure(code, err, "cannot reach the server")
    with serve(
        {"/gone": (410, "text/plain", b"gone"), "/page": (200, "text/html", b"<html><body>x")}
    ) as base:
        code, _, err = run_import(capsys, f"{base}/saknas", "--content", content_dir)
        assert_one_line_failure(code, err, "HTTP 404")
        code, _, err = run_import(capsys, f"{base}/page", "--content", content_dir)
        assert_one_line_failure(code, err, "not a feed")
    # A server that accepts the connection and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        code, _, err = run_import(
            capsys, f"http://127.0.0.1:{port}/feed", "--content", content_dir, "--timeout", "1"
        )
    assert_one_line_failure(code, err, "no answer within 1 s")
    assert list(content_dir.iterdir()) == []


def test_a_file_appearing_during_the_import_means_nothing_is_written(content_dir):
    (content_dir / "b.md").write_bytes(b"mine")
    with pytest.raises(ImportFailed, match="b.md appeared during the import; nothing was written"):
        write_all(content_dir, {"a.md": b"A", "media/x.png": b"X", "b.md": b"B", "c.md": b"C"})
    assert sorted(p.name for p in content_dir.iterdir()) == ["b.md"]  # no a.md, no media/, no staging
    assert (content_dir / "b.md").read_bytes() == b"mine"
    placed = write_all(content_dir, {"a.md": b"A", "media/x.png": b"X"})
    assert [p.relative_to(content_dir).as_posix() for p in placed] == ["a.md", "media/x.png"]
    assert sorted(p.name for p in content_dir.iterdir()) == ["a.md", "b.md", "media"]


def _rss(title: str, description: str, category: str) -> bytes:
    root = etree.Element("rss", version="2.0")
    channel = etree.SubElement(root, "channel")
    etree.SubElement(channel, "title").text = "t"
    etree.SubElement(channel, "link").text = "https://old.example/"
    item = etree.SubElement(channel, "item")
    etree.SubElement(item, "title").text = title
    etree.SubElement(item, "guid").text = "https://old.example/?p=1"
    etree.SubElement(item, "pubDate").text = "Tue, 05 Mar 2024 14:30:00 +0100"
    etree.SubElement(item, "category").text = category
    etree.SubElement(item, "description").text = description
    return etree.tostring(root, encoding="utf-8")


xml_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
    max_size=80,
)
tricky = st.one_of(
    xml_text,
    st.sampled_from(['"quoted": yes', "---", "17.10", "no", "- list", "#hash", "a: b", "&amp;", "{x}"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=tricky, description=tricky, category=tricky)
def test_any_title_text_and_category_give_a_file_that_check_reads_back(
    tmp_path_factory, title, description, category
):
    folder = tmp_path_factory.mktemp("content")
    config = default_settings(state_dir=str(folder / ".state"))
    feed = rss.read(parse(_rss(title, description, category), "gen.xml"), "gen.xml")
    plan = make_plan(feed, config, EMPTY, Existing())
    if not plan.files:
        assert plan.skipped and plan.skipped[0].reason == "no title and no text"
        return
    write_all(folder, {f.rel: f.text.encode("utf-8") for f in plan.files})
    (update,) = read_content(folder, config, NOW).updates
    assert update.id == "https://old.example/?p=1"
    if " ".join(title.split()):
        assert update.title == " ".join(title.split()).replace("&amp;", "&")
    assert update.tags == ((" ".join(category.split()),) if category.strip() else ())
    assert "<script" not in (folder / plan.files[0].rel).read_text(encoding="utf-8").lower()


def test_an_interrupted_import_takes_back_the_files_it_had_placed(content_dir, monkeypatch):
    from pipeline.importing import writer

    real_link = os.link
    calls = []

    def link_then_interrupt(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C between two files
        real_link(src, dst)

    monkeypatch.setattr(writer.os, "link", link_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_all(content_dir, {"a.md": b"A", "sub/b.md": b"B", "c.md": b"C"})
    assert list(content_dir.iterdir()) == []  # a.md taken back, sub/ and the staging folder gone


def test_without_hard_links_files_are_still_never_overwritten(content_dir, monkeypatch):
    import errno

    from pipeline.importing import writer

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(writer.os, "link", no_links)
    assert [p.name for p in write_all(content_dir, {"a.md": b"A"})] == ["a.md"]
    with pytest.raises(ImportFailed, match="a.md appeared during the import"):
        write_all(content_dir, {"z.md": b"Z", "a.md": b"other"})
    assert sorted(p.name for p in content_dir.iterdir()) == ["a.md"]
    assert (content_dir / "a.md").read_bytes() == b"A"


def test_a_failed_import_into_a_new_folder_leaves_no_folder(tmp_path):
    target = tmp_path / "new" / "content"
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "content").write_text("a file where the folder should be")
    with pytest.raises(ImportFailed, match="nothing was written"):
        write_all(target / "deeper", {"a.md": b"A"})
    fresh = tmp_path / "fresh" / "content"
    with pytest.raises(KeyboardInterrupt):
        write_all(fresh, _Interrupting())
    assert not (tmp_path / "fresh").exists()


class _Interrupting(dict):
    """A files mapping whose iteration is interrupted once staging has begun."""

    def __init__(self):
        super().__init__({"a.md": b"A"})

    def items(self):
        yield "a.md", b"A"
        raise KeyboardInterrupt


def test_progress_is_drawn_on_a_terminal_and_only_there(tmp_path):
    import pty

    feed = tmp_path / "wxr.xml"
    feed.write_text(WXR, encoding="utf-8")
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "GOAL17_PROGRESS"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "import", str(feed), "--content", str(tmp_path / "c")],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            env=env,
        )
        os.close(follower)
        follower = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert result.returncode == 0
    assert b"reading items [" in drawn and b"3/3" in drawn  # the bar, on the terminal
    assert b"reading items" not in result.stdout and b"\x1b" not in result.stdout  # the report is clean


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n<title>\xe5\xe4\xf6</title>',
            ":3: ",
        ),
        (b'<rss version="2.0"><channel><title>a&nbsp;b</title>\n<item/></channel></rss>\n', "nbsp"),
    ],
    ids=["latin-1-bytes-declared-utf-8", "html-entity-in-xml"],
)
def test_a_feed_that_is_not_well_formed_says_where(data, message, content_dir, capsys, tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(data)
    code, _, err = run_import(capsys, path, "--content", content_dir)
    assert_one_line_failure(code, err, str(path), "not well-formed XML", message)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flips=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(WXR.encode()) - 1), st.integers(min_value=0, max_value=255)
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_damaged_export_is_refused_or_imported_into_files_that_check_accepts(tmp_path_factory, flips):
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("damaged")
    data = bytearray(WXR.encode())
    for position, value in flips:
        data[position] = value
    export = folder / "wxr.xml"
    export.write_bytes(bytes(data))
    content = folder / "content"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["import", str(export), "--content", str(content)])
    assert "Traceback" not in err.getvalue()
    if code != 0:
        assert code == 1 and len(err.getvalue().strip().splitlines()) == 1
        assert not content.exists() or list(content.iterdir()) == []
        return
    config = default_settings(state_dir=str(folder / ".state"))
    result = read_content(content, config, NOW)  # raises ContentError if any file is invalid
    assert len(result.updates) + result.drafts + len(result.scheduled) == len(list(content.glob("*.md")))


_POST = WXR.encode()
_BODY_START = _POST.index(b"<content:encoded><![CDATA[<!-- wp:paragraph") + len(b"<content:encoded><![CDATA[")
_BODY_END = _POST.index(b"]]></content:encoded>", _BODY_START)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=_BODY_START, max_value=_BODY_END - 1),
            st.sampled_from(list(b"<>&\"'[]/\\\n-*_#`|!=")),
        ),
        min_size=1,
        max_size=12,
    )
)
@example(edits=[(_POST.index(b"javascript:alert(2)") + 3, ord("<"))])  # href="jav<script:alert(2)"
def test_mangled_wordpress_html_still_gives_a_valid_update_without_script(tmp_path_factory, edits):
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("mangled")
    data = bytearray(_POST)
    for position, value in edits:
        if data[position] < 0x80:  # never split a UTF-8 sequence: that is an encoding error
            data[position] = value
    if b"]]>" in data[_BODY_START : _BODY_END + 3][:-3]:
        return  # the edit closed the CDATA section early: a different document
    export = folder / "wxr.xml"
    export.write_bytes(bytes(data))
    content = folder / "content"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["import", str(export), "--content", str(content)])
    assert code == 0, err.getvalue()
    config = default_settings(state_dir=str(folder / ".state"))
    result = read_content(content, config, NOW)
    post = next(u for u in result.updates if u.id == "https://gammal.example.se/?p=101")
    # parsed, not searched: a mangled tag becomes harmless text such as '&lt;a href="javascript:…'
    assert live_parts(post.html) == []
    assert "<script" not in (content / "vanorten-i-tanzania.md").read_text(encoding="utf-8").lower()


def test_angle_brackets_in_an_address_are_percent_encoded_not_copied_into_the_markdown():
    from pipeline.importing.convert import to_markdown

    converted = to_markdown(
        '<p><a href="https://evil.example/<script>alert(1)</script>">rapporten</a>'
        ' <img src="https://evil.example/<script>.png" alt="bild"></p>',
        "https://gammal.example.se/2020/01/inlagg/",
    )
    assert "<script" not in converted.markdown.lower()
    assert "https://evil.example/%3Cscript%3Ealert(1)%3C/script%3E" in converted.markdown
    assert converted.images == ("https://evil.example/%3Cscript%3E.png",)

"""``import``: WordPress, Feedburner-style RSS and Atom exports become update files that pass ``check``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.site import default_settings
from pipeline.reading import frontmatter
from pipeline.reading.content import read_content
from tests.conftest import NOW
from tests.feeds_helpers import build_feeds
from tests.import_helpers import ATOM, FEEDBURNER, MAPPING, PNG, WXR, serve

CHECK_NOW = "2026-11-27T12:00"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    for name, text in {
        "wxr.xml": WXR,
        "feedburner.xml": FEEDBURNER,
        "atom.xml": ATOM,
        "map.toml": MAPPING,
    }.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_import(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main(["import", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def meta_of(path: Path) -> dict[str, object]:
    doc = frontmatter.split(path.read_text(encoding="utf-8"))

    def plain(value):
        return [plain(v.value) for v in value] if isinstance(value, list) else value

    return {key: plain(field.value) for key, field in doc.meta.items()}


def body_of(path: Path) -> str:
    return frontmatter.split(path.read_text(encoding="utf-8")).body


def assert_check_passes(content_dir: Path, capsys) -> str:
    code = main(["check", "--content", str(content_dir), "--now", CHECK_NOW])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "error" not in captured.err
    return captured.out


def test_wordpress_export_imports_posts_only_with_their_metadata(inputs, content_dir, capsys):
    code, out, err = run_import(
        capsys, inputs / "wxr.xml", "--content", content_dir, "--map", inputs / "map.toml"
    )
    assert code == 0, err
    assert err == ""  # no progress bar when stderr is not a terminal
    assert sorted(p.name for p in content_dir.iterdir()) == [
        "agenda-2030-dagen.md",
        "utkast-budgetsamarbete-2025.md",
        "vanorten-i-tanzania.md",  # the percent-encoded Swedish slug, transliterated like `new` does
    ]
    post = meta_of(content_dir / "vanorten-i-tanzania.md")
    assert post == {
        "id": "https://gammal.example.se/?p=101",  # the guid, so old subscribers see nothing new
        "title": "Vänorten i Tanzania: tio år av samarbete",
        "date": "2024-03-14T09:30:00+01:00",  # post_date_gmt 08:30 UTC, in the site's zone
        "summary": "Tio år av partnerskap med en kommun i Tanzania.",
        "author": "Anna Åberg",  # display name of the login in dc:creator
        "lang": "sv",
        "targets": ["17.17"],
        "tags": ["Kommunala partnerskap", "Tanzania"],
    }
    body = body_of(content_dir / "vanorten-i-tanzania.md")
    assert "## Vad har vi gjort?" in body and "- Gemensam budgetprocess" in body
    assert "[tjänstepersoner](https://gammal.example.se/om-oss/)" in body  # relative link made absolute
    assert (
        "![Ledamöter från båda kommunerna](https://gammal.example.se/wp-content/uploads/2024/03/vanort.jpg)"
        in body
    )
    assert "[caption" not in body and "wp:paragraph" not in body
    for hostile in ("<script", "alert(", "javascript:", "onclick"):
        assert hostile not in body.lower()
    assert "&lt;script> som text" in body  # text that looks like a tag stays text

    draft = meta_of(content_dir / "utkast-budgetsamarbete-2025.md")
    assert draft["draft"] == "true" and draft["date"] == "2024-11-20T14:15:00+01:00"  # local post_date
    assert draft["targets"] == ["17.2", "17.9"]  # "Bistånd" matched "bistånd" in the mapping
    assert body_of(content_dir / "utkast-budgetsamarbete-2025.md") == (
        "\nFörsta stycket i utkastet.\\\nAndra raden i samma stycke.\n\nEtt nytt stycke om bistånd.\n"
    )
    assert re.search(r"skipped \S*wxr.xml:\d+: 'Bild: vänorten i Tanzania': WordPress attachment", out)
    assert "'Om oss': WordPress page, not a post" in out
    assert "'Gammal papperskorg': WordPress status 'trash'" in out
    assert "agenda-2030-dagen.md: no target (categories: Evenemang)" in out
    assert "agenda-2030-dagen.md: WordPress [gallery] shortcode removed" in out
    assert (
        "agenda-2030-dagen.md: embedded player or map replaced by a link: "
        "https://www.youtube-nocookie.com/embed/abc?feature=oembed&rel=0" in out
    )
    assert "<https://www.youtube-nocookie.com/embed/abc?feature=oembed&rel=0>" in body_of(
        content_dir / "agenda-2030-dagen.md"
    )
    assert "unknown category 'Evenemang' (1 item(s))" in out
    assert "unreadable date" not in out  # the draft's pubDate (year -0001) is not what counts
    assert out.strip().endswith("3 imported (1 drafts), 3 skipped, 2 need a human")
    listing = assert_check_passes(content_dir, capsys)
    assert "2 published, 0 scheduled, 1 drafts, 0 warnings" in listing


def test_feedburner_rss_keeps_guid_original_link_author_and_summary(inputs, content_dir, capsys):
    code, out, err = run_import(
        capsys, inputs / "feedburner.xml", "--content", content_dir, "--map", inputs / "map.toml"
    )
    assert code == 0, err
    first = content_dir / "peer-learning-local-budgets.md"
    assert meta_of(first) == {
        "id": "https://news.example.org/?p=77",
        "title": "Peer learning & local budgets",  # a title escaped twice, read as people meant it
        "date": "2024-03-05T14:30:00+01:00",
        "summary": "Twelve municipalities compared how they open their budgets to residents…",
        "author": "Erik Svensson",
        "lang": "en",
        "targets": ["17.9"],
        "tags": ["Capacity building", "Budgets"],
    }
    text = first.read_text(encoding="utf-8")
    assert (
        "# imported from https://news.example.org/2024/03/peer-learning/" in text
    )  # origLink, not feedproxy
    body = body_of(first)
    assert "[full report](https://news.example.org/2024/03/peer-learning/report/)" in body
    assert "![Workshop in Kampala](https://news.example.org/wp-content/uploads/2024/03/workshop.png)" in body
    assert "feedburner.com" not in body  # the tracking pixel is gone
    second = meta_of(content_dir / "statistics-for-the-sdgs.md")
    assert re.fullmatch(r"import-[0-9a-f]{16}", second["id"])
    assert "source id 'post 42 (old CMS)' is neither a URI nor a short id" in out
    assert (
        body_of(content_dir / "statistics-for-the-sdgs.md").strip() == "Local data matter for *every* target."
    )
    assert_check_passes(content_dir, capsys)


def test_atom_with_xhtml_content_and_a_short_id(inputs, content_dir, capsys, tmp_path):
    code, out, err = run_import(
        capsys, inputs / "atom.xml", "--content", content_dir, "--map", inputs / "map.toml"
    )
    assert code == 0, err
    news = content_dir / "statistik-uppfoljning.md"
    meta = meta_of(news)
    assert meta["title"] == "Statistik & uppföljning" and meta["lang"] == "sv"
    assert (meta["date"], meta["updated"]) == ("2024-05-02T10:00:00+02:00", "2024-05-03T08:00:00+02:00")
    assert meta["id"] == "tag:atom.example.se,2019:nyhet-1" and meta["author"] == "Lena Holm"
    body = body_of(news)
    assert "**tolv nyckeltal**" in body and "- Öppna data" in body
    assert "[rapport](https://atom.example.se/2024/05/statistik/rapport.pdf)" in body  # xml:base + link
    assert "![Diagram över nyckeltalen](https://atom.example.se/media/diagram.png)" in body
    assert "xmlns" not in body and "alert" not in body
    short = meta_of(content_dir / "short-ids-in-the-old-system.md")
    assert short["id"] == "sdg17-2024-015" and short["lang"] == "en"  # entry xml:lang beats the feed's
    # No xml:base on this content: the feed's xml:base is in scope (RFC 4287), not the entry link.
    assert "[a relative link](https://atom.example.se/more/)" in body_of(
        content_dir / "short-ids-in-the-old-system.md"
    )
    assert "'Utan datum': no date: add it by hand" in out
    assert_check_passes(content_dir, capsys)
    settings = default_settings(state_dir=str(tmp_path / "state"), id_authority="mal17.example.se,2026")
    items = json.loads(build_feeds(content_dir, settings)["feeds/feed.json"])["items"]
    assert {i["id"] for i in items} == {
        "tag:atom.example.se,2019:nyhet-1",
        "tag:mal17.example.se,2026:sdg17-2024-015",
    }


def test_all_three_exports_into_one_folder_build_real_feeds(inputs, content_dir, capsys, settings):
    for name in ("wxr.xml", "feedburner.xml", "atom.xml"):
        assert (
            run_import(capsys, inputs / name, "--content", content_dir, "--map", inputs / "map.toml")[0] == 0
        )
    result = read_content(content_dir, settings, NOW)
    assert len(result.updates) == 6 and result.drafts == 1 and not result.warnings
    files = build_feeds(content_dir, settings)
    for data in files.values():
        assert b"<script" not in data.lower() and b"javascript:" not in data.lower()


def test_dry_run_lists_what_would_be_written_and_writes_nothing(inputs, content_dir, capsys):
    (content_dir / "befintlig.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in content_dir.rglob("*")}
    code, out, _ = run_import(
        capsys, inputs / "wxr.xml", "--content", content_dir, "--dry-run", "--download-images"
    )
    assert code == 0
    assert f"would write {content_dir / 'vanorten-i-tanzania.md'}" in out
    assert "would download 1 image(s)" in out
    assert out.strip().endswith("(dry run: nothing written)")
    assert {p: p.read_bytes() for p in content_dir.rglob("*")} == before


def test_running_an_import_twice_adds_nothing_and_never_overwrites(inputs, content_dir, capsys):
    mine = content_dir / "vanorten-i-tanzania.md"
    mine.write_text(
        '---\nid: "egen-2024-1"\ntitle: "Min egen"\ndate: 2024-01-01\n---\nMin text.\n', encoding="utf-8"
    )
    original = mine.read_bytes()
    assert run_import(capsys, inputs / "wxr.xml", "--content", content_dir)[0] == 0
    assert mine.read_bytes() == original
    assert meta_of(content_dir / "vanorten-i-tanzania-2.md")["id"] == "https://gammal.example.se/?p=101"
    before = {p: p.read_bytes() for p in content_dir.rglob("*")}
    code, out, _ = run_import(capsys, inputs / "wxr.xml", "--content", content_dir)
    assert code == 0
    assert "already in the content folder as vanorten-i-tanzania-2.md" in out
    assert out.strip().endswith("0 imported (0 drafts), 6 skipped, 0 need a human")
    assert {p: p.read_bytes() for p in content_dir.rglob("*")} == before
    assert_check_passes(content_dir, capsys)


def test_import_from_a_url_on_a_loopback_server(inputs, content_dir, capsys):
    routes = {"/feed/": (200, "application/rss+xml; charset=UTF-8", FEEDBURNER.encode())}
    with serve(routes) as base:
        code, out, err = run_import(
            capsys, f"{base}/feed/", "--content", content_dir, "--map", inputs / "map.toml"
        )
    assert code == 0, err
    assert out.startswith(f"RSS 2.0: {base}/feed/ (2 items)")
    assert (content_dir / "peer-learning-local-budgets.md").exists()
    assert_check_passes(content_dir, capsys)


def test_download_images_into_media_within_limits(content_dir, capsys, tmp_path):
    big = b"\x89PNG" + b"0" * 5000
    rss = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{base}/</link>
<item><title>Bilder</title><guid>{base}/?p=1</guid><pubDate>Tue, 05 Mar 2024 14:30:00 +0100</pubDate>
<description><![CDATA[<p><img src="/bilder/Foto%20%C3%96rebro.png" alt="Örebro"> <img src="/bilder/igen.png" alt="samma">
<img src="/stor.png" alt="stor"> <img src="/logo.svg" alt="svg"> <img src="/saknas.png" alt="borta"></p>]]></description>
</item></channel></rss>"""
    routes = {
        "/bilder/Foto%20%C3%96rebro.png": (200, "image/png", PNG),
        "/bilder/igen.png": (200, "image/png", PNG),  # the same bytes: one file
        "/stor.png": (200, "image/png", big),
        "/logo.svg": (200, "image/svg+xml", b"<svg onload='alert(1)'/>"),
    }
    with serve(routes) as base:
        feed = tmp_path / "bilder.xml"
        feed.write_text(rss.format(base=base), encoding="utf-8")
        code, out, err = run_import(
            capsys, feed, "--content", content_dir, "--download-images", "--max-image-bytes", "1000"
        )
    assert code == 0, err
    assert (content_dir / "media" / "foto-orebro.png").read_bytes() == PNG
    assert sorted(p.name for p in (content_dir / "media").iterdir()) == ["foto-orebro.png"]
    body = body_of(content_dir / "bilder.md")
    assert body.count("](media/foto-orebro.png)") == 2
    for kept in ("/stor.png", "/logo.svg", "/saknas.png"):
        assert f"]({base}{kept})" in body  # not downloaded: still linked, and reported
        assert f"image not downloaded, still linked to the old site: {base}{kept}" in out
    assert "more than the limit of 1000" in out and "not a PNG, JPEG" in out and "HTTP 404" in out
    assert_check_passes(content_dir, capsys)


def test_language_mapping_and_forced_language(content_dir, capsys, tmp_path):
    feed = tmp_path / "de.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>t</title><link>https://x.example/</link><language>de-DE</language>'
        "<item><title>Hallo</title><guid>https://x.example/1</guid><pubDate>Tue, 05 Mar 2024 14:30:00 GMT</pubDate>"
        "<description>Text</description></item></channel></rss>",
        encoding="utf-8",
    )
    code, out, _ = run_import(capsys, feed, "--content", content_dir, "--dry-run")
    assert code == 0 and "language 'de-DE' is not one of sv, en: imported as sv" in out
    assert run_import(capsys, feed, "--content", content_dir, "--lang", "en")[0] == 0
    assert meta_of(content_dir / "hallo.md")["lang"] == "en"


@pytest.mark.parametrize(
    "mapping, message",
    [
        ('[categories]\n"X" = ["17.99"]\n', "unknown goal-17 target '17.99'"),
        ('[categories]\n"X" = 17\n', "expected a list of targets"),
        ("[kategorier]\n", "[kategorier]: unknown table"),
        ('[categories]\n"A" = []\n"a" = ["17.1"]\n', "given twice"),
        ("[categories\n", "invalid TOML"),
    ],
)
def test_a_broken_mapping_file_is_one_line_naming_it(inputs, content_dir, capsys, tmp_path, mapping, message):
    path = tmp_path / "bad-map.toml"
    path.write_text(mapping, encoding="utf-8")
    code, out, err = run_import(capsys, inputs / "atom.xml", "--content", content_dir, "--map", path)
    assert code == 1 and str(path) in err and message in err
    assert len(err.strip().splitlines()) == 1 and list(content_dir.iterdir()) == []


def test_wordpress_scheduled_post_keeps_its_date_and_private_post_becomes_a_draft(
    content_dir, capsys, tmp_path
):
    def item(title: str, status: str, gmt: str) -> str:
        return (
            f"<item><title>{title}</title><guid isPermaLink='false'>https://wp.example/?p={status}</guid>"
            f"<content:encoded><![CDATA[<p>{title}.</p>]]></content:encoded>"
            f"<wp:post_date_gmt>{gmt}</wp:post_date_gmt><wp:status>{status}</wp:status>"
            "<wp:post_type>post</wp:post_type></item>"
        )

    export = tmp_path / "wp.xml"
    export.write_text(
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.1/"><channel><title>t</title><link>https://wp.example</link>'
        + item("Kommande", "future", "2026-12-24 07:00:00")
        + item("Hemlig", "private", "2024-01-01 10:00:00")
        + item("Väntar", "pending", "0000-00-00 00:00:00")
        + "</channel></rss>",
        encoding="utf-8",
    )
    code, out, err = run_import(capsys, export, "--content", content_dir)
    assert code == 0, err
    assert "'Väntar': no date: add it by hand" in out  # neither GMT nor local date nor pubDate
    assert meta_of(content_dir / "kommande.md")["date"] == "2026-12-24T08:00:00+01:00"
    assert "draft" not in meta_of(content_dir / "kommande.md")
    assert meta_of(content_dir / "hemlig.md")["draft"] == "true"
    listing = assert_check_passes(content_dir, capsys)
    assert "2026-12-24T08:00:00+01:00  scheduled  kommande.md" in listing


@pytest.mark.parametrize(
    "written, moment",
    [
        ("Wed, 6 Mar 2024 9:05:00 CET", "2024-03-06T09:05:00+01:00"),  # European names, not UTC
        ("Wed, 26 Jun 2024 09:05:00 CEST", "2024-06-26T09:05:00+02:00"),
        ("Wed, 06 Mar 2024 09:05:00 EST", "2024-03-06T09:05:00-05:00"),
        ("Wed, 06 Mar 2024 09:05:00 GMT", "2024-03-06T09:05:00+00:00"),
        ("Wed, 06 Mar 2024 09:05:00 -0000", "2024-03-06T09:05:00+00:00"),
        ("2024-03-06T09:05:00+01:00", "2024-03-06T09:05:00+01:00"),  # ISO in pubDate, seen in the wild
        ("Mon, 30 Nov -0001 00:00:00 +0000", None),  # WordPress: never published
        ("igår", None),
    ],
)
def test_rss_dates_as_feeds_write_them(written, moment):
    from pipeline.importing.timestamps import rfc822

    parsed = rfc822(written)
    assert (parsed.isoformat() if parsed else None) == moment


def test_blogger_line_breaks_become_paragraphs_not_backslashes():
    from pipeline.importing.convert import to_markdown

    html = '<div dir="ltr">Vi reste till Moshi.<br /><br />Sedan hem.<br /><br /><br /></div><p>Rad<br>två<br></p>'
    assert (
        to_markdown(html, "https://b.example/").markdown
        == "Vi reste till Moshi.\n\nSedan hem.\n\nRad\\\ntvå\n"
    )
    code = to_markdown("<pre>a\\\n\nb</pre>", None).markdown
    assert code == "```\na\\\n\nb\n```\n"  # code keeps its backslashes


def test_podcast_enclosures_are_reported_not_lost(content_dir, capsys, tmp_path):
    feed = tmp_path / "podd.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>Podd</title><link>https://podd.example/</link>'
        "<item><title>Avsnitt 1</title><guid>https://podd.example/1</guid><pubDate>Tue, 05 Mar 2024 14:30:00 GMT"
        '</pubDate><description>Om partnerskap.</description><enclosure url="https://podd.example/1.mp3" '
        'length="123" type="audio/mpeg"/></item></channel></rss>',
        encoding="utf-8",
    )
    code, out, _ = run_import(capsys, feed, "--content", content_dir)
    assert code == 0
    assert "avsnitt-1.md: enclosure not imported: https://podd.example/1.mp3 (audio/mpeg)" in out


def test_polylang_language_and_plumbing_taxonomies(content_dir, capsys, tmp_path):
    export = tmp_path / "pll.xml"
    export.write_text(
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>t</title><link>https://wp.example</link>'
        "<language>sv-SE</language><item><title>Partnerships in English</title>"
        "<guid isPermaLink='false'>https://wp.example/?p=9</guid>"
        "<content:encoded><![CDATA[<p>Text.</p>]]></content:encoded>"
        "<wp:post_date_gmt>2024-01-01 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>"
        "<wp:post_type>post</wp:post_type>"
        '<category domain="language" nicename="en"><![CDATA[English]]></category>'
        '<category domain="post_translations" nicename="pll_5f1"><![CDATA[pll_5f1]]></category>'
        '<category domain="post_format" nicename="post-format-aside"><![CDATA[Aside]]></category>'
        '<category domain="category" nicename="partnerskap"><![CDATA[Partnerskap]]></category>'
        "</item></channel></rss>",
        encoding="utf-8",
    )
    code, out, _ = run_import(capsys, export, "--content", content_dir)
    assert code == 0
    meta = meta_of(content_dir / "partnerships-in-english.md")
    assert meta["lang"] == "en" and meta["tags"] == ["Partnerskap"]
    assert "unknown category 'Partnerskap'" in out and "pll_5f1" not in out and "Aside" not in out

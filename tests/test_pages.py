"""Pages as a reader meets them (issue 14): paging without repeats, areas, targets, badges, 404.

Pagination is checked on its own with generated listings (every item on exactly one page, each
page just older than the one before, old pages unchanged when updates are added), then through
real builds parsed with html5lib.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin

import html5lib
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.outputs.pages import paginate, relative_root
from pipeline.reading.imagesize import image_size

NOW = "2026-11-27T12:00"
BASE = "https://mal17.example.se/"
NS = {"h": "http://www.w3.org/1999/xhtml"}


def fake_items(count: int) -> list[SimpleNamespace]:
    """Newest first, like the builder's listings; only identity matters to paginate."""
    return [SimpleNamespace(n=n) for n in range(count, 0, -1)]


def numbers(page) -> list[int]:
    return [item.n for item in page.items]


@given(count=st.integers(0, 130), size=st.integers(1, 25))
@hsettings(max_examples=300, deadline=None)
def test_every_item_is_on_exactly_one_page_and_each_page_follows_the_one_before(count, size):
    items = fake_items(count)
    pages = paginate(items, size, "")
    # Walking from the front page along the "older" links reads every item once, newest first.
    by_path = {page.path: page for page in pages}
    walked, page, seen_paths = [], pages[0], set()
    while True:
        assert page.path not in seen_paths
        seen_paths.add(page.path)
        walked.extend(numbers(page))
        if page.older is None:
            break
        older = by_path[page.older]
        assert older.newer == page.path  # the links agree both ways
        page = older
    assert walked == list(range(count, 0, -1))
    assert seen_paths == set(by_path)
    assert len(pages[0].items) == min(count, size)
    for page in pages:
        assert page.count == len(pages)
        assert 1 <= len(page.items) <= size or (count == 0 and page.number is None)
    # Readers count from the front page: 1, 2, 3 … along the older links.
    assert [p.position for p in pages] == list(range(1, len(pages) + 1))
    # Every archive page but the newest is full.
    for page in pages[2:]:
        assert len(page.items) == size


@given(count=st.integers(0, 100), added=st.integers(1, 30), size=st.integers(1, 12))
@hsettings(max_examples=300, deadline=None)
def test_adding_updates_never_moves_an_item_off_a_full_archive_page(count, added, size):
    before = {p.path: numbers(p) for p in paginate(fake_items(count), size, "x/")}
    after = {p.path: numbers(p) for p in paginate(fake_items(count + added), size, "x/")}
    for path, items in before.items():
        if path != "x/" and len(items) == size:
            assert after[path] == items, path


def test_relative_root_leads_back_to_the_site_root():
    assert relative_root("") == ""
    assert relative_root("targets/17.9/") == "../../"
    assert relative_root("targets/17.9/page/3/") == "../../../../"


# -- real builds -----------------------------------------------------------------------------


def build(content: Path, out: Path, config: Path | None = None) -> None:
    args = ["build", "--content", str(content), "--out", str(out), "--now", NOW, "-q"]
    if config is not None:
        args += ["--config", str(config)]
    assert main(args) == 0


def parse(path: Path):
    return html5lib.parse(path.read_bytes(), namespaceHTMLElements=True)


def resolved(rel: str, href: str) -> str:
    """``href`` as a browser resolves it on the page built at ``rel`` (links are relative)."""
    return urljoin(BASE + rel.removesuffix("index.html"), href)


def texts(doc, xpath: str) -> list[str]:
    return ["".join(e.itertext()).strip() for e in doc.iterfind(xpath, NS)]


def small_pages(tmp_path: Path, write_update, count: int, size: int) -> tuple[Path, Path]:
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\npage_size = {size}\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    for n in range(1, count + 1):
        write_update(f"u{n:02d}", title=f"Nyhet {n:02d}", date=f"2026-10-{n:02d}T10:00", targets=["17.9"])
    return config, tmp_path / "out"


def test_the_page_after_the_front_page_starts_where_the_front_page_ends(tmp_path, write_update, content_dir):
    config, out = small_pages(tmp_path, write_update, count=11, size=3)
    build(content_dir, out, config)
    front = parse(out / "index.html")
    assert texts(front, ".//h:ol[@class='updates']//h:h2") == ["Nyhet 11", "Nyhet 10", "Nyhet 09"]
    older = front.find(".//h:a[@rel='next']", NS).get("href")
    assert resolved("index.html", older) == "https://mal17.example.se/page/3/"
    page = parse(out / "page/3/index.html")
    # the newest archive page holds what is left over (1 to 3 items), so older pages stay full
    assert texts(page, ".//h:ol[@class='updates']//h:h2") == ["Nyhet 08", "Nyhet 07"]
    assert "Sida 2 av 4" in texts(page, ".//h:h1")[0]
    assert "Sida 2 av 4" in page.find(".//h:title", NS).text
    heads = {
        link.get("rel"): resolved("page/3/", link.get("href"))
        for link in page.iterfind(".//h:head/h:link", NS)
    }
    assert heads["prev"] == "https://mal17.example.se/"
    assert heads["next"] == "https://mal17.example.se/page/2/"
    oldest = parse(out / "page/1/index.html")
    assert texts(oldest, ".//h:ol[@class='updates']//h:h2") == ["Nyhet 03", "Nyhet 02", "Nyhet 01"]
    assert "Sida 4 av 4" in texts(oldest, ".//h:h1")[0]
    assert oldest.find(".//h:a[@rel='next']", NS) is None
    # The same rule on a target's pages.
    target_front = parse(out / "targets/17.9/index.html")
    assert texts(target_front, ".//h:ol[@class='updates']//h:h2")[-1] == "Nyhet 09"
    assert "Nyhet 08" in texts(parse(out / "targets/17.9/page/3/index.html"), ".//h:h2")


def test_site_title_and_h1_differ_and_every_page_offers_the_newsletter(tmp_path, write_update, content_dir):
    write_update("en-nyhet", targets=["17.9"])
    out = tmp_path / "out"
    build(content_dir, out)
    for rel in ("index.html", "targets/17.9/index.html", "groups/finance/index.html", "404.html"):
        doc = parse(out / rel)
        title = texts(doc, ".//h:p[@class='site-title']")[0]
        assert texts(doc, ".//h:h1")[0] != title, rel
        links = {resolved(rel, a.get("href")) for a in doc.iterfind(".//h:a", NS)}
        assert "https://mal17.example.se/subscribe" in links, rel
        assert "https://mal17.example.se/newsletters/" in links, rel
        areas = doc.find(".//h:nav[@class='areas']", NS)
        assert len(areas.findall(".//h:a", NS)) == 7, rel


def test_a_target_page_is_introduced_by_its_official_text_and_can_be_followed(
    tmp_path, write_update, content_dir
):
    write_update("en-nyhet", targets=["17.9"])
    out = tmp_path / "out"
    build(content_dir, out)
    doc = parse(out / "targets/17.9/index.html")
    quotes = texts(doc, ".//h:section[@class='official']//h:blockquote")
    assert quotes[0].startswith("Öka det internationella stödet") and "kapacitetsuppbyggnad" in quotes[0]
    assert quotes[1].startswith("Enhance international support for implementing effective and targeted")
    follow = {
        resolved("targets/17.9/", a.get("href"))
        for a in doc.iterfind(".//h:section[@class='follow-box']//h:a", NS)
    }
    assert follow == {
        "https://mal17.example.se/subscribe?targets=17.9",
        "https://mal17.example.se/feeds/targets/17.9/rss.xml",
    }
    area = parse(out / "groups/finance/index.html")
    mail = area.find(".//h:section[@class='follow-box']//h:a[@class='cta']", NS).get("href")
    assert mail == "https://mal17.example.se/subscribe?" + "&".join(f"targets=17.{n}" for n in range(1, 6))


def test_badges_carry_the_name_as_text_not_as_a_tooltip(tmp_path, write_update, content_dir):
    write_update("en-nyhet", targets=["17.9", "17.17"])
    out = tmp_path / "out"
    build(content_dir, out)
    for rel in ("index.html", "updates/en-nyhet/index.html"):
        doc = parse(out / rel)
        badges = list(doc.iterfind(".//h:ul[@class='badges']//h:a", NS))
        assert badges and all(b.get("title") is None for b in badges)
        names = ["".join(b.itertext()).split(maxsplit=1)[1] for b in badges]
        assert "Uppmuntra effektiva partnerskap" in names


def test_dates_in_a_listing_follow_the_page_language(tmp_path, write_update, content_dir):
    write_update("svensk", date="2026-10-05T10:00")
    write_update("english", date="2026-10-06T10:00", lang="en")
    out = tmp_path / "out"
    build(content_dir, out)
    dates = texts(parse(out / "index.html"), ".//h:ol[@class='updates']//h:time")
    assert dates == ["6 oktober 2026", "5 oktober 2026"]
    # The English update's own page is English throughout.
    page = parse(out / "updates/english/index.html")
    assert texts(page, ".//h:time")[0] == "6 October 2026"
    # … down to its sign-up links, which open the form in English.
    signups = {a.get("href") for a in page.iterfind(".//h:a", NS) if "/subscribe" in a.get("href", "")}
    assert signups == {"https://mal17.example.se/subscribe?lang=en"}


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_images_get_their_width_and_height_on_the_page_and_as_thumbnails(tmp_path, write_update, content_dir):
    (content_dir / "media").mkdir()
    (content_dir / "media/bild.png").write_bytes(png(40, 21))
    write_update("med-bild", image="media/bild.png", image_alt="En bild")
    write_update("utan-bild", date="2026-10-01T10:00")
    out = tmp_path / "out"
    build(content_dir, out)
    lead = parse(out / "updates/med-bild/index.html").find(".//h:figure//h:img", NS)
    assert (lead.get("width"), lead.get("height"), lead.get("alt")) == ("40", "21", "En bild")
    thumbs = list(parse(out / "index.html").iterfind(".//h:article[@class='with-thumb']/h:img", NS))
    assert len(thumbs) == 1 and (thumbs[0].get("width"), thumbs[0].get("height")) == ("40", "21")
    assert thumbs[0].get("src") == "media/bild.png"  # relative: the site works under any base URL


def test_image_size_reads_the_formats_pages_use(tmp_path):
    cases = {
        "a.png": png(3, 2),
        "b.gif": b"GIF89a" + struct.pack("<HH", 7, 5) + b"\x00" * 10,
        "c.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xc0\x00\x11\x08"
        + struct.pack(">HH", 480, 640)
        + b"\x03" * 12,
        "d.webp": b"RIFF\x00\x00\x00\x00WEBPVP8X"
        + b"\x0a\x00\x00\x00"
        + b"\x00" * 4
        + (99).to_bytes(3, "little")
        + (49).to_bytes(3, "little"),
        "broken.png": b"\x89PNG\r\n\x1a\n",
        "text.txt": b"hello",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    assert image_size(tmp_path / "a.png") == (3, 2)
    assert image_size(tmp_path / "b.gif") == (7, 5)
    assert image_size(tmp_path / "c.jpg") == (640, 480)
    assert image_size(tmp_path / "d.webp") == (100, 50)
    assert image_size(tmp_path / "broken.png") is None
    assert image_size(tmp_path / "text.txt") is None
    assert image_size(tmp_path / "missing.png") is None


def test_the_404_page_is_built_with_absolute_links_and_served_for_unknown_paths(
    tmp_path, write_update, content_dir
):
    import http.client
    import threading

    from tests.static_server import make_server

    write_update("en-nyhet")
    out = tmp_path / "out"
    build(content_dir, out)
    doc = parse(out / "404.html")
    assert texts(doc, ".//h:h1") == ["Sidan finns inte"]
    sheet = doc.find(".//h:link[@rel='stylesheet']", NS).get("href")
    assert sheet == "https://mal17.example.se/static/style.css"  # answered at any depth
    server = make_server(out, port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
        connection.request("GET", "/no/such/page/")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 404
        assert response.getheader("Content-Type") == "text/html; charset=utf-8"
        assert body == (out / "404.html").read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_the_site_has_a_favicon_ico_for_pages_that_name_no_icon(tmp_path, write_update, content_dir):
    write_update("en-nyhet")
    out = tmp_path / "out"
    build(content_dir, out)
    data = (out / "favicon.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    width, height, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", data[6:22])
    assert (reserved, kind, count, width, height) == (0, 1, 1, 64, 64)
    assert data[offset:].startswith(b"\x89PNG") and len(data) == offset + length

"""Relative links in pages (issue 16): every in-site link of a built site leads to a file, under a
base URL with and without a path, and making links relative changes nothing else.

Pages write in-site links relative to themselves so the same bytes work on the host, under a
path, in the preview and from disk; an update's body arrives with absolute URLs (shared with
feeds and mail) and is rewritten for its page only (pipeline/outputs/pages/links.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import html5lib
import lxml.html
import nh3
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from pipeline.cli import main
from pipeline.config.site import LANGUAGES, TEMPLATES_DIR, load_settings
from pipeline.outputs.pages.layout import page_gettext
from pipeline.outputs.pages.links import relative_html, relative_url
from pipeline.outputs.templating import environment
from pipeline.reading.content import read_content
from tests.conftest import NOW, REPO

BASES = ("https://mal17.example.se/", "https://example.se/mal17/")
SERVICE_ROUTES = ("subscribe", "confirm", "unsubscribe", "preferences")  # answered by pipeline web

segment = st.sampled_from(["updates", "targets", "17.9", "page", "3", "a", "b", "media", "x.png", "a:b"])


@given(
    here=st.lists(segment, max_size=4),
    there=st.lists(segment, max_size=4),
    folder=st.booleans(),
    rest=st.sampled_from(["", "#id", "?q=1", "?q=1#id", "#fn:1"]),
    base=st.sampled_from(BASES),
)
@hsettings(max_examples=500, deadline=None)
def test_a_relative_url_resolves_to_the_absolute_one(here, there, folder, rest, base):
    page_dir = "".join(f"{s}/" for s in here)
    target = "/".join(there) + ("/" if folder and there else "") + rest
    relative = relative_url(page_dir, target)
    assert urljoin(base + page_dir, relative) == base + target, (page_dir, target, relative)
    assert not relative.startswith("/") and not urlsplit(relative).scheme


def test_relative_urls_are_as_short_as_the_folders_allow():
    assert relative_url("updates/a/", "updates/a/#x") == "#x"
    assert relative_url("updates/a/", "updates/b/") == "../b/"
    assert relative_url("updates/a/", "media/bild.png") == "../../media/bild.png"
    assert relative_url("targets/17.9/page/3/", "targets/17.9/") == "../../"
    assert relative_url("", "") == "./"
    assert relative_url("", "/elsewhere/") == ".//elsewhere/"  # not a host-relative //elsewhere/


def test_sanitized_html_escapes_angle_brackets_and_quotes_in_attributes():
    """relative_html relies on it: a raw < only opens a tag, and a value never holds a raw quote."""
    cleaned = nh3.clean('<a title="a<b>&quot;c" href="https://x.example/">t "q" &lt;</a>')
    assert cleaned.startswith('<a title="a&lt;b&gt;&quot;c" href="https://x.example/"')


def test_relative_html_rewrites_link_attributes_and_nothing_else():
    base = BASES[0]
    html = nh3.clean(
        f'<p><a href="{base}updates/b/#k" title="see {base}updates/c/">b</a> '
        f'<code>href="{base}updates/c/"</code> <img src="{base}media/i.png" alt="&lt;a href=&quot;{base}&quot;">'
        f' <a href="https://mal17.example.se.evil/">e</a> <a href="{base}updates/a/#fn:1">1</a></p>'
    )
    assert relative_html(html, base, "updates/a/") == html.replace(
        f'href="{base}updates/b/#k"', 'href="../b/#k"'
    ).replace(f'src="{base}media/i.png"', 'src="../../media/i.png"').replace(
        f'href="{base}updates/a/#fn:1"', 'href="#fn:1"'
    )


def test_relative_bodies_keep_their_text_and_their_link_targets(tmp_path):
    """Every update of the example site and of a corpus: same text, same structure, and every
    href/src resolves, on the update's own page, to the very URL the absolute body named."""
    corpus = write_corpus(tmp_path / "corpus", 40)
    settings = load_settings(REPO / "site.toml").with_overrides(state_dir=str(tmp_path / "state"))
    for folder in (REPO / "content", corpus):
        for update in read_content(folder, settings, NOW).updates:
            for html in (update.html, update.toc_html):
                if not html:
                    continue
                made = relative_html(html, settings.base_url, update.path)
                before, after = (
                    lxml.html.fragment_fromstring(html, True),
                    lxml.html.fragment_fromstring(made, True),
                )
                assert before.text_content() == after.text_content()
                pairs = list(zip(before.iter(), after.iter(), strict=True))
                for old, new in pairs:
                    assert old.tag == new.tag and old.keys() == new.keys()
                    for name in old.attrib:
                        if name in ("href", "src"):
                            assert urljoin(update.url, new.get(name)) == urljoin(update.url, old.get(name))
                        else:
                            assert new.get(name) == old.get(name)


def test_page_gettext_gives_what_jinja_gives():
    env = environment(TEMPLATES_DIR)
    messages = set()
    for path in (TEMPLATES_DIR / "pages").glob("*.html"):
        messages.update(re.findall(r'_\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    assert len(messages) > 20
    for lang in LANGUAGES:
        fast = page_gettext(lang)
        for message in sorted(messages):
            assert fast(message) == env.from_string("{{ _(m) }}").render(m=message, lang=lang), message


def test_a_row_placeholder_in_content_stays_text(tmp_path, write_update, content_dir):
    write_update("lurig", title="Titel <root/> här", summary="Sammanfattning <root/>.", targets=["17.9"])
    out = tmp_path / "out"
    assert (
        main(["build", "--content", str(content_dir), "--out", str(out), "--now", "2026-11-27T12:00", "-q"])
        == 0
    )
    for rel in ("index.html", "targets/17.9/index.html", "groups/capacity-building/index.html"):
        page = (out / rel).read_text(encoding="utf-8")
        assert "<root/>" not in page and "Titel &lt;root/&gt; här" in page, rel
        assert 'href="../../updates/lurig/"' in page or 'href="updates/lurig/"' in page, rel


# -- every link of a built site ---------------------------------------------------------------


def build_site(root: Path, base: str, content: Path, page_size: int, newsletter: bool) -> Path:
    config = root / "site.toml"
    config.write_text(
        f'[site]\nbase_url = "{base}"\npage_size = {page_size}\nstate_dir = "{root / "state"}"\n',
        encoding="utf-8",
    )
    out = root / "out"
    common = [
        "--config",
        str(config),
        "--content",
        str(content),
        "--out",
        str(out),
        "--now",
        "2026-11-27T12:00",
    ]
    assert main(["build", *common, "-q"]) == 0
    if newsletter:
        assert main(["newsletter", *common, "-q"]) == 0
    return out


def broken_links(out: Path, base: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Every href/src of every HTML page (each parsed strictly) that does not lead to a file of ``out`` (a folder leads
    to its index.html, as the host, the preview and a browser reading the disk resolve it), or
    to an element id that is not on the page it names."""
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = {e.get("id") for e in lxml.html.parse(str(path)).iter() if e.get("id")}
        return ids[path]

    broken = []
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 40
    for page in pages:
        rel = page.relative_to(out).as_posix()
        if rel == "404.html" or rel.startswith(skip):
            continue  # 404.html is answered at any depth: its links are absolute, followed from a page below
        page_url = base + rel.removesuffix("index.html")
        html5lib.HTMLParser(strict=True).parse(page.read_bytes())  # no parse error anywhere
        doc = lxml.html.parse(str(page)).getroot()
        for element in doc.iter("a", "link", "img", "script", "source"):
            for name in ("href", "src"):
                url = element.get(name)
                if url is None or url.startswith(("mailto:", "data:")):
                    continue
                absolute = urljoin(page_url, url)
                if not absolute.startswith(base):
                    continue  # another site
                site_path, _, fragment = absolute[len(base) :].partition("#")
                site_path = site_path.partition("?")[0]
                if site_path.split("/")[0] in SERVICE_ROUTES:
                    continue
                target = out / site_path
                if site_path == "" or site_path.endswith("/"):
                    target = target / "index.html"
                if not target.is_file():
                    broken.append(f"{rel}: {name}={url} -> {site_path}")
                elif fragment and target.suffix == ".html" and fragment not in ids_of(target):
                    broken.append(f"{rel}: {name}={url} -> no id {fragment!r} in {site_path}")
    return broken


@pytest.mark.parametrize("base", BASES)
def test_every_internal_link_of_the_example_site_leads_to_a_file(tmp_path, base):
    out = build_site(tmp_path, base, REPO / "content", page_size=3, newsletter=True)
    assert (out / "page/2/index.html").is_file() and (out / "targets/17.9/page/1/index.html").is_file()
    assert broken_links(out, base) == []
    # A page holds no absolute in-site link but its canonical one and the sign-up service's;
    # 404.html, answered at any depth, only absolute ones.
    front = (out / "index.html").read_text(encoding="utf-8")
    absolute = re.findall(f'"{re.escape(base)}([^"]*)"', front)
    assert [a for a in absolute if not a.startswith("subscribe")] == [""]
    assert f'<link rel="canonical" href="{base}">' in front
    assert 'href="static/style.css"' in front
    missing = (out / "404.html").read_text(encoding="utf-8")
    assert f'href="{base}static/style.css"' in missing and 'href="../' not in missing


@pytest.mark.parametrize("base", BASES)
def test_every_internal_link_of_a_corpus_leads_to_a_file(tmp_path, base):
    corpus = write_corpus(tmp_path / "corpus", 60)
    out = build_site(tmp_path, base, corpus, page_size=7, newsletter=True)
    # The corpus is too old for a newsletter issue: the empty archive (not a page of this
    # builder) links newsletters/atom.xml, which only exists once there is an issue.
    assert not (out / "newsletters/atom.xml").exists()
    assert broken_links(out, base, skip=("newsletters/",)) == []

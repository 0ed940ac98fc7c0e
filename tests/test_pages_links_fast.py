"""The quick paths of pages/links.py give exactly what the step-by-step rewrite gives (issue 16).

``relative_html`` takes a link that opens its tag (``<a href="…``) without looking back for the
tag, writes a link to a place on its own page as its fragment alone, and ``relative_url`` takes
the way out of a page's folder from a cache shared by every page in the parent folder. The
reference below is the rewrite as it was before those paths (one candidate at a time, every
check made, the folder climbed per link); both must agree on real bodies and on hostile text.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from bench.corpus import write_corpus
from pipeline.config.site import load_settings
from pipeline.outputs.pages.links import in_site, relative_html, relative_url
from pipeline.reading.content import read_content
from tests.conftest import NOW, REPO

BASES = ("https://mal17.example.se/", "https://example.se/mal17/", 'https://x.example/a"b&<c>/')


def reference_url(page_dir: str, target: str) -> str:
    cut = len(target)
    for mark in ("?", "#"):
        at = target.find(mark, 0, cut)
        if at != -1:
            cut = at
    path, rest = target[:cut], target[cut:]
    if path == page_dir:
        return rest or "./"
    folder, up = page_dir, ""
    while not path.startswith(folder):
        folder = folder[: folder.rfind("/", 0, -1) + 1]
        up += "../"
    down = path[len(folder) :]
    if not up and (down.startswith("/") or ":" in down.split("/", 1)[0]):
        up = "./"
    return (up + down or "./") + rest


def reference_html(html: str, base_url: str, page_dir: str) -> str:
    base = str(escape(base_url))
    marker = f'="{base}'
    at = html.find(marker)
    if at == -1:
        return html
    parts: list[str] = []
    done = 0
    while at != -1:
        value = at + 2
        end = html.find('"', value)
        if end == -1:
            break
        tag = html.rfind("<", 0, at)
        if (
            (html.endswith(" href", tag, at) or html.endswith(" src", tag, at))
            and html.rfind(">", 0, at) < tag
            and html.count('"', tag, at) % 2 == 0
        ):
            parts += (html[done:value], reference_url(page_dir, html[value + len(base) : end]))
            done = end
        at = html.find(marker, end)
    parts.append(html[done:])
    return "".join(parts)


def test_real_bodies_and_contents_are_rewritten_as_before(tmp_path):
    """The example site and bench corpora with two seeds, against both base URLs."""
    settings = load_settings(REPO / "site.toml").with_overrides(state_dir=str(tmp_path / "state"))
    folders = [REPO / "content"]
    folders += [write_corpus(tmp_path / f"corpus{seed}", 40, seed=seed) for seed in (17, 5)]
    checked = 0
    for folder in folders:
        for update in read_content(folder, settings, NOW).updates:
            for html in (update.html, update.toc_html):
                for base in (settings.base_url, "https://example.se/mal17/"):
                    # The same body under another base: its links are in-site there too.
                    text = html.replace(settings.base_url, base)
                    for page_dir in (update.path, "updates/", "", "targets/17.9/page/3/"):
                        made = relative_html(text, base, page_dir)
                        assert made == reference_html(text, base, page_dir), (update.source, page_dir)
                        checked += made != text
    assert checked > 300  # the rewrite did rewrite: links to the page itself, other updates, media


folder_part = st.sampled_from(["updates", "a", "b", "media", "a:b", "", "x?y", "z#w", ".", ".."])
page_dirs = st.lists(folder_part, max_size=4).map(lambda parts: "".join(f"{p}/" for p in parts))
targets = st.lists(
    st.sampled_from(["updates", "a", "b", "/", "?", "#", ":", "x", "media", "bild.png", "#fn:1", "?q=1"]),
    max_size=8,
).map("".join)


@given(page_dir=page_dirs | st.text(max_size=12), target=targets | st.text(max_size=12))
@hsettings(max_examples=1500, deadline=None)
def test_relative_url_agrees_with_the_climb_on_any_folder_and_target(page_dir, target):
    assert relative_url(page_dir, target) == reference_url(page_dir, target)


# Pieces of markup around the base URL: "BASE" is the base as attributes write it, "HERE" the
# page's own folder (so links to the page itself come up), the rest tags, quotes and paths.
PIECES = [
    '<a href="BASE',
    '<a href="BASEHERE',
    '<a href="BASEHERE#top">',
    'a href="BASE',
    '<p>a href="BASE',
    ' href="BASE',
    ' src="BASE',
    '<img src="BASE',
    '<img alt="x" src="BASE',
    '<a title="',
    '="BASE',
    '="',
    '"',
    "<",
    ">",
    " ",
    "x",
    "&quot;",
    "HERE",
    "#top",
    "?q=1",
    "/",
    ":",
    "updates/",
    "a/",
    "media/i.png",
]


@given(
    page_dir=page_dirs,
    pieces=st.lists(st.sampled_from(PIECES), max_size=24),
    base=st.sampled_from(BASES),
)
@example(page_dir="x?y/", pieces=['<a href="BASEHERE#top">'], base=BASES[0])
@example(page_dir="a/", pieces=['x<a href="BASEa/#top"'], base=BASES[0])
# A value that runs into the next base URL: the step-by-step rewrite takes both as one link.
@example(page_dir="updates/a/", pieces=['<a href="BASE', "x", '<a href="BASE', "b/", '"'], base=BASES[0])
@hsettings(max_examples=3000, deadline=None)
def test_relative_html_agrees_with_the_step_by_step_rewrite_on_hostile_text(page_dir, pieces, base):
    html = "".join(pieces).replace("BASE", str(escape(base))).replace("HERE", page_dir)
    assert relative_html(html, base, page_dir) == reference_html(html, base, page_dir)


@given(page_dir=page_dirs, html=st.text(alphabet='<a hrefsc="#/>?x:', max_size=60))
@hsettings(max_examples=1500, deadline=None)
def test_relative_html_agrees_on_random_markup_around_the_base(page_dir, html):
    base = BASES[0]
    html = html.replace("x", base)
    assert relative_html(html, base, page_dir) == reference_html(html, base, page_dir)


def reference_in_site(url: str, base_url: str, root: str) -> Markup:
    """``in_site`` as it was: Markup's own add (root as it is, the site path escaped)."""
    if url.startswith(base_url):
        return Markup(root) + url[len(base_url) :]
    return escape(url)


roots = st.sampled_from(["", "../", "../../", "../../../../"]) | st.text(alphabet='./a&<"', max_size=6)
site_paths = st.text(alphabet="ab/.&<>\"'é \x00#?", max_size=12)


@hsettings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(BASES),
    path=site_paths,
    root=roots,
    off_site=st.booleans(),
    kind=st.sampled_from([str, Markup]),
)
def test_in_site_equals_markups_add(base, path, root, off_site, kind):
    url = kind(("https://elsewhere.example/" if off_site else base) + path)
    for page_root in (root, Markup(root)):
        made, wanted = in_site(url, base, page_root), reference_in_site(url, base, page_root)
        assert (type(made), made) == (type(wanted), wanted)


def test_in_site_on_real_images():
    settings = load_settings(REPO / "site.toml")
    updates = list(read_content(REPO / "content", settings, NOW).updates)
    images = [u.image.url for u in updates if u.image]
    assert images
    for url in images:
        for root in ("", "../../", "../../../../"):
            made, wanted = (
                in_site(url, settings.base_url, root),
                reference_in_site(url, settings.base_url, root),
            )
            assert (type(made), made) == (type(wanted), wanted)

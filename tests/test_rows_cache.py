"""Listing rows made once per build and kept in the state folder (pipeline/outputs/pages/rows.py).

Every build here is compared byte for byte with a cold ``--no-cache`` build of the same content;
the row renders are counted, so a test also fails when the store serves nothing (or too much).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import corpus
from pipeline import forkpool
from pipeline.caching import deferred
from pipeline.caching.deferred import Deferred, materialize
from pipeline.config.site import TEMPLATES_DIR, default_settings
from pipeline.outputs import pages
from pipeline.outputs.pages import listing, rows
from pipeline.publishing.publish import publish
from pipeline.reading.model import Image, Update
from tests.test_edit_builds import edit_front
from tests.test_incremental import Site

SIZE = 10  # with five a page: one front page and one full archive page, so an add opens a page
LATER = "2027-01-30T12:00:00+01:00"  # the bench corpus's added updates are published by then


class RowSite(Site):
    """A bench site with five updates a page, whose row renders are counted."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.extra: dict[str, str] = {}
        super().__init__(root, SIZE)
        self.renders = 0
        render = listing.Listings._render_row

        def counted(listings: listing.Listings, update: Update) -> str:
            self.renders += 1
            return render(listings, update)

        monkeypatch.setattr(listing.Listings, "_render_row", counted)

    def configure(self, **site: str) -> None:
        self.extra.update(site)
        lines = ["[site]", f'state_dir = "{self.state}"', "page_size = 5"]
        lines += [f'{k} = "{v}"' for k, v in self.extra.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def build(self, out: Path, *extra: str, now: str = LATER) -> dict[str, bytes]:
        return super().build(out, *extra, now=now)

    def row_files(self) -> list[Path]:
        return sorted((self.state / "cache" / rows.FOLDER_NAME).glob("*/*.rec"))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RowSite:
    site = RowSite(tmp_path, monkeypatch)
    site.build(tmp_path / "out")
    assert site.renders == SIZE  # once each, though each row is on three to eight listing pages
    assert site.row_files()
    return site


def counted_rebuild(site: RowSite) -> int:
    """Renders of the cached build alone (the cold build it is compared with renders them all)."""
    site.renders = 0
    files_before = site.build(site.root / "out")
    renders = site.renders
    site.build(site.root / "out")  # nothing changed: the build is skipped, no row is made
    assert site.renders == renders
    site.renders = 0
    cold_state, cold_out = site.root / "cold-state", site.root / "cold-out"
    shutil.rmtree(cold_state, ignore_errors=True)
    shutil.rmtree(cold_out, ignore_errors=True)
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text.replace(str(site.state), str(cold_state)), encoding="utf-8")
    try:
        cold = site.build(cold_out, "--no-cache")
    finally:
        site.config.write_text(text, encoding="utf-8")
    assert sorted(files_before) == sorted(cold)
    assert [p for p in cold if cold[p] != files_before[p]] == []
    return renders


def test_edit_renders_only_the_edited_row(site: RowSite) -> None:
    corpus.edit_one(site.content, SIZE)
    assert counted_rebuild(site) == 1


def test_a_new_title_summary_or_target_changes_the_row(site: RowSite) -> None:
    path = site.content / f"{corpus.slug_of(3)}.md"
    edit_front(path, "title", '"Ny rubrik <b>&"')
    edit_front(path, "summary", '"Ny sammanfattning"')
    edit_front(path, "targets", '["17.19"]')
    assert counted_rebuild(site) == 1
    listed = [
        (site.root / "out" / p).read_text(encoding="utf-8") for p in ("index.html", "page/1/index.html")
    ]
    assert any("Ny rubrik &lt;b&gt;&amp;" in page and "Ny sammanfattning" in page for page in listed)


def test_add_at_a_page_boundary_renders_only_the_new_row(site: RowSite) -> None:
    corpus.add_one(site.content, SIZE, index=SIZE)  # 11 updates: a second archive page appears
    files = site.build(site.root / "out")
    assert "page/2/index.html" in files
    corpus.add_one(site.content, SIZE + 1, index=SIZE + 1)
    assert counted_rebuild(site) == 1
    assert b"Sida 1 av 3" in files["index.html"]


def test_remove_renders_nothing(site: RowSite) -> None:
    removed = f"{corpus.slug_of(2)}.md"
    (site.content / removed).unlink()  # every later row moves up a page
    linking = [p for p in site.content.glob("*.md") if f"({removed})" in p.read_text(encoding="utf-8")]
    assert counted_rebuild(site) == len(linking)  # their links' answers, so their fingerprints, changed


def test_settings_that_change_rows_and_two_stores_in_one_state_folder(site: RowSite) -> None:
    site.configure(language="en")
    assert counted_rebuild(site) == SIZE  # another language: every row again
    site.configure(timezone="America/New_York")
    assert counted_rebuild(site) == SIZE
    assert len({p.parent for p in site.row_files()}) == 3  # one folder per context
    site.extra.clear()
    site.configure()  # the first settings, to the letter
    assert counted_rebuild(site) == 0  # the first context's rows are still there


def test_a_template_change_renders_every_row(site: RowSite, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    site.configure(templates_dir=str(templates))
    assert counted_rebuild(site) == SIZE  # other settings
    item = templates / "pages" / "_item.html"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace('class="meta"', 'class="meta when"'), encoding="utf-8")
    assert counted_rebuild(site) == SIZE
    assert b'class="meta when"' in (site.root / "out" / "index.html").read_bytes()
    item.write_text(text, encoding="utf-8")
    assert counted_rebuild(site) == 0  # the template as it was: its rows are still kept


@pytest.mark.parametrize("damage", ["flip", "cut", "foreign", "log", "empty"])
def test_a_damaged_store_costs_only_renders(site: RowSite, damage: str) -> None:
    (base,) = site.row_files()
    data = base.read_bytes()
    if damage == "flip":
        base.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    elif damage == "cut":
        base.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        base.write_bytes(data.replace(rows.FORMAT, b"goal17-listing-rows 0\n", 1))
    elif damage == "log":
        corpus.edit_one(site.content, SIZE)
        assert counted_rebuild(site) == 1
        (log,) = [p for p in site.row_files() if p.name.startswith("log-")]
        log.write_bytes(log.read_bytes()[:-7])  # a writer killed half-way through a frame
    else:
        base.write_bytes(b"")
    corpus.add_one(site.content, SIZE, index=SIZE)  # a new archive page: every page is remade
    renders = counted_rebuild(site)
    assert renders == (2 if damage == "log" else SIZE + 1)  # the cut frame's row and the new one
    assert counted_rebuild(site) == 0  # the damage is gone: a new base holds every row
    (base,) = [p for p in site.row_files() if p.name.startswith("base-")]
    assert base.read_bytes().startswith(rows.FORMAT)


def test_no_cache_neither_reads_nor_writes_rows(site: RowSite) -> None:
    shutil.rmtree(site.state / "cache" / rows.FOLDER_NAME)
    site.renders = 0
    site.build(site.root / "out2", "--no-cache")
    assert site.renders == SIZE
    assert not site.row_files()


# --- the row maker and the seam, on updates made here -------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
HOSTILE = st.sampled_from(["<root/>", "&lt;root/&gt;", "{{ root }}", "</li>", "\x00", "../../", "&amp;"])


def made_update(number: int, title: str, summary: str, lang: str, image: bool, minutes: int) -> Update:
    date = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    shown = (f"u{number}", title, date, lang, summary, image)
    return Update(
        id=f"tag:test.example,2026:u{number}",
        slug=f"u{number}",
        title=title,
        date=date,
        updated=date,
        lang=lang,
        targets=("17.1", "17.9") if number % 2 else ("17.19",),
        tags=(),
        author=None,
        summary=summary,
        html="<p>Text.</p>",
        toc_html="",
        feed_html="<p>Text.</p>",
        image=Image("https://mal17.example.se/media/a b.png", "", 10, "image/png", 40, 30) if image else None,
        source=f"u{number}.md",
        url=f"https://mal17.example.se/updates/u{number}/",
        # like the real one, a digest of every field the row shows
        fingerprint=hashlib.sha256(repr(shown).encode("utf-8", "surrogatepass")).hexdigest()[:32],
    )


def listing_pages(files: dict) -> dict[str, Deferred]:
    return {p: f for p, f in files.items() if isinstance(f, Deferred) and f.uses is not None}


updates_strategy = st.lists(
    st.tuples(
        st.one_of(TEXT, HOSTILE), st.one_of(TEXT, HOSTILE), st.sampled_from(["sv", "en"]), st.booleans()
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=updates_strategy)
def test_rows_from_the_store_make_the_pages_a_fresh_render_makes(tmp_path: Path, fields: list) -> None:
    state = tmp_path / f"state-{hashlib.sha256(repr(fields).encode('utf-8', 'surrogatepass')).hexdigest()}"
    config = default_settings(state_dir=str(state), page_size=3)
    updates = [made_update(i, t, s, lang, image, -i * 7) for i, (t, s, lang, image) in enumerate(fields)]
    general = {p: materialize(f) for p, f in listing_pages(pages.build(updates, config)).items()}
    for _ in range(2):  # the first build fills the store, the second takes every row from it
        files = listing_pages(pages.build(updates, config))
        deferred.prepare(files.values())
        assert {p: materialize(f) for p, f in files.items()} == general
    maker = next(iter(files.values())).uses[0]
    assert maker.rendered == 0
    shutil.rmtree(state, ignore_errors=True)


def test_rows_without_a_fingerprint_are_never_kept(tmp_path: Path) -> None:
    config = default_settings(state_dir=str(tmp_path / "state"), page_size=3)
    updates = [made_update(i, "Samma", "Samma", "sv", False, -i) for i in range(4)]
    updates[1] = Update(**{**updates[1].__dict__, "fingerprint": "", "title": "Annan"})
    for _ in range(2):
        files = listing_pages(pages.build(updates, config))
        deferred.prepare(files.values())
        assert b"Annan" in materialize(files["index.html"])
    assert next(iter(files.values())).uses[0].rendered == 1  # the fingerprint-less row, again


def test_many_rows_are_rendered_on_both_cores_and_equal_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "POOL_MIN", 20)
    config = default_settings(state_dir=str(tmp_path / "state"))
    updates = [made_update(i, f"Titel {i}", "<b>x</b>", "sv", i % 3 == 0, -i) for i in range(70)]
    files = listing_pages(pages.build(updates, config))
    maker = files["index.html"].uses[0]
    render = maker._render
    monkeypatch.setattr(maker, "_render", lambda update: f"{os.getpid()}|{render(update)}")
    deferred.prepare(files.values(), reuse=False)  # reuse=False: nothing read or written
    assert not (tmp_path / "state").exists()
    assert maker.rendered == len(updates)
    made = [maker.row(u).split("|", 1) for u in updates]
    assert [text for _, text in made] == [render(u) for u in updates]
    pids = {int(pid) for pid, _ in made}
    if forkpool.can_fork(len(updates), 0):
        assert os.getpid() not in pids  # in the workers, not the main process
    else:
        assert pids == {os.getpid()}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[list, bool]] = []

    def prepare(self, wanted: list, reuse: bool) -> None:
        self.calls.append((wanted, reuse))


def test_prepare_asks_each_maker_once_for_every_output_it_is_named_by() -> None:
    a, b = Recorder(), Recorder()
    outputs = [
        Deferred("1", lambda: b"", (a, [1, 2])),
        b"bytes",
        Deferred("2", lambda: b""),
        Deferred("3", lambda: b"", (b, [3])),
        Deferred("4", lambda: b"", (a, [4])),
    ]
    deferred.prepare(outputs, reuse=False)
    assert a.calls == [([[1, 2], [4]], False)]
    assert b.calls == [([[3]], False)]


def test_publish_prepares_the_parts_of_the_files_it_makes_before_making_them(tmp_path: Path) -> None:
    maker = Recorder()
    made: list[str] = []

    def produce(name: str) -> bytes:
        assert maker.calls, "parts are prepared before any file is made"
        made.append(name)
        return name.encode()

    files = {
        "a.html": Deferred("ka", lambda: produce("a"), (maker, ["a"])),
        "b.html": Deferred("kb", lambda: produce("b"), (maker, ["b"])),
    }
    manifest = tmp_path / "manifest.json"
    publish(tmp_path / "out", files, manifest_path=manifest)
    assert maker.calls == [([["a"], ["b"]], True)]
    maker.calls.clear()
    files["b.html"] = Deferred("kb2", lambda: produce("b"), (maker, ["b2"]))
    publish(tmp_path / "out", files, manifest_path=manifest)
    assert maker.calls == [([["b2"]], True)]  # only the file that is made again


def test_a_build_needing_few_rows_renders_them_without_reading_the_store(tmp_path: Path) -> None:
    config = default_settings(state_dir=str(tmp_path / "state"), page_size=3)
    updates = [made_update(i, f"Titel {i}", "Text", "sv", False, -i) for i in range(40)]
    first = listing_pages(pages.build(updates, config))
    deferred.prepare(first.values())  # every row: rendered and kept
    fresh = listing_pages(pages.build(updates, config))
    maker = fresh["index.html"].uses[0]
    deferred.prepare([fresh["index.html"]])  # 3 rows of 40: below a tenth
    assert maker._store is None and maker.rendered == 3
    assert materialize(fresh["index.html"]) == materialize(first["index.html"])
    deferred.prepare(list(fresh.values()))  # the rest: from the store
    assert maker._store is not None and maker.rendered == 3
    assert {p: materialize(f) for p, f in fresh.items()} == {p: materialize(f) for p, f in first.items()}


def test_a_new_base_keeps_the_rows_of_the_latest_other_contexts_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = default_settings(state_dir=str(state), page_size=3)
    root = state / "cache" / rows.FOLDER_NAME
    for age in range(rows.KEEP_CONTEXTS + 2):  # other contexts' folders, written 1 … 6 hours ago
        folder = root / f"other-{age}"
        folder.mkdir(parents=True)
        os.utime(folder, (0, 2_000_000_000 - age * 3600))
    updates = [made_update(i, f"Titel {i}", "Text", "sv", False, -i) for i in range(5)]
    deferred.prepare(listing_pages(pages.build(updates, config)).values())
    kept = sorted(p.name for p in root.iterdir())
    mine = rows.rows_folder(state, config.context_digest).name
    assert kept == sorted([mine, *(f"other-{age}" for age in range(rows.KEEP_CONTEXTS))])


def test_a_deferred_naming_parts_hashes_and_compares_as_before() -> None:
    def produce() -> bytes:
        return b""

    plain, named = Deferred("k", produce), Deferred("k", produce, (Recorder(), [1, 2]))
    assert named == plain and hash(named) == hash(plain)

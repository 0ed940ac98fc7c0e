"""The edit build's shortcuts give what the general path gives (issue 16).

Each shortcut is checked against the code it replaced (kept here as the reference) on real
content (the example site, two bench corpora) and on generated hostile inputs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench import corpus
from pipeline.caching.render_cache import CachedRenderer
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.model import scopes
from pipeline.publishing.journal import Journal
from pipeline.publishing.manifest import Manifest, read_manifest
from pipeline.publishing.output_folder import MARKER, PublishError, check_paths, write_atomically
from pipeline.publishing.site_build import build_files, input_digest
from pipeline.reading.content import read_content
from pipeline.reading.markdown_render import render_markdown
from pipeline.reading.model import Update, sort_key
from tests.conftest import NOW, REPO
from tests.update_factory import plain_update

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TARGETS = [t.id for t in load_taxonomy().targets]
FEW = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def real_content(tmp_path_factory) -> list:
    """(settings, content folder, content set) of the example site and two bench corpora."""
    from pipeline.config.site import default_settings

    found = []
    folders = [REPO / "content"]
    for seed in (17, 5):
        folders.append(
            corpus.write_corpus(tmp_path_factory.mktemp(f"bench{seed}") / "content", 120, seed=seed)
        )
    for folder in folders:
        settings = default_settings(state_dir=str(tmp_path_factory.mktemp("state")))
        found.append((settings, folder, read_content(folder, settings, NOW)))
    return found


# --- check_paths: substring tests before splitting -------------------------------------------------


def reference_check_paths(rel: str) -> bool:
    """The check as it was: split every path. True when the path is refused."""
    parts = rel.split("/")
    return rel.startswith("/") or ".." in parts or "" in parts or rel == MARKER


def refused(rel: str) -> bool:
    try:
        check_paths({rel: b""})
    except PublishError:
        return True
    return False


@FEW
@given(st.text(alphabet="./a.b_-/", max_size=12) | st.sampled_from(["", ".", "..", MARKER, "a/..", "../a"]))
def test_check_paths_refuses_exactly_what_splitting_refuses(rel):
    assert refused(rel) == reference_check_paths(rel)


@FEW
@given(st.text(max_size=20))
def test_check_paths_agrees_on_any_text(rel):
    assert refused(rel) == reference_check_paths(rel)


def test_check_paths_agrees_on_every_real_output_path(real_content):
    for settings, folder, _content in real_content:
        files = build_files(folder, settings, NOW, use_cache=False).files
        assert files and not any(reference_check_paths(rel) for rel in files)
        check_paths(files)  # none refused, as before


# --- manifest and journal: one encoding of the file records ----------------------------------------


def reference_manifest_bytes(manifest: Manifest) -> bytes:
    data = {"format": 1, "stamp": manifest.stamp, "files": manifest.files}
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")


def reference_journal_bytes(journal: Journal) -> bytes:
    data = {
        "format": 1,
        "staging": journal.staging,
        "tree": journal.tree,
        "written": journal.written,
        "removed": journal.removed,
        "manifest_path": journal.manifest_path,
        "manifest": {"stamp": journal.manifest.stamp, "files": journal.manifest.files},
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
records = st.dictionaries(
    st.text(max_size=12),
    st.tuples(st.none() | st.text(max_size=6), st.integers(0, 2**40), st.integers(0, 2**63)).map(list),
    max_size=6,
)


@FEW
@given(records, st.none() | st.dictionaries(st.text(max_size=6), json_values, max_size=4))
def test_manifest_bytes_are_the_json_they_were(files, stamp):
    manifest = Manifest(files=files, stamp=stamp)
    assert manifest.to_bytes() == reference_manifest_bytes(manifest)


@FEW
@given(
    records,
    st.none() | st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    st.lists(st.text(max_size=6), max_size=3),
    st.lists(st.text(max_size=6), max_size=3),
    st.none() | st.text(max_size=10),
    st.text(max_size=10),
    st.booleans(),
)
def test_journal_bytes_are_the_json_they_were_and_its_manifest_too(
    files, stamp, written, removed, manifest_path, staging, tree
):
    manifest = Manifest(files=files, stamp=stamp)
    journal = Journal(staging, tree, written, removed, manifest_path, manifest)
    assert journal.to_bytes() == reference_journal_bytes(journal)
    # complete() writes the manifest from the text to_bytes kept: the manifest's own bytes
    assert manifest.to_bytes(journal._files_text) == reference_manifest_bytes(manifest)


def test_a_real_build_manifest_encodes_as_before(real_content, tmp_path):
    from pipeline.publishing.publish import publish

    settings, folder, _ = real_content[0]
    path = tmp_path / "manifest.json"
    publish(tmp_path / "out", build_files(folder, settings, NOW, use_cache=False).files, manifest_path=path)
    manifest = read_manifest(path)
    assert manifest is not None and len(manifest.files) > 50
    assert path.read_bytes() == reference_manifest_bytes(manifest)


# --- read_manifest: the copy read before the lock, while the file is unchanged ---------------------


def test_a_manifest_read_before_is_reused_only_while_its_file_is_unchanged(tmp_path):
    path = tmp_path / "m.json"
    write_atomically(path, Manifest(files={"a": ["k", 1, 2]}, stamp={"inputs": "x"}).to_bytes())
    first = read_manifest(path)
    assert first is not None and first.read_from is not None
    assert read_manifest(path, first) is first
    # the same bytes written again (a new file renamed into place): read afresh
    write_atomically(path, path.read_bytes())
    again = read_manifest(path, first)
    assert again is not first and again == first
    # rewritten in place, same size, mtime put back: ctime still tells
    st = os.stat(path)
    before = path.read_bytes()
    path.write_bytes(before.replace(b'"k"', b'"q"'))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = read_manifest(path, again)
    assert changed is not again and changed.files == {"a": ["q", 1, 2]}
    path.unlink()
    assert read_manifest(path, changed) is None


# --- sort_key: kept on the update -------------------------------------------------------------------


def reference_key(update: Update) -> tuple:
    return (-update.date.timestamp(), update.id)


def make(number: int, date: datetime, targets=("17.1",), lang: str = "sv", uid: str | None = None) -> Update:
    return plain_update(number, date, targets, lang, uid=uid)


# The hour clocks go back in Stockholm: each wall time there twice (fold 0 and 1), an hour apart.
FOLDS = [
    datetime(2025, 10, 26, 2, minute, tzinfo=STOCKHOLM, fold=fold) for minute in (0, 30) for fold in (0, 1)
]
moments = st.sampled_from(FOLDS) | st.datetimes(
    min_value=datetime(2015, 1, 1),
    max_value=datetime(2030, 1, 1),
    timezones=st.sampled_from([STOCKHOLM, UTC]),
).flatmap(lambda d: st.sampled_from([d, d.replace(fold=1)]))


@FEW
@given(st.lists(st.tuples(moments, st.sampled_from(["a", "b", "tag:x", "é"])), min_size=1, max_size=30))
def test_sort_key_is_the_timestamp_key_however_often_and_wherever_asked(items):
    updates = [make(n, date, uid=uid) for n, (date, uid) in enumerate(items)]
    assert [sort_key(u) for u in updates] == [reference_key(u) for u in updates]
    assert [sort_key(u) for u in updates] == [reference_key(u) for u in updates]  # kept, same
    assert sorted(updates, key=sort_key) == sorted(updates, key=reference_key)
    copies = pickle.loads(pickle.dumps(updates))
    assert [sort_key(u) for u in copies] == [reference_key(u) for u in updates]
    moved = dataclasses.replace(updates[0], date=updates[0].date + timedelta(days=1))
    assert sort_key(moved) == reference_key(moved) != reference_key(updates[0])
    lazy = updates[0].with_body(_Body())
    assert sort_key(lazy) == reference_key(updates[0])


class _Body:
    def load(self, fingerprint: str) -> tuple[str, str, str]:
        return "<p>x</p>", "", "<p>x</p>"


def test_sort_key_tells_the_two_sides_of_a_fold_apart():
    updates = [make(n, date, uid="same") for n, date in enumerate(FOLDS)]
    assert [sort_key(u) for u in updates] == [reference_key(u) for u in updates]
    assert len({sort_key(u) for u in updates}) == 4


def test_real_updates_sort_by_the_timestamp_key(real_content):
    for _settings, _folder, content in real_content:
        assert content.updates == sorted(content.updates, key=reference_key)


# --- feed scopes and archive pages: the membership the definitions give ------------------------------


def reference_scope_members(updates: list[Update]) -> dict[tuple[str, str], list[str]]:
    """Which updates each scope holds, newest first, by definition (not by the builder's loops)."""
    taxonomy = load_taxonomy()
    ordered = sorted(updates, key=reference_key)
    members = {("site", ""): [u.id for u in ordered]}
    languages = sorted({u.lang for u in ordered})
    if len(languages) > 1:
        for code in languages:
            members[("lang", code)] = [u.id for u in ordered if u.lang == code]
    for group in taxonomy.groups:
        members[("group", group.id)] = [u.id for u in ordered if set(u.targets) & set(group.targets)]
    for target in taxonomy.targets:
        members[("target", target.id)] = [u.id for u in ordered if target.id in u.targets]
    return members


def scope_members(updates: list[Update], settings) -> dict[tuple[str, str], list[str]]:
    return {(s.kind, s.key): [u.id for u in s.updates] for s in scopes(updates, settings)}


def reference_archive(scope, settings) -> list[list[str]]:
    """The archive pages' entries as feed_pages made them with date.timestamp() itself."""
    if scope.kind != "site":
        return [[u.id for u in scope.updates[: settings.scope_feed_items]]]
    size = settings.feed_items
    oldest_first = sorted([(u.date.timestamp(), u.id, n) for n, u in enumerate(scope.updates)])
    pages = [[u.id for u in scope.updates[:size]]]
    for number in range(len(oldest_first) // size, 0, -1):
        chunk = oldest_first[(number - 1) * size : number * size]
        pages.append([scope.updates[n].id for _, _, n in sorted([(-m, uid, n) for m, uid, n in chunk])])
    return pages


@FEW
@given(
    st.lists(
        st.tuples(
            moments,
            st.lists(st.sampled_from(TARGETS), max_size=4, unique=True),
            st.sampled_from(["sv", "en", "de"]),
        ),
        max_size=40,
    )
)
def test_feed_scopes_hold_what_their_definitions_say(items):
    from pipeline.config.site import default_settings

    settings = default_settings(state_dir="/nonexistent-state")
    settings = dataclasses.replace(settings, feed_items=3, scope_feed_items=2)
    updates = [make(n, date, targets, lang) for n, (date, targets, lang) in enumerate(items)]
    assert scope_members(updates, settings) == reference_scope_members(updates)
    for scope in scopes(updates, settings):
        pages = [[u.id for u in page.entries] for page in feed_pages(scope, settings)]
        assert pages == reference_archive(scope, settings)


def test_feed_scopes_of_real_content(real_content):
    for settings, _folder, content in real_content:
        assert scope_members(content.updates, settings) == reference_scope_members(content.updates)
        for scope in scopes(content.updates, settings):
            pages = [[u.id for u in page.entries] for page in feed_pages(scope, settings)]
            assert pages == reference_archive(scope, settings)


# --- input_digest: every stat the build depends on still counts ----------------------------------


def test_input_digest_sees_every_change_of_a_file(tmp_path, settings):
    content = tmp_path / "c"
    content.mkdir()
    (content / "a.md").write_text("---\ntitle: A\n---\nText.\n")
    (content / "media").mkdir()
    (content / "media" / "x.png").write_bytes(b"png")
    seen = {input_digest(content, settings)}
    assert input_digest(content, settings) in seen  # the same folder, the same digest

    def changed() -> None:
        now = input_digest(content, settings)
        assert now not in seen
        seen.add(now)

    st = os.stat(content / "a.md")
    os.utime(content / "a.md", ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # mtime
    changed()
    os.chmod(content / "a.md", 0o600)  # mode
    changed()
    st = os.stat(content / "a.md")
    time.sleep(0.01)
    (content / "a.md").write_text("---\ntitle: B\n---\nText.\n")  # the same size, in place ...
    os.utime(content / "a.md", ns=(st.st_atime_ns, st.st_mtime_ns))  # ... and the same mtime
    assert os.stat(content / "a.md")[6:9] == st[6:9] and os.stat(content / "a.md").st_ino == st.st_ino
    changed()  # only the ctime tells
    (content / "a.md").write_text("---\ntitle: A\n---\nText!!\n")  # size
    changed()
    shutil.copy2(content / "a.md", content / "b.md")
    os.replace(content / "b.md", content / "a.md")  # inode (same size and mtime)
    changed()
    os.rename(content / "a.md", content / "c.md")  # name
    changed()
    (content / "media" / "y.png").write_bytes(b"png")  # a new asset
    changed()
    (content / "zz.md").symlink_to(content / "c.md")  # refused files count with their reason
    changed()


# --- the render cache: a few bodies are rendered without the store ---------------------------------


def real_bodies() -> list[str]:
    from pipeline.reading.discovery import body_of

    return [body_of(path.read_bytes()) for path in sorted((REPO / "content").rglob("*.md"))]


def test_a_few_bodies_are_rendered_as_the_store_would_and_leave_it_alone(tmp_path):
    bodies = real_bodies()
    assert len(bodies) >= 8
    folder = tmp_path / "markdown"
    few = CachedRenderer(folder, direct_below=8)
    assert few(bodies[:7]) == [render_markdown(b) for b in bodies[:7]]
    assert few(bodies[:7], then=lambda i, r: (i, r)) == [
        (i, render_markdown(b)) for i, b in enumerate(bodies[:7])
    ]
    assert not folder.exists()  # neither read nor written
    many = CachedRenderer(folder, direct_below=8)
    assert many(bodies) == [render_markdown(b) for b in bodies]
    assert any(folder.glob("shard-*.pickle"))
    again = CachedRenderer(folder, direct_below=8)
    assert again(bodies) == [render_markdown(b) for b in bodies] and again.stats.hits == len(bodies)


@FEW
@given(st.lists(st.text(alphabet="ab *_[]()<>#-\n`!|", max_size=60), max_size=7))
def test_hostile_bodies_render_the_same_directly(tmp_path, bodies):
    renderer = CachedRenderer(tmp_path / "markdown", direct_below=8)
    assert renderer(bodies) == [render_markdown(b) for b in bodies]
    assert renderer.stats.misses == len(set(bodies))


# --- feed discovery files: deferred, keyed by what they show -----------------------------------


def reference_discovery(pages, settings) -> dict[str, bytes]:
    """The five files as build_discovery made them before they were deferred."""
    from pipeline.outputs.feeds import discovery
    from pipeline.outputs.feeds.model import EMPTY_FEED_UPDATED

    current = [page for page in pages if not page.is_archive]
    archives = sorted((page for page in pages if page.is_archive), key=lambda p: p.archive_number or 0)
    newest = max((page.updated for page in current), default=EMPTY_FEED_UPDATED)
    files = {
        path: discovery._opml([p for p in current if p.scope.kind in kinds], settings, newest, path)
        for path, kinds in discovery.OPML_FILES.items()
    }
    files[discovery.INDEX_PATH] = discovery._index(current, archives, settings, newest)
    return files


def discovery_of(updates, settings):
    from pipeline.outputs.feeds.discovery import build_discovery

    pages = [page for scope in scopes(updates, settings) for page in feed_pages(scope, settings)]
    return build_discovery(pages, settings), reference_discovery(pages, settings)


def test_discovery_files_of_real_content_are_the_bytes_they_were(real_content):
    from pipeline.caching.deferred import materialize_all

    for settings, _folder, content in real_content:
        made, reference = discovery_of(content.updates, settings)
        assert materialize_all(made) == reference


update_lists = st.lists(
    st.tuples(
        moments,
        st.lists(st.sampled_from(TARGETS[:4]), max_size=2, unique=True),
        st.sampled_from(["sv", "en"]),
    ),
    max_size=8,
)


@FEW
@given(update_lists, update_lists, st.integers(0, 3))
def test_discovery_keys_change_whenever_the_bytes_would(first, second, bump):
    from pipeline.caching.deferred import materialize_all
    from pipeline.config.site import default_settings

    settings = dataclasses.replace(default_settings(state_dir="/nonexistent-state"), feed_items=2)
    one = [make(n, date, targets, lang) for n, (date, targets, lang) in enumerate(first)]
    two = [make(n, date, targets, lang) for n, (date, targets, lang) in enumerate(second)]
    if one and bump:  # the same set with one update's `updated` moved (what an edit may do)
        two = [dataclasses.replace(one[0], updated=one[0].updated + timedelta(minutes=bump)), *one[1:]]
    made_one, reference_one = discovery_of(one, settings)
    made_two, reference_two = discovery_of(two, settings)
    assert materialize_all(made_one) == reference_one and materialize_all(made_two) == reference_two
    for path in reference_one:
        if reference_one[path] != reference_two[path]:
            assert made_one[path].key != made_two[path].key, path


def test_a_feed_with_one_more_update_but_the_same_entries_gets_a_new_key():
    """Its newest date and its items stay; its total (in the index) does not."""
    from pipeline.config.site import default_settings
    from pipeline.outputs.feeds.discovery import INDEX_PATH, build_discovery
    from pipeline.outputs.feeds.model import FeedPage

    settings = default_settings(state_dir="/nonexistent-state")
    new = make(1, datetime(2026, 5, 1, 10, tzinfo=STOCKHOLM), ("17.1",))
    old = make(2, datetime(2020, 5, 1, 10, tzinfo=STOCKHOLM), ("17.1",))
    scope = scopes([new], settings)[0]
    pages = [FeedPage(scope=scope, folder=scope.folder, entries=(new,))]
    more = [
        FeedPage(scope=dataclasses.replace(scope, updates=(new, old)), folder=scope.folder, entries=(new,))
    ]
    assert reference_discovery(pages, settings)[INDEX_PATH] != reference_discovery(more, settings)[INDEX_PATH]
    assert build_discovery(pages, settings)[INDEX_PATH].key != build_discovery(more, settings)[INDEX_PATH].key

"""Feed scopes described cheaply give what the full description gave (issue 16).

``scopes`` stops sorting updates into languages, groups and targets once each holds its newest
``scope_feed_items`` (:mod:`pipeline.outputs.feeds.members`), names languages only when a
document shows them, and the archive pages are reversals when no two updates share an instant.
Each is checked against the code it replaced (kept here as the reference) on real content (the
example site, two bench corpora, the structure-dense corpus) and on generated inputs, with the
scan's stride shrunk so that the early stop happens inside small inputs.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import babel
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench import corpus, dense_corpus
from pipeline.caching.deferred import Deferred, materialize
from pipeline.config.site import LANGUAGES, default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale import BABEL_LOCALES, translations
from pipeline.outputs import feeds
from pipeline.outputs.feeds import archive, members, model
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.members import ScopeUpdates
from pipeline.outputs.feeds.model import scopes
from pipeline.reading.content import read_content
from pipeline.reading.model import Update, sort_key
from tests.conftest import NOW, REPO
from tests.update_factory import plain_update

TARGETS = [t.id for t in load_taxonomy().targets]
FEW = hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def real_content(tmp_path_factory) -> list:
    """(settings, content set) of the example site, two bench corpora and a dense corpus."""
    found = []
    folders = [REPO / "content"]
    for seed in (17, 5):
        folders.append(corpus.write_corpus(tmp_path_factory.mktemp(f"bench{seed}") / "c", 300, seed=seed))
    dense = tmp_path_factory.mktemp("dense") / "c"
    dense_corpus.write_dense_corpus(dense, 120)
    folders.append(dense)
    for folder in folders:
        settings = default_settings(state_dir=str(tmp_path_factory.mktemp("state")))
        found.append((settings, read_content(folder, settings, NOW)))
    return found


def reference_scopes(updates, settings) -> list[tuple]:
    """The scopes as the full one-pass description made them: every field, every member."""
    taxonomy = load_taxonomy()
    lang = settings.language
    _ = translations(lang).gettext
    ordered = sorted(updates, key=sort_key)
    name = model.language_name
    found = [("site", "", "feeds/", settings.title, settings.description, lang, settings.url(), ordered)]
    languages = sorted({u.lang for u in ordered})
    if len(languages) > 1:
        for code in languages:
            description = (
                translations(code)
                .gettext("{description} Endast nyheter på {language}.")
                .format(description=settings.description, language=name(code))
            )
            folder = f"feeds/lang/{code}/"
            title = f"{settings.title} – {name(code)}"
            in_scope = [u for u in ordered if u.lang == code]
            found.append(("lang", code, folder, title, description, code, settings.url(), in_scope))
    for group in taxonomy.groups:
        title = _("Mål 17 — {area}").format(area=group.title(lang))
        description = _("Nyheter om mål 17, {title} ({targets}).").format(
            title=group.title(lang), targets=_("delmål {range}").format(range=model.target_range(group))
        )
        in_scope = [u for u in ordered if set(u.targets) & set(group.targets)]
        home = settings.url(f"groups/{group.id}/")
        found.append(
            ("group", group.id, f"feeds/groups/{group.id}/", title, description, lang, home, in_scope)
        )
    for target in taxonomy.targets:
        title = _("Mål 17 — delmål {id}: {title}").format(id=target.id, title=target.title(lang))
        description = _("Nyheter om delmål {id} i Agenda 2030, mål 17: {title}.").format(
            id=target.id, title=target.title(lang)
        )
        in_scope = [u for u in ordered for t in u.targets if t == target.id]
        home = settings.url(f"targets/{target.id}/")
        found.append(
            ("target", target.id, f"feeds/targets/{target.id}/", title, description, lang, home, in_scope)
        )
    return [(*head, [u.id for u in in_scope]) for *head, in_scope in found]


def described(updates, settings) -> list[tuple]:
    """What ``scopes`` gives, in the reference's shape, and the newest few read first."""
    result = []
    found = scopes(updates, settings)
    completed = []
    real_complete = ScopeUpdates._complete
    ScopeUpdates._complete = lambda self: (completed.append(self), real_complete(self))[1]
    try:  # what the documents show is at hand: no scope makes its complete list for it
        newest_of = [[u.id for u in s.updates[: settings.scope_feed_items]] for s in found]
    finally:
        ScopeUpdates._complete = real_complete
    assert completed == []
    for s, newest in zip(found, newest_of, strict=True):
        every = [u.id for u in s.updates]
        assert every[: settings.scope_feed_items] == newest and len(s.updates) == len(every)
        result.append((s.kind, s.key, s.folder, s.title, s.description, s.language, s.home_url, every))
    return result


def reference_pages(scope, settings) -> list[list[str]]:
    """The pages as feed_pages made them before: sorted, never reversed."""
    if scope.kind != "site":
        return [[u.id for u in scope.updates[: settings.scope_feed_items]]]
    size = settings.feed_items
    updates = list(scope.updates)
    oldest_first = sorted(updates, key=lambda u: (-sort_key(u)[0], u.id))
    pages = [[u.id for u in updates[:size]]]
    for number in range(len(oldest_first) // size, 0, -1):
        chunk = oldest_first[(number - 1) * size : number * size]
        pages.append([u.id for u in sorted(chunk, key=sort_key)])
    return pages


def make(n: int, minutes: int, targets, lang: str) -> Update:
    when = BASE + timedelta(minutes=minutes)
    return plain_update(
        n, when, targets, lang, uid=f"tag:t.example,2026:u{n % 7}-{n}", fingerprint=f"{n:032x}"
    )


items = st.lists(
    st.tuples(
        st.integers(0, 30),  # few minutes: many updates share an instant
        # A target listed twice is possible; few targets of one group fill the group first.
        st.lists(st.sampled_from(TARGETS), max_size=4) | st.lists(st.sampled_from(TARGETS[:3]), max_size=2),
        st.sampled_from(["sv", "en", "de"]),
    ),
    max_size=90,
)


@FEW
@given(items, st.integers(0, 6), st.integers(1, 5), st.sampled_from([1, 3, 64]))
def test_scopes_hold_what_the_full_description_held(monkeypatch, items, limit, size, stride):
    monkeypatch.setattr(members, "_STRIDE", stride)
    settings = dataclasses.replace(
        default_settings(state_dir="/nonexistent-state"), feed_items=size, scope_feed_items=limit
    )
    updates = [make(n, minutes, targets, lang) for n, (minutes, targets, lang) in enumerate(items)]
    assert described(updates, settings) == reference_scopes(updates, settings)
    for scope in scopes(updates, settings):
        assert [[u.id for u in p.entries] for p in feed_pages(scope, settings)] == reference_pages(
            scope, settings
        )


@pytest.mark.parametrize("stride", [1, 16, 64])
def test_scopes_of_real_content(monkeypatch, real_content, stride):
    monkeypatch.setattr(members, "_STRIDE", stride)
    for settings, content in real_content:
        small = dataclasses.replace(settings, feed_items=7, scope_feed_items=3)
        for used in (settings, small):
            assert described(content.updates, used) == reference_scopes(content.updates, used)
            for scope in scopes(content.updates, used):
                pages = [[u.id for u in p.entries] for p in feed_pages(scope, used)]
                assert pages == reference_pages(scope, used)


def test_the_scan_stops_early_and_answers_the_rest_on_demand(monkeypatch):
    """Not a timing: the newest few come from a partial scan, the complete list on first use."""
    monkeypatch.setattr(members, "_STRIDE", 4)
    settings = dataclasses.replace(default_settings(state_dir="/nonexistent-state"), scope_feed_items=2)
    updates = [make(n, n, TARGETS[:1], "sv" if n % 2 else "en") for n in range(200)]
    scanned = []
    real_scan = members.Members._scan
    monkeypatch.setattr(
        members.Members,
        "_scan",
        lambda self, part, lists: (scanned.append(len(part)), real_scan(self, part, lists)),
    )
    found = {(s.kind, s.key): s for s in scopes(updates, settings)}
    assert sum(scanned) < 20  # two of each language and target in the newest few
    target = found[("target", TARGETS[0])]
    assert isinstance(target.updates, ScopeUpdates) and len(target.updates) == 200
    assert [u.id for u in target.updates] == [u.id for u in sorted(updates, key=sort_key)]
    assert sum(scanned) >= 200


@pytest.mark.parametrize("known", range(6))
@pytest.mark.parametrize("extra", range(4))
def test_scope_updates_is_the_tuple_it_stands_for(known, extra):
    full = [make(n, n, (), "sv") for n in range(known + extra)]
    made: list[int] = []
    lazy = ScopeUpdates(full[:known], len(full), lambda: (made.append(1), full)[1])
    whole = tuple(full)
    bounds = [None, *range(-len(full) - 2, len(full) + 3)]
    for start in bounds:
        for stop in bounds:
            for step in (None, 1, 2, -1):
                assert lazy[start:stop:step] == whole[start:stop:step], (start, stop, step)
    for index in range(-len(full) - 2, len(full) + 2):
        if -len(full) <= index < len(full):
            assert lazy[index] is full[index]
        else:
            with pytest.raises(IndexError):
                lazy[index]
    assert len(lazy) == len(full) and list(lazy) == full and lazy == whole and made == [1]


@FEW
@given(st.lists(st.integers(0, 10**6), max_size=120, unique=True), st.integers(1, 9))
def test_archive_reversal_is_the_sort(stamps, size):
    """Distinct instants: the reversal shortcut; the same updates with ties: the sorts."""
    updates = tuple(sorted((make(n, m, (), "sv") for n, m in enumerate(stamps)), key=sort_key))
    oldest, newest_first = archive._oldest_first(updates)
    assert newest_first is archive._reversed
    assert list(oldest) == sorted(updates, key=lambda u: (-sort_key(u)[0], u.id))
    for start in range(0, len(updates), size):
        chunk = list(oldest)[start : start + size]
        assert newest_first(chunk) == tuple(sorted(chunk, key=sort_key))


def test_language_names_are_babels_and_made_only_with_a_document(monkeypatch, real_content):
    settings, content = real_content[0]
    updates = list(content.updates)
    updates += [
        dataclasses.replace(u, lang=code, id=f"{u.id}-{code}") for u in updates[:3] for code in LANGUAGES
    ]
    for code in LANGUAGES:
        name = babel.Locale.parse(BABEL_LOCALES[code]).get_language_name()
        assert model.language_name(code) == name
        (scope,) = [s for s in scopes(updates, settings) if s.kind == "lang" and s.key == code]
        assert scope.title == f"{settings.title} – {name}"

    asked: list[str] = []
    real_name = model.language_name
    monkeypatch.setattr(model, "language_name", lambda code: (asked.append(code), real_name(code))[1])
    files = feeds.build(updates, settings)
    assert asked == []  # describing names no language
    materialize(files["feeds/lang/en/rss.xml"])
    assert asked == ["en"]

    monkeypatch.setattr(babel, "__version__", "0.0-other")
    again = feeds.build(updates, settings)
    for path, item in files.items():
        if isinstance(item, Deferred):
            shows_names = path.startswith("feeds/lang/") or path.endswith((".opml", "index.json"))
            assert (again[path].key != item.key) == shows_names, path


def test_a_target_listed_twice_does_not_fill_its_group(monkeypatch):
    """Its feed lists the update twice, its group's once: the group's count is its own."""
    monkeypatch.setattr(members, "_STRIDE", 1)
    settings = dataclasses.replace(default_settings(state_dir="/nonexistent-state"), scope_feed_items=4)
    updates = [make(n, n, (TARGETS[0], TARGETS[0]), "sv") for n in range(12)]
    assert described(updates, settings) == reference_scopes(updates, settings)

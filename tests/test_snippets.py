"""Partner snippets: files, item model, determinism and schema validity on real builds."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest
from jsonschema import ValidationError

from pipeline.caching.deferred import materialize, materialize_all
from pipeline.config.site import default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs import snippets
from pipeline.publishing.site_build import build_files, builders, run_build
from pipeline.reading.content import read_content
from tests.conftest import NOW, REPO
from tests.snippets_helpers import (
    HOSTILE,
    NORMAL,
    executable_findings,
    snippet_files,
    validator,
    write_corpus,
)


@pytest.fixture
def normal_files(content_dir, write_update, settings) -> dict[str, bytes]:
    write_corpus(content_dir, NORMAL, write_update)
    return materialize_all(build_files(content_dir, settings, NOW).files)


def test_snippets_builder_is_registered():
    assert snippets.build in builders()


def test_build_writes_every_snippet_file(normal_files):
    taxonomy = load_taxonomy()
    expected = {"snippets/latest.json", "snippets/schema.json", "snippets/v1/schema.json"}
    expected |= {f"snippets/targets/{t.id}.json" for t in taxonomy.targets}
    expected |= {f"snippets/groups/{g.id}.json" for g in taxonomy.groups}
    expected |= {"snippets/lang/sv/latest.json", "snippets/lang/en/latest.json"}
    expected |= {"snippets/embed.js", "snippets/demo.html"}
    # the subscription service's partner sign-up form lives beside the snippets (tests/test_web*)
    signup_forms = {"snippets/subscribe.html", "snippets/subscribe.sv.html", "snippets/subscribe.en.html"}
    produced = {path for path in normal_files if path.startswith("snippets/")} - signup_forms
    assert produced == expected
    assert len([p for p in produced if p.startswith("snippets/targets/")]) == 19


def test_every_snippet_validates_against_the_schema(normal_files):
    check = validator(normal_files)
    documents = snippet_files(normal_files)
    assert len(documents) == 1 + 19 + 7 + 2
    for path, document in documents.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(document)]
        assert errors == [], path
        assert document["$schema"] == json.loads(normal_files["snippets/schema.json"])["$id"]
        assert document["version"] == snippets.SCHEMA_VERSION
        assert document["url"] == "https://mal17.example.se/" + path


def test_schema_is_published_at_the_versioned_path_too(normal_files):
    schema = json.loads(normal_files["snippets/schema.json"])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://mal17.example.se/snippets/v1/schema.json"
    assert normal_files["snippets/v1/schema.json"] == normal_files["snippets/schema.json"]
    assert snippets.SCHEMA_VERSION.split(".")[0] == str(snippets.SCHEMA_MAJOR)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("items", 0, "excerpt_html"), "<p>x<script>alert(1)</script></p>"),
        (("items", 0, "excerpt_html"), '<p><a href="javascript:alert(1)" rel="noopener">x</a></p>'),
        (("items", 0, "excerpt_html"), '<p onclick="alert(1)">x</p>'),
        (("items", 0, "excerpt_html"), "<svg onload=alert(1)>"),
        (("items", 0, "url"), "javascript:alert(1)"),
        (("items", 0, "url"), "/updates/relative/"),
        (("items", 0, "title"), "<img src=x onerror=alert(1)>"),
        (("items", 0, "summary"), "</p><script>"),
        (("items", 0, "date"), "27 november 2026"),
        (("items", 0, "surprise"), "unknown keys are not part of version 1"),
        (("feeds", "rss"), "data:text/html,hi"),
        (("kind",), "everything"),
    ],
)
def test_schema_rejects_what_must_never_be_in_a_snippet(normal_files, where, value):
    check = validator(normal_files)
    document = json.loads(normal_files["snippets/targets/17.17.json"])
    node = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ValidationError):
        check.validate(document)


def test_latest_lists_newest_items_with_full_item_model(normal_files):
    latest = json.loads(normal_files["snippets/latest.json"])
    assert latest["kind"] == "latest"
    assert [item["id"].rsplit(":", 1)[1] for item in latest["items"]] == [name for name, _, _ in NORMAL]
    first = latest["items"][0]
    assert first == {
        "id": "tag:test.example,2026:kommunala-partnerskap",
        "title": "Ny ansökningsomgång för kommunala partnerskap",
        "url": "https://mal17.example.se/updates/kommunala-partnerskap/",
        "date": "2026-11-20T09:00:00+01:00",
        "updated": "2026-11-20T09:00:00+01:00",
        "display_date": "20 november 2026",
        "summary": "Kommuner kan nu söka stöd för partnerskap med kommuner i andra länder. Läs mer om kapacitet.",
        "excerpt_html": (
            "<p>Kommuner kan nu söka stöd för <strong>partnerskap</strong> med kommuner i andra länder. "
            'Läs mer om <a href="https://mal17.example.se/updates/kapacitet/" rel="noopener">kapacitet</a>.</p>\n'
            "<ul>\n<li>ett</li>\n<li>två</li>\n</ul>"
        ),
        "targets": [
            {"id": "17.9", "name": "Kapacitetsuppbyggnad för de globala målen i utvecklingsländer"},
            {"id": "17.17", "name": "Uppmuntra effektiva partnerskap"},
        ],
        "image": {"url": "https://mal17.example.se/media/bild.png", "alt": "Två kommunpolitiker skakar hand"},
        "lang": "sv",
    }
    english = next(i for i in latest["items"] if i["lang"] == "en")
    assert english["display_date"] == "5 November 2026"
    assert english["targets"] == [{"id": "17.17", "name": "Encourage effective partnerships"}]
    assert "image" not in english


def test_snippet_level_fields(normal_files):
    target = json.loads(normal_files["snippets/targets/17.17.json"])
    assert target["title"] == "Delmål 17.17: Uppmuntra effektiva partnerskap"
    assert target["target"] == {"id": "17.17", "name": "Uppmuntra effektiva partnerskap"}
    assert target["home_url"] == "https://mal17.example.se/"
    assert target["page_url"] == "https://mal17.example.se/targets/17.17/"
    assert target["feeds"] == {
        "rss": "https://mal17.example.se/feeds/targets/17.17/rss.xml",
        "atom": "https://mal17.example.se/feeds/targets/17.17/atom.xml",
        "json": "https://mal17.example.se/feeds/targets/17.17/feed.json",
    }
    assert [i["id"].rsplit(":", 1)[1] for i in target["items"]] == [
        "kommunala-partnerskap",
        "municipal-expertise",
        "voluntary-local-reviews",
        "cemr-uclg",
    ]
    latest = json.loads(normal_files["snippets/latest.json"])
    assert latest["feeds"]["atom"] == "https://mal17.example.se/feeds/atom.xml"
    # The newest change among the items (statlig-finansiering was updated 25 November), not the build time.
    assert latest["updated"] == "2026-11-25T10:00:00+01:00"
    assert target["updated"] == "2026-11-20T09:00:00+01:00"


def test_groups_and_languages(normal_files):
    finance = json.loads(normal_files["snippets/groups/finance.json"])
    assert finance["group"]["id"] == "finance"
    assert [t["id"] for t in finance["group"]["targets"]] == ["17.1", "17.2", "17.3", "17.4", "17.5"]
    assert [i["id"].rsplit(":", 1)[1] for i in finance["items"]] == ["statlig-finansiering"]
    partnerships = json.loads(normal_files["snippets/groups/partnerships.json"])
    assert len(partnerships["items"]) == 4
    english = json.loads(normal_files["snippets/lang/en/latest.json"])
    assert english["lang"] == "en"
    assert english["title"] == "Goal 17: Partnerships for the goals"
    assert {i["lang"] for i in english["items"]} == {"en"}
    assert len(english["items"]) == 2
    swedish = json.loads(normal_files["snippets/lang/sv/latest.json"])
    assert {i["lang"] for i in swedish["items"]} == {"sv"}


def test_empty_targets_are_valid_and_fixed(normal_files):
    check = validator(normal_files)
    empty = json.loads(normal_files["snippets/targets/17.12.json"])
    check.validate(empty)
    assert empty["items"] == []
    assert empty["updated"] == snippets.documents.EMPTY_UPDATED == "1970-01-01T00:00:00+00:00"


def test_only_one_language_means_no_language_files(content_dir, write_update, settings):
    write_update("bara-svenska", targets=["17.9"])
    files = materialize_all(build_files(content_dir, settings, NOW).files)
    assert not [p for p in files if p.startswith("snippets/lang/")]
    validator(files).validate(json.loads(files["snippets/latest.json"]))


def test_no_content_at_all_still_gives_valid_snippets(content_dir, settings):
    files = materialize_all(build_files(content_dir, settings, NOW).files)
    check = validator(files)
    documents = snippet_files(files)
    assert len(documents) == 1 + 19 + 7
    for document in documents.values():
        check.validate(document)
        assert document["items"] == []


def test_snippet_items_setting_limits_every_snippet(content_dir, write_update, settings):
    for day in range(1, 16):
        write_update(f"nyhet-{day:02d}", date=f"2026-10-{day:02d}T10:00", targets=["17.17"])
    files = materialize_all(build_files(content_dir, settings, NOW).files)
    latest = json.loads(files["snippets/latest.json"])
    assert len(latest["items"]) == settings.snippet_items == 10
    assert latest["items"][0]["id"].endswith("nyhet-15")
    assert latest["items"][-1]["id"].endswith("nyhet-06")
    three = materialize_all(build_files(content_dir, default_settings(snippet_items=3), NOW).files)
    assert len(json.loads(three["snippets/targets/17.17.json"])["items"]) == 3


def test_bytes_are_deterministic_and_independent_of_build_time(content_dir, write_update, settings):
    write_corpus(content_dir, NORMAL, write_update)
    first = materialize_all(build_files(content_dir, settings, NOW).files)
    later = materialize_all(build_files(content_dir, settings, NOW + timedelta(days=3)).files)
    for path in first:
        if path.startswith("snippets/"):
            assert first[path] == later[path], path
    raw = first["snippets/latest.json"].decode("utf-8")
    document = json.loads(raw)
    assert raw == json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert "ö" in raw  # UTF-8, not \u escapes


def test_hostile_corpus_reaches_no_snippet(content_dir, write_update, settings):
    write_corpus(content_dir, HOSTILE + NORMAL, write_update)
    files = materialize_all(build_files(content_dir, settings, NOW).files)
    check = validator(files)
    documents = snippet_files(files)
    hostile_ids = {f"tag:test.example,2026:{name}" for name, _, _ in HOSTILE}
    seen = set()
    for path, document in documents.items():
        check.validate(document)
        assert executable_findings(document) == [], path
        seen |= {i["id"] for i in document["items"]} & hostile_ids
    assert seen == hostile_ids  # the hostile updates were really in the snippets
    latest = json.loads(files["snippets/latest.json"])
    by_id = {i["id"]: i for i in latest["items"]}
    first = by_id["tag:test.example,2026:fientlig-1"]
    assert first["title"] == "Rubrik"
    assert first["summary"] == "Sammanfattning"
    assert 'href="https://ok.example/"' in first["excerpt_html"]  # the one good link survives
    second = by_id["tag:test.example,2026:hostile-2"]
    assert second["image"] == {"url": "https://img.example/pic.jpg", "alt": "Alt text"}


def test_text_that_looks_like_markup_stays_inert():
    from pipeline.outputs.snippets.items import excerpt, plain

    assert plain("1 < 2 och 3 > 2") == "1 < 2 och 3 > 2"
    assert plain("&lt;&lt;script&gt;script&gt;alert(1)&lt;/script&gt;") == "<"
    assert plain("Tullar &amp; handel") == "Tullar & handel"
    # Encoded deeper than the stripping loop goes: what is left can no longer open a tag.
    assert plain("&amp;amp;amp;amp;lt;script&amp;amp;amp;amp;gt;x") == "\u2039script>x"
    assert excerpt(
        '<p>a &lt; b <a href="https://x.se/a b">l</a> <a>tom</a></p><p><img src="https://x.se/i.png"></p>'
    ) == ('<p>a &lt; b <a href="https://x.se/a%20b" rel="noopener">l</a> tom</p>')


def test_demo_page_shows_several_widgets(normal_files):
    page = lxml.html.document_fromstring(normal_files["snippets/demo.html"])
    widgets = page.xpath("//*[@data-goal17]")
    names = [w.get("data-goal17") for w in widgets]
    assert len(widgets) >= 3
    assert "latest" in names
    assert "targets/17.17" in names  # the busiest target of the corpus
    assert any(w.get("data-lang") == "en" for w in widgets)
    assert page.xpath("//script/@src") == ["embed.js"]
    assert "https://mal17.example.se/snippets/embed.js" in page.text_content()


def test_embed_script_is_small_and_uses_no_html_sinks(normal_files):
    script = normal_files["snippets/embed.js"]
    # the budget docs/partners.md promises partners: 5 KB gzip on the wire, 12 KB unminified
    assert snippets.embed.EMBED_MAX_GZIP_BYTES == 5 * 1024 and snippets.embed.EMBED_MAX_BYTES == 12 * 1024
    assert len(gzip.compress(script, 9)) <= snippets.embed.EMBED_MAX_GZIP_BYTES
    assert len(script) <= snippets.embed.EMBED_MAX_BYTES
    assert "5 KB" in (REPO / "docs" / "partners.md").read_text(encoding="utf-8")
    text = script.decode("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("):
        assert sink not in text
    assert "textContent" in text and "attachShadow" in text


def test_published_build_on_the_example_content(tmp_path):
    content = REPO / "content"
    if not any(content.glob("*.md")):
        pytest.skip("no example content in this checkout")
    settings = default_settings(state_dir=str(tmp_path / "state"))
    outcome = run_build(content, tmp_path / "out", settings, NOW)
    out = tmp_path / "out" / "snippets"
    files = {
        p.relative_to(tmp_path / "out").as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
    }
    check = validator(files)
    documents = snippet_files(files)
    assert len([p for p in documents if p.startswith("snippets/targets/")]) == 19
    for path, document in documents.items():
        check.validate(document)
        assert executable_findings(document) == [], path
    latest = json.loads(files["snippets/latest.json"])
    expected = [u.id for u in outcome.result.content.updates[: settings.snippet_items]]
    assert [i["id"] for i in latest["items"]] == expected
    assert Path(out / "embed.js").stat().st_size <= snippets.embed.EMBED_MAX_BYTES


def test_read_content_order_is_the_snippet_order(content_dir, write_update, settings):
    write_update("b-same-time", date="2026-11-01T10:00")
    write_update("a-same-time", date="2026-11-01T10:00")
    updates = read_content(content_dir, settings, NOW).updates
    latest = json.loads(materialize(snippets.build(updates, settings)["snippets/latest.json"]))
    assert [i["id"] for i in latest["items"]] == sorted(u.id for u in updates)


def test_documented_example_is_a_valid_snippet(normal_files):
    text = (REPO / "docs" / "partners.md").read_text("utf-8")
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    validator(normal_files).validate(example)
    assert sorted(example) == sorted(json.loads(normal_files["snippets/targets/17.9.json"]))

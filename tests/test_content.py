"""Reading and validating content: every problem reported as path:line, nothing silently changed."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.reading.content import read_content
from pipeline.reading.model import ContentError
from tests.conftest import NOW


def errors_of(content_dir, settings) -> list[str]:
    with pytest.raises(ContentError) as info:
        read_content(content_dir, settings, NOW)
    return [str(p) for p in info.value.problems if p.severity == "error"]


def test_reads_a_valid_update(write_update, content_dir, settings):
    write_update(
        "kapacitet",
        body="Första stycket om **kapacitet**.\n\nAndra stycket.\n",
        title="Kapacitet i partnerländer",
        date="2026-10-01T09:30",
        targets=["17.9", "17.17"],
        tags=["ICLD", "demokrati"],
        author="Redaktionen",
    )
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.title == "Kapacitet i partnerländer"
    assert update.slug == "kapacitet"
    assert update.targets == ("17.9", "17.17")
    assert update.tags == ("ICLD", "demokrati")
    assert update.summary == "Första stycket om kapacitet."
    assert update.url == "https://mal17.example.se/updates/kapacitet/"
    assert update.date.isoformat() == "2026-10-01T09:30:00+02:00"  # Stockholm summer time
    assert update.updated == update.date
    assert update.lang == "sv"


def test_unquoted_17_10_stays_17_10_and_is_never_17_1(content_dir, settings):
    (content_dir / "handel.md").write_text(
        "---\nid: tag:t,2026:h\ntitle: Handel\ndate: 2026-01-01\ntargets: [17.10, 17.1]\n---\nText\n",
        encoding="utf-8",
    )
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.targets == ("17.1", "17.10")


def test_yaml_words_are_not_reinterpreted(content_dir, settings):
    (content_dir / "no.md").write_text(
        "---\nid: tag:t,2026:no\ntitle: no\ndate: 2026-01-01\ntags: [yes, on, 1.0]\n---\nText\n",
        encoding="utf-8",
    )
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.title == "no"
    assert update.tags == ("yes", "on", "1.0")


def test_every_problem_is_listed_with_file_and_line(write_update, content_dir, settings):
    write_update("utan-titel", title=None)
    write_update("fel-datum", date="14 mars 2026")
    write_update("fel-delmal", targets=["17.9", "17.20"])
    write_update("bild-utan-alt", image="media/x.png")
    (content_dir / "trasig.md").write_text("---\ntitle: [oj\n---\n", encoding="utf-8")
    problems = errors_of(content_dir, settings)
    text = "\n".join(problems)
    assert "utan-titel.md:1: error: missing required 'title'" in text
    assert "fel-datum.md:4: error: 'date': not an ISO 8601 date: '14 mars 2026'" in text
    assert "fel-delmal.md:5: error: unknown goal-17 target '17.20'" in text
    assert "bild-utan-alt.md:5: error: 'image' needs 'image_alt'" in text
    assert any(p.startswith("trasig.md:") and "invalid YAML" in p for p in problems)
    assert len({p.split(":")[0] for p in problems}) == 5


def test_missing_id_suggests_a_fresh_one(write_update, content_dir, settings):
    write_update("utan-id", id=None)
    (problem,) = errors_of(content_dir, settings)
    assert "missing 'id'" in problem and "tag:mal17.example.se," in problem


def test_duplicate_ids_and_slugs_name_both_files(write_update, content_dir, settings):
    write_update("a", id="tag:t,2026:same")
    write_update("b", id="tag:t,2026:same")
    write_update("c", slug="a")
    problems = "\n".join(errors_of(content_dir, settings))
    assert "a.md:1: error: duplicate id 'tag:t,2026:same': also used by b.md" in problems
    assert "b.md:1: error: duplicate id" in problems
    assert "duplicate slug 'a'" in problems


def test_non_utf8_file_names_the_line(content_dir, settings):
    (content_dir / "latin1.md").write_bytes(
        b"---\nid: tag:t,2026:l\ntitle: Hej\n\ndate: 2026-01-01\n---\nK\xf6ping\n"
    )
    (problem,) = errors_of(content_dir, settings)
    assert problem.startswith("latin1.md:7: error: not valid UTF-8")


def test_bom_and_crlf_are_accepted(content_dir, settings):
    text = "---\r\nid: tag:t,2026:bom\r\ntitle: Med BOM\r\ndate: 2026-01-01\r\n---\r\nHej\r\n\r\nDå\r\n"
    (content_dir / "bom.md").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.title == "Med BOM"
    assert "\r" not in update.html and update.summary == "Hej"


def test_unknown_key_is_a_warning_not_an_error(write_update, content_dir, settings):
    write_update("x", categori="fel")
    result = read_content(content_dir, settings, NOW)
    assert len(result.updates) == 1
    assert [str(w) for w in result.warnings] == [
        "x.md:5: warning: unknown front-matter key 'categori' (ignored)"
    ]


def test_drafts_and_future_updates_are_not_published(write_update, content_dir, settings):
    write_update("publicerad", date="2026-11-27T11:59")
    write_update("utkast", draft=True)
    write_update("framtida", date="2026-11-27T12:01")
    result = read_content(content_dir, settings, NOW)
    assert [u.slug for u in result.updates] == ["publicerad"]
    assert result.drafts == 1 and [s for _, s in result.scheduled] == ["framtida.md"]
    later = read_content(content_dir, settings, datetime.fromisoformat("2026-11-27T12:02+01:00"))
    assert [u.slug for u in later.updates] == ["framtida", "publicerad"]


def test_draft_must_be_true_or_false(write_update, content_dir, settings):
    write_update("x", draft="ja")
    (problem,) = errors_of(content_dir, settings)
    assert "'draft' must be true or false" in problem


def test_dates_with_offsets_and_utc(write_update, content_dir, settings):
    write_update("z", date="2026-03-29T01:30:00Z", updated="2026-03-30T08:00:00+02:00")
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.date.isoformat() == "2026-03-29T01:30:00+00:00"
    assert update.updated.isoformat() == "2026-03-30T08:00:00+02:00"


def test_updated_before_date_is_an_error(write_update, content_dir, settings):
    write_update("x", date="2026-05-02", updated="2026-05-01")
    assert "'updated' is earlier than 'date'" in errors_of(content_dir, settings)[0]


def test_slug_from_swedish_file_name_and_explicit_slug(write_update, content_dir, settings):
    write_update("Östersund-och-Malmö", id="tag:t,2026:o")
    write_update("annat", slug="Vår Slug!", id="tag:t,2026:s")
    slugs = sorted(u.slug for u in read_content(content_dir, settings, NOW).updates)
    assert slugs == ["ostersund-och-malmo", "var-slug"]


def test_summary_is_cut_at_a_word_boundary(write_update, content_dir, settings):
    write_update("lang", body=("ordet " * 120) + "\n")
    (update,) = read_content(content_dir, settings, NOW).updates
    assert len(update.summary) <= 300 and update.summary.endswith("ordet…")


def test_order_is_newest_first_with_id_tie_break(write_update, content_dir, settings):
    write_update("b", id="tag:t,2026:b", date="2026-05-01T10:00")
    write_update("a", id="tag:t,2026:a", date="2026-05-01T10:00")
    write_update("c", id="tag:t,2026:c", date="2026-06-01T10:00")
    assert [u.slug for u in read_content(content_dir, settings, NOW).updates] == ["c", "a", "b"]


def test_language_must_be_sv_or_en(write_update, content_dir, settings):
    write_update("x", lang="de")
    assert "'lang' must be one of sv, en" in errors_of(content_dir, settings)[0]


def test_image_with_local_file_gets_size_and_type(write_update, content_dir, settings):
    (content_dir / "media").mkdir()
    (content_dir / "media" / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 92)
    write_update("x", image="media/bild.png", image_alt="Ett diagram")
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.image.url == "https://mal17.example.se/media/bild.png"
    assert (update.image.length, update.image.media_type, update.image.alt) == (
        100,
        "image/png",
        "Ett diagram",
    )


def test_missing_image_file_is_an_error(write_update, content_dir, settings):
    write_update("x", image="media/saknas.png", image_alt="Alt")
    assert "image file not found: media/saknas.png" in errors_of(content_dir, settings)[0]


def test_image_with_a_script_or_data_url_is_an_error(write_update, content_dir, settings):
    write_update("js", image='"javascript:alert(1)"', image_alt="Alt")
    write_update("data", image='"data:image/png;base64,AAAA"', image_alt="Alt")
    problems = errors_of(content_dir, settings)
    assert len(problems) == 2
    assert all("'image' must be a file in the content folder or an http(s) URL" in p for p in problems)

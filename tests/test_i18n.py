"""The catalogues hold every string the code and templates show, and readers get their language.

The message ids are extracted with Babel exactly as ``pybabel extract -F babel.cfg`` does, so a
sentence added to a template or to the code without a translation fails here, not in a reader's
inbox. The committed ``.mo`` files must be what ``pybabel compile`` makes of the ``.po`` files.
"""

from __future__ import annotations

import string
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import read_mo

from pipeline.locale import DOMAIN, LOCALE_DIR, translations
from tests.catalogue_checks import extracted_ids, read_catalogue, untranslated

ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = ZoneInfo("Europe/Stockholm")
LANGS = ("sv", "en")


def extracted(root: Path = ROOT) -> dict[str, str]:
    return extracted_ids(root, None)


def catalogue(lang: str):
    return read_catalogue(DOMAIN, lang)


def missing(used: dict[str, str], lang: str) -> list[str]:
    return untranslated(used, catalogue(lang))


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("lang", LANGS)
def test_every_string_in_the_code_and_templates_is_in_the_catalogue(lang):
    used = extracted()
    assert len(used) > 100  # the extraction found the templates and the code
    assert missing(used, lang) == [], f"run pybabel update (docs/translating.md) and translate: {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogues_hold_no_stale_messages_and_keep_the_fields(lang):
    used = extracted()
    for message in catalogue(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert ids[0] in used, f"{ids[0]!r} is no longer used: run pybabel update"
        for text in strings:  # {site}, {days}, … must survive translation, or .format() fails
            assert _fields(text) == _fields(ids[0]), (lang, ids[0], text)


def test_a_new_sentence_without_translation_is_found(tmp_path):
    """The check above can fail: a template sentence that no catalogue has is reported."""
    (tmp_path / "templates" / "pages").mkdir(parents=True)
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "templates" / "pages" / "new.html").write_text('<p>{{ _("En helt ny mening.") }}</p>\n')
    (tmp_path / "pipeline" / "new.py").write_text('print(_("Publicerad"), gettext("Ännu en ny mening."))\n')
    used = extracted(tmp_path)
    assert set(used) == {"En helt ny mening.", "Publicerad", "Ännu en ny mening."}
    for lang in LANGS:
        assert [p.split(" (")[0] for p in missing(used, lang)] == [
            "'En helt ny mening.'",
            "'Ännu en ny mening.'",
        ]


@pytest.mark.parametrize("lang", LANGS)
def test_committed_mo_files_are_compiled_from_the_po_files(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as mo:
        compiled = {_plain(m.id): _plain(m.string) for m in read_mo(mo) if m.id}
    source = {_plain(m.id): _plain(m.string) for m in catalogue(lang) if m.id and not m.fuzzy}
    assert compiled == source, "run: pybabel compile -D goal17 -d pipeline/locale"


def _plain(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def test_english_translates_and_swedish_is_the_source():
    assert translations("en").gettext("Publicerad") == "Published"
    assert translations("sv").gettext("Publicerad") == "Publicerad"
    assert translations("de").gettext("Publicerad") == "Publicerad"  # no catalogue: the source text
    assert translations("sv").ngettext("{n} nyhet", "{n} nyheter", 1) == "{n} nyhet"
    assert translations("en").ngettext("{n} nyhet", "{n} nyheter", 3) == "{n} updates"


@pytest.mark.parametrize(
    ("moment", "lang", "shown"),
    [
        ("2026-12-01T09:00:00+01:00", "sv", "1 december 2026"),
        ("2026-12-01T09:00:00+01:00", "en", "1 December 2026"),
        ("2026-03-31T23:30:00+00:00", "sv", "1 april 2026"),  # the day in Stockholm, not in UTC
        ("2026-05-14T12:00:00+02:00", "sv", "14 maj 2026"),
        ("2026-05-14T12:00:00+02:00", "en", "14 May 2026"),
    ],
)
def test_display_dates_come_from_cldr_in_the_readers_language(moment, lang, shown):
    from pipeline.reading.dates import display_date

    assert display_date(datetime.fromisoformat(moment), lang, STOCKHOLM) == shown


def test_numbers_and_lists_in_the_readers_language():
    from pipeline.outputs.labels import format_list, format_number

    assert format_number(12345, "sv") == "12\u00a0345" and format_number(12345, "en") == "12,345"
    assert format_list(["17.9", "17.16", "17.17"], "sv") == "17.9, 17.16 och 17.17"
    assert format_list(["17.9", "17.16"], "en") == "17.9 and 17.16"
    assert format_list(["17.9"], "en") == "17.9" and format_list([], "sv") == ""


def test_templates_translate_into_the_language_of_the_render():
    from pipeline.outputs.templating import environment

    env = environment()
    source = '{{ _("Publicerad") }} · {{ ngettext("{n} vald", "{n} valda", n).format(n=n) }}'
    assert env.from_string(source).render(lang="sv", n=1) == "Publicerad · 1 vald"
    assert env.from_string(source).render(lang="en", n=2) == "Published · 2 chosen"
    # a translated sentence is markup-safe, its fields are still escaped
    field = env.from_string('{{ _("Prenumeration för {email}.").format(email=e) }}')
    assert field.render(lang="en", e="<b>@x") == "Subscription for &lt;b&gt;@x."


def test_no_hand_written_month_names_or_string_tables_remain():
    import re

    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "pipeline").rglob("*.py"))
    for word in ("januari", "februari", '"December"', "_PHRASES", "_FOLDERS", "LANGUAGE_NAMES"):
        assert word not in code, word
    assert not re.search(r"\b(LABELS|WORDS|TEXTS)\b\s*[:=]", code)
    embed = (ROOT / "templates" / "snippets" / "embed.js").read_text(encoding="utf-8")
    assert "Alla nyheter" not in embed and "All updates" not in embed  # its words come from the catalogues


def test_the_embed_script_gets_its_words_from_the_catalogues():
    from pipeline.outputs.snippets.embed import WORDS_MARK, embed_script

    script = embed_script().decode("utf-8")
    assert WORDS_MARK not in script
    assert '"goT":"Go to the news on target {id}"' in script and '"more":"Alla nyheter"' in script
    assert '"date":"sv-SE"' in script and '"date":"en-GB"' in script

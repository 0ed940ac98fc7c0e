"""The CLI's messages for authors are in the ``goal17-cli`` catalogues, in the terminal's language.

The message ids are extracted as ``pybabel extract --no-default-keywords -k tr`` does
(docs/translating.md), so a message added to the code without a Swedish translation fails here;
a message written as a bare string or f-string where an author sees it fails the source check.
"""

from __future__ import annotations

import ast
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo

from pipeline.caching.content_cache import read_cached
from pipeline.locale import LOCALE_DIR
from pipeline.locale.cli import CLI_DOMAIN, LANGUAGE_VARIABLES, cli_language, tr
from tests.catalogue_checks import extracted_ids, read_catalogue, untranslated
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("sv", "en")
KEYWORDS = {"tr": None}
# Where an author meets a message: these calls' text arguments must come from tr().
MESSAGE_CALLS = {
    "Problem",
    "problem",
    "FrontMatterError",
    "UnsafeFile",
    "Refused",
    "AuthoringError",
    "DateError",
    "ContentError",
    "CommandFailed",
    "Progress",
    "print",
}
# The severity is part of the untranslated ``path:line: error:`` prefix that tools parse.
SEVERITIES = {"error", "warning"}
AUTHOR_FACING = [
    *sorted((ROOT / "pipeline" / "reading").glob("*.py")),
    *(ROOT / "pipeline" / "commands" / f"{name}.py" for name in ("build", "check", "new", "serve")),
]


def extracted(root: Path = ROOT) -> dict[str, str]:
    return extracted_ids(root, KEYWORDS)


def catalogue(lang: str):
    return read_catalogue(CLI_DOMAIN, lang)


def missing(used: dict[str, str], lang: str) -> list[str]:
    return untranslated(used, catalogue(lang))


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("lang", LANGS)
def test_every_cli_message_is_translated(lang):
    used = extracted()
    assert len(used) > 80  # the extraction found reading/ and the commands
    assert missing(used, lang) == [], f"run pybabel update -D {CLI_DOMAIN} (docs/translating.md): {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_cli_catalogues_hold_no_stale_messages_and_keep_the_fields(lang):
    used = extracted()
    for message in catalogue(lang):
        if not message.id:
            continue
        assert message.id in used, f"{message.id!r} is no longer used: run pybabel update"
        assert _fields(message.string) == _fields(message.id), (lang, message.id, message.string)
        if lang == "en":  # English is the source: its catalogue repeats every message
            assert message.string == message.id


def test_swedish_translates_the_messages_that_have_words():
    cat = catalogue("sv")
    same = [m.id for m in cat if m.id and m.string == m.id]
    assert all(not re.search("[a-z]{3}", re.sub(r"\{[^}]*\}", "", text)) for text in same), same


@pytest.mark.parametrize("lang", LANGS)
def test_committed_cli_mo_files_are_compiled_from_the_po_files(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{CLI_DOMAIN}.mo", "rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    source = {m.id: m.string for m in catalogue(lang) if m.id and not m.fuzzy}
    assert compiled == source, f"run: pybabel compile -D {CLI_DOMAIN} -d pipeline/locale"


def test_a_new_cli_message_without_translation_is_found(tmp_path):
    """The completeness check can fail: a new tr() message no catalogue has is reported."""
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "new.py").write_text(
        'tr("content folder not found")\ntr("a brand new message about {path}", path=p)\n_("Publicerad")\n'
    )
    used = extracted(tmp_path)
    assert set(used) == {"content folder not found", "a brand new message about {path}"}  # not _()
    for lang in LANGS:
        assert [p.split(" (")[0] for p in missing(used, lang)] == ["'a brand new message about {path}'"]


def _untranslated(tree: ast.AST) -> list[int]:
    """Lines where a message call gets words that did not go through tr()."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in MESSAGE_CALLS:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            parts = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
            words = [p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)]
            words = [text for text in words if text not in SEVERITIES]
            if any(re.search("[A-Za-z]{2}", text) for text in words):
                lines.append(node.lineno)
    return lines


def test_author_facing_messages_all_go_through_the_catalogue():
    found = {
        path.relative_to(ROOT).as_posix(): lines
        for path in AUTHOR_FACING
        if (lines := _untranslated(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}, "wrap these messages in tr() (pipeline/locale/cli.py)"
    # the check can fail: a bare or f-string message is caught, a severity is not a message
    source = 'problem(1, f"unknown key {key}")\nraise CommandFailed("bad")\nproblem(1, tr("x"), "warning")'
    assert _untranslated(ast.parse(source)) == [1, 2]


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "sv_SE.UTF-8"}, "sv"),
        ({"LANG": "C.UTF-8"}, "en"),  # Python's gettext reads C.UTF-8 as en_US.UTF-8
        ({"LANG": "C"}, ""),
        ({}, ""),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, ""),  # no catalogue: the English in the code
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "sv_SE.UTF-8"}, "sv"),
        ({"LC_MESSAGES": "sv_SE.UTF-8", "LC_ALL": "C"}, ""),
        ({"LANG": "sv_SE.UTF-8", "LANGUAGE": "de:en"}, "en"),
    ],
)
def test_the_language_follows_the_gettext_variables(monkeypatch, environment, language):
    for name in LANGUAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert cli_language() == language
    shown = tr("link to a missing file: {path}", path="a.pdf")
    assert shown == (
        "länk till en fil som saknas: a.pdf" if language == "sv" else "link to a missing file: a.pdf"
    )


def test_a_cached_warning_is_shown_in_the_language_of_the_run(
    monkeypatch, write_update, content_dir, settings
):
    """The content cache keeps warnings as text, so a Swedish run must not reuse an English one."""
    write_update("one", colour="blue")
    for name in LANGUAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    english = read_cached(content_dir, settings, NOW).warnings
    monkeypatch.setenv("LANG", "sv_SE.UTF-8")
    swedish = read_cached(content_dir, settings, NOW).warnings
    monkeypatch.setenv("LANG", "C.UTF-8")
    again = read_cached(content_dir, settings, NOW).warnings
    assert [str(p) for p in english] == ["one.md:5: warning: unknown front-matter key 'colour' (ignored)"]
    assert [str(p) for p in swedish] == [
        "one.md:5: warning: okänd nyckel 'colour' i filhuvudet (hoppas över)"
    ]
    assert again == english


def _check(content: Path, **language: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in LANGUAGE_VARIABLES} | language
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "check", "--content", str(content), "--now", "2026-11-27T12:00"],
        cwd=content.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_in_a_swedish_terminal_prints_swedish_with_the_same_locations(write_update, content_dir):
    write_update("broken", targets=["17.99"], lang="fi")
    write_update("fine", colour="blue")
    swedish = _check(content_dir, LANG="sv_SE.UTF-8")
    english = _check(content_dir, LANG="C.UTF-8")
    assert swedish.returncode == english.returncode == 1, swedish.stderr
    assert "Traceback" not in swedish.stderr + english.stderr
    assert "broken.md:6: error: 'lang' måste vara en av sv, en, inte 'fi'" in swedish.stderr
    assert "broken.md:5: error: okänt delmål '17.99' i mål 17" in swedish.stderr
    assert "fine.md:5: warning: okänd nyckel 'colour' i filhuvudet (hoppas över)" in swedish.stderr
    assert "error: 2 problem i 1 fil(er)" in swedish.stderr
    assert "broken.md:6: error: 'lang' must be one of sv, en, got 'fi'" in english.stderr
    assert "error: 2 problem(s) in 1 file(s)" in english.stderr

    def locations(text: str) -> list[str]:
        return re.findall(r"^(\S+:\d+: (?:error|warning)):", text, re.MULTILINE)

    assert locations(swedish.stderr) == locations(english.stderr) and len(locations(english.stderr)) >= 2


def test_check_summary_in_swedish(write_update, content_dir):
    write_update("fine")
    result = _check(content_dir, LANG="sv_SE.UTF-8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 publicerade, 0 schemalagda, 0 utkast, 0 varningar"

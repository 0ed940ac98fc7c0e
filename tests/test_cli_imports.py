"""What a build imports: only what that run uses (issue #16, the start-up half of every build).

Each run is a real ``python -m pipeline build`` in its own interpreter (a tiny wrapper calls
:func:`pipeline.cli.main`, then writes ``sorted(sys.modules)`` to a file), on a small corpus
with a real state folder: a build skipped because nothing changed must not import the rendering
side, an edit build must not import the general paths its file does not need, and a file that
does need them (front matter the fast reader declines, Markdown the fast path declines, HTML
the fast cleaner declines) must build exactly as an in-process build, libraries imported on demand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import edit_one, write_corpus
from pipeline.cli import main
from pipeline.reading.frontmatter_fast import _UNUSUAL
from tests.conftest import REPO

NOW = "2026-11-27T12:00:00+01:00"
CORPUS = 12
# Runs the CLI like `python -m pipeline ARGS`, then lists the modules it imported.
WRAPPER = """
import sys
from pipeline import cli
code = cli.main(sys.argv[2:])
with open(sys.argv[1], "w", encoding="utf-8") as listing:
    listing.write("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""
# Not one of these is needed to find that nothing changed.
NOT_WHEN_SKIPPED = {
    "jinja2",
    "markdown",
    "pygments",
    "yaml",
    "nh3",
    "lxml",
    "feedgen",
    "dateutil",
    "babel",
    "importlib.metadata",
    "email.utils",
    "multiprocessing",
    "sqlite3",
    "pipeline.caching.content_cache",
    "pipeline.caching.render_cache",
    "pipeline.outputs.templating",
    "pipeline.outputs.pages",
    "pipeline.outputs.feeds",
    "pipeline.publishing.effects",
    "pipeline.reading.frontmatter",
}
# The general paths and the modules only other commands or effects use: an edit of an update
# the fast paths take needs none of them.
NOT_FOR_AN_EDIT = {
    "yaml",
    "pipeline.reading.markdown_prefilter",
    "markdown.extensions.tables",  # Python-Markdown's converter was never made
    "markdown.extensions.footnotes",
    "markdown",  # nor the library at all: the fast path carries the few helpers it needs
    "markdown.extensions.toc",
    "markdown.extensions.fenced_code",
    "pygments",  # which fenced_code's codehilite imports
    "importlib.metadata",
    "sqlite3",
    "pipeline.stores.sqlite.websub_pending",
    "pipeline.stores.backend",
}
GENERAL_PATHS = {"yaml", "pipeline.reading.markdown_prefilter", "markdown.extensions.footnotes"}

# Front matter with a comment and a block scalar (the fast reader declines both), a body with
# a footnote and raw HTML (the fast Markdown path and the fast cleaner decline them).
GENERAL_UPDATE = """---
id: "tag:mal17.example.se,2026-11-25:0a1b2c3d4e5f"
title: "Allmänna vägen"  # a YAML comment
date: 2026-11-25
targets: ["17.17"]
summary: |
  En sammanfattning
  på två rader.
---

Ett stycke med en fotnot[^1] och <abbr title="Förenta nationerna">FN</abbr> i texten.

<div class="ruta"><p>Rå <span style="color:red">HTML</span>.</p></div>

[^1]: Fotnotens text.
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small bench corpus and a settings file with its own state folder."""
    write_corpus(tmp_path / "content", CORPUS)
    (tmp_path / "site.toml").write_text(f'[site]\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    return tmp_path


def run_cli(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """``python -m pipeline ARGS`` in a fresh interpreter; its result and every module it imported."""
    listing = folder / "modules.txt"
    listing.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("GOAL17_CONFIG", "GOAL17_DATABASE_URL")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(listing), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    modules = set(listing.read_text(encoding="utf-8").split("\n")) if listing.exists() else set()
    return done, modules


def build(folder: Path, *extra: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    return run_cli(
        folder, "build", "--config", "site.toml", "--content", "content", "--out", "out", "--now", NOW, *extra
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_build_with_nothing_changed_imports_no_rendering_side(site):
    first, modules = build(site)
    assert first.returncode == 0, first.stderr
    assert GENERAL_PATHS.isdisjoint(modules)  # the bench corpus is all fast-path material
    again, modules = build(site)
    assert again.returncode == 0, again.stderr
    assert "nothing changed since the last build" in again.stdout
    assert "pipeline.publishing.site_build" in modules  # the listing is the build's own
    assert sorted(NOT_WHEN_SKIPPED & modules) == []


def test_an_edit_build_imports_no_general_path_and_no_other_commands_modules(site):
    assert build(site)[0].returncode == 0
    edit_one(site / "content", CORPUS)
    edited, modules = build(site)
    assert edited.returncode == 0, edited.stderr
    assert "files written" in edited.stdout and ", 0 files written" not in edited.stdout
    assert "pipeline.reading.content" in modules and "jinja2" in modules  # it did render
    assert sorted(NOT_FOR_AN_EDIT & modules) == []


def test_an_update_that_needs_the_general_paths_builds_as_in_process(site, tmp_path):
    assert build(site)[0].returncode == 0
    (site / "content" / "allmanna-vagen.md").write_text(GENERAL_UPDATE, encoding="utf-8")
    done, modules = build(site)
    assert done.returncode == 0, done.stderr
    assert sorted(GENERAL_PATHS - modules) == []  # imported on demand, by the paths that need them
    page = files(site / "out")
    html = next(data for path, data in page.items() if "allmanna-vagen" in path and path.endswith(".html"))
    assert b"footnote" in html and b"Fotnotens text" in html
    # The same content built in this process (every module imported up front) makes the same bytes.
    (tmp_path / "inproc.toml").write_text(f'[site]\nstate_dir = "{tmp_path / "state2"}"\n', encoding="utf-8")
    argv = ["build", "--config", str(tmp_path / "inproc.toml"), "--content", str(site / "content")]
    assert main([*argv, "--out", str(tmp_path / "inproc"), "--now", NOW, "-q"]) == 0
    assert files(tmp_path / "inproc") == page


def test_a_template_error_is_still_one_line_when_jinja_is_imported_late(site):
    templates = site / "templates"
    subprocess.run(["cp", "-rL", str(REPO / "templates"), str(templates)], check=True)
    broken = next(p for p in sorted(templates.rglob("*.html")) if "pages" in p.parts)
    broken.write_text("{% if %}\n", encoding="utf-8")
    settings = f'[site]\nstate_dir = "{site / "state"}"\ntemplates_dir = "{templates}"\n'
    (site / "site.toml").write_text(settings, encoding="utf-8")
    done, modules = build(site)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: template error: "), done.stderr
    assert "jinja2" in modules


def test_a_damaged_state_database_is_still_one_line_when_sqlite_is_imported_late(tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "state.sqlite3").write_bytes(b"not a database, " * 400)
    (tmp_path / "site.toml").write_text(f'[site]\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    done, modules = run_cli(tmp_path, "subscribers", "list", "--config", "site.toml")
    assert done.returncode == 1
    assert done.stderr == "error: state database: file is not a database\n"
    assert "sqlite3" in modules


def test_the_fast_front_matter_readers_unusual_characters_are_the_same_set_as_before():
    """``_UNUSUAL`` is written as the characters it matches (cheap to compile at import) instead
    of as the negation of those it allows: the same set, for every code point."""
    allowed = re.compile(
        "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    )
    differ = [
        c for c in range(sys.maxunicode + 1) if bool(allowed.match(chr(c))) != bool(_UNUSUAL.match(chr(c)))
    ]
    assert differ == []


# Building the next issue renders and publishes it; it never signs or checks an address.
NOT_FOR_A_NEWSLETTER = {"dkim", "cryptography", "dns", "email_validator", "pipeline.delivery.dkim"}


def test_building_a_newsletter_issue_imports_neither_dkim_nor_the_address_checker(site):
    done, modules = run_cli(
        site, "newsletter", "--config", "site.toml", "--content", "content", "--out", "out", "--now", NOW
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert any((site / "out" / "newsletters").rglob("index.html")), done.stdout
    assert sorted(NOT_FOR_A_NEWSLETTER & modules) == []
    assert "pipeline.outputs.newsletter.render" in modules  # it did build the issue


# What only making a feed document in the general way (feedgen's shell, lxml's OPML) or a
# sign-up form needs: an edit whose feeds have plain words needs none of it.
NOT_FOR_AN_EDITS_OUTPUTS = {"feedgen", "lxml", "dateutil", "pipeline.web.texts"}


def test_an_edit_build_makes_its_feeds_without_feedgen_unless_their_words_need_it(site, tmp_path):
    assert build(site)[0].returncode == 0
    edit_one(site / "content", CORPUS)
    edited, modules = build(site)
    assert edited.returncode == 0, edited.stderr
    assert "pipeline.outputs.feeds.rss_atom" in modules  # it made feed documents
    assert sorted(NOT_FOR_AN_EDITS_OUTPUTS & modules) == []
    # A title that looks like markup: Atom's shell is feedgen's again, imported on demand, and
    # the whole site is what a build in this process (everything imported up front) makes.
    settings = f'[site]\nstate_dir = "{site / "state"}"\ntitle = "Mål <b>17</b> &amp; mer"\n'
    (site / "site.toml").write_text(settings, encoding="utf-8")
    done, modules = build(site)
    assert done.returncode == 0, done.stderr
    assert {"feedgen", "lxml"} <= modules
    (tmp_path / "inproc.toml").write_text(settings.replace(str(site / "state"), str(tmp_path / "s2")))
    argv = ["build", "--config", str(tmp_path / "inproc.toml"), "--content", str(site / "content")]
    assert main([*argv, "--out", str(tmp_path / "inproc"), "--now", NOW, "-q"]) == 0
    assert files(tmp_path / "inproc") == files(site / "out")

"""Cached rebuilds publish exactly what a cold build would, after edits to content, templates, settings.

Each check builds twice into separate folders: once reusing the state folder (render cache) of
earlier builds, once cold (fresh state folder, ``--no-cache``), and compares every output byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import corpus
from pipeline.cli import main
from pipeline.config.site import TEMPLATES_DIR

NOW = corpus.BENCH_NOW
SIZE = 60  # above the pool threshold, so the cold build renders in the process pool


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class Site:
    def __init__(self, root: Path, size: int = SIZE):
        self.root = root
        self.content = corpus.write_corpus(root / "content", size)
        self.state = root / "state"
        self.config = root / "site.toml"
        self.configure()
        self.builds = 0

    def configure(self, **site: str) -> None:
        lines = ["[site]", f'state_dir = "{self.state}"'] + [f'{k} = "{v}"' for k, v in site.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def args(self, out: Path) -> list[str]:
        """The build command's arguments for this site into ``out`` (no clock, no flags)."""
        return ["build", "--config", str(self.config), "--content", str(self.content), "--out", str(out)]

    def build(self, out: Path, *extra: str, now: str = NOW) -> dict[str, bytes]:
        assert main([*self.args(out), "--now", now, "--quiet", *extra]) == 0
        return tree(out)

    def cached_equals_cold(self, now: str = NOW) -> dict[str, bytes]:
        """Rebuild with the cache into the site's usual folder; a cold build elsewhere must match."""
        cached = self.build(self.root / "out", now=now)
        cold_state = self.root / "cold-state"
        shutil.rmtree(cold_state, ignore_errors=True)
        shutil.rmtree(self.root / "cold-out", ignore_errors=True)
        config_text = self.config.read_text(encoding="utf-8")
        self.config.write_text(config_text.replace(str(self.state), str(cold_state)), encoding="utf-8")
        try:
            cold = self.build(self.root / "cold-out", "--no-cache", now=now)
        finally:
            self.config.write_text(config_text, encoding="utf-8")
        assert not cold_state.exists() or not any(cold_state.rglob("markdown-*/shard-*.pickle"))
        assert sorted(cached) == sorted(cold)
        different = [path for path in cached if cached[path] != cold[path]]
        assert different == []
        return cached


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    site.build(tmp_path / "out")  # fills the cache
    assert any(site.state.rglob("markdown-*/shard-*.pickle"))
    return site


def test_rebuild_with_nothing_changed_matches_cold(site):
    site.cached_equals_cold()


def test_edited_and_added_updates(site):
    edited = corpus.edit_one(site.content, SIZE)
    files = site.cached_equals_cold()
    slug = edited.stem
    assert "Rättelse" in files[f"updates/{slug}/index.html"].decode()
    added = corpus.add_one(site.content, SIZE)
    files = site.cached_equals_cold()
    assert f"updates/{added.stem}/index.html" in files


def test_renamed_link_target_changes_the_linking_page(site):
    """Raw Markdown is cached with its relative links; where they point is resolved per build."""
    text = (site.content / f"{corpus.slug_of(0)}.md").read_text(encoding="utf-8")
    linked = next(corpus.slug_of(i) for i in range(SIZE) if f"({corpus.slug_of(i)}.md)" in text)
    source = (site.content / f"{linked}.md").read_text(encoding="utf-8")
    (site.content / f"{linked}.md").write_text(source.replace("---\n", f"---\nslug: ny-{linked}\n", 1))
    files = site.cached_equals_cold()
    assert f'href="../ny-{linked}/"'.encode() in files[f"updates/{corpus.slug_of(0)}/index.html"]  # relative


def test_settings_edits(site):
    site.configure(base_url="https://annan.example.org/mal17/", title="Ny titel")
    files = site.cached_equals_cold()
    page = files[f"updates/{corpus.slug_of(3)}/index.html"].decode()
    assert "https://annan.example.org/mal17/updates/" in page and "Ny titel" in page
    assert "https://mal17.example.se/" not in page


def test_template_edits(site, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    site.configure(templates_dir=str(templates))
    page_template = templates / "pages" / "update.html"
    page_template.write_text(
        page_template.read_text(encoding="utf-8").replace("<article", "<article data-edited"),
        encoding="utf-8",
    )
    files = site.cached_equals_cold()
    assert b"<article data-edited" in files[f"updates/{corpus.slug_of(1)}/index.html"]

"""Issue 12: each newsletter edition is rendered once — by the build of a new issue and by a preview.

The size check renders each language's message edition; the archive's sample message and the
preview reuse it instead of rendering it again. Counted at the template step itself
(``render.render_html``), which every edition goes through.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from pipeline.config.site import load_settings
from pipeline.outputs.newsletter import render
from pipeline.publishing.issue_build import build_issue
from pipeline.publishing.issue_preview import preview_issue
from tests.conftest import NOW
from tests.newsletter_helpers import write_settings


def count_renders(monkeypatch) -> Counter:
    renders: Counter = Counter()
    real = render.render_html

    def counting(ctx, env):
        renders[(ctx["web_url"], ctx["personal"])] += 1
        return real(ctx, env)

    monkeypatch.setattr(render, "render_html", counting)
    return renders


def test_building_a_new_issue_renders_each_of_its_editions_once(
    tmp_path: Path, content_dir: Path, write_update, monkeypatch
) -> None:
    settings = load_settings(write_settings(tmp_path))
    out = tmp_path / "out"
    write_update("ett", date=(NOW - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"])
    assert build_issue(content_dir, out, settings, NOW - timedelta(days=7)).issue is not None
    write_update("tva", date=(NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"])
    renders = count_renders(monkeypatch)
    outcome = build_issue(content_dir, out, settings, NOW)
    assert outcome.issue is not None and outcome.issue.number == 2
    web = {settings.url("newsletters/2/"), settings.url("newsletters/2/en/")}
    # Two languages × (the message edition, the web edition); issue 1 is not rendered at all.
    assert renders == Counter({(url, personal): 1 for url in web for personal in (True, False)})
    assert (out / "newsletters" / "2" / "message.eml").is_file()


def test_a_preview_renders_each_language_once(
    tmp_path: Path, content_dir: Path, write_update, monkeypatch
) -> None:
    settings = load_settings(write_settings(tmp_path))
    write_update("ett", date=(NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"])
    renders = count_renders(monkeypatch)
    preview = preview_issue(content_dir, settings, NOW)
    assert preview.issue.number == 1 and not preview.existing
    assert renders == Counter(
        {(settings.url("newsletters/1/"), True): 1, (settings.url("newsletters/1/en/"), True): 1}
    )
    page = preview.path.read_text(encoding="utf-8")
    assert settings.newsletter.example_recipient in page and preview.path.with_suffix(".txt").is_file()

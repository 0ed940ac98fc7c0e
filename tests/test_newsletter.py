"""Newsletter issues: choosing updates, rendering (MJML → HTML, text), size, accessibility, archive."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser
import lxml.html
import pytest

from pipeline.cli import main
from pipeline.config.mail import newsletter_config
from pipeline.config.site import load_settings
from pipeline.delivery.issues import IssueStore
from pipeline.outputs.newsletter.render import SLOTS, RenderError, render_edition
from pipeline.outputs.templating import environment
from pipeline.publishing.issue_build import build_issue
from pipeline.publishing.site_build import run_build
from pipeline.reading.content import read_content
from pipeline.stores.backend import open_backend
from tests.conftest import NOW, REPO
from tests.newsletter_helpers import write_settings, write_updates
from tests.state_db import connect


def newsletter(config: Path, content: Path, out: Path, now: str, *extra: str) -> int:
    return main(
        [
            "newsletter",
            "--config",
            str(config),
            "--content",
            str(content),
            "--out",
            str(out),
            "--now",
            now,
            *extra,
        ]
    )


def issue_ids(config: Path) -> dict[int, list[str]]:
    """What the configured backend recorded (GOAL17_DATABASE_URL when the test set it)."""
    with open_backend(load_settings(config)).issues() as store:
        return {issue.number: [item.id for item in issue.items] for issue in store.all()}


def test_issues_take_each_update_once(
    tmp_path: Path, content_dir: Path, write_update, capsys, state_backend
) -> None:
    config = write_settings(tmp_path)
    out = tmp_path / "out"
    write_update("old", date="2026-10-20T09:00")  # 38 days before NOW: outside the first issue
    write_update("recent", date="2026-11-20T09:00", targets=["17.9"])
    write_update("newest", date="2026-11-26T09:00", targets=["17.1"])
    write_update("draft", date="2026-11-26T10:00", draft=True)
    assert newsletter(config, content_dir, out, "2026-11-27T12:00") == 0
    assert "built issue 1 with 2 update(s)" in capsys.readouterr().out
    assert issue_ids(config) == {1: ["tag:test.example,2026:newest", "tag:test.example,2026:recent"]}

    # nothing new: no issue, a clear message, exit 0
    assert newsletter(config, content_dir, out, "2026-11-28T12:00") == 0
    assert "no new updates since the previous issue" in capsys.readouterr().out
    assert list(issue_ids(config)) == [1]

    # a new update goes into issue 2; asking for a window that overlaps issue 1 adds nothing twice
    write_update("later", date="2026-12-01T09:00")
    assert newsletter(config, content_dir, out, "2026-12-04T12:00", "--since", "2026-10-01") == 0
    assert issue_ids(config)[2] == ["tag:test.example,2026:later", "tag:test.example,2026:old"]

    # --force builds an issue with nothing new
    assert newsletter(config, content_dir, out, "2026-12-05T12:00") == 0
    assert newsletter(config, content_dir, out, "2026-12-05T13:00", "--force") == 0
    assert issue_ids(config)[3] == []
    assert sorted(p.name for p in (out / "newsletters").iterdir()) == [
        "1",
        "2",
        "3",
        "atom.xml",
        "index.html",
    ]


def test_now_before_the_previous_window_is_an_error(
    tmp_path: Path, content_dir: Path, write_update, capsys, state_backend
) -> None:
    config = write_settings(tmp_path)
    write_update("one", date="2026-11-20T09:00")
    assert newsletter(config, content_dir, tmp_path / "out", "2026-11-27T12:00") == 0
    assert newsletter(config, content_dir, tmp_path / "out", "2026-11-26T12:00") == 1
    err = capsys.readouterr().err
    # both times in the site's zone (the window's end is stored in UTC), to the second
    assert (
        "the window would end (2026-11-26T12:00:00+01:00) before it starts (2026-11-27T12:00:00+01:00); "
        "issue 1 already covers up to 2026-11-27T12:00:00+01:00 (see it with --issue 1" in err
    ), err
    # A preview at that time says the same, and points at the issue that covers it.
    code = main(
        ["newsletter", "preview", "--config", str(config), "--content", str(content_dir)]
        + ["--out", str(tmp_path / "out"), "--now", "2026-11-26T12:00"]
    )
    assert code == 1 and "see it with --issue 1" in capsys.readouterr().err
    assert newsletter_preview_issue(config, content_dir, tmp_path / "out", 1) == 0


def newsletter_preview_issue(config: Path, content_dir: Path, out: Path, number: int) -> int:
    return main(
        ["newsletter", "preview", "--config", str(config), "--content", str(content_dir)]
        + ["--out", str(out), "--issue", str(number), "-q"]
    )


def test_archive_files_and_feed(tmp_path: Path, content_dir: Path, write_update) -> None:
    config = write_settings(tmp_path)
    out = tmp_path / "out"
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    write_update("two", date="2026-11-21T09:00", lang="en", targets=["17.17"])
    assert newsletter(config, content_dir, out, "2026-11-27T12:00") == 0
    folder = out / "newsletters" / "1"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "en/index.html",
        "en/index.txt",
        "index.html",
        "index.txt",
        "message.eml",
    ]
    web = (folder / "index.html").read_text(encoding="utf-8")
    # the web version carries nothing personal: no slots, no address, no token links
    for text in (web, (folder / "index.txt").read_text(encoding="utf-8")):
        assert "@@" not in text and "prenumerant@example.com" not in text and "/unsubscribe/" not in text
    assert 'lang="en"' in web  # the English update is marked in the Swedish edition
    assert "prenumerant@example.com" in (folder / "message.eml").read_text(encoding="ascii")
    index = lxml.html.fromstring((out / "newsletters" / "index.html").read_bytes())
    assert [a.get("href") for a in index.xpath("//ol/li/a[1]")] == ["https://mal17.example.se/newsletters/1/"]
    feed = feedparser.parse((out / "newsletters" / "atom.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 1
    assert feed.entries[0].link == "https://mal17.example.se/newsletters/1/"
    assert feed.entries[0].title.startswith("Mål 17 – nyheter vecka 48: ")
    # rebuilding from the stored snapshot gives the same bytes
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert newsletter(config, content_dir, out, "2026-11-28T12:00") == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_site_build_and_newsletter_keep_each_others_files(
    tmp_path: Path, content_dir: Path, write_update, settings
) -> None:
    out = tmp_path / "out"
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    run_build(content_dir, out, settings, NOW)
    site_files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    outcome = build_issue(content_dir, out, settings, NOW)
    assert outcome.issue is not None and outcome.issue.number == 1
    after = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert set(site_files) <= set(after) and "newsletters/1/index.html" in after
    run_build(content_dir, out, settings, NOW)
    assert (out / "newsletters" / "1" / "message.eml").exists()


def test_the_newsletter_reads_content_through_the_site_builds_caches(
    tmp_path: Path, content_dir: Path, write_update, settings, monkeypatch
) -> None:
    """An update the site build has rendered is neither parsed nor rendered again for the newsletter."""
    from pipeline.caching import render_cache
    from pipeline.reading import content

    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    write_update("två", date="2026-11-21T09:00")
    run_build(content_dir, tmp_path / "out", settings, NOW)
    calls: list[str] = []
    monkeypatch.setattr(render_cache, "render_markdown", lambda body: calls.append(body))
    monkeypatch.setattr(content, "parse_file", lambda *args: calls.append(str(args)))
    outcome = build_issue(content_dir, tmp_path / "out", settings, NOW)
    assert outcome.issue is not None and len(outcome.issue.items) == 2
    assert calls == []


def test_thirty_update_issue_stays_under_90_kb(
    tmp_path: Path, content_dir: Path, write_update, settings
) -> None:
    write_updates(write_update, 30, slug="kommunala-partnerskap-for-hallbar-utveckling-i-vastra-gotaland")
    outcome = build_issue(content_dir, tmp_path / "out", settings, NOW)
    assert outcome.issue is not None and len(outcome.issue.items) == 30
    assert outcome.warnings == []
    for lang, size in outcome.sizes.items():
        assert 30_000 < size <= 90 * 1024, (lang, size)


def test_size_warning_and_limit(tmp_path: Path, content_dir: Path, write_update, capsys) -> None:
    write_updates(write_update, 12)
    warn = write_settings(tmp_path, "[newsletter]\nsize_warn_kb = 10\nsize_limit_kb = 102\n")
    assert newsletter(warn, content_dir, tmp_path / "out", "2026-11-27T12:00") == 0
    assert "warning: issue 1 (sv): the HTML part is" in capsys.readouterr().err
    strict = tmp_path / "strict"
    strict.mkdir()
    limit = write_settings(strict, "[newsletter]\nsize_warn_kb = 5\nsize_limit_kb = 10\n")
    assert newsletter(limit, content_dir, strict / "out", "2026-11-27T12:00") == 1
    err = capsys.readouterr().err
    assert "above the 10 KB limit" in err and "no issue recorded" in err
    assert issue_ids(limit) == {} and not (strict / "out").exists()


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _style(element) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in (element.get("style") or "").split(";") if ":" in part)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def _background(element) -> str:
    for node in [element, *element.iterancestors()]:
        style = _style(node)
        for key in ("background-color", "background"):
            match = re.match(r"#[0-9a-fA-F]{3,6}\b", style.get(key, ""))
            if match:
                return match.group(0)
        if node.get("bgcolor"):
            return node.get("bgcolor")
    return "#ffffff"


def _colour(element) -> str:
    for node in [element, *element.iterancestors()]:
        match = re.match(r"#[0-9a-fA-F]{3,6}\b", _style(node).get("color", ""))
        if match:
            return match.group(0)
    return "#000000"


def _font_size(element) -> int:
    for node in [element, *element.iterancestors()]:
        match = re.match(r"(\d+)px", _style(node).get("font-size", ""))
        if match:
            return int(match.group(1))
    return 16


def _hidden(element) -> bool:
    return any(_style(node).get("display") == "none" for node in [element, *element.iterancestors()])


def test_email_html_is_accessible(tmp_path: Path, content_dir: Path, write_update) -> None:
    config = write_settings(tmp_path, '[newsletter]\nlogo = "static/logo.png"\n')
    settings = load_settings(config)
    write_updates(write_update, 8)
    with connect(newsletter_config(settings)) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    for lang in ("sv", "en"):
        edition = render_edition(issue, lang, settings, newsletter_config(settings))
        doc = lxml.html.fromstring(edition.html.encode("utf-8"))
        assert doc.get("lang") == lang
        wrapper = doc.xpath("//body/div[@role='article']")[0]
        assert wrapper.get("lang") == lang and wrapper.get("role") == "article"
        tables = doc.xpath("//table")
        assert tables and all(t.get("role") == "presentation" for t in tables)
        images = doc.xpath("//img")
        assert images and all(img.get("alt") for img in images)
        assert doc.xpath('//meta[@name="color-scheme"]/@content') == ["light dark"]
        assert doc.xpath('//meta[@name="supported-color-schemes"]')
        checked = 0
        for element in doc.iter():
            if not isinstance(element.tag, str) or element.tag in ("style", "title", "head", "meta"):
                continue
            if _hidden(element):
                continue  # the preheader: shown only in the inbox list
            if (element.text or "").strip():
                assert _font_size(element) >= 16, (element.tag, element.text)
                ratio = _contrast(_colour(element), _background(element))
                assert ratio >= 4.5, (
                    element.tag,
                    element.text,
                    _colour(element),
                    _background(element),
                    ratio,
                )
                checked += 1
        assert checked > 30
        headings = [h.tag for h in doc.xpath("//h1|//h2|//h3")]
        assert headings[0] == "h1" and "h2" in headings and "h3" in headings
        # one call to action per update: its linked title (no row of identical "Läs mer" links)
        assert len(doc.xpath("//h3/a")) == len(edition.items) == len(set(doc.xpath("//h3/a/@href")))


def test_plain_text_part(tmp_path: Path, content_dir: Path, write_update, settings) -> None:
    write_updates(write_update, 6)
    with connect(newsletter_config(settings)) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    edition = render_edition(issue, "sv", settings, newsletter_config(settings))
    lines = edition.text.splitlines()
    assert all(len(line) <= 78 for line in lines), [line for line in lines if len(line) > 78]
    assert "<" not in edition.text and "&amp;" not in edition.text
    # every update is listed with a numbered link, and each link appears in the list at the end
    for n, item in enumerate(edition.items, start=1):
        assert f"[{n}] {item.url}" in lines
    assert SLOTS["unsubscribe"] in lines and SLOTS["preferences"] in lines
    assert "-- " in lines  # signature separator keeps its space
    assert lines[0] == settings.title


def test_mjml_error_names_the_template(tmp_path: Path, content_dir: Path, write_update, settings) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates" / "newsletter", templates / "newsletter")
    path = templates / "newsletter" / "issue.mjml"
    path.write_text(path.read_text(encoding="utf-8").replace("</mjml>", ""), encoding="utf-8")
    write_update("one", date="2026-11-20T09:00")
    with connect(newsletter_config(settings)) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    with pytest.raises(RenderError, match=r"templates/newsletter/issue\.mjml: MJML error"):
        render_edition(issue, "sv", settings, newsletter_config(settings), env=environment(templates))
    path.write_text("{% if %}", encoding="utf-8")
    with pytest.raises(RenderError, match=r"newsletter/issue\.mjml:1: "):
        render_edition(issue, "sv", settings, newsletter_config(settings), env=environment(templates))


def test_target_filter_edition(tmp_path: Path, content_dir: Path, write_update, settings) -> None:
    write_update("a", date="2026-11-20T09:00", targets=["17.9"])
    write_update("b", date="2026-11-21T09:00", targets=["17.17"])
    write_update("c", date="2026-11-22T09:00", targets=["17.17", "17.9"])
    with connect(newsletter_config(settings)) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    edition = render_edition(issue, "en", settings, newsletter_config(settings), targets=("17.9",))
    assert [item.title for item in edition.items] == ["C", "A"]
    assert "Capacity building" in edition.html and ">B<" not in edition.html


def test_preview_writes_html_and_prints_its_path(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    config = write_settings(tmp_path)
    write_update("one", date="2026-11-20T09:00")
    assert (
        main(
            [
                "newsletter",
                "preview",
                "--config",
                str(config),
                "--content",
                str(content_dir),
                "--now",
                "2026-11-27T12:00",
            ]
        )
        == 0
    )
    path = Path(capsys.readouterr().out.strip())
    page = path.read_text(encoding="utf-8")
    assert path.suffix == ".html" and "prenumerant@example.com" in page and "@@" not in page
    assert issue_ids(config) == {}  # nothing recorded


def test_site_toml_documents_the_defaults(capsys, tmp_path: Path, content_dir: Path) -> None:
    from pipeline.config.mail import smtp_config
    from pipeline.config.site import default_settings

    documented = load_settings(REPO / "site.toml")
    built_in = default_settings(state_dir=str(REPO / ".state"))
    assert newsletter_config(documented) == newsletter_config(built_in)
    assert smtp_config(documented) == smtp_config(built_in)
    bad = write_settings(tmp_path, '[newsletter]\nintro_sw = "typo"\n[smtp]\nsecurity = "ssl"\n')
    assert newsletter(bad, content_dir, tmp_path / "out", "2026-11-27T12:00") == 1
    assert "[newsletter] intro_sw: unknown setting" in capsys.readouterr().err

"""After-publish effects: run_build walks the registry; WebSub is one entry of it, not a call by name."""

from __future__ import annotations

from pipeline.publishing import effects, websub
from pipeline.publishing.publish import PublishReport
from pipeline.publishing.site_build import run_build
from tests.conftest import NOW


def test_websub_is_registered_as_an_after_publish_effect() -> None:
    assert effects.AFTER_PUBLISH["websub"] is websub.record_build


def test_run_build_runs_every_registered_effect_with_the_publish_report(
    tmp_path, content_dir, write_update, settings, monkeypatch
) -> None:
    seen: list[tuple[str, list[str]]] = []

    def first(report: PublishReport, settings) -> None:
        seen.append(("first", sorted(report.written)))

    def second(report: PublishReport, settings) -> None:
        seen.append(("second", sorted(report.written)))

    monkeypatch.setitem(effects.AFTER_PUBLISH, "first", first)
    monkeypatch.setitem(effects.AFTER_PUBLISH, "second", second)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    outcome = run_build(content_dir, tmp_path / "out", settings, NOW)
    assert [name for name, _ in seen] == ["first", "second"]
    assert seen[0][1] == sorted(outcome.report.written) and "updates/ett/index.html" in seen[0][1]


def test_a_build_skipped_because_nothing_changed_runs_no_effect(
    tmp_path, content_dir, write_update, settings, monkeypatch
) -> None:
    write_update("ett", date="2026-11-20T09:00")
    run_build(content_dir, tmp_path / "out", settings, NOW)
    reports: list[PublishReport] = []
    monkeypatch.setitem(effects.AFTER_PUBLISH, "spy", lambda report, settings: reports.append(report))
    assert run_build(content_dir, tmp_path / "out", settings, NOW).skipped
    assert reports == []
    write_update("två", date="2026-11-20T09:30")
    run_build(content_dir, tmp_path / "out", settings, NOW)
    assert len(reports) == 1 and "updates/tva/index.html" in reports[0].written

"""``new`` and ``check``: authors never invent ids; they see what would go out."""

from __future__ import annotations

from pipeline.cli import main
from pipeline.reading.content import read_content
from tests.conftest import NOW


def test_new_creates_a_draft_with_a_fresh_id(content_dir, settings, capsys):
    assert (
        main(
            [
                "new",
                "Kommunala partnerskap i Östafrika",
                "--content",
                str(content_dir),
                "--targets",
                "17.17,17.9",
                "--now",
                "2026-11-27T09:15",
            ]
        )
        == 0
    )
    path = content_dir / "kommunala-partnerskap-i-ostafrika.md"
    assert capsys.readouterr().out.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    assert 'title: "Kommunala partnerskap i Östafrika"' in text
    assert "date: 2026-11-27T09:15" in text and 'targets: ["17.9", "17.17"]' in text
    assert 'id: "tag:mal17.example.se,2026-11-27:' in text
    result = read_content(content_dir, settings, NOW)
    assert result.drafts == 1 and result.updates == []
    path.write_text(text.replace("draft: true", "draft: false"), encoding="utf-8")
    (update,) = read_content(content_dir, settings, NOW).updates
    assert update.targets == ("17.9", "17.17")


def test_new_ids_differ_and_files_are_never_overwritten(content_dir, capsys):
    assert main(["new", "Ett", "--content", str(content_dir)]) == 0
    assert main(["new", "Ett", "--content", str(content_dir)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["new", "Ett", "--content", str(content_dir), "--slug", "ett-till"]) == 0
    ids = {p.read_text().split("\n")[1] for p in content_dir.glob("*.md")}
    assert len(ids) == 2


def test_new_rejects_unknown_target(content_dir, capsys):
    assert main(["new", "X", "--content", str(content_dir), "--targets", "17.20"]) == 1
    assert "unknown goal-17 target '17.20'" in capsys.readouterr().err


def test_check_lists_published_and_scheduled_and_writes_nothing(write_update, content_dir, capsys):
    write_update("nu", targets=["17.9"])
    write_update("sen", date="2026-12-24T08:00")
    assert main(["check", "--content", str(content_dir), "--now", "2026-11-27T12:00"]) == 0
    out = capsys.readouterr().out
    assert "https://mal17.example.se/updates/nu/" in out
    assert "2026-12-24T08:00:00+01:00  scheduled  sen.md" in out
    assert "1 published, 1 scheduled, 0 drafts, 0 warnings" in out
    assert sorted(p.name for p in content_dir.iterdir()) == ["nu.md", "sen.md"]

from pipeline.cli import main
from tests.schedule_helpers import make_project


def test_the_check_job_validates_the_content(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GOAL17_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    project.schedule('[jobs.nightly-check]\nkind = "check"\ncron = { hour = 3 }\n')
    assert main(["run", "nightly-check", "--config", str(tmp_path / "schedule.toml")]) == 0
    assert "1 updates valid, 0 warnings" in capsys.readouterr().out

"""The ``goal17`` console script ([project.scripts]) and ``python -m pipeline`` are the same CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import program_name
from tests.conftest import REPO, front_matter

SCRIPT = Path(sys.executable).with_name("goal17.exe" if os.name == "nt" else "goal17")
needs_script = pytest.mark.skipif(
    not SCRIPT.exists(),
    reason=f"{SCRIPT} not installed: run `pip install -e .` so [project.scripts] makes it",
)


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOAL17_PROGRESS": "0"}
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@needs_script
def test_help_names_the_console_script(tmp_path):
    result = run(SCRIPT, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: goal17 ")
    sub = run(SCRIPT, "check", "--help", cwd=tmp_path)
    assert sub.returncode == 0 and sub.stdout.startswith("usage: goal17 check ")


def test_module_help_names_python_m_pipeline(tmp_path):
    result = run(sys.executable, "-m", "pipeline", "--help", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m pipeline ")


@needs_script
def test_console_script_runs_commands_with_the_documented_exit_codes(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "nyhet.md").write_text(
        front_matter(title='"Nyhet"', id="sdg17-2024-001", date="2026-11-01T10:00") + "Text.\n",
        encoding="utf-8",
    )
    ok = run(SCRIPT, "check", "--content", content, "--now", "2026-11-27T12:00", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "1 published" in ok.stdout
    (content / "trasig.md").write_text("---\ntitle: x\n", encoding="utf-8")
    bad = run(SCRIPT, "check", "--content", content, cwd=tmp_path)
    assert bad.returncode == 1 and "trasig.md:1:" in bad.stderr and "Traceback" not in bad.stderr
    usage = run(SCRIPT, "no-such-command", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: goal17 ")


@pytest.mark.parametrize(
    "argv0, expected",
    [
        ("/home/u/.local/bin/goal17", "goal17"),
        ("C:\\venv\\Scripts\\goal17.exe".replace("\\", os.sep), "goal17"),
        ("/repo/pipeline/__main__.py", "python -m pipeline"),
        ("/usr/bin/pytest", "python -m pipeline"),
    ],
)
def test_program_name_follows_how_the_cli_was_started(argv0, expected):
    assert program_name(argv0) == expected


def test_the_wheel_carries_the_templates():
    # pipx installs a wheel, not the checkout: the templates must be package data. setuptools
    # follows pipeline/templates (a link to templates/) when it builds the wheel.
    import tomllib

    from pipeline.config.site import TEMPLATES_DIR

    link = REPO / "pipeline" / "templates"
    assert link.is_dir() and link.resolve() == (REPO / "templates").resolve() == TEMPLATES_DIR
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "templates/**/*" in package_data["pipeline"]
    assert (TEMPLATES_DIR / "pages" / "_item.html").is_file()

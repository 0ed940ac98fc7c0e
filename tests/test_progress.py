"""The progress bar draws on a terminal and stays silent in pipes, logs and scheduled jobs."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

from bench import corpus
from pipeline.progress import Progress
from tests.conftest import REPO


def test_silent_when_not_a_terminal():
    stream = io.StringIO()
    with Progress("rendering", 10, stream=stream) as bar:
        bar.advance(10)
    assert stream.getvalue() == ""


def test_draws_and_erases_when_enabled():
    stream = io.StringIO()
    with Progress("sending", 4, stream=stream, enabled=True) as bar:
        bar(4, 4)
        assert bar.line().startswith("sending [") and "4/4 100%" in bar.line()
    text = stream.getvalue()
    assert "4/4" in text and text.endswith("\r\x1b[K")


def test_build_command_shows_a_bar_on_a_tty_only(tmp_path):
    content = corpus.write_corpus(tmp_path / "content", 5)
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    command = [sys.executable, "-m", "pipeline", "build", "--config", str(config), "--content", str(content)]
    command += ["--now", corpus.BENCH_NOW]
    piped = subprocess.run([*command, "--out", str(tmp_path / "a")], cwd=REPO, capture_output=True, text=True)
    assert piped.returncode == 0 and "rendering [" not in piped.stderr + piped.stdout

    # a fresh state folder, so the content cache filled by the first build leaves 5 bodies to render
    config.write_text(f'[site]\nstate_dir = "{tmp_path / "state-tty"}"\n', encoding="utf-8")
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "GOAL17_PROGRESS"}
    process = subprocess.Popen(
        [*command, "--out", str(tmp_path / "b")], cwd=REPO, stdout=subprocess.PIPE, stderr=follower, env=env
    )
    process.communicate(timeout=60)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert process.returncode == 0
    assert b"rendering [" in drawn and b"5/5" in drawn

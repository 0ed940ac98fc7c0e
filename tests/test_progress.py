"""The progress bar draws on a terminal and stays silent in pipes, logs and scheduled jobs."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

from bench import corpus
from pipeline import progress
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
        drawn = stream.getvalue()
        assert "sending [" in drawn and "4/4" in drawn and "100%" in drawn
    erased = stream.getvalue()[len(drawn) :]
    assert "\x1b[2K" in erased and "sending" not in erased  # the summary line that follows reads cleanly


def test_bars_open_together_share_one_display():
    stream = io.StringIO()
    with Progress("rendering", 2, stream=stream, enabled=True) as first:
        with Progress("writing", 3, stream=stream, enabled=True) as second:
            first.advance(2)
            second.advance(3)
            frame = stream.getvalue().rsplit("rendering [", 1)[-1]
            assert "writing [" in frame and "3/3" in frame  # one frame, both lines
        first.close()
        first.close()  # idempotent, as the build's "writing" callback relies on
    assert progress._DISPLAYS == {}


def test_a_bar_without_a_total_yet_is_not_drawn():
    stream = io.StringIO()
    with Progress("writing", 0, stream=stream, enabled=True) as bar:
        assert "writing" not in stream.getvalue()
        bar(1, 2)
    assert "writing [" in stream.getvalue() and "1/2" in stream.getvalue()


class _ClosedTerminal(io.StringIO):
    """A terminal whose reader went away after ``good`` writes: every later write fails like EPIPE."""

    def __init__(self, good: int):
        super().__init__()
        self.good = good

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.good <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.good -= 1
        return super().write(text)


def test_a_closed_terminal_silences_the_display_without_an_exception():
    for good in (0, 1, 3):
        stream = _ClosedTerminal(good)
        with Progress("sending", 1000, stream=stream) as bar:
            assert bar.enabled
            for _ in range(1000):
                bar.advance()
        assert progress._DISPLAYS == {}


def test_goal17_progress_0_silences_a_terminal(monkeypatch):
    monkeypatch.setenv("GOAL17_PROGRESS", "0")
    stream = _ClosedTerminal(100)
    with Progress("sending", 3, stream=stream) as bar:
        bar.advance(3)
    assert not bar.enabled and stream.getvalue() == ""


def test_no_traceback_when_the_terminal_goes_away_mid_run(tmp_path):
    """A real pseudo-terminal closed by its reader while the bar draws: the program ends cleanly."""
    script = (
        "import sys, time\n"
        "from pipeline.progress import Progress\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"  # the test closes the terminal, then says go
        "with Progress('sending', 50) as bar:\n"
        "    for _ in range(50):\n"
        "        bar.advance(); time.sleep(0.02)\n"
        "print('finished', flush=True)\n"
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "GOAL17_PROGRESS"}
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    os.close(leader)  # the terminal is gone: writes to it now fail (EIO)
    out, _ = process.communicate(b"go\n", timeout=60)
    assert process.returncode == 0 and out == b"finished\n"


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

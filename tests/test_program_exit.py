"""The quick exit keeps what a normal exit promises: exit handlers, flushed output, other threads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as users have it
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def test_exit_handlers_run_and_buffered_output_arrives(tmp_path):
    done = run_script(
        tmp_path,
        """
        import atexit, sys
        from pathlib import Path
        from pipeline.program_exit import end_process
        atexit.register(lambda: Path(sys.argv[1], "handler-ran").write_text("yes"))
        for _ in range(10_000):
            sys.stdout.write("x" * 10)  # more than one buffer's worth, the end of it still buffered
        sys.stderr.write("on stderr")
        end_process(3)
        """,
    )
    assert done.returncode == 3
    assert done.stdout == "x" * 100_000 and done.stderr == "on stderr"  # no newline: still buffered
    assert (tmp_path / "handler-ran").read_text() == "yes"


def test_a_running_thread_is_waited_for_as_a_normal_exit_would(tmp_path):
    done = run_script(
        tmp_path,
        """
        import sys, threading, time
        from pathlib import Path
        from pipeline.program_exit import end_process
        def late():
            time.sleep(0.3)
            Path(sys.argv[1], "thread-finished").write_text("yes")
        threading.Thread(target=late).start()
        end_process(0)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thread-finished").read_text() == "yes"


def test_the_program_exits_with_the_commands_code(tmp_path):
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", "--content", str(missing)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") <= 3 and "Traceback" not in done.stderr

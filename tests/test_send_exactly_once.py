"""Exactly once: a real `send` process SIGKILLed mid-run and run again, and two sends started together,
against a real aiosmtpd server on loopback; the server counts what it received."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.config.site import load_settings
from pipeline.delivery.send_run import send_log
from pipeline.publishing.issue_build import build_issue
from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import NOW, REPO
from tests.newsletter_helpers import Recorder, smtp_server, smtp_settings

ENV = {**os.environ, "GOAL17_SECRET": "exactly-once-secret-0123456789-abcdefghij"}


def setup_list(
    folder: Path, content_dir: Path, write_update, port: int, count: int
) -> tuple[Path, list[str]]:
    config_file = smtp_settings(folder, port)
    settings = load_settings(config_file)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    write_update("two", date="2026-11-21T09:00", targets=["17.17"])
    build_issue(content_dir, folder / "out", settings, NOW)
    addresses = [f"reader{n:03d}@example.se" for n in range(count)]
    with SubscriberStore.open(folder / "state") as store:
        report = store.import_csv("email\n" + "\n".join(addresses) + "\n", now=NOW)
        assert report.added == count
    return config_file, addresses


def start_send(config_file: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "send",
            "--config",
            str(config_file),
            "--transport",
            "smtp",
            *extra,
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_send_resumes_without_duplicates(tmp_path: Path, content_dir: Path, write_update) -> None:
    recorder = Recorder(delay=0.002)
    with smtp_server(recorder) as port:
        config_file, addresses = setup_list(tmp_path, content_dir, write_update, port, 300)
        first = start_send(config_file, "--rate", "150/s", "--now", "2026-11-27T13:00")
        deadline = time.monotonic() + 30
        while len(recorder.messages) < 90 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        at_kill = len(recorder.messages)
        assert 90 <= at_kill < 300, at_kill  # really killed mid-run

        second = start_send(config_file, "--now", "2026-11-27T13:05")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
    received = recorder.recipients()
    assert set(received) == set(addresses)  # everyone got it …
    twice = [address for address, n in received.items() if n > 1]
    assert len(twice) <= 1, twice  # … and nobody twice, except at most the one in flight at the kill
    assert len(recorder.messages) == 300 + len(twice)
    sent, skipped = re.search(r"(\d+) sent, (\d+) skipped as already sent", out).groups()
    assert int(sent) + int(skipped) == 300 and int(skipped) >= at_kill - 1
    log = send_log(load_settings(config_file), 1)
    assert len(log) == 300 and {row["status"] for row in log} == {"sent"}


def test_two_sends_started_together_do_not_both_send(tmp_path: Path, content_dir: Path, write_update) -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        config_file, addresses = setup_list(tmp_path, content_dir, write_update, port, 100)
        runs = [start_send(config_file, "--rate", "50/s", "--now", "2026-11-27T13:00") for _ in range(2)]
        results = [run.communicate(timeout=60) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 1], results
    loser = next(err for run, (_out, err) in zip(runs, results, strict=True) if run.returncode == 1)
    assert "another send is already running" in loser
    assert recorder.recipients() == {address: 1 for address in addresses}

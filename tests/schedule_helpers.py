"""Helpers for the scheduler tests: a small project folder and a real scheduler subprocess."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import front_matter

SITE_TOML = '[site]\nstate_dir = "state"\nbase_url = "https://mal17.example.se/"\n'


@dataclass
class Project:
    """A folder with site.toml, schedule.toml and content folders, as an operator would have."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state"

    def schedule(self, text: str) -> Path:
        path = self.root / "schedule.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def update(self, folder: str, name: str, body: str = "Text.\n", **fields: object) -> Path:
        fields.setdefault("title", f"{name.replace('-', ' ').capitalize()}")
        fields.setdefault("id", f"tag:test.example,2026:{name}")
        fields.setdefault("date", "2026-11-01T10:00")
        path = self.root / folder / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(front_matter(**fields) + body, encoding="utf-8")
        return path

    def broken_content(self, folder: str = "broken") -> None:
        """A content folder the build refuses (ContentError): a real failure, not a mock."""
        path = self.root / folder / "broken.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")

    def many_updates(self, folder: str, count: int) -> None:
        for number in range(count):
            self.update(folder, f"update-{number:04d}", body=f"Update *{number}*.\n\n## Part\n\nMore text.\n")


def make_project(root: Path) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    project = Project(root)
    project.update("content", "first-update", title="Första nyheten")
    return project


def pipeline_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOAL17_CONFIG", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Scheduler:
    """``python -m pipeline schedule`` in a subprocess, its stdout collected line by line."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue = field(default_factory=queue.Queue)

    @classmethod
    def start(cls, project: Project, *args: str) -> Scheduler:
        process = subprocess.Popen(
            pipeline_cmd("schedule", *args),
            cwd=project.root,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        scheduler = cls(process)
        threading.Thread(target=scheduler._read, daemon=True).start()
        return scheduler

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 20.0, count: int = 1) -> str:
        """Wait until ``count`` lines containing ``text`` were printed; return the last one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines if text in line]
            if len(found) >= count:
                return found[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {count}× {text!r} within {timeout} s; output:\n" + self.output)
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"scheduler exited before printing {text!r}; output:\n" + self.output)
            self.lines.append(line)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        self.process.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.drain()
            raise AssertionError(
                f"scheduler still running after {timeout} s; output:\n{self.output}"
            ) from None
        self.drain()
        return code

    def drain(self) -> None:
        while True:
            try:
                line = self._queue.get(timeout=2)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

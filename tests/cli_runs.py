"""The command lines of tests/test_cli_hostile.py and the two ways it runs them.

:func:`run` starts a real ``python -m pipeline`` process (stdout read, closed or on /dev/full);
:func:`run_in_process` calls :func:`pipeline.cli.main` in this process, as the program would,
for the checks that do not depend on the process (most hostile paths): no Python start-up.
:func:`assert_clean_failure` is the promise both are held to.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import cli

REPO = Path(__file__).resolve().parent.parent
ERROR_LINE = re.compile(r"^(\S[^ ]*: )?error: \S")
TIMEOUT = 90  # seconds per command: generous for a busy machine; a hang fails the test

# Values for required positionals that are not paths, by dest. A new command with another
# required positional fails test_every_required_argument_has_a_value until it is added here.
VALUES = {
    "title": "Hostile titel",
    "address": "reader@example.org",
    "job": "build",
    "file": "people.csv",
    "source": "export.xml",
}
# Extra arguments so that a server, when it does start, listens on a free port.
EXTRA = {("serve",): ["--port", "0"], ("web",): ["--port", "0"]}


@dataclass(frozen=True)
class Leaf:
    """One runnable command line: the words that select it and its parser."""

    words: tuple[str, ...]
    parser: argparse.ArgumentParser

    @property
    def name(self) -> str:
        return " ".join(self.words)

    def positionals(self) -> list[argparse.Action]:
        return [a for a in self.parser._actions if not a.option_strings and a.nargs != 0]

    def path_actions(self) -> list[argparse.Action]:
        return [a for a in self.parser._actions if is_path(a)]

    def argv(self, replace: dict[str, str] | None = None) -> list[str]:
        """The words, a value for every required positional, then the options in ``replace``."""
        replace = replace or {}
        argv = list(self.words)
        for action in self.positionals():
            if isinstance(action, argparse._SubParsersAction) or action.choices:
                continue
            if action.dest in replace:
                argv.append(replace[action.dest])
            elif action.nargs not in ("?", "*"):
                argv.append(VALUES[action.dest])
        for action in self.parser._actions:
            if action.option_strings and action.dest in replace:
                argv += [action.option_strings[-1], replace[action.dest]]
        return argv + EXTRA.get(self.words[:1], [])


def is_path(action: argparse.Action) -> bool:
    """A path argument: its metavar says FILE or DIR (``--config FILE``, ``FILE.csv``, ``--out DIR``)."""
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    return "FILE" in metavar or "DIR" in metavar


def is_dir(action: argparse.Action) -> bool:
    return "DIR" in str(action.metavar)


def leaves(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """Every command line the parser accepts: subparsers and choice positionals expanded."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs:
        for name, sub in subs[0].choices.items():
            yield from leaves(sub, (*words, name))
        return
    choices = [a for a in parser._actions if not a.option_strings and a.choices]
    if choices:
        for choice in choices[0].choices:
            yield Leaf((*words, choice), parser)
        return
    yield Leaf(words, parser)


def hostile_values(action: argparse.Action, leaf: Leaf | None = None) -> dict[str, str]:
    """Name -> value, relative to the project folder the command runs in. The missing folder
    is one of its own for each command, as another command may create its own (build --out)."""
    common = {"under a file": "afile.txt/sub", "under /sys": "/sys/kernel/x"}
    if is_dir(action):
        missing = f"missing/{'-'.join(leaf.words) if leaf else 'x'}-{action.dest}/dir"
        return {
            **common,
            "a file": "afile.txt",
            "under /proc": "/proc/forbidden",
            "missing dir": missing,
        }
    return {
        **common,
        "a folder": "afolder",
        "missing file": "missing/x.toml",
        "unreadable": "/proc/1/mem",
        "endless device": "/dev/zero",
        "full device": "/dev/full",
    }


def hostile_argv(leaf: Leaf, dest: str, kind: str) -> list[str]:
    action = next(a for a in leaf.path_actions() if a.dest == dest)
    return leaf.argv({dest: hostile_values(action, leaf)[kind]})


def make_project(root: Path) -> Path:
    """A real project: the example content and schedule, default settings, a built site and
    one subscriber, so every command has something to work on."""
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "schedule.toml", root / "schedule.toml")
    (root / "afile.txt").write_text("a regular file\n", encoding="utf-8")
    (root / "afolder").mkdir()
    (root / "people.csv").write_text("email\nanother@example.org\n", encoding="utf-8")
    for argv in (["build", "-q"], ["subscribers", "add", VALUES["address"]]):
        done = run(root, argv)
        assert done is not None and done.returncode == 0, done and done.stderr
    return root


def run(root: Path, argv: list[str], stdout: str = "pipe") -> subprocess.CompletedProcess | None:
    """Run the command; ``stdout`` is "pipe" (read), "closed" (a pipe without reader) or
    "full" (/dev/full). None if it was still running after TIMEOUT (then killed)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GOAL17_CONFIG", "PYTHONUNBUFFERED")}
    command = [sys.executable, "-m", "pipeline", *argv]
    opened: list[int] = []
    if stdout == "closed":
        read_end, write_end = os.pipe()
        os.close(read_end)
        target: int = write_end
        opened.append(write_end)
    elif stdout == "full":
        target = os.open("/dev/full", os.O_WRONLY)
        opened.append(target)
    else:
        target = subprocess.PIPE
    try:
        return subprocess.run(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=target,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return None
    finally:
        for fd in opened:
            os.close(fd)


class Hung(BaseException):
    """Raised in an in-process run still going after TIMEOUT (a BaseException: no command catches it)."""


@dataclass(frozen=True)
class Ran:
    """What an in-process run gave: the fields of a CompletedProcess the assertions read."""

    returncode: int
    stdout: str
    stderr: str


def run_in_process(root: Path, argv: list[str], capfd: pytest.CaptureFixture[str]) -> Ran:
    """:func:`pipeline.cli.main` in ``root``, as :func:`run` runs the program: no GOAL17_CONFIG,
    stdin empty, stdout and stderr captured at the file descriptors; a SystemExit (argparse) is
    its exit code. Fails, instead of hanging, after TIMEOUT seconds."""
    from pipeline.stores import postgres
    from pipeline.stores.backend import forget_backends

    def hung(signum: int, frame: object) -> None:
        raise Hung(f"{' '.join(argv)}: still running after {TIMEOUT} s (hung, or serving)")

    threads = threading.active_count()
    saved = {k: os.environ.pop(k) for k in ("GOAL17_CONFIG", "PYTHONUNBUFFERED") if k in os.environ}
    here, stdin = os.getcwd(), sys.stdin
    capfd.readouterr()
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(TIMEOUT)
    try:
        with open(os.devnull, encoding="utf-8") as sys.stdin:
            os.chdir(root)
            try:
                code = cli.main(list(argv))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        sys.stdin = stdin
        os.chdir(here)
        os.environ.update(saved)
        forget_backends()  # as the postgres_url fixture does: no cached store outlives the run
        postgres.close_all()
    captured = capfd.readouterr()
    # A thread left running would stop later tests' builds from forking (pipeline/forkpool.py).
    assert threading.active_count() == threads, f"{' '.join(argv)} left a thread running"
    return Ran(code, captured.out, captured.err)


def copy_project(base: Path, root: Path) -> Path:
    shutil.copytree(base, root, dirs_exist_ok=True, symlinks=True)
    return root


def assert_clean_failure(
    done: subprocess.CompletedProcess | None, argv: list[str], allow_ok: bool = False
) -> None:
    """No traceback; exit 1 with ``error:`` lines (and notes), or 2 with argparse's usage."""
    assert done is not None, f"{' '.join(argv)}: still running after {TIMEOUT} s (hung, or serving)"
    shown = f"{' '.join(argv)} → exit {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stderr, shown
    assert "Exception ignored" not in done.stderr, shown
    assert "internal error" not in done.stderr, shown
    if allow_ok and done.returncode == 0:
        return
    assert done.returncode in (1, 2), shown
    lines = done.stderr.strip().splitlines()
    if done.returncode == 2:
        assert lines[0].startswith("usage:") and "error:" in lines[-1], shown
    else:
        # Ends with the one-line ``error: …``; before it, other problems and the command's own
        # notes, one line each: nothing indented like a dump or a trace.
        assert lines and lines[-1].startswith("error: "), shown
        assert not any(line[:1].isspace() for line in lines), shown
        assert all(ERROR_LINE.match(line) for line in lines if "error" in line), shown

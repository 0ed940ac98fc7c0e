"""Every command and subcommand, found in the argparse parser (a new one is covered without
editing this file), run as a real process with the arguments an unlucky operator gives: a
folder for a file, a file for a folder, a path under a regular file, paths under /proc and /sys
that fail even for root, an unreadable file, an endless device file, standard output closed
early or on a full device, and a full disk under --out (a 64 KiB tmpfs, when mounting works).

The promise (README, docs/operations.md): never a traceback; a one-line ``error: …`` with exit
code 1 (2 for a wrong command line); a closed stdout pipe ends the command quietly with 141.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 90  # seconds per command: generous for a busy machine; a hang fails the test

# Values for required positionals that are not paths, by dest. A new command with another
# required positional fails test_every_required_argument_has_a_value until it is added here.
VALUES = {"title": "Hostile titel", "address": "reader@example.org", "job": "build", "file": "people.csv"}
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


LEAVES = list(leaves(build_parser()))


def hostile_values(action: argparse.Action, project: Path) -> dict[str, str]:
    """Name -> value. Each must be refused with a one-line error (``missing dir`` may succeed:
    a missing output folder is created)."""
    afile = project / "afile.txt"
    common = {
        "under a file": str(afile / "sub"),
        "under /proc": "/proc/forbidden/x" if not is_dir(action) else "/proc/forbidden",
        "under /sys": "/sys/kernel/x",
    }
    if is_dir(action):
        return {**common, "a file": str(afile), "missing dir": str(project / "missing" / "dir")}
    return {
        **common,
        "a folder": str(project / "afolder"),
        "missing file": str(project / "missing" / "x.toml"),
        "unreadable": "/proc/1/mem",
        "endless device": "/dev/zero",
        "full device": "/dev/full",
    }


CASES = [
    pytest.param(leaf, action.dest, kind, id=f"{leaf.name}-{action.dest}-{kind}")
    for leaf in LEAVES
    for action in leaf.path_actions()
    for kind in hostile_values(action, Path("/x"))
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real project: the example content and schedule, default settings, a built site and
    one subscriber, so every command has something to work on."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "schedule.toml", root / "schedule.toml")
    (root / "afile.txt").write_text("a regular file\n", encoding="utf-8")
    (root / "afolder").mkdir()
    (root / "people.csv").write_text("email\nanother@example.org\n", encoding="utf-8")
    for argv in (["build", "-q"], ["subscribers", "add", VALUES["address"]]):
        done = run(root, argv)
        assert done.returncode == 0, done.stderr
    return root


def run(root: Path, argv: list[str], stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GOAL17_CONFIG", "PYTHONUNBUFFERED")}
    try:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", *argv],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(argv)}: still running after {TIMEOUT} s (hung, or started serving)")
        raise AssertionError from exc


def assert_clean_failure(done: subprocess.CompletedProcess, argv: list[str], allow_ok: bool = False) -> None:
    """No traceback; exit 1 with one ``error:`` line, or 2 with argparse's usage and error."""
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
        assert len(lines) == 1 and lines[0].startswith("error: "), shown


def test_the_parser_is_walked_into_every_command_and_subcommand() -> None:
    names = {leaf.name for leaf in LEAVES}
    assert {"build", "check", "serve", "web", "schedule", "run", "send"} <= names
    assert {"subscribers import", "subscribers export", "newsletter preview"} <= names
    assert len(CASES) > 50


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_every_required_argument_has_a_value(leaf: Leaf) -> None:
    leaf.argv()  # a KeyError names the positional to add to VALUES


@pytest.mark.parametrize(("leaf", "dest", "kind"), CASES)
def test_a_hostile_path_gives_one_line_and_exit_1(project: Path, leaf: Leaf, dest: str, kind: str) -> None:
    action = next(a for a in leaf.path_actions() if a.dest == dest)
    argv = leaf.argv({dest: hostile_values(action, project)[kind]})
    done = run(project, argv)
    assert_clean_failure(done, argv, allow_ok=kind == "missing dir")


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_a_closed_stdout_pipe_ends_quietly(project: Path, leaf: Leaf) -> None:
    """stdout is a pipe whose reader is gone before the command writes (``… | head -0``)."""
    argv = leaf.argv()
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = run(project, argv, stdout=write_end)
    finally:
        os.close(write_end)
    shown = f"{' '.join(argv)} → exit {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, shown
    if done.returncode == 141:
        assert done.stderr == "", shown  # quiet: the reader had all it wanted
    else:
        assert_clean_failure(done, argv, allow_ok=True)


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_stdout_on_a_full_device_is_one_line(project: Path, leaf: Leaf) -> None:
    argv = leaf.argv()
    with open("/dev/full", "w") as full:
        done = run(project, argv, stdout=full.fileno())
    assert_clean_failure(done, argv, allow_ok=True)
    if done.returncode == 1 and "standard output" not in done.stderr:
        assert "error: " in done.stderr


def test_check_piped_into_head_is_quiet_every_time(project: Path) -> None:
    """The reported race: ``check | head -1`` showed BrokenPipeError in 4 of 10 runs."""
    for _ in range(10):
        reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        assert reader.stdin is not None
        done = run(project, ["check"], stdout=reader.stdin.fileno())
        reader.stdin.close()
        reader.wait(timeout=TIMEOUT)
        assert done.returncode in (0, 141) and done.stderr == "", done.stderr


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real full disk (root in a container may mount one; else skip)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_build_onto_a_full_disk_is_one_line(project: Path, tiny_disk: Path) -> None:
    argv = ["build", "--out", str(tiny_disk / "out"), "--no-cache"]
    done = run(project, argv)
    assert_clean_failure(done, argv)
    assert "No space left on device" in done.stderr


def test_subscribers_export_onto_a_full_disk_is_one_line(project: Path, tiny_disk: Path) -> None:
    (tiny_disk / "filler").write_bytes(b"x" * 60 * 1024)
    argv = ["subscribers", "export", str(tiny_disk / "all.csv")]
    done = run(project, argv)
    assert_clean_failure(done, argv)
    assert "No space left on device" in done.stderr


@pytest.mark.xfail(reason="publish.py removes its lock file on failure: helper rel-content fixes it")
def test_a_refused_build_leaves_no_lock_file(project: Path) -> None:
    argv = ["build", "--out", "afile.txt"]
    assert_clean_failure(run(project, argv), argv)
    assert not (project / ".afile.txt.lock").exists()

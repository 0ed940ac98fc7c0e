"""Every command and subcommand, found in the argparse parser (a new one is covered without
editing this file), run as a real process with the arguments an unlucky operator gives: a
folder for a file, a file for a folder, a path under a regular file, paths under /proc and /sys
that fail even for root, an unreadable file, an endless device file, standard output closed
early or on a full device, and a full disk under --out (a 64 KiB tmpfs, when mounting works).

The promise (README, docs/operations.md): never a traceback; a one-line ``error: …`` with exit
code 1 (2 for a wrong command line); a closed stdout pipe ends the command quietly with 141.

Every hostile path is run in-process (:func:`pipeline.cli.main`, stdout and stderr captured at
the file descriptors, the exit code it returns or raises): some 260 runs that as processes cost
about a third of a second each just to start Python. Real processes stay for what depends on
the process: every command with its stdout closed and on a full device, and, for each of its
path options, one hostile value (the kinds taken in turn), whose exit code and stderr must be
the in-process run's, so the in-process runs are checked to say what a user would see.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import queue
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import build_parser
from tests.cli_runs import (
    TIMEOUT,
    VALUES,
    Leaf,
    assert_clean_failure,
    copy_project,
    hostile_argv,
    hostile_values,
    leaves,
    make_project,
    run,
    run_in_process,
)

LEAVES = list(leaves(build_parser()))


CASES = [
    pytest.param(leaf, action.dest, kind, id=f"{leaf.name}-{action.dest}-{kind}")
    for leaf in LEAVES
    for action in leaf.path_actions()
    for kind in hostile_values(action)
]


def real_process_cases() -> list[pytest.param]:
    """For every path option of every command, one hostile value also run as a real process:
    the kinds in turn (the n-th option gets its n-th kind), so each kind is seen by some."""
    chosen = []
    pairs = [(leaf, action) for leaf in LEAVES for action in leaf.path_actions()]
    for number, (leaf, action) in enumerate(pairs):
        kinds = list(hostile_values(action))
        kind = kinds[number % len(kinds)]
        chosen.append(pytest.param(leaf, action.dest, kind, id=f"{leaf.name}-{action.dest}-{kind}"))
    return chosen


REAL_CASES = real_process_cases()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("hostile"))


JOBS = (
    [(f"path:{p.id}", hostile_argv(*p.values), "pipe") for p in REAL_CASES]
    + [(f"closed:{leaf.name}", leaf.argv(), "closed") for leaf in LEAVES]
    + [(f"full:{leaf.name}", leaf.argv(), "full") for leaf in LEAVES]
)


@pytest.fixture(scope="module")
def base_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project every process and in-process run of a hostile path starts from (a copy of it)."""
    return make_project(tmp_path_factory.mktemp("hostile-base"))


Results = dict[str, tuple[Path, subprocess.CompletedProcess | None]]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, base_project: Path) -> Results:
    """Every real process of this module at once, a few at a time, each worker in its own copy
    of the project (so two commands never share a state database): some 90 processes, which one
    after the other would take a minute. Key -> (the copy it ran in, what it gave)."""
    workers = max(2, min(4, os.cpu_count() or 2))
    base = base_project
    copies: queue.Queue[Path] = queue.Queue()
    for number in range(workers):
        copy = tmp_path_factory.mktemp(f"hostile-{number}")
        shutil.copytree(base, copy, dirs_exist_ok=True, symlinks=True)
        copies.put(copy)

    def one(job: tuple[str, list[str], str]) -> tuple[str, tuple[Path, subprocess.CompletedProcess | None]]:
        key, argv, stdout = job
        root = copies.get()
        try:
            return key, (root, run(root, argv, stdout))
        finally:
            copies.put(root)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, JOBS))


def test_the_parser_is_walked_into_every_command_and_subcommand() -> None:
    names = {leaf.name for leaf in LEAVES}
    assert {"build", "check", "serve", "web", "schedule", "run", "send"} <= names
    assert {"subscribers import", "subscribers export", "newsletter preview"} <= names
    assert len(CASES) > 50


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_every_required_argument_has_a_value(leaf: Leaf) -> None:
    leaf.argv()  # a KeyError names the positional to add to VALUES


@pytest.fixture(scope="module")
def in_process_project(tmp_path_factory: pytest.TempPathFactory, base_project: Path) -> Path:
    """The project the in-process runs share (the real processes have their own copies)."""
    return copy_project(base_project, tmp_path_factory.mktemp("hostile-in-process"))


@pytest.mark.parametrize(("leaf", "dest", "kind"), CASES)
def test_a_hostile_path_gives_one_line_and_exit_1(
    in_process_project: Path, capfd: pytest.CaptureFixture[str], leaf: Leaf, dest: str, kind: str
) -> None:
    """Exit 0 is allowed too: a command may not use that option for this action (``newsletter
    preview`` writes no --out), or the path is fine for it (a missing --out folder is made)."""
    argv = hostile_argv(leaf, dest, kind)
    assert_clean_failure(run_in_process(in_process_project, argv, capfd), argv, allow_ok=True)


@pytest.mark.parametrize(("leaf", "dest", "kind"), REAL_CASES)
def test_a_hostile_path_run_as_a_process_says_what_the_in_process_run_says(
    results: Results,
    base_project: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    leaf: Leaf,
    dest: str,
    kind: str,
) -> None:
    """The real process: the same promise, and the same exit code as :func:`run_in_process` gives
    in a fresh copy of the project, and for a refusal the same stderr (the copy's own path aside),
    so the in-process runs stand for the real ones. A command that ran (exit 0) may say other
    things: the copy the process ran in has seen other commands (``newsletter build``) first."""
    argv = hostile_argv(leaf, dest, kind)
    where, done = results[f"path:{leaf.name}-{dest}-{kind}"]
    assert_clean_failure(done, argv, allow_ok=True)
    assert done is not None
    root = copy_project(base_project, tmp_path / "project")
    ran = run_in_process(root, argv, capfd)
    shown = f"{' '.join(argv)}: in-process {ran}, as a process {done.returncode}: {done.stderr}"
    assert ran.returncode == done.returncode, shown
    if done.returncode != 0:
        assert ran.stderr.replace(str(root), "<project>") == done.stderr.replace(str(where), "<project>"), (
            shown
        )


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_a_closed_stdout_pipe_ends_quietly(results: Results, leaf: Leaf) -> None:
    """stdout is a pipe whose reader is gone before the command writes (``… | head -0``)."""
    argv = leaf.argv()
    _, done = results[f"closed:{leaf.name}"]
    assert done is not None, f"{' '.join(argv)}: still running after {TIMEOUT} s"
    shown = f"{' '.join(argv)} → exit {done.returncode}\n{done.stderr}"
    if done.returncode == 141:  # quiet: the command's own notes on stderr, nothing about the pipe
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, shown
        assert "error" not in done.stderr.lower() and "pipe" not in done.stderr.lower(), shown
    else:
        assert_clean_failure(done, argv, allow_ok=True)


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_stdout_on_a_full_device_is_one_line(results: Results, leaf: Leaf) -> None:
    argv = leaf.argv()
    _, done = results[f"full:{leaf.name}"]
    assert_clean_failure(done, argv, allow_ok=True)
    assert done is not None
    if done.returncode == 1 and "standard output" in done.stderr:
        assert done.stderr.strip().splitlines()[-1] == (
            "error: cannot write to standard output: No space left on device"
        )


@pytest.mark.parametrize("command", ["check", f"subscribers consent {VALUES['address']}"])
def test_piped_into_head_is_quiet_every_time(project: Path, command: str) -> None:
    """The reported race: ``check | head -1`` showed BrokenPipeError in 4 of 10 runs (the
    deterministic form of it is test_a_closed_stdout_pipe_ends_quietly)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GOAL17_CONFIG", "PYTHONUNBUFFERED")}
    for _ in range(10):
        shell = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {sys.executable} -m pipeline {command} | head -1 >/dev/null"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert shell.returncode in (0, 141) and shell.stderr == "", shell.stderr


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


def fill(disk: Path) -> None:
    """Write until the disk is full (a tmpfs counts whole pages, so no size is exact)."""
    with open(disk / "filler", "wb", buffering=0) as filler:
        for _ in range(10_000):
            try:
                filler.write(b"x" * 1024)
            except OSError:
                return
    raise AssertionError("the tiny disk never filled up")


def test_build_onto_a_full_disk_is_one_line(project: Path, tiny_disk: Path) -> None:
    argv = ["build", "--out", str(tiny_disk / "out"), "--no-cache"]
    done = run(project, argv)
    assert_clean_failure(done, argv)
    assert "No space left on device" in done.stderr


def test_subscribers_export_onto_a_full_disk_is_one_line(project: Path, tiny_disk: Path) -> None:
    fill(tiny_disk)
    argv = ["subscribers", "export", str(tiny_disk / "all.csv")]
    done = run(project, argv)
    assert_clean_failure(done, argv)
    assert "No space left on device" in done.stderr


def test_a_refused_build_leaves_no_lock_file(project: Path) -> None:
    argv = ["build", "--out", "afile.txt"]
    assert_clean_failure(run(project, argv), argv)
    assert not (project / ".afile.txt.lock").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["build", "--out", "afile.txt/sub"],
            "error: --out afile.txt/sub: afile.txt is a file, not a folder",
        ),
        (["build", "--out", "/proc/forbidden"], "error: --out /proc/forbidden: cannot write /proc/"),
        (["build", "--out", "/sys/kernel/x"], "error: --out /sys/kernel/x: cannot write /sys/kernel/"),
        (["subscribers", "import", "afolder"], "error: afolder is a folder; give the CSV file to import"),
        (["subscribers", "import", "/dev/zero"], "error: /dev/zero is not a regular file"),
        (["subscribers", "export", "afolder"], "error: afolder is a folder; give a file name such as"),
        (
            ["subscribers", "export", "/nonexistent/x.csv"],
            "error: /nonexistent/x.csv: folder /nonexistent does not",
        ),
        (
            ["subscribers", "export", "/dev/full"],
            "error: /dev/full: cannot write it: No space left on device",
        ),
        (["check", "--config", "afolder"], "afolder: error: is a folder, not a settings file"),
    ],
)
def test_the_message_says_what_is_wrong_with_the_path(project: Path, argv: list[str], message: str) -> None:
    """The reported tracebacks (defect 14), each now a message that names the path and the reason."""
    done = run(project, argv)
    assert_clean_failure(done, argv)
    assert message in done.stderr, done.stderr


def test_a_bug_is_one_line_and_exit_70_with_the_traceback_on_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The last line of defence: an exception no command expected (here a command made to
    raise one) is still one line; GOAL17_DEBUG=1 adds the traceback for the bug report."""
    from pipeline import cli
    from pipeline.commands import check

    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("division by zero")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(check, "run", broken)
    monkeypatch.delenv("GOAL17_DEBUG", raising=False)
    assert cli.main(["check"]) == 70
    err = capsys.readouterr().err
    assert err == (
        "error: internal error: ZeroDivisionError: division by zero (a bug; GOAL17_DEBUG=1 shows where)\n"
    )
    monkeypatch.setenv("GOAL17_DEBUG", "1")
    assert cli.main(["check"]) == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "in broken" in err
    assert err.splitlines()[-1].startswith("error: internal error: ZeroDivisionError")

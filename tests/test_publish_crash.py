"""Crash-safe publishing: real ``python -m pipeline build`` processes killed with SIGKILL.

The promise (README, docs/architecture.md): after a build is killed at any moment, the next
build of the folder — cached or not — leaves it byte-identical to a cold build of the content as
it is then: no orphans from the killed build, no mix of its files and the old ones.

Each trial switches the content folder between two versions A and B of a 200-update site (as a
``git checkout`` would: changed files rewritten, removed ones deleted), starts a build and kills
its whole process group at a random moment: after a random delay, at a random moment after its
staging folder appears, or right inside the rename phase (the moment the publish journal appears,
plus a random few milliseconds). Then either the same content or the previous one (a revert) is
built normally and the output compared, file by file and byte by byte, with a cold build into a
fresh folder with a fresh state folder. Bounded by a trial count and an overall time cap.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpus import BENCH_NOW, write_corpus
from pipeline.publishing.manifest import manifest_intact, read_manifest
from tests.conftest import REPO

UPDATES = 200
MAX_TRIALS = 14
TIME_CAP = 240.0  # seconds for all trials; each is a killed build plus a normal one
BUILD_TIMEOUT = 300


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) by its SHA-256; folders must not be left empty."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        if dirpath != str(folder) and not dirnames and not filenames:
            found[os.path.relpath(dirpath, folder) + "/"] = "empty folder"
        for name in filenames:
            path = Path(dirpath, name)
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def make_versions(root: Path) -> tuple[Path, Path, str]:
    """Version A: the corpus; B: 25 updates removed, 15 retitled (their pages, feeds, listings change).

    Also the output path of the first retitled update's page: it changes in either direction,
    early in the rename phase, so a new inode there means the build is moving files in.
    """
    a = write_corpus(root / "A", UPDATES)
    b = root / "B"
    shutil.copytree(a, b)
    markdown = sorted(b.glob("*.md"))
    rng = random.Random(17)
    for path in rng.sample(markdown, 25):
        path.unlink()
    retitled = sorted(rng.sample(sorted(b.glob("*.md")), 15))
    for path in retitled:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('\ntitle: "', '\ntitle: "Omskriven: ', 1), encoding="utf-8")
    return a, b, f"updates/{retitled[0].stem}/index.html"


def check_out(version: Path, content: Path) -> None:
    """Make ``content`` hold exactly ``version``'s files, rewriting only those that differ."""
    wanted = {p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()}
    for path in sorted(content.rglob("*"), reverse=True):
        rel = path.relative_to(content).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
    for rel in sorted(wanted):
        source, target = version / rel, content / rel
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())


def build_command(config: Path, content: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pipeline", "build", "--config", str(config), "--content", str(content),
        "--out", str(out), "--now", BENCH_NOW, "-q", *extra,
    ]  # fmt: skip


def run_build(command: list[str]) -> None:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def killed_build(
    command: list[str], out: Path, watched: Path, strategy: str, rng: random.Random, typical: float
) -> str:
    """Start a build, SIGKILL its process group as ``strategy`` says; what phase it died in.

    "renaming" waits until ``watched`` (an output file the build replaces early in its rename
    phase) has a new inode, then a random 0-20 ms more; "staging" waits until the staging folder
    appears, then a random part of a typical build; "delay" is a random part of a typical build.
    """
    journal = out.parent / f".{out.name}.journal"
    staging_glob = f".{out.name}.staging-*"
    before = inode(watched)
    proc = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    started = time.monotonic()
    try:
        if strategy == "delay":
            deadline = started + rng.uniform(0.05, typical)
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        else:
            extra = rng.uniform(0.0, 0.02 if strategy == "renaming" else 0.5 * typical)
            seen = None
            while proc.poll() is None and time.monotonic() - started < BUILD_TIMEOUT:
                if seen is None:
                    if strategy == "renaming":
                        hit = inode(watched) != before
                    else:
                        hit = any(out.parent.glob(staging_glob))
                    if hit:
                        seen = time.monotonic()
                elif time.monotonic() - seen >= extra:
                    break
        if proc.poll() is not None:
            return "finished"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if inode(watched) != before or journal.exists():
            return "renaming"
        return "staging" if any(out.parent.glob(staging_glob)) else "other"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_killed_builds_are_completed_by_the_next_build(tmp_path: Path) -> None:
    a, b, watched = make_versions(tmp_path / "versions")
    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    cold_config = tmp_path / "cold.toml"
    cold_config.write_text('[site]\nstate_dir = "cold-state"\n', encoding="utf-8")
    reference: dict[Path, dict[str, str]] = {}
    for version in (a, b):
        cold_out = tmp_path / f"cold-{version.name}"
        run_build(build_command(cold_config, version, cold_out, "--no-cache"))
        reference[version] = tree_digest(cold_out)
    assert reference[a] != reference[b]

    content, out = tmp_path / "content", tmp_path / "site" / "out"
    content.mkdir()
    check_out(a, content)
    began = time.monotonic()
    run_build(build_command(config, content, out))
    typical = max(time.monotonic() - began, 0.5)
    assert tree_digest(out) == reference[a]

    rng = random.Random(int(os.environ.get("GOAL17_CRASH_SEED", "1717")))
    strategies = ["renaming", "delay", "staging"]
    current, phases, trials = a, [], 0
    start = time.monotonic()
    while trials < MAX_TRIALS and (trials < 4 or time.monotonic() - start < TIME_CAP):
        target = b if current is a else a
        check_out(target, content)
        strategy = strategies[trials % 3]
        phase = killed_build(build_command(config, content, out), out, out / watched, strategy, rng, typical)
        phases.append(phase)
        # The revert case (build A, build B, killed during B -> A, build A ... and the other way
        # round) on even trials; odd ones build the content the killed build was making.
        after = current if trials % 2 == 0 else target
        check_out(after, content)
        no_cache = trials % 4 == 3
        run_build(build_command(config, content, out, *(["--no-cache"] if no_cache else [])))
        got = tree_digest(out)
        want = reference[after]
        orphans = sorted(set(got) - set(want))[:5]
        missing = sorted(set(want) - set(got))[:5]
        differ = sorted(rel for rel in set(got) & set(want) if got[rel] != want[rel])[:5]
        assert got == want, (
            f"trial {trials} ({strategy}, killed while {phase}, then built "
            f"{after.name}{' --no-cache' if no_cache else ''}): orphans {orphans}, missing {missing}, "
            f"different {differ}"
        )
        assert (
            not list(out.parent.glob(f".{out.name}.staging-*")) and not (out.parent / ".out.journal").exists()
        )
        manifest = read_manifest(next((tmp_path / "state" / "outputs").glob("*.json")))
        assert manifest is not None and manifest_intact(out, manifest)
        assert set(manifest.files) == set(got), "the manifest lists exactly the files that are there"
        current = after
        trials += 1
    print(f"{trials} trials, killed while: {phases}")
    assert trials >= 4
    # The interesting moment was hit: builds died while moving files into the live folder.
    assert phases.count("renaming") >= 2, phases

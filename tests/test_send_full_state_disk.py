"""A full disk under the state folder during ``send`` (RLIMIT_FSIZE on the real process): the
error line names the real cause, and the next ``send`` completes the issue, each reader once
(plus at most one copy per failed run: a message handed over before its row could be written)."""

from __future__ import annotations

import resource
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import NOW
from tests.newsletter_helpers import write_settings, write_updates

READERS = 60


def run(cwd: Path, *argv: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv, "--now", NOW.isoformat()],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )


def test_a_full_state_disk_names_its_cause_and_the_next_send_completes(tmp_path, write_update, content_dir):
    write_settings(tmp_path)
    write_updates(write_update, 3)
    (tmp_path / "readers.csv").write_text(
        "email\n" + "".join(f"r{n}@example.org\n" for n in range(READERS)), encoding="utf-8"
    )
    assert run(tmp_path, "subscribers", "import", "readers.csv").returncode == 0
    done = run(tmp_path, "newsletter", "--content", str(content_dir))
    assert done.returncode == 0, done.stderr
    database = tmp_path / "state" / "state.sqlite3"
    failed = run(tmp_path, "send", fsize=database.stat().st_size + 64 * 1024)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    # before: "cannot rollback - no transaction is active", which hid the full disk
    assert "no transaction is active" not in failed.stderr, failed.stderr
    assert "disk" in failed.stderr, failed.stderr
    done = run(tmp_path, "send")
    assert done.returncode == 0, done.stdout + done.stderr
    outbox = tmp_path / "state" / "outbox"
    copies = Counter(
        line.split(":", 1)[1].strip()
        for eml in outbox.glob("*.eml")
        for line in eml.read_text(encoding="ascii").splitlines()
        if line.startswith("To:")
    )
    assert set(copies) == {f"r{n}@example.org" for n in range(READERS)}
    assert max(copies.values()) <= 1 + 1, copies

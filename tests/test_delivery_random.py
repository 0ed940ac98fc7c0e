"""Random fault schedules through the real ``send`` command, with the sender SIGKILLed mid-run.

Each schedule (one seed; deterministic given it) makes 10–30 readers and one or two issues, and
runs ``send --transport smtp`` against the fault-injection server (tests/smtp_faults.py) — as
``python -m pipeline`` subprocesses for the runs that get killed, through the same ``main()`` in
this process for the others (it halves the time on a busy machine) — with random faults at every SMTP stage, a server that is sometimes down,
and a SIGKILL at a random point of the protocol. Then the faults stop, one ``send --retries-only``
runs, and the delivery invariant (docs/newsletter.md) must hold for every (issue, reader):

- exactly one copy — plus at most one per kill after the server kept the message, and one per
  ambiguous outcome (no reply after the data) recorded in the log — or
- a permanent failure in the send log, with the server's reply (or why it was lost);

and every run's exit code must tell the truth (0: nobody owed anything; 3: someone still owed and
nobody refused in this run; 4: someone refused or lost in this run), with no traceback ever.
``GOAL17_FAULT_SCHEDULES`` (default 20) and ``GOAL17_FAULT_SEED`` choose the schedules; a failing
seed is in the test id, and the message repeats the schedule.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.site import load_settings
from pipeline.delivery.send_run import send_log
from pipeline.publishing.issue_build import build_issue
from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import NOW, REPO
from tests.newsletter_helpers import smtp_settings
from tests.smtp_faults import Fault, FaultServer

SCHEDULES = int(os.environ.get("GOAL17_FAULT_SCHEDULES", "20"))
FIRST_SEED = int(os.environ.get("GOAL17_FAULT_SEED", "17000"))
SECRET = "random-fault-secret-0123456789-abcdefghij"
ENV = {**os.environ, "GOAL17_SECRET": SECRET}
TIMEOUT = 1.5  # the sender's SMTP timeout; slow replies take twice as long
PENDING = ("queued", "claimed", "temporary")

TEMPORARY = ["421 4.3.2 closing", "450 4.2.1 busy", "451 4.3.0 try later", "452 4.2.2 over quota"]
PERMANENT = ["550 5.1.1 no such user", "552 5.2.2 mailbox full", "554 5.7.1 rejected"]


def random_fault(rng: random.Random, readers: list[str]) -> Fault:
    stage = rng.choice(["greeting", "mail", "rcpt", "rcpt", "data", "eod", "eod", "eod"])
    reader = rng.choice(readers) if stage in ("rcpt", "data", "eod") else None
    times = rng.choice([1, 1, 2, None]) if reader else rng.choice([1, 2])
    after = rng.randint(0, 6) if reader is None else 0
    actions = ["reply"] * 6 + ["drop"] + (["accept_drop", "drop_after"] if stage == "eod" else [])
    if rng.random() < 0.1:
        actions = ["slow"]
        times = 1
    action = rng.choice(actions)
    reply = None
    if action == "reply":
        pool = TEMPORARY + PERMANENT if stage != "greeting" else [*TEMPORARY, "554 5.3.2 no service"]
        reply = rng.choice(pool)
    return Fault(stage, action, reply=reply, reader=reader, times=times, after=after, delay=TIMEOUT * 2)


def make_schedule(seed: int) -> dict:
    rng = random.Random(seed)
    readers = [f"r{n:02d}.{seed}@example.se" for n in range(rng.randint(10, 30))]
    runs = []
    for issue in range(1, rng.randint(1, 2) + 1):
        for kind in ["send"] + (["retries"] if rng.random() < 0.5 else []):
            kill = None
            if rng.random() < 0.5:
                kill = (rng.choice(["rcpt", "eod_before", "eod_after"]), rng.randint(1, len(readers)))
            runs.append(
                {
                    "issue": issue,
                    "kind": kind,
                    "down": rng.random() < 0.12,
                    "faults": [random_fault(rng, readers) for _ in range(rng.randint(0, 3))],
                    "kill": kill,
                }
            )
    return {"seed": seed, "readers": readers, "issues": runs[-1]["issue"], "runs": runs}


def describe(schedule: dict) -> str:
    lines = [f"seed {schedule['seed']}: {len(schedule['readers'])} readers, {schedule['issues']} issue(s)"]
    for n, run in enumerate(schedule["runs"], start=1):
        faults = ", ".join(
            f"{f.stage}:{f.action}{' ' + f.reply if f.reply else ''}{' @' + f.reader if f.reader else ''}"
            f" x{f.times}{' after ' + str(f.after) if f.after else ''}"
            for f in run["faults"]
        )
        lines.append(
            f"  run {n}: {run['kind']} (issue {run['issue']}){' server down' if run['down'] else ''}"
            f"{' kill at ' + str(run['kill']) if run['kill'] else ''}; faults: {faults or 'none'}"
        )
    return "\n".join(lines)


def killed_run(server: FaultServer, args: list[str], kill: tuple[str, int]) -> tuple[int, str, str]:
    """``python -m pipeline send …`` in a subprocess, SIGKILLed by the server at ``kill``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server.arm_kill(process.pid, *kill)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        server.disarm()
    return process.returncode, out, err


def in_process(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def log_state(settings, issues: int) -> dict[tuple[int, str], dict]:
    return {(n, row["email"]): row for n in range(1, issues + 1) for row in send_log(settings, n)}


@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + SCHEDULES))
def test_random_fault_schedule_keeps_the_delivery_invariant(
    seed: int, tmp_path: Path, content_dir: Path, write_update, monkeypatch
) -> None:
    schedule = make_schedule(seed)
    story = describe(schedule)
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    server = FaultServer()
    config_file = smtp_settings(tmp_path, server.port, '[newsletter]\ntransport = "smtp"\n')
    text = config_file.read_text(encoding="utf-8").replace("timeout = 10", f"timeout = {TIMEOUT}")
    config_file.write_text(text, encoding="utf-8")
    settings = load_settings(config_file)
    with SubscriberStore.open(tmp_path / "state") as store:
        store.import_csv("email\n" + "\n".join(schedule["readers"]) + "\n", now=NOW)
    built = 0
    server.start()
    try:
        for step, run in enumerate(schedule["runs"], start=1):
            at = NOW + timedelta(days=7 * (run["issue"] - 1), hours=step)
            if run["issue"] > built:
                built += 1
                write_update(
                    f"u{built}", date=(at - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"]
                )
                build_issue(content_dir, tmp_path / "out", settings, at)
            before = log_state(settings, built)
            server.clear()
            server.script(*run["faults"])
            if run["down"]:
                server.stop()
            args = ["send", "--config", str(config_file), "--transport", "smtp", "--now", at.isoformat()]
            args += ["--retries-only"] if run["kind"] == "retries" else []
            if run["kill"] and not run["down"]:
                code, out, err = killed_run(server, args, run["kill"])
            else:
                code, out, err = in_process(args)  # the same command; a process of its own only to kill it
            server.settle()
            if run["down"]:
                server.start()
            where = f"{story}\nrun {step}: exit {code}\n{out}{err}"
            assert "Traceback" not in err, where
            assert code in (0, 1, 3, 4, -9), where
            after = log_state(settings, built)
            new_refusals = [
                k for k, row in after.items() if row["status"] == "permanent" and before.get(k) != row
            ]
            pending = [k for k, row in after.items() if row["status"] in PENDING]
            if code == 0:
                assert not pending and not new_refusals, where
            elif code == 3:
                assert pending and not new_refusals, where
            elif code == 4:
                assert new_refusals, where
        # the faults stop: one retries run completes everything
        server.clear()
        final = NOW + timedelta(days=30)
        code = main(
            ["send", "--config", str(config_file), "--retries-only", "--now", final.isoformat(), "-q"]
        )
        assert code == 0, story
        server.settle()
    finally:
        server.stop()

    log = log_state(settings, built)
    copies = server.copies()
    kept_then_killed = Counter(
        (issue, reader) for where, issue, reader in server.kills if where == "eod_after"
    )
    problems = []
    for issue in range(1, built + 1):
        for reader in schedule["readers"]:
            row = log.get((issue, reader))
            got = copies.get((issue, reader), 0)
            allowed = row["ambiguous"] + kept_then_killed[(issue, reader)] if row else 0
            if row is None:
                problems.append(f"issue {issue} {reader}: no row at all (silence), {got} copies")
            elif row["status"] == "sent":
                if not 1 <= got <= 1 + allowed:
                    problems.append(
                        f"issue {issue} {reader}: sent, {got} copies (allowed 1..{1 + allowed}): {row}"
                    )
            elif row["status"] == "permanent":
                if not row["last_error"] or got > allowed:
                    problems.append(f"issue {issue} {reader}: permanent with {got} copies: {row}")
            else:
                problems.append(f"issue {issue} {reader}: left {row['status']}: {row}")
    assert not problems, story + "\n" + "\n".join(problems) + f"\nkills: {server.kills}"

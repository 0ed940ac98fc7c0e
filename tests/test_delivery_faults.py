"""Delivery under SMTP faults, through the ``send`` command, against the fault-injection server.

Each test is the regression test of one defect of issue 17 (delivery 1–4) and of the delivery
invariant in docs/newsletter.md: every reader active when an issue's send starts gets exactly one
copy, or the send log holds a permanent failure with the reason — never silence.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.site import load_settings
from pipeline.delivery.send_run import send_log
from pipeline.publishing.issue_build import build_issue
from pipeline.stores.sqlite.history import SQLiteRunHistory
from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import NOW, REPO
from tests.newsletter_helpers import smtp_settings
from tests.smtp_faults import Fault, FaultServer, free_port

SECRET = "fault-test-secret-0123456789-abcdefghij"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)


def setup(folder: Path, content_dir: Path, write_update, port: int, count: int, timeout: float = 10):
    config_file = smtp_settings(folder, port, '[newsletter]\ntransport = "smtp"\n')
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace("timeout = 10", f"timeout = {timeout}"),
        encoding="utf-8",
    )
    settings = load_settings(config_file)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    build_issue(content_dir, folder / "out", settings, NOW)
    readers = [f"reader{n:03d}@example.se" for n in range(count)]
    with SubscriberStore.open(folder / "state") as store:
        assert store.import_csv("email\n" + "\n".join(readers) + "\n", now=NOW).added == count
    return config_file, settings, readers


def send(config_file: Path, *extra: str, at=NOW + timedelta(hours=1)) -> int:
    return main(["send", "--config", str(config_file), "--now", at.isoformat(), *extra])


def statuses(settings, issue: int = 1) -> dict[str, tuple]:
    return {r["email"]: (r["status"], r["attempts"]) for r in send_log(settings, issue)}


def test_an_outage_at_the_start_of_the_weekly_send_loses_the_issue_for_nobody(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    """Defect 1: server down at 08:00; the retries job used to deliver one message and report success."""
    server = FaultServer()
    config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 300)
    assert send(config_file) == 3  # down: deferred, nothing lost
    out, err = capsys.readouterr()
    assert "stopped: cannot connect to the SMTP server" in err
    assert "300 reader(s) still owed an issue" in out
    assert set(statuses(settings).values()) == {("queued", 0)} and len(statuses(settings)) == 300

    with server:
        assert send(config_file, "--retries-only", at=NOW + timedelta(hours=2)) == 0  # back up: all of them
        out = capsys.readouterr().out
        assert "issue 1 via smtp: 300 sent" in out and "300 delivered, 0 deferred" in out
        # the next weekly issue goes out, and issue 1 stays complete
        write_update("tva", date="2026-12-01T09:00", targets=["17.9"])
        build_issue(content_dir, tmp_path / "out", settings, NOW + timedelta(days=7))
        assert send(config_file, at=NOW + timedelta(days=7)) == 0
    assert server.copies() == {(issue, r): 1 for r in readers for issue in (1, 2)}


def test_an_outage_in_the_middle_of_a_send_is_completed_by_the_next_send(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    """The server refuses connections (421 greeting) after the first 4 messages' connection dropped."""
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 10)
        server.script(
            Fault("eod", action="drop_after", reader=readers[3]),
            Fault("greeting", reply="421 4.3.2 bye", times=None, after=1),
        )
        assert send(config_file) == 3
        assert "stopped: the SMTP server 127.0.0.1:" in capsys.readouterr().err
        log = statuses(settings)
        assert [log[r] for r in readers[:4]] == [("sent", 1)] * 4
        assert [log[r] for r in readers[4:]] == [("queued", 0)] * 6  # no attempt used, nothing claimed
        server.clear()
        # a later issue's send finishes issue 1 first
        write_update("tva", date="2026-12-01T09:00", targets=["17.9"])
        build_issue(content_dir, tmp_path / "out", settings, NOW + timedelta(days=7))
        assert send(config_file, at=NOW + timedelta(days=7)) == 0
    assert server.copies() == {(issue, r): 1 for r in readers for issue in (1, 2)}


def test_two_421_replies_to_mail_from_are_not_recorded_as_sent(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    """Defect 2: the 421 branch fell out of the loop after the last attempt and the caller recorded success."""
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 3)
        server.script(Fault("mail", reply="421 4.3.2 shutting down", times=2))
        assert send(config_file) == 3
        out, err = capsys.readouterr()
        assert statuses(settings)[readers[0]] == ("temporary", 1)
        assert "421 4.3.2 shutting down" in send_log(settings, 1)[0]["last_error"]
        assert "deferred: 1 ×" in err and "2 delivered, 1 deferred for retry" in out
        assert send(config_file, "--retries-only", at=NOW + timedelta(hours=2)) == 0
    assert server.copies() == {(1, r): 1 for r in readers}


def test_a_connection_lost_after_the_data_is_resent_once_with_the_same_message_id(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    """Defect 3: accepted, then the connection dropped: 16 copies per reader and a `permanent` row."""
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 4)
        once, always, lost = readers[0], readers[1], readers[2]
        server.script(
            Fault("eod", action="accept_drop", reader=once),
            Fault("eod", action="accept_drop", reader=always, times=None),
            Fault("eod", action="drop", reader=lost),  # not kept by the server: the resend is the one copy
        )
        assert send(config_file) == 3
        log = {r["email"]: r for r in send_log(settings, 1)}
        assert {r: (log[r]["status"], log[r]["ambiguous"]) for r in (once, always, lost)} == {
            r: ("temporary", 1) for r in (once, always, lost)
        }
        capsys.readouterr()
        assert (
            send(config_file, "--retries-only", at=NOW + timedelta(hours=2)) == 4
        )  # `always` is lost for good
        out, err = capsys.readouterr()
        assert "refused for good: 1 × lost: no reply after the message data" in err, err
        assert send(config_file, "--retries-only", at=NOW + timedelta(days=2)) == 0  # and never resent again
        assert capsys.readouterr().out == "no retries due\n"
    log = {r["email"]: r for r in send_log(settings, 1)}
    assert log[always]["status"] == "permanent" and "not resent again" in log[always]["last_error"]
    assert {r: log[r]["status"] for r in (once, lost, readers[3])} == dict.fromkeys(
        (once, lost, readers[3]), "sent"
    )
    copies = server.copies()
    assert copies == {(1, once): 2, (1, always): 2, (1, lost): 1, (1, readers[3]): 1}
    # the resend is the same message: one Message-ID per reader
    assert len({msgid for msgid, rcpt in server.deliveries if rcpt == once}) == 1


def test_a_reply_slower_than_the_timeout_after_the_data_is_ambiguous(
    tmp_path: Path, content_dir: Path, write_update
) -> None:
    with FaultServer() as server:
        config_file, settings, readers = setup(
            tmp_path, content_dir, write_update, server.port, 2, timeout=0.5
        )
        server.script(Fault("eod", action="slow", delay=1.5, reader=readers[0]))
        assert send(config_file) == 3
        assert send_log(settings, 1)[0]["ambiguous"] == 1
        server.settle()  # the slow server keeps the message after all
        assert send(config_file, "--retries-only", at=NOW + timedelta(hours=2)) == 0
    assert server.copies() == {(1, readers[0]): 2, (1, readers[1]): 1}  # one resend, the only extra copy


@pytest.mark.parametrize("stage", ["mail", "rcpt", "data"])
def test_a_slow_reply_before_the_data_is_retried_on_a_new_connection(
    tmp_path: Path, content_dir: Path, write_update, stage: str
) -> None:
    with FaultServer() as server:
        config_file, settings, readers = setup(
            tmp_path, content_dir, write_update, server.port, 2, timeout=0.5
        )
        server.script(Fault(stage, action="slow", delay=1.5))
        assert send(config_file) == 0
    assert server.copies() == {(1, r): 1 for r in readers}
    assert {r["attempts"] for r in send_log(settings, 1)} == {1}


def test_a_port_with_nothing_listening_uses_no_attempt_and_the_counts_stay_right(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    """Defect 4: the first reader's row was left `temporary` (via smtp), so the next run said 5 of 6."""
    dead = free_port()
    config_file, settings, readers = setup(tmp_path, content_dir, write_update, dead, 6)
    assert send(config_file, "--transport", "outbox") == 0  # a rehearsal first
    capsys.readouterr()
    assert send(config_file) == 3
    out, err = capsys.readouterr()
    assert "6 had only been written to the outbox" in out and "6 not reached before the run stopped" in out
    assert "stopped: cannot connect to the SMTP server" in err
    assert send(config_file) == 3  # still down
    # owed by the SMTP send now: queued, no attempt used, nothing claimed
    log = send_log(settings, 1)
    assert {(r["status"], r["transport"], r["attempts"]) for r in log} == {("queued", "smtp", 0)}
    # another rehearsal meanwhile does not take the readers over from the real send
    assert send(config_file, "--transport", "outbox") == 0
    assert "6 owed by a real send, left to it" in capsys.readouterr().out
    with FaultServer(port=dead) as server:
        assert send(config_file, "--retries-only", at=NOW + timedelta(hours=2)) == 0  # the retries job
        assert "issue 1 via smtp: 6 sent" in capsys.readouterr().out
    assert server.copies() == {(1, r): 1 for r in readers}


@pytest.mark.parametrize(
    ("reply", "code", "status"),
    [
        ("450 4.2.1 mailbox busy", 3, "temporary"),
        ("451 4.3.0 try later", 3, "temporary"),
        ("452 4.2.2 over quota", 3, "temporary"),
        ("550 5.1.1 no such user", 4, "permanent"),
        ("552 5.2.2 mailbox full", 4, "permanent"),
        ("554 5.7.1 rejected", 4, "permanent"),
    ],
)
@pytest.mark.parametrize("stage", ["rcpt", "data", "eod"])
def test_exit_code_and_summary_say_delivered_deferred_refused_and_why(
    tmp_path: Path, content_dir: Path, write_update, capsys, stage: str, reply: str, code: int, status: str
) -> None:
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 3)
        server.script(Fault(stage, reply=reply, reader=readers[1]))
        assert send(config_file) == code
        out, err = capsys.readouterr()
        row = send_log(settings, 1)[1]
        assert row["status"] == status and reply in row["last_error"]  # the server's reply, in the log
        kind = "deferred" if code == 3 else "refused for good"
        assert f"issue 1: {kind}: 1 × " in err and reply in err
        if code == 3:
            assert "2 delivered, 1 deferred for retry, 0 refused for good" in out
        else:
            assert "2 delivered, 0 deferred for retry, 1 refused for good" in out
        # a later run has nothing left to do: it does not report the old refusal as new
        assert send(config_file, "--retries-only", at=NOW + timedelta(hours=2)) == 0
    expected = {(1, r): 1 for r in readers}
    if code == 4:
        del expected[(1, readers[1])]
    assert server.copies() == expected


def test_greeting_5xx_and_refused_sender_cannot_run_and_keep_the_queue(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 2)
        server.script(Fault("greeting", reply="554 5.3.2 no service"))
        assert send(config_file) == 1
        assert "554 5.3.2 no service" in capsys.readouterr().err
        server.script(Fault("mail", reply="550 5.7.1 sender not allowed"))
        assert send(config_file) == 1
        assert "refused the sender" in capsys.readouterr().err
        assert {r["status"] for r in send_log(settings, 1)} == {"queued"}
        assert send(config_file, "--retries-only") == 0
    assert server.copies() == {(1, r): 1 for r in readers}


def test_the_retries_job_records_a_deferred_run_as_deferred(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch
) -> None:
    server = FaultServer()
    config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 2)
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(
        f'[scheduler]\nsite = "{config_file}"\n\n[jobs.retries]\nkind = "send"\ninterval = "15m"\n'
        "options = { retries_only = true }\n\n"
        '[jobs.weekly]\nkind = "pipeline"\ncron = { day_of_week = "mon", hour = 8 }\nsteps = [\n'
        f'  {{ kind = "newsletter", options = {{ content = "{content_dir}", out = "{tmp_path / "out"}" }} }},\n'
        '  { kind = "send" },\n]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    write_update("tva", date="2026-11-29T09:00", targets=["17.9"])  # this week's issue: number 2
    assert main(["run", "weekly", "--config", str(schedule)]) == 3  # built issue 2; the server is down
    with server:
        server.script(Fault("rcpt", reply="451 4.7.1 greylisted", reader=readers[0]))
        assert main(["run", "retries", "--config", str(schedule)]) == 3
        assert main(["run", "retries", "--config", str(schedule)]) == 3  # not due yet: still deferred
    runs = sorted(SQLiteRunHistory(settings.state_dir).runs(), key=lambda run: run.id)
    assert [run.outcome for run in runs] == ["deferred"] * 3
    assert runs[0].summary.startswith("newsletter: built issue 2 with 1 update(s); send: deferred: ")
    assert server.copies() == {(2, readers[1]): 1}  # reader 0 greylisted; issue 1's send never started
    assert "1 reader(s) still owed an issue" in runs[-1].summary
    assert "451 4.7.1 greylisted" in runs[1].summary


def test_an_impossible_state_folder_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    config_file = tmp_path / "site.toml"
    config_file.write_text(f'[site]\nstate_dir = "{tmp_path / "site.toml" / "state"}"\n', encoding="utf-8")
    assert main(["send", "--config", str(config_file)]) == 1
    err = capsys.readouterr().err
    # found by the settings check at the start of every command, at its line in site.toml
    assert "site.toml:2: error: [site] state_dir:" in err and "is a file, not a folder" in err
    assert "Traceback" not in err


def test_a_full_disk_mid_send_stops_with_one_line_and_the_next_run_completes(
    tmp_path: Path, content_dir: Path, write_update
) -> None:
    """The file size limit (RLIMIT_FSIZE) makes the state database's writes fail as on a full disk."""
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 40)
        state = tmp_path / "state"
        largest = max(path.stat().st_size for path in state.glob("state.sqlite3*"))
        limit = largest + 24 * 1024  # a few commits' worth of WAL

        def full_disk() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline",
                "send",
                "--config",
                str(config_file),
                "--now",
                "2026-11-27T13:00",
            ],
            cwd=REPO,
            env={**os.environ, "GOAL17_SECRET": SECRET},
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=full_disk,
        )
        assert process.returncode == 1, process.stderr
        assert "Traceback" not in process.stderr
        assert "error: the state database failed" in process.stderr, process.stderr
        delivered = sum(server.copies().values())
        assert 0 < delivered < 40, delivered  # really stopped mid-run
        assert send(config_file) == 0
    copies = server.copies()
    assert set(copies) == {(1, r) for r in readers}
    assert sum(n - 1 for n in copies.values()) <= 1  # at most the one in flight when the disk filled


def test_a_down_server_still_starts_the_new_issue_when_an_older_one_is_unfinished(
    tmp_path: Path, content_dir: Path, write_update
) -> None:
    """Found by the random schedules (seed 17000): the run stopped on the older issue before the
    new issue's readers were queued, so the retries job never sent the new one."""
    server = FaultServer()
    config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 3)
    assert send(config_file) == 3  # issue 1: down
    write_update("tva", date="2026-12-01T09:00", targets=["17.9"])
    build_issue(content_dir, tmp_path / "out", settings, NOW + timedelta(days=7))
    assert send(config_file, at=NOW + timedelta(days=7)) == 3  # issue 2: still down
    assert {r["status"] for r in send_log(settings, 2)} == {"queued"} and len(send_log(settings, 2)) == 3
    with server:
        assert send(config_file, "--retries-only", at=NOW + timedelta(days=7, hours=1)) == 0
    assert server.copies() == {(issue, r): 1 for r in readers for issue in (1, 2)}


def test_a_greeting_slower_than_the_timeout_stops_the_run_and_the_next_one_completes(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    with FaultServer() as server:
        config_file, settings, readers = setup(
            tmp_path, content_dir, write_update, server.port, 3, timeout=0.5
        )
        server.script(Fault("greeting", action="slow", delay=1.5))
        assert send(config_file) == 3
        assert "timed out" in capsys.readouterr().err
        assert {(r["status"], r["attempts"]) for r in send_log(settings, 1)} == {("queued", 0)}
        server.settle()
        assert send(config_file, "--retries-only") == 0
    assert server.copies() == {(1, r): 1 for r in readers}


def test_a_send_log_of_the_previous_version_is_upgraded_in_place(
    tmp_path: Path, content_dir: Path, write_update
) -> None:
    from pipeline.stores import statedb
    from pipeline.stores.sqlite.send_log import MIGRATIONS

    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 3)
        conn = statedb.connect(tmp_path / "state")
        statedb.ensure_schema(conn, "newsletter_delivery", MIGRATIONS[:1])  # the table as it was
        conn.execute(
            "INSERT INTO newsletter_sends (issue, subscriber_id, status, attempts, message_id, transport, "
            "claimed_at, sent_at) VALUES (1, 1, 'sent', 1, '<old>', 'smtp', '2026-11-27T11:00:00Z', "
            "'2026-11-27T11:00:00Z')"
        )
        conn.close()
        assert send(config_file) == 0
    log = send_log(settings, 1)
    assert [(r["status"], r["attempts"], r["ambiguous"]) for r in log] == [("sent", 1, 0)] * 3
    assert log[0]["message_id"] == "<old>"  # kept, not resent
    assert server.copies() == {(1, r): 1 for r in readers[1:]}


@pytest.mark.parametrize("stage", ["rcpt", "data"])
@pytest.mark.parametrize("fault", [{"action": "drop"}, {"reply": "421 4.3.2 closing"}])
def test_a_connection_lost_before_the_data_is_sent_again_on_a_new_one(
    tmp_path: Path, content_dir: Path, write_update, stage: str, fault: dict
) -> None:
    with FaultServer() as server:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, server.port, 3)
        server.script(Fault(stage, reader=readers[1], **fault))
        assert send(config_file) == 0  # nothing of it had gone out: safe to send on a new connection
    assert server.copies() == {(1, r): 1 for r in readers}
    assert [r["attempts"] for r in send_log(settings, 1)] == [1, 1, 1]

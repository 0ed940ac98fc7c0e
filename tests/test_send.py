"""Delivery: outbox and SMTP (real aiosmtpd on loopback), send log, failures, retries, lock, secret."""

from __future__ import annotations

import os
import pty
import ssl
import subprocess
import sys
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.mail import newsletter_config
from pipeline.config.site import load_settings
from pipeline.delivery.send_run import SendBusy, SendLock, send_issue, send_log
from pipeline.delivery.tokens import verify_unsubscribe_token
from pipeline.publishing.issue_build import build_issue
from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import NOW, REPO
from tests.newsletter_helpers import Recorder, smtp_server, smtp_settings, write_settings
from tests.state_db import lock_path

SECRET = "send-test-secret-0123456789-abcdefghij"
ENV = {"GOAL17_SECRET": SECRET}


def prepare(
    folder: Path, content_dir: Path, write_update, config_file: Path, subscribers: list[tuple[str, dict]]
):
    """An issue with two updates and the given subscribers (address, add() keyword arguments)."""
    settings = load_settings(config_file)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    write_update("two", date="2026-11-21T09:00", targets=["17.17"], lang="en")
    build_issue(content_dir, folder / "out", settings, NOW)
    with SubscriberStore.open(newsletter_config(settings).state_dir) as store:
        for address, options in subscribers:
            store.add(address, now=NOW, **options)
    return settings


def test_outbox_sends_to_active_subscribers_once(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    config_file = write_settings(tmp_path)
    settings = prepare(
        tmp_path,
        content_dir,
        write_update,
        config_file,
        [
            ("a@example.se", {}),
            ("b@example.se", {"lang": "en"}),
            ("pending@example.se", {"status": "pending"}),
            ("gone@example.se", {}),
            ("trade@example.se", {"targets": "17.10"}),  # nothing in this issue for 17.10
            ("cap@example.se", {"targets": "17.9"}),
        ],
    )
    with SubscriberStore.open(tmp_path / "state") as store:
        store.unsubscribe(store.find("gone@example.se").uid, now=NOW)
    args = ["send", "--config", str(config_file), "--now", "2026-11-27T13:00"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "issue 1 via outbox: 3 sent, 0 skipped as already sent, 0 failed" in out
    assert "1 with nothing for their targets" in out and "development secret" in err
    outbox = tmp_path / "state" / "outbox"
    files = sorted(outbox.glob("*.eml"))
    recipients = sorted(str(message_from_bytes(f.read_bytes(), policy=default)["To"]) for f in files)
    assert recipients == ["a@example.se", "b@example.se", "cap@example.se"]
    english = next(f for f in files if b"To: b@example.se" in f.read_bytes())
    assert message_from_bytes(english.read_bytes(), policy=default)["Content-Language"] == "en"
    mtimes = {f: f.stat().st_mtime_ns for f in files}
    # a second run sends nothing again
    assert main(args) == 0
    assert "0 sent, 3 skipped as already sent" in capsys.readouterr().out
    assert {f: f.stat().st_mtime_ns for f in sorted(outbox.glob("*.eml"))} == mtimes
    log = send_log(settings, 1)
    assert [(r["email"], r["status"], r["attempts"]) for r in log] == [
        ("a@example.se", "sent", 1),
        ("b@example.se", "sent", 1),
        ("cap@example.se", "sent", 1),
    ]


def test_send_to_one_address_is_a_test_outside_the_log(
    tmp_path: Path, content_dir: Path, write_update, capsys
) -> None:
    config_file = write_settings(tmp_path)
    settings = prepare(tmp_path, content_dir, write_update, config_file, [("a@example.se", {})])
    assert main(["send", "--config", str(config_file), "--to", "Tester@Example.se", "--lang", "en"]) == 0
    assert "sent a test message to Tester@Example.se" in capsys.readouterr().out
    files = list((tmp_path / "state" / "outbox").glob("*.eml"))
    assert len(files) == 1
    msg = message_from_bytes(files[0].read_bytes(), policy=default)
    assert str(msg["To"]) == "Tester@example.se" and str(msg["Content-Language"]) == "en"
    assert send_log(settings, 1) == []


def test_smtp_needs_the_secret_and_sends_nothing_without_it(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("GOAL17_SECRET", raising=False)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        config_file = smtp_settings(tmp_path, port)
        prepare(tmp_path, content_dir, write_update, config_file, [("a@example.se", {})])
        assert main(["send", "--config", str(config_file), "--transport", "smtp"]) == 1
    assert "GOAL17_SECRET is not set" in capsys.readouterr().err
    assert recorder.messages == []


def test_smtp_permanent_and_temporary_failures(tmp_path: Path, content_dir: Path, write_update) -> None:
    recorder = Recorder()
    recorder.refuse = {
        "bad@example.se": "550 5.1.1 No such user",
        "later@example.se": "451 4.3.0 Try again later",
    }
    with smtp_server(recorder) as port:
        config_file = smtp_settings(tmp_path, port)
        settings = prepare(
            tmp_path,
            content_dir,
            write_update,
            config_file,
            [(a, {}) for a in ("a@example.se", "bad@example.se", "later@example.se", "c@example.se")],
        )

        def send(now):
            return send_issue(settings, transport_name="smtp", now=now, environ=ENV)

        first = send(NOW)
        assert (first.sent, first.permanent, first.temporary) == (2, 1, 1)
        assert sorted(recorder.recipients()) == [
            "a@example.se",
            "c@example.se",
        ]  # the bad one stopped nothing
        statuses = {r["email"]: (r["status"], r["attempts"]) for r in send_log(settings, 1)}
        assert statuses["bad@example.se"] == ("permanent", 1)
        assert statuses["later@example.se"] == ("temporary", 1)
        assert "550" in next(r["last_error"] for r in send_log(settings, 1) if r["email"] == "bad@example.se")

        recorder.refuse.pop("later@example.se")
        too_soon = send(NOW + timedelta(minutes=1))
        assert (too_soon.sent, too_soon.waiting, too_soon.permanent_before, too_soon.already_sent) == (
            0,
            1,
            1,
            2,
        )
        due = send(NOW + timedelta(minutes=10))
        assert (due.sent, due.already_sent, due.permanent_before) == (1, 2, 1)
    assert recorder.recipients() == {"a@example.se": 1, "c@example.se": 1, "later@example.se": 1}
    assert recorder.rcpt_attempts["bad@example.se"] == 1  # never retried
    # what the server got is the real thing: the one-click link verifies
    msg = message_from_bytes(recorder.messages[0][1], policy=default)
    token = str(msg["List-Unsubscribe"]).split("/unsubscribe/")[1].split(">")[0]
    uid = verify_unsubscribe_token(SECRET.encode(), token, newsletter_config(settings).list_id, now=NOW)
    with SubscriberStore.open(tmp_path / "state") as store:
        assert store.get(uid).email == str(msg["To"])


def test_smtp_refuses_an_http_unsubscribe_link_from_the_base_url(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        config_file = smtp_settings(tmp_path, port)
        text = config_file.read_text(encoding="utf-8")
        config_file.write_text(
            text.replace("[site]\n", '[site]\nbase_url = "http://mal17.example.se/"\n'), encoding="utf-8"
        )
        prepare(tmp_path, content_dir, write_update, config_file, [("a@example.se", {})])
        for extra in ([], ["--to", "test@example.se"]):
            assert main(["send", "--config", str(config_file), "--transport", "smtp", *extra]) == 1
            err = capsys.readouterr().err
            assert "[newsletter] unsubscribe_url is 'http://mal17.example.se/unsubscribe/'" in err, err
            assert "https://" in err and "nothing sent" in err
        # the outbox (for checking) still works with a local http site
        assert main(["send", "--config", str(config_file)]) == 0
    assert recorder.messages == []


def test_an_outbox_rehearsal_does_not_keep_the_issue_from_smtp(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch
) -> None:
    """Checking an issue in the outbox first, then sending it for real, reaches everyone once."""
    recorder = Recorder()
    with smtp_server(recorder) as port:
        config_file = smtp_settings(tmp_path, port)
        settings = prepare(
            tmp_path, content_dir, write_update, config_file, [("a@example.se", {}), ("b@example.se", {})]
        )
        assert main(["send", "--config", str(config_file), "--transport", "outbox"]) == 0
        assert len(list((tmp_path / "state" / "outbox").glob("*.eml"))) == 2
        capsys.readouterr()
        smtp = ["send", "--config", str(config_file), "--transport", "smtp"]
        monkeypatch.setenv("GOAL17_SECRET", SECRET)
        assert main(smtp) == 0
        out = capsys.readouterr().out
        assert "issue 1 via smtp: 2 sent, 0 skipped as already sent" in out, out
        assert "2 had only been written to the outbox" in out
        assert main(smtp) == 0  # and then nobody twice
        assert "0 sent, 2 skipped as already sent" in capsys.readouterr().out
        # an outbox run after the real one writes nothing
        assert main(["send", "--config", str(config_file), "--transport", "outbox"]) == 0
        assert "0 sent, 2 skipped as already sent" in capsys.readouterr().out
    assert recorder.recipients() == {"a@example.se": 1, "b@example.se": 1}
    log = {r["email"]: (r["status"], r["transport"], r["attempts"]) for r in send_log(settings, 1)}
    assert log == {"a@example.se": ("sent", "smtp", 1), "b@example.se": ("sent", "smtp", 1)}


def test_a_deferred_reader_gets_an_older_issue_from_the_retries_job(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch
) -> None:
    """Greylisting (451) on Monday: the weekly send of the next issue alone never retried the first
    one; now every send run (the weekly one, and the retries job) completes it, and the retries
    job sends nothing to anybody else."""
    from pipeline.schedule.newsletter_jobs import send_job

    recorder = Recorder()
    recorder.refuse = {"grey@example.se": "451 4.7.1 Greylisted, try again later"}
    with smtp_server(recorder) as port:
        config_file = smtp_settings(tmp_path, port, '[newsletter]\ntransport = "smtp"\n')
        settings = prepare(
            tmp_path, content_dir, write_update, config_file, [("a@example.se", {}), ("grey@example.se", {})]
        )
        first = send_issue(settings, now=NOW, environ=ENV)
        assert (first.sent, first.temporary) == (1, 1)
        recorder.refuse.clear()
        write_update("tre", date="2026-11-28T09:00", targets=["17.9"])
        build_issue(content_dir, tmp_path / "out", settings, NOW + timedelta(days=7))
        with SubscriberStore.open(tmp_path / "state") as store:
            store.add("new@example.se", now=NOW + timedelta(days=7))
        monkeypatch.setenv("GOAL17_SECRET", SECRET)
        week = NOW + timedelta(days=7)
        # issue 17: every send run first completes the unfinished sends, oldest first (this used to be
        # left to the retries job alone: the weekly send sent only issue 2)
        weekly = send_job(settings, {"now": week.isoformat()})
        assert weekly.startswith("issue 1 via smtp: 1 sent, 0 skipped as already sent, 0 failed"), weekly
        assert "; issue 2 via smtp: 3 sent" in weekly, weekly
        assert send_job(settings, {"retries_only": True, "now": week.isoformat()}) == "no retries due"
        assert main(["send", "--config", str(config_file), "--retries-only"]) == 0
        assert capsys.readouterr().out == "no retries due\n"
    got = sorted(
        (rcpts[0], message_from_bytes(data, policy=default)["Message-ID"])
        for rcpts, data in recorder.messages
    )
    issues = [(address, str(mid).split(".")[1]) for address, mid in got]
    assert sorted(issues) == [
        ("a@example.se", "1"),
        ("a@example.se", "2"),
        ("grey@example.se", "1"),
        ("grey@example.se", "2"),
        ("new@example.se", "2"),
    ]


def _tls_files(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_smtp_over_tls_with_login_reuses_one_connection(
    tmp_path: Path, content_dir: Path, write_update, security: str
) -> None:
    cert, key = _tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[str] = []
    sessions: set[int] = set()

    class Auth:
        def __call__(self, server, session, envelope, mechanism, auth_data):
            from aiosmtpd.smtp import AuthResult

            logins.append(auth_data.login.decode())
            ok = auth_data.login == b"mailer" and auth_data.password == b"hunter2-long"
            return AuthResult(success=ok)

    class Counting(Recorder):
        async def handle_DATA(self, server, session, envelope):
            sessions.add(id(session))
            return await super().handle_DATA(server, session, envelope)

    recorder = Counting()
    options = {"authenticator": Auth(), "auth_require_tls": True}
    if security == "starttls":
        options.update(tls_context=context, require_starttls=True)
    else:
        # implicit TLS wraps the socket below aiosmtpd, which then cannot tell that AUTH is safe
        options.update(ssl_context=context, auth_require_tls=False)
    with smtp_server(recorder, **options) as port:
        config_file = smtp_settings(tmp_path, port, f'ca_file = "{cert}"\n', security=security)
        settings = prepare(
            tmp_path, content_dir, write_update, config_file, [(f"r{n}@example.se", {}) for n in range(5)]
        )
        env = {**ENV, "GOAL17_SMTP_USER": "mailer", "GOAL17_SMTP_PASSWORD": "hunter2-long"}
        summary = send_issue(settings, transport_name="smtp", now=NOW, environ=env)
        assert summary.sent == 5
    assert len(recorder.recipients()) == 5 and len(sessions) == 1  # one connection for all five
    assert logins[0] == "mailer"


def test_lock_refuses_a_second_sender(tmp_path: Path, content_dir: Path, write_update) -> None:
    config_file = write_settings(tmp_path)
    settings = prepare(tmp_path, content_dir, write_update, config_file, [("a@example.se", {})])
    with (
        SendLock(lock_path(newsletter_config(settings))),
        pytest.raises(SendBusy, match=f"pid {os.getpid()}"),
    ):
        send_issue(settings, now=NOW)
    assert send_issue(settings, now=NOW).sent == 1  # released


def _run_send(config_file: Path, *extra: str, stderr=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "send", "--config", str(config_file), *extra],
        cwd=REPO,
        env={**os.environ, **ENV},
        capture_output=stderr is None,
        stderr=stderr,
        text=True,
        timeout=60,
    )


def test_progress_bar_only_on_a_terminal(tmp_path: Path, content_dir: Path, write_update) -> None:
    config_file = write_settings(tmp_path)
    prepare(tmp_path, content_dir, write_update, config_file, [(f"r{n}@example.se", {}) for n in range(3)])
    plain = _run_send(config_file, "--now", "2026-11-27T13:00")
    assert plain.returncode == 0 and "\r" not in plain.stderr and "[" not in plain.stderr
    with SubscriberStore.open(tmp_path / "state") as store:
        store.add("more@example.se", now=NOW)
    leader, follower = pty.openpty()
    try:
        done = _run_send(config_file, "--now", "2026-11-27T13:00", stderr=follower)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    # redrawn in place: rich erases the line (CSI 2K) where the old bar returned the carriage
    assert b"\x1b[2Kissue 1 [" in b"".join(chunks) and b"1/1" in b"".join(chunks)


def test_scheduler_jobs_build_and_send(tmp_path: Path, content_dir: Path, write_update) -> None:
    from pipeline.schedule.newsletter_jobs import newsletter_job, send_job

    config_file = write_settings(tmp_path)
    settings = load_settings(config_file)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    with SubscriberStore.open(tmp_path / "state") as store:
        store.add("a@example.se", now=NOW)
    options = {"content": str(content_dir), "out": str(tmp_path / "out"), "now": "2026-11-27T12:00"}
    assert newsletter_job(settings, options) == "built issue 1 with 1 update(s)"
    assert newsletter_job(settings, options) == "no new updates, no issue built"
    line = send_job(settings, {"transport": "outbox", "now": "2026-11-27T13:00"})
    assert line.startswith("issue 1 via outbox: 1 sent, 0 skipped as already sent, 0 failed")


def test_weekly_pipeline_summary_names_each_step_once(
    tmp_path: Path, content_dir: Path, write_update
) -> None:
    """The shipped weekly job's steps, through the scheduler's pipeline kind: one label per step."""
    from pipeline.schedule.registry import Step, run_pipeline

    settings = load_settings(write_settings(tmp_path))
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    with SubscriberStore.open(tmp_path / "state") as store:
        store.add("a@example.se", now=NOW)
    now = "2026-11-27T12:00"
    steps = [
        Step("newsletter", {"content": str(content_dir), "out": str(tmp_path / "out"), "now": now}),
        Step("send", {"now": now}),
    ]
    assert run_pipeline(settings, steps) == (
        "newsletter: built issue 1 with 1 update(s); "
        "send: issue 1 via outbox: 1 sent, 0 skipped as already sent, 0 failed; "
        "readers of issue 1: 1 delivered, 0 deferred for retry, 0 refused for good"  # issue 17: the totals
    )


def test_a_bad_rate_is_a_usage_error(capsys):
    """``--rate fast`` is a wrong command line (exit 2 with the usage), refused before any state is opened."""
    with pytest.raises(SystemExit) as stop:
        main(["send", "--rate", "fast"])
    assert stop.value.code == 2
    assert "argument --rate: not a rate: 'fast'" in capsys.readouterr().err

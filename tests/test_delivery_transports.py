"""The transport seam: a new transport is one module and one registry line, nothing else.

The "module" here is a class in this file; the "registry line" is one ``KINDS`` entry, set for
the test only. Sending an issue through it goes through the real command line, send run, send log
and settings check, so every room that used to spell ``"outbox"``/``"smtp"`` is exercised.
"""

from __future__ import annotations

from collections.abc import Mapping
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.mail import newsletter_config
from pipeline.config.site import Settings, SettingsError, load_settings
from pipeline.delivery import transports
from pipeline.delivery.message import Prepared
from pipeline.delivery.send_run import send_log
from pipeline.delivery.transports import (
    KINDS,
    MessagePacer,
    TransportKind,
    UnknownTransport,
    reaches_readers,
    transport_kind,
    transport_names,
)
from pipeline.publishing.issue_build import build_issue
from pipeline.schedule.registry import KINDS as JOB_KINDS
from pipeline.stores.subscribers import SubscriberStore
from pipeline.web.mail_handoff import transport_mailer
from tests.conftest import NOW
from tests.newsletter_helpers import write_settings

NOW_ARG = "2026-11-27T13:00"
ENV = {"GOAL17_SECRET": "transport-test-secret-0123456789-abcdefghij"}


def prepare(
    folder: Path, content_dir: Path, write_update, config_file: Path, addresses: list[str]
) -> Settings:
    """One issue with one update, and ``addresses`` as active subscribers."""
    settings = load_settings(config_file)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    build_issue(content_dir, folder / "out", settings, NOW)
    with SubscriberStore.open(settings.newsletter.state_dir) as store:
        for address in addresses:
            store.add(address, now=NOW)
    return settings


class PigeonTransport:
    """Keeps every message it is handed, per channel, as a stand-in for a new delivery service."""

    name = "pigeon"
    delivered: dict[str, list[Prepared]] = {}

    def __init__(self, channel: str):
        self.channel = channel
        self.opened = self.closed = False

    def open(self) -> None:
        self.opened = True

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        self.delivered.setdefault(self.channel, []).append(prepared)

    def close(self) -> None:
        self.closed = True


def make_pigeon(settings: Settings, environ: Mapping[str, str] | None, channel: str) -> PigeonTransport:
    return PigeonTransport(channel)


@pytest.fixture
def pigeon(monkeypatch):
    """Register the pigeon (the one registry line) for this test only."""
    PigeonTransport.delivered = {}
    kind = TransportKind("pigeon", make_pigeon, True, "hand messages to a pigeon")
    monkeypatch.setitem(KINDS, "pigeon", kind)
    return kind


def test_a_registered_transport_sends_an_issue_through_the_command_line(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch, pigeon
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config_file = write_settings(tmp_path)
    addresses = ["a@example.se", "b@example.se"]
    settings = prepare(tmp_path, content_dir, write_update, config_file, addresses)
    args = ["send", "--config", str(config_file), "--transport", "pigeon", "--now", NOW_ARG]
    assert main(args) == 0
    assert "issue 1 via pigeon: 2 sent, 0 skipped as already sent, 0 failed" in capsys.readouterr().out
    sent = PigeonTransport.delivered["issues"]
    assert sorted(p.recipient for p in sent) == addresses
    assert {str(message_from_bytes(p.data, policy=default)["To"]) for p in sent} == set(addresses)
    log = send_log(settings, 1)
    assert {(r["email"], r["status"], r["transport"]) for r in log} == {
        (a, "sent", "pigeon") for a in addresses
    }
    assert main(args) == 0  # the send log keeps its promise for a new transport too
    assert "0 sent, 2 skipped as already sent" in capsys.readouterr().out
    assert len(PigeonTransport.delivered["issues"]) == 2
    assert not (tmp_path / "state" / "outbox").exists()


def test_a_transport_that_reaches_readers_needs_the_real_secret(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch, pigeon
) -> None:
    monkeypatch.delenv("GOAL17_SECRET", raising=False)
    config_file = write_settings(tmp_path, '[newsletter]\ntransport = "pigeon"\n')
    prepare(tmp_path, content_dir, write_update, config_file, ["a@example.se"])
    assert main(["send", "--config", str(config_file), "--now", NOW_ARG]) == 1
    assert "GOAL17_SECRET" in capsys.readouterr().err
    assert PigeonTransport.delivered == {}


def test_a_rehearsal_transport_may_use_the_development_secret(
    tmp_path: Path, content_dir: Path, write_update, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("GOAL17_SECRET", raising=False)
    PigeonTransport.delivered = {}
    monkeypatch.setitem(KINDS, "pigeon", TransportKind("pigeon", make_pigeon, False, "a rehearsal pigeon"))
    config_file = write_settings(tmp_path)
    prepare(tmp_path, content_dir, write_update, config_file, ["a@example.se"])
    assert main(["send", "--config", str(config_file), "--transport", "pigeon", "--now", NOW_ARG]) == 0
    assert "the pigeon messages use the public development secret" in capsys.readouterr().err
    assert len(PigeonTransport.delivered["issues"]) == 1


def test_the_settings_know_the_registered_transports(tmp_path: Path, monkeypatch) -> None:
    config_file = write_settings(tmp_path, '[newsletter]\ntransport = "pigeon"\n')
    with pytest.raises(SettingsError, match="must be one of outbox, smtp, got 'pigeon'"):
        newsletter_config(load_settings(config_file))
    monkeypatch.setitem(KINDS, "pigeon", TransportKind("pigeon", make_pigeon, True, "a pigeon"))
    assert load_settings(config_file).newsletter.transport == "pigeon"


def test_the_web_service_hands_sign_up_mail_to_the_configured_transport(tmp_path: Path, pigeon) -> None:
    settings = load_settings(write_settings(tmp_path, '[newsletter]\ntransport = "pigeon"\n'))
    message = EmailMessage()
    message["To"] = "ny@example.se"
    message["From"] = settings.sender_email
    message["Message-ID"] = "<confirm-1@example.se>"
    message["Subject"] = "Bekräfta"
    message.set_content("Klicka på länken.")
    transport_mailer(settings)(message)
    assert [p.recipient for p in PigeonTransport.delivered["web"]] == ["ny@example.se"]


def test_registry_facts() -> None:
    assert transport_names() == ("outbox", "smtp")
    assert JOB_KINDS["send"].choices["transport"] == transport_names()
    assert not reaches_readers("outbox") and reaches_readers("smtp")
    assert reaches_readers("no-such-transport")  # a misspelt name never loosens the rules for real mail
    with pytest.raises(UnknownTransport, match=r"unknown transport 'carrier' \(use outbox or smtp\)"):
        transport_kind("carrier")
    assert transport_kind("smtp").tables == ("smtp",) and transport_kind("outbox").tables == ()


def test_default_rates_come_from_the_kind(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, "[smtp]\nrate = 25\n"))
    assert transport_kind("smtp").default_rate(settings) == 25.0
    assert transport_kind("outbox").default_rate(settings) == 0.0


def test_the_registry_imports_no_transport_until_one_is_made(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    code = (
        "import sys, pipeline.delivery.transports, pipeline.config.mail, pipeline.schedule.registry\n"
        "print(sorted(m for m in ('smtplib', 'ssl', 'pipeline.delivery.message') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]"
    kind = transport_kind("outbox")
    settings = load_settings(write_settings(tmp_path))
    made = kind.make(settings, channel=transports.WEB)
    assert made.name == "outbox" and made.folder == settings.newsletter.outbox / "web"
    assert kind.make(settings).folder == settings.newsletter.outbox


def test_the_pacer_spaces_messages_evenly() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = MessagePacer(4.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        pacer.wait()
    assert slept == [0.25, 0.25]
    clock[0] += 10  # a slow message: no catching up with a burst afterwards
    pacer.wait()
    pacer.wait()
    assert slept == [0.25, 0.25, 0.25]
    unlimited = MessagePacer(0, clock=lambda: clock[0], sleep=sleep)
    unlimited.wait()
    unlimited.wait()
    assert len(slept) == 3

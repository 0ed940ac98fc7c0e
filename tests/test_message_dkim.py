"""DKIM (dkimpy): the bytes the SMTP server receives carry a signature that verifies and covers
both List-Unsubscribe headers; changing either breaks it."""

from __future__ import annotations

import base64
import subprocess
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import dkim

from pipeline.config.site import load_settings
from pipeline.delivery.send_run import send_issue
from pipeline.publishing.issue_build import build_issue
from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import NOW
from tests.newsletter_helpers import Recorder, smtp_server, smtp_settings


def make_key(folder: Path) -> tuple[Path, bytes]:
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def test_dkim_signature_covers_list_unsubscribe_and_verifies(
    tmp_path: Path, content_dir: Path, write_update
) -> None:
    key, record = make_key(tmp_path)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        config_file = smtp_settings(
            tmp_path, port, f'[newsletter]\ndkim_selector = "nl2026"\ndkim_key_file = "{key.name}"\n'
        )
        settings = load_settings(config_file)
        write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
        build_issue(content_dir, tmp_path / "out", settings, NOW)
        with SubscriberStore.open(tmp_path / "state") as store:
            store.add("a@example.se", now=NOW)
        env = {"GOAL17_SECRET": "dkim-test-secret-0123456789-abcdefghij"}
        assert send_issue(settings, transport_name="smtp", now=NOW, environ=env).sent == 1
    received = recorder.messages[0][1]

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"nl2026._domainkey.example.se."
        return record

    assert dkim.verify(received, dnsfunc=dns)
    signature = str(message_from_bytes(received, policy=default)["DKIM-Signature"])
    tags = dict(
        part.strip().split("=", 1) for part in signature.replace("\r\n", "").split(";") if "=" in part
    )
    signed = [h.strip().lower() for h in tags["h"].split(":")]
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "to", "subject", "message-id"} <= set(signed)
    assert tags["d"] == "example.se" and tags["s"] == "nl2026"
    # tampering with either unsubscribe header (or the body) breaks the signature
    for old, new in (
        (b"/unsubscribe/", b"/unsubscribe/x"),
        (b"List-Unsubscribe=One-Click", b"List-Unsubscribe=Two-Click"),
        (b"Avsluta prenumerationen", b"Avsluta prenumerationen!"),
    ):
        assert old in received
        assert not dkim.verify(received.replace(old, new, 1), dnsfunc=dns)

"""Subscriber list and signed tokens: through the CLI and the library API the web service uses."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.delivery import tokens
from pipeline.stores.protocols import SubscriberStore
from pipeline.stores.subscribers import SubscriberError
from tests.conftest import NOW


@pytest.fixture
def config_file(tmp_path: Path, state_backend) -> Path:
    path = tmp_path / "site.toml"
    path.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    return path


@pytest.fixture
def store(state_backend):
    with state_backend.subscribers() as opened:
        yield opened


def cli(config: Path, *argv: str) -> int:
    return main(["subscribers", argv[0], "--config", str(config), "--now", "2026-11-27T12:00", *argv[1:]])


def test_add_validates_and_deduplicates_case_insensitively(store: SubscriberStore) -> None:
    first, created = store.add("Anna.Svensson@Example.SE", now=NOW, lang="en", targets="17.17 17.9")
    assert created and first.email == "Anna.Svensson@example.se" and first.status == "active"
    assert first.targets == ("17.9", "17.17")  # taxonomy order
    again, created = store.add("anna.svensson@EXAMPLE.se", now=NOW + timedelta(days=1), lang="sv")
    assert not created and again == first
    assert [s.email for s in store.list()] == ["Anna.Svensson@example.se"]
    with pytest.raises(SubscriberError, match="invalid email address"):
        store.add("not an address", now=NOW)
    with pytest.raises(SubscriberError, match="unknown target"):
        store.add("b@example.se", now=NOW, targets="17.20")
    with pytest.raises(SubscriberError, match="language"):
        store.add("b@example.se", now=NOW, lang="de")


def test_status_changes_keep_timestamps_and_consent(store: SubscriberStore) -> None:
    pending, _ = store.add(
        "p@example.se", now=NOW, status="pending", source="form", page="https://partner.example/"
    )
    assert pending.status == "pending" and pending.confirmed_at is None and not pending.mailable
    assert store.active() == []
    later = NOW + timedelta(hours=2)
    active = store.confirm(pending.uid, now=later, page="https://mal17.example.se/confirm")
    assert active.status == "active" and active.confirmed_at == later and active.mailable
    gone = store.unsubscribe(active.uid, now=later + timedelta(days=3), source="api")
    assert gone.status == "unsubscribed" and gone.unsubscribed_at == later + timedelta(days=3)
    assert (
        store.unsubscribe(active.uid, now=later + timedelta(days=9)).unsubscribed_at == gone.unsubscribed_at
    )
    assert store.active() == []
    # a plain add does not bring back someone who left; resubscribe does, with new consent
    same, created = store.add("P@example.se", now=later + timedelta(days=10))
    assert not created and same.status == "unsubscribed"
    back, created = store.add("p@example.se", now=later + timedelta(days=10), resubscribe=True, source="cli")
    assert created and back.status == "active" and back.unsubscribed_at is None and back.uid == pending.uid
    events = [(r.event, r.source, r.page) for r in store.consent_records(pending.uid)]
    assert events == [
        ("subscribed", "form", "https://partner.example/"),
        ("confirmed", "form", "https://mal17.example.se/confirm"),
        ("unsubscribed", "api", None),
        ("resubscribed", "cli", None),
    ]
    record = store.export_record(pending.uid)
    assert record["email"] == "p@example.se" and len(record["consent"]) == 4
    changed = store.set_preferences(pending.uid, now=later, lang="en", targets=["17.18"])
    assert (changed.lang, changed.targets) == ("en", ("17.18",))
    assert changed.wants(("17.18", "17.19")) and not changed.wants(("17.9",))


def test_erase_keeps_only_a_hash_that_blocks_reimport(store: SubscriberStore, state_backend) -> None:
    subscriber, _ = store.add("erase.me@example.se", now=NOW)
    store.erase(subscriber.uid, now=NOW)
    assert store.find("erase.me@example.se") is None
    with state_backend.connection() as conn:
        rows = conn.execute("SELECT email_hash FROM subscriber_suppressions").fetchall()
    assert len(rows) == 1 and "erase" not in rows[0][0]
    report = store.import_csv("email\nErase.Me@example.se\n", now=NOW)
    assert report.added == 0 and report.rejected[0][0] == 2
    with pytest.raises(SubscriberError, match="erased"):
        store.add("erase.me@example.se", now=NOW)


def test_csv_import_reports_bad_rows_by_line_and_imports_the_rest(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(config_file, "add", "known@example.se") == 0
    data = tmp_path / "list.csv"
    data.write_text(
        "email,lang,targets\n"  # line 1
        "ok1@example.se,sv,\n"  # 2
        "not-an-address,sv,\n"  # 3
        "ok2@example.se,en,17.9 17.17\n"  # 4
        "ok3@example.se,de,\n"  # 5: bad language
        "ok4@example.se,sv,17.99\n"  # 6: bad target
        "OK1@example.se,sv,\n"  # 7: duplicate of line 2
        "KNOWN@example.se,sv,\n"  # 8: already subscribed: not an error
        "ok5@example.se\n",  # 9
        encoding="utf-8",
    )
    capsys.readouterr()
    assert cli(config_file, "import", str(data)) == 1  # some rows rejected
    out, err = capsys.readouterr()
    assert f"{data}:3: rejected: invalid email address 'not-an-address'" in err
    assert f"{data}:5: rejected: lang must be one of sv, en" in err
    assert f"{data}:6: rejected: unknown target(s) 17.99" in err
    assert f"{data}:7: rejected: OK1@example.se is already on line 2" in err
    assert err.count("rejected:") == 4
    assert "imported 3 subscriber(s)" in out and "1 already on the list" in out
    capsys.readouterr()
    assert cli(config_file, "list") == 0
    listed = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["known@example.se", "ok1@example.se", "ok2@example.se", "ok5@example.se"]


def test_csv_from_a_swedish_spreadsheet_semicolons_bom_and_crlf(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel with a Swedish locale saves 'CSV UTF-8' with ';' between fields, a BOM and CRLF."""
    data = tmp_path / "lista.csv"
    data.write_bytes("\ufeffE-post;x\r\n".encode())  # no 'email' column: still the clear error
    assert cli(config_file, "import", str(data)) == 1
    assert "needs a header row with an 'email' column" in capsys.readouterr().err
    data.write_bytes(
        (
            "\ufeffEmail;Lang;Targets\r\n"
            "anna@example.se;SV;17.9 17.17\r\n"
            "\r\n"  # a blank line is skipped, not an error
            "bo@example.se;En;\r\n"
            "cecilia@example.se;fi;\r\n"  # line 5: a language we do not send
        ).encode("utf-8")
    )
    assert cli(config_file, "import", str(data)) == 1
    out, err = capsys.readouterr()
    assert err.strip() == f"{data}:5: rejected: lang must be one of sv, en, got 'fi'"
    assert "imported 2 subscriber(s)" in out
    assert cli(config_file, "list") == 0
    rows = [line.split("\t")[:4] for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["anna@example.se", "active", "sv", "17.9 17.17"],
        ["bo@example.se", "active", "en", "all"],
    ]


def test_csv_without_email_column_imports_nothing(config_file: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("mail\na@example.se\n", encoding="utf-8")
    assert cli(config_file, "import", str(data)) == 1
    assert "needs a header row with an 'email' column" in capsys.readouterr().err
    assert cli(config_file, "list") == 0
    assert capsys.readouterr().out == ""


def test_export_then_import_round_trips(
    config_file: Path, tmp_path: Path, capsys, state_backend, another_installation
) -> None:
    assert cli(config_file, "add", "a@example.se", "--lang", "en", "--targets", "17.9") == 0
    assert cli(config_file, "add", "b@example.se", "--pending") == 0
    assert cli(config_file, "add", "c@example.se") == 0
    assert cli(config_file, "remove", "C@example.se") == 0
    exported = tmp_path / "out.csv"
    assert cli(config_file, "export", str(exported)) == 0
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [(r["email"], r["status"], r["lang"], r["targets"]) for r in rows] == [
        ("a@example.se", "active", "en", "17.9"),
        ("b@example.se", "pending", "sv", ""),
        ("c@example.se", "unsubscribed", "sv", ""),
    ]
    assert rows[0]["consent_source"] == "cli" and rows[2]["unsubscribed_at"] == "2026-11-27T11:00:00Z"
    other = tmp_path / "other.toml"
    other.write_text('[site]\nstate_dir = "state2"\n', encoding="utf-8")
    # Moved to another installation a month later: the consent evidence moves with the list.
    later = ["--config", str(other), "--now", "2026-12-27T12:00"]
    installation = another_installation(state_backend, "state2")
    assert main(["subscribers", "import", *later, str(exported)]) == 0
    with installation.subscribers() as second:
        assert [(s.email, s.status, s.lang, s.targets) for s in second.list()] == [
            ("a@example.se", "active", "en", ("17.9",)),
            ("b@example.se", "pending", "sv", ()),
            ("c@example.se", "unsubscribed", "sv", ()),
        ]
        imported = next(iter(second.list()))
        log = second.consent_records(imported.uid)
        assert log[-1].at.isoformat().startswith("2026-12-27")  # the log says when it was imported
    again = tmp_path / "again.csv"
    assert main(["subscribers", "export", *later, str(again)]) == 0
    assert again.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")


def test_csv_timestamps_are_checked_by_line(store: SubscriberStore) -> None:
    text = (
        "email,consent_at,consent_source\n"
        "ok@example.se,2026-03-14T08:00:00Z,form\n"
        "naive@example.se,2026-03-14T08:00:00,form\n"
        "future@example.se,2030-01-01T00:00:00Z,form\n"
        "garbled@example.se,igår,form\n"
        "source@example.se,2026-03-14T08:00:00Z,telefon\n"
    )
    report = store.import_csv(text, now=NOW)
    assert report.added == 1
    assert [(line, message.split(":")[0].split(", got")[0]) for line, message in report.rejected] == [
        (3, "consent_at needs a time zone"),
        (4, "consent_at is in the future"),
        (5, "consent_at is not a timestamp"),
        (6, "consent_source must be one of form, import, api, cli"),
    ]
    (subscriber,) = list(store.list())
    assert (subscriber.consent_source, subscriber.consent_at.isoformat()) == (
        "form",
        "2026-03-14T08:00:00+00:00",
    )


def test_unknown_address_and_erase_via_cli(config_file: Path, capsys) -> None:
    assert cli(config_file, "remove", "nobody@example.se") == 1
    assert "nobody@example.se is not on the list" in capsys.readouterr().err
    assert cli(config_file, "add", "gone@example.se") == 0
    assert cli(config_file, "remove", "gone@example.se", "--erase") == 0
    assert cli(config_file, "add", "gone@example.se") == 1
    assert "erased" in capsys.readouterr().err


# -- tokens --------------------------------------------------------------------------------------

SECRET = b"0123456789abcdef-test-secret"


def test_unsubscribe_token_round_trip_and_refusals() -> None:
    token = tokens.unsubscribe_token(SECRET, "AbC_12-xyz99", "news.example.se")
    assert tokens.verify_unsubscribe_token(SECRET, token, "news.example.se", now=NOW) == "AbC_12-xyz99"
    assert len(token) == 33 and all(c.isalnum() or c in "._-" for c in token)
    refused = [
        token[:-1],  # truncated
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # forged MAC
        "XbC_12-xyz99" + token[12:],  # another subscriber
        "",
        "a.b.c.d",
        "x" * 500,
    ]
    for bad in refused:
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify_unsubscribe_token(SECRET, bad, "news.example.se", now=NOW)
    with pytest.raises(tokens.TokenInvalid):  # another list
        tokens.verify_unsubscribe_token(SECRET, token, "other.example.se", now=NOW)
    with pytest.raises(tokens.TokenInvalid):  # another secret
        tokens.verify_unsubscribe_token(b"another-secret-of-16+", token, "news.example.se", now=NOW)


def test_signed_token_purpose_expiry_and_binding() -> None:
    expires = NOW + timedelta(days=7)
    token = tokens.sign(SECRET, tokens.CONFIRM_PURPOSE, "uid123", expires=expires, bind="pending")
    verified = tokens.verify(SECRET, token, tokens.CONFIRM_PURPOSE, now=NOW, bind="pending")
    assert verified.subject == "uid123" and verified.expires == expires
    with pytest.raises(tokens.TokenExpired):
        tokens.verify(SECRET, token, tokens.CONFIRM_PURPOSE, now=expires, bind="pending")
    with pytest.raises(tokens.TokenInvalid):  # used: the bound state changed
        tokens.verify(SECRET, token, tokens.CONFIRM_PURPOSE, now=NOW, bind="active")
    with pytest.raises(tokens.TokenInvalid):  # another purpose
        tokens.verify(SECRET, token, tokens.PREFERENCES_PURPOSE, now=NOW, bind="pending")
    later = token.replace(token.split(".")[1], "zzzzzzz")  # extended expiry
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(SECRET, later, tokens.CONFIRM_PURPOSE, now=NOW, bind="pending")


def test_secret_comes_from_the_environment() -> None:
    with pytest.raises(tokens.SecretMissing, match="GOAL17_SECRET is not set"):
        tokens.secret_from_env({}, allow_development=False)
    development = tokens.secret_from_env({}, allow_development=True)
    assert development.development and development.value == tokens.DEVELOPMENT_SECRET
    with pytest.raises(tokens.SecretMissing, match="too short"):
        tokens.secret_from_env({"GOAL17_SECRET": "short"}, allow_development=True)
    with pytest.raises(tokens.SecretMissing, match="too short"):  # send's rule is web's: 32 bytes
        tokens.secret_from_env({"GOAL17_SECRET": "0123456789abcdefghijklmnopqrstu"}, allow_development=False)
    with pytest.raises(tokens.SecretMissing, match="too few"):
        tokens.secret_from_env({"GOAL17_SECRET": "x" * 32}, allow_development=False)
    strong = "Zq3-real-secret-for-tests-8fK2pL0xV7"
    real = tokens.secret_from_env({"GOAL17_SECRET": strong}, allow_development=False)
    assert real.value == strong.encode() and not real.development

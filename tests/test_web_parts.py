"""The subscription service's small parts: body parsing, language, rate limit, settings, partner form."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC

import pytest
from lxml import html as lxml_html

from pipeline.config.site import SettingsError, default_settings, load_settings
from pipeline.config.web import web_config
from pipeline.outputs import signup_form
from pipeline.web.bodies import BodyError, parse_body, read_limited
from pipeline.web.language import negotiate
from pipeline.web.ratelimit import RateLimiter
from tests.conftest import REPO

FORM = "application/x-www-form-urlencoded"


def multipart(fields: list[tuple[str, str | bytes]], boundary: str = "b0undary") -> tuple[bytes, str]:
    parts = []
    for name, value in fields:
        data = value.encode() if isinstance(value, str) else value
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_the_three_body_kinds_give_the_same_fields():
    form = parse_body(b"email=a%40example.se&targets=17.9&targets=17.17&language=sv", FORM)
    body, content_type = multipart(
        [("email", "a@example.se"), ("targets", "17.9"), ("targets", "17.17"), ("language", "sv")]
    )
    parts = parse_body(body, content_type)
    data = parse_body(
        json.dumps({"email": "a@example.se", "targets": ["17.9", "17.17"], "language": "sv"}).encode(),
        "application/json",
    )
    for fields in (form, parts, data):
        assert fields.first("email") == "a@example.se"
        assert fields.all("targets") == ["17.9", "17.17"]
        assert fields.first("language") == "sv"
    assert (form.kind, parts.kind, data.kind) == ("form", "multipart", "json")
    assert parse_body(b"List-Unsubscribe=One-Click", FORM).first("List-Unsubscribe") == "One-Click"
    assert parse_body(b"", None).values == {}
    assert parse_body(b"namn=%C3%85sa", FORM + "; charset=UTF-8").first("namn") == "Åsa"


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"email=%FF%FE", FORM, 400),  # percent-decoded bytes that are not UTF-8
        (b"email=\xe5sa", FORM, 400),  # raw Latin-1 byte
        (b"email=a", FORM + "; charset=iso-8859-1", 415),
        ("email=a".encode("utf-16"), FORM + "; charset=utf-16", 415),
        (b"email=a", "text/plain", 415),
        (b"<xml/>", "application/xml", 415),
        (b"email=a", None, 415),
        (b"{", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"email": {"nested": 1}}', "application/json", 400),
        (b'{"email": 12}', "application/json", 400),
        (b'{"email": "\\ud800"}', "application/json", 400),  # a lone surrogate
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b"\xef\xbb\xbf\xff", "application/json", 400),
        (b"email=a%00b", FORM, 400),  # NUL
        (b"email=" + b"a" * 3000, FORM, 400),  # one value too long
        (b"&".join(b"f%d=1" % i for i in range(100)), FORM, 400),  # too many fields
        (
            b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
            400,
        ),
        (b"not multipart at all", "multipart/form-data; boundary=x", 400),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400),
        (b"email=a", "multipart/form-data", 400),  # no boundary
        (
            b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nv\r\n--x--\r\n',
            "multipart/form-data; boundary=x",
            400,
        ),
        (
            b'--x\r\nContent-Disposition: form-data; name="e"\r\n\r\n\xff\xfe\r\n--x--\r\n',
            "multipart/form-data; boundary=x",
            400,
        ),
    ],
)
def test_odd_bodies_are_refused_with_a_4xx(body, content_type, status):
    with pytest.raises(BodyError) as caught:
        parse_body(body, content_type)
    assert caught.value.status == status and caught.value.message


def test_compressed_bodies_are_refused():
    with pytest.raises(BodyError) as caught:
        parse_body(b"\x1f\x8b...", FORM, "gzip")
    assert caught.value.status == 415


def test_body_limit_stops_reading_early():
    async def stream(chunks):
        for chunk in chunks:
            yield chunk

    async def run(chunks, declared):
        return await read_limited(stream(chunks), declared, 100)

    assert asyncio.run(run([b"a" * 60, b"b" * 40], None)) == b"a" * 60 + b"b" * 40
    for chunks, declared in (
        ([b"a" * 60, b"b" * 41], None),
        ([b"a"], "101"),
        ([b"a"], "99999999999999999999"),
    ):
        with pytest.raises(BodyError) as caught:
            asyncio.run(run(chunks, declared))
        assert caught.value.status == 413
    for declared in ("-1", "ten"):
        with pytest.raises(BodyError) as caught:
            asyncio.run(run([b"a"], declared))
        assert caught.value.status == 400


@pytest.mark.parametrize(
    "header, expected",
    [
        ("en-GB,en;q=0.9,sv;q=0.8", "en"),
        ("sv-SE,sv;q=0.9,en;q=0.5", "sv"),
        ("de-DE,de;q=0.9,en;q=0.7", "en"),
        ("fr, de", "sv"),  # nothing fits: the site's language
        ("en;q=0, sv;q=0.1", "sv"),
        ("nb-NO, en;q=0.5", "sv"),  # Norwegian readers understand Swedish best
        ("en;q=abc, sv", "sv"),
        (";;;,,,q=", "sv"),
        ("", "sv"),
        (None, "sv"),
        ("x" * 1000, "sv"),
    ],
)
def test_language_from_accept_language(header, expected):
    assert negotiate(header, "sv") == expected


def test_rate_limiter_window_and_memory_bound():
    now = [0.0]
    limiter = RateLimiter(3, 60, max_keys=2, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("a") == 61
    now[0] = 59.0
    assert not limiter.hit("a")
    now[0] = 60.5  # the first hits have left the window
    assert limiter.hit("a")
    limiter.hit("b")
    limiter.hit("c")  # over max_keys: the stalest key ("a") is forgotten
    assert set(limiter._hits) == {"b", "c"}


def test_web_settings_are_validated(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        '[web]\npublic_url = "ftp://x"\ntoken_days = 0\nallowed_origins = ["https://ok.example", "https://x.example/path"]\n'
        "max_body_bytes = 10\nbogus = 1\n",
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as caught:
        web_config(load_settings(path))
    assert "[web] bogus: unknown setting" in str(caught.value)
    path.write_text(
        '[web]\npublic_url = "ftp://x"\ntoken_days = 0\nallowed_origins = ["https://ok.example", "https://x.example/path"]\n'
        "max_body_bytes = 10\n",
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as caught:
        web_config(load_settings(path))
    problems = "\n".join(caught.value.problems)
    for key in ("public_url", "token_days", "allowed_origins", "max_body_bytes"):
        assert f"[web] {key}:" in problems
    assert "https://ok.example" not in problems
    # The repository's own site.toml documents a valid [web] table.
    config = web_config(load_settings(REPO / "site.toml"))
    assert config.token_days == 7 and config.public_url.endswith("/")


def test_partner_form_posts_to_the_service_and_is_deterministic():
    settings = default_settings()
    files = signup_form.build([], settings)
    assert files == signup_form.build([], settings)
    assert set(files) == {
        "snippets/subscribe.html",
        "snippets/subscribe.sv.html",
        "snippets/subscribe.en.html",
    }
    assert files["snippets/subscribe.html"] == files["snippets/subscribe.sv.html"]
    for name, data in files.items():
        doc = lxml_html.fromstring(data)
        (form,) = doc.xpath("//form")
        assert form.get("method") == "post" and form.get("action") == "https://mal17.example.se/subscribe"
        names = {field.get("name") for field in form.xpath(".//input")}
        assert {"email", "language", "targets", "website", "page"} <= names
        assert len(form.xpath(".//input[@name='targets']")) == 19
        trap = form.xpath(".//input[@name='website']")[0]
        assert trap.getparent().get("hidden") is not None and trap.get("tabindex") == "-1"
        assert doc.get("lang") == ("en" if name.endswith(".en.html") else "sv")


def test_web_command_serves_the_service_alone(tmp_path):
    import os
    import subprocess
    import sys

    import httpx

    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    # Issue 17: web no longer starts on the public development secret, not even with the outbox.
    env = {**os.environ, "GOAL17_SECRET": "web-parts-secret-0123456789abcdefghijkl"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "web", "--config", str(config), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("subscription service at http://127.0.0.1:"), line
        url = line.split()[3]
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200 and 'name="email"' in response.text
        assert (
            httpx.get(url.replace("/subscribe", "/index.html"), timeout=10).status_code == 404
        )  # no site here
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_web_command_refuses_real_mail_without_a_secret(tmp_path):
    import os
    import subprocess
    import sys

    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n[newsletter]\ntransport = "smtp"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "GOAL17_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "web", "--config", str(config), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1 and "GOAL17_SECRET is not set" in result.stderr


# -- the words ------------------------------------------------------------------------------------


def _fields(text: str) -> set[str]:
    import string

    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_both_languages_have_every_text_with_the_same_fields():
    from pipeline.web.texts import MESSAGES, NEXT_STEPS, texts

    sv, en = texts("sv"), texts("en")
    assert sv.keys() == en.keys()
    for key in sv:
        assert _fields(sv[key]) == _fields(en[key]), key
    messages = set(MESSAGES.values())  # the message ids, Swedish
    for steps in NEXT_STEPS.values():  # every next step names a text and a mail subject that exist
        for where, label in steps:
            assert label in messages and (not where.startswith("mail:") or where[5:] in messages)


def test_swedish_copy_reads_as_swedish():
    import re

    from pipeline.web.texts import texts

    sv = texts("sv")
    everything = "\n".join(re.sub(r"\{\w+\}", "X", text) for text in sv.values())  # words, not fields
    # the word-for-word translations the issue quoted, and English or informal words
    for clumsy in ("förhoppningsvis", "Välj inga delmål", "Kolla", "email", "e-mail", "Email", "epost"):
        assert clumsy not in everything, clumsy
    # Swedish typography: ”…” quotes, spaced – for a dash, … for an ellipsis
    assert '"' not in everything and "“" not in everything and " - " not in everything
    assert "..." not in everything
    # du, never ni
    assert not re.search(r"\b[Nn]i\b|\b[Ee]r\b|\b[Ee]ra\b", everything)
    assert "e-post" in everything and "avsluta prenumerationen" in everything
    # sentences end like sentences; short labels (buttons, headings) do not
    for key, text in sv.items():
        label = key.endswith(("_title", "_button", "_link", "_check")) or key.startswith(
            ("next_", "mail_subject")
        )
        if len(text.split()) > 6 and not label:
            assert text.rstrip()[-1] in ".?!:", (key, text)
        assert text == text.strip() and "  " not in text, key


def test_confirmation_mail_in_swedish(tmp_path):
    from datetime import datetime

    from pipeline.web.mails import already_subscribed_mail, confirmation_mail

    settings = default_settings(state_dir=str(tmp_path / "state"))
    web = web_config(settings)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    mail = confirmation_mail(
        settings, web, to="a@example.se", lang="sv", confirm_url="https://mal17.example.se/confirm/x", now=now
    )
    body = mail.get_content().splitlines()
    assert body[0].startswith("Hej! Du (eller någon som angett din adress) har anmält den här adressen")
    assert "https://mal17.example.se/confirm/x" in body
    assert body[-3:] == ["Vänliga hälsningar", settings.organisation, settings.contact_email]
    assert mail["Subject"] == f"Bekräfta din prenumeration på ”{settings.title}”"
    known = already_subscribed_mail(
        settings, web, to="a@example.se", lang="sv", preferences_url="https://mal17.example.se/p/x", now=now
    )
    assert "Du prenumererar redan, så ingenting har ändrats." in known.get_content()

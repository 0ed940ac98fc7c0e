"""DKIM with OpenSSL (issue 16): the same signatures dkimpy makes, verified by dkimpy and by an
independent RFC 6376 verifier written here with ``cryptography`` (none of the signer's code)."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.delivery import dkim as dkim_module
from pipeline.delivery.dkim import DkimError, OpenSslDkim
from pipeline.delivery.message import SIGNED_HEADERS, DkimSigner

SELECTOR, DOMAIN = b"nl2026", b"example.se"
NOW = 1_796_000_000


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("key")
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def message(recipient: str, body: bytes, extra_headers: bytes = b"") -> bytes:
    head = (
        b"From: Nyheter <nyheter@example.se>\r\n"
        + f"To: {recipient}\r\n".encode()
        + b"Subject: =?utf-8?q?M=C3=A5l_17?=  nummer   7\r\n"
        b"Date: Fri, 27 Nov 2026 12:00:00 +0100\r\n"
        + f"Message-ID: <{recipient}.7@example.se>\r\n".encode()
        + b"List-Id: <nyheter.example.se>\r\n"
        + f"List-Unsubscribe: <https://example.se/unsubscribe/{recipient}>,\r\n <mailto:u@example.se>\r\n".encode()
        + b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        b"Content-Language: sv\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b1"\r\n' + extra_headers + b"\r\n"
    )
    return head + body


def edition_body(recipient: str) -> bytes:
    """A long shared body with a personalised line near the end, like an edition's."""
    shared = b"".join(b"Rad %d med text  och\tflera   mellanslag =C3=A5=\r\n" % n for n in range(400))
    return (
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + shared
        + f"Avsluta: https://example.se/unsubscribe/{recipient}\r\n".encode()
        + b"--b1--\r\n"
    )


def dkimpy_header(data: bytes, key: bytes, monkeypatch) -> bytes:
    monkeypatch.setattr(dkim.time, "time", lambda: NOW)
    return dkim.sign(
        data,
        SELECTOR,
        DOMAIN,
        key,
        include_headers=list(SIGNED_HEADERS),
        canonicalize=(b"relaxed", b"relaxed"),
        signature_algorithm=b"rsa-sha256",
    )


# -- an independent verifier, from RFC 6376 sections 3.4.2, 3.4.4, 3.5 and 3.7 ------------------


def _relaxed_header(name: str, value: str) -> bytes:
    value = re.sub(r"\r\n(?=[ \t])", "", value)
    value = re.sub(r"[ \t]+", " ", value).strip()
    return f"{name.lower().strip()}:{value}".encode()


def _relaxed_body(body: bytes) -> bytes:
    lines = body.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [re.sub(rb"[ \t]+", b" ", line).rstrip(b" ") for line in lines]
    while lines and lines[-1] == b"":
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


def rfc6376_verify(data: bytes, public_key) -> bool:
    text = data.decode("latin-1")
    head, _, body = text.partition("\r\n\r\n")
    fields: list[tuple[str, str]] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            fields[-1] = (fields[-1][0], fields[-1][1] + "\r\n" + line)
        else:
            name, _, value = line.partition(":")
            fields.append((name, value))
    signature = next(v for n, v in fields if n.lower() == "dkim-signature")
    tags = {
        k.strip(): v for k, _, v in (p.partition("=") for p in re.sub(r"\s", "", signature).split(";")) if k
    }
    assert tags["c"] == "relaxed/relaxed" and tags["a"] in ("rsa-sha256", "ed25519-sha256")
    if base64.b64decode(tags["bh"]) != hashlib.sha256(_relaxed_body(body.encode("latin-1"))).digest():
        return False
    hashed = b""
    used: dict[str, int] = {}
    for name in tags["h"].split(":"):  # bottom-up instance choice (3.5, "h=")
        name = name.lower()
        candidates = [i for i, (n, _) in enumerate(fields) if n.lower() == name]
        taken = used.get(name, 0)
        if taken < len(candidates):
            n, v = fields[candidates[-1 - taken]]
            hashed += _relaxed_header(n, v) + b"\r\n"
        used[name] = taken + 1
    unsigned = re.sub(r"(\bb=)[^;]*", r"\1", signature)
    hashed += _relaxed_header("DKIM-Signature", unsigned)
    digest = hashlib.sha256(hashed).digest()
    try:
        if tags["a"] == "rsa-sha256":
            public_key.verify(base64.b64decode(tags["b"]), hashed, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(base64.b64decode(tags["b"]), digest)
    except Exception:
        return False
    return True


def test_the_independent_verifier_checks_dkimpy_signatures_and_rejects_tampering(rsa_key, monkeypatch):
    key, _ = rsa_key
    public = serialization.load_pem_private_key(key, None).public_key()
    data = message("a@example.se", edition_body("a@example.se"))
    signed = dkimpy_header(data, key, monkeypatch) + data
    assert rfc6376_verify(signed, public)
    assert not rfc6376_verify(signed.replace(b"Rad 5 ", b"Rad 6 "), public)
    assert not rfc6376_verify(signed.replace(b"One-Click", b"Two-Click"), public)


def test_same_signature_as_dkimpy_byte_for_byte_for_a_whole_list(rsa_key, monkeypatch):
    """RSA PKCS#1 v1.5 is deterministic: same canonical form, same tags → the same header."""
    key, record = rsa_key
    signer = OpenSslDkim(SELECTOR, DOMAIN, key, SIGNED_HEADERS)
    public = serialization.load_pem_private_key(key, None).public_key()
    for n in range(12):  # from the third message on, the shared body prefix is reused
        recipient = f"reader{n}@kommun{n % 3}.example.se"
        data = message(recipient, edition_body(recipient))
        ours = signer.sign(data, now=NOW)
        assert ours == dkimpy_header(data, key, monkeypatch)
        assert dkim.verify(ours + data, dnsfunc=lambda *a, **k: record)
        assert rfc6376_verify(ours + data, public)
    assert any(signer._memory[1])  # shared lines were remembered and used, not bypassed


BODY_LINE = st.sampled_from(
    [b"", b"text", b"a  b\t c", b"trailing  ", b"\t", b"=C3=A5=", b"personal", b"x" * 90, b"--b1", b"-- "]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shared=st.lists(BODY_LINE, min_size=0, max_size=200),
    tails=st.lists(st.lists(BODY_LINE, max_size=6), min_size=2, max_size=4),
    bare_lf=st.booleans(),
)
def test_body_hash_reuse_never_changes_a_signature(rsa_key, monkeypatch, shared, tails, bare_lf):
    """Bodies sharing a prefix, tails of empty lines, whitespace at the cut, bare LF: as dkimpy."""
    key, _ = rsa_key
    monkeypatch.setattr(dkim_module, "SHARED_MIN", 0)  # reuse even a one-line prefix
    signer = OpenSslDkim(SELECTOR, DOMAIN, key, SIGNED_HEADERS)
    for n, tail in enumerate(tails):
        separator = b"\n" if bare_lf and n % 2 else b"\r\n"
        body = separator.join(shared + tail + [b"reader %d" % n] * (n % 2)) + separator * (n % 3)
        data = message(f"r{n}@example.se", body)
        assert signer.sign(data, now=NOW) == dkimpy_header(data, key, monkeypatch)


def test_repeated_header_names_select_instances_like_dkimpy(rsa_key, monkeypatch):
    key, _ = rsa_key
    headers = (b"from", b"subject", b"from", b"to", b"reply-to")  # from twice, reply-to absent
    signer = OpenSslDkim(SELECTOR, DOMAIN, key, headers)
    data = message("a@example.se", edition_body("a@example.se"), b"From: second <s@example.se>\r\n")
    monkeypatch.setattr(dkim.time, "time", lambda: NOW)
    expected = dkim.sign(
        data, SELECTOR, DOMAIN, key, include_headers=list(headers), canonicalize=(b"relaxed", b"relaxed")
    )
    assert signer.sign(data, now=NOW) == expected


def test_ed25519_keys_sign_and_verify_independently():
    private = ed25519.Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    signer = OpenSslDkim(SELECTOR, DOMAIN, base64.b64encode(seed), SIGNED_HEADERS)
    assert signer.algorithm == b"ed25519-sha256"
    data = message("a@example.se", edition_body("a@example.se"))
    signed = signer.sign(data) + data
    assert rfc6376_verify(signed, private.public_key())
    assert not rfc6376_verify(signed.replace(b"Rad 9 ", b"Rad 8 "), private.public_key())


def test_bad_keys_are_one_line_errors(tmp_path: Path):
    for content in (b"-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n", b"%%%"):
        path = tmp_path / "key.pem"
        path.write_bytes(content)
        with pytest.raises(DkimError) as caught:
            DkimSigner("s", "example.se", path)
        assert "\n" not in str(caught.value)
    with pytest.raises(DkimError, match="cannot read"):
        DkimSigner("s", "example.se", tmp_path / "missing.pem")


def test_one_signer_shared_by_threads_signs_every_message_right(rsa_key, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    key, _ = rsa_key
    signer = OpenSslDkim(SELECTOR, DOMAIN, key, SIGNED_HEADERS)
    messages = [
        message(
            f"t{n}@example.se", edition_body(f"t{n}@example.se")[: 4000 + 997 * (n % 5)] + b"\r\nslut\r\n"
        )
        for n in range(40)
    ]
    with ThreadPoolExecutor(4) as pool:
        ours = list(pool.map(lambda data: signer.sign(data, now=NOW), messages))
    assert ours == [dkimpy_header(data, key, monkeypatch) for data in messages]


# -- the header block and body cut, found without dkimpy's per-line regexes --------------------

HEAD_PIECES = st.sampled_from(
    [
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"\t",
        b":",
        b"a",
        b"From ",
        b"From",
        b"To",
        b"X-A",
        b"\x7f",
        b"\xc3\xa5",
        b"=?",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(HEAD_PIECES, max_size=40).map(b"".join))
def test_the_cut_and_the_header_fields_are_dkimpys(data):
    """``_split`` and ``_parse_headers`` against the regex and ``rfc822_parse`` they replace."""
    match = re.search(rb"\r?\n\r?\n", data)
    expected = (data.rstrip(b"\r\n"), b"") if match is None else (data[: match.start()], data[match.end() :])
    head, body = dkim_module._split(data)
    assert (head, body) == expected
    try:
        wanted = dkim.rfc822_parse(head + b"\r\n\r\n")[0]
    except (dkim.MessageFormatError, IndexError):
        with pytest.raises(dkim.MessageFormatError):
            dkim_module._parse_headers(head)
    else:
        assert dkim_module._parse_headers(head) == wanted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extra=st.lists(
        st.tuples(
            st.sampled_from([b"To", b"From", b"X-Note", b"Subject", b"From ", b":x", b"Reply-To"]),
            st.sampled_from([b": a", b":  b  c ", b":\r\n\tfolded", b"", b": \xc3\xa5"]),
        ),
        max_size=5,
    ),
    separator=st.sampled_from([b"\r\n", b"\n"]),
)
def test_any_header_block_signs_as_dkimpy_signs_it(rsa_key, monkeypatch, extra, separator):
    """Repeated, odd, folded and missing fields, bare LF: the same header, or both refuse."""
    key, _ = rsa_key
    signer = OpenSslDkim(SELECTOR, DOMAIN, key, SIGNED_HEADERS)
    added = b"".join(name + value + b"\r\n" for name, value in extra)
    data = message("a@example.se", edition_body("a@example.se"), added).replace(b"\r\n", separator)
    for _ in range(2):  # the second time from the remembered selection
        try:
            expected = dkimpy_header(data, key, monkeypatch)
        except Exception:  # dkimpy refuses it (a format error, or its IndexError)
            with pytest.raises(DkimError):
                signer.sign(data, now=NOW)
        else:
            assert signer.sign(data, now=NOW) == expected


@settings(max_examples=500, deadline=None)
@given(
    name=st.lists(st.sampled_from([b"To", b"x", b" ", b"\t", b"FROM", b"\xc3\x85"]), max_size=4).map(
        b"".join
    ),
    value=st.lists(HEAD_PIECES, max_size=30).map(b"".join),
)
def test_relaxed_header_form_is_dkimpys(name, value):
    from dkim.canonicalization import Relaxed

    assert dkim_module._relaxed_header(name, value) == Relaxed.canonicalize_headers([(name, value)])[0]

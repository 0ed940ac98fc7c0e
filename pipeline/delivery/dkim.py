"""DKIM signatures at list scale: dkimpy's canonicalisation, OpenSSL's arithmetic.

dkimpy signs RSA in pure Python: 77 messages a second for RSA-2048, 22 minutes of CPU for
100,000 readers. :class:`OpenSslDkim` makes the same signature (RFC 6376, relaxed/relaxed) with
the parts that decide what is signed taken from dkimpy itself — header parsing and selection
(``select_headers``, so a name listed twice signs two instances, the last first), relaxed header
and body canonicalisation, the tag list and its folding — and only the private-key operation
done by OpenSSL through ``cryptography`` (RSA PKCS#1 v1.5 or Ed25519, both over SHA-256).

The bodies of one edition differ between readers only in a few personalised lines (the
unsubscribe and preferences links at the end of the text part and of the HTML part), and
canonicalising 30 KB of indented HTML costs a third of an RSA signature. So the body is cut
into pieces at its MIME boundary lines (every line starting with ``--``), and for each piece the
signer remembers the longest run of whole lines it shared with the same piece of the previous
body, with that run's canonical form; a later piece that starts with exactly those bytes gets the
remembered form plus the canonical form of its own rest. Relaxed canonicalisation is line by
line except for dropping empty lines at the very end, which is applied to the whole result, so
the bytes hashed are the ones dkimpy would hash. Nothing is assumed about the message: a piece
that does not start with remembered bytes is canonicalised whole.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence

import dkim as dkimpy
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim.canonicalization import CanonicalizationPolicy, correct_empty_body, strip_trailing_lines

from pipeline.delivery.dkim_error import DkimError

RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
SHARED_MIN = 128  # shorter shared prefixes (and pieces) are not worth remembering
_LINE_END = re.compile(rb"\r?\n")
_BOUNDARY = re.compile(rb"\r\n--")  # finditer: a third faster than a loop of bytes.find here
_NAME = re.compile(rb"([\x21-\x7e]+?):")  # dkimpy.rfc822_parse's field name
_NAME_CHARS = bytes(range(0x21, 0x7F))


class OpenSslDkim:
    """Signs message bytes; ``sign(data)`` returns the ``DKIM-Signature`` header line(s)."""

    def __init__(self, selector: bytes, domain: bytes, key: bytes, include_headers: Sequence[bytes]):
        self.selector = selector
        self.domain = domain
        self.include_headers = tuple(h.lower() for h in include_headers)
        if b"from" not in self.include_headers:
            raise DkimError("DKIM: the From header field must be signed")
        self.algorithm, self._key = _load_key(key)
        # The previous body's pieces and, per piece, its remembered shared lines (see module doc).
        self._memory: tuple[list[bytes], list[tuple[bytes, bytes] | None]] = ([], [])
        self._headers: dict[tuple[bytes, bytes], tuple[bytes, bytes]] = {}
        self._selections: dict[tuple[bytes, ...], tuple[int, ...]] = {}

    def sign(self, data: bytes, now: float | None = None) -> bytes:
        try:
            return self._sign(data, now)
        except dkimpy.DKIMException as exc:
            raise DkimError(f"DKIM signing failed: {exc}") from None

    def _sign(self, data: bytes, now: float | None) -> bytes:
        head, body = _split(data)
        headers = [self._canonical_header(name, value) for name, value in _parse_headers(head)]
        body_hash = base64.b64encode(self._body_digest(body))
        fields = [
            (b"v", b"1"),
            (b"a", self.algorithm),
            (b"c", RELAXED.to_c_value()),
            (b"d", self.domain),
            (b"i", b"@" + self.domain),
            (b"q", b"dns/txt"),
            (b"s", self.selector),
            (b"t", str(int(time.time() if now is None else now)).encode("ascii")),
            (b"h", b" : ".join(self.include_headers)),
            (b"bh", body_hash),
            (b"b", b"0" * 60),
        ]
        name = b"DKIM-Signature"
        value = dkimpy.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(name), linesep=b"\r\n")
        value = dkimpy.RE_BTAG.sub(b"\\1", value)
        # dkimpy.hash_headers, with the selection made once per sequence of header names and
        # without its second RE_BTAG pass (the value is stripped above; stripping is idempotent).
        hasher = hashlib.sha256()
        for index in self._selection(tuple(field[0] for field in headers)):
            field_name, field_value = headers[index]
            hasher.update(field_name)
            hasher.update(b":")
            hasher.update(field_value)
        sig_name, sig_value = _relaxed_header(name, b" " + value)
        hasher.update(sig_name)
        hasher.update(b":")
        hasher.update(sig_value.rstrip())
        fields[-1] = (b"b", base64.b64encode(self._sign_digest(hasher.digest())))
        value = dkimpy.fold(
            b"; ".join(b"=".join(f) for f in fields) + b"\r\n", namelen=len(name), linesep=b"\r\n"
        )
        return name + b": " + value

    def _selection(self, names: tuple[bytes, ...]) -> tuple[int, ...]:
        """Which header fields dkimpy's ``select_headers`` signs, by position, in signing order.

        It depends only on the names (every message of an edition has the same ones), so it is
        asked of dkimpy once per sequence of names; the positions are read off its answer.
        """
        found = self._selections.get(names)
        if found is None:
            positions = [(name, i) for i, name in enumerate(names)]
            found = tuple(i for _name, i in dkimpy.select_headers(positions, self.include_headers))
            if len(self._selections) < 16:
                self._selections[names] = found
        return found

    def _canonical_header(self, name: bytes, value: bytes) -> tuple[bytes, bytes]:
        """dkimpy's relaxed form of one header; most are the same in every message of an edition."""
        key = (name, value)
        found = self._headers.get(key)
        if found is None:
            found = _relaxed_header(name, value)
            if len(self._headers) < 64:
                self._headers[key] = found
        return found

    def _sign_digest(self, digest: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        return self._key.sign(digest)  # RFC 8463: Ed25519 over the SHA-256 of the headers

    def _body_digest(self, body: bytes) -> bytes:
        """SHA-256 of the relaxed body (``body`` as sent, CRLF or not)."""
        previous, remembered = self._memory
        out: list[bytes] = []
        entries: list[tuple[bytes, bytes] | None] = []
        pieces = _pieces(body)
        for i, piece in enumerate(pieces):
            entry = remembered[i] if i < len(remembered) else None
            if entry is not None and piece.startswith(entry[0]):
                out += (entry[1], _relaxed_lines(_crlf(piece[len(entry[0]) :])))
            else:
                piece = _crlf(piece)
                out.append(_relaxed_lines(piece))
                entry = None
                if i < len(previous) and len(piece) >= SHARED_MIN:
                    entry = _shared_lines(piece, previous[i])
            entries.append(entry)
        # One attribute, replaced whole: threads sharing a signer never mix two bodies' pieces.
        self._memory = (pieces, entries)
        return hashlib.sha256(correct_empty_body(strip_trailing_lines(b"".join(out)))).digest()


def _pieces(body: bytes) -> list[bytes]:
    """``body`` cut before every line that starts with ``--`` (MIME boundaries, among others)."""
    cuts = [0, *(match.start() + 2 for match in _BOUNDARY.finditer(body)), len(body)]
    return [body[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def _shared_lines(piece: bytes, previous: bytes) -> tuple[bytes, bytes] | None:
    """(the whole lines ``piece`` starts with that ``previous`` also starts with, their form)."""
    line_end = piece.rfind(b"\r\n", 0, _common_prefix(piece, previous))
    if line_end == -1 or line_end + 2 < SHARED_MIN:
        return None
    shared = piece[: line_end + 2]
    return shared, _relaxed_lines(shared)


def _crlf(text: bytes) -> bytes:
    """Every line end as CRLF, as dkimpy's parser makes them (a bare LF becomes CRLF)."""
    if text.count(b"\n") != text.count(b"\r\n"):
        return _LINE_END.sub(b"\r\n", text)
    return text


def _relaxed_lines(body: bytes) -> bytes:
    """The line-local part: whitespace runs as one space, none before a line end.

    dkimpy does this with two regex substitutions, which cost as much as the RSA signature on
    an edition's indented HTML; ``bytes.replace`` passes give the same bytes: tabs become
    spaces, runs of spaces halve until single, and a single space before CRLF goes.
    """
    if b"\t" in body:
        body = body.replace(b"\t", b" ")
    for run in (b" " * 16, b" " * 4):  # any run of two or more may shrink first: fewer passes
        body = body.replace(run, b" ")
    while b"  " in body:
        body = body.replace(b"  ", b" ")
    return body.replace(b" \r\n", b"\r\n")


def _relaxed_header(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """dkimpy's relaxed header canonicalisation (``Relaxed.canonicalize_headers``) by bytes
    operations instead of its three regex substitutions, a tenth of a signature's overhead.

    Unfold (every LF goes, with a CR right before it), whitespace runs as one space, strip.
    """
    value = value.replace(b"\r\n", b"").replace(b"\n", b"")
    if b"\t" in value:
        value = value.replace(b"\t", b" ")
    while b"  " in value:
        value = value.replace(b"  ", b" ")
    return name.lower().rstrip(), value.strip() + b"\r\n"


def _split(data: bytes) -> tuple[bytes, bytes]:
    """Header block and body (the body as sent: :meth:`OpenSslDkim._body_digest` fixes line ends).

    The first match of ``\\r?\\n\\r?\\n``, found with two ``bytes.find``: the match's first LF
    is the first LF followed by LF or CRLF, and the match starts at the CR before it, if any.
    """
    first = data.find(b"\n\r\n")
    bare = data.find(b"\n\n", 0, len(data) if first == -1 else first + 1)  # not through a CRLF body
    if bare != -1:
        first = bare
    if first == -1:
        return data.rstrip(b"\r\n"), b""
    start = first - 1 if first and data[first - 1] == 0x0D else first
    end = first + 3 if data[first + 1] == 0x0D else first + 2
    return data[:start], data[end:]  # the body's line ends: see _crlf


def _parse_headers(head: bytes) -> list[list[bytes]]:
    """dkimpy's ``rfc822_parse`` of ``head + CRLF CRLF``, its header list only.

    The same lines and rules; a field name is taken by ``partition`` where that gives what
    dkimpy's name pattern would (a non-empty run of printable non-space bytes before the first
    colon), else by that pattern itself. A continuation line before any field is dkimpy's
    IndexError; here it is the format error it is.
    """
    lines = head.split(b"\r\n") if head.count(b"\n") == head.count(b"\r\n") else _LINE_END.split(head)
    headers: list[list[bytes]] = []
    for line in lines:
        if not line:
            break
        if line[0] in (0x09, 0x20):
            if not headers:
                raise dkimpy.MessageFormatError(f"Unexpected continuation line: {line!r}")
            headers[-1][1] += line + b"\r\n"
            continue
        name, colon, rest = line.partition(b":")
        if colon and name and not name.translate(None, _NAME_CHARS):
            headers.append([name, rest + b"\r\n"])
            continue
        match = _NAME.match(line)
        if match is not None:
            headers.append([match.group(1), line[match.end(0) :] + b"\r\n"])
        elif not line.startswith(b"From "):
            raise dkimpy.MessageFormatError(f"Unexpected characters in RFC822 header: {line!r}")
    return headers


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix: a binary search of C-speed comparisons."""
    low, high = 0, min(len(a), len(b))
    view_a, view_b = memoryview(a), memoryview(b)
    while low < high:
        middle = (low + high + 1) // 2
        if view_a[:middle] == view_b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _load_key(key: bytes):
    """(algorithm, private key): RSA in PEM (PKCS#1 or PKCS#8), or Ed25519 as dkimpy takes it."""
    if b"BEGIN" in key:
        try:
            private = serialization.load_pem_private_key(key, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise DkimError(f"DKIM key is not a usable PEM private key: {exc}") from None
        if isinstance(private, rsa.RSAPrivateKey):
            return b"rsa-sha256", private
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return b"ed25519-sha256", private
        raise DkimError("DKIM key must be RSA or Ed25519")
    try:
        seed = base64.b64decode(key.strip(), validate=True)
        return b"ed25519-sha256", ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError:
        raise DkimError("DKIM key is neither a PEM private key nor a base64 Ed25519 seed") from None

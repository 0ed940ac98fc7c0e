"""Building the message for each subscriber: a MIME template once per edition, cheap bytes per recipient.

Building a multipart message with :class:`email.message.EmailMessage` costs milliseconds; an issue
to 100,000 subscribers differs between recipients only in the ``To``, ``Message-ID`` and
``List-Unsubscribe`` headers and three slots in the bodies. So :class:`MessageTemplate` uses the
email package once per edition (header encoding and folding) and quoted-printable-encodes each
body once, cut at the slots: every static piece ends with a soft line break, so a slot always
starts a fresh encoded line and its value can be encoded on its own (a few microseconds). The
result decodes to exactly what the plain email-package way produces (``build_slow`` in
``tests/message_reference.py``, the reference); a test compares the two header by header and
part by part.

Message layout (Gmail/Yahoo bulk-sender rules, RFC 2369, RFC 8058)::

    From, To, Subject, Date, Message-ID (from issue and subscriber, on the sender's domain),
    List-Id, Feedback-ID, List-Unsubscribe: <https://…/unsubscribe/TOKEN>, <mailto:…>,
    List-Unsubscribe-Post: List-Unsubscribe=One-Click, Content-Language, MIME-Version
    multipart/alternative: text/plain (first), text/html (last); UTF-8, quoted-printable

Optional DKIM (:class:`DkimSigner`, :mod:`.dkim`) signs the finished bytes, covering both List-Unsubscribe
headers; what is signed is exactly what is sent.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import Settings
from pipeline.delivery.dkim_error import DkimError
from pipeline.delivery.tokens import preferences_token, unsubscribe_token
from pipeline.outputs.newsletter.render import SLOTS, Edition, RenderError

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
MAX_QP_LINE = 76
ONE_CLICK = "List-Unsubscribe=One-Click"
# Headers DKIM signs; both List-Unsubscribe headers must be covered for one-click unsubscribe.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"content-language",
    b"mime-version",
    b"content-type",
)


# -- quoted-printable, with control over where lines break ------------------------------------------

_QP_BYTE = [
    bytes([b]) if (33 <= b <= 126 and b != 61) or b in (32, 9) else f"={b:02X}".encode() for b in range(256)
]


def qp_encode(data: bytes) -> bytes:
    """Quoted-printable (RFC 2045): ``\\n`` in ``data`` become CRLF, lines ≤ 76 with soft breaks.

    Escapes are never split; trailing spaces and tabs are encoded. No final line break.
    """
    out: list[bytes] = []
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        tokens = [_QP_BYTE[b] for b in line]
        if tokens and tokens[-1] in (b" ", b"\t"):
            tokens[-1] = f"={line[-1]:02X}".encode()
        encoded: list[bytes] = []
        column = 0
        for token in tokens:
            if column + len(token) > MAX_QP_LINE - 1:  # keep room for the "=" of a soft break
                encoded.append(SOFT_BREAK)
                column = 0
            encoded.append(token)
            column += len(token)
        out.append(b"".join(encoded))
    return CRLF.join(out)


def _qp_piece(data: bytes) -> bytes:
    """Encode a piece that is followed by a slot: it ends with a soft break (the slot starts a line)."""
    encoded = qp_encode(data)
    if data.endswith(b"\n"):
        return encoded  # already at the start of a line
    if data.endswith((b" ", b"\t")):
        return encoded + SOFT_BREAK  # qp_encode already protected the trailing blank
    return encoded + SOFT_BREAK


def _qp_slot(value: str) -> bytes:
    """A slot value: plain URL/address characters need no escaping, so usually just bytes + soft break."""
    data = value.encode("utf-8")
    if len(data) < MAX_QP_LINE and data.isascii() and b"=" not in data and not data.endswith(b" "):
        return data + SOFT_BREAK
    return qp_encode(data) + SOFT_BREAK


def _split_slots(body: str) -> list[str | tuple[str]]:
    """``body`` as static strings and ``(slot name,)`` markers, in order."""
    by_marker = {marker: name for name, marker in SLOTS.items()}
    pieces: list[str | tuple[str]] = []
    rest = body
    while True:
        found = [(rest.find(marker), marker) for marker in by_marker if marker in rest]
        if not found:
            pieces.append(rest)
            return pieces
        index, marker = min(found)
        pieces.append(rest[:index])
        pieces.append((by_marker[marker],))
        rest = rest[index + len(marker) :]


def _encode_body(body: str) -> list[bytes | str]:
    """Pre-encoded static bytes and slot names; joining them with encoded slot values gives the part."""
    pieces = _split_slots(body)
    out: list[bytes | str] = []
    for n, piece in enumerate(pieces):
        if isinstance(piece, tuple):
            out.append(piece[0])
        elif n == len(pieces) - 1:
            out.append(qp_encode(piece.encode("utf-8")))
        elif piece:
            out.append(_qp_piece(piece.encode("utf-8")))
    return out


# -- the per-edition template --------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One personalised message, ready for a transport."""

    message_id: str
    recipient: str
    data: bytes


def message_id(number: int, uid: str, config: NewsletterConfig) -> str:
    """Deterministic: the same (issue, subscriber) always has the same Message-ID, so a resend after a
    crash is recognisably the same message."""
    return f"<goal17.{number}.{uid}@{config.sender_domain}>"


def test_message_id(number: int, address: str, date: datetime, config: NewsletterConfig) -> str:
    digest = hashlib.sha256(f"{address}|{date.isoformat()}".encode()).hexdigest()[:16]
    return f"<goal17.{number}.test.{digest}@{config.sender_domain}>"


def list_unsubscribe(unsubscribe_url: str, config: NewsletterConfig) -> str:
    return f"<{unsubscribe_url}>, <mailto:{config.unsubscribe_mailto}?subject=unsubscribe>"


def feedback_id(edition: Edition, config: NewsletterConfig) -> str:
    """Gmail's Feedback-ID (campaign:customer:type:sender): spam reports per issue and language."""
    return f"issue{edition.number}:{edition.lang}:newsletter:{config.list_id}"


class HeaderInjection(RenderError):
    """A header value with a line break (or another control character) in it: never emitted."""


_HEADER_BREAKS = frozenset("\r\n\x00\x85\u2028\u2029")


def check_header(name: str, value: str) -> str:
    """``value`` unchanged, or :class:`HeaderInjection` if it could end the header line.

    Content and settings are validated long before; this is the last line of defence where the
    bytes are made, so a CR LF smuggled in by any route can never start a header of its own.
    """
    if not _HEADER_BREAKS.isdisjoint(value):
        raise HeaderInjection(
            f"refusing to write the {name} header: its value {value!r} has a line break in it"
        )
    return value


def fold(name: str, value: str) -> bytes:
    """One header as the email package writes it (RFC 2047 for non-ASCII, folded at 78)."""
    return SMTP.header_factory(name, check_header(name, value)).fold(policy=SMTP).encode("ascii")


def _from_address(settings: Settings) -> Address:
    local, domain = settings.sender_email.rsplit("@", 1)
    return Address(settings.sender_name, local, domain)


class MessageTemplate:
    """Everything about an edition's messages that is the same for every recipient, as bytes."""

    def __init__(
        self,
        edition: Edition,
        settings: Settings,
        config: NewsletterConfig,
        secret: bytes,
        date: datetime,
    ):
        self.edition = edition
        self.settings = settings
        self.config = config
        self.secret = secret
        self.date = date
        self.list_id = config.list_id
        self.unsubscribe_base = config.unsubscribe_url
        self.preferences_base = config.preferences_url
        self.mailto = f"<mailto:{config.unsubscribe_mailto}?subject=unsubscribe>".encode()
        seed = f"{edition.number}|{edition.lang}|{' '.join(edition.targets)}|{edition.html}|{edition.text}"
        boundary = f"=_goal17_{edition.number}_{hashlib.sha256(seed.encode()).hexdigest()[:20]}"
        self.boundary = boundary
        self.head = b"".join(
            [
                fold("From", str(_from_address(settings))),
                fold("Subject", edition.subject),
                fold("Date", format_datetime(date)),
                fold("List-Id", f"{config.list_name} <{config.list_id}>"),
                fold("Feedback-ID", feedback_id(edition, config)),
            ]
        )
        self.tail = (
            b"".join(
                [
                    fold("List-Unsubscribe-Post", ONE_CLICK),
                    b"MIME-Version: 1.0\r\n",
                    f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode(),
                    fold("Content-Language", edition.lang),
                ]
            )
            + CRLF
        )
        part_head = '--{b}\r\nContent-Type: text/{sub}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        self.text_head = part_head.format(b=boundary, sub="plain").encode()
        self.html_head = CRLF + part_head.format(b=boundary, sub="html").encode()
        self.end = f"\r\n--{boundary}--\r\n".encode()
        self.text_parts = _encode_body(edition.text)
        self.html_parts = _encode_body(edition.html)

    def urls(self, uid: str) -> tuple[str, str]:
        """(unsubscribe URL, preferences URL) of one subscriber."""
        return (
            self.unsubscribe_base + unsubscribe_token(self.secret, uid, self.list_id),
            self.preferences_base + preferences_token(self.secret, uid),
        )

    def personalise(self, uid: str, address: str, *, msgid: str | None = None) -> Prepared:
        """The complete message for one subscriber (``address`` is the validated ASCII address)."""
        unsubscribe_url, preferences_url = self.urls(uid)
        msgid = msgid or message_id(self.edition.number, uid, self.config)
        check_header("To", address)
        check_header("Message-ID", msgid)
        check_header("List-Unsubscribe", unsubscribe_url)
        text_slots = {
            "address": _qp_slot(address),
            "unsubscribe": _qp_slot(unsubscribe_url),
            "preferences": _qp_slot(preferences_url),
        }
        html_slots = {
            "address": _qp_slot(html.escape(address)),
            "unsubscribe": text_slots["unsubscribe"],
            "preferences": text_slots["preferences"],
        }
        pieces = [
            self.head,
            b"To: ",
            address.encode("ascii"),
            CRLF,
            b"Message-ID: ",
            msgid.encode("ascii"),
            CRLF,
            b"List-Unsubscribe: <",
            unsubscribe_url.encode("ascii"),
            b">,\r\n ",
            self.mailto,
            CRLF,
            self.tail,
            self.text_head,
        ]
        pieces.extend(text_slots[p] if isinstance(p, str) else p for p in self.text_parts)
        pieces.append(self.html_head)
        pieces.extend(html_slots[p] if isinstance(p, str) else p for p in self.html_parts)
        pieces.append(self.end)
        return Prepared(message_id=msgid, recipient=address, data=b"".join(pieces))

    def html_part_size(self) -> int:
        """Bytes of the HTML part as encoded for sending (for a typical recipient): Gmail clips ~102 KB."""
        sample = self.personalise("abcdefghijkl", "firstname.lastname@example-municipality.se")
        start = sample.data.index(self.html_head) + len(self.html_head)
        return len(sample.data) - start - len(self.end)


# -- DKIM ----------------------------------------------------------------------------------------------


class DkimSigner:
    """Signs finished message bytes (relaxed/relaxed, rsa-sha256 or ed25519-sha256).

    dkimpy's canonicalisation and header selection, OpenSSL's arithmetic (:mod:`.dkim`).
    """

    def __init__(self, selector: str, domain: str, key_file: Path):
        try:
            key = key_file.read_bytes()
        except OSError as exc:
            raise DkimError(f"cannot read the DKIM key {key_file}: {exc.strerror}") from None
        from pipeline.delivery.dkim import OpenSslDkim  # dkimpy and cryptography: only to sign

        self._signer = OpenSslDkim(selector.encode("ascii"), domain.encode("ascii"), key, SIGNED_HEADERS)
        self.algorithm = self._signer.algorithm

    @classmethod
    def from_config(cls, config: NewsletterConfig) -> DkimSigner | None:
        if not config.dkim_selector or config.dkim_key_file is None:
            return None
        return cls(config.dkim_selector, config.dkim_domain, config.dkim_key_file)

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data) + data

    def sign_prepared(self, prepared: Prepared) -> Prepared:
        return Prepared(prepared.message_id, prepared.recipient, self.sign(prepared.data))


__all__ = [
    "DkimError",
    "DkimSigner",
    "HeaderInjection",
    "MessageTemplate",
    "Prepared",
    "check_header",
    "list_unsubscribe",
    "message_id",
    "qp_encode",
]

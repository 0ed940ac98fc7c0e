"""Transports: where finished messages go — an outbox folder (default) or an SMTP server.

A transport's ``send`` either returns (the server accepted the message: its final reply to the
message data was 250), or raises:

- :class:`TemporaryFailure` — not delivered, try again later: a 4xx reply to MAIL, RCPT or the
  message data, or the connection lost twice before the message data went out;
- :class:`Ambiguous` (a kind of temporary failure) — the message data went out and the connection
  was lost or timed out before the server's final reply: the server may or may not have it. The
  caller resends it at most once, with the same Message-ID;
- :class:`PermanentFailure` — 5xx for this recipient or this message: never retry;
- :class:`TransportUnavailable` — nothing can be sent now (no connection, 4xx/5xx greeting,
  refused login or sender) and nothing of this message was handed over: stop the run instead of
  failing every recipient. ``transient`` says whether waiting may help (server down) or an
  operator must act (refused login, no STARTTLS).

``SmtpTransport`` runs MAIL, RCPT and DATA itself instead of ``smtplib.sendmail`` so that it
knows at which stage a connection was lost: before the message data went out, a lost connection
is safe to retry on a new one (once, within ``send``); after it, only the caller may resend.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pipeline.config.mail import SmtpConfig
from pipeline.delivery.message import Prepared


class DeliveryFailure(Exception):
    """``reason``: the same without the recipient's address, for grouping in a summary."""

    def __init__(self, message: str, code: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason or message


class TemporaryFailure(DeliveryFailure):
    pass


class PermanentFailure(DeliveryFailure):
    pass


class Ambiguous(TemporaryFailure):
    """The message data went out; no final reply arrived (connection lost, timeout)."""


class TransportUnavailable(Exception):
    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.transient = transient


class OutboxTransport:
    """One ``.eml`` file per message in a folder, named after its Message-ID.

    The file is written under a temporary name and renamed into place, so the outbox never holds a
    half-written message, and sending the same (issue, subscriber) again replaces the same file.
    """

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, prepared: Prepared) -> Path:
        safe = prepared.message_id.strip("<>").replace("/", "_")
        return self.folder / f"{safe}.eml"

    def open(self) -> None:
        """Nothing to connect to (the folder exists)."""

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        target = self.path_for(prepared)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(prepared.data)
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TransportUnavailable(
                f"cannot write to the outbox {self.folder}: {exc.strerror}", transient=False
            ) from None

    def close(self) -> None:
        pass


def _classify(code: int, text: str, what: str, reason: str | None = None) -> DeliveryFailure:
    message = f"{what}: {code} {text}".strip()
    reason = f"{reason}: {code} {text}".strip() if reason else None
    if 500 <= code < 600:
        return PermanentFailure(message, code, reason)
    return TemporaryFailure(message, code, reason)


class _Lost(Exception):
    """Connection lost (or 421) before the message data went out: safe to retry on a new one."""


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled (RFC 5321 4.5.2), the final dot."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
    return body + b"\r\n.\r\n"


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


class SmtpTransport:
    """SMTP with STARTTLS, implicit TLS or (for a local relay) none; one connection reused for all
    messages and reopened once when the server drops it."""

    name = "smtp"

    def __init__(
        self,
        config: SmtpConfig,
        environ: Mapping[str, str] | None = None,
        *,
        connection_factory: Callable[..., smtplib.SMTP] | None = None,
    ):
        env = os.environ if environ is None else environ
        self.config = config
        self.user = env.get(config.user_env, "")
        self.password = env.get(config.password_env, "")
        if self.user and not self.password:
            raise TransportUnavailable(f"{config.user_env} is set but {config.password_env} is not")
        self.conn: smtplib.SMTP | None = None
        self.sent_on_connection = 0
        self._factory = connection_factory

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        helo = cfg.helo or None
        try:
            if cfg.security == "tls":
                conn = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, local_hostname=helo, timeout=cfg.timeout, context=self._context()
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, local_hostname=helo, timeout=cfg.timeout)
                if cfg.security == "starttls":
                    conn.ehlo()
                    if not conn.has_extn("starttls"):
                        conn.close()
                        raise TransportUnavailable(
                            f"{where} does not offer STARTTLS; refusing to send in clear text "
                            '(set [smtp] security = "tls" for implicit TLS, or "none" only for a local relay)',
                            transient=False,
                        )
                    conn.starttls(context=self._context())
            conn.ehlo()
            if self.user:
                conn.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(
                f"{where} refused the login: {exc.smtp_code} {_text(exc.smtp_error)}", transient=False
            ) from None
        except ssl.SSLError as exc:
            raise TransportUnavailable(f"TLS with {where} failed: {exc}", transient=False) from None
        except smtplib.SMTPConnectError as exc:  # a greeting other than 220
            raise TransportUnavailable(
                f"the SMTP server {where} refused the connection: {exc.smtp_code} {_text(exc.smtp_error)}",
                transient=not 500 <= exc.smtp_code < 600,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(f"cannot connect to the SMTP server {where}: {exc}") from None
        self.sent_on_connection = 0
        return conn

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None

    def open(self) -> None:
        """Connect now, so a run that cannot reach the server stops before it claims anything."""
        if self.conn is None:
            self.conn = self._connect()

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        """Deliver one message; see the module docstring for what each exception means."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self._transaction(self.conn, prepared, envelope_from)
            except _Lost as lost:
                # Nothing of this message was handed over: a new connection may try it again.
                self._drop()
                if attempt == 2:
                    raise TemporaryFailure(f"{lost}, twice; not sent") from None
                continue
            self.sent_on_connection += 1
            return

    def _transaction(self, conn: smtplib.SMTP, prepared: Prepared, envelope_from: str) -> None:
        """MAIL, RCPT, DATA on ``conn``; raises :class:`_Lost` while a retry is still safe."""
        recipient = prepared.recipient
        try:
            code, reply = conn.mail(envelope_from)
            if code == 421:
                raise _Lost(f"the server closed the connection at MAIL FROM: 421 {_text(reply)}")
            if code != 250:
                self._reset(conn)
                if 500 <= code < 600:
                    raise TransportUnavailable(
                        f"the server refused the sender {envelope_from}: {code} {_text(reply)}",
                        transient=False,
                    )
                raise _classify(code, _text(reply), "sender refused")
            code, reply = conn.rcpt(recipient)
            if code == 421:
                raise _Lost(f"the server closed the connection at RCPT TO: 421 {_text(reply)}")
            if code not in (250, 251):
                self._reset(conn)
                raise _classify(code, _text(reply), f"recipient {recipient} refused", "recipient refused")
            conn.putcmd("data")
            code, reply = conn.getreply()
            if code == 421:
                raise _Lost(f"the server closed the connection at DATA: 421 {_text(reply)}")
            if code != 354:
                self._reset(conn)
                raise _classify(code, _text(reply), "message refused at DATA")
            conn.send(_dot_stuffed(prepared.data))
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError, OSError) as exc:
            raise _Lost(
                f"connection lost before the message data went out ({exc or type(exc).__name__})"
            ) from None
        # From here on the server may have the message: a lost connection is ambiguous.
        try:
            code, reply = conn.getreply()
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError, OSError) as exc:
            self._drop()
            raise Ambiguous(
                f"no reply after the message data ({exc or type(exc).__name__}); the server may have it"
            ) from None
        if code == 421:
            self._drop()
        if code != 250:
            raise _classify(code, _text(reply), "message refused after DATA")

    def _reset(self, conn: smtplib.SMTP) -> None:
        """RSET after a refused MAIL or RCPT, so the connection can carry the next message."""
        try:
            conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.quit()
        self.conn = None


class RateLimiter:
    """At most ``rate`` messages per second (0: no limit), evenly spaced."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def parse_rate(text: str | float | int | None) -> float | None:
    """``"50"``, ``"50/s"``, ``"600/min"``, ``"3600/h"`` → messages per second; ``0`` = unlimited."""
    if text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = text.strip().lower()
        number, _, unit = raw.partition("/")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"not a rate: {text!r} (write e.g. 20/s or 600/min)") from None
        divisor = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}.get(unit.strip())
        if divisor is None:
            raise ValueError(f"unknown rate unit in {text!r} (use /s, /min or /h)")
        value /= divisor
    if value < 0:
        raise ValueError(f"a rate cannot be negative: {text!r}")
    return value

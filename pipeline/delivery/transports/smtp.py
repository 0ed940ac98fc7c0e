"""The SMTP transport: STARTTLS, implicit TLS or (for a local relay) none, with the ``[smtp]`` settings.

How each SMTP reply maps onto the outcomes of :mod:`.failures`:

- :class:`TemporaryFailure` — a 4xx reply to MAIL, RCPT or the message data, or the connection
  lost twice before the message data went out;
- :class:`Ambiguous` — the message data went out and the connection was lost or timed out before
  the server's final reply;
- :class:`PermanentFailure` — 5xx for this recipient or this message;
- :class:`TransportUnavailable` — no connection, 4xx/5xx greeting, refused login or sender, no
  STARTTLS.

``SmtpTransport`` runs MAIL, RCPT and DATA itself instead of ``smtplib.sendmail`` so that it
knows at which stage a connection was lost: before the message data went out, a lost connection
is safe to retry on a new one (once, within ``send``); after it, only the caller may resend.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping

from pipeline.config.mail import SmtpConfig
from pipeline.config.site import Settings
from pipeline.delivery.message import Prepared
from pipeline.delivery.transports.failures import (
    Ambiguous,
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
)


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


def make(settings: Settings, environ: Mapping[str, str] | None, channel: str) -> SmtpTransport:
    """One transport for every channel: issues and sign-up mails reach readers the same way."""
    return SmtpTransport(settings.smtp, environ)

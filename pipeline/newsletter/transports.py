"""Transports: where finished messages go — an outbox folder (default) or an SMTP server.

A transport's ``send`` either returns (the message was handed over), or raises
:class:`TemporaryFailure` (try again later: 4xx, a dropped connection), :class:`PermanentFailure`
(5xx for this recipient: never retry) or :class:`TransportUnavailable` (nothing can be sent now: no
connection, refused login, refused sender — stop the run instead of failing every recipient).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pipeline.newsletter.config import SmtpConfig
from pipeline.newsletter.message import Prepared


class DeliveryFailure(Exception):
    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryFailure):
    pass


class PermanentFailure(DeliveryFailure):
    pass


class TransportUnavailable(Exception):
    pass


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

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        target = self.path_for(prepared)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(prepared.data)
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TransportUnavailable(f"cannot write to the outbox {self.folder}: {exc.strerror}") from None

    def close(self) -> None:
        pass


def _classify(code: int, text: str, what: str) -> DeliveryFailure:
    message = f"{what}: {code} {text}".strip()
    if 500 <= code < 600:
        return PermanentFailure(message, code)
    return TemporaryFailure(message, code)


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
                            '(set [smtp] security = "tls" for implicit TLS, or "none" only for a local relay)'
                        )
                    conn.starttls(context=self._context())
            conn.ehlo()
            if self.user:
                conn.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(
                f"{where} refused the login: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except ssl.SSLError as exc:
            raise TransportUnavailable(f"TLS with {where} failed: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(f"cannot connect to the SMTP server {where}: {exc}") from None
        self.sent_on_connection = 0
        return conn

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.sendmail(envelope_from, [prepared.recipient], prepared.data)
                self.sent_on_connection += 1
                return
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise _classify(code, _text(text), f"recipient {prepared.recipient} refused") from None
            except smtplib.SMTPSenderRefused as exc:
                if exc.smtp_code == 421:
                    self._drop()
                    continue
                if 500 <= exc.smtp_code < 600:
                    raise TransportUnavailable(
                        f"the server refused the sender {envelope_from}: {exc.smtp_code} {_text(exc.smtp_error)}"
                    ) from None
                raise _classify(exc.smtp_code, _text(exc.smtp_error), "sender refused") from None
            except smtplib.SMTPDataError as exc:
                raise _classify(exc.smtp_code, _text(exc.smtp_error), "message refused") from None
            except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._drop()
                if attempt == 2:
                    raise TemporaryFailure(f"connection lost: {exc}") from None
            except smtplib.SMTPResponseException as exc:
                self._drop()
                raise _classify(exc.smtp_code, _text(exc.smtp_error), "SMTP error") from None

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

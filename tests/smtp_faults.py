"""A fault-injection SMTP server for the delivery tests: aiosmtpd on 127.0.0.1, scripted per stage
and per reader, counting what it really accepted.

A script is a list of :class:`Fault`; each fires ``times`` times (``None``: every time) at its
stage, for its reader (the RCPT address) or for anybody, after letting ``after`` occasions pass:

- stages: ``greeting`` (instead of 220), ``mail`` (reply to MAIL FROM), ``rcpt`` (reply to
  RCPT TO), ``data`` (reply to the DATA command, instead of 354), ``eod`` (the final reply, after
  the message data). ``greeting`` and ``mail`` come
  before the server knows the recipient, so their faults cannot name a reader: they fire on the
  next connections / transactions, in order;
- actions: ``reply`` (send ``reply``, e.g. ``"451 4.3.0 try later"``; a 421 also closes the
  connection, as RFC 5321 says), ``drop`` (close the connection instead of replying; at ``eod``
  the message is *not* kept), ``accept_drop`` (``eod`` only: keep the message, then close without
  replying — the ambiguous case), ``drop_after`` (``eod`` only: keep it, reply 250, then close),
  ``slow`` (wait ``delay`` seconds, then carry on normally — at ``eod`` the message is kept and
  250 sent, though a client with a shorter timeout has gone by then).

:meth:`FaultServer.stop` and :meth:`FaultServer.start` take the server down and up again on the
same port. :meth:`FaultServer.arm_kill` SIGKILLs the sender at a chosen point of the protocol
(deterministic, unlike a timer). ``deliveries`` counts accepted messages per (Message-ID, recipient); ``copies()`` per
(issue number, recipient), read from the newsletter Message-ID ``<goal17.N.UID@domain>``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

STAGES = ("greeting", "mail", "rcpt", "data", "eod")
ACTIONS = ("reply", "drop", "accept_drop", "drop_after", "slow")
ISSUE_IN_MESSAGE_ID = re.compile(r"<goal17\.(\d+)\.")


@dataclass
class Fault:
    stage: str
    action: str = "reply"
    reply: str | None = None
    reader: str | None = None
    times: int | None = 1
    delay: float = 0.0
    after: int = 0  # let this many matching occasions pass first (e.g. the first 2 connections)

    def __post_init__(self) -> None:
        if self.stage not in STAGES or self.action not in ACTIONS:
            raise ValueError(f"unknown stage or action: {self}")
        if self.reader is not None and self.stage in ("greeting", "mail"):
            raise ValueError(f"a {self.stage} fault cannot name a reader (the server does not know it yet)")
        if self.action in ("accept_drop", "drop_after") and self.stage != "eod":
            raise ValueError(f"{self.action} is a fault of the final reply (eod): {self}")
        if self.action == "reply" and not (self.reply and re.match(r"[245]\d\d ", self.reply)):
            raise ValueError(f"a reply fault needs a reply like '451 4.3.0 text': {self}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _FaultSMTP(SMTP):
    def __init__(self, server: FaultServer, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fault_server = server

    async def _handle_client(self) -> None:
        fault = self.fault_server._take("greeting", None)
        if fault is not None:
            if fault.action == "slow":
                await self.fault_server._sleep(fault.delay)
            else:
                if fault.action == "reply":
                    await self.push(fault.reply)
                self.transport.close()
                return
        await super()._handle_client()

    async def smtp_DATA(self, arg: str) -> None:
        reader = self.envelope.rcpt_tos[0] if self.envelope.rcpt_tos else None
        fault = self.fault_server._take("data", reader) if reader else None
        if fault is not None and fault.action != "slow":
            if fault.action == "reply":
                await self.push(fault.reply)
                if fault.reply.startswith("421"):
                    self.transport.close()
                else:
                    self._set_rset_state()
            else:
                self.transport.close()
            return
        if fault is not None:
            await self.fault_server._sleep(fault.delay)
        await super().smtp_DATA(arg)


class FaultServer:
    """The server and its script; use as a context manager (started on a free port)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self.fired: list[tuple[str, str, str | None]] = []  # (stage, action, reader)
        self.rcpt_attempts: Counter[str] = Counter()
        self.controller: Controller | None = None
        self._starting = False
        self._slow = 0  # slow replies still waiting (their message may still be kept)
        self._settled = threading.Condition(self.lock)
        self._tasks: set[asyncio.Task] = set()
        self._events: Counter[str] = Counter()  # normal (unfaulted) occasions per stage
        self._kill: tuple[int, str, int] | None = None  # (pid, where, nth)
        self.kills: list[tuple[str, int, str]] = []  # (where, issue, reader) of each kill done

    # -- the script ---------------------------------------------------------------------------

    def script(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take(self, stage: str, reader: str | None) -> Fault | None:
        with self.lock:
            if self._starting:
                return None  # aiosmtpd's own check that the server is up
            for fault in self.faults:
                if fault.stage == stage and fault.reader in (None, reader) and fault.times != 0:
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                    self.fired.append((stage, fault.action, reader))
                    return fault
            return None

    def settle(self, timeout: float = 30) -> None:
        """Wait until every slow reply has finished (so the counts no longer change)."""
        with self._settled:
            if not self._settled.wait_for(lambda: self._slow == 0, timeout):
                raise TimeoutError(f"{self._slow} slow replies still pending after {timeout} s")

    async def _keep_later(self, envelope, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            self._keep(envelope)
        finally:
            with self._settled:
                self._slow -= 1
                self._settled.notify_all()

    async def _sleep(self, delay: float) -> None:
        with self.lock:
            self._slow += 1
        try:
            await asyncio.sleep(delay)
        finally:
            with self._settled:
                self._slow -= 1
                self._settled.notify_all()

    def arm_kill(self, pid: int, where: str, nth: int) -> None:
        """SIGKILL ``pid`` at the ``nth`` unfaulted ``where``: ``rcpt`` (before replying),
        ``eod_before`` (the data is in, the message is not kept) or ``eod_after`` (kept, no reply
        yet: the sender dies before it can record the delivery)."""
        assert where in ("rcpt", "eod_before", "eod_after")
        with self.lock:
            self._events.clear()
            self._kill = (pid, where, nth)

    def disarm(self) -> None:
        with self.lock:
            self._kill = None

    def _maybe_kill(self, where: str, issue: int, reader: str) -> bool:
        stage = "rcpt" if where == "rcpt" else "eod"
        with self.lock:
            if where in ("rcpt", "eod_before"):
                self._events[stage] += 1
            if self._kill is None:
                return False
            pid, target, nth = self._kill
            if target != where or self._events[stage] != nth:
                return False
            self._kill = None
            self.kills.append((where, issue, reader))
        os.kill(pid, signal.SIGKILL)
        return True

    # -- counting -----------------------------------------------------------------------------

    def copies(self) -> Counter[tuple[int, str]]:
        """Accepted messages per (issue number, recipient)."""
        with self.lock:
            result: Counter[tuple[int, str]] = Counter()
            for (msgid, rcpt), n in self.deliveries.items():
                match = ISSUE_IN_MESSAGE_ID.match(msgid)
                result[(int(match.group(1)) if match else 0, rcpt)] += n
            return result

    @staticmethod
    def _message_id(envelope) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        return str(headers.get("Message-ID", "")).strip()

    def _keep(self, envelope) -> None:
        msgid = self._message_id(envelope)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.deliveries[(msgid, rcpt)] += 1

    # -- aiosmtpd handler hooks ---------------------------------------------------------------

    async def _apply(self, fault: Fault | None, server: SMTP, normal: str) -> str:
        if fault is None:
            return normal
        if fault.action == "slow":
            await self._sleep(fault.delay)
            return normal
        if fault.action == "drop":
            server.transport.close()
            return normal  # written to a closed transport: the client gets nothing
        assert fault.reply is not None
        if fault.reply.startswith("421"):
            asyncio.get_running_loop().call_soon(server.transport.close)  # after the reply is out
        return fault.reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        fault = self._take("mail", None)
        status = await self._apply(fault, server, "250 OK")
        if status.startswith("250"):
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
        return status

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_attempts[address] += 1
        fault = self._take("rcpt", address)
        if fault is None and self._maybe_kill("rcpt", 0, address):
            return "250 OK"  # to a sender that is gone
        status = await self._apply(fault, server, "250 OK")
        if status.startswith("250"):
            envelope.rcpt_tos.append(address)
        return status

    async def handle_DATA(self, server, session, envelope):
        reader = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        fault = self._take("eod", reader)
        if fault is None:
            match = ISSUE_IN_MESSAGE_ID.match(self._message_id(envelope))
            issue = int(match.group(1)) if match else 0
            if self._maybe_kill("eod_before", issue, reader or ""):
                return "451 4.3.0 not kept"  # the sender is gone
            self._keep(envelope)
            self._maybe_kill("eod_after", issue, reader or "")
            return "250 Message accepted for delivery"
        if fault.action == "slow":
            # The server commits the message after the delay even if the client has hung up by then
            # (aiosmtpd cancels the session's handler when the connection is lost: shield it).
            with self.lock:
                self._slow += 1
            task = asyncio.get_running_loop().create_task(self._keep_later(envelope, fault.delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            await asyncio.shield(task)
            return "250 Message accepted for delivery"
        if fault.action == "accept_drop":
            self._keep(envelope)
            server.transport.close()
            return "250 never seen"
        if fault.action == "drop_after":
            self._keep(envelope)
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "250 Message accepted for delivery"
        return await self._apply(fault, server, "250 Message accepted for delivery")

    # -- up and down --------------------------------------------------------------------------

    def start(self) -> None:
        assert self.controller is None
        controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=30)
        controller.factory = lambda: _FaultSMTP(self, self, **controller.SMTP_kwargs)  # type: ignore[method-assign]
        with self.lock:
            self._starting = True
        try:
            controller.start()
        finally:
            with self.lock:
                self._starting = False
        self.controller = controller

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> FaultServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The fault-injection SMTP server itself (tests/smtp_faults.py), checked with plain smtplib."""

from __future__ import annotations

import smtplib

import pytest

from tests.smtp_faults import Fault, FaultServer

MESSAGE = b"Message-ID: <goal17.3.abc@example.se>\r\nSubject: x\r\n\r\nbody\r\n"


def client(server: FaultServer, timeout: float = 10) -> smtplib.SMTP:
    conn = smtplib.SMTP("127.0.0.1", server.port, timeout=timeout)
    conn.ehlo()
    return conn


def test_no_faults_delivers_and_counts_per_issue_and_reader() -> None:
    with FaultServer() as server, client(server) as conn:
        conn.sendmail("b@example.se", ["r1@example.se"], MESSAGE)
        conn.sendmail("b@example.se", ["r1@example.se"], MESSAGE)
    assert server.copies() == {(3, "r1@example.se"): 2}
    assert server.deliveries == {("<goal17.3.abc@example.se>", "r1@example.se"): 2}


def test_greeting_and_mail_faults_fire_in_order_then_stop() -> None:
    with FaultServer() as server:
        server.script(Fault("greeting", reply="421 4.3.2 going down"), Fault("mail", reply="451 4.3.0 later"))
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            client(server)
        assert refused.value.smtp_code == 421
        with client(server) as conn:
            assert conn.mail("b@example.se")[0] == 451
            conn.rset()
            assert conn.mail("b@example.se")[0] == 250  # fired once only
    assert server.fired == [("greeting", "reply", None), ("mail", "reply", None)]


def test_rcpt_and_eod_faults_hit_only_their_reader() -> None:
    with FaultServer() as server:
        server.script(
            Fault("rcpt", reply="550 5.1.1 no such user", reader="gone@example.se", times=None),
            Fault("eod", reply="552 5.3.4 too big", reader="big@example.se"),
        )
        with client(server) as conn:
            for _ in range(2):
                with pytest.raises(smtplib.SMTPRecipientsRefused):
                    conn.sendmail("b@example.se", ["gone@example.se"], MESSAGE)
            with pytest.raises(smtplib.SMTPDataError) as refused:
                conn.sendmail("b@example.se", ["big@example.se"], MESSAGE)
            assert refused.value.smtp_code == 552
            conn.sendmail("b@example.se", ["ok@example.se"], MESSAGE)
            conn.sendmail("b@example.se", ["big@example.se"], MESSAGE)  # that one fired once
    assert server.copies() == {(3, "ok@example.se"): 1, (3, "big@example.se"): 1}
    assert server.rcpt_attempts["gone@example.se"] == 2


@pytest.mark.parametrize(("action", "kept"), [("drop", 0), ("accept_drop", 1)])
def test_connection_dropped_before_the_final_reply(action: str, kept: int) -> None:
    with FaultServer() as server:
        server.script(Fault("eod", action=action))
        conn = client(server)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            conn.sendmail("b@example.se", ["r@example.se"], MESSAGE)
    assert sum(server.copies().values()) == kept


def test_connection_dropped_after_the_final_reply() -> None:
    with FaultServer() as server:
        server.script(Fault("eod", action="drop_after"))
        conn = client(server)
        assert conn.sendmail("b@example.se", ["r@example.se"], MESSAGE) == {}
        with pytest.raises(smtplib.SMTPServerDisconnected):
            conn.sendmail("b@example.se", ["r@example.se"], MESSAGE)
    assert server.copies() == {(3, "r@example.se"): 1}


def test_a_reply_slower_than_the_client_timeout() -> None:
    with FaultServer() as server:
        server.script(Fault("rcpt", action="slow", delay=1.5))
        conn = client(server, timeout=0.3)
        conn.mail("b@example.se")
        with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
            conn.rcpt("r@example.se")
        with client(server) as conn:  # the next connection is served normally
            conn.sendmail("b@example.se", ["r@example.se"], MESSAGE)
    assert server.copies() == {(3, "r@example.se"): 1}


def test_down_then_up_on_the_same_port() -> None:
    with FaultServer() as server:
        server.stop()
        with pytest.raises(OSError):
            client(server, timeout=2)
        server.start()
        with client(server) as conn:
            conn.sendmail("b@example.se", ["r@example.se"], MESSAGE)
    assert server.copies() == {(3, "r@example.se"): 1}


def test_a_script_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError):
        Fault("mail", reply="451 x", reader="r@example.se")  # MAIL comes before the recipient
    with pytest.raises(ValueError):
        Fault("rcpt", action="accept_drop")
    with pytest.raises(ValueError):
        Fault("eod", reply="ok")


def test_a_data_command_fault_hits_its_reader_and_the_connection_carries_on() -> None:
    with FaultServer() as server:
        server.script(Fault("data", reply="452 4.3.1 no space", reader="r@example.se"))
        with client(server) as conn:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                conn.sendmail("b@example.se", ["r@example.se"], MESSAGE)
            assert refused.value.smtp_code == 452
            conn.sendmail("b@example.se", ["r@example.se"], MESSAGE)
    assert server.copies() == {(3, "r@example.se"): 1}

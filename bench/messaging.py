"""Newsletter benchmarks: issue build, personalised messages per second, SMTP delivery (issue 8).

They exercise ``pipeline.outputs.newsletter.render``/``message``/``transports`` on an issue planned from
the synthetic corpus:

* **issue build** — one edition rendered (Jinja → MJML → HTML, plus the text part);
* **messages/s** — complete personalised messages (bytes ready for SMTP) from one
  ``MessageTemplate``, for 10,000 and 100,000 subscribers, on one core; with DKIM (RSA-2048) on a
  sample, since signing dominates and its rate does not depend on the list size;
* **SMTP** — the same prepared messages delivered to a local aiosmtpd server (in its own process,
  discarding what it receives) through ``SmtpTransport`` with 1 and 4 connections, next to a
  minimal ``smtplib`` client sending the same bytes to the same server in the same run.

When a module is missing each figure is reported as *not measured* with the reason, so the table
never silently omits a figure the issue asks for.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import shutil
import smtplib
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path

from bench import corpus

SECTIONS = (
    "newsletter issue build (Jinja → MJML → HTML)",
    "personalised messages/s, 10,000 and 100,000 subscribers, without and with DKIM",
    "SMTP delivery to local aiosmtpd, 1 and 4 connections, vs minimal smtplib client",
)
SMTP_MESSAGES = 2000
DKIM_SAMPLE = 3000


def messaging_sections(repeat: int, say: Callable[[str], None], quick: bool = False) -> list[dict]:
    """One dict per figure: ``{"name", "measured": bool, "value"/"values" or "reason"}``."""
    missing = [
        name
        for name in (
            "pipeline.outputs.newsletter.render",
            "pipeline.delivery.message",
            "pipeline.delivery.transports",
        )
        if not _importable(name)
    ]
    if missing:
        return [
            {"name": name, "measured": False, "reason": f"{', '.join(missing)} not available yet"}
            for name in SECTIONS
        ]
    work = Path(tempfile.mkdtemp(prefix="goal17-bench-mail-"))
    try:
        return _measure(work, repeat, say, quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(work: Path, repeat: int, say: Callable[[str], None], quick: bool) -> list[dict]:
    from pipeline.config.mail import newsletter_config, smtp_config
    from pipeline.config.site import load_settings
    from pipeline.delivery.issues import IssueStore
    from pipeline.delivery.message import DkimSigner, MessageTemplate
    from pipeline.outputs.newsletter.render import render_edition
    from pipeline.reading.content import read_content
    from pipeline.reading.dates import parse_datetime
    from pipeline.stores import statedb

    key_file = work / "dkim.key"
    # RSA-2048, the common DKIM key, signed by OpenSSL (pipeline.delivery.dkim).
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key_file), "2048"], check=True, capture_output=True
    )
    port = _free_port()
    config_file = work / "site.toml"
    config_file.write_text(
        f'[site]\nstate_dir = "{work / "state"}"\n'
        '[newsletter]\nlist_id = "nyheter.bench.example"\n'
        f'dkim_selector = "bench"\ndkim_key_file = "{key_file}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nrate = 0\n',
        encoding="utf-8",
    )
    settings = load_settings(config_file)
    config = newsletter_config(settings)
    content = corpus.write_corpus(work / "content", 200)
    now = parse_datetime(corpus.BENCH_NOW, settings.tz)
    updates = read_content(content, settings, now).updates
    with closing(statedb.connect(config.state_dir)) as conn:
        issue = IssueStore(conn).plan(updates, now, since=datetime(2026, 5, 1, tzinfo=settings.tz))
    secret = b"bench-secret-0123456789abcdef"

    results: list[dict] = []
    times = []
    edition = None
    for _ in range(max(repeat, 3)):
        start = time.perf_counter()
        edition = render_edition(issue, "sv", settings, config)
        times.append(time.perf_counter() - start)
    assert edition is not None
    results.append(
        _figure(SECTIONS[0], times, "s", f"{len(edition.items)} items, {len(edition.html) // 1024} KiB HTML")
    )
    say(f"newsletter: issue build {statistics.median(times) * 1000:.0f} ms")

    template = MessageTemplate(edition, settings, config, secret, now)
    sizes = (2000,) if quick else (10_000, 100_000)
    for count in sizes:
        subscribers = [(f"u{i:011d}", f"prenumerant.{i}@kommun{i % 290}.example.se") for i in range(count)]
        rates = []
        for _ in range(repeat):
            start = time.perf_counter()
            for uid, address in subscribers:
                template.personalise(uid, address)
            rates.append(count / (time.perf_counter() - start))
        results.append(_figure(f"messages/s without DKIM, {count:,} subscribers", rates, "msg/s"))
        say(f"newsletter: {count} messages, {statistics.median(rates):,.0f} msg/s")
    signer = DkimSigner.from_config(config)
    assert signer is not None
    sample = [(f"d{i:011d}", f"dkim.{i}@example.se") for i in range(100 if quick else DKIM_SAMPLE)]
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for uid, address in sample:
            signer.sign_prepared(template.personalise(uid, address))
        rates.append(len(sample) / (time.perf_counter() - start))
    results.append(
        _figure(f"messages/s with DKIM (rsa-sha256, 2048-bit), {len(sample):,} sample", rates, "msg/s")
    )
    say(f"newsletter: DKIM {statistics.median(rates):,.0f} msg/s")
    # The floor in the same run: OpenSSL's RSA-2048 private-key operation alone, one per message.
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    key = signer._signer._key
    raw = []
    for _ in range(repeat):
        start = time.perf_counter()
        for uid, _address in sample:
            key.sign(hashlib.sha256(uid.encode()).digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        raw.append(len(sample) / (time.perf_counter() - start))
    results.append(_figure("RSA-2048 signatures/s alone (OpenSSL), same sample", raw, "sig/s"))
    results.append(
        {
            "name": "DKIM messages/s ÷ bare RSA signatures/s",
            "measured": True,
            "median": round(statistics.median(rates) / statistics.median(raw), 3),
            "value": f"{statistics.median(rates) / statistics.median(raw):.0%}",
        }
    )

    from pipeline.delivery.transports.smtp import SmtpTransport

    count = 300 if quick else SMTP_MESSAGES
    prepared = [template.personalise(f"s{i:011d}", f"mottagare.{i}@example.se") for i in range(count)]
    sender = settings.sender_email
    server = _start_server(port)
    try:

        def with_transport(batch):
            transport = SmtpTransport(smtp_config(settings), environ={})
            for message in batch:
                transport.send(message, sender)
            transport.close()

        def minimal(batch):
            client = smtplib.SMTP("127.0.0.1", port)
            for message in batch:
                client.sendmail(sender, [message.recipient], message.data)
            client.quit()

        for connections in (1, 4):
            for name, send in (("pipeline SmtpTransport", with_transport), ("minimal smtplib", minimal)):
                rates = [_deliver(prepared, connections, send) for _ in range(repeat)]
                results.append(
                    _figure(f"SMTP {name}, {connections} connection(s), {count:,} messages", rates, "msg/s")
                )
                say(f"smtp: {name} x{connections}: {statistics.median(rates):,.0f} msg/s")
    finally:
        server.terminate()
        server.join(5)
    by_name = {r["name"]: r["median"] for r in results}
    for connections in (1, 4):
        ours = by_name[f"SMTP pipeline SmtpTransport, {connections} connection(s), {count:,} messages"]
        base = by_name[f"SMTP minimal smtplib, {connections} connection(s), {count:,} messages"]
        results.append(
            {
                "name": f"SMTP pipeline / minimal, {connections} connection(s)",
                "measured": True,
                "median": round(ours / base, 3),
                "value": f"{ours / base:.0%} of the minimal client (target ≥ 80 %)",
            }
        )
    return results


def _deliver(prepared, connections: int, send) -> float:
    batches = [prepared[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=send, args=(batch,)) for batch in batches]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(prepared) / (time.perf_counter() - start)


def _figure(name: str, values: list[float], unit: str, note: str = "") -> dict:
    median = statistics.median(values)
    if unit == "s":
        text = f"{median * 1000:.1f} ms (min–max {min(values) * 1000:.1f}–{max(values) * 1000:.1f})"
    else:
        text = f"{median:,.0f} {unit} (min–max {min(values):,.0f}–{max(values):,.0f})"
    return {
        "name": name,
        "measured": True,
        "unit": unit,
        "median": round(median, 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "value": text + (f"; {note}" if note else ""),
    }


def _serve(port: int) -> None:
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    threading.Event().wait()


def _start_server(port: int) -> multiprocessing.Process:
    """aiosmtpd in its own process, so the server does not compete with the client for the GIL."""
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    process.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(64).startswith(b"220"):
                    return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("the local aiosmtpd server did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False

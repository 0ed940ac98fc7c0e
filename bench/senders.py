"""Sends per second with 1, 2 and 4 ``send`` processes on one issue, SQLite vs PostgreSQL, in one run.

For each backend and each number of senders K, a fresh state gets R readers and one issue; K
``python -m pipeline send --transport smtp`` processes start at once against a local aiosmtpd
server that discards what it receives (its own process, as in :mod:`bench.messaging`), and the
figure is R divided by the wall time from the first start to the last exit (interpreter start and
imports included, as an operator sees a run). On SQLite the state folder admits one sender: the
others stop at once ("another send is already running"), so K senders send at one sender's pace —
which is the point of the comparison. PostgreSQL is a throw-away server started for the run
(``tests/pg_server.py``, the test suite's: local, ``fsync=off``); each measurement gets a database
of its own.

    python -m bench.senders                 # R = 2,000
    python -m bench.senders --readers 500   # quicker
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench.messaging import _free_port, _start_server
from bench.throwaway_postgres import measure_and_report

REPO = Path(__file__).resolve().parent.parent
SENDERS = (1, 2, 4)
NOW = datetime.fromisoformat("2026-11-27T12:00:00+01:00")
SECRET = "bench-senders-secret-0123456789-abcdefghij"
UPDATE = """---
title: Partnerskap för hållbara städer
id: tag:bench.example,2026:senders
date: 2026-11-20T09:00
targets: ["17.9"]
---
Kommunerna i nätverket delar erfarenheter av öppna data och medborgardialog.
"""


def prepare(work: Path, port: int, readers: int, database_url: str) -> Path:
    """A site in ``work`` with ``readers`` active readers and issue 1 built; returns site.toml."""
    from pipeline.config.site import load_settings
    from pipeline.publishing.issue_build import build_issue
    from pipeline.stores import migrations
    from pipeline.stores.backend import backend_for, open_backend

    work.mkdir(parents=True)
    (work / "content").mkdir()
    (work / "content" / "senders.md").write_text(UPDATE, encoding="utf-8")
    state = f'[state]\ndatabase_url = "{database_url}"\n' if database_url else ""
    config_file = work / "site.toml"
    config_file.write_text(
        '[site]\nstate_dir = "state"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nrate = 0\ntimeout = 10\n'
        '[newsletter]\ntransport = "smtp"\n' + state,
        encoding="utf-8",
    )
    settings = load_settings(config_file)
    if database_url:
        migrations.migrate(backend_for(settings.state))
    with open_backend(settings).subscribers() as store:
        lines = "\n".join(f"r{n:05d}@example.se" for n in range(readers))
        store.import_csv(f"email\n{lines}\n", now=NOW)
    build_issue(work / "content", work / "out", settings, NOW)
    return config_file


def run_senders(config_file: Path, count: int) -> tuple[float, list[int]]:
    """Start ``count`` senders at once; (wall seconds to the last exit, exit codes)."""
    command = [sys.executable, "-m", "pipeline", "send", "--config", str(config_file), "--transport", "smtp"]
    command += ["--now", (NOW + timedelta(hours=1)).isoformat(), "-q"]
    env = {**os.environ, "GOAL17_SECRET": SECRET}
    start = time.perf_counter()
    processes = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    codes = []
    for process in processes:
        _, err = process.communicate(timeout=900)
        if process.returncode not in (0, 1):
            raise RuntimeError(f"send exited {process.returncode}: {err.strip()}")
        codes.append(process.returncode)
    return time.perf_counter() - start, codes


def measure(readers: int, database: Callable[[], str], say: Callable[[str], None]) -> list[dict]:
    """One figure per (backend, senders): sends per second over the whole run."""
    port = _free_port()
    server = _start_server(port)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="goal17-bench-senders-") as scratch:
            for backend in ("sqlite", "postgresql"):
                for count in SENDERS:
                    url = database() if backend == "postgresql" else ""
                    config_file = prepare(Path(scratch) / f"{backend}-{count}", port, readers, url)
                    seconds, codes = run_senders(config_file, count)
                    refused = codes.count(1)
                    results.append(
                        {
                            "backend": backend,
                            "senders": count,
                            "refused": refused,
                            "readers": readers,
                            "seconds": round(seconds, 2),
                            "sends_per_s": round(readers / seconds, 1),
                        }
                    )
                    say(f"{backend}, {count} sender(s): {readers / seconds:,.0f} sends/s ({refused} refused)")
    finally:
        server.terminate()
    base = results[0]["sends_per_s"]
    for row in results:
        row["ratio_to_sqlite_1"] = round(row["sends_per_s"] / base, 2)
    return results


def table(results: list[dict]) -> str:
    lines = ["| backend | senders | sends/s | vs SQLite, 1 sender | refused |", "|---|---|---|---|---|"]
    for row in results:
        lines.append(
            f"| {row['backend']} | {row['senders']} | {row['sends_per_s']:,.0f} | "
            f"{row['ratio_to_sqlite_1']:.2f}× | {row['refused']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.senders", description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=2000, help="readers of the issue (default 2000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    return measure_and_report(lambda database, say: measure(args.readers, database, say), table, args.json)


if __name__ == "__main__":
    sys.exit(main())

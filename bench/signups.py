"""Sign-ups per second through 1 and 2 ``web`` instances, SQLite vs PostgreSQL, in one run.

For each backend and each number of instances K, a fresh state and K ``python -m pipeline web``
processes on loopback ports (on SQLite they share one state folder, i.e. one machine; on
PostgreSQL one database); confirmation mails go to a local aiosmtpd server that discards them
(its own process, as in :mod:`bench.messaging`). C client threads post N sign-ups of distinct
addresses, spread round-robin over the instances, each through the whole path a visitor takes:
form parsing, the shared client and address limits, the subscriber row and its consent record,
the signed confirmation link and the mail handed to SMTP after the answer. The figure is N
divided by the wall time of the load (the instances are already up). The load generator runs on
the same machine and takes its share of the cores, so compare the figures with each other, not
with another machine's. PostgreSQL is a throw-away local server (``tests/pg_server.py``, the test
suite's, ``fsync=off``).

    python -m bench.signups                    # N = 600, C = 8
    python -m bench.signups --signups 200      # quicker
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.messaging import _free_port, _start_server
from bench.throwaway_postgres import measure_and_report
from bench.web_instances import start_web, stop, wait_until_up

INSTANCES = (1, 2)
SECRET = "bench-signups-secret-0123456789-abcdefghij"


def _site(folder: Path, web_port: int, smtp_port: int, database_url: str) -> Path:
    text = (
        f'[site]\nbase_url = "http://127.0.0.1:{web_port}/"\nstate_dir = "state"\n\n'
        f'[state]\ndatabase_url = "{database_url}"\n\n'
        '[newsletter]\ntransport = "smtp"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\nrate = 0\n\n'
        "[web]\nper_client_per_hour = 1000000\nper_address_per_day = 1000\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_run(
    backend: str, instances: int, signups: int, clients: int, database: Callable[[], str], smtp_port: int
) -> dict:
    """Sign-ups per second for one (backend, number of instances)."""
    import httpx

    from pipeline.config.site import load_settings
    from pipeline.stores import migrations
    from pipeline.stores.backend import backend_for

    ports = [_free_port() for _ in range(instances)]
    with tempfile.TemporaryDirectory(prefix="goal17-bench-signups-") as tmp:
        config = _site(Path(tmp), ports[0], smtp_port, database() if backend == "postgresql" else "")
        migrations.migrate(backend_for(load_settings(config).state))
        processes = [start_web(config, port, SECRET, keep_output=False) for port in ports]
        pools = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) for port in ports]
        try:
            for pool, process in zip(pools, processes, strict=True):
                wait_until_up(pool, process)

            def sign_up(number: int) -> int:
                return (
                    pools[number % instances]
                    .post("/subscribe", data={"email": f"reader{number}@example.se"})
                    .status_code
                )

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as load:
                statuses = list(load.map(sign_up, range(signups)))
            seconds = time.perf_counter() - started
        finally:
            for pool in pools:
                pool.close()
            stop(processes)
    accepted = statuses.count(202)
    if accepted != signups:
        raise RuntimeError(f"{backend} ×{instances}: only {accepted} of {signups} sign-ups accepted")
    return {"backend": backend, "instances": instances, "signups": signups, "seconds": round(seconds, 3),
            "per_second": round(signups / seconds, 1)}  # fmt: skip


def measure(
    signups: int, clients: int, database: Callable[[], str], say: Callable[[str], None]
) -> list[dict]:
    smtp_port = _free_port()
    sink = _start_server(smtp_port)
    results = []
    try:
        for backend in ("sqlite", "postgresql"):
            for instances in INSTANCES:
                say(
                    f"sign-ups: {backend}, {instances} web instance(s), {signups} sign-ups, {clients} clients …"
                )
                results.append(one_run(backend, instances, signups, clients, database, smtp_port))
    finally:
        sink.terminate()
        sink.join(timeout=10)
    return results


def table(results: list[dict]) -> str:
    rows = [
        "| backend | web instances | sign-ups | seconds | sign-ups/s | vs 1 instance |",
        "|---|---|---|---|---|---|",
    ]
    base = {r["backend"]: r["per_second"] for r in results if r["instances"] == 1}
    for r in results:
        ratio = r["per_second"] / base[r["backend"]]
        rows.append(
            f"| {r['backend']} | {r['instances']} | {r['signups']} | {r['seconds']:.2f} | {r['per_second']:.0f} | {ratio:.2f}× |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signups", description=__doc__.split("\n")[0])
    parser.add_argument("--signups", type=int, default=600, help="sign-ups per measurement (default 600)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    return measure_and_report(
        lambda database, say: measure(args.signups, args.clients, database, say), table, args.json
    )


if __name__ == "__main__":
    sys.exit(main())

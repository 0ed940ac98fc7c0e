"""Two real ``web`` instances on one PostgreSQL database, as behind a load balancer.

``python -m pipeline web`` twice, on two loopback ports, mailing through a real aiosmtpd server.
The limits are shared (a client alternating between instances gets the limit once, not twice),
and a subscription started on one instance is confirmed and ended on the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.web_instances import start_web, stop, wait_until_up
from pipeline.config.site import load_settings
from pipeline.delivery import tokens
from pipeline.stores import migrations
from pipeline.stores.backend import backend_for, forget_backends
from tests.web_helpers import SECRET, free_port, links, smtp_server, write_site


@pytest.fixture
def instances(tmp_path: Path, postgres_url: str) -> Iterator[tuple]:
    ports = free_port(), free_port()
    with smtp_server() as (mailbox, smtp_port):
        config = write_site(
            tmp_path, web_port=ports[0], smtp_port=smtp_port, per_client_per_hour=4, trust_forwarded_for=True
        )
        config.write_text(config.read_text() + f'\n[state]\ndatabase_url = "{postgres_url}"\n')
        settings = load_settings(config)
        migrations.migrate(backend_for(settings.state))
        processes = [start_web(config, port, SECRET, keep_output=True) for port in ports]
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) for port in ports]
        try:
            for client, process in zip(clients, processes, strict=True):
                wait_until_up(client, process)
            yield settings, mailbox, clients
        finally:
            for client in clients:
                client.close()
            stop(processes)
            forget_backends()


def subscriber(settings, address: str):
    with backend_for(settings.state).subscribers() as store:
        return store.find(address)


def test_a_client_alternating_between_instances_gets_the_limit_once(instances) -> None:
    settings, mailbox, (a, b) = instances
    client = {"X-Forwarded-For": "198.51.100.7"}
    statuses = [
        (a, b)[n % 2].post("/subscribe", data={"email": f"burst{n}@example.se"}, headers=client).status_code
        for n in range(8)
    ]
    assert statuses == [202] * 4 + [429] * 4  # not 8 × 202: per_client_per_hour = 4 across both
    limited = b.post("/subscribe", data={"email": "late@example.se"}, headers=client)
    assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 3600
    other = {"X-Forwarded-For": "198.51.100.8"}  # another client is not limited by the first
    assert a.post("/subscribe", data={"email": "other@example.se"}, headers=other).status_code == 202
    assert len(mailbox.wait(5)) == 5 and mailbox.settle() == 5


def test_sign_up_on_one_instance_confirm_on_the_other_and_one_click_unsubscribe(instances) -> None:
    settings, mailbox, (a, b) = instances
    assert a.post("/subscribe", data={"email": "reader@example.se"}).status_code == 202
    (message,) = mailbox.to("reader@example.se")
    (link,) = links(message, "confirm")
    path = "/" + link.split("/", 3)[3]
    assert b.post(path, data={"confirm": "yes"}).status_code == 200
    found = subscriber(settings, "reader@example.se")
    assert found is not None and found.status == "active"

    token = tokens.unsubscribe_token(SECRET.encode(), found.uid, settings.newsletter.list_id)
    response = a.post(
        f"/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and "location" not in response.headers  # RFC 8058
    assert subscriber(settings, "reader@example.se").status == "unsubscribed"
    assert b.post(path, data={"confirm": "yes"}).status_code == 410  # the confirm link is used up


def test_the_shared_limits_hold_for_concurrent_requests_of_one_client(
    tmp_path: Path, postgres_url: str
) -> None:
    """Many threads, two store objects (two instances' worth), one client: exactly the limit passes."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from pipeline.config.state import StateConfig
    from pipeline.stores.postgres.rate_limits import PostgresRateLimits

    migrations.migrate(backend_for(StateConfig("postgresql", tmp_path, postgres_url, "file")))
    limits = [
        PostgresRateLimits(postgres_url, per_client_per_hour=7, per_address_per_day=3) for _ in range(2)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        waits = list(pool.map(lambda n: limits[n % 2].client_hit("203.0.113.9"), range(20)))
        mails = list(
            pool.map(lambda n: limits[n % 2].take_mail("x@example.se", datetime.now(UTC)), range(10))
        )
    assert waits.count(None) == 7 and all(w is None or 0 < w <= 3600 for w in waits)
    assert mails.count(True) == 3

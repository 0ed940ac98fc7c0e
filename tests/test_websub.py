"""WebSub: builds record the feeds they changed; ping tells a real (local) hub about them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from pipeline.cli import main
from pipeline.config.site import default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.publishing import websub
from pipeline.publishing.site_build import run_build
from pipeline.stores.sqlite.websub_pending import PENDING_FILE
from tests.conftest import NOW

BASE = "https://mal17.example.se/"


class Hub:
    """A WebSub hub on 127.0.0.1 that records publish pings and answers as told."""

    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.status = 204
        self.delay = 0.0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode("ascii")
                time.sleep(hub.delay)
                hub.pings.append(
                    {
                        "content_type": [self.headers.get("Content-Type", "")],
                        **parse_qs(body, strict_parsing=True),
                    }
                )
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def urls(self) -> list[str]:
        return sorted(url for ping in self.pings for url in ping["hub.url"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    yield server
    server.close()


def feed_urls(*folders: str) -> list[str]:
    return sorted(
        f"{BASE}{folder}{name}" for folder in folders for name in ("rss.xml", "atom.xml", "feed.json")
    )


ALL_FOLDERS = (
    ["feeds/"]
    + [f"feeds/groups/{g.id}/" for g in load_taxonomy().groups]
    + [f"feeds/targets/{t.id}/" for t in load_taxonomy().targets]
)


@pytest.mark.usefixtures("state_backend")  # the pending list on both backends
def test_build_records_changed_feeds_and_ping_publishes_them(content_dir, write_update, tmp_path, hub):
    settings = default_settings(websub_hub=hub.url, state_dir=str(tmp_path / "state"))
    out = tmp_path / "out"
    write_update("a", date="2026-10-01T10:00", targets=["17.9"])
    run_build(content_dir, out, settings, NOW)
    assert websub.pending(settings) == feed_urls(*ALL_FOLDERS)  # first build: every feed is new

    result = websub.ping(settings)
    assert hub.urls() == feed_urls(*ALL_FOLDERS)
    assert all(ping["hub.mode"] == ["publish"] and len(ping["hub.url"]) == 1 for ping in hub.pings)
    assert {ping["content_type"][0] for ping in hub.pings} == {"application/x-www-form-urlencoded"}
    assert result.remaining == [] and websub.pending(settings) == []

    run_build(content_dir, out, settings, NOW)  # nothing changed
    hub.pings.clear()
    assert websub.ping(settings).summary().startswith("websub: nothing to ping")
    assert hub.pings == []

    write_update("b", date="2026-10-02T10:00", targets=["17.2"])
    run_build(content_dir, out, settings, NOW)
    websub.ping(settings)
    assert hub.urls() == feed_urls("feeds/", "feeds/groups/finance/", "feeds/targets/17.2/")


def test_builds_without_a_hub_record_nothing(content_dir, write_update, tmp_path):
    settings = default_settings(state_dir=str(tmp_path / "state"))
    write_update("a", targets=["17.9"])
    run_build(content_dir, tmp_path / "out", settings, NOW)
    assert not (tmp_path / "state" / PENDING_FILE).exists()
    with pytest.raises(websub.PingError, match="no WebSub hub configured"):
        websub.ping(settings)


@pytest.mark.usefixtures("state_backend")  # the pending list on both backends
def test_a_refusing_hub_keeps_the_urls_pending(tmp_path, hub):
    settings = default_settings(websub_hub=hub.url, state_dir=str(tmp_path / "state"))
    urls = feed_urls("feeds/", "feeds/targets/17.1/")
    hub.status = 500
    with pytest.raises(websub.PingError, match=r"refused hub.url=.*HTTP 500"):
        websub.ping(settings, urls=urls)
    hub.status = 202
    result = websub.ping(settings, urls=urls)
    assert result.pinged == urls


@pytest.mark.usefixtures("state_backend")  # the pending list on both backends
def test_pending_urls_survive_a_failed_ping(content_dir, write_update, tmp_path, hub):
    settings = default_settings(websub_hub=hub.url, state_dir=str(tmp_path / "state"))
    write_update("a", targets=["17.9"])
    run_build(content_dir, tmp_path / "out", settings, NOW)
    before = websub.pending(settings)
    hub.status = 503
    with pytest.raises(websub.PingError):
        websub.ping(settings)
    assert websub.pending(settings) == before
    hub.status = 204
    websub.ping(settings)
    assert websub.pending(settings) == []


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_hub_that_is_down_fails_fast_with_a_clear_error(tmp_path):
    down = f"http://127.0.0.1:{unused_port()}/hub"
    settings = default_settings(websub_hub=down, state_dir=str(tmp_path / "state"))
    started = time.monotonic()
    with pytest.raises(websub.PingError, match=r"unreachable: .*refused"):
        websub.ping(settings, urls=[BASE + "feeds/atom.xml"], timeout=2)
    assert time.monotonic() - started < 2


def test_a_silent_hub_times_out(tmp_path, hub):
    hub.delay = 3
    settings = default_settings(websub_hub=hub.url, state_dir=str(tmp_path / "state"))
    started = time.monotonic()
    with pytest.raises(websub.PingError, match=r"did not answer within 0.5 s"):
        websub.ping(settings, urls=[BASE + "feeds/atom.xml"], timeout=0.5)
    assert time.monotonic() - started < 2.5


def write_config(tmp_path: Path, hub_url: str) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\nwebsub_hub = "{hub_url}"\nstate_dir = "state"\n', "utf-8")
    return config


def test_ping_command_and_scheduler_job(content_dir, write_update, tmp_path, hub, capsys):
    config = write_config(tmp_path, hub.url)
    out = tmp_path / "out"
    write_update("a", targets=["17.9"])
    assert (
        main(["build", "--config", str(config), "--content", str(content_dir), "--out", str(out), "-q"]) == 0
    )
    assert main(["ping", "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    assert f"{hub.url} notified of {len(feed_urls(*ALL_FOLDERS))} changed feed URL(s)" in printed
    assert main(["ping", "--config", str(config), "--all", "--out", str(out), "-q"]) == 0
    assert len(hub.pings) == 2 * len(feed_urls(*ALL_FOLDERS))

    settings = default_settings(websub_hub=hub.url, state_dir=str(tmp_path / "state"))
    assert websub.ping_job(settings, {"timeout": 5}) == f"websub: nothing to ping ({hub.url})"
    with pytest.raises(websub.PingError, match="unknown option"):
        websub.ping_job(settings, {"url": "x"})


def test_ping_command_reports_a_down_hub_and_exits_1(tmp_path, capsys):
    config = write_config(tmp_path, f"http://127.0.0.1:{unused_port()}/")
    (tmp_path / "out" / "feeds").mkdir(parents=True)
    (tmp_path / "out" / "feeds" / "atom.xml").write_text("<feed/>")
    assert (
        main(["ping", "--config", str(config), "--all", "--out", str(tmp_path / "out"), "--timeout", "2"])
        == 1
    )
    err = capsys.readouterr().err
    assert "error: hub http://127.0.0.1:" in err and "unreachable" in err
    assert main(["ping", "--config", str(config), "--timeout", "0"]) == 1
    assert "--timeout must be positive" in capsys.readouterr().err

"""``web`` and the signing secret (issue 17 defect 12), through the command line and real HTTP.

The development secret is in the source code: a service running on it opens any subscriber's
data to a forged link. ``web`` must refuse to start without a real ``GOAL17_SECRET`` unless
started with ``--dev`` (warned on every start), and refuse weak secrets.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipeline.delivery import tokens
from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import REPO

REAL_SECRET = "Zq3-real-secret-for-tests-8fK2pL0xV7wY1n"


def env_with(secret: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOAL17_SECRET", "GOAL17_CONFIG")}
    if secret is not None:
        env["GOAL17_SECRET"] = secret
    return env


def site(tmp_path: Path, transport: str = "outbox") -> Path:
    config = tmp_path / "site.toml"
    text = '[site]\nstate_dir = "state"\nbase_url = "http://127.0.0.1/"\n'
    text += '[web]\nprivacy_url = "http://127.0.0.1/integritet/"\n'  # a deployment's: no privacy warning
    if transport != "outbox":
        text += f'[newsletter]\ntransport = "{transport}"\n[smtp]\nhost = "127.0.0.1"\nport = 1\n'
    config.write_text(text, encoding="utf-8")
    return config


def web(tmp_path: Path, *args: str, secret: str | None, transport: str = "outbox"):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "web", "--config", str(site(tmp_path, transport)), "--port", "0"]
        + list(args),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_with(secret),
    )


def one_line_error(result: subprocess.CompletedProcess, code: int = 1) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_web_refuses_to_start_without_a_secret_even_with_the_outbox(tmp_path):
    line = one_line_error(web(tmp_path, secret=None))
    assert "GOAL17_SECRET is not set" in line and "--dev" in line


@pytest.mark.parametrize(
    "secret, reason",
    [
        ("0123456789abcdefghijklmnopqrstu", "too short"),  # 31 bytes: the minimum is 32, for send too
        ("x" * 16, "too short"),
        ("ab" * 40, "too few"),
        (tokens.DEVELOPMENT_SECRET.decode(), "public development secret"),
    ],
)
def test_web_refuses_weak_secrets_with_or_without_dev(tmp_path, secret, reason):
    assert reason in one_line_error(web(tmp_path, secret=secret))
    assert reason in one_line_error(web(tmp_path, "--dev", secret=secret))


def test_dev_is_for_the_outbox_and_a_loopback_address_only(tmp_path):
    assert "outbox" in one_line_error(web(tmp_path, "--dev", secret=None, transport="smtp"))
    assert "loopback" in one_line_error(web(tmp_path, "--dev", "--host", "0.0.0.0", secret=None), code=2)


@contextmanager
def running_web(tmp_path: Path, *args: str, secret: str | None) -> Iterator[tuple[str, str]]:
    """``web`` in a subprocess: yields its base URL and what it wrote to stderr before serving."""
    config = site(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "web", "--config", str(config), "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_with(secret),
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("subscription service at http://127.0.0.1:"), (line, process.stderr.read())
        url = line.split()[3].removesuffix("subscribe")
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def subscriber_uid(tmp_path: Path) -> str:
    with SubscriberStore.open(tmp_path / "state") as store:
        store.add("reader@example.se", now=datetime.now(UTC))
        return store.find("reader@example.se").uid


def test_a_token_forged_with_the_development_secret_opens_nothing(tmp_path):
    uid = subscriber_uid(tmp_path)
    forged = tokens.preferences_token(tokens.DEVELOPMENT_SECRET, uid)
    genuine = tokens.preferences_token(REAL_SECRET.encode(), uid)
    with running_web(tmp_path, secret=REAL_SECRET) as (url, process):
        refused = httpx.get(f"{url}preferences/{forged}/data.json", timeout=10)
        assert refused.status_code == 400 and "reader@example.se" not in refused.text
        opened = httpx.get(f"{url}preferences/{genuine}/data.json", timeout=10)
        assert opened.status_code == 200 and "reader@example.se" in opened.text
    assert "warning" not in process.stderr.read()


def test_dev_runs_on_the_development_secret_and_warns_on_every_start(tmp_path):
    uid = subscriber_uid(tmp_path)
    for _ in range(2):
        with running_web(tmp_path, "--dev", secret=None) as (url, process):
            response = httpx.get(f"{url}subscribe", timeout=10)
            assert response.status_code == 200
            forged = tokens.preferences_token(tokens.DEVELOPMENT_SECRET, uid)
            assert httpx.get(f"{url}preferences/{forged}/data.json", timeout=10).status_code == 200
        assert "public development secret" in process.stderr.read()


def test_dev_with_a_real_secret_uses_the_real_one_and_says_dev_does_nothing(tmp_path):
    uid = subscriber_uid(tmp_path)
    with running_web(tmp_path, "--dev", secret=REAL_SECRET) as (url, process):
        forged = tokens.preferences_token(tokens.DEVELOPMENT_SECRET, uid)
        assert httpx.get(f"{url}preferences/{forged}/data.json", timeout=10).status_code == 400
    assert "--dev has no effect" in process.stderr.read()


def test_serve_warns_when_its_preview_service_uses_the_development_secret(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(site(tmp_path))]
        + ["--out", str(out), "--port", "0", "-q"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_with(None),
    )
    try:
        assert process.stdout.readline().startswith("serving ")
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "public development secret" in process.stderr.read()


def test_serve_refuses_a_weak_secret_too(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(site(tmp_path))]
        + ["--out", str(out), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_with("sixteen-chars-ok"),
    )
    assert "too short" in one_line_error(result)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "example.se"])
def test_the_preview_refuses_the_development_secret_where_others_can_reach_it(tmp_path, monkeypatch, host):
    from pipeline.commands._options import CommandFailed
    from pipeline.commands._uvicorn import make_app
    from pipeline.config.site import load_settings

    monkeypatch.delenv("GOAL17_SECRET", raising=False)
    settings = load_settings(site(tmp_path))
    threads = threading.active_count()
    with pytest.raises(CommandFailed, match="public development secret") as refused:
        make_app(settings, tmp_path, host=host)
    assert refused.value.code == 2
    assert threading.active_count() == threads, "a refused service leaves no database thread behind"
    for loopback in ("127.0.0.1", "::1", "localhost"):
        shut_down(make_app(settings, tmp_path, host=loopback))
    monkeypatch.setenv("GOAL17_SECRET", REAL_SECRET)
    shut_down(make_app(settings, tmp_path, host=host))
    assert threading.active_count() == threads


def shut_down(app) -> None:
    """Run the app's lifespan to its end, as the server does when it stops: it closes the service."""

    async def start_and_stop() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start_and_stop())


def test_serve_on_a_public_address_needs_a_real_secret(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(site(tmp_path))]
        + ["--out", str(out), "--port", "0", "--host", "0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_with(None),
    )
    assert "public development secret" in one_line_error(result, code=2)


def test_the_live_preview_on_a_public_address_needs_a_real_secret(tmp_path):
    """``serve`` without ``--out`` (the live preview of the content) follows the same rule."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "ett.md").write_text(
        '---\nid: ett\ntitle: "Ett"\ndate: 2026-11-20T09:00\ntargets: ["17.9"]\n---\nText.\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(site(tmp_path))]
        + ["--content", str(content), "--port", "0", "--host", "0.0.0.0", "--no-watch"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_with(None),
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "public development secret" in last

"""Real ``python -m pipeline web`` processes on loopback ports: start, wait until they answer, stop.

Shared by :mod:`bench.signups` (throughput through 1 and 2 instances) and
``tests/test_web_instances.py`` (two instances behind one database), which start the service the
same way an operator does and must not differ in how they find it ready or shut it down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def start_web(config: Path, port: int, secret: str, *, keep_output: bool) -> subprocess.Popen:
    """One instance of the site at ``config``; its ``site.toml`` names the database, not the environment.

    ``keep_output`` pipes stdout and stderr together (a test reads them when the process fails);
    otherwise stdout is discarded so a long load cannot fill an unread pipe, and stderr is kept.
    """
    env = {**os.environ, "GOAL17_SECRET": secret, "PYTHONPATH": str(REPO)}
    env.pop("GOAL17_DATABASE_URL", None)
    if keep_output:
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "web", "--config", str(config), "--port", str(port)],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if keep_output else subprocess.PIPE,
        text=True,
    )


def wait_until_up(client: httpx.Client, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once the instance serves ``/subscribe``; RuntimeError (with its output) if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout if process.stdout is not None else process.stderr
            said = output.read().strip() if output is not None else ""
            raise RuntimeError(f"web exited with {process.returncode}: {said}")
        try:
            if client.get("/subscribe").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"web did not answer within {timeout:.0f} s")


def stop(processes: Iterable[subprocess.Popen]) -> None:
    """Terminate every instance, then wait for each (killed after 20 s): bounded, never left running."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


__all__ = ["start_web", "stop", "wait_until_up"]

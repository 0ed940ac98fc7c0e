"""A real PostgreSQL server for the tests, started in a temporary folder and stopped afterwards.

Debian's ``postgresql`` package (15 on these machines; ``.ci/run`` installs it when missing)
provides ``initdb`` and ``pg_ctl``. The cluster listens on 127.0.0.1 only, on a free port, with
``trust`` authentication for the one role ``goal17``, and runs with ``fsync=off`` (a test cluster
is thrown away, so durability costs time for nothing). PostgreSQL refuses to run as root: when the
tests run as root (CI containers), the server runs as the ``postgres`` system user the package
creates, in a folder that user owns.

Each test gets a database of its own (:meth:`PostgresServer.new_database`), so tests never see
each other's rows and the server starts once per session.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROLE = "goal17"
_counter = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs on this machine (install Debian's ``postgresql``)."""


def bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``pg_config --bindir``, else Debian's versioned folder."""
    config = shutil.which("pg_config")
    if config:
        found = subprocess.run([config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    raise PostgresUnavailable("PostgreSQL is not installed (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throw-away cluster; :attr:`url` is a ``postgresql://`` URL of its ``postgres`` database."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="goal17-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' user") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
            )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", ROLE,
            "-E", "UTF8", "--locale", "C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

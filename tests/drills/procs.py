"""Real processes for the drills: a database the processes share, Redis, Celery
workers, gunicorn. Everything binds loopback on free ports; every process is
started here with ``start_new_session`` and stopped by its own pid.

The database: pytest-django's test database is private to this process (and
in-memory on SQLite), so the worker and web processes get their own database,
cloned from a template migrated once per session: a file copy on SQLite, ``CREATE
DATABASE ... TEMPLATE`` on PostgreSQL (when ``DATABASE_URL`` is PostgreSQL).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    """Poll ``check`` until it returns something truthy; AssertionError after
    ``timeout`` seconds naming ``what`` and the last value or exception."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


def base_env(**extra: str) -> dict[str, str]:
    """The environment for a product process: this one's minus pytest's, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_SETTINGS", "CELERY_", "REDIS_URL"))
    }
    env.update(PATH=f"{VENV_BIN}:{env.get('PATH', '')}", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _sqlite_value(value: Any) -> Any:
    """Django's SQLite storage of an aware datetime: naive UTC text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return value


class Database:
    """One database shared by product processes; ``query`` reads it with raw SQL
    (``%s`` placeholders on both engines)."""

    def __init__(self, url: str, path: Path | None, admin_url: str = "") -> None:
        self.url = url
        self.path = path
        self.admin_url = admin_url
        self.name = url.rsplit("/", 1)[-1]

    def query(self, sql: str, *params: Any) -> list[tuple]:
        if self.path is not None:
            conn = sqlite3.connect(self.path, timeout=20)
            params = tuple(_sqlite_value(p) for p in params)
            try:
                with conn:
                    return conn.execute(sql.replace("%s", "?"), params).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []

    def manage(
        self, *args: str, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess:
        """``python manage.py <args>`` against this database."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=base_env(DATABASE_URL=self.url, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def clone(self, suffix: str) -> Database:
        """A copy of this database (no connection may be open to it on PostgreSQL)."""
        if self.path is not None:
            path = self.path.with_name(f"{self.path.stem}-{suffix}.sqlite3")
            conn = sqlite3.connect(self.path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            shutil.copyfile(self.path, path)
            return Database(f"sqlite:///{path}", path)
        import psycopg

        name = f"{self.name}_{suffix}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return Database(self.url.rsplit("/", 1)[0] + f"/{name}", None, self.admin_url)

    def manage_async(self, *args: str) -> subprocess.Popen:
        """Start ``python manage.py <args>`` against this database; returns the Popen."""
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=base_env(DATABASE_URL=self.url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def drop(self) -> None:
        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class DatabaseFactory:
    """Clones of one migrated template database (see module docstring)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.tag = secrets.token_hex(3)
        self.count = 0
        if on_postgres():
            self.admin_url = os.environ["DATABASE_URL"]
            self.template = self._pg_create(f"drilltmpl_{self.tag}")
            url = self.admin_url.rsplit("/", 1)[0] + f"/{self.template}"
            self._migrate(url)
        else:
            self.admin_url = ""
            self.template_path = workdir / "template.sqlite3"
            self._migrate(f"sqlite:///{self.template_path}")
            conn = sqlite3.connect(self.template_path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    def _pg_create(self, name: str, template: str = "") -> str:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            extra = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{extra}')
        return name

    def _migrate(self, url: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=base_env(DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    def new(self) -> Database:
        self.count += 1
        if self.admin_url:
            name = self._pg_create(f"drill_{self.tag}_{self.count}", self.template)
            url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
            return Database(url, None, self.admin_url)
        path = self.workdir / f"drill{self.count}.sqlite3"
        shutil.copyfile(self.template_path, path)
        return Database(f"sqlite:///{path}", path)

    def close(self) -> None:
        if self.admin_url:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


class Process:
    """A started subprocess with its log file; stopped by pid, never by name."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log: Path
    ) -> None:
        self.name = name
        self.log_path = log
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def children(self) -> list[int]:
        try:
            raw = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in raw.split()]

    def send(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        """The exit code once the process exits within ``timeout`` s, else None."""
        try:
            return self.proc.wait(timeout=max(timeout, 0.01))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        """Send ``sig`` and wait; SIGKILL the process group if it outlives ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Orphaned children of a killed parent (same session) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Redis:
    """A private redis-server on a free loopback port, restartable."""

    def __init__(self, workdir: Path) -> None:
        self.binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
        assert self.binary, "redis-server is needed (Debian package redis-server)"
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None
        self.start()

    def start(self) -> None:
        self.process = Process(
            "redis",
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes",  # survives a restart, like a managed Redis
                "--appendfsync",
                "always",
                "--dir",
                str(self.workdir),
                "--maxmemory-policy",
                "noeviction",
            ],
            base_env(),
            self.workdir / "redis.log",
        )
        wait_for("redis", self.ping, timeout=20)

    def ping(self) -> bool:
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=1).ping()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            self.process.stop(sig, timeout=10)
            self.process = None

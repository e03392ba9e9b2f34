"""A real Redis, real Celery worker processes, a worker killed mid-sync.

reliability-and-performance.md A-1 (SIGKILL) and A-2 (SIGTERM as Heroku sends
it, with the Procfile's REMAP_SIGTERM=SIGQUIT and a soft shutdown). The local
database starts from a full sync; then changes are made in the simulator so the
killed sync has real work; the sync is queued to Redis and a worker started;
when part of the apps are done the worker is killed and a new one started. The
sync must finish, the database must equal the simulator, every change must
have exactly one audit row and ``verify_audit`` must pass.

Redis: ``REDIS_TEST_URL`` if set, else a ``redis-server`` started here on a free
port. Database: a file SQLite database, or a fresh database on
``POSTGRES_TEST_URL`` when that is set.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ORG_ADMIN
from tests.grants.helpers import okta_state

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(PYTHON).with_name("celery"))
APPS = 110  # apps in the generated org (most are OIDC apps)
CHANGES = 24  # out-of-band changes the killed sync must record


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A Redis URL with a database number of its own."""
    base = os.environ.get("REDIS_TEST_URL")
    proc = None
    if not base:
        binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
        assert binary, "redis-server is needed (apt-get install redis-server)"
        port = _free_port()
        workdir = tmp_path_factory.mktemp("redis")
        proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"redis://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
    # redis://host:port[/db] -> redis://host:port/<a database of our own>
    server = base.rstrip("/")
    if server.count("/") > 2:
        server = server.rsplit("/", 1)[0]
    # Databases 8-15: the whole-stack test uses 7 and may run at the same time.
    yield f"{server}/{random.randint(8, 15)}"
    if proc is not None:
        proc.terminate()
        proc.wait(10)


class World:
    """The subprocess world: env for manage.py / celery, and reads of its DB."""

    def __init__(self, env: dict[str, str], db: str, pg_url: str | None) -> None:
        self.env = env
        self.db = db
        self.pg_url = pg_url
        self.workers: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def start_worker(self, name: str, log: Path, **extra_env: str) -> subprocess.Popen:
        self.logs.append(log)
        proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "grantsconsole",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url) as conn:
                return list(conn.execute(sql).fetchall())
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()

    def state(self) -> dict[str, dict[str, Any]]:
        state: dict[str, dict[str, Any]] = {
            okta_id: {"label": label, "status": status, "grants": {}}
            for okta_id, label, status in self.query(
                "SELECT okta_id, label, status FROM grants_oktaapp WHERE removed_at IS NULL"
            )
        }
        for okta_id, scope_id, grant_id in self.query(
            "SELECT a.okta_id, g.scope_id, g.okta_grant_id FROM grants_scopegrant g "
            "JOIN grants_oktaapp a ON a.id = g.app_id "
            "WHERE g.revoked_at IS NULL AND a.removed_at IS NULL"
        ):
            state[okta_id]["grants"][scope_id] = grant_id
        return state

    def last_run(self) -> tuple[int, str, int, int, int]:
        rows = self.query(
            "SELECT id, status, apps_done, apps_total, step FROM grants_syncrun "
            "WHERE kind = 'full' ORDER BY id DESC LIMIT 1"
        )
        return rows[0] if rows else (0, "", 0, 0, 0)

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def world(sim, redis_url, tmp_path) -> Iterator[World]:
    pg_base = os.environ.get("POSTGRES_TEST_URL")
    db_path = str(tmp_path / "failover.sqlite3")
    pg_url = None
    if pg_base:
        import psycopg

        name = f"gc_failover_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_base, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        pg_url = pg_base.rsplit("/", 1)[0] + "/" + name
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "grantsconsole.settings",
        "DATABASE_URL": pg_url or f"sqlite:///{db_path}",
        "REDIS_URL": redis_url,
        "OKTA_ORG_URL": sim.url,
        "CELERY_VISIBILITY_TIMEOUT": "6",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    w = World(env, db_path, pg_url)
    w.manage("migrate", "--noinput", "-v0")
    # The queue may hold messages of an earlier test in this Redis database.
    subprocess.run(
        [CELERY, "-A", "grantsconsole", "purge", "-f"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    yield w
    w.stop_all()
    for log in w.logs:
        print(f"--- {log.name}\n" + log.read_text()[-3000:])
    if pg_url:
        import psycopg

        with psycopg.connect(pg_base, autocommit=True) as conn:
            conn.execute(
                f"DROP DATABASE IF EXISTS {pg_url.rsplit('/', 1)[1]} WITH (FORCE)"
            )


def _make_changes(sim) -> set[tuple[str, str, str]]:
    """Out-of-band grants and revokes on different apps; returns the expected
    (action, app_id, scope_id) audit facts."""
    expected = set()
    apps = [a for a in sim.state()["apps"] if a["sign_on_mode"] == "OPENID_CONNECT"]
    rng = random.Random(7)
    rng.shuffle(apps)
    for app in apps:
        if len(expected) >= CHANGES:
            break
        held = {g["scopeId"] for g in app["grants"]}
        if held and len(expected) % 2:
            scope = sorted(held)[0]
            sim.oob_revoke(
                app_id=app["id"], scope_id=scope, actor_login=ORG_ADMIN.login
            )
            expected.add(("external_revoke", app["id"], scope))
        elif "okta.groups.read" not in held and app["kind"] != "service":
            sim.oob_grant(app_id=app["id"], scope_id="okta.groups.read")
            expected.add(("external_grant", app["id"], "okta.groups.read"))
    return expected


def _wait(predicate, timeout: float, what: str, world: World) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    world.stop_all()
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in world.logs)
    raise AssertionError(
        f"timed out waiting for {what}; last run {world.last_run()}\n{logs}"
    )


@pytest.mark.redis
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_worker_loses_and_duplicates_nothing(sim, world, tmp_path, how):
    t0 = time.monotonic()
    sim.reset(apps=APPS, rate_limit=100_000)
    baseline = world.manage("sync_grants", "--full")
    assert "succeeded" in baseline.stdout, baseline.stdout + baseline.stderr
    expected_changes = _make_changes(sim)
    # Slow the apps bucket (the worker uses half of it) so the sync lasts a
    # dozen seconds and can be caught in the middle.
    sim.set_rate_limit("apps", 24, window_seconds=1)
    audit_before = world.query("SELECT MAX(seq) FROM grants_auditevent")[0][0]

    prepared = time.monotonic() - t0
    queued = world.manage("sync_grants", "--full", "--enqueue")
    assert "queued" in queued.stdout
    # As in the Procfile: SIGTERM becomes a soft shutdown (finish the step, then
    # hand unacknowledged messages back to Redis).
    first = world.start_worker(
        "first", tmp_path / "worker-first.log", REMAP_SIGTERM="SIGQUIT"
    )
    started = time.monotonic()
    _wait(
        lambda: (r := world.last_run())[1] == "running" and r[3] and r[2] >= r[3] // 3,
        40,
        "a third of the apps to be synced",
        world,
    )
    killed_at = world.last_run()
    if how == "SIGKILL":
        os.killpg(first.pid, signal.SIGKILL)
    else:
        os.kill(first.pid, signal.SIGTERM)  # as Heroku does; REMAP_SIGTERM below
    signalled = time.monotonic()
    assert world.last_run()[1] == "running"  # the sync is not done yet
    # The replacement starts at once, as a new dyno does while the old one stops.
    world.start_worker("second", tmp_path / "worker-second.log")
    first.wait(40)
    exited = time.monotonic() - signalled
    run = _wait(
        lambda: (r := world.last_run())[1] not in ("running", "") and r,
        60,
        "the sync to finish on the second worker",
        world,
    )
    elapsed = time.monotonic() - started
    assert run[1] == "succeeded", run

    assert world.state() == okta_state(sim)
    facts = world.query(
        "SELECT action, app_okta_id, scope_id FROM grants_auditevent "
        f"WHERE seq > {audit_before} AND action IN ('external_grant', 'external_revoke')"
    )
    assert sorted(facts) == sorted(expected_changes)  # none missing, none twice
    verify = world.manage("verify_audit", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    if how == "SIGTERM":
        first_log = (tmp_path / "worker-first.log").read_text()
        assert "Soft Shutdown" in first_log
    print(
        f"{how}: set-up {prepared:.1f} s; killed at apps {killed_at[2]}/{killed_at[3]} "
        f"(step {killed_at[4]}); first worker gone {exited:.1f} s after the signal; "
        f"sync finished {elapsed:.1f} s after the first worker started"
    )

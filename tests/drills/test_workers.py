"""Workers and brokers: real Celery worker processes (prefork, acks_late,
reject_on_worker_lost, prefetch 1), a real redis-server, a database shared with
them, and the simulator as Okta.

Each drill: a first full sync fills the database; Okta then changes out of band
(grants revoked and added on many apps), so the next full sync must write one
audit row per change; that sync is hit by the fault. Afterwards the database
must equal Okta, every change must have exactly one audit row, and the chain
must verify. A run left stalled by a fault is resumed the way production resumes
it: beat's ``sync_watchdog`` after STALL_SECONDS (the drill ages the heartbeat
instead of waiting 3 minutes).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery

from grantsconsole.grants.services import full_sync
from tests.drills.procs import (
    VENV_BIN,
    Database,
    Process,
    Redis,
    base_env,
    on_postgres,
    wait_for,
)

pytestmark = [pytest.mark.redis]

APPS = 60  # apps in the org: 3 steps of 25 apps' grants
GRANTS_DELAY = 0.04  # seconds per grants GET while a drill is under way


class Fleet:
    """Workers and beats against one database, one Redis and the simulator."""

    def __init__(self, tmp: Path, db: Database, redis: Redis, sim) -> None:
        self.tmp, self.db, self.redis, self.sim = tmp, db, redis, sim
        self.n = 0
        self.procs: list[Process] = []
        self.current: Process | None = None
        self.nudges = 0
        # Not the current app: shared tasks in this process must keep the console's.
        self.sender = Celery("drill-sender", broker=redis.url, set_as_current=False)
        self.sender.conf.update(
            task_serializer="json", broker_connection_retry_on_startup=True
        )

    def env(self) -> dict[str, str]:
        return base_env(
            DATABASE_URL=self.db.url,
            REDIS_URL=self.redis.url,
            OKTA_ORG_URL=self.sim.url,
            REMAP_SIGTERM="SIGQUIT",
            LOG_LEVEL="INFO",
        )

    def worker(self, concurrency: int = 1) -> Process:
        self.n += 1
        name = f"worker{self.n}"
        proc = Process(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "grantsconsole",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}@drill",
            ],
            self.env(),
            self.tmp / f"{name}.log",
        )
        self.procs.append(proc)
        wait_for(f"{name} ready", lambda: " ready." in proc.log(), timeout=60)
        return proc

    def beat(self) -> Process:
        self.n += 1
        name = f"beat{self.n}"
        proc = Process(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "grantsconsole",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp / f"{name}-schedule"),
            ],
            self.env(),
            self.tmp / f"{name}.log",
        )
        self.procs.append(proc)
        return proc

    def send(self, task: str, **kwargs) -> None:
        self.sender.send_task(task, kwargs=kwargs)

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.stop(signal.SIGKILL, timeout=5)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in self.procs)

    # --- the database's view ------------------------------------------------------

    def latest_full(self) -> tuple | None:
        rows = self.db.query(
            "SELECT id, status, apps_done, apps_total, step FROM grants_syncrun "
            "WHERE kind = 'full' ORDER BY id DESC LIMIT 1"
        )
        return rows[0] if rows else None

    def wait_full_sync(
        self, timeout: float = 90, *, resume_after: float | None = 6
    ) -> tuple:
        """Wait for the latest full run to finish; if it makes no progress for
        ``resume_after`` s, do what beat's watchdog does after STALL_SECONDS
        (counted in ``self.nudges``; None: never)."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            run = self.latest_full()
            if run and run[1] not in ("running", "skipped"):
                return run
            if run != last:
                last, since = run, time.monotonic()
            elif (
                run
                and resume_after is not None
                and time.monotonic() - since > resume_after
            ):
                self.nudges += 1
                self.age_heartbeat(run[0])
                self.send("grants.sync_watchdog")
                since = time.monotonic()
            time.sleep(0.3)
        raise AssertionError(f"full sync did not finish: {last}\n{self.logs()}")

    def age_heartbeat(self, run_id: int) -> None:
        old = datetime.now(UTC) - timedelta(seconds=full_sync.STALL_SECONDS + 60)
        self.db.query(
            "UPDATE grants_syncrun SET heartbeat_at = %s WHERE id = %s", old, run_id
        )

    def db_grants(self) -> dict[str, set[str]]:
        held: dict[str, set[str]] = {}
        for app_id, scope_id in self.db.query(
            "SELECT a.okta_id, g.scope_id FROM grants_oktaapp a "
            "JOIN grants_scopegrant g ON g.app_id = a.id "
            "WHERE g.revoked_at IS NULL AND a.removed_at IS NULL"
        ):
            held.setdefault(app_id, set()).add(scope_id)
        return held

    def audit_rows(self, after_seq: int, *actions: str) -> list[tuple]:
        marks = ", ".join(["%s"] * len(actions))
        return self.db.query(
            "SELECT action, app_okta_id, scope_id FROM grants_auditevent "
            f"WHERE seq > %s AND action IN ({marks})",
            after_seq,
            *actions,
        )

    def audit_head(self) -> int:
        return self.db.query("SELECT COALESCE(MAX(seq), 0) FROM grants_auditevent")[0][
            0
        ]

    def verify_audit(self) -> None:
        done = self.db.manage("verify_audit")
        assert done.returncode == 0, done.stdout + done.stderr


def sim_grants(sim) -> dict[str, set[str]]:
    return {
        app["id"]: {g["scopeId"] for g in app["grants"]}
        for app in sim.state()["apps"]
        if app["sign_on_mode"] == "OPENID_CONNECT" and app["grants"]
    }


@pytest.fixture(scope="module")
def org(sim_server, process_dbs, tmp_path_factory):
    """One database, Redis and simulator org for the module's drills. The
    first drill (two beats) fills the empty database; each later drill drifts
    Okta and syncs again under its fault (cheaper than a stack per drill)."""
    from grantsconsole.oktasim.testing import SimControl

    tmp = tmp_path_factory.mktemp("fleet")
    sim = SimControl(sim_server.url)
    sim.reset(apps=APPS)
    sim.set_rate_limit("apps", 100_000)
    db = process_dbs.new()
    redis = Redis(tmp)
    fleet = Fleet(tmp, db, redis, sim)
    try:
        yield fleet
    finally:
        fleet.stop_all()
        redis.stop()
        sim.clear_faults()
        db.drop()


@pytest.fixture
def fleet(org):
    """The module's stack with one worker, a completed full sync, no faults."""
    if org.current is None or org.current.proc.poll() is not None:
        org.current = org.worker()
    run = org.latest_full()
    if run is None or run[1] != "succeeded":
        org.send("grants.start_full_sync", trigger="drill-baseline")
        run = org.wait_full_sync()
        assert run[1] == "succeeded", run
    yield org
    org.sim.clear_faults()


_ROUNDS: list[int] = []
DRIFT_SCOPES = (
    "okta.groups.read",
    "okta.users.read",
    "okta.logs.read",
    "okta.apps.read",
)


def drift(sim, count: int = 20) -> list[tuple[str, str, str]]:
    """Change Okta out of band on ``count`` apps (revoke one grant, or add a
    scope); returns the audit rows the next sync must write, one per change."""
    expected = []
    apps = [
        a
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
        and not a["id"].endswith("DEMO000x7")
        and not a["id"].endswith("DEMO0000x7")
    ]
    _ROUNDS.append(1)
    start = len(_ROUNDS) * 7 % max(len(apps) - count, 1)
    for i, app in enumerate(apps[start : start + count]):
        held = {g["scopeId"] for g in app["grants"]}
        fresh = [s for s in DRIFT_SCOPES if s not in held]
        if (i % 2 and held) or not fresh:
            scope = sorted(held)[0]
            sim.oob_revoke(app["id"], scope, actor_login="org.admin@example.com")
            expected.append(("external_revoke", app["id"], scope))
        else:
            sim.oob_grant(app["id"], fresh[0], actor_login="org.admin@example.com")
            expected.append(("external_grant", app["id"], fresh[0]))
    return expected


def start_drifted_sync(fleet: Fleet) -> tuple[list[tuple], int]:
    """Drift Okta, slow its grants reads, start a full sync and wait until it is
    a step or more in. Returns the expected audit rows and the audit head before."""
    head = fleet.audit_head()
    expected = drift(fleet.sim)
    slow_grants(fleet.sim)
    fleet.send("grants.start_full_sync", trigger="drill")
    under_way(fleet)
    return expected, head


def check(fleet: Fleet, ledger, expected: list[tuple], after_seq: int) -> None:
    """The database equals Okta; one audit row per change; the chain verifies."""
    assert ledger.grants(fleet.db_grants(), sim_grants(fleet.sim)) == (0, 0)
    actual = fleet.audit_rows(after_seq, "external_grant", "external_revoke")
    assert ledger.audit(expected, actual) == (0, 0), sorted(actual)
    fleet.verify_audit()


def slow_grants(sim) -> None:
    sim.fault(
        method="GET", path=r"/grants$", kind="delay", delay=GRANTS_DELAY, times=-1
    )


def under_way(fleet: Fleet, apps_done: int = 26) -> tuple:
    return wait_for(
        "the full sync to be under way",
        lambda: (
            (r := fleet.latest_full()) and r[1] == "running" and r[2] >= apps_done and r
        ),
        timeout=60,
    )


@pytest.mark.design("A-4")
def test_two_beats_and_two_workers_do_one_sync(org, ledger):
    """Runs first in this module, on the empty database."""
    fleet = org
    assert fleet.latest_full() is None
    first = fleet.worker(concurrency=2)
    second = fleet.worker(concurrency=2)
    slow_grants(fleet.sim)
    # Two schedulers (a Heroku restart overlap): each polls at start, which
    # without a baseline starts the first full sync; plus a manual start.
    beats = [fleet.beat(), fleet.beat()]
    fleet.send("grants.start_full_sync", trigger="drill-manual")
    run = fleet.wait_full_sync()
    assert run[1] == "succeeded", run
    statuses = [
        r[0]
        for r in fleet.db.query(
            "SELECT status FROM grants_syncrun WHERE kind = 'full' ORDER BY id"
        )
    ]
    assert statuses.count("succeeded") == 1, statuses
    assert set(statuses) <= {"succeeded", "skipped"}, statuses
    grant_reads = [
        r
        for r in fleet.sim.requests()
        if r["method"] == "GET" and r["path"].endswith("/grants")
    ]
    oidc = [
        a["id"]
        for a in fleet.sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
    ]
    assert len(grant_reads) == len(oidc), "each app's grants were read exactly once"
    discovered = fleet.audit_rows(0, "app_discovered")
    assert ledger.audit([("app_discovered", a, "") for a in oidc], discovered) == (0, 0)
    assert ledger.grants(fleet.db_grants(), sim_grants(fleet.sim)) == (0, 0)
    fleet.verify_audit()
    for proc in [*beats, second]:
        proc.stop(signal.SIGTERM, timeout=30)
    fleet.current = first
    fleet.sim.clear_faults()


@pytest.mark.design("A-1", "B-6")
def test_sigkill_of_the_pool_child_mid_sync(fleet, ledger):
    expected, head = start_drifted_sync(fleet)
    children = fleet.current.children()
    assert children, "the prefork pool has a child"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    # reject_on_worker_lost: the message goes back at once, no watchdog needed.
    run = fleet.wait_full_sync(resume_after=None)
    assert run[1] == "succeeded", run
    assert run[2] == run[3]
    check(fleet, ledger, expected, head)


@pytest.mark.design("A-1", "B-6")
def test_sigkill_of_the_whole_worker_mid_sync(fleet, ledger):
    expected, head = start_drifted_sync(fleet)
    worker = fleet.current
    for pid in [*worker.children(), worker.pid]:
        os.kill(pid, signal.SIGKILL)
    worker.stop(signal.SIGKILL)
    # A fresh dyno. The killed worker's message stays un-acked in Redis until
    # the visibility timeout; beat's watchdog resumes the stalled run sooner.
    fleet.current = fleet.worker()
    run = fleet.wait_full_sync(resume_after=2)
    assert run[1] == "succeeded", run
    check(fleet, ledger, expected, head)


@pytest.mark.design("A-2")
def test_sigterm_mid_sync_restores_and_a_new_worker_resumes(fleet, ledger):
    expected, head = start_drifted_sync(fleet)
    old = fleet.current
    started = time.monotonic()
    old.send(signal.SIGTERM)  # Heroku: SIGTERM, new dyno at once, SIGKILL at 30 s
    fleet.current = fleet.worker()
    run = fleet.wait_full_sync(resume_after=None)  # no watchdog: restored or chained
    assert run[1] == "succeeded", run
    check(fleet, ledger, expected, head)
    code = old.wait(30 - (time.monotonic() - started))
    assert code is not None, "the old worker outlived Heroku's 30 s grace"


@pytest.mark.design("A-1")
def test_redis_restarted_mid_sync(fleet, ledger):
    expected, head = start_drifted_sync(fleet)
    fleet.redis.stop(signal.SIGTERM)
    time.sleep(2)
    fleet.redis.start()
    run = fleet.wait_full_sync()
    assert run[1] == "succeeded", run
    check(fleet, ledger, expected, head)


@pytest.mark.design("A-1")
def test_database_briefly_unavailable_mid_sync(fleet, ledger):
    expected, head = start_drifted_sync(fleet)
    outage = 3.0
    if on_postgres():
        # Refuse new connections to this database and cut the live ones.
        name = fleet.db.name
        admin = Database(fleet.db.admin_url, None)
        admin.query(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            name,
        )
        time.sleep(outage)
        admin.query(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    else:
        # SQLite: another process holds the write lock for a while.
        held = threading.Event()

        def hold() -> None:
            conn = sqlite3.connect(fleet.db.path, timeout=20, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            held.set()
            time.sleep(outage)
            conn.execute("ROLLBACK")
            conn.close()

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(10)
        thread.join()
    run = fleet.wait_full_sync()
    assert run[1] == "succeeded", run
    check(fleet, ledger, expected, head)

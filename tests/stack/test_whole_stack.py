"""The whole stack as it deploys: the Procfile's processes under honcho, on
PostgreSQL and Redis (started by `.ci/with-services`), against the simulator.

One scenario, in order: release (migrate) → web + beat and a worker → the first full
sync fills the database → an admin signs in over HTTP and grants and revokes a scope
→ an out-of-band change is picked up by the incremental sync → the worker is
restarted (SIGTERM, as a dyno restart) in the middle of a full sync, and the sync
still completes → the audit chain verifies → everything shuts down cleanly.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from grantsconsole.oktasim.testing import SimControl
from tests.accounts import flow

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
pytestmark = pytest.mark.stack


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check: Callable[[], object], timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (requests.RequestException, psycopg.Error) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


class Stack:
    """The processes of one deployment and a handle on its database."""

    def __init__(self, env: dict[str, str], db_url: str, log_dir: Path) -> None:
        self.env = env
        self.db_url = db_url
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def honcho(self, name: str, *process_types: str) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "-f", "Procfile", "start", *process_types],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                return proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(
                    f"{name} did not stop within {timeout} s"
                ) from None
        return proc.returncode

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def stack() -> Iterator[tuple[Stack, SimControl, str]]:
    # Logs of every process stay in artifacts/stack/ (a CI artifact) for diagnosis.
    tmp_path = ROOT / "artifacts" / "stack"
    tmp_path.mkdir(parents=True, exist_ok=True)
    for old in tmp_path.glob("*.log"):
        old.unlink()
    pg_url = os.environ.get("POSTGRES_TEST_URL")
    redis_url = os.environ.get("REDIS_TEST_URL")
    needs = "run it through `make test` (.ci/with-services starts PostgreSQL and Redis)"
    assert pg_url, needs
    assert redis_url, needs
    db_name = f"stack_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    db_url = pg_url.rsplit("/", 1)[0] + f"/{db_name}"

    sim_port, web_port = _free_port(), _free_port()
    sim_proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "oktasim",
            "--port",
            str(sim_port),
            "--apps",
            "300",
            "--rate-limit",
            "6000",
        ],
        cwd=ROOT,
        stdout=(tmp_path / "oktasim.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    sim = SimControl(f"http://127.0.0.1:{sim_port}")
    _wait(
        "the simulator", lambda: requests.get(sim.url + "/oauth2/v1/keys", timeout=2).ok
    )

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OKTA_", "DJANGO_", "CELERY_", "PYTEST", "SYNC_"))
    }
    env.update(
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        PORT=str(web_port),
        WEB_CONCURRENCY="2",
        DATABASE_URL=db_url,
        REDIS_URL=f"{redis_url}/7",
        OKTA_ORG_URL=sim.url,
        ALLOWED_HOSTS="127.0.0.1",
        SYNC_INCREMENTAL_EVERY="3",
        SYNC_FULL_EVERY="3600",
        CELERY_CONCURRENCY="2",
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    redis = requests.utils.urlparse(redis_url)
    subprocess.run(
        [
            "redis-cli",
            "-h",
            redis.hostname,
            "-p",
            str(redis.port),
            "-n",
            "7",
            "FLUSHDB",
        ],
        check=True,
        capture_output=True,
    )
    release = subprocess.run(
        ["bash", "-c", _procfile()["release"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert release.returncode == 0, release.stderr

    stack = Stack(env, db_url, tmp_path)
    try:
        yield stack, sim, f"http://127.0.0.1:{web_port}"
    finally:
        for name in list(stack.procs):
            stack.stop(name, timeout=40)
        sim_proc.terminate()
        sim_proc.wait(timeout=10)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _db_grants(stack: Stack) -> dict[str, set[str]]:
    rows = stack.query(
        "SELECT a.okta_id, g.scope_id FROM grants_oktaapp a "
        "JOIN grants_scopegrant g ON g.app_id = a.id "
        "WHERE g.revoked_at IS NULL AND a.removed_at IS NULL"
    )
    held: dict[str, set[str]] = {}
    for app_id, scope_id in rows:
        held.setdefault(app_id, set()).add(scope_id)
    return held


def _sim_grants(sim: SimControl) -> dict[str, set[str]]:
    return {
        app["id"]: {g["scopeId"] for g in app["grants"]}
        for app in sim.state()["apps"]
        if app["sign_on_mode"] == "OPENID_CONNECT" and app["grants"]
    }


def _latest_full_sync(stack: Stack) -> tuple | None:
    """The newest full sync that ran (a run started while another held the
    lock is recorded as "skipped" and may be newer than the one running)."""
    rows = stack.query(
        "SELECT id, status, apps_done, apps_total FROM grants_syncrun "
        "WHERE kind = 'full' AND status <> 'skipped' ORDER BY id DESC LIMIT 1"
    )
    return rows[0] if rows else None


def _sign_in(console: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(console + "/", timeout=10)
    assert page.status_code == 200, page.text[:300]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "the sign-in page has a CSRF-protected POST button"
    answer = browser.post(
        console + flow.LOGIN_PATH,
        data={"csrfmiddlewaretoken": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    callback = flow.okta_login(answer.headers["Location"], flow.SUPER, browser=browser)
    done = browser.get(callback, timeout=20)
    assert done.status_code == 200, done.text[:500]
    assert urlsplit(done.url).path.startswith("/apps"), done.url
    return browser


def _post(browser: requests.Session, url: str, data: dict) -> requests.Response:
    data = {**data, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    return browser.post(url, data=data, timeout=30)


def test_whole_stack(stack):
    stack, sim, console = stack
    stack.honcho("web-beat", "web", "beat")
    stack.honcho("worker", "worker")
    _wait("web", lambda: requests.get(console + "/healthz", timeout=2).ok)
    ready = requests.get(console + "/readyz", timeout=20)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"ok": True}, ready.text  # anonymous: up or not

    # Beat's first poll starts the first full sync; the database then equals Okta.
    run = _wait(
        "the first full sync",
        lambda: (
            (r := _latest_full_sync(stack)) and r[1] in ("succeeded", "partial") and r
        ),
        timeout=90,
    )
    assert run[1] == "succeeded", run
    assert _db_grants(stack) == _sim_grants(sim)

    # An admin signs in over HTTP and grants, then revokes, a scope.
    browser = _sign_in(console)
    app_id = next(
        a["id"]
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
        and a["status"] == "ACTIVE"
        and not {"okta.brands.read", "okta.groups.read"}
        & {g["scopeId"] for g in a["grants"]}
        and not a["id"].endswith("DEMO000x7")
    )
    granted = _post(
        browser, f"{console}/apps/{app_id}/grants/grant", {"scope": "okta.brands.read"}
    )
    assert granted.status_code == 200, granted.text[:500]
    assert "okta.brands.read" in _sim_grants(sim)[app_id]
    assert "okta.brands.read" in _db_grants(stack)[app_id]
    revoked = _post(
        browser,
        f"{console}/apps/{app_id}/grants/revoke",
        {"scope": "okta.brands.read", "confirm": "yes"},
    )
    assert revoked.status_code == 200, revoked.text[:500]
    assert "okta.brands.read" not in _sim_grants(sim).get(app_id, set())
    assert "okta.brands.read" not in _db_grants(stack).get(app_id, set())
    actions = stack.query(
        "SELECT action, outcome FROM grants_auditevent WHERE app_okta_id = %s "
        "AND scope_id = 'okta.brands.read' ORDER BY seq",
        app_id,
    )
    assert ("grant", "success") in actions
    assert ("revoke", "success") in actions

    # An out-of-band grant in Okta is found by the worker's incremental sync.
    sim.oob_grant(app_id, "okta.groups.read", actor_login="org.admin@example.com")
    _wait(
        "the incremental sync to see the out-of-band grant",
        lambda: stack.query(
            "SELECT actor_login FROM grants_auditevent WHERE action = 'external_grant' "
            "AND app_okta_id = %s AND scope_id = 'okta.groups.read'",
            app_id,
        ),
        timeout=60,
    )

    # A full sync slowed by the rate limit; the worker restarts in the middle of it.
    sim.set_rate_limit(apps=40, window_seconds=1)
    started = _post(browser, f"{console}/sync/start", {"kind": "full"})
    assert started.status_code == 200, started.text[:300]
    _wait(
        "the full sync to be under way",
        lambda: (r := _latest_full_sync(stack)) and r[1] == "running" and r[2] >= 20,
        timeout=60,
    )
    assert stack.stop("worker", signal.SIGTERM, timeout=40) is not None
    assert _latest_full_sync(stack)[1] == "running"
    stack.honcho("worker-2", "worker")
    run = _wait(
        "the interrupted full sync to complete",
        lambda: (r := _latest_full_sync(stack)) and r[1] != "running" and r,
        timeout=120,
    )
    assert run[1] == "succeeded", run
    assert run[2] == run[3]
    assert _db_grants(stack) == _sim_grants(sim)

    # No audit row lost or duplicated, and the chain verifies.
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    dupes = stack.query(
        "SELECT action, app_okta_id, scope_id, count(*) FROM grants_auditevent "
        "WHERE action IN ('external_grant', 'external_revoke') "
        "GROUP BY action, app_okta_id, scope_id, created_at HAVING count(*) > 1"
    )
    assert dupes == []

    # Clean shutdown: every process exits on SIGTERM within Heroku's 30 s grace.
    for name in list(stack.procs):
        started_at = time.monotonic()
        stack.stop(name, signal.SIGTERM, timeout=40)
        assert time.monotonic() - started_at < 30
    assert "Traceback" not in stack.log("web-beat"), stack.log("web-beat")[-3000:]

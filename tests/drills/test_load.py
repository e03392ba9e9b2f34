"""Load and the web process under faults, against gunicorn as the Procfile runs
it (gthread workers), over loopback HTTP only, with a sync running meanwhile.

* Load: 50 signed-in sessions browse (1-3 s think time between pages, as people
  read them) while 5 admins grant and revoke (0.5-1.5 s apart) for
  ``DRILL_SECONDS`` (15 in ``make test``, 60 in ``make drills``): zero 5xx, p95 <
  500 ms (asserted in ``make drills``; see ``ASSERT_LATENCY``), and afterwards the database equals the simulator and every grant and
  revoke Okta performed has exactly one audit row (none from the sync).
* A web worker SIGKILLed mid-grant after Okta applied it (A-3).
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.accounts import flow
from tests.drills.procs import (
    VENV_BIN,
    Database,
    Process,
    base_env,
    free_port,
    wait_for,
)
from tests.drills.scoreboard import TALLY

ROOT = Path(__file__).resolve().parents[2]
DRILL_SECONDS = float(os.environ.get("DRILL_SECONDS", "15"))
# C.2: p95 < 500 ms as the browsers see it. Asserted by the full drill (`make
# drills`, alone on the machine). The 15 s version inside `make test` shares the
# two cores with the rest of the suite (both engines, two workers each), so its
# latency is mostly queueing behind other tests: there it is reported only.
LATENCY_BUDGET_MS = 500
ASSERT_LATENCY = DRILL_SECONDS >= 60
BROWSERS, ADMINS = 50, 5
# Think time between a session's requests (seconds): people read pages.
BROWSE_THINK, ADMIN_THINK = (1.0, 3.0), (0.5, 1.5)
PAGES = ["/apps/", "/audit/", "/scopes/", "/sync/", "/scopes/matrix/", "/reports/"]

SYNC_LOOP = """
import time
from grantsconsole.grants import services
from grantsconsole.okta_clients import worker_client
deadline = time.monotonic() + {seconds}
runs = 0
crashed = 0
while time.monotonic() < deadline:
    # As a Celery task would: a crashed run is reported and the next one starts
    # (the worker's watchdog resumes it in production).
    try:
        run = services.run_full_sync(client=worker_client(), trigger="drill-load")
        print("sync", run.pk, run.status, flush=True)
    except Exception as exc:
        crashed += 1
        print("sync-crashed", type(exc).__name__, str(exc).splitlines()[0], flush=True)
        from django.db import connection
        connection.close()
        from grantsconsole.grants.models import SyncRun
        from grantsconsole.grants.services import fail_run
        for stuck in SyncRun.objects.filter(status="running"):
            fail_run(stuck.pk, "drill: the sync process crashed")
    runs += 1
    time.sleep(2)  # the next full sync starts soon after: one is nearly always running
print("runs", runs, "crashed", crashed, flush=True)
"""


def server_times(
    access_log: Path, since_line: int = 0
) -> list[tuple[str, str, int, float]]:
    """(method, path, status, seconds) per request from gunicorn's access log."""
    rows = []
    for line in access_log.read_text().splitlines()[since_line:]:
        method, path, status, micros = line.rsplit(" ", 3)
        rows.append((method, path, int(status), int(micros) / 1e6))
    return rows


class Web:
    """gunicorn serving the console on a free port, on ``db``, against ``sim``."""

    def __init__(self, tmp: Path, db: Database, sim, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = base_env(
            DATABASE_URL=db.url,
            OKTA_ORG_URL=sim.url,
            ALLOWED_HOSTS="127.0.0.1",
            DEBUG="false",
            LOG_LEVEL="WARNING",
            DB_CONN_MAX_AGE="60",  # persistent connections, as in production
            # 55 sessions sign in at once from one loopback address
            ANONYMOUS_REQUESTS_PER_MINUTE="100000",
        )
        # The Procfile's web command, bound to loopback on a free port.
        line = next(
            x.split(":", 1)[1]
            for x in (ROOT / "Procfile").read_text().splitlines()
            if x.startswith("web:")
        )
        line = (
            line.replace("0.0.0.0:$PORT", f"127.0.0.1:{self.port}")
            .replace("${WEB_CONCURRENCY:-2}", str(workers))
            .replace("${WEB_THREADS:-4}", "4")
        )
        argv = shlex.split(line)
        argv[0] = str(VENV_BIN / argv[0])
        # Server time per request (µs) for the latency budget (C-4: server time).
        self.access_log = tmp / "access.log"
        at = argv.index("--access-logfile")
        argv[at + 1] = str(self.access_log)
        argv += ["--access-logformat", "%(m)s %(U)s %(s)s %(D)s"]
        self.process = Process("web", argv, self.env, tmp / "web.log")
        wait_for(
            "gunicorn", lambda: requests.get(self.url + "/healthz", timeout=2).ok, 60
        )

    def sign_in(self) -> requests.Session:
        """A Super Admin session over the real flow (console → Okta → callback)."""
        browser = requests.Session()
        # Like a browser: an idempotent GET on a keep-alive connection the server
        # has just closed is sent again once (never a POST).
        retry = Retry(total=1, connect=1, read=1, allowed_methods={"GET"}, status=0)
        browser.mount("http://", HTTPAdapter(max_retries=retry))
        page = browser.get(self.url + "/accounts/login/", timeout=20)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        answer = browser.post(
            self.url + flow.LOGIN_PATH,
            data={"csrfmiddlewaretoken": token.group(1)},
            allow_redirects=False,
            timeout=20,
        )
        assert answer.status_code == 302, answer.text[:300]
        callback = flow.okta_login(
            answer.headers["Location"], flow.SUPER, browser=browser
        )
        done = browser.get(callback, allow_redirects=False, timeout=30)
        assert done.status_code == 302, done.text[:300]
        return browser

    def post(self, browser: requests.Session, path: str, data: dict):
        data = {**data, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
        return browser.post(
            self.url + path,
            data=data,
            headers={"Origin": self.url},
            allow_redirects=False,
            timeout=30,
        )


def db_grants(db: Database) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for app_id, scope_id in db.query(
        "SELECT a.okta_id, g.scope_id FROM grants_oktaapp a "
        "JOIN grants_scopegrant g ON g.app_id = a.id "
        "WHERE g.revoked_at IS NULL AND a.removed_at IS NULL"
    ):
        held.setdefault(app_id, set()).add(scope_id)
    return held


def sim_grants(sim) -> dict[str, set[str]]:
    return {
        a["id"]: {g["scopeId"] for g in a["grants"]}
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT" and a["grants"]
    }


def _detail(value) -> dict:
    return json.loads(value) if isinstance(value, str) else (value or {})


def target_apps(sim, n: int) -> list[str]:
    return [
        a["id"]
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
        and a["status"] == "ACTIVE"
        and a["kind"] == "web"
        and not a["id"].endswith(("DEMO000x7", "DEMO0000x7"))
        and "okta.brands.read" not in {g["scopeId"] for g in a["grants"]}
    ][:n]


@pytest.fixture(scope="module")
def stack(process_dbs, tmp_path_factory):
    """(gunicorn, its database, the simulator) shared by the module's drills:
    a 60-app org, read into the database by a first full sync. The simulator
    runs as its own process (``manage.py oktasim``), as Okta is not in the
    load generator's process: its work must not slow the timed clients."""
    from grantsconsole.oktasim.testing import SimControl

    port = free_port()
    okta = Process(
        "oktasim",
        [sys.executable, "manage.py", "oktasim", "--port", str(port)],
        base_env(),
        tmp_path_factory.mktemp("oktasim") / "oktasim.log",
    )
    sim = SimControl(f"http://127.0.0.1:{port}")
    db = server = None
    try:
        wait_for(
            "the simulator",
            lambda: requests.get(sim.url + "/__sim__/state", timeout=2).ok,
        )
        sim.reset(apps=60)
        sim.set_rate_limit("apps", 1_000_000)
        sim.set_rate_limit("logs", 1_000_000)
        db = process_dbs.new()
        done = subprocess.run(
            [sys.executable, "manage.py", "sync_grants"],
            cwd=ROOT,
            env=base_env(DATABASE_URL=db.url, OKTA_ORG_URL=sim.url),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        server = Web(tmp_path_factory.mktemp("web"), db, sim)
        yield server, db, sim
    finally:
        if server is not None:
            server.process.stop(signal.SIGTERM, timeout=15)
        okta.stop(signal.SIGTERM, timeout=15)
        if db is not None:
            db.drop()


@pytest.mark.design("A-16")
def test_parallel_first_sign_ins_of_one_admin_never_500(stack):
    """An admin's very first sign-in, completed in several tabs at once (runs
    first in this module, before any sign-in): every tab is signed in to the
    one account, none answers 500 (F-7; the race itself is pinned by
    tests/accounts/test_first_sign_in_race.py)."""
    from tests.accounts import flow

    web = stack[0]
    prepared = []
    for _ in range(8):  # each browser goes as far as Okta's redirect back
        browser = requests.Session()
        page = browser.get(web.url + "/accounts/login/", timeout=20)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        answer = browser.post(
            web.url + flow.LOGIN_PATH,
            data={"csrfmiddlewaretoken": token.group(1)},
            allow_redirects=False,
            timeout=20,
        )
        callback = flow.okta_login(
            answer.headers["Location"], flow.SUPER, browser=browser
        )
        prepared.append((browser, callback))
    barrier = threading.Barrier(len(prepared))
    statuses = []

    def deliver(browser, callback) -> None:
        barrier.wait()
        statuses.append(
            browser.get(callback, allow_redirects=False, timeout=30).status_code
        )

    threads = [threading.Thread(target=deliver, args=p) for p in prepared]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [302] * len(prepared), statuses


@pytest.mark.design("C-4", "B-5", "A-3")
def test_load_browsing_and_granting_with_a_sync_running(stack, ledger):
    web, shared_db, sim = stack
    load_per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    apps = target_apps(sim, ADMINS)
    assert len(apps) == ADMINS
    # The user's first sign-in alone (parallel first sign-ins: findings F-7).
    browsers = [web.sign_in()]
    with ThreadPoolExecutor(10) as pool:
        browsers += list(pool.map(lambda _: web.sign_in(), range(BROWSERS - 1)))
        admins = list(pool.map(lambda _: web.sign_in(), range(ADMINS)))
    solo = []
    for path in PAGES * 2:
        started = time.monotonic()
        assert browsers[0].get(web.url + path, timeout=30).status_code == 200
        solo.append(time.monotonic() - started)
    print(f"\nunloaded: median {statistics.median(solo) * 1000:.0f} ms per page")
    logged = len(web.access_log.read_text().splitlines())
    mark = len(sim.requests())
    head = shared_db.query("SELECT COALESCE(MAX(seq), 0) FROM grants_auditevent")[0][0]
    syncing = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            SYNC_LOOP.format(seconds=DRILL_SECONDS),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=base_env(DATABASE_URL=shared_db.url, OKTA_ORG_URL=sim.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    statuses: list[tuple[str, int]] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + DRILL_SECONDS

    def record(what: str, started: float, status: int) -> None:
        with lock:
            latencies.append(time.monotonic() - started)
            statuses.append((what, status))

    def browse(browser: requests.Session) -> None:
        rng = random.Random(id(browser))
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(*BROWSE_THINK))
            path = rng.choice([*PAGES, f"/apps/{rng.choice(apps)}/"])
            started = time.monotonic()
            try:
                status = browser.get(web.url + path, timeout=30).status_code
            except requests.RequestException as exc:
                status = 599
                failures.append(f"{path}: {type(exc).__name__}: {exc}"[:300])
            record(path, started, status)

    def administer(browser: requests.Session, app_id: str) -> None:
        rng = random.Random(app_id)
        while time.monotonic() < deadline:
            for verb in ("grant", "revoke"):
                time.sleep(rng.uniform(*ADMIN_THINK))
                started = time.monotonic()
                try:
                    status = web.post(
                        browser,
                        f"/apps/{app_id}/grants/{verb}",
                        # a revoke is confirmed first (a grant ignores it)
                        {"only": "okta.brands.read", "confirm": "yes"},
                    ).status_code
                except requests.RequestException as exc:
                    status = 599
                    failures.append(f"{verb}: {type(exc).__name__}: {exc}"[:300])
                record(verb, started, status)

    threads = [threading.Thread(target=browse, args=(b,)) for b in browsers] + [
        threading.Thread(target=administer, args=(b, a))
        for b, a in zip(admins, apps, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out, err = syncing.communicate(timeout=300)
    assert syncing.returncode == 0, err[-3000:]
    crashes = [x for x in out.splitlines() if x.startswith("sync-crashed")]

    errors = [s for s in statuses if s[1] >= 500]
    unexpected = [s for s in statuses if s[1] not in (200, 302) and s[1] < 500]
    p95 = statistics.quantiles(latencies, n=20)[18]
    writes = [s for s in statuses if s[0] in ("grant", "revoke")]
    print(
        f"\nload: {len(statuses)} requests in {DRILL_SECONDS:.0f} s, "
        f"{len(writes)} grant/revoke, p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, 5xx {len(errors)}; {out.splitlines()[-1]}"
    )
    by_kind: dict[str, list[float]] = {}
    for (what, _), seconds in zip(statuses, latencies, strict=True):
        kind = "/apps/<id>/" if what.startswith("/apps/0oa") else what
        by_kind.setdefault(kind, []).append(seconds)
    print(
        "  median ms: "
        + ", ".join(
            f"{k} {statistics.median(v) * 1000:.0f}" for k, v in sorted(by_kind.items())
        )
    )
    served = server_times(web.access_log, logged)
    server_p95 = statistics.quantiles([r[3] for r in served], n=20)[18]
    print(
        f"  server time (gunicorn): {len(served)} requests, p50 "
        f"{statistics.median([r[3] for r in served]) * 1000:.0f} ms, "
        f"p95 {server_p95 * 1000:.0f} ms; 5xx {sum(r[2] >= 500 for r in served)}"
    )
    assert [r for r in served if r[2] >= 500] == []
    assert crashes == [], crashes  # F-9: no deadlock between sync and console
    assert errors == [], (errors[:10], failures[:5])
    assert unexpected == [], unexpected[:10]
    assert len(writes) >= ADMINS * 2

    # The database equals Okta, and every change Okta made has one audit row.
    assert ledger.grants(db_grants(shared_db), sim_grants(sim)) == (0, 0)
    okta_changes = []
    for r in sim.requests()[mark:]:
        if (
            r["status"] in (200, 201)
            and r["method"] == "POST"
            and r["path"].endswith("/grants")
        ):
            okta_changes.append(("grant", r["path"].split("/")[4]))
        if r["status"] == 204 and r["method"] == "DELETE" and "/grants/" in r["path"]:
            okta_changes.append(("revoke", r["path"].split("/")[4]))
    rows = shared_db.query(
        "SELECT action, app_okta_id, outcome, detail FROM grants_auditevent "
        "WHERE seq > %s AND action IN "
        "('grant', 'revoke', 'external_grant', 'external_revoke')",
        head,
    )
    recorded = [
        (action.removeprefix("external_"), app_id)
        for action, app_id, outcome, detail in rows
        if outcome == "success"
        and not _detail(detail).get("already_present")
        and not _detail(detail).get("already_gone")
    ]
    assert ledger.audit(okta_changes, recorded) == (0, 0), sorted(map(str, rows))[:20]
    verify = shared_db.manage("verify_audit")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    TALLY.load = {
        "requests": len(statuses),
        "seconds": DRILL_SECONDS,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": p95 * 1000,
        "server_p95_ms": server_p95 * 1000,
        "5xx": len(errors),
        "load_per_core": load_per_core,
        "sync_crashes": len(crashes),
        "asserted": ASSERT_LATENCY,
    }
    if ASSERT_LATENCY:
        assert p95 * 1000 < LATENCY_BUDGET_MS, TALLY.load


def kill_web_mid_grant(web: Web, db: Database, sim) -> dict:
    """Okta applies a grant, but the web worker serving it is SIGKILLed while
    Okta's answer is still arriving (a slow drip), so nothing was committed
    after the intent row. Then the admin submits the same grant again.
    Returns what the drills assert on."""
    admin = web.sign_in()
    app_id = target_apps(sim, 1)[0]
    path = f"/api/v1/apps/{app_id}/grants"
    head = db.query("SELECT COALESCE(MAX(seq), 0) FROM grants_auditevent")[0][0]
    mark = len(sim.requests())
    sim.fault(method="POST", path=rf"{path}$", kind="drip", chunk=1, interval=0.5)
    outcome: dict = {}

    def submit() -> None:
        try:
            outcome["first"] = web.post(
                admin, f"/apps/{app_id}/grants/grant", {"only": "okta.brands.read"}
            ).status_code
        except requests.RequestException as exc:
            outcome["first"] = type(exc).__name__

    thread = threading.Thread(target=submit)
    thread.start()
    wait_for(
        "Okta to apply the grant",
        lambda: "okta.brands.read" in sim_grants(sim).get(app_id, set()),
        timeout=30,
    )
    workers = web.process.children()
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    thread.join(40)
    sim.clear_faults()
    wait_for(
        "a fresh web worker", lambda: requests.get(web.url + "/healthz", timeout=2).ok
    )
    after_kill = {
        "local": "okta.brands.read" in db_grants(db).get(app_id, set()),
        "rows": db.query(
            "SELECT action, outcome FROM grants_auditevent WHERE seq > %s "
            "AND app_okta_id = %s ORDER BY seq",
            head,
            app_id,
        ),
    }
    retry = web.post(
        admin, f"/apps/{app_id}/grants/grant", {"only": "okta.brands.read"}
    )
    posts = [
        r for r in sim.requests()[mark:] if r["method"] == "POST" and r["path"] == path
    ]
    rows = db.query(
        "SELECT action, outcome FROM grants_auditevent WHERE seq > %s "
        "AND app_okta_id = %s AND scope_id = 'okta.brands.read' ORDER BY seq",
        head,
        app_id,
    )
    return {
        "app_id": app_id,
        "first": outcome.get("first"),
        "killed": workers,
        "after_kill": after_kill,
        "retry": retry.status_code,
        "posts": len(posts),
        "rows": rows,
    }


@pytest.mark.design("A-3")
def test_web_worker_killed_after_okta_applied_a_grant(stack, ledger):
    web, shared_db, sim = stack
    facts = kill_web_mid_grant(web, shared_db, sim)
    assert facts["killed"], "gunicorn had workers"
    assert facts["first"] != 302, "the first submit did not complete"
    # Nothing local claims the grant until Okta's answer was recorded.
    assert facts["after_kill"]["local"] is False
    assert facts["after_kill"]["rows"] == [("grant_intent", "pending")]
    # The admin's retry converges: the database equals Okta, the audit trail
    # has exactly one successful grant row, the chain verifies.
    assert facts["retry"] == 302
    assert ledger.grants(db_grants(shared_db), sim_grants(sim)) == (0, 0)
    successes = [r for r in facts["rows"] if r == ("grant", "success")]
    assert ledger.audit([("grant", "success")], successes) == (0, 0)
    # The retry read the grants back instead of POSTing again, and the dead
    # request's intent got its one final row.
    assert facts["posts"] == 1, facts
    assert facts["rows"] == [("grant_intent", "pending"), ("grant", "success")], facts
    assert shared_db.manage("verify_audit").returncode == 0

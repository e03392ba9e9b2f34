"""Two full syncs started at the same instant in two processes (a Heroku
restart overlap, two beats): one does the work, the other is recorded as
skipped and makes no Okta call (reliability-and-performance.md A-4)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.grants.helpers import okta_state

ROOT = Path(__file__).resolve().parents[2]


def test_two_syncs_at_once_do_the_work_once(sim, tmp_path):
    sim.reset(apps=60, rate_limit=100_000)
    sim.set_rate_limit("apps", 20, window_seconds=1)  # the sync lasts a few seconds
    db = tmp_path / "race.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "OKTA_ORG_URL": sim.url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    calls = len(sim.requests())
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sync_grants", "--full"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    conn = sqlite3.connect(db)
    statuses = sorted(s for (s,) in conn.execute("SELECT status FROM grants_syncrun"))
    conn.close()
    assert statuses == ["skipped", "succeeded"]
    n = len(okta_state(sim))
    api = [r for r in sim.requests()[calls:] if r["path"].startswith("/api/v1/")]
    assert len([r for r in api if r["path"].endswith("/grants")]) == n
    assert len([r for r in api if r["path"] == "/api/v1/apps"]) == -(-n // 200)

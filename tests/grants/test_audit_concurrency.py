"""Concurrent appends from several processes make one linear chain
(reliability-and-performance.md A-13), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
ROWS_EACH = 60

APPEND = """
import json, os, sys, time
import django
django.setup()
from grantsconsole.grants import audit
times = []
for i in range(int(sys.argv[1])):
    started = time.perf_counter()
    audit.record("sync", actor_login=f"writer-{os.getpid()}", detail={"i": i})
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def _run_writers(env: dict[str, str]) -> list[float]:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPEND, str(ROWS_EACH)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    latencies: list[float] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0
        latencies += json.loads(out.strip().splitlines()[-1])
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stderr
    assert f"OK: {WRITERS * ROWS_EACH} audit rows" in verify.stdout
    return sorted(latencies)


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "grantsconsole.settings",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }


def test_concurrent_appends_on_sqlite_form_one_chain(tmp_path):
    latencies = _run_writers(_env(f"sqlite:///{tmp_path / 'audit.sqlite3'}"))
    p95 = latencies[int(len(latencies) * 0.95)]
    print(
        f"SQLite: {len(latencies)} appends by {WRITERS} processes, p95 {p95 * 1000:.1f} ms"
    )


@pytest.mark.postgres
def test_concurrent_appends_on_postgres_form_one_chain():
    import psycopg

    base = os.environ.get("POSTGRES_TEST_URL")
    assert base, "run it through `make test` (.ci/with-services starts PostgreSQL)"
    name = f"gc_chain_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        latencies = _run_writers(_env(base.rsplit("/", 1)[0] + f"/{name}"))
        p95 = latencies[int(len(latencies) * 0.95)]
        print(f"PostgreSQL: {len(latencies)} appends, p95 {p95 * 1000:.1f} ms")
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

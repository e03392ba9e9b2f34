"""How fast the audit chain verifies: ``audit.verify()`` over N rows (not a test).

Usage: ``.venv/bin/python bench/audit_verify.py [--rows 1000000] [--postgres]
[--profile]``. A scratch SQLite database (``migrate`` in a temp dir), or with
``--postgres`` a throwaway PostgreSQL cluster (``common.Postgres``, needs the
server binaries) or the one in ``POSTGRES_TEST_URL`` (``bash .ci/with-services``),
is filled with N chained rows built by the product's own hashing
(``audit.compute_hash``, ``audit._mac``) and inserted in batches of 5,000 (the
append-only triggers allow INSERT), then one checkpoint is signed and
``audit.verify()`` checks every row and the checkpoint. Prints the seconds, rows
per second and the seconds per 1,000,000 rows, and writes
``bench/results/audit_verify-*.json``. ``--profile`` prints cProfile's top
functions of the verification.

The rows look like production rows: a mix of actions, actor logins, scopeIds,
app labels with non-ASCII text and a small ``detail`` dict.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

BATCH = 5000


def _database(args: argparse.Namespace) -> tuple[str, object | None]:
    """(DATABASE_URL, a Postgres to stop or None)."""
    work = common.workdir("audit-verify")
    if not args.postgres:
        return f"sqlite:///{work / 'audit.sqlite3'}", None
    if os.environ.get("POSTGRES_TEST_URL"):
        import psycopg

        base = os.environ["POSTGRES_TEST_URL"]
        name = f"gc_bench_audit_{os.getpid()}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return base.rsplit("/", 1)[0] + f"/{name}", None
    pg = common.Postgres(work)
    return pg.url, pg


def _seed(total: int) -> float:
    """Append ``total`` chained rows; returns the seconds it took."""
    from django.db import connection, transaction

    from grantsconsole.grants import audit
    from grantsconsole.grants.models import AuditEvent

    columns = (*audit.HASHED_FIELDS, "prev_hash", "row_hash", "row_mac")
    created_field = AuditEvent._meta.get_field("created_at")
    table = AuditEvent._meta.db_table
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    actions = ("grant", "revoke", "external_grant", "sign_in", "sync")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    prev = audit.GENESIS_HASH
    batch: list[tuple] = []
    started = time.monotonic()

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
        batch.clear()

    for seq in range(1, total + 1):
        row = SimpleNamespace(
            seq=seq,
            created_at=t0 + timedelta(seconds=seq * 7, microseconds=seq % 997),
            action=actions[seq % 5],
            actor_id=f"00u{seq % 31:017d}",
            actor_login=f"admin{seq % 31}@example.com",
            app_id=None,
            app_okta_id=f"0oa{seq % 4000:017d}",
            app_label=f"Bänk app {seq % 4000}",
            scope_id="okta.users.read",
            outcome="success",
            okta_request_id=f"req{seq:010d}",
            detail=audit._normalize_detail({"detected_by": "bench", "n": seq % 13}),
            event_key=None,
            hash_version=1,
        )
        row_hash = audit.compute_hash(prev, row)
        values = [getattr(row, f) for f in audit.HASHED_FIELDS]
        values[1] = created_field.get_db_prep_save(row.created_at, connection)
        values[11] = json.dumps(row.detail, sort_keys=True)
        batch.append((*values, prev, row_hash, audit._mac(row_hash)))
        prev = row_hash
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    url, pg = _database(args)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "grantsconsole.settings",
            "LOG_LEVEL": "WARNING",
            "AUDIT_CHECKPOINT_FILE": "",
        }
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from grantsconsole.grants import audit

        call_command("migrate", "--noinput", verbosity=0)
        seed_s = _seed(args.rows)
        audit.checkpoint()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.monotonic()
        result = audit.verify()
        seconds = time.monotonic() - started
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)
        assert result.ok, result.problem
        out = {
            "backend": connection.vendor,
            "rows": result.rows,
            "seed_seconds": round(seed_s, 1),
            "verify_seconds": round(seconds, 2),
            "rows_per_second": round(result.rows / seconds),
            "seconds_per_million": round(seconds * 1_000_000 / result.rows, 1),
            "load": common.load(),
        }
        print(
            common.table(
                [out],
                [
                    "backend",
                    "rows",
                    "verify_seconds",
                    "rows_per_second",
                    "seconds_per_million",
                ],
            )
        )
        print(f"load: {out['load']['uptime']}")
        common.save(f"audit_verify-{connection.vendor}", out)
    finally:
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the real ``manage.py sync_grants --full|--incremental`` in this process and
print what it did as one JSON line (``BENCH-RESULT {...}``) for the benchmarks.

Environment: ``DATABASE_URL``, ``OKTA_ORG_URL``, ``OKTA_RATE_LIMIT_SHARE`` (the
settings read them). Nothing in the sync is changed: a database execute wrapper
only counts the statements that write (INSERT / UPDATE / DELETE) and the rows
they touched, per table. The JSON carries: ``seconds`` (wall time of the
command), ``cpu_seconds`` (this process's CPU time over the same span),
``okta_requests`` / ``token_requests`` (the worker client's own
counters), ``pacing_wait_seconds``, ``writes`` ({table: {insert, update,
delete}} rows), ``rows_inserted``, ``rows_written`` (inserted + updated +
deleted), ``run`` (the SyncRun's status and counters).

    DATABASE_URL=sqlite:///... OKTA_ORG_URL=http://127.0.0.1:PORT \\
        .venv/bin/python bench/sync_child.py --full
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from grantsconsole.grants.models import SyncRun  # noqa: E402
from grantsconsole.okta_clients import worker_client  # noqa: E402

_WRITE = re.compile(
    r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE
)
writes: dict[str, dict[str, int]] = defaultdict(
    lambda: {"insert": 0, "update": 0, "delete": 0}
)


def count_writes(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    """Execute wrapper: count rows touched by each writing statement, per table."""
    result = execute(sql, params, many, context)
    m = _WRITE.match(sql)
    if m:
        verb = m.group(1).split()[0].lower()
        cursor = context["cursor"]
        rows = getattr(cursor, "rowcount", -1)
        if rows is None or rows < 0 or (verb == "insert" and rows == 0):
            # sqlite3 reports no rowcount for INSERT ... RETURNING before the
            # rows are fetched: count one row per parameter set.
            rows = len(params) if many and params is not None else 1
        writes[m.group(2)][verb] += rows
    return result


def main() -> None:
    kind = "incremental" if "--incremental" in sys.argv else "full"
    client = worker_client()
    out = io.StringIO()
    started = time.monotonic()
    cpu_started = time.process_time()
    failed = None
    with connection.execute_wrapper(count_writes):
        try:
            call_command("sync_grants", f"--{kind}", stdout=out)
        except SystemExit as exc:
            failed = f"exit {exc.code}"
    seconds = time.monotonic() - started
    cpu_seconds = time.process_time() - cpu_started
    run = SyncRun.objects.filter(kind=kind).order_by("-id").first()
    data = {
        "kind": kind,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "failed": failed,
        "output": out.getvalue().strip(),
        "okta_requests": client.request_count,
        "token_requests": getattr(client.token_source, "token_requests", 0),
        "pacing_wait_seconds": getattr(client.pacer, "waited_seconds", 0.0),
        "pacing_waits": getattr(client.pacer, "waits", 0),
        "writes": dict(writes),
        "rows_inserted": sum(w["insert"] for w in writes.values()),
        "rows_written": sum(sum(w.values()) for w in writes.values()),
        "run": {
            "id": run.pk,
            "status": run.status,
            "apps_total": run.apps_total,
            "apps_done": run.apps_done,
            "apps_failed": run.apps_failed,
            "grants_added": run.grants_added,
            "grants_revoked": run.grants_revoked,
            "okta_requests": run.okta_requests,
            "message": run.message,
        }
        if run
        else None,
    }
    print("BENCH-RESULT " + json.dumps(data, default=str), flush=True)


if __name__ == "__main__":
    main()

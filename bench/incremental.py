"""Benchmark 4: the incremental sync (System Log polling) against a full sweep.

Setup: the simulator with N OIDC apps, rate limits off; a scratch SQLite
database filled by the real full sync (``manage.py sync_grants --full``); one
incremental run with nothing new (it sets the System Log cursor: the steady
state). Then K out-of-band changes on K different apps through
``/__sim__/oob/grant|revoke`` (as if made in Okta's Admin Console; each writes
its System Log event), and one ``manage.py sync_grants --incremental``.

Measured from ``/__sim__/requests``: the requests the incremental run made, per
bucket (logs, ``/api/v1/apps/{id}``, ``/api/v1/apps*``), against the target
K + 2 and against a full sweep's ceil(N_all/200) + N (every app listed, N OIDC
apps' grants read); whether every change reached
the database (an ``external_grant`` / ``external_revoke`` audit row per change,
with the System Log actor); time from the last change to the end of the run
(the command's own time; with Celery beat add up to ``SYNC_INCREMENTAL_EVERY``,
60 s by default, before the poll starts).

    .venv/bin/python bench/incremental.py              # short: N = 1000, K = 10
    .venv/bin/python bench/incremental.py --apps 10000 --changes 10
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sqlite3
import time
from typing import Any

import common as c

POOL = ["okta.users.read", "okta.groups.read", "okta.logs.read", "okta.apps.read"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()
    wd = c.workdir("incr")
    seed = c.write_seed(wd, args.apps, max(1, args.apps // 100))
    db = c.ScratchDbs(wd).fresh("incr")
    rng = random.Random(11)
    with c.Sim(seed) as sim:
        sim.unlimited()
        full = c.run_child(c.sync_cmd("full"), c.sync_env(db, sim.url, 1.0))
        if full.returncode != 0:
            raise SystemExit(full.stderr[-3000:])
        warm = c.run_child(c.sync_cmd("incremental"), c.sync_env(db, sim.url, 1.0))
        if warm.returncode != 0:
            raise SystemExit(warm.stderr[-3000:])
        state = {a["id"]: a for a in sim.control.state()["apps"]}
        n_all = len(state)
        own = ("0oa1consoleDEMO000x7", "0oa1workerDEMO0000x7")
        oidc = [a for a in sim.oidc_app_ids() if a not in own]
        targets = rng.sample(oidc, args.changes)
        changes = []
        for i, app_id in enumerate(targets):
            held = {g["scopeId"] for g in state[app_id]["grants"]}
            if i % 2 == 0 or not held:
                scope = next(s for s in POOL + sorted(held) if s not in held)
                sim.control.oob_grant(app_id, scope, "org.admin@example.com")
                changes.append(("external_grant", app_id, scope))
            else:
                scope = sorted(held)[0]
                sim.control.oob_revoke(app_id, scope, "org.admin@example.com")
                changes.append(("external_revoke", app_id, scope))
        changed_at = time.monotonic()
        mark = len(sim.requests())
        before = c.load()["loadavg"]
        res = c.run_child(c.sync_cmd("incremental"), c.sync_env(db, sim.url, 1.0))
        detected_after = time.monotonic() - changed_at
        reqs = sim.requests(mark)
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    con = sqlite3.connect(db.removeprefix("sqlite:///"))
    found = 0
    attributed = 0
    for action, app_id, scope in changes:
        row = con.execute(
            "SELECT actor_login FROM grants_auditevent WHERE action=? AND app_okta_id=?"
            " AND scope_id=? ORDER BY seq DESC LIMIT 1",
            (action, app_id, scope),
        ).fetchone()
        found += row is not None
        attributed += bool(row and row[0] == "org.admin@example.com")
    con.close()
    by_bucket: dict[str, int] = {}
    for r in reqs:
        by_bucket[r["bucket"]] = by_bucket.get(r["bucket"], 0) + 1
    n_oidc = full.result["run"]["apps_done"]
    full_sweep = math.ceil(n_all / 200) + n_oidc
    api = [r for r in reqs if r["path"].startswith("/api/v1")]
    row: dict[str, Any] = {
        "n_oidc": n_oidc,
        "k_changes": args.changes,
        "requests": len(api),
        "target": args.changes + 2,
        "target_met": len(api) <= args.changes + 2,
        "logs_requests": by_bucket.get("logs", 0),
        "get_app_requests": by_bucket.get("app", 0),
        "grants_requests": by_bucket.get("apps", 0),
        "token_calls": sum(1 for r in reqs if r["path"] == "/oauth2/v1/token"),
        "full_sweep_requests": full_sweep,
        "ratio_to_full_sweep": len(api) / full_sweep,
        "apps_bucket_ratio_to_full_sweep": by_bucket.get("apps", 0) / full_sweep,
        "changes_detected": found,
        "changes_attributed_to_actor": attributed,
        "run_seconds": res.result["seconds"],
        "change_to_detection_s": detected_after,
        "full_sync_seconds": full.result["seconds"],
        "run": res.result["run"],
        "load": before,
    }
    cols = [
        "n_oidc",
        "k_changes",
        "requests",
        "target",
        "logs_requests",
        "get_app_requests",
        "grants_requests",
        "token_calls",
        "full_sweep_requests",
        "ratio_to_full_sweep",
        "changes_detected",
        "changes_attributed_to_actor",
        "run_seconds",
        "change_to_detection_s",
        "target_met",
    ]
    print(
        f"load {c.load()['uptime']}; incremental every {os.environ.get('SYNC_INCREMENTAL_EVERY', '60')} s under beat"
    )
    print(c.table([row], cols))
    path = c.save(
        "incremental",
        {"args": vars(args), "load": c.load(), "row": row, "requests": reqs},
    )
    print(f"\nJSON: {path}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()

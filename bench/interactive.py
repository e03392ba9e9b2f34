"""Benchmark 6: an admin's grant and revoke round trips through the console while a
full sync runs (the admin's action must not queue behind the sync).

Setup: the simulator with N OIDC apps, its ``/api/v1/apps*`` bucket at L per W
seconds; a scratch SQLite database filled by one unthrottled full sync. The
console runs in this process (Django's test client, as a browser's requests
would reach the views; the same SQLite file the worker writes); the demo Super
Admin signs in through the real Okta flow (``tests/accounts/flow.py``). Each
round trip is ``POST /apps/<id>/grants/grant`` then ``.../revoke`` of a read
scope (no step-up), each with its fresh Super Admin role check and its Okta
write with the admin's own token, and the row checked in the database
afterwards. Measured: p50/p95/max per action with no sync running (baseline),
then while ``manage.py sync_grants --full`` (share S) runs in a subprocess on
the same database and org; failures (non-redirect answers, exceptions, a grant
not in the database afterwards); 429s the console's requests received.

    .venv/bin/python bench/interactive.py                # short: N = 300, ~1.5 min
    .venv/bin/python bench/interactive.py --apps 1000 --limit 100 --window 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from typing import Any

import common as c

SCOPE = "okta.brands.read"  # a low-risk read: no confirmation, no step-up


def round_trips(
    client: Any, apps: list[str], until: Any, think: float, max_ops: int
) -> dict[str, Any]:
    from grantsconsole.grants.models import ScopeGrant

    times: dict[str, list[float]] = {"grant": [], "revoke": []}
    failures: list[str] = []
    i = 0
    while until() and i < max_ops:
        app_id = apps[i % len(apps)]
        for verb in ("grant", "revoke"):
            t = time.perf_counter()
            try:
                resp = client.post(f"/apps/{app_id}/grants/{verb}", {"only": SCOPE})
                ok = resp.status_code == 302
            except Exception as exc:
                ok = False
                failures.append(f"{verb} {app_id}: {type(exc).__name__}: {exc}"[:300])
            times[verb].append(time.perf_counter() - t)
            held = ScopeGrant.objects.filter(
                app__okta_id=app_id, scope_id=SCOPE, revoked_at=None
            ).exists()
            if ok and held != (verb == "grant"):
                ok = False
                failures.append(f"{verb} {app_id}: database disagrees afterwards")
            elif not ok and len(failures) < 50 and not failures[-1:]:
                failures.append(f"{verb} {app_id}: HTTP {resp.status_code}")
            time.sleep(think)
        i += 1
    out: dict[str, Any] = {
        "ops": i,
        "failures": len(failures),
        "failure_samples": failures[:5],
    }
    for verb, values in times.items():
        out[f"{verb}_p50_ms"] = 1000 * c.pct(values, 0.5)
        out[f"{verb}_p95_ms"] = 1000 * c.pct(values, 0.95)
        out[f"{verb}_max_ms"] = 1000 * max(values) if values else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100, help="apps bucket per window")
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument(
        "--think", type=float, default=0.3, help="seconds between actions"
    )
    parser.add_argument("--baseline-ops", type=int, default=15)
    args = parser.parse_args()
    wd = c.workdir("interactive")
    seed = c.write_seed(wd, args.apps, max(1, args.apps // 100))
    db = c.ScratchDbs(wd).fresh("interactive")
    sim = c.Sim(seed)
    try:
        sim.unlimited()
        prep = c.run_child(c.sync_cmd("full"), c.sync_env(db, sim.url, 1.0))
        if prep.returncode != 0:
            raise SystemExit(prep.stderr[-3000:])
        sim.limits(args.limit, args.window)
        os.environ.update(c.sync_env(db, sim.url, args.share))
        import django

        django.setup()
        from grantsconsole.grants.models import OktaApp
        from tests.accounts.flow import SUPER, console_client, sign_in

        client = console_client()
        client.raise_request_exception = True
        sign_in(client, SUPER)
        apps = list(
            OktaApp.objects.exclude(okta_id__startswith="0oa1c")
            .exclude(okta_id__startswith="0oa1w")
            .order_by("-id")
            .values_list("okta_id", flat=True)[:50]
        )
        mark = len(sim.requests())
        before = c.load()["loadavg"]
        idle = round_trips(client, apps, lambda: True, args.think, args.baseline_ops)
        idle_reqs = sim.requests(mark)
        idle["load"] = before
        idle["console_429"] = sum(1 for r in idle_reqs if r["status"] == 429)

        mark = len(sim.requests())
        before = c.load()["loadavg"]
        proc, started = c.start_child(
            c.sync_cmd("full"), c.sync_env(db, sim.url, args.share)
        )
        time.sleep(1.0)  # the sync is reading
        busy = round_trips(client, apps, lambda: c.running(proc), args.think, 10**6)
        sync = c.finish_child(proc, started)
        busy_reqs = sim.requests(mark)
        busy["load"] = before
        console_paths = ("/api/v1/users/",)
        busy["console_429"] = sum(
            1
            for r in busy_reqs
            if r["status"] == 429
            and (r["method"] != "GET" or r["path"].startswith(console_paths))
        )
        busy["all_429"] = sum(1 for r in busy_reqs if r["status"] == 429)
        busy["sync_status"] = (sync.result.get("run") or {}).get("status")
        busy["sync_seconds"] = sync.result.get("seconds")
        busy["sync_requests"] = sync.result.get("okta_requests")
    finally:
        sim.stop()
    rows = [
        {"when": "no sync (baseline)", **idle},
        {"when": "during a full sync", **busy},
    ]
    for r in rows:
        r["grant_p95_ratio"] = r["grant_p95_ms"] / max(1e-9, idle["grant_p95_ms"])
    cols = [
        "when",
        "ops",
        "grant_p50_ms",
        "grant_p95_ms",
        "grant_max_ms",
        "revoke_p50_ms",
        "revoke_p95_ms",
        "revoke_max_ms",
        "failures",
        "console_429",
        "grant_p95_ratio",
    ]
    print(
        f"N={args.apps}, apps bucket {args.limit}/{args.window:g} s, sync share "
        f"{args.share}; sync: {busy.get('sync_status')} in {busy.get('sync_seconds') or 0:.1f} s, "
        f"{busy.get('sync_requests')} requests; load {c.load()['uptime']}"
    )
    print(c.table(rows, cols))
    for r in rows:
        if r["failure_samples"]:
            print(r["when"], r["failure_samples"])
    path = c.save("interactive", {"args": vars(args), "load": c.load(), "rows": rows})
    print(f"\nJSON: {path}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()

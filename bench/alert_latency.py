"""Benchmark 7: from an out-of-band grant in Okta to the alert webhook arriving.

Setup: the real stack on its default settings: the simulator (demo org, own
process), a scratch SQLite database, a Celery worker and Celery beat (the
filesystem broker, as ``make run``), the incremental sync every
``SYNC_INCREMENTAL_EVERY`` seconds (60 by default: the beat interval is the
figure under test, so it is not shortened), and the demo's JSON webhook
destination (``manage.py demo_alert_destination``) pointing at the
simulator's local receiver ``/__sim__/webhooks``, which checks each
signature. After beat's first poll has run the baseline full sync, K grants
(default 20) are made through ``/__sim__/oob/grant`` (as if in Okta's Admin
Console; each writes its System Log event), one every ``--spread / K``
seconds, each on its own app and scope.

Measured per change: the time from the ``oob/grant`` answer to the receiver's
arrival time of the signed webhook naming that app and scope (both clocks are
this machine's). Target: median <= 70 s, p95 <= 120 s, every webhook signed
correctly, none missing.

    .venv/bin/python bench/alert_latency.py                # K = 20 over 240 s, ~5 min
    .venv/bin/python bench/alert_latency.py --changes 5 --spread 60
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import time
from typing import Any

import common as c

POOL = [
    "okta.users.manage",
    "okta.groups.manage",
    "okta.apps.manage",
    "okta.logs.read",
    "okta.users.read",
    "okta.groups.read",
]
OWN = ("0oa1consoleDEMO000x7", "0oa1workerDEMO0000x7")


def _targets(sim: c.Sim, k: int) -> list[tuple[str, str]]:
    """K (app id, scope id) pairs, apps different where the org allows, each
    scope not yet held by its app."""
    rng = random.Random(7)
    pairs = [
        (a["id"], s)
        for a in sim.control.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT" and a["id"] not in OWN
        for s in POOL
        if s not in {g["scopeId"] for g in a["grants"]}
    ]
    rng.shuffle(pairs)
    chosen, apps = [], set()
    for app_id, scope in pairs:  # one per app first, then any
        if app_id not in apps:
            chosen.append((app_id, scope))
            apps.add(app_id)
    chosen += [p for p in pairs if p not in chosen]
    return chosen[:k]


def _celery(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, Any]:
    return c.start_child([c.PYTHON, "-m", "celery", "-A", "grantsconsole", *args], env)


def _stop(proc: subprocess.Popen, started: float) -> None:
    """Stop a Celery process (warm shutdown, then kill after 30 s) and reap it."""
    proc.terminate()
    deadline = time.monotonic() + 30
    while c.running(proc) and time.monotonic() < deadline:
        time.sleep(0.5)
    if c.running(proc):
        proc.kill()
    c.finish_child(proc, started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--spread", type=float, default=240.0, help="seconds")
    parser.add_argument("--tail", type=float, default=180.0, help="max wait after")
    args = parser.parse_args()
    wd = c.workdir("alerts")
    db = c.ScratchDbs(wd).fresh("alerts")
    every = os.environ.get("SYNC_INCREMENTAL_EVERY", "60")
    with c.Sim() as sim:
        env = c.base_env(
            DATABASE_URL=db,
            OKTA_ORG_URL=sim.url,
            CELERY_FS_DIR=str(wd / "broker"),
            SYNC_INCREMENTAL_EVERY=every,
            LOG_LEVEL="WARNING",
        )
        subprocess.run(
            [
                c.PYTHON,
                "manage.py",
                "demo_alert_destination",
                f"{sim.url}/__sim__/webhooks",
            ],
            cwd=c.ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        before = c.load()
        worker = _celery(
            [
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
        )
        beat = _celery(
            ["beat", "--loglevel", "WARNING", "--schedule", str(wd / "beat-schedule")],
            env,
        )
        try:
            rows = _measure(sim, env, args)
        finally:
            for proc, started in (beat, worker):
                _stop(proc, started)
    latencies = [r["latency_s"] for r in rows if r["latency_s"] is not None]
    summary = {
        "changes": args.changes,
        "arrived": len(latencies),
        "signed_ok": sum(r["verdict"] == "verified" for r in rows),
        "median_s": round(statistics.median(latencies), 1) if latencies else None,
        "p95_s": round(c.pct(latencies, 0.95), 1) if latencies else None,
        "max_s": round(max(latencies), 1) if latencies else None,
        "incremental_every_s": int(every),
    }
    summary["target_met"] = bool(
        latencies
        and len(latencies) == args.changes
        and summary["signed_ok"] == args.changes
        and summary["median_s"] <= 70
        and summary["p95_s"] <= 120
    )
    print(f"load before {before['uptime']}; after {c.load()['uptime']}")
    print(c.table([summary], list(summary)))
    path = c.save(
        "alert_latency",
        {"args": vars(args), "load": before, "summary": summary, "changes": rows},
    )
    print(f"\nJSON: {path}")
    shutil.rmtree(wd, ignore_errors=True)


def _baseline_done(env: dict[str, str], timeout: float = 240) -> None:
    """Wait until beat's first poll has run the baseline full sync."""
    check = (
        "from grantsconsole.grants.models import SyncRun;"
        "print(SyncRun.objects.filter(kind='full', status='succeeded').exists())"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            [c.PYTHON, "manage.py", "shell", "-c", check],
            cwd=c.ROOT,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        if "True" in out:
            return
        time.sleep(3)
    raise SystemExit("the baseline full sync did not finish")


def _measure(sim: c.Sim, env: dict[str, str], args: Any) -> list[dict[str, Any]]:
    _baseline_done(env)
    sim.control._call("DELETE", "/webhooks")
    targets = _targets(sim, args.changes)
    if len(targets) < args.changes:
        raise SystemExit(f"the org has room for {len(targets)} new grants only")
    gap = args.spread / args.changes
    made: dict[tuple[str, str], float] = {}
    for i, (app_id, scope) in enumerate(targets):
        next_at = time.monotonic() + gap
        sim.control.oob_grant(app_id, scope)
        made[(app_id, scope)] = time.time()
        print(f"change {i + 1}/{args.changes}: {scope} on {app_id}", flush=True)
        if i < len(targets) - 1:
            time.sleep(max(0.0, next_at - time.monotonic()))
    deadline = time.monotonic() + args.tail
    arrived: dict[tuple[str, str], dict] = {}
    while time.monotonic() < deadline and len(arrived) < len(made):
        for item in sim.control.webhooks():
            body = item["body"] if isinstance(item["body"], dict) else {}
            if body.get("kind") != "out_of_band_change":
                continue
            key = ((body.get("app") or {}).get("id", ""), body.get("scope_id", ""))
            if key in made and key not in arrived:
                arrived[key] = item
        time.sleep(1)
    rows = []
    for key, at in made.items():
        item = arrived.get(key)
        rows.append(
            {
                "app_id": key[0],
                "scope_id": key[1],
                "latency_s": round(item["received_at"] - at, 2) if item else None,
                "verdict": item["verdict"] if item else "missing",
            }
        )
    return rows


if __name__ == "__main__":
    main()

"""Benchmark 1 + 2: a full sync against the rate-limit floor, and the same work with
Okta's Python SDK, against the same simulator and limits in the same run.

Setup: the simulator (own process) with N OIDC apps (+ M non-OIDC) and its
``/api/v1/apps*`` bucket set to L requests per window of W seconds (shortened
from Okta's 60 s so a run takes minutes, not hours). A scratch SQLite database
is migrated and synced once unthrottled (the steady state: the full sync is
the periodic drift check), then copied for each scenario, in which the real
``manage.py sync_grants --full`` runs (``bench/sync_child.py``) with
``OKTA_RATE_LIMIT_SHARE`` = S:

* ``ours S=50%`` and ``ours S=100%``;
* ``ours S=50% + drain``: a second client meanwhile spends half the bucket
  (L/2 per window, evenly spaced ``GET /api/v1/apps?limit=1``);
* ``sdk``: ``bench/sdk_loop.py`` (list every app with paging, keep the OIDC ones, grants per app,
  the SDK's default retries) with the whole bucket to itself;
* ``sdk + drain``: the same while the second client spends half the bucket.

Floor: the sync needs ``R = ceil(N_all/200) + N_oidc + N_cred`` apps-bucket
requests: every app is listed (Okta cannot filter by ``signOnMode``; N_all =
N_oidc + M), each OIDC app's grants are read (N_oidc counts the console's own
two apps too) and the secrets or keys of the N_cred apps where they matter
(service apps holding a grant, web apps holding a manage scope; the SDK loop
reads none, so its R has no N_cred). The org setting read, once per sync, is
outside the apps bucket. With ``B = floor(L*S)`` per
window they need at least ``ceil(R/B)`` windows, so the minimum time is
``(ceil(R/B) - 1) * W`` (the last window's requests sent at its start).
Counted from ``/__sim__/requests``: apps-bucket requests of the sync, 429s,
token calls. ``wall`` is the sync command's own time (Django start-up and the
SDK's import excluded). Target (issue 8): wall <= 1.10 x floor, zero failed
requests, requests == R (+ at most one token call).

Admin roles (effective privilege) are read in Okta's ``/oauth2/v1/clients``
bucket, not the apps bucket, so they do not move the floor: the sync also needs
``R_roles = S + T`` requests there, S the OIDC service apps with a client id
(one ``…/roles`` each) and T their group- or app-targeted or custom roles (one
targets or resource-set read each; the generated apps hold no such role, so
T = 0 here). Reported as ``min_role_requests`` / ``role_requests``; the target
also asks role_requests == R_roles (the SDK scenarios read no roles).

    .venv/bin/python bench/sync_floor.py                 # short: N=100, ~2 min
    .venv/bin/python bench/sync_floor.py --apps 1000 --other 100 --limit 80
        [--window 5] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import math
import shutil
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import common as c

DRAIN_MARK = "zzdrain"
WINDOW_COUNTS: list[list[int]] = []  # our requests per window, per scenario


class Drainer(threading.Thread):
    """Spends ``per_window`` requests of the apps bucket every ``window`` seconds,
    evenly spaced, until stopped (a second tool sharing the org)."""

    def __init__(self, url: str, per_window: int, window: float) -> None:
        super().__init__(daemon=True)
        self.url = f"{url}/api/v1/apps?limit=1&q={DRAIN_MARK}"
        self.gap = window / max(1, per_window)
        self.stop_event = threading.Event()
        self.sent = 0

    def run(self) -> None:
        headers = {"Authorization": f"SSWS {c.SSWS}", "Accept": "application/json"}
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            req = urllib.request.Request(self.url, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    resp.read()
            except Exception:  # 429s are expected; the simulator counts them
                pass
            self.sent += 1
            next_at += self.gap
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(15)


def windows_touched(times: list[float], window: float) -> tuple[int, float]:
    """An estimate, from the simulator's record times (taken after each answer,
    not when its window was counted), of how many rate-limit windows the requests
    span and the mean idle time after a window's end (s). Can be off by a window
    when the client resumes right at a window's end; JSON only, not a target."""
    count, end, gaps = 0, -math.inf, []
    per_window: list[int] = []
    for t in sorted(times):
        if t >= end:
            if count:
                gaps.append(t - end)
            count += 1
            end = t + window
            per_window.append(0)
        per_window[-1] += 1
    WINDOW_COUNTS.append(per_window)
    return count, (sum(gaps) / len(gaps) if gaps else 0.0)


def analyse(reqs: list[dict], sync_paths: str = "/api/v1/apps") -> dict[str, Any]:
    ours = [
        r
        for r in reqs
        if r["path"].startswith(sync_paths) and DRAIN_MARK not in (r["query"] or "")
    ]
    drain = [r for r in reqs if DRAIN_MARK in (r["query"] or "")]
    return {
        "requests": sum(1 for r in ours if r["bucket"] == "apps"),
        "requests_ok": sum(
            1 for r in ours if r["bucket"] == "apps" and r["status"] < 400
        ),
        "app_bucket_requests": sum(1 for r in ours if r["bucket"] == "app"),
        "token_calls": sum(1 for r in reqs if r["path"] == "/oauth2/v1/token"),
        "role_requests": sum(
            1
            for r in reqs
            if r["path"].startswith(("/oauth2/v1/clients/", "/api/v1/iam/"))
        ),
        "r429": sum(1 for r in ours if r["status"] == 429),
        "failed": sum(1 for r in ours if r["status"] >= 400 and r["status"] != 429),
        "drain_requests": len(drain),
        "drain_429": sum(1 for r in drain if r["status"] == 429),
        "first": min((r["time"] for r in ours), default=0.0),
        "last": max((r["time"] for r in ours), default=0.0),
        "times": [r["time"] for r in ours if r["bucket"] == "apps"],
    }


def scenario(
    args: argparse.Namespace,
    seed: Path,
    db_template: Path,
    wd: Path,
    name: str,
    share: float | None,
    drain: bool,
    sdk: bool,
) -> dict[str, Any]:
    with c.Sim(seed) as sim:
        sim.limits(args.limit, args.window)
        n_oidc = len(sim.oidc_app_ids())
        n_all = sim.app_count()
        n_service = sum(
            1
            for a in sim.control.state()["apps"]
            if a["kind"] == "service" and a["client_id"]
        )
        n_credentials = 0 if sdk else sim.credential_reads()
        drainer = Drainer(sim.url, args.limit // 2, args.window) if drain else None
        if drainer:
            drainer.start()
            time.sleep(args.window * 0.3)
        before = c.load()
        if sdk:
            res = c.run_child(
                [c.PYTHON, str(c.ROOT / "bench" / "sdk_loop.py"), "--org-url", sim.url],
                c.base_env(),
            )
            wall = res.result.get("seconds")
            errors = res.result.get("errors", None)
            detail = res.result
        else:
            db = (
                wd
                / f"{name.replace(' ', '_').replace('%', '').replace('=', '')}.sqlite3"
            )
            shutil.copyfile(db_template, db)
            res = c.run_child(
                c.sync_cmd("full"), c.sync_env(f"sqlite:///{db}", sim.url, share or 1.0)
            )
            wall = res.result.get("seconds")
            run = res.result.get("run") or {}
            errors = run.get("apps_failed")
            detail = {
                k: res.result.get(k)
                for k in (
                    "output",
                    "okta_requests",
                    "pacing_wait_seconds",
                    "pacing_waits",
                )
            }
        if drainer:
            drainer.stop()
        reqs = sim.requests()
    if res.returncode != 0:
        print(res.stderr[-3000:])
    stats = analyse(reqs)
    minimum = math.ceil(n_all / 200) + n_oidc + n_credentials
    eff_share = share if share is not None else 1.0
    budget = max(1, math.floor(args.limit * eff_share + 1e-9))
    if drain:
        budget = min(budget, args.limit - args.limit // 2)
    windows_min = math.ceil(minimum / budget)
    floor = (windows_min - 1) * args.window
    times = stats.pop("times")
    used, gap = windows_touched(times, args.window)
    return {
        "scenario": name,
        "share": share,
        "drain": drain,
        "n_oidc": n_oidc,
        "n_all": n_all,
        "n_credentials": n_credentials,
        "min_requests": minimum,
        "min_role_requests": 0 if sdk else n_service,
        "role_requests": stats["role_requests"],
        "requests": stats["requests"],
        "extra_requests": stats["requests"] - minimum,
        "token_calls": stats["token_calls"],
        "r429": stats["r429"],
        "failed": stats["failed"],
        "errors": errors,
        "budget_per_window": budget,
        "windows_min": windows_min,
        "windows_used": used,
        "idle_after_window_s": gap,
        "requests_per_window": WINDOW_COUNTS[-1],
        "floor_s": floor,
        "wall_s": wall,
        "wall_over_floor": (wall / floor) if wall and floor else None,
        "drain_requests": stats["drain_requests"],
        "drain_429": stats["drain_429"],
        "exit": res.returncode,
        "load_before": before["loadavg"],
        "load_after": c.load()["loadavg"],
        "detail": detail,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=100, help="OIDC apps (N)")
    parser.add_argument("--other", type=int, default=10, help="non-OIDC apps")
    parser.add_argument(
        "--limit", type=int, default=40, help="apps bucket per window (L)"
    )
    parser.add_argument("--window", type=float, default=5.0, help="window seconds (W)")
    parser.add_argument("--skip-sdk", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument("--tag", default="", help="save as sync_floor-<tag>-*.json")
    args = parser.parse_args()

    wd = c.workdir("floor")
    seed = c.write_seed(wd, args.apps, args.other)
    template = wd / "synced.sqlite3"
    dbs = c.ScratchDbs(wd)
    url = dbs.fresh("prep")
    shutil.move(url.removeprefix("sqlite:///"), template)
    with c.Sim(seed) as sim:  # the steady state: one unthrottled sync first
        sim.unlimited()
        prep = c.run_child(
            c.sync_cmd("full"), c.sync_env(f"sqlite:///{template}", sim.url)
        )
        if prep.returncode != 0:
            raise SystemExit(prep.stderr[-3000:])
    for suffix in ("-wal", "-shm"):
        Path(f"{template}{suffix}").unlink(missing_ok=True)

    plan = [
        ("ours S=50%", 0.5, False, False),
        ("ours S=100%", 1.0, False, False),
        ("ours S=50% + drain", 0.5, True, False),
    ]
    if not args.skip_sdk:
        plan += [("sdk", None, False, True), ("sdk + drain", None, True, True)]
    if args.skip_drain:
        plan = [p for p in plan if not p[2]]
    rows = []
    for name, share, drain, sdk in plan:
        print(f"... {name}", flush=True)
        rows.append(scenario(args, seed, template, wd, name, share, drain, sdk))
        print(c.table(rows[-1:], ["scenario", "requests", "r429", "wall_s", "floor_s"]))
    ours = {r["scenario"]: r for r in rows}
    for r in rows:
        if r["scenario"].startswith("sdk"):
            twin = ours.get("ours S=100%" if not r["drain"] else "ours S=50% + drain")
            if twin and twin["wall_s"]:
                r["sdk_over_ours"] = (
                    r["wall_s"] / twin["wall_s"] if r["wall_s"] else None
                )
        else:
            r["target_met"] = bool(
                r["wall_over_floor"] is not None
                and r["wall_over_floor"] <= 1.10
                and r["failed"] == 0
                and r["r429"] == 0
                and r["errors"] == 0
                and r["requests"] == r["min_requests"]
                and r["role_requests"] == r["min_role_requests"]
                and r["token_calls"] <= 1
            )
    cols = [
        "scenario",
        "min_requests",
        "requests",
        "min_role_requests",
        "role_requests",
        "token_calls",
        "r429",
        "failed",
        "errors",
        "budget_per_window",
        "windows_min",
        "floor_s",
        "wall_s",
        "wall_over_floor",
        "sdk_over_ours",
        "drain_429",
        "target_met",
    ]
    print()
    print(
        f"N={args.apps} OIDC (+{args.other} other), L={args.limit}/window, "
        f"W={args.window:g} s; load {c.load()['uptime']}"
    )
    print(c.table(rows, cols))
    path = c.save(
        "sync_floor" + (f"-{args.tag}" if args.tag else ""),
        {
            "args": vars(args),
            "load": c.load(),
            "prep_seconds": prep.result.get("seconds"),
            "rows": rows,
        },
    )
    print(f"\nJSON: {path}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()

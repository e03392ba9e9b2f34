"""Benchmark 1 + 2: a full sync against the rate-limit floor, and the same work with
Okta's Python SDK, against the same simulator and limits in the same run.

Setup: the simulator (own process) with the simulator's generated org (``--apps
N`` generated apps, ~1% of them SAML or bookmark apps, plus the console's two
apps and the demo org's two API service integrations; the generated service
apps hold the demo org's mix of client admin roles in turn: see
``common.generated_seed``), every rate-limit bucket at Okta's default limit
(Workforce, per minute: ``/api/v1/apps*`` 100, ``/oauth2/v1/clients*`` 100,
``/api/v1/*`` 1,200, …; ``grantsconsole/oktasim/ratelimit.py``) but per window
of W seconds (shortened from Okta's 60 s so a run takes minutes, not hours;
``--limit L`` sets the apps bucket alone to L). A scratch SQLite database is
migrated and synced once unthrottled (the steady state: the full sync is the
periodic drift check), then copied for each scenario, in which the real
``manage.py sync_grants --full`` runs (``bench/sync_child.py``) with
``OKTA_RATE_LIMIT_SHARE`` = S:

* ``ours S=50%`` (the worker's default share) and ``ours S=100%``;
* ``ours S=50% + drain``: a second client meanwhile spends half the apps
  bucket (L/2 per window, evenly spaced ``GET /api/v1/apps?limit=1``);
* ``sdk``: ``bench/sdk_loop.py`` (list every app with paging, keep the OIDC ones, grants per app,
  the SDK's default retries) with the whole bucket to itself;
* ``sdk + drain``: the same while the second client spends half the bucket.

The stated minimum, per bucket (``tests/grants/test_full_sync.py::
test_full_sync_request_count_is_the_stated_minimum`` states the same rule):

* apps (``/api/v1/apps*``): ``ceil(N_all/200)`` listing pages (every app is
  listed: Okta cannot filter by ``signOnMode``), one grants read per OIDC app
  (N_oidc, the console's own two included) and one credentials read (secrets
  or keys) per app where they matter (N_cred: service apps holding a grant,
  web apps holding a manage scope; ``controls.credentials_to_read``);
* clients (``/oauth2/v1/clients*``): one roles read per OIDC service app with a
  client id, plus one targets read per group- or app-targeted role;
* api (``/api/v1/*``): the org setting once, plus one resource-set read per
  CUSTOM role;
* other (``/integrations/api/v1/*``): ``ceil(I/20)`` API service integration
  pages and one secrets read per integration;
* the SDK loop reads only listing pages and grants (apps bucket).

With ``B_b = floor(L_b*S)`` per window (the drained apps bucket: at most what
the second client leaves), bucket b needs ``ceil(R_b/B_b)`` windows; buckets
are paced independently, so the floor is set by the busiest bucket:
``(max_b ceil(R_b/B_b) - 1) * W`` (the last window's requests sent at its
start). Counted from ``/__sim__/requests`` per bucket (the simulator's): the
sync's requests, 429s, failed requests, token calls (apart). ``wall`` is the
sync command's own time (Django start-up and the SDK's import excluded).
Target: requests == the minimum in every bucket (+ at most one token call),
wall <= 1.10 x floor, zero failed requests, zero 429s.

    .venv/bin/python bench/sync_floor.py                 # short: N=100, ~2 min
    .venv/bin/python bench/sync_floor.py --apps 1000 [--window 5] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import json
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


GROUP_TARGETED = ("USER_ADMIN", "HELP_DESK_ADMIN", "GROUP_MEMBERSHIP_ADMIN")
INTEGRATIONS_PAGE = 20  # the simulator's page of API service integrations
BUCKETS = ("apps", "clients", "api", "other")  # the sync's, in the table's order


def stated_minimum(state: dict, n_integrations: int, sdk: bool) -> dict[str, int]:
    """The full sync's minimum requests per simulator bucket (module docstring)
    for the org ``state`` (``/__sim__/state``); the SDK loop's when ``sdk``."""
    apps = state["apps"]
    oidc = [a for a in apps if a["sign_on_mode"] == "OPENID_CONNECT"]
    pages = math.ceil(len(apps) / 200)
    if sdk:
        return {"apps": pages + len(oidc)}
    service = [a for a in oidc if a["kind"] == "service" and a["client_id"]]
    roles = [t for a in service for t in a["roles"]]
    credentials = sum(
        1
        for a in oidc
        if a["grants"]
        and a["client_id"]
        and (
            a["kind"] == "service"
            or (
                a["kind"] == "web"
                and any(g["scopeId"].endswith(".manage") for g in a["grants"])
            )
        )
    )
    return {
        "apps": pages + len(oidc) + credentials,
        "clients": len(service)
        + sum(t in GROUP_TARGETED or t == "APP_ADMIN" for t in roles),
        "api": 1 + sum(t == "CUSTOM" for t in roles),
        "other": math.ceil(n_integrations / INTEGRATIONS_PAGE) + n_integrations,
    }


def analyse(reqs: list[dict]) -> dict[str, Any]:
    """The sync's (or SDK loop's) requests per simulator bucket, token calls
    apart, and the second client's."""
    ours = [
        r
        for r in reqs
        if DRAIN_MARK not in (r["query"] or "")
        and r["path"] != "/oauth2/v1/token"
        and not r["path"].startswith("/__sim__")
    ]
    drain = [r for r in reqs if DRAIN_MARK in (r["query"] or "")]
    by_bucket: dict[str, int] = {}
    for r in ours:
        by_bucket[r["bucket"]] = by_bucket.get(r["bucket"], 0) + 1
    return {
        "by_bucket": by_bucket,
        "token_calls": sum(1 for r in reqs if r["path"] == "/oauth2/v1/token"),
        "r429": sum(1 for r in ours if r["status"] == 429),
        "failed": sum(1 for r in ours if r["status"] >= 400 and r["status"] != 429),
        "drain_requests": len(drain),
        "drain_429": sum(1 for r in drain if r["status"] == 429),
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
        limits = sim.limits(args.limit, args.window)["limits"]
        minimum = stated_minimum(sim.control.state(), args.integrations, sdk)
        drainer = Drainer(sim.url, limits["apps"] // 2, args.window) if drain else None
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
    made = stats["by_bucket"]
    eff_share = share if share is not None else 1.0
    windows: dict[str, int] = {}
    for bucket, needed in minimum.items():
        budget = max(1, math.floor(limits[bucket] * eff_share + 1e-9))
        if drain and bucket == "apps":
            budget = min(budget, limits["apps"] - limits["apps"] // 2)
        windows[bucket] = math.ceil(needed / budget)
    busiest = max(windows, key=lambda b: windows[b])
    floor = (windows[busiest] - 1) * args.window
    times = stats.pop("times")
    used, gap = windows_touched(times, args.window)
    row: dict[str, Any] = {
        "scenario": name,
        "share": share,
        "drain": drain,
        "min_by_bucket": minimum,
        "made_by_bucket": made,
        "windows_by_bucket": windows,
        "limits": {b: limits[b] for b in minimum},
        "busiest_bucket": busiest,
        "calls_equal_minimum": made == minimum,
        "token_calls": stats["token_calls"],
        "r429": stats["r429"],
        "failed": stats["failed"],
        "errors": errors,
        "windows_min": windows[busiest],
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
    for bucket in BUCKETS:  # "made/minimum" per bucket, for the table
        if bucket in minimum or bucket in made:
            row[bucket] = f"{made.get(bucket, 0)}/{minimum.get(bucket, 0)}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--apps", type=int, default=100, help="generated apps (~1%% not OIDC)"
    )
    parser.add_argument("--other", type=int, default=0, help="more SAML apps")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="apps bucket per window (default: Okta's 100, as every other bucket)",
    )
    parser.add_argument("--window", type=float, default=5.0, help="window seconds (W)")
    parser.add_argument("--skip-sdk", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument("--tag", default="", help="save as sync_floor-<tag>-*.json")
    args = parser.parse_args()

    wd = c.workdir("floor")
    seed = c.write_seed(wd, args.apps, args.other, generated=True)
    args.integrations = len(json.loads(seed.read_text()).get("api_services", []))
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
        print(c.table(rows[-1:], ["scenario", *BUCKETS, "r429", "wall_s", "floor_s"]))
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
                and r["calls_equal_minimum"]
                and r["token_calls"] <= 1
            )
    cols = [
        "scenario",
        *BUCKETS,
        "token_calls",
        "r429",
        "failed",
        "errors",
        "busiest_bucket",
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
        f"{args.apps} generated apps (+{args.other} SAML), buckets per W="
        f"{args.window:g} s window: {rows[0]['limits']}; requests made/minimum; "
        f"load {c.load()['uptime']}"
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

"""Print the latest result of every benchmark as Markdown tables (from
``bench/results/<name>-latest.json``), for bench/README.md.

    .venv/bin/python bench/report.py
"""

from __future__ import annotations

import json

import common as c


def _load(name: str) -> dict | None:
    path = c.RESULTS / f"{name}-latest.json"
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    for name in ("sync_floor", "sync_floor-n1000-buckets"):
        _floor(_load(name))
    _rest()


def _floor(floor: dict | None) -> None:
    if floor:
        a = floor["args"]
        rows = floor["rows"]
        if "min_by_bucket" not in rows[0]:
            return  # a result from before the per-bucket minimum
        print(
            f"### 1-2. Full sync vs the floor, and the Okta SDK loop\n\n"
            f"{a['apps']} generated apps (+{a['other']} SAML), buckets per "
            f"W = {a['window']:g} s window: {rows[0]['limits']}; requests "
            f"made/minimum per bucket; load {floor['load']['loadavg']}\n"
        )
        print(
            c.table(
                rows,
                [
                    "scenario",
                    "apps",
                    "clients",
                    "api",
                    "other",
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
                ],
            )
        )
        print()


def _rest() -> None:
    scale = _load("sync_scale")
    if scale:
        print(
            f"### 3. Unthrottled throughput and memory\n\nload {scale['load']['loadavg']}\n"
        )
        print(
            c.table(
                scale["rows"],
                [
                    "n",
                    "run",
                    "seconds",
                    "requests",
                    "req_per_s",
                    "ms_per_app",
                    "peak_rss_mib",
                    "data_inserted",
                    "data_updated",
                    "bookkeeping_written",
                ],
            )
        )
        print()
        for k, v in scale["summary"].items():
            print(f"- {k}: {v}")
        print()
    incr = _load("incremental")
    if incr:
        print(f"### 4. Incremental sync\n\nload {incr['load']['loadavg']}\n")
        print(
            c.table(
                [incr["row"]],
                [
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
                ],
            )
        )
        print()
    pages = _load("pages")
    if pages:
        a = pages["args"]
        print(
            f"### 5. Pages at scale\n\n{a['apps']} apps, {a['grants']} grants, "
            f"{a['audit']} audit rows, {a['repeats']} timed requests per page; "
            f"load {pages['load']['loadavg']}\n"
        )
        print(
            c.table(
                pages["rows"],
                [
                    "db",
                    "page",
                    "p50_ms",
                    "p95_ms",
                    "target_ms",
                    "met",
                    "queries",
                    "queries_small",
                    "peak_mib",
                ],
            )
        )
        for backend, out in pages["results"].items():
            print(
                f"\n- {backend}: seeding apps+grants {out['seed_apps_grants_seconds']:.0f} s,"
                f" audit rows {out['seed_audit_seconds']:.0f} s; chain verify "
                f"{out.get('verify')}; export peak big/small "
                f"{out['export']['peak_ratio']:.2f}"
            )
        print()
    fix = _load("pages-scopefix")
    if fix:
        rows = [r for r in fix["rows"] if r["page"].startswith("scope view")]
        a = fix["args"]
        print(
            f"Scope view re-measured on the most-held seeded scope ({a['apps']} apps, "
            f"{a['grants']} grants, {a['audit']} audit rows; the 1,000,000-row run "
            f"above asked for okta.users.read, which the seed gives no app); "
            f"load {fix['load']['loadavg']}:\n"
        )
        print(
            c.table(
                rows,
                [
                    "db",
                    "page",
                    "p50_ms",
                    "p95_ms",
                    "target_ms",
                    "met",
                    "queries",
                    "queries_small",
                ],
            )
        )
        print()
    inter = _load("interactive")
    if inter:
        a = inter["args"]
        print(
            f"### 6. Interactive grant/revoke during a full sync\n\nN = {a['apps']}, "
            f"apps bucket {a['limit']} per {a['window']:g} s, sync share {a['share']}; "
            f"load {inter['load']['loadavg']}\n"
        )
        print(
            c.table(
                inter["rows"],
                [
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
                ],
            )
        )


if __name__ == "__main__":
    main()

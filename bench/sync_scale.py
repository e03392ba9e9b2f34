"""Benchmark 3: unthrottled full-sync throughput and memory, beside the Okta SDK
loop and grantsconsole's own client without a database.

For each N: the simulator (own process) with N OIDC apps (+1% non-OIDC) and rate
limits off; a fresh migrated SQLite database; the real ``manage.py sync_grants
--full`` in a subprocess (``bench/sync_child.py``) twice: the first run fills
the empty database, the second finds nothing changed. Measured: wall time of the
command, Okta requests and requests/s, peak RSS of the sync process
(``os.wait4`` rusage), rows written (statements counted by a DB execute
wrapper; "data" = apps, grants, audit rows, checkpoints; "bookkeeping" =
SyncRun, SyncLock, LogCursor). Then ``bench/sdk_loop.py`` (Okta's SDK, same
reads, no DB) and ``bench/client_loop.py`` (our OktaClient, same reads, no DB).
``cpu_seconds`` is each process's own CPU time over the timed span. Targets:
peak RSS at the largest N <= 1.5 x at the smallest; the sync faster than the
SDK loop; the second sync writes 0 rows; the sync's CPU at most 2 x the client
loop's.

    .venv/bin/python bench/sync_scale.py                    # short: N = 200, 1000
    .venv/bin/python bench/sync_scale.py --sizes 1000 10000 # the issue's sizes
    .venv/bin/python bench/sync_scale.py --sizes 10000 --no-sdk  # CPU: sync vs loop
"""

from __future__ import annotations

import argparse
import shutil
from typing import Any

import common as c

DATA_TABLES = (
    "grants_oktaapp",
    "grants_scopegrant",
    "grants_auditevent",
    "grants_auditcheckpoint",
)


def split_writes(writes: dict[str, dict[str, int]]) -> dict[str, int]:
    data = {t: w for t, w in writes.items() if t in DATA_TABLES}
    other = {t: w for t, w in writes.items() if t not in DATA_TABLES}
    return {
        "data_inserted": sum(w["insert"] for w in data.values()),
        "data_updated": sum(w["update"] + w["delete"] for w in data.values()),
        "bookkeeping_written": sum(sum(w.values()) for w in other.values()),
    }


def one_size(
    n: int, wd: Any, dbs: c.ScratchDbs, sdk: bool = True
) -> list[dict[str, Any]]:
    seed = c.write_seed(wd, n, max(1, n // 100))
    db = dbs.fresh(f"n{n}")
    rows = []
    with c.Sim(seed) as sim:
        sim.unlimited()
        for label in ("ours: 1st sync (empty DB)", "ours: 2nd sync (no change)"):
            before = c.load()["loadavg"]
            res = c.run_child(c.sync_cmd("full"), c.sync_env(db, sim.url, 1.0))
            if res.returncode != 0:
                raise SystemExit(res.stderr[-3000:])
            r = res.result
            secs = r["seconds"]
            rows.append(
                {
                    "n": n,
                    "run": label,
                    "seconds": secs,
                    "cpu_seconds": r["cpu_seconds"],
                    "requests": r["okta_requests"],
                    "req_per_s": r["okta_requests"] / secs,
                    "ms_per_app": 1000 * secs / max(1, r["run"]["apps_done"]),
                    "peak_rss_mib": res.max_rss_mib,
                    "rows_inserted": r["rows_inserted"],
                    **split_writes(r["writes"]),
                    "status": r["run"]["status"],
                    "load": before,
                    "writes": r["writes"],
                }
            )
            print(
                c.table(rows[-1:], ["n", "run", "seconds", "requests", "peak_rss_mib"])
            )
        loops = [("our OktaClient loop (no DB)", "client_loop.py")]
        if sdk:
            loops.insert(0, ("Okta SDK loop (no DB)", "sdk_loop.py"))
        for label, script in loops:
            before = c.load()["loadavg"]
            res = c.run_child(
                [c.PYTHON, str(c.ROOT / "bench" / script), "--org-url", sim.url],
                c.base_env(),
            )
            r = res.result
            # The SDK loop does not count: every app listed, OIDC grants read.
            reqs = r.get("requests") or (
                r.get("apps", 0) + (sim.app_count() + 199) // 200
            )
            rows.append(
                {
                    "n": n,
                    "run": label,
                    "seconds": r.get("seconds"),
                    "cpu_seconds": r.get("cpu_seconds"),
                    "requests": reqs,
                    "req_per_s": reqs / r["seconds"] if r.get("seconds") else None,
                    "ms_per_app": 1000 * r["seconds"] / max(1, r.get("apps", 1)),
                    "peak_rss_mib": res.max_rss_mib,
                    "errors": r.get("errors"),
                    "load": before,
                }
            )
            print(
                c.table(rows[-1:], ["n", "run", "seconds", "requests", "peak_rss_mib"])
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument(
        "--no-sdk", action="store_true", help="skip the Okta SDK loop (slow)"
    )
    args = parser.parse_args()
    wd = c.workdir("scale")
    dbs = c.ScratchDbs(wd)
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        print(f"... N = {n}", flush=True)
        rows.extend(one_size(n, wd, dbs, sdk=not args.no_sdk))
    first = {r["n"]: r for r in rows if r["run"].startswith("ours: 1st")}
    second = {r["n"]: r for r in rows if r["run"].startswith("ours: 2nd")}
    sdk = {r["n"]: r for r in rows if r["run"].startswith("Okta SDK")}
    loop = {r["n"]: r for r in rows if r["run"].startswith("our OktaClient")}
    small, large = min(args.sizes), max(args.sizes)
    summary: dict[str, Any] = {
        # CPU of the sync process over the client loop's, same reads (target <= 2).
        "sync_cpu_over_client_loop": {
            n: {
                "first": first[n]["cpu_seconds"] / loop[n]["cpu_seconds"],
                "second": second[n]["cpu_seconds"] / loop[n]["cpu_seconds"],
            }
            for n in args.sizes
        },
        "rss_ratio_largest_to_smallest": first[large]["peak_rss_mib"]
        / first[small]["peak_rss_mib"],
        "rss_target_met": first[large]["peak_rss_mib"]
        <= 1.5 * first[small]["peak_rss_mib"],
        "second_sync_data_rows": {
            n: second[n]["data_inserted"] + second[n]["data_updated"]
            for n in args.sizes
        },
    }
    if sdk:
        summary["sync_over_sdk"] = {
            n: {
                "first": first[n]["seconds"] / sdk[n]["seconds"],
                "second": second[n]["seconds"] / sdk[n]["seconds"],
            }
            for n in args.sizes
        }
        summary["faster_than_sdk"] = all(
            second[n]["seconds"] < sdk[n]["seconds"] for n in args.sizes
        )
    cols = [
        "n",
        "run",
        "seconds",
        "cpu_seconds",
        "requests",
        "req_per_s",
        "ms_per_app",
        "peak_rss_mib",
        "data_inserted",
        "data_updated",
        "bookkeeping_written",
    ]
    print()
    print(f"rate limits off; load {c.load()['uptime']}")
    print(c.table(rows, cols))
    print()
    for k, v in summary.items():
        print(f"{k}: {v}")
    path = c.save(
        "sync_scale",
        {"args": vars(args), "load": c.load(), "rows": rows, "summary": summary},
    )
    print(f"\nJSON: {path}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()

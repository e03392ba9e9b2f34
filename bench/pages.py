"""Benchmark 5: console pages at scale on SQLite and PostgreSQL, with Django admin's
changelist of the same apps table as the baseline.

For each backend a subprocess (``bench/pages_child.py``) migrates a scratch
database (a fresh SQLite file; a throwaway PostgreSQL cluster started like
``.ci/with-services`` on a free port), seeds a small dataset and records every
page's query count, seeds the full dataset (apps, grants, hash-chained audit
rows: see pages_child's docstring for how), signs in through the real Okta
flow against a demo simulator, and measures p50/p95 server time (wall clock
around Django's test client, in process) and the query count of: the apps list
(first page, last page, sorted by grant count and by manage grants), one app,
the scopes list, one scope's view, the matrix, the audit page (first, deep,
filtered deep, by app id, by a label part many apps share, with intent rows), one
audit row's page, and Django admin's changelist (first and last page). Then a CSV export of 10% of the audit rows
(100,000 at the full size) and of 1%, with ``tracemalloc`` peak memory: flat
means the big export's peak is close to the small one's.

Targets: p95 <= 100 ms list and detail pages and never above the admin
changelist's p95 in the same run, <= 150 ms audit pages; query counts
independent of rows; export memory flat.

    .venv/bin/python bench/pages.py                       # short: 200,000 audit rows
    .venv/bin/python bench/pages.py --apps 20000 --grants 200000 --audit 5000000
        [--verify] [--backends sqlite postgres] [--repeats 30]
"""

from __future__ import annotations

import argparse
import shutil
from typing import Any

import common as c

LIST_DETAIL = (
    "apps list",
    "one app",
    "scopes list",
    "scope view",
    "scopes matrix",
    "unused and reducible",
)


def target_of(name: str) -> float | None:
    if name.startswith("admin"):
        return None
    if name.startswith("audit"):
        return 150.0
    return 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--grants", type=int, default=50000)
    parser.add_argument("--audit", type=int, default=200000)
    parser.add_argument(
        "--usage-events",
        type=int,
        default=10_000_000,
        help="System Log events rolled up into daily usage rows",
    )
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--verify", action="store_true", help="verify the audit chain")
    parser.add_argument("--tag", default="", help="save as pages-<tag>-*.json")
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "postgres"],
        choices=["sqlite", "postgres"],
    )
    args = parser.parse_args()
    wd = c.workdir("pages")
    results: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    with c.Sim("demo") as sim:
        sim.unlimited()
        for backend in args.backends:
            pg = None
            if backend == "postgres":
                pg = c.Postgres(wd)
                url = pg.url
            else:
                url = f"sqlite:///{wd / 'pages.sqlite3'}"
            print(f"... {backend}", flush=True)
            try:
                cmd = [
                    c.PYTHON,
                    str(c.ROOT / "bench" / "pages_child.py"),
                    "--apps",
                    str(args.apps),
                    "--grants",
                    str(args.grants),
                    "--audit",
                    str(args.audit),
                    "--repeats",
                    str(args.repeats),
                    "--usage-events",
                    str(args.usage_events),
                ] + (["--verify"] if args.verify else [])
                before = c.load()
                # Persistent connections, as production runs (Procfile, C.2):
                # without them each PostgreSQL page paid for a new connection.
                env = c.base_env(
                    DATABASE_URL=url, OKTA_ORG_URL=sim.url, DB_CONN_MAX_AGE="60"
                )
                res = c.run_child(cmd, env)
            finally:
                if pg:
                    pg.stop()
            if res.returncode != 0 or not res.result:
                print(res.stderr[-4000:])
                raise SystemExit(f"{backend}: pages child failed")
            out = res.result
            out["load_before"] = before
            out["child_peak_rss_mib"] = res.max_rss_mib
            results[backend] = out
            # The admin changelist's p95 in this run: list and detail pages
            # must not be slower than Django's own list of the same table.
            admin_p95 = max(
                (p["p95_ms"] for n, p in out["pages"].items() if n.startswith("admin")),
                default=None,
            )
            for name, p in out["pages"].items():
                target = target_of(name)
                within_admin = (
                    None
                    if target is None or admin_p95 is None or name.startswith("audit")
                    else p["p95_ms"] <= admin_p95
                )
                rows.append(
                    {
                        "db": backend,
                        "page": name,
                        "status": p["status"],
                        "p50_ms": p["p50_ms"],
                        "p95_ms": p["p95_ms"],
                        "target_ms": target,
                        "met": (
                            p["p95_ms"] <= target and within_admin is not False
                            if target
                            else None
                        ),
                        "le_admin": within_admin,
                        "queries": p["queries"],
                        "queries_small": p["queries_small"],
                        "same_queries": p["queries"] == p["queries_small"],
                    }
                )
            ex = out["export"]
            for size in ("small", "big"):
                rows.append(
                    {
                        "db": backend,
                        "page": f"CSV export {ex[size]['rows']} rows",
                        "status": ex[size]["status"],
                        "p50_ms": 1000 * ex[size]["seconds"],
                        "peak_mib": ex[size]["peak_mib"],
                    }
                )
            print(
                c.table(
                    [r for r in rows if r["db"] == backend],
                    ["page", "p95_ms", "queries"],
                )
            )
    cols = [
        "db",
        "page",
        "status",
        "p50_ms",
        "p95_ms",
        "target_ms",
        "met",
        "le_admin",
        "queries",
        "queries_small",
        "same_queries",
        "peak_mib",
    ]
    print()
    print(
        f"{args.apps} apps, {args.grants} grants, {args.audit} audit rows, "
        f"{args.usage_events} usage events; "
        f"load {c.load()['uptime']}"
    )
    print(c.table(rows, cols))
    for backend, out in results.items():
        print(
            f"{backend}: seeding apps+grants {out['seed_apps_grants_seconds']:.1f} s, "
            f"audit {out['seed_audit_seconds']:.1f} s, usage "
            f"{out['seed_usage_seconds']:.1f} s "
            f"({out['large']['daily_usage_rows']} daily rows); "
            f"verify {out.get('verify')}; "
            f"export peak ratio big/small {out['export']['peak_ratio']:.2f}"
        )
    path = c.save(
        "pages" + (f"-{args.tag}" if args.tag else ""),
        {"args": vars(args), "load": c.load(), "rows": rows, "results": results},
    )
    print(f"\nJSON: {path}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()

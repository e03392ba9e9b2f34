"""Benchmark: usage ingestion (parse, map, roll up) and its polling share.

1. Throughput and memory. A child process per size N (fresh scratch SQLite
   database) records N System Log events the way ``usage.ingest`` does, page by
   page (1,000 events a page, one transaction each): the JSON body of each page
   is decoded, every event parsed (``okta.models.parse_log_event``), read as
   evidence and rolled up (``usage.ingest.record_events``). Events are
   generated lazily in the simulator's shapes (``app.oauth2.token.grant.
   access_token`` with ``debugData.grantedScopes``, writes with ``client.id``,
   ``no_matching_scope`` failures, a few unusable events) for 5,000 apps over
   90 days. Reported: events per minute, peak RSS (``os.wait4``) and peak
   ``tracemalloc`` at each N: memory must not grow with N.
2. Polling within the share. The simulator in this process serves M such
   token-grant events from its System Log with Okta's ``/api/v1/logs`` limit
   (120 a window; windows shortened to 5 s to keep the run short) and the real
   usage client (``okta_clients.usage_client``, ``USAGE_LOGS_BUCKET_SHARE``
   0.25) runs ``usage.ingest.ingest`` until caught up. Reported: requests,
   429s, the most requests in one window of the simulator against the share's
   budget, events per minute through the real HTTP path.

    .venv/bin/python bench/usage_ingest.py                 # 50k and 200k; M = 60k
    .venv/bin/python bench/usage_ingest.py --sizes 50000 --poll 20000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import common as c  # noqa: E402

APPS = 5000
PAGE = 1000
SCOPES = [
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.logs.read",
    "okta.roles.read",
    "okta.roles.manage",
    "okta.policies.read",
]
WRITES = [
    "user.lifecycle.create",
    "user.lifecycle.deactivate",
    "group.user_membership.add",
    "application.lifecycle.update",
    "policy.rule.update",
    "app.oauth2.admin.consent.grant",
]


def events(n: int, seed: int = 7):
    """``n`` Okta-shaped events (dicts), in published order over 90 days."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    step = timedelta(days=90) / max(n, 1)
    for i in range(n):
        client = f"0oaBench{rng.randrange(APPS):08d}"
        at = (start + step * i).isoformat(timespec="milliseconds")
        roll = rng.random()
        debug: dict[str, Any] = {
            "requestId": f"req{i}",
            "requestUri": "/oauth2/v1/token",
        }
        event = {
            "uuid": f"bench-{seed}-{i:012d}",
            "published": at.replace("+00:00", "Z"),
            "version": "0",
            "severity": "INFO",
            "displayMessage": "OAuth2 access token is granted",
            "actor": {
                "id": client,
                "type": "PublicClientApp",
                "alternateId": client,
                "displayName": "Bench app",
                "detailEntry": None,
            },
            "client": {
                "id": None,
                "ipAddress": "127.0.0.1",
                "zone": "null",
                "device": "Unknown",
                "userAgent": {"rawUserAgent": "bench"},
            },
            "outcome": {"result": "SUCCESS", "reason": None},
            "transaction": {"type": "WEB", "id": f"req{i}", "detail": {}},
            "debugContext": {"debugData": debug},
            "target": [
                {
                    "id": client,
                    "type": "PublicClientApp",
                    "alternateId": client,
                    "displayName": "Bench app",
                    "detailEntry": None,
                }
            ],
        }
        if roll < 0.70:
            granted = rng.sample(SCOPES, rng.randint(1, 4))
            event["eventType"] = "app.oauth2.token.grant.access_token"
            debug.update(
                grantedScopes=", ".join(granted),
                requestedScopes=", ".join(granted),
                grantType="client_credentials",
                clientAuthType="private_key_jwt",
            )
        elif roll < 0.95:
            event["eventType"] = rng.choice(WRITES)
            event["client"]["id"] = client
            event["actor"]["type"] = "PublicClientAppEntity"
        elif roll < 0.98:
            event["eventType"] = "app.oauth2.token.grant.access_token"
            event["outcome"] = {"result": "FAILURE", "reason": "no_matching_scope"}
            debug.update(
                requestedScopes="okta.roles.manage", grantType="client_credentials"
            )
        else:  # unusable: a write made outside OAuth, or scopes in an odd shape
            event["eventType"] = rng.choice(
                ["user.lifecycle.create", "app.oauth2.token.grant.access_token"]
            )
            debug["grantedScopes"] = {"unexpected": True}
        yield event


def pages(n: int):
    batch = []
    for event in events(n):
        batch.append(event)
        if len(batch) == PAGE:
            yield json.dumps(batch).encode()
            batch = []
    if batch:
        yield json.dumps(batch).encode()


def child(n: int, trace: bool) -> None:
    """Record ``n`` events into the configured database; print BENCH-RESULT.
    With ``trace``, ``tracemalloc`` runs too (it slows Python down, so the
    throughput figure comes from the run without it)."""
    import tracemalloc

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")
    django.setup()
    from django.db import transaction

    from grantsconsole.okta.models import ParseError, parse_log_event, unreadable_event
    from grantsconsole.usage.ingest import record_events
    from grantsconsole.usage.models import DailyUsage

    if trace:
        tracemalloc.start()
    today = datetime.now(UTC).date()
    recorded = skipped = 0
    spent = 0.0  # generating the pages is not ingestion: not timed
    for body in pages(n):
        started = time.perf_counter()
        parsed, bad = [], []
        for raw in json.loads(body):
            try:
                parsed.append(parse_log_event(raw))
            except ParseError as exc:
                bad.append(unreadable_event(raw, exc))
        with transaction.atomic():
            tally = record_events(parsed, bad, today=today)
        spent += time.perf_counter() - started
        recorded += tally.recorded
        skipped += tally.skipped
    _, peak = tracemalloc.get_traced_memory()
    print(
        "BENCH-RESULT "
        + json.dumps(
            {
                "events": n,
                "seconds": round(spent, 2),
                "events_per_minute": round(n / spent * 60),
                "recorded": recorded,
                "skipped": skipped,
                "rollup_rows": DailyUsage.objects.count(),
                "tracemalloc_peak_mb": round(peak / 2**20, 1) if trace else None,
            }
        )
    )


def poll(m: int, share: float, window: float, limit: int = 120) -> dict[str, Any]:
    """Serve ``m`` token-grant events from an in-process simulator and ingest
    them through the real client and pacing."""
    import django

    os.environ["USAGE_LOGS_BUCKET_SHARE"] = str(share)
    os.environ["USAGE_FIRST_LOOKBACK_DAYS"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")
    from grantsconsole.oktasim.server import SimServer
    from grantsconsole.oktasim.state import Actor

    server = SimServer(host="127.0.0.1", port=0).start()
    os.environ["OKTA_ORG_URL"] = server.url
    django.setup()
    from grantsconsole import okta_clients
    from grantsconsole.usage import ingest

    org = server.sim.org
    rng = random.Random(3)
    with org.lock:
        for i in range(m):
            cid = f"0oaBench{rng.randrange(APPS):08d}"
            granted = ", ".join(rng.sample(SCOPES, rng.randint(1, 4)))
            org.log(
                "app.oauth2.token.grant.access_token",
                "OAuth2 access token is granted",
                Actor(cid, "PublicClientApp", cid, "Bench app"),
                ((cid, "PublicClientApp", cid, "Bench app"),),
                request_uri="/oauth2/v1/token",
                debug_data={
                    "grantedScopes": granted,
                    "requestedScopes": granted,
                    "grantType": "client_credentials",
                    "clientAuthType": "private_key_jwt",
                },
                published=org.clock.now() - 3600 + i * 3600 / m,
            )
    server.sim.limiter.configure({"logs": limit}, window_seconds=window)
    client = okta_clients.usage_client()
    started = time.perf_counter()
    runs = recorded = 0
    while True:
        runs += 1
        result = ingest.ingest(client, max_pages=10_000)
        recorded += result.recorded
        if result.caught_up or result.message:
            break
    seconds = time.perf_counter() - started
    logs = [r for r in server.sim.requests_log if r["path"] == "/api/v1/logs"]
    # The simulator's windows: one starts on the whole second of the first
    # request after the last one ended.
    most, count, end = 0, 0, -1.0
    for r in logs:
        if r["time"] >= end:
            end, count = math.floor(r["time"]) + window, 0
        count += 1
        most = max(most, count)
    server.stop()
    return {
        "events": m,
        "recorded": recorded,
        "seconds": round(seconds, 1),
        "events_per_minute": round(recorded / seconds * 60),
        "requests": len(logs),
        "429s": sum(1 for r in logs if r["status"] == 429),
        "most_in_a_window": most,
        "logs_limit": limit,
        "budget_per_window": int(limit * share),
        "window_seconds": window,
        "message": result.message,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--poll", type=int, default=60_000)
    parser.add_argument("--share", type=float, default=0.25)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--logs-limit", type=int, default=120)
    parser.add_argument("--child", type=int)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--poll-child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.trace)
        return
    if args.poll_child:
        print(
            "BENCH-RESULT "
            + json.dumps(poll(args.poll, args.share, args.window, args.logs_limit))
        )
        return
    wd = c.workdir("usage")
    dbs = c.ScratchDbs(wd)
    rows = []
    for n in args.sizes:
        row: dict[str, Any] = {}
        for trace in (False, True):
            env = c.base_env(DATABASE_URL=dbs.fresh(f"n{n}-{trace}"))
            cmd = [c.PYTHON, __file__, "--child", str(n)] + (
                ["--trace"] if trace else []
            )
            res = c.run_child(cmd, env)
            if res.returncode != 0:
                raise SystemExit(res.stderr[-3000:])
            if trace:
                row["tracemalloc_peak_mb"] = res.result["tracemalloc_peak_mb"]
            else:
                row = {**res.result, "peak_rss_mb": round(res.max_rss_mib, 1)}
        rows.append(row)
    print(
        c.table(
            rows,
            [
                "events",
                "seconds",
                "events_per_minute",
                "recorded",
                "skipped",
                "rollup_rows",
                "tracemalloc_peak_mb",
                "peak_rss_mb",
            ],
        )
    )
    env = c.base_env(DATABASE_URL=dbs.fresh("poll"))
    cmd = [
        c.PYTHON,
        __file__,
        "--poll-child",
        "--poll",
        str(args.poll),
        "--share",
        str(args.share),
        "--window",
        str(args.window),
    ]
    res = c.run_child(cmd, env)
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    polled = res.result
    print(
        c.table(
            [polled],
            [
                "events",
                "recorded",
                "seconds",
                "events_per_minute",
                "requests",
                "429s",
                "most_in_a_window",
                "budget_per_window",
                "window_seconds",
            ],
        )
    )
    c.save("usage_ingest", {"ingest": rows, "poll": polled, "load": c.load()})


if __name__ == "__main__":
    main()

"""One database backend of the pages benchmark (``bench/pages.py`` runs this in a
subprocess per backend, with ``DATABASE_URL`` and ``OKTA_ORG_URL`` set).

Steps: ``migrate``; seed a small dataset and measure every page's query count;
seed up to the full size and measure server time (p50/p95 of the wall clock
around Django's test client, in process) and query counts again; export CSV with ``tracemalloc`` for peak memory.

Seeding (the fastest honest path):

* apps and grants with ``bulk_create`` (plain rows, as a sync would leave them);
* audit rows: ``AuditEvent.objects.bulk_create`` is refused by design (rows are
  appended one by one through ``audit.record``). Appending 10**6 rows that way
  would take an hour, so rows are built in order here with the product's own
  hashing: ``seq`` 1, 2, 3 ..., ``prev_hash`` = the previous ``row_hash``,
  ``row_hash = audit.compute_hash(prev_hash, row)``, ``row_mac = audit._mac(...)``,
  then inserted in batches of 5,000 with plain INSERTs (SQLite) or COPY
  (PostgreSQL), which the append-only trigger allows (it refuses UPDATE/DELETE). ``audit.checkpoint()`` then signs the head and
  ``audit.verify()`` (``--verify``) checks the whole chain: it must report ok.

Sign-in: the real flow (``tests/accounts/flow.py``: console -> simulator's
``/oauth2/v1/authorize`` and login form -> callback) as the demo Super Admin.
Django admin's changelist (bench-only ``bench/urls_admin.py``) uses a Django
superuser signed in with ``force_login``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from grantsconsole.grants import audit  # noqa: E402
from grantsconsole.grants.models import (  # noqa: E402
    AuditEvent,
    OktaApp,
    ScopeGrant,
    SyncRun,
)
from grantsconsole.okta import scope_catalog  # noqa: E402

TYPES = ["web", "browser", "native", "service"]
ACTORS = [
    "super.admin@example.com",
    "org.admin@example.com",
    "worker",
    "someone@example.com",
]
AUDIT_COLUMNS = (*audit.HASHED_FIELDS, "prev_hash", "row_hash", "row_mac")
EXPORT_ACTION = "sync"  # 10% of the audit rows: the big export
SMALL_EXPORT_ACTION = "sign_out"  # 1%: the small export (memory must stay flat)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(q * len(s) + 0.999999) - 1))] if s else 0.0


class Seeder:
    """Adds apps, grants and audit rows up to the requested totals."""

    def __init__(self) -> None:
        self.rng = random.Random(5)
        scopes = [s.name for s in scope_catalog.all()]
        self.scopes = scopes[:60] if len(scopes) >= 60 else scopes
        self.apps = 0
        self.grants = 0
        self.audit = 0
        self.prev_hash = audit.GENESIS_HASH
        self.app_pks: list[int] = []
        self.usage_apps = 0
        self.usage_rows = 0
        self.t0 = datetime.now(UTC) - timedelta(days=90)

    def seed_apps(self, total: int, grants_total: int) -> None:
        now = datetime.now(UTC)
        new = []
        for i in range(self.apps, total):
            new.append(
                OktaApp(
                    okta_id=f"0oabench{i:012d}",
                    label=f"Bench {TYPES[i % 4]} app {i:05d}",
                    name="oidc_client",
                    client_id=f"0oabench{i:012d}",
                    application_type=TYPES[i % 4],
                    status="ACTIVE" if i % 10 else "INACTIVE",
                    sign_on_mode="OPENID_CONNECT",
                    okta_created=self.t0,
                    okta_last_updated=self.t0,
                    grants_state="ok",
                    last_synced_at=now,
                )
            )
        OktaApp.objects.bulk_create(new, batch_size=1000)
        self.apps = total
        self.app_pks = list(OktaApp.objects.order_by("id").values_list("id", flat=True))
        per_app = max(1, grants_total // max(1, total))
        rows = []
        for pk in self.app_pks[len(self.app_pks) - len(new) :]:
            for j, scope in enumerate(self.rng.sample(self.scopes, per_app)):
                revoked = j == per_app - 1 and self.rng.random() < 0.9
                rows.append(
                    ScopeGrant(
                        app_id=pk,
                        scope_id=scope,
                        okta_grant_id=f"oag{pk:08d}{j:04d}",
                        issuer="http://127.0.0.1",
                        source="ADMIN",
                        created=self.t0,
                        first_seen_at=self.t0,
                        last_seen_at=now,
                        granted_by="super.admin@example.com",
                        revoked_at=now if revoked else None,
                        revoked_by="sync" if revoked else "",
                    )
                )
        ScopeGrant.objects.bulk_create(rows, batch_size=2000)
        self.grants = ScopeGrant.objects.count()

    def seed_usage(self, events_total: int, apps_total: int) -> float:
        """Usage evidence for the apps added since the last call, their share of
        ``events_total`` System Log events over 365 days, as the ingestion
        would leave it rolled up; returns the seconds it took.

        Of each app's open grants, 60% are used: issued on about one day in
        eight of the year (a ``DailyUsage`` row per active day, ``events_total``
        spread over the rows), and 70% of the used manage ones also exercised
        by logged writes (the rest are reducible); 40% have no evidence
        (unused). One app in twenty was denied a scope it does not hold. One
        ``ScopeUsage`` row per observed pair; the coverage is 400 days.
        10,000,000 events over 5,000 apps with 50,000 grants make about
        1.2 million daily rows (8 events each).
        """
        from grantsconsole.usage.models import DailyUsage, Observation, ScopeUsage

        started = time.monotonic()
        now = datetime.now(UTC)
        today = now.date()
        share = events_total * (self.apps - self.usage_apps) // max(1, apps_total)
        new_pks = self.app_pks[self.usage_apps : self.apps]
        pairs = list(
            ScopeGrant.objects.filter(app_id__in=new_pks, revoked_at=None)
            .values_list("app__client_id", "scope_id")
            .order_by("app_id", "scope_id")
        )
        used = [p for p in pairs if self.rng.random() < 0.6]
        days_each = 46
        per_row = max(1, share // max(1, len(used) * days_each))
        batch: list[tuple] = []
        latest = []
        table = DailyUsage._meta.db_table
        sql = (
            f"INSERT INTO {table} (client_id, scope_id, day, issued, exercised, "
            "denied) VALUES (%s, %s, %s, %s, %s, %s)"
        )

        def flush() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, batch)
            batch.clear()

        for client_id, scope_id in used:
            exercised = scope_id.endswith(".manage") and self.rng.random() < 0.7
            days = sorted(self.rng.sample(range(365), days_each))
            for back in days:
                batch.append(
                    (
                        client_id,
                        scope_id,
                        (today - timedelta(days=back)).isoformat(),
                        per_row,
                        per_row // 4 if exercised else 0,
                        0,
                    )
                )
            if len(batch) >= 10000:
                flush()
            last = now - timedelta(days=days[0])
            latest.append(
                ScopeUsage(
                    client_id=client_id,
                    scope_id=scope_id,
                    last_issued_at=last,
                    last_exercised_at=last if exercised else None,
                )
            )
        denied = OktaApp.objects.filter(pk__in=new_pks[::20]).values_list(
            "pk", "client_id"
        )
        for pk, client_id in denied:
            batch.append((client_id, "okta.roles.manage", today.isoformat(), 0, 0, 3))
            latest.append(
                ScopeUsage(
                    client_id=client_id,
                    scope_id="okta.roles.manage",
                    last_denied_at=now - timedelta(hours=pk % 48),
                )
            )
        if batch:
            flush()
        ScopeUsage.objects.bulk_create(latest, batch_size=2000, ignore_conflicts=True)
        Observation.objects.update_or_create(
            name="usage",
            defaults={"observed_from": now - timedelta(days=400), "observed_to": now},
        )
        self.usage_apps = self.apps
        self.usage_rows = DailyUsage.objects.count()
        return time.monotonic() - started

    def _action(self, seq: int) -> str:
        if seq % 10 == 0:
            return EXPORT_ACTION
        if seq % 100 == 1:
            return SMALL_EXPORT_ACTION
        return ("external_grant", "grant", "revoke", "sign_in", "external_revoke")[
            seq % 5
        ]

    def seed_audit(self, total: int, span_seconds: float) -> float:
        """Append audit rows up to ``total``; returns the seconds it took.

        Rows are hashed by the product's ``audit.compute_hash`` over an object
        carrying the hashed columns (what ``canonical`` reads), then written with
        plain INSERTs (SQLite ``executemany``) or ``COPY`` (PostgreSQL), 5,000 a
        transaction.
        """
        started = time.monotonic()
        # Continue the chain where it ends now (sign-ins append rows too).
        last = AuditEvent.objects.order_by("-seq").values("seq", "row_hash").first()
        if last:
            self.audit, self.prev_hash = last["seq"], last["row_hash"]
        created_field = AuditEvent._meta.get_field("created_at")
        detail_field = AuditEvent._meta.get_field("detail")
        n_apps = len(self.app_pks)
        step = span_seconds / max(1, total)
        batch: list[tuple] = []
        for seq in range(self.audit + 1, total + 1):
            action = self._action(seq)
            pk = (
                self.app_pks[seq % n_apps]
                if action not in ("sync", "sign_in", "sign_out")
                else None
            )
            row = SimpleNamespace(
                seq=seq,
                created_at=self.t0 + timedelta(seconds=seq * step),
                action=action,
                actor_id="00u" + str(seq % 7),
                actor_login=ACTORS[seq % len(ACTORS)],
                app_id=pk,
                app_okta_id=f"0oabench{pk:012d}" if pk else "",
                app_label=f"Bench app {pk}" if pk else "",
                scope_id=self.scopes[seq % len(self.scopes)] if pk else "",
                outcome="success",
                okta_request_id=f"req{seq:010d}",
                detail=audit._normalize_detail({"detected_by": "bench", "n": seq % 13}),
                event_key=None,
                hash_version=1,
            )
            row_hash = audit.compute_hash(self.prev_hash, row)
            values = [getattr(row, f) for f in AUDIT_COLUMNS[:-3]]
            values[1] = created_field.get_db_prep_save(row.created_at, connection)
            if connection.vendor != "postgresql":
                values[11] = detail_field.get_db_prep_save(row.detail, connection)
            else:
                values[11] = json.dumps(row.detail, sort_keys=True)
            batch.append((*values, self.prev_hash, row_hash, audit._mac(row_hash)))
            self.prev_hash = row_hash
            if len(batch) >= 5000:
                self._insert(batch)
                batch = []
        if batch:
            self._insert(batch)
        self.audit = total
        return time.monotonic() - started

    def _insert(self, batch: list[tuple]) -> None:
        table = AuditEvent._meta.db_table
        names = ", ".join(AUDIT_COLUMNS)
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for values in batch:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(AUDIT_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})", batch
                )


def top_scope() -> str:
    """The scope held by the most apps (the heaviest scope page)."""
    from django.db.models import Count

    row = (
        ScopeGrant.objects.filter(revoked_at=None)
        .values("scope_id")
        .annotate(n=Count("id"))
        .order_by("-n", "scope_id")
        .first()
    )
    return row["scope_id"] if row else "okta.users.read"


def sign_in() -> Any:
    from tests.accounts.flow import SUPER, console_client
    from tests.accounts.flow import sign_in as flow_sign_in

    client = console_client()
    response = flow_sign_in(client, SUPER)
    assert response.status_code in (302, 200), response.status_code
    return client


def admin_client() -> Any:
    from django.test import Client

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="127.0.0.1:8000")
    client.force_login(user)
    return client


def fetch(client: Any, url: str) -> tuple[int, int]:
    response = client.get(url)
    if getattr(response, "streaming", False):
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    return response.status_code, size


def measure(client: Any, url: str, repeats: int) -> dict[str, Any]:
    for _ in range(2):
        fetch(client, url)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        status, size = fetch(client, url)
        times.append(time.perf_counter() - t)
    with CaptureQueriesContext(connection) as ctx:
        fetch(client, url)
    return {
        "status": status,
        "bytes": size,
        "p50_ms": 1000 * pct(times, 0.5),
        "p95_ms": 1000 * pct(times, 0.95),
        "queries": len(ctx.captured_queries),
        "sql": [q["sql"][:300] for q in ctx.captured_queries],
    }


def queries_only(client: Any, url: str) -> int:
    fetch(client, url)
    with CaptureQueriesContext(connection) as ctx:
        fetch(client, url)
    return len(ctx.captured_queries)


def export_memory(client: Any, url: str) -> dict[str, Any]:
    """Time (without tracing), then peak traced memory of one streamed export."""
    gc.collect()
    t = time.perf_counter()
    status, size = fetch(client, url)
    seconds = time.perf_counter() - t
    gc.collect()
    tracemalloc.start()
    fetch(client, url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = size  # replaced by the caller with the real row count
    return {
        "status": status,
        "bytes": size,
        "seconds": seconds,
        "peak_mib": peak / 2**20,
        "rows": rows,
    }


def pages(
    app_id: str, deep_page: int, deep_seq: int, admin_deep: int, scope: str
) -> dict[str, str]:
    return {
        "apps list p1": "/apps/",
        "apps list deep": f"/apps/?page={deep_page}",
        "apps list sorted by grants": "/apps/?sort=-grants",
        "apps list sorted by manage grants": "/apps/?sort=-manage",
        "one app": f"/apps/{app_id}/",
        "scopes list": "/scopes/",
        "scope view (most held scope)": f"/scopes/{scope}/",
        "scopes matrix": "/scopes/matrix/",
        "audit p1": "/audit/",
        "audit deep": f"/audit/?before={deep_seq}",
        "audit filtered deep": f"/audit/?action=grant&before={deep_seq}",
        "audit by app id": f"/audit/?app={app_id}",
        # labels are "Bench <type> app 00000"…: "app 01" is in 1,000 of 5,000
        "audit by label part": "/audit/?app=app 01",
        "audit with intents": "/audit/?intents=on",
        "audit row": f"/audit/{deep_seq}/",
        "unused and reducible p1": "/usage/unused/",
        "unused and reducible deep": f"/usage/unused/?page={deep_page}",
        "unused and reducible 365 days": "/usage/unused/?window=365",
        "admin changelist p1 (baseline)": "/admin/grants/oktaapp/",
        "admin changelist deep (baseline)": f"/admin/grants/oktaapp/?p={admin_deep}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--grants", type=int, default=50000)
    parser.add_argument("--audit", type=int, default=200000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--usage-events", type=int, default=10_000_000)
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {"vendor": connection.vendor}
    call_command("migrate", "--noinput", verbosity=0)
    seeder = Seeder()
    SyncRun.objects.create(
        kind="full", status="succeeded", finished_at=datetime.now(UTC), message="bench"
    )
    with override_settings(ROOT_URLCONF="bench.urls_admin"):
        # Small dataset first: query counts must not change with the rows.
        seeder.seed_apps(60, 600)
        seeder.seed_audit(600, 3600)
        seeder.seed_usage(args.usage_events, args.apps)
        console = sign_in()
        admin = admin_client()
        first_app = OktaApp.objects.order_by("id").first().okta_id
        small = {}
        top = top_scope()
        for name, url in pages(first_app, 2, 300, 1, top).items():
            small[name] = queries_only(admin if "admin" in name else console, url)
        out["small"] = {
            "apps": seeder.apps,
            "grants": seeder.grants,
            "audit": seeder.audit,
            "queries": small,
        }

        t = time.monotonic()
        seeder.seed_apps(args.apps, args.grants)
        out["seed_apps_grants_seconds"] = time.monotonic() - t
        out["seed_audit_seconds"] = seeder.seed_audit(args.audit, 90 * 86400)
        out["seed_usage_seconds"] = seeder.seed_usage(args.usage_events, args.apps)
        audit.checkpoint()
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        if args.verify:
            t = time.monotonic()
            result = audit.verify()
            out["verify"] = {
                "ok": result.ok,
                "rows": result.rows,
                "seconds": time.monotonic() - t,
                "problem": str(result.problem or ""),
            }
        out["large"] = {
            "apps": seeder.apps,
            "grants": seeder.grants,
            "audit": seeder.audit,
            "usage_events": args.usage_events,
            "daily_usage_rows": seeder.usage_rows,
        }
        busiest = OktaApp.objects.order_by("-id").first().okta_id
        deep_page = (args.apps + 49) // 50
        deep_seq = max(2, args.audit // 10)
        admin_deep = max(1, (args.apps + 99) // 100 - 1)
        results = {}
        out["scope_view_scope"] = top_scope()
        for name, url in pages(
            busiest, deep_page, deep_seq, admin_deep, out["scope_view_scope"]
        ).items():
            console = sign_in()  # fresh sign-in: no role re-check inside the timing
            results[name] = measure(
                admin if "admin" in name else console, url, args.repeats
            )
            results[name]["url"] = url
            results[name]["queries_small"] = small[name]
            print(
                f"  {connection.vendor}: {name}: {results[name]['p95_ms']:.1f} ms p95, {results[name]['queries']} queries",
                file=sys.stderr,
                flush=True,
            )
        out["pages"] = results
        console = sign_in()
        big = export_memory(console, f"/audit/export.csv?action={EXPORT_ACTION}")
        big["rows"] = AuditEvent.objects.filter(action=EXPORT_ACTION).count()
        little = export_memory(
            console, f"/audit/export.csv?action={SMALL_EXPORT_ACTION}"
        )
        little["rows"] = AuditEvent.objects.filter(action=SMALL_EXPORT_ACTION).count()
        out["export"] = {
            "big": big,
            "small": little,
            "peak_ratio": big["peak_mib"] / max(1e-9, little["peak_mib"]),
        }
    out["db"] = settings.DATABASES["default"]["ENGINE"]
    print("BENCH-RESULT " + json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()

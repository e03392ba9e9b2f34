"""Read-side queries for the console pages: database only, a fixed number of queries.

Every function here issues a bounded number of queries whatever the number of
apps, grants or audit rows (the page budget is 8 queries including the session
and the signed-in user; reliability-and-performance.md C.2). None calls Okta.
Times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from grantsconsole.console.catalog import RANK_RISK, RISK_RANK, get_catalog
from grantsconsole.grants.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditReport,
    OktaApp,
    ScopeGrant,
    SyncRun,
)

OPEN = Q(revoked_at__isnull=True)
APP_SORTS = {
    "label": ("label", "okta_id"),
    "-label": ("-label", "-okta_id"),
    "client_id": ("client_id", "okta_id"),
    "-client_id": ("-client_id", "-okta_id"),
    "grants": ("grant_count", "label", "okta_id"),
    "-grants": ("-grant_count", "label", "okta_id"),
    "manage": ("manage_count", "label", "okta_id"),
    "-manage": ("-manage_count", "label", "okta_id"),
    "synced": ("last_synced_at", "okta_id"),
    "-synced": ("-last_synced_at", "okta_id"),
    "changed": ("last_change_at", "okta_id"),
    "-changed": ("-last_change_at", "okta_id"),
}
EXTERNAL_ACTIONS = ("external_grant", "external_revoke")


# --- the "stale since" banner ------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """How fresh the local state is, from the latest finished syncs.

    ``stale`` is True when the latest finished sync failed; ``since`` is the
    finish time of the last sync that succeeded (None if none in the window);
    ``message`` is the failed run's plain-words message (Okta's answer).
    """

    stale: bool
    since: datetime | None = None
    message: str = ""
    last_run: Any = None


def freshness() -> Freshness:
    """One query: the latest 25 finished syncs, newest first."""
    runs = list(
        SyncRun.objects.exclude(
            status__in=[SyncRun.Status.RUNNING, SyncRun.Status.SKIPPED]
        )
        .order_by("-id")
        .only("id", "kind", "status", "finished_at", "started_at", "message")[:25]
    )
    if not runs:
        return Freshness(stale=False)
    latest = runs[0]
    if latest.status != SyncRun.Status.FAILED:
        return Freshness(stale=False, last_run=latest)
    since = next(
        (
            r.finished_at or r.started_at
            for r in runs
            if r.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
        ),
        None,
    )
    return Freshness(stale=True, since=since, message=latest.message, last_run=latest)


# --- apps ------------------------------------------------------------------------------


@dataclass
class AppFilters:
    """Validated filters of the apps list (see ``forms.AppFilterForm``)."""

    q: str = ""
    app_type: str = ""
    status: str = ""
    holds_scope: str = ""
    holds_manage: bool = False
    changed_days: int | None = None
    unreadable: bool = False
    sort: str = "label"


def _max_risk_expression() -> Case:
    """A CASE giving each open manage grant its risk rank (catalog risk, in SQL)."""
    catalog = get_catalog()
    whens = [
        When(grants__scope_id__in=ids, then=Value(RISK_RANK[risk]))
        for risk, ids in sorted(
            catalog.by_risk.items(), key=lambda kv: -RISK_RANK[kv[0]]
        )
        if ids
    ]
    # An uncatalogued manage scope is "high" (see Catalog.risk).
    whens.append(
        When(grants__scope_id__endswith=".manage", then=Value(RISK_RANK["high"]))
    )
    return Case(*whens, default=Value(0), output_field=IntegerField())


def app_list(filters: AppFilters) -> QuerySet[OktaApp]:
    """Apps (present in Okta, or removed when ``status == "removed"``) with counts.

    Each app carries ``grant_count`` (open grants), ``manage_count`` (open
    ``*.manage`` grants) and ``max_risk_rank`` (0-4, see ``catalog.RISK_RANK``).
    One query per evaluation (plus one COUNT when paginated).
    """
    qs = OktaApp.objects.all()
    if filters.status == "removed":
        qs = qs.filter(removed_at__isnull=False)
    else:
        qs = qs.filter(removed_at__isnull=True)
        if filters.status:
            qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(
            Q(label__icontains=filters.q)
            | Q(client_id__icontains=filters.q)
            | Q(okta_id=filters.q)
        )
    if filters.app_type:
        qs = qs.filter(application_type=filters.app_type)
    if filters.holds_scope:
        qs = qs.filter(
            Exists(
                ScopeGrant.objects.filter(
                    app=OuterRef("pk"), scope_id=filters.holds_scope, revoked_at=None
                )
            )
        )
    if filters.holds_manage:
        qs = qs.filter(
            Exists(
                ScopeGrant.objects.filter(
                    app=OuterRef("pk"), scope_id__endswith=".manage", revoked_at=None
                )
            )
        )
    if filters.changed_days is not None:
        qs = qs.filter(
            last_change_at__gte=timezone.now() - timedelta(days=filters.changed_days)
        )
    if filters.unreadable:
        qs = qs.filter(grants_state=OktaApp.GrantsState.UNKNOWN)
    open_grant = Q(grants__revoked_at__isnull=True)
    qs = qs.annotate(
        grant_count=Count("grants", filter=open_grant),
        manage_count=Count(
            "grants", filter=open_grant & Q(grants__scope_id__endswith=".manage")
        ),
        max_risk_rank=Max(_max_risk_expression(), filter=open_grant),
    )
    return qs.order_by(*APP_SORTS.get(filters.sort, APP_SORTS["label"]))


def risk_of_rank(rank: int | None) -> str:
    """ "low" … "critical" for a rank from ``app_list``; "" for 0/None."""
    return RANK_RISK.get(rank or 0, "")


def app_by_okta_id(okta_id: str) -> OktaApp | None:
    """The app with this Okta id (also a removed one), or None. One query."""
    return OktaApp.objects.filter(okta_id=okta_id).first()


@dataclass
class ScopeRow:
    """One row of an app's grant collection table."""

    scope_id: str
    info: Any  # catalog ScopeInfo or None for an uncatalogued scope
    grant: ScopeGrant | None
    risk: str
    is_manage: bool

    @property
    def granted(self) -> bool:
        return self.grant is not None


@dataclass
class GrantCollection:
    """An app's grant collection laid out for the page.

    ``groups`` is ``[(resource, [ScopeRow])]`` covering every catalog scope;
    ``uncatalogued`` lists held scopes the catalog does not know.
    """

    groups: list[tuple[str, list[ScopeRow]]]
    uncatalogued: list[ScopeRow]
    held: int
    held_manage: int
    max_risk: str
    grants: dict[str, ScopeGrant] = field(default_factory=dict)


def grant_collection(app: OktaApp) -> GrantCollection:
    """Every catalog scope for ``app``, granted or not, plus held unknown scopes.

    One query (the app's open grants).
    """
    catalog = get_catalog()
    grants = {
        g.scope_id: g for g in ScopeGrant.objects.filter(app=app, revoked_at=None)
    }
    groups: list[tuple[str, list[ScopeRow]]] = []
    for resource, infos in catalog.groups:
        rows = [
            ScopeRow(
                scope_id=info.name,
                info=info,
                grant=grants.get(info.name),
                risk=catalog.risk(info.name),
                is_manage=info.kind == "manage",
            )
            for info in infos
        ]
        groups.append((resource, rows))
    uncatalogued = [
        ScopeRow(
            scope_id=scope_id,
            info=None,
            grant=grant,
            risk=catalog.risk(scope_id),
            is_manage=catalog.is_manage(scope_id),
        )
        for scope_id, grant in sorted(grants.items())
        if not catalog.knows(scope_id)
    ]
    manage = [s for s in grants if catalog.is_manage(s)]
    max_rank = max((RISK_RANK.get(catalog.risk(s), 0) for s in manage), default=0)
    return GrantCollection(
        groups=groups,
        uncatalogued=uncatalogued,
        held=len(grants),
        held_manage=len(manage),
        max_risk=RANK_RISK[max_rank],
        grants=grants,
    )


def app_history(app: OktaApp, limit: int = 50) -> list[AuditEvent]:
    """The app's latest audit events, newest first. One query."""
    return list(AuditEvent.objects.filter(app=app).order_by("-seq")[:limit])


# --- scopes ------------------------------------------------------------------------------


def scope_holder_counts() -> dict[str, int]:
    """scopeId → number of present apps holding it. One query."""
    rows = (
        ScopeGrant.objects.filter(revoked_at=None, app__removed_at__isnull=True)
        .values("scope_id")
        .annotate(n=Count("id"))
    )
    return {r["scope_id"]: r["n"] for r in rows}


def scope_holders(scope_id: str) -> list[ScopeGrant]:
    """Open grants of ``scope_id`` on present apps, with their app. One query."""
    return list(
        ScopeGrant.objects.filter(
            scope_id=scope_id, revoked_at=None, app__removed_at__isnull=True
        )
        .select_related("app")
        .order_by("app__label", "app__okta_id")
    )


def apps_without_scope(scope_id: str, q: str = "", limit: int = 200) -> list[OktaApp]:
    """Up to ``limit`` present apps not holding ``scope_id`` (optionally searched).

    One query.
    """
    qs = OktaApp.objects.filter(removed_at__isnull=True).exclude(
        Exists(
            ScopeGrant.objects.filter(
                app=OuterRef("pk"), scope_id=scope_id, revoked_at=None
            )
        )
    )
    if q:
        qs = qs.filter(Q(label__icontains=q) | Q(client_id__icontains=q))
    return list(qs.order_by("label", "okta_id")[:limit])


@dataclass
class MatrixRow:
    """One app of the apps x scope-families matrix; ``cells`` follow ``families``."""

    app: OktaApp
    cells: list[str]  # "" | "read" | "manage" | "self"
    manage_count: int


def matrix(apps: list[OktaApp]) -> tuple[list[str], list[MatrixRow]]:
    """Families (resources) held by any present app, and one row per given app.

    Two queries: the distinct held scopes org-wide, and the grants of ``apps``.
    A cell shows the strongest access the app holds in that family
    (manage > read > self).
    """
    catalog = get_catalog()
    held_scopes = (
        ScopeGrant.objects.filter(revoked_at=None, app__removed_at__isnull=True)
        .values_list("scope_id", flat=True)
        .distinct()
    )
    families = sorted({catalog.resource(s) for s in held_scopes})
    index = {f: i for i, f in enumerate(families)}
    strength = {"": 0, "self": 1, "read": 2, "manage": 3}
    by_app: dict[int, list[str]] = {a.pk: [""] * len(families) for a in apps}
    manage_counts: dict[int, int] = dict.fromkeys(by_app, 0)
    for app_id, scope_id in ScopeGrant.objects.filter(
        app_id__in=list(by_app), revoked_at=None
    ).values_list("app_id", "scope_id"):
        family = catalog.resource(scope_id)
        if family not in index:
            continue
        info = catalog.get(scope_id)
        kind = (
            info.kind
            if info
            else ("manage" if scope_id.endswith(".manage") else "read")
        )
        if kind == "manage":
            manage_counts[app_id] += 1
        cells = by_app[app_id]
        if strength.get(kind, 0) > strength[cells[index[family]]]:
            cells[index[family]] = kind
    rows = [
        MatrixRow(app=a, cells=by_app[a.pk], manage_count=manage_counts[a.pk])
        for a in apps
    ]
    return families, rows


# --- audit --------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    """Validated filters of the audit page (see ``forms.AuditFilterForm``)."""

    app: str = ""  # Okta app id
    scope: str = ""
    actor: str = ""
    action: str = ""
    external_only: bool = False
    date_from: datetime | None = None  # inclusive, UTC
    date_to: datetime | None = None  # exclusive, UTC


def audit_events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit rows matching ``filters``, newest first (by ``seq``). No COUNT anywhere."""
    qs = AuditEvent.objects.all()
    if filters.app:
        qs = qs.filter(app_okta_id=filters.app)
    if filters.scope:
        qs = qs.filter(scope_id=filters.scope)
    if filters.actor:
        qs = qs.filter(Q(actor_login__iexact=filters.actor) | Q(actor_id=filters.actor))
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.external_only:
        qs = qs.filter(action__in=EXTERNAL_ACTIONS)
    if filters.date_from:
        qs = qs.filter(created_at__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(created_at__lt=filters.date_to)
    return qs.order_by("-seq")


@dataclass
class AuditPage:
    """One keyset page: ``rows`` newest first, ``next_before`` the seq to continue
    below (None on the last page), ``newer`` True when rows above ``before`` exist
    (only known when ``before`` was given: the caller links back to page one)."""

    rows: list[AuditEvent]
    next_before: int | None
    before: int | None


def audit_page(filters: AuditFilters, before: int | None, size: int = 50) -> AuditPage:
    """One page of audit rows with ``seq < before`` (keyset, never a COUNT). One query."""
    qs = audit_events(filters)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs[: size + 1])
    next_before = rows[size - 1].seq if len(rows) > size else None
    return AuditPage(rows=rows[:size], next_before=next_before, before=before)


def iter_audit_events(filters: AuditFilters, chunk: int = 2000) -> Iterator[AuditEvent]:
    """Stream every matching audit row, newest first, ``chunk`` rows per fetch."""
    yield from audit_events(filters).iterator(chunk_size=chunk)


@dataclass(frozen=True)
class Verification:
    """The chain's last verification we know of.

    ``source`` is "report" (a stored audit report carried a verification result)
    or "checkpoint" (a signed checkpoint, written only after a clean check).
    """

    ok: bool | None
    at: datetime | None
    rows: int | None
    problem: str
    source: str


def last_verification() -> Verification:
    """Two queries: the newest audit report and the newest checkpoint."""
    report = (
        AuditReport.objects.order_by("-created_at", "-id")
        .only("created_at", "data")
        .first()
    )
    checkpoint = AuditCheckpoint.objects.order_by("-id").first()
    found: list[Verification] = []
    if report is not None and isinstance(report.data, dict):
        v = report.data.get("verification")
        if isinstance(v, dict) and "ok" in v:
            at = _parse_time(v.get("verified_at")) or report.created_at
            found.append(
                Verification(
                    ok=bool(v.get("ok")),
                    at=at,
                    rows=v.get("rows"),
                    problem=str(v.get("problem") or ""),
                    source="report",
                )
            )
    if checkpoint is not None:
        found.append(
            Verification(
                ok=True,
                at=checkpoint.created_at,
                rows=checkpoint.count,
                problem="",
                source="checkpoint",
            )
        )
    if not found:
        return Verification(ok=None, at=None, rows=None, problem="", source="")
    return max(found, key=lambda v: v.at or timezone.now())


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


# --- sync ----------------------------------------------------------------------------------


def sync_runs(limit: int = 30) -> list[SyncRun]:
    """The latest sync runs, newest first. One query."""
    return list(SyncRun.objects.order_by("-id")[:limit])


def running_syncs() -> list[SyncRun]:
    """Syncs still running, newest first (at most 5). One query."""
    return list(
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).order_by("-id")[:5]
    )


# --- reports and charts ------------------------------------------------------------------


def grant_counts_over_time(days: int = 30) -> list[tuple[datetime, int]]:
    """Open-grant count at the end of each of the last ``days`` days (UTC).

    One aggregate query: a grant counts on day D when it was first seen before
    D's end and not revoked by then.
    """
    now = timezone.now()
    today_end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    ends = [today_end - timedelta(days=i) for i in range(days - 1, -1, -1)]
    ends[-1] = now
    aggregates = {
        f"d{i}": Count(
            "id",
            filter=Q(first_seen_at__lt=end)
            & (Q(revoked_at__isnull=True) | Q(revoked_at__gte=end)),
        )
        for i, end in enumerate(ends)
    }
    result = ScopeGrant.objects.filter(app__removed_at__isnull=True).aggregate(
        **aggregates
    )
    return [(end, result[f"d{i}"] or 0) for i, end in enumerate(ends)]


def most_held_manage_scopes(limit: int = 10) -> list[tuple[str, int]]:
    """The ``limit`` manage scopes held by the most present apps. One query."""
    rows = (
        ScopeGrant.objects.filter(
            revoked_at=None, app__removed_at__isnull=True, scope_id__endswith=".manage"
        )
        .values("scope_id")
        .annotate(n=Count("id"))
        .order_by("-n", "scope_id")[:limit]
    )
    return [(r["scope_id"], r["n"]) for r in rows]


def reports(limit: int = 50) -> list[AuditReport]:
    """Stored audit reports, newest first, without their (large) data. One query."""
    return list(
        AuditReport.objects.order_by("-created_at", "-id").defer("data")[:limit]
    )

"""Read-side queries for the console pages: database only, a fixed number of queries.

Every function here issues a bounded number of queries whatever the number of
apps, grants or audit rows (the page budget is 8 queries including the session
and the signed-in user; reliability-and-performance.md C.2). None calls Okta.
Times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from grantsconsole.console.catalog import RANK_RISK, RISK_RANK, get_catalog
from grantsconsole.grants.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditReport,
    AuditVerification,
    OktaApp,
    ScopeGrant,
    SyncRun,
)
from grantsconsole.okta import scopes as scope_catalog

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
    "synced": ("synced_at", "okta_id"),
    "-synced": ("-synced_at", "okta_id"),
    "changed": ("last_change_at", "okta_id"),
    "-changed": ("-last_change_at", "okta_id"),
}
EXTERNAL_ACTIONS = ("external_grant", "external_revoke")


# --- the "stale since" banner and the audit chain status (one statement) -------------


@dataclass(frozen=True)
class Freshness:
    """How fresh the local state is, from the latest syncs.

    ``stale`` is True when the latest finished sync failed (``reason``
    "failed": Okta unreachable, credentials refused, ...), when a console grant
    or revoke found Okta down (timeout, connection error, 5xx) after the last
    sync that succeeded (``reason`` "outage", until a sync succeeds again), or
    when no sync succeeded for ``STALE_AFTER`` seconds (``reason`` "old": the
    worker may be down). ``since`` is the finish time of the last sync that
    succeeded (None if none did); ``message`` is the failed run's plain-words
    message, or the time Okta failed the console ("outage").

    Carried along in the same statement for the banner on every page:
    ``audit_failed_at``/``audit_problem`` are the time and plain-words first
    break of a failed audit trail verification, when the latest check failed
    or the latest whole-chain check did (a passing tail check does not clear
    it); None/"" otherwise.
    """

    stale: bool
    since: datetime | None = None
    message: str = ""
    reason: str = ""
    audit_failed_at: datetime | None = None
    audit_problem: str = ""


def stale_after() -> timedelta:
    """How long without a successful sync before the pages call the data stale:
    three incremental intervals, at least 10 minutes."""
    return timedelta(seconds=max(3 * int(settings.SYNC_INCREMENTAL_EVERY), 600))


_FINISHED_EXCLUDED = ("running", "skipped")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_OK_STATUSES = ("succeeded", "partial")


def _status_querysets() -> dict[str, QuerySet]:
    finished = SyncRun.objects.exclude(status__in=_FINISHED_EXCLUDED).order_by("-id")
    ok = SyncRun.objects.filter(status__in=_OK_STATUSES).order_by("-id")
    # A console write that found Okta down since the last good sync: a range
    # scan of the audit trail's time index over the minutes since that sync.
    outage = AuditEvent.objects.filter(
        created_at__gt=Coalesce(Subquery(ok.values("finished_at")[:1]), Value(_EPOCH)),
        action__in=("grant", "revoke"),
        outcome=AuditEvent.Outcome.FAILURE,
        detail__outage=True,
    ).order_by("-created_at")
    checked = AuditVerification.objects.exclude(
        status=AuditVerification.Status.QUEUED
    ).order_by("-id")
    full = checked.filter(scope=AuditVerification.Scope.FULL)
    return {
        "st_status": finished.values("status")[:1],
        "st_message": finished.values("message")[:1],
        "st_ok_at": ok.values("finished_at")[:1],
        "st_outage_at": outage.values("created_at")[:1],
        "au_status": checked.values("status")[:1],
        "au_at": checked.values("started_at")[:1],
        "au_problem": checked.values("problem")[:1],
        "au_full_status": full.values("status")[:1],
        "au_full_at": full.values("started_at")[:1],
        "au_full_problem": full.values("problem")[:1],
    }


def status_annotations() -> dict[str, Subquery]:
    """Scalar subqueries giving the stale-banner facts; annotate them onto a
    single-row queryset so the banner costs no query of its own."""
    return {name: Subquery(qs) for name, qs in _status_querysets().items()}


def _as_datetime(value: Any) -> datetime | None:
    """A DB value (aware datetime, or SQLite text from a raw scalar select) as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _audit_break(values: dict[str, Any]) -> dict[str, Any]:
    """The ``audit_*`` fields of :class:`Freshness` (see there)."""
    for prefix in ("au_", "au_full_"):
        if values.get(prefix + "status") == AuditVerification.Status.FAILED:
            return {
                "audit_failed_at": _as_datetime(values.get(prefix + "at")),
                "audit_problem": values.get(prefix + "problem") or "",
            }
    return {}


def _freshness_of(values: dict[str, Any]) -> Freshness:
    ok_at = _as_datetime(values.get("st_ok_at"))
    audit_break = _audit_break(values)
    if values.get("st_status") == SyncRun.Status.FAILED:
        return Freshness(
            stale=True,
            since=ok_at,
            message=values.get("st_message") or "",
            reason="failed",
            **audit_break,
        )
    outage_at = _as_datetime(values.get("st_outage_at"))
    if outage_at is not None:
        return Freshness(
            stale=True,
            since=ok_at,
            message=outage_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            reason="outage",
            **audit_break,
        )
    if ok_at is not None and timezone.now() - ok_at > stale_after():
        return Freshness(stale=True, since=ok_at, reason="old", **audit_break)
    return Freshness(stale=False, since=ok_at, **audit_break)


def freshness_of(obj: Any) -> Freshness:
    """The :class:`Freshness` carried by a row annotated with ``status_annotations``."""
    return _freshness_of({k: getattr(obj, k, None) for k in _status_querysets()})


# Compiled scalar statements by (database alias, vendor, builders): their SQL
# and parameters are the same on every call (constants only, no clock), and
# building them through the ORM cost more CPU than running them.
_SCALARS_SQL: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], tuple[str, ...]]] = {}


def _select_scalars(*builders: Callable[[], dict[str, QuerySet]]) -> dict[str, Any]:
    """``SELECT (q1) AS a, (q2) AS b, ...``: the scalar subqueries of each
    builder, one statement, exactly one row (SQLite and PostgreSQL both allow a
    SELECT without FROM). Compiled once per process and database."""
    key = (connection.alias, connection.vendor, *builders)
    compiled = _SCALARS_SQL.get(key)
    if compiled is None:
        querysets: dict[str, QuerySet] = {}
        for build in builders:
            querysets.update(build())
        parts: list[str] = []
        params: list[Any] = []
        for name, qs in querysets.items():
            sql, qparams = qs.query.get_compiler(using=qs.db).as_sql()
            parts.append(f"({sql}) AS {connection.ops.quote_name(name)}")
            params.extend(qparams)
        compiled = ("SELECT " + ", ".join(parts), tuple(params), tuple(querysets))
        _SCALARS_SQL[key] = compiled
    sql, params, names = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def freshness() -> Freshness:
    """The stale-banner facts. One statement."""
    return _freshness_of(_select_scalars(_status_querysets))


def manage_q(prefix: str = "") -> Q:
    """SQL condition "the grant at ``prefix`` (e.g. "grants__") is a manage
    scope": the catalog's manage scopes (e.g. okta.clients.register), or an
    uncatalogued scope ending in ``.manage`` (not the catalog's ``*.manage``
    self scopes). Reads ``ScopeGrant.risk_rank``, which the database keeps: a
    rated scope that is not one of the catalog's rated reads."""
    return Q(**{f"{prefix}risk_rank__gt": 0}) & ~Q(
        **{f"{prefix}scope_id__in": scope_catalog.rated_reads()}
    )


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


def app_list(filters: AppFilters) -> QuerySet[OktaApp]:
    """Apps (present in Okta, or removed when ``status == "removed"``) with counts.

    Each app carries ``grant_count`` (open grants), ``manage_count`` (open
    ``*.manage`` grants), ``max_risk_rank`` (0-4, see ``catalog.RISK_RANK``:
    its riskiest open grant, manage or read) and ``synced_at`` ("Last synced",
    see ``OktaAppQuerySet.with_synced_at``).
    One query per evaluation (plus one COUNT when paginated).
    """
    qs = OktaApp.objects.with_synced_at()
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
                    manage_q(), app=OuterRef("pk"), revoked_at=None
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
        manage_count=Count("grants", filter=open_grant & manage_q("grants__")),
        max_risk_rank=Max("grants__risk_rank", filter=open_grant),
    )
    return qs.order_by(*APP_SORTS.get(filters.sort, APP_SORTS["label"]))


def risk_of_rank(rank: int | None) -> str:
    """ "low" … "critical" for a rank from ``app_list``; "" for 0/None."""
    return RANK_RISK.get(rank or 0, "")


def app_by_okta_id(okta_id: str, *, with_status: bool = False) -> OktaApp | None:
    """The app with this Okta id (also a removed one), with ``synced_at``
    (``OktaAppQuerySet.with_synced_at``), or None. One query.

    ``with_status`` annotates the stale-banner facts (``freshness_of(app)``).
    """
    qs = OktaApp.objects.with_synced_at().filter(okta_id=okta_id)
    if with_status:
        qs = qs.annotate(**status_annotations())
    return qs.first()


def window_page(qs: QuerySet, number: int, per_page: int) -> Page | None:
    """Page ``number`` of ``qs`` and the total row count in one statement
    (``COUNT(*) OVER ()`` rides along with the rows). None when the page is
    past the end (the caller sends the admin to page 1)."""
    offset = (max(number, 1) - 1) * per_page
    rows = list(qs.annotate(total_rows=Window(Count("pk")))[offset : offset + per_page])
    if not rows and number > 1:
        return None
    paginator = Paginator([], per_page)
    paginator.count = rows[0].total_rows if rows else 0  # type: ignore[misc]
    return Page(rows, max(number, 1), paginator)


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
    held_rows: list[ScopeRow] = field(default_factory=list)  # riskiest first


def app_grants(app: OktaApp) -> list[ScopeGrant]:
    """Every grant row of ``app``, held and revoked (our history), newest first.
    One query."""
    return list(ScopeGrant.objects.filter(app=app).order_by("-first_seen_at", "-id"))


SHOW_CHOICES = ("all", "held", "manage")


def grant_collection(
    app: OktaApp, rows: list[ScopeGrant], show: str = "all"
) -> GrantCollection:
    """Every catalog scope for ``app``, granted or not, plus held unknown scopes,
    from the app's grant ``rows`` (``app_grants``). No query.

    ``show`` narrows the catalog rows: "held" (granted only) or "manage"
    (manage scopes only); held uncatalogued scopes are always listed.
    """
    catalog = get_catalog()
    grants = {g.scope_id: g for g in rows if g.revoked_at is None}
    groups: list[tuple[str, list[ScopeRow]]] = []
    for resource, infos in catalog.groups:
        scope_rows = [
            ScopeRow(
                scope_id=info.name,
                info=info,
                grant=grants.get(info.name),
                risk=catalog.risk(info.name),
                is_manage=info.kind == "manage",
            )
            for info in infos
            if show == "all"
            or (show == "held" and info.name in grants)
            or (show == "manage" and info.kind == "manage")
        ]
        if scope_rows:
            groups.append((resource, scope_rows))
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
    max_rank = max((RISK_RANK[catalog.risk(s)] for s in grants), default=0)
    held_rows = sorted(
        (
            ScopeRow(
                scope_id=scope_id,
                info=catalog.get(scope_id),
                grant=grant,
                risk=catalog.risk(scope_id),
                is_manage=catalog.is_manage(scope_id),
            )
            for scope_id, grant in grants.items()
        ),
        key=lambda r: (-RISK_RANK.get(r.risk, 0), r.scope_id),
    )
    return GrantCollection(
        groups=groups,
        uncatalogued=uncatalogued,
        held_rows=held_rows,
        held=len(grants),
        held_manage=len(manage),
        max_risk=RANK_RISK[max_rank],
        grants=grants,
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One change of an app's grant collection: ``action`` "granted"/"revoked"."""

    at: datetime
    action: str
    scope_id: str
    by: str


def grant_history(rows: list[ScopeGrant], limit: int = 60) -> list[HistoryEntry]:
    """The app's grant changes, newest first, from its grant ``rows``. No query.

    A grant is "granted" when first seen (by ``granted_by``: an admin's login, a
    System Log actor, or Okta's ``createdBy``) and "revoked" at ``revoked_at``.
    """
    entries: list[HistoryEntry] = []
    for g in rows:
        entries.append(
            HistoryEntry(
                at=g.created or g.first_seen_at,
                action="granted",
                scope_id=g.scope_id,
                by=g.granted_by or g.created_by_id or "unknown",
            )
        )
        if g.revoked_at is not None:
            entries.append(
                HistoryEntry(
                    at=g.revoked_at,
                    action="revoked",
                    scope_id=g.scope_id,
                    by=g.revoked_by or "unknown",
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


# --- scopes ------------------------------------------------------------------------------


@dataclass
class Holders:
    """Who holds one scope: ``count`` present apps, the first ``preview`` of them
    (``(okta_id, label)``, by label)."""

    count: int = 0
    preview: list[tuple[str, str]] = field(default_factory=list)


def scope_holders_overview(preview: int = 4) -> dict[str, Holders]:
    """scopeId -> :class:`Holders`, for every scope some present app holds.

    One query: the database counts each scope's holders and numbers them by
    label (window functions), and returns only the first ``preview`` of each,
    so the rows read do not grow with the number of grants.
    """
    by_scope = F("scope_id")
    rows = (
        ScopeGrant.objects.filter(revoked_at=None, app__removed_at__isnull=True)
        .annotate(
            holders=Window(Count("id"), partition_by=by_scope),
            place=Window(
                RowNumber(),
                partition_by=by_scope,
                order_by=(F("app__label").asc(), F("app__okta_id").asc()),
            ),
        )
        .filter(place__lte=preview)
        .order_by("scope_id", "place")
        .values_list("scope_id", "holders", "app__okta_id", "app__label")
    )
    result: dict[str, Holders] = {}
    for scope_id, count, okta_id, label in rows:
        holders = result.setdefault(scope_id, Holders(count=count))
        holders.preview.append((okta_id, label))
    return result


@dataclass
class ScopeApps:
    """Apps for one scope's page: ``holders`` (each with ``grant_created``,
    ``grant_by``) and up to ``CANDIDATES`` ``candidates`` not holding it;
    ``truncated`` when the holders list was cut at ``SCOPE_APPS_LIMIT``."""

    holders: list[OktaApp]
    candidates: list[OktaApp]
    truncated: bool


CANDIDATES = 200
SCOPE_APPS_LIMIT = 2000


def scope_apps(scope_id: str, q: str = "") -> ScopeApps:
    """Present apps holding ``scope_id`` and apps it could be granted to. One query.

    Holders come first (by label), then non-holders matching ``q`` (label or
    client id; all when empty).
    """
    # One LEFT JOIN on the app's open grant of this scope (at most one: the
    # grants_scopegrant_one_open_unique constraint).
    qs = (
        OktaApp.objects.filter(removed_at__isnull=True)
        .annotate(
            held=FilteredRelation(
                "grants",
                condition=Q(grants__scope_id=scope_id, grants__revoked_at__isnull=True),
            )
        )
        .annotate(
            holds=Case(
                When(held__id__isnull=False, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            grant_created=F("held__created"),
            grant_seen=F("held__first_seen_at"),
            grant_by=F("held__granted_by"),
            grant_creator=F("held__created_by_id"),
        )
        .order_by("-holds", "label", "okta_id")
    )
    if q:
        qs = qs.filter(
            Q(holds=True) | Q(label__icontains=q) | Q(client_id__icontains=q)
        )
    rows = list(qs[:SCOPE_APPS_LIMIT])
    holders = [a for a in rows if a.holds]
    candidates = [a for a in rows if not a.holds][:CANDIDATES]
    return ScopeApps(
        holders=holders,
        candidates=candidates,
        truncated=len(holders) == SCOPE_APPS_LIMIT,
    )


@dataclass
class MatrixRow:
    """One app of the apps x scope-families matrix; ``cells`` follow ``families``."""

    app: OktaApp
    cells: list[str]  # "" | "read" | "manage" | "self"
    manage_count: int


def matrix_page(
    number: int, per_page: int
) -> tuple[Page | None, list[str], list[MatrixRow]]:
    """One page of apps (most manage grants first) with the strongest access each
    holds per scope family (resource): manage > read > self. One statement: the
    apps, their counts, their open scopeIds (``StringAgg``) and the total.
    Families are those held by any app on the page.
    """
    catalog = get_catalog()
    qs = app_list(AppFilters(sort="-manage")).annotate(
        scope_list=StringAgg(
            "grants__scope_id",
            delimiter=Value(" "),
            filter=Q(grants__revoked_at__isnull=True),
            default=Value(""),
        )
    )
    page = window_page(qs, number, per_page)
    if page is None:
        return None, [], []
    strength = {"": 0, "self": 1, "read": 2, "manage": 3}
    per_app: list[tuple[OktaApp, dict[str, str]]] = []
    families: set[str] = set()
    for app in page.object_list:
        best: dict[str, str] = {}
        for scope_id in (app.scope_list or "").split():
            family = catalog.resource(scope_id)
            info = catalog.get(scope_id)
            kind = (
                info.kind
                if info
                else ("manage" if catalog.is_manage(scope_id) else "read")
            )
            if strength.get(kind, 0) > strength[best.get(family, "")]:
                best[family] = kind
        families.update(best)
        per_app.append((app, best))
    ordered = sorted(families)
    rows = [
        MatrixRow(
            app=app,
            cells=[best.get(f, "") for f in ordered],
            manage_count=app.manage_count,
        )
        for app, best in per_app
    ]
    return page, ordered, rows


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
        # exact matches use the (actor_login, seq) index; logins are e-mail
        # addresses, so the lower-cased form also catches "Super.Admin@..."
        qs = qs.filter(
            Q(actor_login__in={filters.actor, filters.actor.lower()})
            | Q(actor_id=filters.actor)
        )
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


#: the columns of the last finished audit verification the audit page shows
_VERIFICATION_FIELDS = (
    "status",
    "scope",
    "trigger",
    "requested_by",
    "started_at",
    "duration_ms",
    "rows",
    "first_seq",
    "checkpoints",
    "ignored_lines",
    "problem_kind",
    "problem",
)


@dataclass(frozen=True)
class Verification:
    """What the audit page can say about the hash chain.

    ``ok`` (None: never checked), ``at``, ``scope`` ("full" | "tail"),
    ``trigger``, ``requested_by`` (who pressed "Verify now"), ``seconds``,
    ``rows`` (from seq ``first_seq``), ``checkpoints``, ``ignored_lines``,
    ``problem_kind`` and ``problem``: the last finished check
    (:class:`AuditVerification`). ``queued_at``/``queued_by``: a press of
    "Verify now" the worker has not run yet.
    ``checkpoint_at``/``checkpoint_rows``: the newest signed checkpoint (it signs
    the chain's head; it is not itself a verification).
    """

    ok: bool | None = None
    at: datetime | None = None
    scope: str = ""
    trigger: str = ""
    requested_by: str = ""
    seconds: float | None = None
    rows: int | None = None
    first_seq: int = 1
    checkpoints: int | None = None
    ignored_lines: int = 0
    problem_kind: str = ""
    problem: str = ""
    queued_at: datetime | None = None
    queued_by: str = ""
    checkpoint_at: datetime | None = None
    checkpoint_rows: int | None = None


def _verification_querysets() -> dict[str, QuerySet]:
    checked = AuditVerification.objects.exclude(
        status=AuditVerification.Status.QUEUED
    ).order_by("-id")
    queued = AuditVerification.objects.filter(
        status=AuditVerification.Status.QUEUED
    ).order_by("-id")
    checkpoint = AuditCheckpoint.objects.order_by("-id")
    return {
        **{f"vf_{name}": checked.values(name)[:1] for name in _VERIFICATION_FIELDS},
        "vf_queued_at": queued.values("requested_at")[:1],
        "vf_queued_by": queued.values("requested_by")[:1],
        "vf_cp_at": checkpoint.values("created_at")[:1],
        "vf_cp_count": checkpoint.values("count")[:1],
    }


def _verification_of(values: dict[str, Any]) -> Verification:
    common = {
        "queued_at": _as_datetime(values.get("vf_queued_at")),
        "queued_by": values.get("vf_queued_by") or "",
        "checkpoint_at": _as_datetime(values.get("vf_cp_at")),
        "checkpoint_rows": values.get("vf_cp_count"),
    }
    status = values.get("vf_status")
    if status is None:
        return Verification(**common)
    ms = values.get("vf_duration_ms")
    return Verification(
        ok=status == AuditVerification.Status.OK,
        at=_as_datetime(values.get("vf_started_at")),
        scope=values.get("vf_scope") or "",
        trigger=values.get("vf_trigger") or "",
        requested_by=values.get("vf_requested_by") or "",
        seconds=ms / 1000 if ms is not None else None,
        rows=values.get("vf_rows"),
        first_seq=values.get("vf_first_seq") or 1,
        checkpoints=values.get("vf_checkpoints"),
        ignored_lines=values.get("vf_ignored_lines") or 0,
        problem_kind=values.get("vf_problem_kind") or "",
        problem=values.get("vf_problem") or "",
        **common,
    )


def audit_status() -> tuple[Freshness, Verification]:
    """The stale banner and the chain's last verification. One statement."""
    values = _select_scalars(_status_querysets, _verification_querysets)
    return _freshness_of(values), _verification_of(values)


# --- sync ----------------------------------------------------------------------------------


def sync_runs(limit: int = 30) -> list[SyncRun]:
    """The latest ``limit`` sync runs plus any still running, newest first. One query."""
    latest = SyncRun.objects.order_by("-id").values("pk")[:limit]
    return list(
        SyncRun.objects.filter(
            Q(status=SyncRun.Status.RUNNING) | Q(pk__in=Subquery(latest))
        ).order_by("-id")
    )


# --- reports and charts ------------------------------------------------------------------


def grant_counts_over_time(days: int = 30) -> list[tuple[datetime, int]]:
    """Open-grant count at the end of each of the last ``days`` days (UTC)
    that ended after the baseline (the first full sync) began.

    Two queries: the baseline's start, and one aggregate (a grant counts on day
    D when it was first seen before D's end and not revoked by then). Days
    before the baseline are left out: what Okta held then is unknown, and
    drawing them as zero would show every baseline grant as added that day.
    """
    now = timezone.now()
    today_end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    ends = [today_end - timedelta(days=i) for i in range(days - 1, -1, -1)]
    ends[-1] = now
    baseline = (
        SyncRun.objects.filter(kind=SyncRun.Kind.FULL, baseline=True)
        .order_by("id")
        .values_list("started_at", flat=True)
        .first()
    )
    if baseline is not None:
        ends = [end for end in ends if end > baseline] or [now]
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
            manage_q(), revoked_at=None, app__removed_at__isnull=True
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

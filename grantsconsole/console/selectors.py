"""Read-side queries for the console pages: querysets over the database, never Okta.

Each function returns a queryset (filtered, annotated, ordered) or a few values;
``presenters`` shapes the rows for the templates. Times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from grantsconsole.governance.models import GrantRequest
from grantsconsole.grants.intents import INTENT_ACTIONS
from grantsconsole.grants.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditReport,
    AuditVerification,
    OktaApp,
    ScopeCount,
    ScopeGrant,
    SyncRun,
    manage_q,
)
from grantsconsole.usage import selectors as usage

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
    "risk": ("max_risk_rank", "label", "okta_id"),
    "-risk": ("-max_risk_rank", "label", "okta_id"),
    # effective privilege (grants/privilege.py RANK), see app_list
    "privilege": ("effective_rank", "label", "okta_id"),
    "-privilege": ("-effective_rank", "label", "okta_id"),
}
EXTERNAL_ACTIONS = ("external_grant", "external_revoke")


# --- the "stale since" banner and the audit chain status ------------------------------


def stale_after() -> timedelta:
    """How long without a successful sync before the pages call the data stale:
    three incremental intervals, at least 10 minutes."""
    return timedelta(seconds=max(3 * int(settings.SYNC_INCREMENTAL_EVERY), 600))


_FINISHED_EXCLUDED = ("queued", "running", "skipped")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_OK_STATUSES = ("succeeded", "partial")


def _latest(qs: QuerySet, field: str) -> Subquery:
    return Subquery(qs.values(field)[:1])


def status_annotations() -> dict[str, Subquery]:
    """Scalar subqueries giving the stale-banner facts (``presenters.freshness_of``
    reads them): the latest finished sync's ``st_status``/``st_message``, the
    last good sync's ``st_ok_at``, ``st_outage_at`` (a console write that found
    Okta down since then), and the latest (``au_*``) and latest whole-chain
    (``au_full_*``) audit verification's status, start and problem. Annotate
    them onto a single-row queryset so the banner costs no query of its own.

    Also the nav's governance counts: ``gv_pending`` (grant requests waiting
    for a decision) and ``gv_due`` (held grants past their end time)."""
    finished = SyncRun.objects.exclude(status__in=_FINISHED_EXCLUDED).order_by("-id")
    ok = SyncRun.objects.filter(status__in=_OK_STATUSES).order_by("-id")
    # A range scan of the (outcome, created_at) index over the minutes since the
    # last good sync.
    outage = AuditEvent.objects.filter(
        created_at__gt=Coalesce(_latest(ok, "finished_at"), Value(_EPOCH)),
        action__in=("grant", "revoke"),
        outcome=AuditEvent.Outcome.FAILURE,
        detail__outage=True,
    ).order_by("-created_at")
    checked = AuditVerification.objects.exclude(
        status=AuditVerification.Status.QUEUED
    ).order_by("-id")
    full = checked.filter(scope=AuditVerification.Scope.FULL)
    return {
        "st_status": _latest(finished, "status"),
        "st_message": _latest(finished, "message"),
        "st_ok_at": _latest(ok, "finished_at"),
        "st_outage_at": _latest(outage, "created_at"),
        "au_status": _latest(checked, "status"),
        "au_at": _latest(checked, "started_at"),
        "au_problem": _latest(checked, "problem"),
        "au_full_status": _latest(full, "status"),
        "au_full_at": _latest(full, "started_at"),
        "au_full_problem": _latest(full, "problem"),
        "gv_pending": Coalesce(
            _count(
                GrantRequest.objects.filter(
                    state=GrantRequest.State.PENDING, expires_at__gt=Now()
                )
            ),
            0,
        ),
        "gv_due": Coalesce(
            _count(
                ScopeGrant.objects.filter(
                    revoked_at__isnull=True,
                    ends_at__lte=Now(),
                    app__removed_at__isnull=True,
                )
            ),
            0,
        ),
    }


#: the columns of the last finished audit verification the audit page shows
VERIFICATION_FIELDS = (
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


def verification_annotations() -> dict[str, Subquery]:
    """Scalar subqueries of the audit page's chain facts (``presenters.
    verification_of`` reads them): ``vf_<field>`` of the last finished
    verification, the newest queued one, and the newest signed checkpoint."""
    checked = AuditVerification.objects.exclude(
        status=AuditVerification.Status.QUEUED
    ).order_by("-id")
    queued = AuditVerification.objects.filter(
        status=AuditVerification.Status.QUEUED
    ).order_by("-id")
    checkpoint = AuditCheckpoint.objects.order_by("-id")
    return {
        **{f"vf_{name}": _latest(checked, name) for name in VERIFICATION_FIELDS},
        "vf_queued_at": _latest(queued, "requested_at"),
        "vf_queued_by": _latest(queued, "requested_by"),
        "vf_cp_at": _latest(checkpoint, "created_at"),
        "vf_cp_count": _latest(checkpoint, "count"),
    }


def page_status(user_pk: Any, *, verification: bool = False) -> dict[str, Any]:
    """The stale-banner facts (and with ``verification`` the audit chain's), as
    a dict of the annotation names. One query.

    The subqueries ride on the signed-in admin's own user row: every console
    page has one, and the ORM builds no SELECT without a table.
    """
    annotations = status_annotations()
    if verification:
        annotations |= verification_annotations()
    row = (
        get_user_model()
        .objects.filter(pk=user_pk)
        .annotate(**annotations)
        .values(*annotations)
        .first()
    )
    return row or {}


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
    min_risk_rank: int = 0  # riskiest open grant at least this (RISK_RANK)
    sort: str = "label"


def app_list(filters: AppFilters) -> QuerySet[OktaApp]:
    """Apps (present in Okta, or removed when ``status == "removed"``) with counts.

    Each app carries ``grant_count`` (open grants), ``manage_count`` (open
    ``*.manage`` grants), ``max_risk_rank`` (0-4, see ``catalog.RISK_RANK``:
    its riskiest open grant, manage or read; 0 without one), all three
    stored on the app (see ``OktaApp``), ``synced_at``
    ("Last synced", see ``OktaAppQuerySet.with_synced_at``), ``total_rows``
    (how many apps match the filters) and its stored effective privilege
    (``privilege``, a ClientPrivilege, joined; None for user-facing apps).
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
    if filters.min_risk_rank:
        qs = qs.filter(max_risk_rank__gte=filters.min_risk_rank)
    qs = qs.annotate(total_rows=_count(qs))
    if filters.sort.endswith("privilege"):
        qs = qs.annotate(effective_rank=effective_rank())
    return qs.select_related("privilege").order_by(
        *APP_SORTS.get(filters.sort, APP_SORTS["label"])
    )


def effective_rank() -> Coalesce:
    """An app's effective-privilege rank (grants/privilege.py RANK) for
    sorting: a service app's stored one; else (a user-facing app, or roles
    never read) its riskiest grant's tier on the same scale."""
    return Coalesce(
        F("privilege__rank"),
        Case(When(max_risk_rank=0, then=Value(0)), default=F("max_risk_rank") + 1),
    )


def _count(qs: QuerySet) -> Subquery:
    """``SELECT COUNT(*)`` of ``qs`` as a scalar subquery (a constant grouped
    on is left out of GROUP BY: one row, 0 when empty)."""
    return Subquery(
        qs.order_by()
        .annotate(all=Value(1))
        .values("all")
        .annotate(n=Count("pk"))
        .values("n")
    )


def app_by_okta_id(okta_id: str, *, with_status: bool = False) -> OktaApp | None:
    """The app with this Okta id (also a removed one), with ``synced_at``
    (``OktaAppQuerySet.with_synced_at``), the sections its page shows
    (``OktaApp.stored``: privilege, controls, refresh tokens), its owner
    (``governance.AppOwner``) and the usage
    coverage (``usage.selectors.coverage_of(app)``), or None. One query.

    ``with_status`` annotates the stale-banner facts (``freshness_of(app)``).
    """
    qs = (
        OktaApp.objects.with_synced_at()
        .select_related("privilege", "controls", "refresh_tokens", "owner")
        .filter(okta_id=okta_id)
        .annotate(**usage.coverage_annotations())
    )
    if with_status:
        qs = qs.annotate(**status_annotations())
    return qs.first()


def app_grants(app: OktaApp) -> QuerySet[ScopeGrant]:
    """Every grant row of ``app``, held and revoked (our history), newest first."""
    return ScopeGrant.objects.filter(app=app).order_by("-first_seen_at", "-id")


# --- scopes ------------------------------------------------------------------------------


def scope_holders(preview: int = 4) -> QuerySet:
    """``(scope_id, holders, app pk, ..., app pk)`` for every scope with open
    grants, by scopeId: ``holders`` counts its open grants (stored, see
    ``ScopeCount``), then the pks of the first ``preview`` present apps (by
    label, then Okta id) holding it, None past the last. Each pk is a limited
    subquery on the open grants' (scope_id, app_label) index: the rows read
    do not grow with the number of grants."""
    holding = (
        ScopeGrant.objects.filter(
            scope_id=OuterRef("scope_id"),
            revoked_at=None,
            app__removed_at__isnull=True,
        )
        .order_by("app_label", "app__okta_id")
        .values("app_id")
    )
    places = {f"app_{n}": Subquery(holding[n : n + 1]) for n in range(preview)}
    return (
        ScopeCount.objects.filter(holders__gt=0)
        .annotate(**places)
        .order_by("scope_id")
        .values_list("scope_id", "holders", *places)
    )


def app_names(pks: set[Any]) -> dict[Any, tuple[str, str]]:
    """App pk -> ``(okta_id, label)`` for these apps."""
    return {
        pk: (okta_id, label)
        for pk, okta_id, label in OktaApp.objects.filter(pk__in=pks).values_list(
            "pk", "okta_id", "label"
        )
    }


# Holders and candidates listed on a scope's page, as many as Django admin's
# changelist shows (100): the apps list's "Holds scope" filter pages through all
# holders, and the candidates' search narrows them. Rendering is what grows:
# 2,000 rows took 300 ms, and 200 of each kept the page a few ms above the
# admin changelist at 20,000 apps on SQLite.
CANDIDATES = 100
SCOPE_APPS_LIMIT = 100
_APP_COLUMNS = ("okta_id", "label", "client_id", "status")


# A holder's effective privilege: what the apps list's badge and the rule
# table read (``OktaApp.stored("privilege")``, ``privilege_sync.assessment``).
_PRIVILEGE_COLUMNS = (
    "name",
    "application_type",
    "manage_count",
    *(
        f"privilege__{f}"
        for f in ("roles", "roles_known", "error", "rank", "latent", "self_escalation")
    ),
)


def scope_holding_apps(scope_id: str) -> QuerySet[OktaApp]:
    """Present apps holding ``scope_id``, by label, at most ``SCOPE_APPS_LIMIT``
    + 1 (one more tells the page the list was cut), with only ``okta_id``,
    ``label``, ``client_id``, ``status`` and what their effective privilege
    needs loaded (their ``privilege`` joined), each with its open grant's
    ``grant_created``, ``grant_seen``, ``grant_by`` and ``grant_creator``, its
    usage evidence of the scope (``usage.selectors.evidence_of``) and the usage
    coverage (``usage.selectors.coverage_of``)."""
    # One JOIN on the app's open grant of this scope (at most one: the
    # grants_scopegrant_one_open_unique constraint), read in label order from
    # the grants' copy of it (grants_grant_holder_idx): the database stops at
    # the limit instead of sorting every holder (36 -> 9 ms for 3,300 holders).
    return (
        OktaApp.objects.filter(removed_at__isnull=True)
        .select_related("privilege")
        .only(*_APP_COLUMNS, *_PRIVILEGE_COLUMNS)
        .annotate(
            held=FilteredRelation(
                "grants",
                condition=Q(grants__scope_id=scope_id, grants__revoked_at__isnull=True),
            )
        )
        .filter(held__id__isnull=False)
        .annotate(
            grant_created=F("held__created"),
            grant_seen=F("held__first_seen_at"),
            grant_by=F("held__granted_by"),
            grant_creator=F("held__created_by_id"),
            **usage.evidence_annotations(scope_id),
            **usage.coverage_annotations(),
        )
        .order_by("held__app_label", "okta_id")[: SCOPE_APPS_LIMIT + 1]
    )


def scope_candidates(scope_id: str, q: str = "") -> QuerySet[OktaApp]:
    """Present apps not holding ``scope_id`` whose label or client id contains
    ``q`` (all when empty), the first ``CANDIDATES`` by label, with the same
    columns as ``scope_holding_apps``."""
    qs = (
        OktaApp.objects.filter(removed_at__isnull=True)
        .exclude(
            Exists(
                ScopeGrant.objects.filter(
                    app=OuterRef("pk"), scope_id=scope_id, revoked_at=None
                )
            )
        )
        .only(*_APP_COLUMNS)
    )
    if q:
        qs = qs.filter(Q(label__icontains=q) | Q(client_id__icontains=q))
    return qs.order_by("label", "okta_id")[:CANDIDATES]


def matrix_apps() -> QuerySet[OktaApp]:
    """``app_list`` (most manage grants first), each app with ``scope_list``:
    its open scopeIds separated by spaces ("" without one)."""
    scopes = (
        ScopeGrant.objects.filter(app=OuterRef("pk"), revoked_at=None)
        .order_by()
        .values("app")
        .annotate(ids=StringAgg("scope_id", delimiter=Value(" ")))
        .values("ids")
    )
    return app_list(AppFilters(sort="-manage")).annotate(
        scope_list=Coalesce(Subquery(scopes), Value(""), output_field=TextField())
    )


# --- audit --------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    """Validated filters of the audit page (see ``forms.AuditFilterForm``)."""

    app: str = ""  # an Okta app id, or (part of) an app's label
    app_ids: tuple[int, ...] | None = None  # the apps ``app`` matched (pks)
    scope: str = ""
    actor: str = ""
    action: str = ""
    external_only: bool = False
    date_from: datetime | None = None  # inclusive, UTC
    date_to: datetime | None = None  # exclusive, UTC
    include_intents: bool = True  # grant_intent / revoke_intent rows


def audit_events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit rows matching ``filters``, newest first (by ``seq``). No COUNT anywhere.

    ``app_ids`` (the apps ``forms.AuditFilterForm`` matched to the ``app``
    text: its Okta id, or a part of its current label, whatever label a row
    kept; at most a few) keeps their rows, read newest first off the
    ``(app, seq)`` index.
    """
    qs = AuditEvent.objects.all()
    if filters.app_ids is not None:
        if len(filters.app_ids) == 1:
            qs = qs.filter(app=filters.app_ids[0])
        else:
            qs = qs.filter(app__in=filters.app_ids)
    if not filters.include_intents:
        qs = qs.exclude(action__in=INTENT_ACTIONS)
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


def audit_row(seq: int) -> AuditEvent | None:
    """The audit row ``seq`` with ``prev_row_hash``, the ``row_hash`` of row
    ``seq - 1`` (None when there is none), or None. One query."""
    previous = AuditEvent.objects.filter(seq=OuterRef("seq") - 1).values("row_hash")
    return (
        AuditEvent.objects.filter(seq=seq)
        .annotate(prev_row_hash=Subquery(previous[:1]))
        .first()
    )


# --- sync ----------------------------------------------------------------------------------


LIVE_STATUSES = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)


def sync_runs(limit: int = 30) -> QuerySet[SyncRun]:
    """The latest ``limit`` sync runs plus any still queued or running, newest
    first."""
    latest = SyncRun.objects.order_by("-id").values("pk")[:limit]
    return SyncRun.objects.filter(
        Q(status__in=LIVE_STATUSES) | Q(pk__in=Subquery(latest))
    ).order_by("-id")


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


def least_privilege_trend(limit: int = 30) -> list[tuple[datetime, int, int]]:
    """``(written at, unused, reducible)`` of the newest ``limit`` reports that
    carry a ``least_privilege`` section with complete coverage, oldest first.
    One query (reading two keys of each report's data, not all of it)."""
    rows = (
        AuditReport.objects.filter(data__least_privilege__complete=True)
        .order_by("-created_at", "-id")
        .values_list(
            "created_at",
            "data__least_privilege__unused",
            "data__least_privilege__reducible",
        )[:limit]
    )
    return [(at, int(u or 0), int(r or 0)) for at, u, r in reversed(rows)]


def least_privilege_by_risk() -> dict[str, dict[str, int]]:
    """The newest report's unused and reducible grant counts by risk
    ({risk: {"unused", "reducible"}}, riskiest first; {} before any report
    has the section). One query."""
    found = (
        AuditReport.objects.filter(data__least_privilege__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("data__least_privilege__by_risk", flat=True)
        .first()
    )
    return found if isinstance(found, dict) else {}


def reports(limit: int = 50) -> QuerySet[AuditReport]:
    """Stored audit reports, newest first, without their (large) data."""
    return AuditReport.objects.order_by("-created_at", "-id").defer("data")[:limit]


def report_after(report_id: int) -> AuditReport | None:
    """The first stored report newer than ``report_id`` (without its data), or
    None. One query."""
    return (
        AuditReport.objects.filter(pk__gt=report_id)
        .defer("data")
        .order_by("id")
        .first()
    )


TOKEN_FACT_ACTIONS = ("revoke", "tokens_revoke", "token_window_check")


def app_token_facts(app: OktaApp) -> dict[str, Any]:
    """The app page's refresh-token section (one query): ``refresh_tokens``
    (the stored summary, a list of at most one row; ``OktaApp.stored``),
    ``token_checks`` (the newest refresh-token revokes and residual-window
    checks of the app, at most 6) and ``unfinished_revokes`` (the scope revokes
    of the last token lifetime made since the app's last successful
    refresh-token revoke: each is offered "Revoke this app's refresh tokens",
    also after a reload or without JavaScript)."""
    summary = app.stored("refresh_tokens")
    since = timezone.now() - timedelta(seconds=settings.OKTA_ACCESS_TOKEN_LIFETIME)
    rows = list(
        AuditEvent.objects.filter(app=app, action__in=TOKEN_FACT_ACTIONS).order_by(
            "-seq"
        )[:20]
    )
    checks = [e for e in rows if e.action != "revoke"]
    ended = next(
        (
            e.seq
            for e in checks
            if e.action == "tokens_revoke" and e.outcome == "success"
        ),
        0,
    )
    unfinished = [
        e
        for e in rows
        if e.action == "revoke"
        and e.outcome == "success"
        and e.seq > ended
        and e.created_at >= since
        and not (e.detail or {}).get("already_gone")
    ]
    return {
        "refresh_tokens": [summary] if summary else [],
        "token_checks": checks[:6],
        "unfinished_revokes": unfinished[:5],
    }

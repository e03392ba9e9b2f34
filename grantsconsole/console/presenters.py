"""Rows shaped for the console's templates, from ``selectors``' querysets.

Functions here evaluate at most the queryset they are given (one query) and
otherwise run none. Times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from grantsconsole.console import selectors
from grantsconsole.console.catalog import RANK_RISK, RISK_RANK, get_catalog
from grantsconsole.grants import audit, privilege
from grantsconsole.grants.models import (
    AuditEvent,
    AuditVerification,
    OktaApp,
    ScopeGrant,
    SyncRun,
)
from grantsconsole.grants.services import api_services
from grantsconsole.usage import selectors as usage
from grantsconsole.usage.verdicts import DEFAULT_WINDOW_DAYS, Coverage

# --- the "stale since" banner and the audit chain status -------------------------------


@dataclass(frozen=True)
class Freshness:
    """How fresh the local state is, from the latest syncs.

    ``stale`` is True when the latest finished sync failed (``reason``
    "failed": Okta unreachable, credentials refused, ...), when a console grant
    or revoke found Okta down (timeout, connection error, 5xx) after the last
    sync that succeeded (``reason`` "outage", until a sync succeeds again), or
    when no sync succeeded for ``selectors.stale_after()`` (``reason`` "old":
    the worker may be down). ``since`` is the finish time of the last sync that
    succeeded (None if none did); ``message`` is the failed run's plain-words
    message, or the time Okta failed the console ("outage").

    ``audit_failed_at``/``audit_problem`` are the time and plain-words first
    break of a failed audit trail verification, when the latest check failed
    or the latest whole-chain check did (a passing tail check does not clear
    it); None/"" otherwise.

    ``pending_requests`` and ``due_grants`` are the nav's governance counts:
    grant requests waiting for a decision, grants past their end time.
    """

    stale: bool
    since: datetime | None = None
    message: str = ""
    reason: str = ""
    audit_failed_at: datetime | None = None
    audit_problem: str = ""
    pending_requests: int = 0
    due_grants: int = 0


def _audit_break(values: dict[str, Any]) -> dict[str, Any]:
    """The ``audit_*`` fields of :class:`Freshness` (see there)."""
    for prefix in ("au_", "au_full_"):
        if values.get(prefix + "status") == AuditVerification.Status.FAILED:
            return {
                "audit_failed_at": values.get(prefix + "at"),
                "audit_problem": values.get(prefix + "problem") or "",
            }
    return {}


def freshness_of(values: Any) -> Freshness:
    """The :class:`Freshness` of a dict from ``selectors.page_status``, or of a
    row annotated with ``selectors.status_annotations``."""
    if not isinstance(values, dict):
        values = {k: getattr(values, k, None) for k in selectors.status_annotations()}
    ok_at = values.get("st_ok_at")
    audit_break = {
        **_audit_break(values),
        "pending_requests": values.get("gv_pending") or 0,
        "due_grants": values.get("gv_due") or 0,
    }
    if values.get("st_status") == SyncRun.Status.FAILED:
        return Freshness(
            stale=True,
            since=ok_at,
            message=values.get("st_message") or "",
            reason="failed",
            **audit_break,
        )
    outage_at = values.get("st_outage_at")
    if outage_at is not None:
        return Freshness(
            stale=True,
            since=ok_at,
            message=outage_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            reason="outage",
            **audit_break,
        )
    if ok_at is not None and timezone.now() - ok_at > selectors.stale_after():
        return Freshness(stale=True, since=ok_at, reason="old", **audit_break)
    return Freshness(stale=False, since=ok_at, **audit_break)


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


def verification_of(values: dict[str, Any]) -> Verification:
    """The :class:`Verification` of a dict from ``selectors.page_status(...,
    verification=True)``."""
    common = {
        "queued_at": values.get("vf_queued_at"),
        "queued_by": values.get("vf_queued_by") or "",
        "checkpoint_at": values.get("vf_cp_at"),
        "checkpoint_rows": values.get("vf_cp_count"),
    }
    status = values.get("vf_status")
    if status is None:
        return Verification(**common)
    ms = values.get("vf_duration_ms")
    return Verification(
        ok=status == AuditVerification.Status.OK,
        at=values.get("vf_started_at"),
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


def audit_status(user_pk: Any) -> tuple[Freshness, Verification]:
    """The stale banner and the chain's last verification. One query."""
    values = selectors.page_status(user_pk, verification=True)
    return freshness_of(values), verification_of(values)


# --- apps --------------------------------------------------------------------------------


def risk_of_rank(rank: int | None) -> str:
    """ "low" … "critical" for a rank from ``selectors.app_list``; "" for 0/None."""
    return RANK_RISK.get(rank or 0, "")


def counted_page(qs: QuerySet, number: int, per_page: int) -> Page | None:
    """Page ``number`` of ``qs``, whose rows carry the total as ``total_rows``
    (``selectors.app_list``), in one query. None when the page is past the end
    (the caller sends the admin to page 1)."""
    offset = (max(number, 1) - 1) * per_page
    # The page's keys first, then its rows: PostgreSQL computes the selected
    # subqueries of every row an OFFSET skips, so only the page's own rows
    # select them.
    keys = qs.values("pk")[offset : offset + per_page]
    rows = list(qs.filter(pk__in=Subquery(keys)))
    if not rows and number > 1:
        return None
    paginator = Paginator([], per_page)
    paginator.count = rows[0].total_rows if rows else 0  # type: ignore[misc]
    return Page(rows, max(number, 1), paginator)


PUBLIC_CLIENT_TYPES = {"browser": "single-page (browser)", "native": "native"}


def own_app(client_id: str) -> str:
    """ "console" for the console's own Okta app (``OKTA_CONSOLE_CLIENT_ID``),
    "worker" for the worker's (``OKTA_WORKER_CLIENT_ID``), else ""."""
    if not client_id:
        return ""
    if client_id == settings.OKTA_CONSOLE_CLIENT_ID:
        return "console"
    if client_id == settings.OKTA_WORKER_CLIENT_ID:
        return "worker"
    return ""


def public_client_holding_manage(app: Any) -> bool:
    """True for a public client (a single-page or native app: it cannot keep a
    secret) whose stored ``manage_count`` says it holds a manage scope."""
    return app.application_type in PUBLIC_CLIENT_TYPES and app.manage_count > 0


@dataclass
class ScopeRow:
    """One row of an app's grant collection table."""

    scope_id: str
    info: Any  # catalog ScopeInfo or None for an uncatalogued scope
    grant: ScopeGrant | None
    risk: str
    is_manage: bool
    usage: usage.GrantUsage | None = None  # a held scope's, once ``grant_usage`` ran

    @property
    def granted(self) -> bool:
        return self.grant is not None


@dataclass
class GrantCollection:
    """An app's grant collection laid out for the page.

    ``groups`` is ``[(resource, [ScopeRow])]``: the catalog scopes the view shows;
    ``uncatalogued`` lists held scopes the catalog does not know.
    """

    groups: list[tuple[str, list[ScopeRow]]]
    uncatalogued: list[ScopeRow]
    held: int
    held_manage: int
    max_risk: str
    grants: dict[str, ScopeGrant] = field(default_factory=dict)
    held_rows: list[ScopeRow] = field(default_factory=list)  # riskiest first


SHOW_CHOICES = ("held", "manage", "all")
PICKER_KINDS = ("read", "manage", "other")
PICKER_RISKS = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class AppView:
    """What an app's page shows, kept through confirmations, step-ups and writes.

    ``show``: "held" (the default: the scopes the app holds), "manage" (every
    catalog manage scope) or "all" (the whole catalog). ``pick``: the "Add
    scopes" picker is open; its filters ``q`` (text in a scopeId or its
    description, any case), ``resource``, ``kind`` (read | manage | other) and ``risk``
    (critical | high | medium | low) are "" for no filter. ``window``: the days
    the usage verdicts look back (30-365).
    """

    show: str = "held"
    pick: bool = False
    q: str = ""
    resource: str = ""
    kind: str = ""
    risk: str = ""
    window: int = DEFAULT_WINDOW_DAYS

    @property
    def params(self) -> list[tuple[str, str]]:
        """The fields that differ from the default view, as ``(name, value)``
        (hidden form fields and query strings are built from them)."""
        params = [("show", self.show)] if self.show != "held" else []
        if self.window != DEFAULT_WINDOW_DAYS:
            params.append(("window", str(self.window)))
        if self.pick:
            params.append(("pick", "1"))
            params += [
                (name, value)
                for name in ("q", "resource", "kind", "risk")
                if (value := getattr(self, name))
            ]
        return params

    @property
    def query(self) -> str:
        """``?show=…&pick=1…`` for this view; "" for the default one."""
        return "?" + urlencode(self.params) if self.params else ""

    def links(self) -> dict[str, str]:
        """Query strings of the views one click away: ``show_<choice>`` (the
        picker kept as it is), ``pick`` (the picker open, unfiltered) and ``close`` (closed,
        its filters dropped)."""
        links = {
            f"show_{choice}": replace(self, show=choice).query
            for choice in SHOW_CHOICES
        }
        links["pick"] = AppView(show=self.show, pick=True, window=self.window).query
        links["close"] = AppView(show=self.show, window=self.window).query
        return links

    @property
    def window_params(self) -> list[tuple[str, str]]:
        """``params`` but ``window``: the hidden fields of the window form."""
        return [(name, value) for name, value in self.params if name != "window"]


@dataclass
class PickerRow:
    """One catalog scope in the "Add scopes" picker."""

    info: Any  # catalog ScopeInfo
    risk: str  # "" when low
    held: bool
    selected: bool


@dataclass(frozen=True)
class AppUsage:
    """What an app's page says about usage: the ``window`` (days) its verdicts
    look back, the ``coverage`` of the System Log they rest on, and the scopes
    the app was ``missing`` (requested and denied within the window, not
    held), each with when it was last denied."""

    window: int
    coverage: Coverage
    missing: list[tuple[str, datetime | None]]

    @property
    def missing_ids(self) -> set[str]:
        return {scope_id for scope_id, _ in self.missing}


def grant_usage(app: OktaApp, collection: GrantCollection, window: int) -> AppUsage:
    """Set ``usage`` (evidence and verdict over ``window`` days) on each held
    row of ``collection``; one query (the app's evidence; the coverage rides on
    ``selectors.app_by_okta_id``'s)."""
    seen = usage.coverage_of(app)
    found = usage.evidence([app.client_id])
    by_scope = {
        u.grant.scope_id: u
        for u in usage.app_usage(
            app, collection.grants.values(), window_days=window, seen=seen, found=found
        )
    }
    rows = [r for _, group in collection.groups for r in group]
    for row in [*rows, *collection.uncatalogued, *collection.held_rows]:
        row.usage = by_scope.get(row.scope_id) if row.grant is not None else None
    return AppUsage(
        window=window,
        coverage=seen,
        missing=usage.app_missing(
            app, collection.grants, found, seen, window_days=window
        ),
    )


def scope_picker(
    view: AppView, held: set[str], selected: Sequence[str] = ()
) -> list[PickerRow]:
    """Catalog scopes matching the picker's filters (``view``), by resource;
    the ``selected`` scopeIds (ticked before the filters changed) come first,
    matching or not, so a new filter never drops a choice."""
    catalog = get_catalog()
    q = view.q.casefold()
    chosen = [catalog.get(s) for s in dict.fromkeys(selected) if catalog.knows(s)]
    rows = [
        PickerRow(info=info, risk=catalog.risk(info.name), held=False, selected=True)
        for info in chosen
        if info.name not in held
    ]
    for resource, infos in catalog.groups:
        if view.resource and resource != view.resource:
            continue
        for info in infos:
            risk = catalog.risk(info.name)
            kind = info.kind if info.kind in ("read", "manage") else "other"
            if (
                info.name in selected
                or (view.kind and kind != view.kind)
                or (view.risk and (risk or "low") != view.risk)
                or (
                    q
                    and q not in info.name.casefold()
                    and q not in info.description.casefold()
                )
            ):
                continue
            rows.append(
                PickerRow(info=info, risk=risk, held=info.name in held, selected=False)
            )
    return rows


def grant_collection(rows: list[ScopeGrant], show: str = "held") -> GrantCollection:
    """The held scopes (``show`` "held"), every catalog manage scope ("manage")
    or every catalog scope ("all"), granted or not, plus held scopes the catalog
    does not know (always listed), from an app's grant ``rows``
    (``selectors.app_grants``).
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
    """The app's grant changes, newest first, from its grant ``rows``.

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


def holders_by_scope(preview: int = 4) -> dict[str, Holders]:
    """scopeId -> :class:`Holders`, for every scope with open grants. Two
    queries (``selectors.scope_holders``, ``selectors.app_names``)."""
    rows = list(selectors.scope_holders(preview))
    names = selectors.app_names({pk for row in rows for pk in row[2:] if pk})
    return {
        scope_id: Holders(count=count, preview=[names[pk] for pk in pks if pk in names])
        for scope_id, count, *pks in rows
    }


@dataclass
class ScopeApps:
    """Apps for one scope's page: up to ``selectors.SCOPE_APPS_LIMIT``
    ``holders`` (each with ``grant_created``, ``grant_by``), ``truncated`` when
    more hold it, and up to ``selectors.CANDIDATES`` ``candidates`` not holding
    it."""

    holders: list[OktaApp]
    candidates: list[OktaApp]
    truncated: bool


def scope_apps(scope_id: str, q: str = "") -> ScopeApps:
    """``selectors.scope_holding_apps`` and ``selectors.scope_candidates``."""
    holders = list(selectors.scope_holding_apps(scope_id))
    return ScopeApps(
        holders=holders[: selectors.SCOPE_APPS_LIMIT],
        candidates=list(selectors.scope_candidates(scope_id, q)),
        truncated=len(holders) > selectors.SCOPE_APPS_LIMIT,
    )


@dataclass(frozen=True)
class MatrixCell:
    """An app's access in one scope family: ``kind`` the strongest it holds
    (manage > read > self), ``risk`` the riskiest of those scopes ("low" …
    "critical"), ``scope_id`` that riskiest scope (the cell links to its row on
    the app's page)."""

    kind: str
    risk: str
    scope_id: str


@dataclass
class MatrixRow:
    """One holder of the apps x scope-families matrix: an app, or (``app``
    None) an OIN API service ``integration`` with its ``privilege`` (the
    rule table's ``assess_integration``); ``cells`` follow ``families`` (None
    where the holder has nothing of the family)."""

    app: OktaApp | None
    cells: list[MatrixCell | None]
    manage_count: int
    integration: api_services.Holder | None = None
    privilege: privilege.Assessment | None = None


_STRENGTH = {"": 0, "self": 1, "read": 2, "manage": 3}


def _family_cells(scope_ids: Sequence[str]) -> dict[str, MatrixCell]:
    """Scope family -> the :class:`MatrixCell` of one holder's scopeIds."""
    catalog = get_catalog()
    best: dict[str, MatrixCell] = {}
    for scope_id in sorted(scope_ids):
        family = catalog.resource(scope_id)
        info = catalog.get(scope_id)
        kind = (
            info.kind if info else ("manage" if catalog.is_manage(scope_id) else "read")
        )
        risk = catalog.risk(scope_id) or "low"
        held = best.get(family)
        if held is None:
            best[family] = MatrixCell(kind, risk, scope_id)
            continue
        riskier = RISK_RANK[risk] > RISK_RANK[held.risk]
        best[family] = MatrixCell(
            kind if _STRENGTH.get(kind, 0) > _STRENGTH[held.kind] else held.kind,
            risk if riskier else held.risk,
            scope_id if riskier else held.scope_id,
        )
    return best


def matrix_page(
    number: int, per_page: int, integrations: Sequence[api_services.Holder] = ()
) -> tuple[Page | None, list[str], list[MatrixRow]]:
    """One page of ``selectors.matrix_apps`` with a :class:`MatrixCell` per app
    and scope family (resource) it holds, after a row per API service
    integration of ``integrations`` (from ``grantedScopes``). Families are
    those held by any row of the page. None for a page past the end."""
    catalog = get_catalog()
    page = counted_page(selectors.matrix_apps(), number, per_page)
    if page is None:
        return None, [], []
    held: list[tuple[MatrixRow, dict[str, MatrixCell]]] = [
        (
            MatrixRow(
                app=None,
                cells=[],
                manage_count=sum(catalog.is_manage(s) for s in set(h.scopes)),
                integration=h,
                privilege=privilege.assess_integration(h.scopes),
            ),
            _family_cells(h.scopes),
        )
        for h in integrations
    ]
    held += [
        (
            MatrixRow(app=app, cells=[], manage_count=app.manage_count),
            _family_cells((app.scope_list or "").split()),
        )
        for app in page.object_list
    ]
    families = sorted({f for _, best in held for f in best})
    for row, best in held:
        row.cells = [best.get(f) for f in families]
    return page, families, [row for row, _ in held]


# --- audit --------------------------------------------------------------------------------


@dataclass
class AuditPage:
    """One keyset page: ``rows`` newest first, ``next_before`` the seq to continue
    below (None on the last page), ``before`` the seq this page started below
    (None on page one: the template links back to it otherwise)."""

    rows: list[AuditEvent]
    next_before: int | None
    before: int | None


def audit_page(
    filters: selectors.AuditFilters, before: int | None, size: int = 50
) -> AuditPage:
    """One page of audit rows with ``seq < before`` (keyset, never a COUNT)."""
    qs = selectors.audit_events(filters)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs[: size + 1])
    next_before = rows[size - 1].seq if len(rows) > size else None
    return AuditPage(rows=rows[:size], next_before=next_before, before=before)


@dataclass(frozen=True)
class RowChain:
    """Where one audit row stands in the hash chain.

    ``sealed``: its ``row_hash`` and ``row_mac`` match its columns (checked
    now); ``linked``: its ``prev_hash`` is the previous row's ``row_hash``
    (True for row 1 on the genesis hash; None when the previous row is
    missing); ``checked``: what the last verification says of it, "verified"
    (it covered the row and found the chain intact), "before" (a tail check
    that started after it), "after" (written since), "failed" or "never";
    ``verification``: that last check.
    """

    sealed: bool
    linked: bool | None
    checked: str
    verification: Verification


def row_chain(event: AuditEvent, verification: Verification) -> RowChain:
    """The :class:`RowChain` of a row from ``selectors.audit_row``."""
    if event.seq == 1:
        linked: bool | None = event.prev_hash == audit.GENESIS_HASH
    elif event.prev_row_hash is None:
        linked = None
    else:
        linked = event.prev_hash == event.prev_row_hash
    if verification.ok is None:
        checked = "never"
    elif not verification.ok:
        checked = "failed"
    elif event.seq < verification.first_seq:
        checked = "before"
    elif event.seq < verification.first_seq + (verification.rows or 0):
        checked = "verified"
    else:
        checked = "after"
    return RowChain(
        sealed=audit.row_sealed(event),
        linked=linked,
        checked=checked,
        verification=verification,
    )

"""Local grant state: OIDC apps, their Okta API scope grants, the audit trail, syncs.

Writes happen only in :mod:`grantsconsole.grants.services` (and
:mod:`grantsconsole.grants.audit` for audit rows); reads for pages in
:mod:`grantsconsole.console.selectors`. Every datetime is aware UTC.

Room for several Okta orgs (planned): every table that holds Okta state
(OktaApp, LogCursor, SyncRun, SyncLock, AuditEvent) can gain a nullable
``org = ForeignKey("grants.OktaOrg")`` in one additive migration, backfilled to
the single org, after which the unique constraints named ``grants_*_unique``
are swapped for ``(org, ...)`` versions (e.g. ``(org, okta_id)`` on OktaApp,
``(org, name)`` on SyncLock and LogCursor). No column is renamed or rewritten:
ScopeGrant reaches its org through ``app``; the audit hash covers the columns
listed in ``audit.HASHED_FIELDS`` and a new ``org`` column is added to that list
only for rows written after the migration (``hash_version`` on each row says
which list applies).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from typing import Any, ClassVar, NamedTuple

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models, router, transaction
from django.db.models import Case, Count, F, Max, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Right
from django.db.models.lookups import Exact
from django.utils import timezone

from grantsconsole.grants.privilege import RANK as PRIVILEGE_RANK
from grantsconsole.okta import scopes as scope_catalog


def manage_q(prefix: str = "") -> Q:
    """SQL condition "the grant at ``prefix`` (e.g. "grants__") is a manage
    scope": the catalog's manage scopes (e.g. okta.clients.register), or an
    uncatalogued scope ending in ``.manage`` (not the catalog's ``*.manage``
    self scopes). Reads ``ScopeGrant.risk_rank``, which the database keeps: a
    rated scope that is not one of the catalog's rated reads."""
    return Q(**{f"{prefix}risk_rank__gt": 0}) & ~Q(
        **{f"{prefix}scope_id__in": scope_catalog.rated_reads()}
    )


def _counts(open_grants: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``counted_grants()`` of one app, in Python, from its open grants'
    ``(scope_id, risk_rank)``: the same rules (``manage_q`` for manage)."""
    grant_count = manage_count = max_risk_rank = 0
    rated_reads = _rated_reads()
    for scope_id, risk_rank in open_grants:
        grant_count += 1
        manage_count += risk_rank > 0 and scope_id not in rated_reads
        max_risk_rank = max(max_risk_rank, risk_rank)
    return {
        "grant_count": grant_count,
        "manage_count": manage_count,
        "max_risk_rank": max_risk_rank,
    }


@cache
def _rated_reads() -> frozenset[str]:
    return frozenset(scope_catalog.rated_reads())


def _open_grants_of_outer_app(aggregate: Any) -> Coalesce:
    """Scalar subquery: ``aggregate`` over the outer app's open grants (0 if none)."""
    rows = (
        ScopeGrant.objects.filter(app=models.OuterRef("pk"), revoked_at=None)
        .order_by()
        .values("app")
        .annotate(v=aggregate)
        .values("v")
    )
    return Coalesce(Subquery(rows), Value(0))


def counted_grants() -> dict[str, Coalesce]:
    """``OktaApp``'s stored counts as computed from its open grant rows."""
    return {
        "grant_count": _open_grants_of_outer_app(Count("pk")),
        "manage_count": _open_grants_of_outer_app(Count("pk", filter=manage_q())),
        "max_risk_rank": _open_grants_of_outer_app(Max("risk_rank")),
    }


class OktaAppQuerySet(models.QuerySet):
    def recount(self, **fields: Any) -> int:
        """UPDATE these apps' ``grant_count``, ``manage_count`` and
        ``max_risk_rank`` from their open grant rows (and set ``fields`` in the
        same statement). Every write that opens or closes a ``ScopeGrant``
        recounts its apps in the same transaction (``ScopeGrant`` does it on
        every save, delete and bulk write: this UPDATE for several apps, the
        same counts taken in Python for one). Returns the rows updated."""
        return self.update(**counted_grants(), **fields)

    def update(self, **kwargs: Any) -> int:
        """Django's update; in the same transaction, one that sets ``label``
        copies it to the apps' grant rows (``ScopeGrant.app_label``) and one
        that sets ``removed_at`` moves their open grants in or out of
        ``ScopeCount`` (a removed app holds nothing)."""
        if "label" not in kwargs and "removed_at" not in kwargs:
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            held = _held_scopes(ids, self.db)
            changed = super().update(**kwargs)
            if "label" in kwargs:
                _copy_labels(ids, self.db)
            _count_scopes(_change(held, _held_scopes(ids, self.db)), self.db)
        return changed

    def miscounted(self) -> OktaAppQuerySet:
        """The apps whose stored counts differ from their open grant rows
        (none, unless a write skipped ``recount``)."""
        expected = {f"expected_{k}": v for k, v in counted_grants().items()}
        return self.annotate(**expected).exclude(
            grant_count=F("expected_grant_count"),
            manage_count=F("expected_manage_count"),
            max_risk_rank=F("expected_max_risk_rank"),
        )

    def with_synced_at(self) -> OktaAppQuerySet:
        """Annotate ``synced_at``, the app's "Last synced" (UTC; None if its
        grants were never read): the start of the newest ``complete`` full
        sync for an app it read (not removed, grants state "ok") when that is
        later than the app's ``last_synced_at``, else ``last_synced_at``. One
        SQL query with the rows (the run's start is a subquery)."""
        read_at = Subquery(
            SyncRun.objects.filter(kind=SyncRun.Kind.FULL, complete=True)
            .order_by("-id")
            .values("started_at")[:1]
        )
        return self.annotate(
            synced_at=Case(
                When(
                    Q(
                        removed_at__isnull=True,
                        grants_state=OktaApp.GrantsState.OK,
                        last_synced_at__lt=read_at,
                    ),
                    then=read_at,
                ),
                default=F("last_synced_at"),
                output_field=models.DateTimeField(),
            )
        )


class OktaApp(models.Model):
    """One OIDC app seen in the Okta org (``GET /api/v1/apps``, ``signOnMode``
    ``OPENID_CONNECT``, whatever its ``name``).

    ``client_id`` and ``application_type`` are "" for an OIDC app whose Okta
    object has no OAuth client settings (some of Okta's built-in apps); the
    pages show "—" for them.

    ``grants_state`` is "ok" when the last read of its grant collection
    (``GET /api/v1/apps/{appId}/grants``) succeeded and "unknown" when it failed
    (``grants_error`` says why; the local grants are then the last known ones).
    ``removed_at`` is set when a complete full sync no longer lists the app (or
    Okta answers 404 for it).

    Freshness: ``last_synced_at`` is when the app's row was last written by a
    read of its grants (its first read, a change, a state change, the
    incremental sync, "refresh this app"). A full sync that finds an app as
    stored does not write it; that app was read at the start of the newest
    ``complete`` full sync, which read every app listed with grants state
    "ok". ``OktaApp.objects.with_synced_at()`` gives the later of the two as
    ``synced_at``: what the pages show as "Last synced". ``version`` increases with every local change of
    the app's grants; a sync applies a snapshot only if the version it read
    before calling Okta is still current, so a slow sync never overwrites a
    newer change.

    ``grant_count`` (open grants), ``manage_count`` (open manage grants, see
    ``manage_q``) and ``max_risk_rank`` (0-4, the riskiest open grant's
    ``ScopeGrant.risk_rank``; 0 without one) are kept by every grant write in
    its transaction (``ScopeGrant``'s writes recount their apps), so the pages sort and show
    them without counting grants; ``manage.py check_counts`` compares them with
    the rows.
    """

    class GrantsState(models.TextChoices):
        OK = "ok", "read"
        UNKNOWN = "unknown", "could not be read"

    okta_id = models.CharField(max_length=64)
    label = models.CharField(max_length=500, blank=True)
    name = models.CharField(max_length=200, blank=True)
    client_id = models.CharField(max_length=200, blank=True)
    application_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32, blank=True)
    sign_on_mode = models.CharField(max_length=64, blank=True)
    okta_created = models.DateTimeField(null=True, blank=True)
    okta_last_updated = models.DateTimeField(null=True, blank=True)

    grants_state = models.CharField(
        max_length=16, choices=GrantsState.choices, default=GrantsState.UNKNOWN
    )
    grants_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_change_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    grant_count = models.PositiveIntegerField(default=0)
    manage_count = models.PositiveIntegerField(default=0)
    max_risk_rank = models.PositiveSmallIntegerField(default=0)

    objects = OktaAppQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["label", "okta_id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["okta_id"], name="grants_oktaapp_unique"),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["label", "okta_id"], name="grants_app_label_idx"),
            # The console's lists (present apps by label): a deep page skips
            # its offset in the index without reading the skipped apps' rows.
            models.Index(
                fields=["label", "okta_id"],
                condition=Q(removed_at__isnull=True),
                name="grants_app_present_idx",
            ),
            models.Index(fields=["status", "label"], name="grants_app_status_idx"),
            models.Index(
                fields=["application_type", "label"], name="grants_app_type_idx"
            ),
            models.Index(fields=["grants_state"], name="grants_app_state_idx"),
            # Usage evidence names apps by client_id (what the System Log says).
            models.Index(fields=["client_id"], name="grants_app_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.okta_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Django's save; in the same transaction, a save that may change
        ``label`` copies it to the app's grant rows (``ScopeGrant.app_label``)
        and one that may change ``removed_at`` moves its open grants in or out
        of ``ScopeCount`` (a removed app holds nothing)."""
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        fields = kwargs.get("update_fields")
        # A new app has no grant rows yet.
        new = self._state.adding
        counted = not new and (fields is None or "removed_at" in fields)
        with transaction.atomic(using=using, savepoint=False):
            held = _held_scopes([self.pk], using) if counted else Counter()
            super().save(*args, **kwargs)
            if not new and (fields is None or "label" in fields):
                _copy_labels([self.pk], using)
            if counted:
                _count_scopes(_change(held, _held_scopes([self.pk], using)), using)

    def stored(self, section: str) -> Any:
        """The app's ``privilege`` (ClientPrivilege), ``controls`` (AppControls)
        or ``refresh_tokens`` (AppRefreshTokens) row, or None before a sync
        stored one. No query when the app was read with ``select_related`` of
        that section (the app page: ``console.selectors.app_by_okta_id``)."""
        try:
            return getattr(self, section)
        except ObjectDoesNotExist:
            return None


def _copy_labels(app_ids: list[Any], using: str) -> None:
    """Set ``ScopeGrant.app_label`` of these apps' grant rows to their apps'
    labels (one UPDATE of the rows that differ; none when no label changed)."""
    label = OktaApp.objects.filter(pk=models.OuterRef("app_id")).values("label")[:1]
    for start in range(0, len(app_ids), 1000):
        ScopeGrant.objects.using(using).filter(
            app_id__in=app_ids[start : start + 1000]
        ).exclude(app_label=Subquery(label)).update(app_label=Subquery(label))


def _risk_rank() -> Case:
    """SQL for a grant's risk rank (``scope_catalog.RISK_RANK``) from its
    ``scope_id``, as ``okta.scopes.risk`` says: the catalog's scopes rated above low
    (manage scopes and the reads exposing credentials or personal data) by their
    risk (2-4); any other scope whose name ends in ``.manage`` (case-sensitive)
    3, "high", unless the catalog lists it as not a manage scope (its
    ``*.manage`` self scopes); everything else (low) 0.

    Built from the catalog's rated scopes and those self scopes, so adding low
    read scopes changes nothing here. When a catalog update does change it,
    ``makemigrations`` writes an AlterField that Django cannot apply to a
    generated column: replace it by RemoveField + AddField of ``risk_rank``
    (the column is recomputed; tests/grants/test_models.py fails until the
    migration exists and says so).
    """
    whens = [
        When(scope_id__in=names, then=Value(rank))
        for rank, names in scope_catalog.rated_ranks().items()
    ]
    not_manage = sorted(
        info.name
        for info in scope_catalog.all()
        if not scope_catalog.is_manage(info.name) and info.name.endswith(".manage")
    )
    ends_in_manage = Exact(Right("scope_id", len(".manage")), Value(".manage"))
    whens.append(
        When(
            ends_in_manage & ~Q(scope_id__in=not_manage),
            then=Value(scope_catalog.RISK_RANK["high"]),
        )
    )
    return Case(*whens, default=Value(0))


def is_org_issuer(issuer: str) -> bool:
    """True when a grant's ``issuer`` is the org URL (``settings.OKTA_ORG_URL``),
    i.e. the Org Authorization Server, the only one that mints tokens with
    ``okta.*`` scopes; also True for an empty issuer (nothing to judge). A grant
    naming a custom authorization server can never reach the Okta API."""
    return not issuer or issuer.rstrip("/") == settings.OKTA_ORG_URL.rstrip("/")


class ScopeGrantQuerySet(models.QuerySet):
    """Every bulk write of grant rows recounts their apps (``OktaApp.recount``)
    and their scopes (``ScopeCount``) in its own transaction: whoever opens or
    closes a grant keeps the counts.

    Inside a caller's transaction no savepoint is made (``savepoint=False``,
    as Django's own ``save``): the write and its recounts only need to be
    atomic, and a failure of any fails the caller's transaction."""

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            apps = {
                pk: (label, removed_at is None)
                for pk, label, removed_at in OktaApp.objects.using(self.db)
                .filter(pk__in={g.app_id for g in objs})
                .values_list("pk", "label", "removed_at")
            }
            for g in objs:
                g.app_label = apps.get(g.app_id, ("", False))[0]
            made = super().bulk_create(objs, *args, **kwargs)
            _recount({g.app_id for g in made}, self.db)
            opened = Counter(
                g.scope_id
                for g in made
                if g.revoked_at is None and apps.get(g.app_id, ("", False))[1]
            )
            _count_scopes(opened, self.db)
        return made

    def update(self, **kwargs: Any) -> int:
        with transaction.atomic(using=self.db, savepoint=False):
            rows = list(self.values_list("pk", "app_id"))
            if not rows:
                return 0
            pks = [pk for pk, _ in rows]
            before = _open_scopes(pks, self.db)
            changed = super().update(**kwargs)
            app_ids = {app_id for _, app_id in rows}
            _recount(app_ids | {kwargs.get("app_id"), _pk(kwargs.get("app"))}, self.db)
            _count_scopes(_change(before, _open_scopes(pks, self.db)), self.db)
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        with transaction.atomic(using=self.db, savepoint=False):
            rows = list(self.values_list("pk", "app_id"))
            gone = _open_scopes([pk for pk, _ in rows], self.db)
            deleted = super().delete()
            _recount({app_id for _, app_id in rows}, self.db)
            _count_scopes(_change(gone, Counter()), self.db)
        return deleted


def _pk(app: Any) -> Any:
    return getattr(app, "pk", app)


def _recount(app_ids: set[Any], using: str) -> None:
    ids = sorted(app_ids - {None})
    if len(ids) == 1:
        # One app (a row's save, one app's bulk write; the usual case): its
        # open rows are few, and reading them and setting the counts costs
        # half of building the UPDATE with three correlated subqueries.
        rows = ScopeGrant.objects.using(using).filter(
            app_id=ids[0], revoked_at__isnull=True
        )
        counts = _counts(rows.values_list("scope_id", "risk_rank"))
        OktaApp.objects.using(using).filter(pk=ids[0]).update(**counts)
        return
    # A bulk write may touch thousands of apps: stay under SQLite's limit of
    # parameters per statement.
    for start in range(0, len(ids), 1000):
        OktaApp.objects.using(using).filter(pk__in=ids[start : start + 1000]).recount()


def _open_scopes(pks: list[Any], using: str, field: str = "pk") -> Counter[str]:
    """scopeId -> how many of these grant rows (``field`` "app_id": of these
    apps) are open grants of a present app."""
    found: Counter[str] = Counter()
    for start in range(0, len(pks), 1000):
        found.update(
            ScopeGrant.objects.using(using)
            .filter(
                **{f"{field}__in": pks[start : start + 1000]},
                revoked_at=None,
                app__removed_at__isnull=True,
            )
            .values_list("scope_id", flat=True)
        )
    return found


def _held_scopes(app_ids: list[Any], using: str) -> Counter[str]:
    """scopeId -> how many of these apps hold it (present apps' open grants)."""
    return _open_scopes(app_ids, using, field="app_id")


def _change(before: Counter[str], after: Counter[str]) -> Counter[str]:
    """``after - before`` per scopeId, negative counts kept."""
    change = Counter(after)
    change.subtract(before)
    return change


def _count_scopes(change: Counter[str], using: str) -> None:
    """Add ``change`` (scopeId -> opened minus closed grants) to ``ScopeCount``
    in two statements per 300 scopes (SQLite's 999 parameters): the rows are
    read (and on PostgreSQL locked) in scopeId order, so concurrent writers
    lock them in the same order, then one UPDATE adds each scope's change. A
    scope seen for the first time gets its row first."""
    ordered = sorted((scope_id, n) for scope_id, n in change.items() if n)
    counts = ScopeCount.objects.using(using)
    for start in range(0, len(ordered), 300):
        part = dict(ordered[start : start + 300])
        present = set(
            counts.filter(scope_id__in=part)
            .order_by("scope_id")
            .select_for_update()
            .values_list("scope_id", flat=True)
        )
        for scope_id in sorted(part.keys() - present):
            counts.get_or_create(scope_id=scope_id)
        counts.filter(scope_id__in=part).update(
            holders=F("holders")
            + Case(
                *(When(scope_id=s, then=Value(n)) for s, n in part.items()),
                default=Value(0),
            )
        )


class _GrantState(NamedTuple):
    """A grant row as ScopeCount sees it."""

    app_id: Any
    scope_id: str
    open: bool


def _scope_change(
    before: _GrantState | None, after: _GrantState | None, using: str
) -> Counter[str]:
    """The ScopeCount change (scopeId -> +1/-1) of one grant row going from
    ``before`` to ``after`` (None: no row). Only an open grant of a present app
    counts; the app's presence is read only when an open grant comes or goes."""
    if before == after:
        return Counter()
    change: Counter[str] = Counter()
    present: dict[Any, bool] = {}
    for state, sign in ((before, -1), (after, 1)):
        if state is None or not state.open:
            continue
        if state.app_id not in present:
            present[state.app_id] = (
                OktaApp.objects.using(using)
                .filter(pk=state.app_id, removed_at__isnull=True)
                .exists()
            )
        if present[state.app_id]:
            change[state.scope_id] += sign
    return change


class ScopeGrant(models.Model):
    """One Okta API scope grant of an app, with history.

    Okta hard-deletes a revoked grant; here the row stays, with ``revoked_at``
    and ``revoked_by`` (an Okta login, a System Log actor, or "sync" when the
    change was only noticed by a full sync). At most one open
    (``revoked_at IS NULL``) row exists per (app, scope_id).

    Saving or deleting a row (one by one or through the queryset's
    ``bulk_create``/``update``/``delete``) recounts its app's stored counts
    (see ``OktaApp``) and its scope's ``ScopeCount`` in the same transaction.
    ``app_label`` is a copy of the app's label, written with the row and
    rewritten when the app is relabelled (``OktaApp.save``/``update``): the
    scopes list previews each scope's first holders by label from one index
    on the grants.
    """

    app = models.ForeignKey(OktaApp, on_delete=models.PROTECT, related_name="grants")
    app_label = models.CharField(max_length=500, blank=True)
    scope_id = models.CharField(max_length=200)
    okta_grant_id = models.CharField(max_length=64, blank=True)
    issuer = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=32, blank=True)
    created_by_id = models.CharField(max_length=64, blank=True)
    created_by_type = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(null=True, blank=True)  # Okta's grant.created
    first_seen_at = models.DateTimeField()
    # When recorded or last changed; an open grant was last seen at its app's
    # last_synced_at (not rewritten on every sync, to keep no-change syncs write-free).
    last_seen_at = models.DateTimeField()
    granted_by = models.CharField(max_length=300, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=300, blank=True)
    # When the grant is to be revoked (aware UTC): set by an approved request
    # or by a Super Admin; None means no end.
    ends_at = models.DateTimeField(null=True, blank=True)
    # Kept by the database from scope_id: the apps list counts manage grants and
    # shows the riskiest grant in plain SQL instead of 600-parameter CASEs.
    risk_rank = models.GeneratedField(
        expression=_risk_rank(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    objects = ScopeGrantQuerySet.as_manager()

    # What the row holds in the database (set when loaded and after each save):
    # save() and delete() derive their ScopeCount change from it and the row's
    # fields instead of reading the row before and after.
    _stored: _GrantState | None = None

    class Meta:
        ordering: ClassVar[list[str]] = ["scope_id", "-first_seen_at"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["app", "scope_id"],
                condition=Q(revoked_at__isnull=True),
                name="grants_scopegrant_one_open_unique",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(
                fields=["scope_id", "revoked_at"], name="grants_grant_scope_idx"
            ),
            models.Index(fields=["app", "revoked_at"], name="grants_grant_app_idx"),
            # The scopes list's "first holders by label" of each scope.
            models.Index(
                fields=["scope_id", "app_label"],
                condition=Q(revoked_at__isnull=True),
                name="grants_grant_holder_idx",
            ),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "open"
        return f"{self.scope_id} on {self.app_id} ({state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            if self._state.adding:
                self.app_label = self.app.label
            before = self._stored_state(using)
            super().save(*args, **kwargs)
            _recount({self.app_id}, using)
            after = _GrantState(self.app_id, self.scope_id, self.revoked_at is None)
            fields = kwargs.get("update_fields")
            if before is not None and fields is not None:
                # Fields left out of update_fields keep what the row held.
                fields = set(fields)
                after = _GrantState(
                    after.app_id if {"app", "app_id"} & fields else before.app_id,
                    after.scope_id if "scope_id" in fields else before.scope_id,
                    after.open if "revoked_at" in fields else before.open,
                )
            _count_scopes(_scope_change(before, after, using), using)
        self._stored = after

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            before = self._stored_state(using)
            deleted = super().delete(*args, **kwargs)
            _recount({self.app_id}, using)
            _count_scopes(_scope_change(before, None, using), using)
        self._stored = None
        return deleted

    @classmethod
    def from_db(cls, db: str, field_names: Any, values: Any) -> ScopeGrant:
        instance = super().from_db(db, field_names, values)
        loaded = dict(zip(field_names, values, strict=True))
        if {"app_id", "scope_id", "revoked_at"} <= loaded.keys():
            instance._stored = _GrantState(
                loaded["app_id"], loaded["scope_id"], loaded["revoked_at"] is None
            )
        return instance

    def _stored_state(self, using: str) -> _GrantState | None:
        if self._stored is None and self.pk is not None:
            # Built with a pk (save() updates the row if it exists), or loaded
            # with deferred fields: read what the row holds.
            row = (
                ScopeGrant.objects.using(using)
                .filter(pk=self.pk)
                .values_list("app_id", "scope_id", "revoked_at")
                .first()
            )
            if row is not None:
                return _GrantState(row[0], row[1], row[2] is None)
        return self._stored

    @property
    def from_org_authorization_server(self) -> bool:
        """False when Okta says the grant names another issuer (see is_org_issuer)."""
        return is_org_issuer(self.issuer)


class ScopeCountQuerySet(models.QuerySet):
    def miscounted(self) -> list[tuple[str, int, int]]:
        """``(scope_id, stored, open grant rows)`` for every scope whose
        ``holders`` differs from its open grant rows (a missing row counts as
        0), by scopeId; empty unless a write skipped the ``ScopeGrant`` hooks."""
        rows = dict(
            ScopeGrant.objects.using(self.db)
            .filter(revoked_at=None, app__removed_at__isnull=True)
            .order_by()
            .values("scope_id")
            .annotate(n=Count("pk"))
            .values_list("scope_id", "n")
        )
        stored = dict(self.values_list("scope_id", "holders"))
        return sorted(
            (s, stored.get(s, 0), rows.get(s, 0))
            for s in stored.keys() | rows.keys()
            if stored.get(s, 0) != rows.get(s, 0)
        )

    def recount(self) -> None:
        """Rewrite every scope's ``holders`` from its open grant rows."""
        with transaction.atomic(using=self.db):
            for scope_id, _, n in self.miscounted():
                self.update_or_create(scope_id=scope_id, defaults={"holders": n})


class ScopeCount(models.Model):
    """How many present apps hold each scopeId (open grants of apps without
    ``removed_at``): what the scopes list shows, without counting grant rows.
    Kept in the writer's transaction by every write that opens or closes a
    grant (``ScopeGrant`` and its queryset) or removes or restores an app
    (``OktaApp.save``/``update``): each adds what it changed. ``manage.py
    check_counts`` compares it with the rows. A row may stay at 0.
    """

    scope_id = models.CharField(max_length=200, unique=True)
    # Not positive-only: a count that drifted must not make grant writes fail.
    holders = models.IntegerField(default=0)

    objects = ScopeCountQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.scope_id}: {self.holders}"


class AuditImmutableError(Exception):
    """Raised when code tries to change or delete an audit row."""


class _AppendOnlyQuerySet(models.QuerySet):
    """A queryset that reads and inserts but refuses every update and delete."""

    def update(self, **kwargs: Any) -> int:
        raise AuditImmutableError(f"{self.model.__name__} rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError(f"{self.model.__name__} rows cannot be deleted.")

    def _raw_delete(self, using: Any) -> int:
        raise AuditImmutableError(f"{self.model.__name__} rows cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditImmutableError(f"{self.model.__name__} rows cannot be updated.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        raise AuditImmutableError(
            f"{self.model.__name__} rows are appended one by one through "
            "grantsconsole.grants.audit."
        )

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditImmutableError(f"{self.model.__name__} rows cannot be updated.")


class _AppendOnlyModel(models.Model):
    """Base for append-only tables: save() only inserts, delete() refuses."""

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutableError(f"{type(self).__name__} rows cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError(f"{type(self).__name__} rows cannot be deleted.")


class AuditEvent(_AppendOnlyModel):
    """One audit row: append-only and hash-chained (see :mod:`.audit`).

    ``seq`` is 1, 2, 3 ... without gaps; ``prev_hash`` is the previous row's
    ``row_hash`` ("0" * 64 for the first); ``row_hash`` is SHA-256 over
    ``prev_hash`` and the canonical JSON of the hashed columns; ``row_mac`` is an
    HMAC-SHA256 of ``row_hash`` with ``settings.AUDIT_HMAC_KEY`` (a key outside
    the database, so a row forged with a recomputed hash is still caught).
    ``actor_id``/``actor_login`` are an Okta user id and login, a System Log
    actor, or "worker". ``app_okta_id``/``app_label`` keep the app's identity as
    it was. ``event_key`` (optional, unique) makes a record idempotent.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"
        PENDING = "pending"
        DENIED = "denied"
        SKIPPED = "skipped"

    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    action = models.CharField(max_length=40)
    actor_id = models.CharField(max_length=200, blank=True)
    actor_login = models.CharField(max_length=300, blank=True)
    app = models.ForeignKey(
        OktaApp,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    app_okta_id = models.CharField(max_length=64, blank=True)
    app_label = models.CharField(max_length=500, blank=True)
    scope_id = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=16, default=Outcome.SUCCESS)
    okta_request_id = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    event_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (NULL = no key; unique)
    hash_version = models.PositiveSmallIntegerField(default=1)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    row_mac = models.CharField(max_length=64)

    class Meta:
        ordering: ClassVar[list[str]] = ["-seq"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["seq"], name="grants_auditevent_seq_unique"
            ),
            models.UniqueConstraint(
                fields=["event_key"], name="grants_auditevent_key_unique"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["created_at", "seq"], name="grants_audit_time_idx"),
            models.Index(fields=["app", "seq"], name="grants_audit_app_idx"),
            models.Index(fields=["actor_login", "seq"], name="grants_audit_actor_idx"),
            models.Index(fields=["action", "seq"], name="grants_audit_action_idx"),
            # The stale banner's "a console write found Okta down" on every page
            # (console.selectors.status_annotations): failures after a time, newest
            # first, without walking other rows. Without it, in an org with no
            # failure at all, PostgreSQL scanned the whole trail (40 ms per page
            # at 200,000 rows) and SQLite every grant and revoke row.
            models.Index(
                fields=["outcome", "created_at"], name="grants_audit_outcome_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"


class AuditCheckpoint(_AppendOnlyModel):
    """A signed statement "the chain had ``count`` rows ending in ``head_hash``".

    ``mac`` is HMAC-SHA256 (``settings.AUDIT_HMAC_KEY``) over count, head hash
    and time (and ``seals``); the same line goes to the log (the off-box copy).
    Checkpoints let ``verify_audit`` notice rows cut off the tail of the chain.
    """

    count = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    mac = models.CharField(max_length=64)
    # Statements of evidence signed with the head (audit.Seal), e.g.
    # {"usage": {"after": day, "through": day, "digest": hex}}; covered by ``mac``.
    # Nullable without a default, so adding it keeps SQLite's append-only triggers.
    seals = models.JSONField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.count} @ {self.created_at:%Y-%m-%dT%H:%M:%SZ}"


class AuditVerification(models.Model):
    """One check of the audit trail (``services.verify_audit_trail``) and its result.

    ``scope`` "full" re-hashes every row; "tail" only the rows after the newest
    checkpoint (run after each new checkpoint). ``trigger`` says what ran it
    (beat, checkpoint, console, command) and ``requested_by`` who pressed
    "Verify now" (an Okta login; "" for the worker). ``rows`` (from seq
    ``first_seq``) and ``checkpoints`` were checked; ``ignored_lines`` are
    off-database lines that looked like checkpoints but were not signed with
    the audit key. On failure ``problem_where``/``problem_ident`` name the first
    bad row (its seq), checkpoint (its id) or off-database line (its number),
    ``problem_kind`` the kind of break (a key of ``audit.BREAKS``) and
    ``problem`` says it in plain words. ``status`` is "queued" from the press
    until a worker runs the check. Times are UTC; ``duration_ms`` is wall time.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        OK = "ok"
        FAILED = "failed"

    class Scope(models.TextChoices):
        FULL = "full"
        TAIL = "tail"

    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.FULL)
    trigger = models.CharField(max_length=40)
    requested_by = models.CharField(max_length=300, blank=True)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    rows = models.PositiveBigIntegerField(default=0)
    first_seq = models.PositiveBigIntegerField(default=1)
    checkpoints = models.PositiveIntegerField(default=0)
    ignored_lines = models.PositiveIntegerField(default=0)
    problem_where = models.CharField(max_length=16, blank=True)
    problem_ident = models.PositiveBigIntegerField(null=True, blank=True)
    problem_kind = models.CharField(max_length=16, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-id"]

    def __str__(self) -> str:
        return f"audit verification #{self.pk} ({self.status})"

    @property
    def ok(self) -> bool | None:
        """True or False once checked; None while queued."""
        if self.status == self.Status.QUEUED:
            return None
        return self.status == self.Status.OK


class SyncRun(models.Model):
    """One full or incremental sync: progress, counters, outcome.

    ``apps_total``/``apps_done`` give progress for the UI; ``errors`` maps an app's
    Okta id to a plain-words message for apps whose grants could not be read
    (or were not read: a run Okta stopped early lists every app it did not read).
    ``baseline`` marks a full sync started before any full sync finished: the
    apps and grants it finds are the baseline (Okta's state when the console
    began watching), not changes; ``grants_imported`` counts those grants, and
    ``grants_added`` only grants that are changes.
    A full sync works in short steps (one apps page, or one batch of apps'
    grants); ``step`` numbers them so a redelivered step never runs twice and
    ``list_after``/``list_done`` remember where the apps listing stands.
    ``listed_app_ids`` are the pks of the OIDC apps listed so far, in listing
    order; ``grants_cursor`` how many of them have had their grants read (a
    redelivered step resumes there); ``kept_app_ids`` the pks of apps we hold
    that the listing has but not as OIDC apps (kept, not read, not removed).
    ``complete``: the listing was complete and every listed app was read, so
    unlisted apps were marked removed and every app it read with grants state
    "ok" was read at (or after) ``started_at``; a run stopped early is not.

    A run an admin asks for ("Sync now") is created "queued" before the worker
    has it, so the page can follow it at once; ``started_at`` is then when it
    was queued, until a worker starts it (``services.sync_queue``).
    """

    class Kind(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"

    class Status(models.TextChoices):
        QUEUED = "queued"  # asked for by an admin, no worker has started it yet
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        PARTIAL = "partial"  # finished, some apps' grants not read (or unreadable)
        FAILED = "failed"
        SKIPPED = "skipped"  # another sync of the same kind held the lock

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(max_length=32, blank=True)  # beat | command | console
    # The Okta login of the admin who pressed "Sync now" ("" for beat, command).
    requested_by = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    apps_total = models.PositiveIntegerField(default=0)
    apps_done = models.PositiveIntegerField(default=0)
    apps_failed = models.PositiveIntegerField(default=0)
    apps_added = models.PositiveIntegerField(default=0)
    apps_removed = models.PositiveIntegerField(default=0)
    grants_added = models.PositiveIntegerField(default=0)
    baseline = models.BooleanField(default=False)
    grants_imported = models.PositiveIntegerField(default=0)
    grants_revoked = models.PositiveIntegerField(default=0)
    events_seen = models.PositiveIntegerField(default=0)
    okta_requests = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=dict, blank=True)

    step = models.PositiveIntegerField(default=0)
    list_after = models.CharField(max_length=500, blank=True)
    list_done = models.BooleanField(default=False)
    listed_app_ids = models.JSONField(default=list, blank=True)
    kept_app_ids = models.JSONField(default=list, blank=True)
    grants_cursor = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar[list[str]] = ["-started_at", "-id"]
        indexes: ClassVar[list[Any]] = [
            models.Index(
                fields=["kind", "status", "-id"], name="grants_syncrun_kind_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sync #{self.pk} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status not in (self.Status.RUNNING, self.Status.QUEUED)

    @property
    def elapsed(self) -> timedelta:
        """Time since ``started_at`` (queued: waiting for a worker; running: so
        far), or the run's whole duration once finished."""
        return (self.finished_at or timezone.now()) - self.started_at


class SyncLock(models.Model):
    """A named single-flight lock with an owner token and an expiry (see locks.py)."""

    name = models.CharField(max_length=100, primary_key=True)
    owner = models.CharField(max_length=100, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lock {self.name} ({self.owner or 'free'})"


class LogCursor(models.Model):
    """Where the incremental sync resumes reading the System Log.

    ``next_url`` is the opaque ``rel="next"`` link of the last page processed
    (saved in the same transaction as the changes that page caused). Until the
    first poll, ``since`` says where to start (seeded by a full sync).
    """

    name = models.CharField(max_length=100, unique=True, default="system_log")
    next_url = models.TextField(blank=True)
    since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_event_published = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"log cursor {self.name}"


class AuditReport(models.Model):
    """A stored audit report (daily or on demand); ``data`` holds its sections.

    The shape of ``data`` is documented in ``services.reports.build_report``.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    trigger = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"audit report {self.period_start:%Y-%m-%d}..{self.period_end:%Y-%m-%d}"


class OktaPerson(models.Model):
    """Who an Okta user id is, so pages show a name beside the id: the local
    directory of the people the console shows (admins who signed in, System
    Log actors, grant creators).

    ``login`` and ``display_name`` ("" when unknown) come from ``source``:
    "sign-in" (the ID token of a console sign-in), "system-log" (an event's
    ``actor.alternateId``/``displayName``) or "okta" (``GET
    /api/v1/users/{id}``, read by the worker for ids the other two never
    named). ``state`` is "named", "deleted" (Okta answered 404: the user no
    longer exists; the last known names, if any, stay) or "unreadable" (Okta
    refused the worker the read, e.g. it lacks ``okta.users.read``; tried
    again after ``services.people.RETRY_UNREADABLE``). ``refreshed_at`` (UTC)
    is when a source last wrote the row.
    """

    class State(models.TextChoices):
        NAMED = "named"
        DELETED = "deleted"
        UNREADABLE = "unreadable"

    okta_id = models.CharField(max_length=64, unique=True)
    login = models.CharField(max_length=300, blank=True, db_index=True)
    display_name = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NAMED)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["login", "okta_id"]

    def __str__(self) -> str:
        return f"{self.display_name or self.login or '?'} ({self.okta_id})"


class ApiServiceIntegration(models.Model):
    """An OIN API service integration seen in Okta: a holder of ``okta.*``
    scopes that is not an app of the org (``services.api_services``).

    ``granted_scopes`` is Okta's list of scopeIds, as sent (unknown ones kept);
    ``okta_created`` and ``created_by_id`` (an Okta user id) are Okta's
    ``createdAt``/``createdBy``. ``secrets`` lists its client secrets as
    ``{"id", "status", "created"}`` (``created`` ISO-8601 UTC, "" if Okta sent
    none), never the secret; ``secrets_error`` says why they could not be read
    ("" when read). ``removed_at``/``removed_by`` are set when it disappears
    from Okta (a sync) or the console removed it; history is kept. A sync that
    finds it unchanged writes nothing: like an app's, its freshness is the start
    of the last complete full sync.
    """

    okta_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=300, blank=True)
    type = models.CharField(max_length=200, blank=True)
    granted_scopes = models.JSONField(default=list, blank=True)
    created_by_id = models.CharField(max_length=64, blank=True)
    okta_created = models.DateTimeField(null=True, blank=True)
    secrets = models.JSONField(default=list, blank=True)
    secrets_error = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["name", "okta_id"]

    def __str__(self) -> str:
        return f"{self.name or self.type or '?'} ({self.okta_id})"


class ApiServiceRead(models.Model):
    """The one row saying whether the worker could last list API service
    integrations: ``error`` is "" after a clean read, else the plain reason
    (e.g. the worker lacks ``okta.oauthIntegrations.read``); ``since`` (UTC)
    is when that outcome began (written only when it changes). No row: never
    tried."""

    since = models.DateTimeField()
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"API service integrations: {self.error or 'readable'}"


class ClientPrivilege(models.Model):
    """A service app's admin roles as the last sync read them
    (``/oauth2/v1/clients/{clientId}/roles`` with targets), and the effective
    privilege they give its grants (grants/privilege.py).

    ``roles``: ``[{"id", "type", "label", "status", "groups": [group name...],
    "apps": [OIN app name or app id...], "resource_set": label or id}]`` in
    Okta's order. ``error``: why the roles could not be read last time ("" =
    read); the previous ``roles`` are kept then. ``read_at``: since when the
    roles are as stored (first read, or last change). ``rank``/``latent``/
    ``self_escalation``: the assessment of those roles and the app's open
    grants, for lists and sorting, recomputed by every write that changes
    either (``services.privilege_sync``; pages recompute lines).
    """

    app = models.OneToOneField(
        OktaApp, on_delete=models.CASCADE, related_name="privilege"
    )
    roles = models.JSONField(default=list)
    roles_known = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    rank = models.PositiveSmallIntegerField(default=0, db_index=True)
    latent = models.BooleanField(default=False)
    self_escalation = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"privilege of {self.app_id}: {[r.get('type') for r in self.roles]}"

    @property
    def risk(self) -> str:
        """The stored effective risk in words ("latent", "low" … "critical", or
        "" for no manage scope): ``rank`` read back through privilege.RANK."""
        return next((k for k, v in PRIVILEGE_RANK.items() if v == self.rank), "")


class AppRefreshTokens(models.Model):
    """What Okta last said about an app's live refresh tokens
    (``GET /api/v1/apps/{appId}/tokens``), read by "Refresh from Okta" and after
    a refresh-token revoke; pages show this summary, never call Okta.

    ``count``/``newest``/``oldest`` (``created`` of the newest and oldest token)
    are from the last read that succeeded, at ``read_at``; ``error`` is the
    plain-words reason the last read failed ("" when it succeeded), at
    ``error_at``. A failed read keeps the previous figures.
    """

    app = models.OneToOneField(
        OktaApp, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    count = models.PositiveIntegerField(default=0)
    newest = models.DateTimeField(null=True, blank=True)
    oldest = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.count} refresh tokens of app {self.app_id}"


class AppControls(models.Model):
    """An app's compensating controls, as the full sync last read them (see
    ``services.controls``): what limits the harm if its credential leaks.

    ``auth_method`` is ``credentials.oauthClient.token_endpoint_auth_method``
    ("" when Okta sent none); ``network`` is ``settings.oauthClient.network``:
    ``connection`` ("" when the app carries no restriction, i.e. anywhere;
    ``ANYWHERE``, ``ZONE`` or another value kept as Okta sent it) and the
    zone ids in ``network_include`` / ``network_exclude``. Both come with the
    apps listing, so they are kept for every OIDC app.

    ``credentials_state`` says whether its secrets (``client_secret_*``) or
    keys (``private_key_jwt``) were read: "read", "not read" (the sync reads
    them only for the apps where they matter, ``services.controls.matters``)
    or "unreadable" (``credentials_error`` says why; the last read ages are
    kept). ``credential_count`` counts the active ones and
    ``newest_credential_at`` / ``oldest_credential_at`` are their creation
    times (UTC; None when unknown). Like the app's grants, a sync that reads
    them as stored writes nothing: they are as of the app's "Last synced".
    """

    class CredentialsState(models.TextChoices):
        READ = "read"
        NOT_READ = "not read"
        UNREADABLE = "unreadable"

    app = models.OneToOneField(
        OktaApp, on_delete=models.CASCADE, related_name="controls"
    )
    auth_method = models.CharField(max_length=64, blank=True)
    network_connection = models.CharField(max_length=200, blank=True)
    network_include = models.JSONField(default=list, blank=True)
    network_exclude = models.JSONField(default=list, blank=True)
    credentials_state = models.CharField(
        max_length=16,
        choices=CredentialsState.choices,
        default=CredentialsState.NOT_READ,
    )
    credentials_error = models.TextField(blank=True)
    credential_count = models.PositiveIntegerField(default=0)
    newest_credential_at = models.DateTimeField(null=True, blank=True)
    oldest_credential_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"controls of app {self.app_id}"


class OrgSetting(models.Model):
    """An org-wide Okta setting the console watches, as the last full sync
    read it. ``name`` is Okta's (``clientPrivilegesSetting``: "assign Super
    Admin to new public client apps"); ``enabled`` is its value (None when it
    could not be read; ``error`` says why, and ``enabled`` keeps the last value
    read); ``changed_at`` is when a sync first saw the stored value or error
    (a sync that reads the stored value writes nothing)."""

    CLIENT_PRIVILEGES = "clientPrivilegesSetting"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(null=True)
    error = models.TextField(blank=True)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} = {self.enabled}"

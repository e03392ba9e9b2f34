"""Applying what Okta says about one app to the local state, in one transaction.

Used by the full sync, the incremental sync and "refresh this app". The Okta
calls happen before (outside any transaction); these functions only write the
database. A snapshot is applied only when the app's ``version`` is still the
one read before the Okta call, so a slower reader never overwrites a newer
change (the caller re-reads Okta and tries again).

Every difference found becomes an audit row: ``external_grant`` /
``external_revoke`` (a change made outside the console), ``app_discovered``,
``app_restored`` and ``app_removed``. Apps found by the baseline (the first full
sync) are recorded with one ``app_discovered`` row each, marked ``"baseline":
true`` in its detail and listing the scopes they hold; they are Okta's state when
the console began watching, not changes, so they leave ``last_change_at`` empty.
An app that appears after the baseline is a change: its ``app_discovered`` row
names the System Log actor who created it, and each grant it starts with gets
its own ``external_grant`` row. Each ``external_grant`` / ``external_revoke`` row
sends ``signals.external_change`` (governance raises its out-of-band alert). A difference that is a console write in progress
(an open intent for that app and scope) is not an external change: it is left to
the console while the request may be in flight, and settled as that intent's
outcome after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from grantsconsole.grants import audit, intents, signals
from grantsconsole.grants.audit import NOBODY, Actor
from grantsconsole.grants.intents import INTENT_IN_FLIGHT
from grantsconsole.grants.models import (
    AuditEvent,
    OktaApp,
    ScopeGrant,
    SyncRun,
    is_org_issuer,
)
from grantsconsole.grants.services.privilege_sync import reassess
from grantsconsole.okta import App, Grant

_CLOCK_SKEW = timedelta(minutes=2)  # Okta's clock against ours


def _made_by_intent(
    grant: Grant, intent: AuditEvent, attribution: Mapping[tuple[str, str], Actor]
) -> bool:
    """Could this grant be the one the intent's request created? Not when Okta
    names another creator, the grant is older than the intent, or the System
    Log attributes the grant to someone else."""
    if (
        grant.created_by_id
        and intent.actor_id
        and grant.created_by_id != intent.actor_id
    ):
        return False
    if grant.created is not None and grant.created < intent.created_at - _CLOCK_SKEW:
        return False
    return _log_allows(attribution.get((grant.scope_id, "grant")), intent)


def _revoked_by_intent(
    scope_id: str, intent: AuditEvent, attribution: Mapping[tuple[str, str], Actor]
) -> bool:
    """Could this revoke be the intent's? Not when the System Log names
    someone else (a revoked grant leaves nothing else to compare)."""
    return _log_allows(attribution.get((scope_id, "revoke")), intent)


def _log_allows(actor: Actor | None, intent: AuditEvent) -> bool:
    """True unless the System Log names an actor other than the intent's."""
    return actor is None or not actor.actor_id or actor.actor_id == intent.actor_id


@dataclass(slots=True)
class AppChange:
    """What applying one app changed: scope ids added and revoked, and flags.

    ``applied`` is False when the app's version moved since it was read (the
    caller should read Okta again). ``baseline``: the app was discovered as part
    of the baseline, so ``added`` lists grants imported, not changes.
    """

    app: OktaApp | None = None
    applied: bool = True
    discovered: bool = False
    baseline: bool = False
    restored: bool = False
    removed: bool = False
    added: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.discovered
            or self.restored
            or self.removed
            or self.added
            or self.revoked
        )


def local_version(okta_id: str) -> int | None:
    """The app's current ``version``, or None when it is not in the database."""
    return (
        OktaApp.objects.filter(okta_id=okta_id)
        .values_list("version", flat=True)
        .first()
    )


def _locked_app(okta_id: str) -> OktaApp | None:
    qs = OktaApp.objects.filter(okta_id=okta_id)
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    return qs.first()


METADATA_COLUMNS = (
    "label",
    "name",
    "client_id",
    "application_type",
    "status",
    "sign_on_mode",
    "okta_created",
    "okta_last_updated",
)


def metadata_fields(app: App) -> dict[str, object]:
    """OktaApp's ``METADATA_COLUMNS`` for Okta's app object (cut to the column
    sizes)."""
    return {
        "label": app.label[:500],
        "name": app.name[:200],
        "client_id": app.client_id[:200],
        "application_type": app.application_type[:32],
        "status": app.status[:32],
        "sign_on_mode": app.sign_on_mode[:64],
        "okta_created": app.created,
        "okta_last_updated": app.last_updated,
    }


def _copy_metadata(row: OktaApp, app: App) -> None:
    for name, value in metadata_fields(app).items():
        setattr(row, name, value)


def stored_app(row: OktaApp) -> App:
    """The App as the database last stored it (the inverse of _copy_metadata)."""
    return App(
        id=row.okta_id,
        label=row.label,
        name=row.name,
        sign_on_mode=row.sign_on_mode,
        status=row.status,
        client_id=row.client_id,
        application_type=row.application_type,
        created=row.okta_created,
        last_updated=row.okta_last_updated,
    )


def _detail(actor: Actor, source: str, **extra: object) -> dict[str, object]:
    detail: dict[str, object] = {"detected_by": source}
    if actor.known:
        detail["actor_source"] = "system_log"
        if actor.at:
            detail["changed_at"] = actor.at.isoformat()
        if actor.event_uuid:
            detail["log_event"] = actor.event_uuid
    else:
        detail["actor_source"] = "unknown"
    detail.update(extra)
    return detail


def _open_grant(row: OktaApp, grant: Grant, now: datetime, actor: Actor) -> ScopeGrant:
    new = _grant_row(row, grant, now, actor)
    new.save(force_insert=True)
    return new


def _grant_row(row: OktaApp, grant: Grant, now: datetime, actor: Actor) -> ScopeGrant:
    return ScopeGrant(
        app=row,
        scope_id=grant.scope_id[:200],
        okta_grant_id=grant.id[:64],
        issuer=grant.issuer[:500],
        source=grant.source[:32],
        created_by_id=grant.created_by_id[:64],
        created_by_type=grant.created_by_type[:32],
        created=grant.created,
        first_seen_at=now,
        last_seen_at=now,
        granted_by=(actor.login or actor.actor_id)[:300],
    )


def apply_snapshot(
    app: App,
    grants: list[Grant],
    *,
    expected_version: int | None,
    source: str,
    attribution: Mapping[tuple[str, str], Actor] | None = None,
    app_actor: Actor = NOBODY,
    run_id: int | None = None,
    baseline: bool = False,
) -> AppChange:
    """Make the local app and its open grants equal to Okta's ``app`` + ``grants``.

    ``expected_version`` is what ``local_version()`` returned before Okta was
    read (None: the app was not in the database). ``source`` names the caller for
    the audit detail ("full_sync", "incremental_sync", "refresh").
    ``attribution`` maps (scope_id, "grant"|"revoke") to the Actor the System
    Log names for that change; ``app_actor`` is the actor of an app lifecycle
    event. ``run_id``: the caller is that full sync, so an app found as stored
    is not written at all (its freshness is the run's; see ``OktaApp``);
    otherwise ``last_synced_at`` is set even when nothing changed.
    ``baseline``: the caller is the baseline full sync, so a new app is part
    of the baseline (as is an app a baseline run listed whose grants are read
    only now; see the module docstring).
    Returns what changed; ``applied`` is False (and nothing is written) when
    the local version moved meanwhile.
    """
    attribution = attribution or {}
    now = timezone.now()
    result = AppChange()
    with transaction.atomic():
        row = _locked_app(app.id)
        current = row.version if row else None
        if current != expected_version:
            result.applied = False
            return result
        if row is None:
            row = OktaApp(okta_id=app.id)
        # New: never had its grants read (a full sync lists apps first).
        result.discovered = row.last_synced_at is None
        as_stored = (
            row.pk is not None
            and row.removed_at is None
            and row.grants_state == OktaApp.GrantsState.OK
            and not row.grants_error
            and all(getattr(row, k) == v for k, v in metadata_fields(app).items())
        )
        _copy_metadata(row, app)
        if row.removed_at is not None:
            row.removed_at = None
            result.restored = True
        row.grants_state = OktaApp.GrantsState.OK
        row.grants_error = ""
        row.last_synced_at = now
        # An app a baseline run listed is part of the baseline even when a
        # later sync reads its grants first (they were unreadable back then).
        baseline = result.discovered and (baseline or _listed_by_baseline(row, now))
        result.baseline = baseline
        if result.discovered:
            # A change for sure: its version and "last change" go in this save
            # (the row is locked) instead of an UPDATE of their own at the end.
            row.version += 1
            # The baseline is not a change: "last change" stays empty.
            row.last_change_at = None if baseline else now
        if result.discovered or not (as_stored and run_id is not None):
            row.save()
        result.app = row

        okta_by_scope = {g.scope_id: g for g in grants}
        if baseline:
            ScopeGrant.objects.bulk_create(
                _grant_row(row, g, now, NOBODY) for g in grants
            )
            audit.record(
                "app_discovered",
                app=row,
                detail=_detail(
                    NOBODY,
                    source,
                    scopes=sorted(okta_by_scope),
                    status=app.status,
                    baseline=True,
                ),
            )
            result.added = sorted(okta_by_scope)
        elif result.discovered:
            audit.record(
                "app_discovered",
                app=row,
                **app_actor.fields,
                okta_request_id=app_actor.request_id,
                detail=_detail(
                    app_actor, source, scopes=sorted(okta_by_scope), status=app.status
                ),
            )
            for scope_id, remote in sorted(okta_by_scope.items()):
                actor = attribution.get((scope_id, "grant"))
                if actor is None and remote.created_by_id in ("", app_actor.actor_id):
                    actor = app_actor  # granted as the app was created
                _record_external_grant(row, remote, now, actor or NOBODY, source)
                result.added.append(scope_id)
        else:
            open_rows = {
                g.scope_id: g for g in row.grants.filter(revoked_at__isnull=True)
            }
            differs = open_rows.keys() != okta_by_scope.keys() or any(
                local.okta_grant_id and local.okta_grant_id != okta_by_scope[s].id
                for s, local in open_rows.items()
            )
            # A difference may be a console write in progress (its intent is
            # recorded, Okta has answered, its final row is not written yet):
            # leave it to the console while it may be in flight, and settle the
            # intent (not an "external" change) once its request must be dead.
            pending = intents.open_intents(row.pk, now) if differs else {}
            if result.restored:
                audit.record(
                    "app_restored",
                    app=row,
                    **app_actor.fields,
                    detail=_detail(app_actor, source, status=app.status),
                )
            for scope_id, local in sorted(open_rows.items()):
                remote = okta_by_scope.get(scope_id)
                if remote is not None and (
                    not local.okta_grant_id or local.okta_grant_id == remote.id
                ):
                    continue
                intent = pending.get((scope_id, "revoke"))
                if (
                    remote is None
                    and intent is not None
                    and _revoked_by_intent(scope_id, intent, attribution)
                ):
                    if intent.created_at > now - INTENT_IN_FLIGHT:
                        continue
                    local.revoked_at = now
                    local.revoked_by = (intent.actor_login or intent.actor_id)[:300]
                    local.save(update_fields=["revoked_at", "revoked_by"])
                    intents.settle(intent, row, source, local.okta_grant_id)
                    result.revoked.append(scope_id)
                    open_rows.pop(scope_id)
                    continue
                actor = attribution.get((scope_id, "revoke"), NOBODY)
                local.revoked_at = actor.at or now
                local.revoked_by = (actor.login or actor.actor_id or f"({source})")[
                    :300
                ]
                local.save(update_fields=["revoked_at", "revoked_by"])
                event = audit.record(
                    "external_revoke",
                    app=row,
                    scope_id=scope_id,
                    **actor.fields,
                    okta_request_id=actor.request_id,
                    detail=_detail(actor, source, okta_grant_id=local.okta_grant_id),
                    key=f"external_revoke:{local.pk}",
                )
                signals.external_change.send(sender=None, event=event, actor=actor)
                result.revoked.append(scope_id)
                open_rows.pop(scope_id)
            for scope_id, remote in sorted(okta_by_scope.items()):
                if scope_id in open_rows:
                    continue
                intent = pending.get((scope_id, "grant"))
                if intent is not None and _made_by_intent(remote, intent, attribution):
                    if intent.created_at > now - INTENT_IN_FLIGHT:
                        continue
                    _open_grant(row, remote, now, intents.intent_actor(intent))
                    intents.settle(intent, row, source, remote.id)
                    result.added.append(scope_id)
                    continue
                actor = attribution.get((scope_id, "grant"), NOBODY)
                _record_external_grant(row, remote, now, actor, source)
                result.added.append(scope_id)
        for scope_id in result.added:
            remote = okta_by_scope.get(scope_id)
            if remote is not None and not is_org_issuer(remote.issuer):
                audit.record(
                    "foreign_issuer",
                    app=row,
                    scope_id=scope_id,
                    detail=_detail(
                        NOBODY, source, issuer=remote.issuer, okta_grant_id=remote.id
                    ),
                    key=f"foreign_issuer:{remote.id}",
                )
        if result.added or result.revoked:
            reassess(row)
            signals.grants_changed.send(
                sender=OktaApp, app=row, baseline=result.baseline
            )
        # Unchanged open grants are not rewritten: an open grant was last seen at
        # its app's last_synced_at, so a sync with nothing new writes no grant rows.
        if result.changed and not result.discovered:
            OktaApp.objects.filter(pk=row.pk).update(
                version=F("version") + 1, last_synced_at=now, last_change_at=now
            )
    return result


def _listed_by_baseline(row: OktaApp, now: datetime) -> bool:
    """True when the app's row was made (``now`` for a row not saved yet)
    while a baseline full sync ran (that run listed it). Our own clock on both
    sides: Okta's ``created`` times are too coarse and too skewed to tell
    "just before" from "just after"."""
    made = row.first_seen_at if row.pk is not None else now
    return (
        SyncRun.objects.filter(
            kind=SyncRun.Kind.FULL, baseline=True, started_at__lte=made
        )
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=made))
        .exists()
    )


def _record_external_grant(
    row: OktaApp, remote: Grant, now: datetime, actor: Actor, source: str
) -> None:
    """Open a local grant for a grant made outside the console, with its
    ``external_grant`` audit row."""
    _open_grant(row, remote, now, actor)
    event = audit.record(
        "external_grant",
        app=row,
        scope_id=remote.scope_id,
        **actor.fields,
        okta_request_id=actor.request_id,
        detail=_detail(
            actor,
            source,
            okta_grant_id=remote.id,
            created_by=remote.created_by_id,
            created=remote.created.isoformat() if remote.created else "",
        ),
    )
    signals.external_change.send(sender=None, event=event, actor=actor)


def mark_unreadable(
    okta_id: str, message: str, *, app: App | None = None
) -> OktaApp | None:
    """Record that the app's grants could not be read: state "unknown", the
    error message kept, its local grants untouched. Creates the app row when
    ``app`` (its listing) is given and it is new. Returns the row (None if the
    app is unknown locally and no listing was given)."""
    with transaction.atomic():
        row = _locked_app(okta_id)
        if row is None:
            if app is None:
                return None
            row = OktaApp(okta_id=okta_id)
        if app is not None:
            _copy_metadata(row, app)
        row.grants_state = OktaApp.GrantsState.UNKNOWN
        row.grants_error = message[:2000]
        row.save()
    return row


def mark_removed(okta_id: str, *, source: str, actor: Actor = NOBODY) -> AppChange:
    """The app is gone from Okta: set ``removed_at`` and close its open grants,
    with an ``app_removed`` row and one ``external_revoke`` row per grant.
    A no-op for an app already removed or unknown."""
    now = timezone.now()
    result = AppChange()
    with transaction.atomic():
        row = _locked_app(okta_id)
        if row is None or row.removed_at is not None:
            return result
        result.app = row
        result.removed = True
        row.removed_at = now
        row.save(update_fields=["removed_at"])
        closed = list(row.grants.filter(revoked_at__isnull=True).order_by("scope_id"))
        audit.record(
            "app_removed",
            app=row,
            **actor.fields,
            okta_request_id=actor.request_id,
            detail=_detail(actor, source, scopes=[g.scope_id for g in closed]),
        )
        for grant in closed:
            grant.revoked_at = actor.at or now
            grant.revoked_by = (
                actor.login or actor.actor_id or f"({source}: app removed)"
            )[:300]
            grant.save(update_fields=["revoked_at", "revoked_by"])
            event = audit.record(
                "external_revoke",
                app=row,
                scope_id=grant.scope_id,
                **actor.fields,
                detail=_detail(
                    actor,
                    source,
                    okta_grant_id=grant.okta_grant_id,
                    reason="app_removed",
                ),
                key=f"external_revoke:{grant.pk}",
            )
            signals.external_change.send(sender=None, event=event, actor=actor)
            result.revoked.append(grant.scope_id)
        reassess(row)
        OktaApp.objects.filter(pk=row.pk).update(
            version=F("version") + 1, last_change_at=now
        )
    return result

"""Grants with an end time (``ScopeGrant.ends_at``): set it, and act at the end.

At the end a grant is revoked through the normal write path by the optional
enforcer (``okta_clients.enforcer_client``, a worker only), audited as
``expiry_enforced``. Without the enforcer nobody signed in can revoke it, so
an alert goes out once (``grant_expiring``, audited as ``expiry_alerted``) and
the apps page offers the next Super Admin a one-click revoke
(:func:`due_grants`). A grant ending within ``GRANT_EXPIRY_WARN_DAYS`` is
alerted once beforehand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from grantsconsole import okta_clients
from grantsconsole.governance import alerting
from grantsconsole.governance.approvals_models import GrantRequest
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from grantsconsole.grants.services import scope_writes


class EndTimeRefused(Exception):
    """The end time cannot be set as asked; ``message`` says why. Nothing changed."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    """What one pass did: grants ``revoked`` by the enforcer, ``failed``
    revokes, grants past their end ``alerted`` (no enforcer) and grants
    ``warned`` of an end within the warning time."""

    revoked: int = 0
    failed: int = 0
    alerted: int = 0
    warned: int = 0


def _held(app: OktaApp, scope_id: str) -> ScopeGrant | None:
    return ScopeGrant.objects.filter(
        app=app, scope_id=scope_id, revoked_at__isnull=True
    ).first()


def set_end_time(
    app: OktaApp, scope_id: str, ends_at: datetime | None, actor: Actor
) -> ScopeGrant:
    """Give the app's grant of ``scope_id`` an end time (aware, in the future)
    or none (``ends_at`` None); an ``end_time_set`` audit row. Local only: Okta
    has no end times. Raises EndTimeRefused when the app does not hold the
    scope, the time has passed, or the grant was approved (two-person) until
    an end that this would remove or move later: a second Super Admin agreed
    to that end, so a later one needs a new request (an earlier one is fine)."""
    grant = _held(app, scope_id)
    if grant is None:
        raise EndTimeRefused(f"{app.label} does not hold {scope_id}.")
    if ends_at is not None and ends_at <= timezone.now():
        raise EndTimeRefused("The end time has passed: pick one in the future.")
    approved_end = _approved_end(grant)
    if approved_end is not None and (ends_at is None or ends_at > approved_end):
        raise EndTimeRefused(
            f"This grant was approved until {approved_end:%Y-%m-%d %H:%M} UTC: "
            "an earlier end is fine, a later one (or none) needs a new request."
        )
    previous = grant.ends_at
    grant.ends_at = ends_at
    grant.save(update_fields=["ends_at"])
    audit.record(
        "end_time_set",
        **actor.fields,
        app=app,
        scope_id=scope_id,
        detail={
            "ends_at": ends_at.isoformat() if ends_at else "",
            "previous": previous.isoformat() if previous else "",
        },
    )
    return grant


def _approved_end(grant: ScopeGrant) -> datetime | None:
    """The end time a second Super Admin approved for this grant (the request
    approved for its app and scope since it was first seen), or None."""
    return (
        GrantRequest.objects.filter(
            app_id=grant.app_id,
            scope_id=grant.scope_id,
            state=GrantRequest.State.APPROVED,
            requested_ends_at__isnull=False,
            decided_at__gte=grant.first_seen_at - timedelta(minutes=5),
        )
        .order_by("-decided_at")
        .values_list("requested_ends_at", flat=True)
        .first()
    )


def due_grants(now: datetime | None = None) -> QuerySet[ScopeGrant]:
    """Held grants of apps still in Okta whose end time has passed, soonest
    first, with their app."""
    return (
        ScopeGrant.objects.filter(
            revoked_at__isnull=True,
            ends_at__lte=now or timezone.now(),
            app__removed_at__isnull=True,
        )
        .select_related("app")
        .order_by("ends_at", "pk")
    )


def _once(key: str) -> bool:
    """True the first time ``key`` is asked (no audit row carries it yet)."""
    return not AuditEvent.objects.filter(event_key=key).exists()


def _alert(grant: ScopeGrant, stage: str, title: str, key: str) -> None:
    """Raise a ``grant_expiring`` alert for ``grant`` and chain it (once per key)."""
    facts = {
        "stage": stage,
        "ends_at": grant.ends_at.isoformat() if grant.ends_at else "",
        "enforcer": okta_clients.enforcer_configured(),
    }
    alerting.raise_alert(
        "grant_expiring",
        risk=alerting.scope_risk(grant.scope_id),
        title=title,
        details={"app": grant.app.label, "scope_id": grant.scope_id, **facts},
        app=grant.app,
        scope_id=grant.scope_id,
        # Two passes at once (a slow pass overlapping the next beat) alert once.
        key=key,
    )
    audit.record(
        "expiry_alerted", app=grant.app, scope_id=grant.scope_id, detail=facts, key=key
    )


def enforcer_actor() -> Actor:
    """Who the audit names for the optional enforcer's writes: its client id,
    login "enforcer" (Okta's System Log names its service app too)."""
    return Actor(settings.ENFORCER_CLIENT_ID, "enforcer")


def _enforce(grants: list[ScopeGrant]) -> tuple[int, list[ScopeGrant]]:
    """Revoke ``grants`` with the enforcer, per app: (how many were revoked,
    the grants whose revoke failed)."""
    client = okta_clients.enforcer_client()
    actor = enforcer_actor()
    revoked = 0
    failed: list[ScopeGrant] = []
    for _, group in groupby(grants, key=lambda g: g.app_id):
        rows = list(group)
        app = rows[0].app
        by_scope = {g.scope_id: g for g in rows}
        results = scope_writes.write_scopes(
            "revoke", client=client, app=app, scope_ids=list(by_scope), actor=actor
        )
        for result in results:
            audit.record(
                "expiry_enforced",
                **actor.fields,
                app=app,
                scope_id=result.scope_id,
                outcome="success" if result.ok else "failure",
                okta_request_id=result.okta_request_id,
                detail={
                    "ends_at": by_scope[result.scope_id].ends_at.isoformat(),
                    "revoke_audit_seq": result.audit_seq,
                    **({} if result.ok else {"error": result.message}),
                },
            )
            if result.ok:
                revoked += 1
            else:
                failed.append(by_scope[result.scope_id])
    return revoked, failed


def enforce_expiries(now: datetime | None = None) -> ExpiryRun:
    """One pass over end times (the beat task's body).

    Grants past their end: with the enforcer configured, revoked through
    ``scope_writes.write_scopes`` with its client (a failure stays due and is
    tried again next pass, and alerted once); without it, alerted once each. Grants ending within
    ``GRANT_EXPIRY_WARN_DAYS``: alerted once each. Raises EnforcerUnavailable
    when the enforcer is configured but this is not a worker process.
    """
    now = now or timezone.now()
    due = list(due_grants(now))
    revoked = alerted = warned = 0
    failed: list[ScopeGrant] = []
    if due and okta_clients.enforcer_configured():
        revoked, failed = _enforce(sorted(due, key=lambda g: (g.app_id, g.pk)))
    for grant in failed if okta_clients.enforcer_configured() else due:
        key = f"expiry_alerted:passed:{grant.pk}:{grant.ends_at.isoformat()}"
        if _once(key):
            _alert(
                grant,
                "passed",
                f"{grant.app.label} still holds {grant.scope_id} past its end "
                "time: revoke it",
                key,
            )
            alerted += 1
    soon = ScopeGrant.objects.filter(
        revoked_at__isnull=True,
        ends_at__gt=now,
        ends_at__lte=now + timedelta(days=settings.GRANT_EXPIRY_WARN_DAYS),
        app__removed_at__isnull=True,
    ).select_related("app")
    for grant in soon:
        key = f"expiry_alerted:soon:{grant.pk}:{grant.ends_at.isoformat()}"
        if _once(key):
            when = grant.ends_at.strftime("%Y-%m-%d %H:%M UTC")
            _alert(
                grant,
                "soon",
                f"{grant.app.label}'s grant of {grant.scope_id} ends at {when}",
                key,
            )
            warned += 1
    return ExpiryRun(revoked, len(failed), alerted, warned)

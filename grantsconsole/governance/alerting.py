"""The one entry point for raising an alert: every part of governance (and the
syncs) calls :func:`raise_alert`; delivery (e-mail, webhooks, retries, the
delivery log) lives behind it, in ``governance.delivery`` and the
``governance.deliver_alert`` task."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction

from grantsconsole.governance.alerts_models import (
    RISKS,
    Alert,
    AlertDelivery,
    AlertDestination,
)
from grantsconsole.governance.approvals_models import GrantRequest
from grantsconsole.okta import scopes as scope_catalog

if TYPE_CHECKING:
    from grantsconsole.grants.audit import Actor
    from grantsconsole.grants.models import AuditEvent

logger = logging.getLogger(__name__)

KINDS = (
    "out_of_band_change",  # a grant or revoke made outside the console
    "policy_violation",
    "grant_expiring",  # a grant's end time is near (or passed with no enforcer)
    "audit_verification_failed",
    "worker_unhealthy",
    "owner_orphaned",  # an app owner's Okta user was deactivated
    "test",  # a destination's test button
)

#: each kind in words, for the pages and the destination filters
KIND_NAMES = {
    "out_of_band_change": "Grant or revoke made outside the console",
    "policy_violation": "Policy violation",
    "grant_expiring": "Grant about to expire",
    "audit_verification_failed": "Audit trail failed verification",
    "worker_unhealthy": "Worker unhealthy",
    "owner_orphaned": "App owner deactivated in Okta",
    "test": "Test alert",
}


def raise_alert(
    kind: str,
    *,
    risk: str,
    title: str,
    details: dict[str, Any],
    app: Any = None,
    scope_id: str = "",
    key: str | None = None,
    deliver_now: bool = False,
    destinations: list[AlertDestination] | None = None,
) -> Alert:
    """Raise an alert of ``kind`` (one of KINDS) at ``risk`` ("low" ...
    "critical", the scope catalog's words): ``title`` is one line in plain
    words, ``details`` JSON-serialisable facts (actor, source IP, ...); never
    put a secret in them, they are sent as they are.

    Stores the Alert and one AlertDelivery per enabled destination whose
    filters take it, and queues each delivery as its own task once the
    caller's transaction commits (a hung endpoint delays only its own).
    ``key``: raise at most once per key (the existing Alert is returned, no
    new delivery). ``deliver_now``: make each first attempt in this process,
    at once (for callers outside a transaction that cannot count on a
    worker, or want the answer: the worker-health check, the test button);
    failures still retry through the queue. ``destinations``: exactly these,
    whatever their filters (the test button). Returns the Alert.
    Raises ValueError for an unknown kind or risk.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    if risk not in RISKS:
        raise ValueError(f"unknown alert risk {risk!r}")
    with transaction.atomic():
        if key is not None:
            existing = Alert.objects.filter(key=key).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    kind=kind,
                    risk=risk,
                    title=title[:300],
                    details=details,
                    app=app,
                    scope_id=scope_id[:200],
                    key=key,
                )
        except IntegrityError:
            # Raised by another process between the look and the insert.
            return Alert.objects.get(key=key)
        if destinations is None:
            destinations = [
                d
                for d in AlertDestination.objects.filter(enabled=True)
                if d.wants(kind, risk)
            ]
        ids = [
            AlertDelivery.objects.create(
                alert=alert, destination=d, destination_name=d.name
            ).pk
            for d in destinations
        ]
    if ids and deliver_now:
        _send(ids, now=True)
    elif ids:
        transaction.on_commit(lambda: _send(ids, now=False))
    return alert


def _send(delivery_ids: list[int], *, now: bool) -> None:
    # Imported here: the tasks module imports watch, which imports this one.
    from grantsconsole.governance import delivery, tasks

    for delivery_id in delivery_ids:
        try:
            countdown = delivery.deliver(delivery_id) if now else 0
            if countdown is not None:
                tasks.deliver_alert.apply_async((delivery_id,), countdown=countdown)
        except Exception:  # a broker outage must not fail the caller's work
            logger.exception("could not queue alert delivery %s", delivery_id)


def scope_risk(scope_id: str) -> str:
    """The scope catalog's risk of ``scope_id``, "low" when it states none."""
    return scope_catalog.risk(scope_id) or "low"


def approved_by_request(event: AuditEvent) -> bool:
    """Whether an approved two-person request covered the change in ``event``
    (an ``external_grant`` / ``external_revoke`` row): a grant of the same app
    and scope approved at most ``APPROVAL_REQUEST_DAYS`` before it was seen
    (someone approved it here, then granted it in Okta's Admin Console).
    Revokes need no approval, so none is ever covered."""
    if event.action != "external_grant":
        return False
    since = event.created_at - timedelta(days=settings.APPROVAL_REQUEST_DAYS)
    return GrantRequest.objects.filter(
        app__okta_id=event.app_okta_id,
        scope_id=event.scope_id,
        state=GrantRequest.State.APPROVED,
        decided_at__gte=since,
        decided_at__lte=event.created_at,
    ).exists()


def out_of_band_change(event: AuditEvent, actor: Actor) -> Alert:
    """Alert on an ``external_grant`` / ``external_revoke`` audit row: who
    (the System Log actor, else unknown), which app and scope, from which IP
    (the System Log event's ``client.ipAddress``), when, and whether an
    approved request covered it. At the scope's risk; once per audit row."""
    verb = "granted" if event.action == "external_grant" else "revoked"
    who = actor.name or "someone (not named by the System Log)"
    details = {
        "change": verb,
        "actor": actor.name,
        "actor_id": actor.actor_id,
        "app_id": event.app_okta_id,
        "app": event.app_label,
        "scope_id": event.scope_id,
        "source_ip": actor.ip_address,
        "changed_at": (actor.at or event.created_at).isoformat(),
        "log_event": actor.event_uuid,
        "detected_by": event.detail.get("detected_by", ""),
        "approved_by_request": approved_by_request(event),
        "audit_seq": event.seq,
    }
    return raise_alert(
        "out_of_band_change",
        risk=scope_risk(event.scope_id),
        title=(
            f"{event.scope_id} {verb} on {event.app_label or event.app_okta_id} "
            f"outside the console by {who}"
        ),
        details=details,
        app=event.app,
        scope_id=event.scope_id,
        key=f"audit:{event.seq}",
    )

"""Celery tasks of governance: thin entry points that call one service each."""

from __future__ import annotations

from celery import shared_task

from grantsconsole.governance import (
    approvals,
    attestation,
    delivery,
    expiry,
    plans,
    watch,
)
from grantsconsole.okta import OktaError

EXPIRY_MAX_RETRIES = 3


@shared_task(
    bind=True, name="governance.enforce_expiries", max_retries=EXPIRY_MAX_RETRIES
)
def enforce_expiries(self) -> dict[str, int]:
    """Revoke (enforcer) or alert grants past their end time; alert grants
    ending soon. An Okta error that escapes (the enforcer's token refused, Okta
    down) is retried with backoff; a grant left held is due again next pass.
    Returns the pass's counts."""
    try:
        run = expiry.enforce_expiries()
    except OktaError as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
    return {
        "revoked": run.revoked,
        "failed": run.failed,
        "alerted": run.alerted,
        "warned": run.warned,
    }


@shared_task(name="governance.expire_requests")
def expire_requests() -> int:
    """Close pending grant requests past their expiry; returns how many."""
    return approvals.expire_requests()


@shared_task(name="governance.start_scheduled_campaign")
def start_scheduled_campaign() -> int | None:
    """Start an attestation campaign when the schedule calls for one
    (``ATTESTATION_EVERY_DAYS``); returns its id, or None."""
    campaign = attestation.start_scheduled_campaign()
    return campaign.pk if campaign else None


@shared_task(name="governance.attestation_reminders")
def attestation_reminders() -> int:
    """E-mail owners with unanswered attestation items (at most once per owner
    per day); returns the number sent."""
    return attestation.send_reminders()


@shared_task(bind=True, name="governance.deliver_alert", max_retries=None)
def deliver_alert(self, delivery_id: int) -> None:
    """Make one attempt of one alert delivery; retry it with Celery's
    exponential backoff while ``delivery.deliver`` says to (it counts the
    attempts, in the delivery row, and records the final failure)."""
    countdown = delivery.deliver(delivery_id)
    if countdown is not None:
        raise self.retry(countdown=countdown, exc=None)


@shared_task(name="governance.watch_worker")
def watch_worker() -> int | None:
    """Alert when no sync has succeeded for too long (``watch.check_worker``);
    returns the alert id, if one was raised."""
    alert = watch.check_worker()
    return alert.pk if alert else None


@shared_task(
    bind=True, name="governance.auto_remediate", max_retries=EXPIRY_MAX_RETRIES
)
def auto_remediate(self) -> int:
    """Revoke with the optional enforcer what a policy rule marked
    ``auto_remediate: true`` forbids (nothing when the enforcer is off);
    returns how many steps were sent. Okta errors are retried with backoff."""
    try:
        return len(plans.enforce_auto_remediations())
    except OktaError as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc

"""Celery tasks of governance: thin entry points that call one service each."""

from __future__ import annotations

from celery import shared_task

from grantsconsole.governance import attestation


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

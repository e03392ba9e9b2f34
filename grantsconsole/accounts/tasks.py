"""Celery entry points of the sign-in app (thin: the work is in custody)."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command

from grantsconsole.accounts import custody, security_events


@shared_task(name="accounts.purge_okta_tokens", ignore_result=True)
def purge_okta_tokens() -> int:
    """Revoke and delete Okta tokens of sessions idle > 30 min or older than 12 h
    (sessions that simply expire never tell the server). Idempotent; schedule
    every few minutes. Returns how many credentials were ended."""
    return custody.purge_stale()


@shared_task(name="accounts.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Delete expired sessions from the session store (Django's ``clearsessions``):
    Django never deletes a database session that simply expires. Idempotent."""
    call_command("clearsessions")


@shared_task(name="accounts.purge_security_events", ignore_result=True)
def purge_security_events() -> int:
    """Delete security events older than ``SECURITY_EVENT_RETENTION_DAYS``.
    Idempotent; scheduled daily. Returns how many rows were deleted."""
    return security_events.purge()

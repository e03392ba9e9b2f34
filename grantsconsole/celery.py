"""The Celery app and its beat schedule (the standard Django pattern).

Run: ``celery -A grantsconsole worker -l INFO`` and ``celery -A grantsconsole
beat -l INFO -s <schedule file>`` (exactly one beat). Settings come from
``CELERY_*`` in ``grantsconsole/settings.py``; the schedule from
``SYNC_INCREMENTAL_EVERY`` / ``SYNC_FULL_EVERY`` / ``USAGE_INGEST_EVERY``
(seconds) and ``AUDIT_REPORT_HOUR`` (UTC hour of the daily report and the daily audit
trail verification).
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")

app = Celery("grantsconsole")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    every_incremental = float(settings.SYNC_INCREMENTAL_EVERY)
    sender.conf.beat_schedule = {
        # Every minute by default: poll the System Log, re-read named apps.
        "grants-incremental-sync": {
            "task": "grants.incremental_sync",
            "schedule": every_incremental,
            "options": {"expires": max(every_incremental - 5, 5)},
        },
        # Every minute by default: token and write events into usage evidence.
        "usage-ingest": {
            "task": "usage.ingest",
            "schedule": float(settings.USAGE_INGEST_EVERY),
            "options": {"expires": max(float(settings.USAGE_INGEST_EVERY) - 5, 5)},
        },
        # Every 6 hours by default: the full reconciliation (drift check).
        "grants-full-sync": {
            "task": "grants.start_full_sync",
            "schedule": float(settings.SYNC_FULL_EVERY),
        },
        # Every minute: resume full syncs whose step chain stalled.
        "grants-sync-watchdog": {
            "task": "grants.sync_watchdog",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        # Every 5 minutes: the residual-window checks after refresh-token
        # revokes whose countdown task was lost (broker restart, worker gone).
        "grants-token-window-sweep": {
            "task": "grants.sweep_token_windows",
            "schedule": 300.0,
            "options": {"expires": 290},
        },
        # Every 5 minutes: delete and revoke the Okta tokens of sessions that
        # expired without a sign-out (idle or absolute timeout).
        "accounts-purge-okta-tokens": {
            "task": "accounts.purge_okta_tokens",
            "schedule": 300.0,
            "options": {"expires": 290},
        },
        # Hourly: delete expired sessions (Django leaves them in the table).
        "accounts-clear-expired-sessions": {
            "task": "accounts.clear_expired_sessions",
            "schedule": 3600.0,
            "options": {"expires": 3500},
        },
        # Daily: drop security events (anonymous refusals) past their retention.
        "accounts-purge-security-events": {
            "task": "accounts.purge_security_events",
            "schedule": crontab(hour=settings.AUDIT_REPORT_HOUR, minute=30),
        },
        # Daily at AUDIT_REPORT_HOUR:00 UTC: check the whole audit trail against
        # the checkpoints, including the copy outside the database.
        "grants-audit-verify": {
            "task": "grants.verify_audit",
            "schedule": crontab(hour=settings.AUDIT_REPORT_HOUR, minute=0),
        },
        # Daily: start an attestation campaign when ATTESTATION_EVERY_DAYS have
        # passed since the last one.
        "governance-attestation-campaign": {
            "task": "governance.start_scheduled_campaign",
            "schedule": crontab(hour=settings.AUDIT_REPORT_HOUR, minute=15),
        },
        # Hourly: remind owners of open attestation items (once a day each).
        "governance-attestation-reminders": {
            "task": "governance.attestation_reminders",
            "schedule": 3600.0,
            "options": {"expires": 3500},
        },
        # Every GRANT_EXPIRY_EVERY seconds (60): grants past their end time are
        # revoked by the enforcer or alerted; grants ending soon are alerted.
        "governance-grant-expiries": {
            "task": "governance.enforce_expiries",
            "schedule": float(settings.GRANT_EXPIRY_EVERY),
            "options": {"expires": max(settings.GRANT_EXPIRY_EVERY - 5, 5)},
        },
        # With the optional enforcer: what a policy rule marked auto_remediate
        # forbids is revoked, on the same beat as end times.
        "governance-auto-remediate": {
            "task": "governance.auto_remediate",
            "schedule": float(settings.GRANT_EXPIRY_EVERY),
            "options": {"expires": max(settings.GRANT_EXPIRY_EVERY - 5, 5)},
        },
        # Hourly: pending grant requests past their expiry are closed.
        "governance-expire-requests": {
            "task": "governance.expire_requests",
            "schedule": 3600.0,
            "options": {"expires": 3500},
        },
        # Every minute: alert when no sync has succeeded for too long.
        "governance-watch-worker": {
            "task": "governance.watch_worker",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        # Daily at AUDIT_REPORT_HOUR:00 UTC (https://crontab.guru/#0_5_*_*_*).
        "grants-audit-report": {
            "task": "grants.audit_report",
            "schedule": crontab(hour=settings.AUDIT_REPORT_HOUR, minute=0),
        },
    }


@beat_init.connect
def _first_poll(sender: object, **kwargs: object) -> None:
    """When beat starts, poll once right away: without a completed full sync
    this starts one, so a fresh ``make run`` fills the database at once."""
    app.send_task("grants.incremental_sync", kwargs={"trigger": "beat-start"})


@worker_init.connect
def _worker_may_enforce(sender: object, **kwargs: object) -> None:
    """A worker process may load the optional enforcer's key; web processes,
    which never start a worker, may not (okta_clients.enforcer_client)."""
    from grantsconsole import okta_clients

    okta_clients.allow_enforcer_in_this_process()

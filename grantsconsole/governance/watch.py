"""Watching the worker: the alert raised when no sync has succeeded for too long.

The worker is the one that syncs (every ``SYNC_INCREMENTAL_EVERY`` seconds), so
a last successful sync older than three intervals (at least 10 minutes, the
pages' "stale" banner rule) means it is stopped, stuck, or refused by Okta.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from grantsconsole.governance.alerting import raise_alert
from grantsconsole.governance.alerts_models import Alert
from grantsconsole.grants.models import SyncRun

_OK = (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)


def silent_after() -> timedelta:
    """How long without a successful sync before the worker counts as unhealthy."""
    return timedelta(seconds=max(3 * int(settings.SYNC_INCREMENTAL_EVERY), 600))


def check_worker(*, deliver_now: bool = False) -> Alert | None:
    """Raise a ``worker_unhealthy`` alert (risk high) when the last successful
    sync finished more than :func:`silent_after` ago, once per silence (keyed
    by that sync). Nothing before the first sync ever ran (a fresh install).
    ``deliver_now``: the caller is not the worker (it may be down), so the
    first attempts are made in this process. Returns the alert, or None."""
    if not SyncRun.objects.exists():
        return None
    last = (
        SyncRun.objects.filter(status__in=_OK, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("pk", "finished_at")
        .first()
    )
    now = timezone.now()
    if last is not None and now - last["finished_at"] <= silent_after():
        return None
    failing = (
        SyncRun.objects.exclude(status__in=(*_OK, SyncRun.Status.QUEUED))
        .order_by("-id")
        .values("status", "message", "started_at")
        .first()
    )
    since = last["finished_at"].isoformat() if last else ""
    return raise_alert(
        "worker_unhealthy",
        risk="high",
        title=(
            "No sync has succeeded since "
            f"{last['finished_at']:%Y-%m-%d %H:%M} UTC: the worker may be stopped"
            if last
            else "No sync has ever succeeded: the worker may be stopped"
        ),
        details={
            "last_good_sync": since,
            "latest_run_status": failing["status"] if failing else "",
            "latest_run_message": failing["message"] if failing else "",
        },
        key=f"worker_unhealthy:{last['pk'] if last else 0}",
        deliver_now=deliver_now,
    )

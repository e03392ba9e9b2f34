"""Runs an admin asks for ("Sync now"): recorded "queued" before the worker has them.

The console creates the run (:func:`queue_sync`) and passes its id to the task,
so the sync page can show it, and who asked, from the moment of the press. The
worker then starts that very row (:func:`claim`) instead of creating one; a
twin delivery of the task finds it no longer queued and starts nothing. A run
no worker started within :data:`QUEUE_WAIT` is ended as failed
(:func:`expire_queued`): the worker is down or far behind, and the stale banner
should say so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from grantsconsole.grants.models import SyncRun

QUEUE_WAIT = timedelta(minutes=15)


def queue_sync(kind: str, *, requested_by: str) -> SyncRun:
    """A "queued" run of ``kind`` ("full" | "incremental") asked for from the
    console by ``requested_by`` (an Okta login)."""
    return SyncRun.objects.create(
        kind=kind,
        status=SyncRun.Status.QUEUED,
        trigger="console",
        requested_by=requested_by[:300],
    )


class NotQueued(Exception):
    """The run a task was asked to start is no longer queued: a twin delivery
    of the task started it, or it expired. The task does nothing."""


def claim(run_id: int, kind: str, **fields: Any) -> SyncRun:
    """Start queued run ``run_id`` as a ``kind`` run: status "running",
    ``started_at`` and ``heartbeat_at`` now, plus ``fields``. Returns the run;
    raises :class:`NotQueued` when it is not queued (already started, expired
    or unknown)."""
    now = timezone.now()
    started = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING,
        kind=kind,
        started_at=now,
        heartbeat_at=now,
        **fields,
    )
    if not started:
        raise NotQueued(f"sync run #{run_id} is not queued")
    return SyncRun.objects.get(pk=run_id)


def end_queued(run_id: int, status: str, message: str) -> None:
    """End queued run ``run_id`` without starting it (a no-op once started)."""
    SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
        status=status, finished_at=timezone.now(), message=message
    )


def expire_queued() -> list[int]:
    """End as failed the runs queued longer than :data:`QUEUE_WAIT`; returns
    their ids."""
    limit = timezone.now() - QUEUE_WAIT
    ids = list(
        SyncRun.objects.filter(
            status=SyncRun.Status.QUEUED, started_at__lt=limit
        ).values_list("pk", flat=True)
    )
    minutes = int(QUEUE_WAIT.total_seconds() // 60)
    for run_id in ids:
        end_queued(
            run_id,
            SyncRun.Status.FAILED,
            f"No worker started this sync within {minutes} minutes of the request: "
            "check that the Celery worker is running. Nothing was read.",
        )
    return ids

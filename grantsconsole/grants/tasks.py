"""Celery tasks: thin entry points that call one service each.

Every task is idempotent and short (a full sync is a chain of steps, each
seconds long) and runs with ``acks_late`` + ``reject_on_worker_lost`` (settings),
so a killed worker's task is delivered again and repeats nothing. Retries with
backoff only for rate limits and transient Okta errors.
"""

from __future__ import annotations

import logging

from celery import shared_task

from grantsconsole.grants import services
from grantsconsole.grants.models import AuditEvent, SyncRun
from grantsconsole.grants.services import app_tokens
from grantsconsole.grants.services.app_sync import TRANSIENT_ERRORS
from grantsconsole.grants.services.sync_queue import NotQueued
from grantsconsole.grants.signals import grant_state_changed
from grantsconsole.okta import OktaError
from grantsconsole.okta.errors import describe
from grantsconsole.okta_clients import worker_client

logger = logging.getLogger(__name__)

STEP_MAX_RETRIES = 8


@shared_task(name="grants.start_full_sync")
def start_full_sync(
    trigger: str = "beat", requested_by: str = "", run_id: int | None = None
) -> int:
    """Start a full sync (or record it as skipped) and queue its first step.
    ``requested_by``: the Okta login of the admin who pressed "Sync now";
    ``run_id``: the run the console queued for it (nothing happens when it is
    no longer queued). Returns the SyncRun id."""
    try:
        run = services.start_full_sync(
            trigger=trigger, requested_by=requested_by, run_id=run_id
        )
    except NotQueued:
        return run_id
    if run.status == SyncRun.Status.RUNNING:
        full_sync_step.delay(run.pk, 0)
    return run.pk


@shared_task(bind=True, name="grants.full_sync_step", max_retries=STEP_MAX_RETRIES)
def full_sync_step(self, run_id: int, step: int) -> int | None:
    """Run one step of a full sync and queue the next; a stale or duplicate
    step message does nothing. Transient Okta errors retry this step with
    backoff; after STEP_MAX_RETRIES the run ends early with what it read
    (services.end_run_early). The last step sends ``grant_state_changed``
    (the policy is evaluated)."""
    try:
        following = services.full_sync_step(run_id, step, client=worker_client())
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= STEP_MAX_RETRIES:
            services.end_run_early(run_id, "Okta kept failing: " + describe(exc))
            return None
        countdown = services.transient_wait(exc, self.request.retries + 1)
        logger.info("full sync #%s step %s: retry in %.0f s", run_id, step, countdown)
        raise self.retry(countdown=countdown, exc=None) from None
    if following is not None:
        full_sync_step.delay(run_id, following)
    else:
        grant_state_changed.send(sender=SyncRun, app_ids=None)
    return following


@shared_task(name="grants.incremental_sync")
def incremental_sync(
    trigger: str = "beat", requested_by: str = "", run_id: int | None = None
) -> int:
    """Poll the System Log once (see services.run_incremental_sync), then
    name a few unnamed user ids (services.refresh_people). Until a
    full sync has completed, start one instead (the first baseline; a queued
    ``run_id`` becomes that full sync). ``requested_by``: the Okta login of
    the admin who pressed "Sync now"; ``run_id``: the run the console queued
    for it (nothing happens when it is no longer queued). Ends with
    ``grant_state_changed`` (the policy is evaluated). Returns the SyncRun
    id."""
    has_baseline = SyncRun.objects.filter(
        kind=SyncRun.Kind.FULL,
        status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL),
    ).exists()
    if not has_baseline:
        running = SyncRun.objects.filter(
            kind=SyncRun.Kind.FULL, status=SyncRun.Status.RUNNING
        ).first()
        if running is not None:
            if run_id is not None:
                services.end_queued(
                    run_id,
                    SyncRun.Status.SKIPPED,
                    f"Skipped: the first full sync (run #{running.pk}) is running; "
                    "it reads every app.",
                )
            return running.pk
        return start_full_sync(
            trigger="first-baseline", requested_by=requested_by, run_id=run_id
        )
    client = worker_client()
    try:
        run = services.run_incremental_sync(
            client=client, trigger=trigger, requested_by=requested_by, run_id=run_id
        )
    except NotQueued:
        return run_id
    # Console requests that died mid-write: their intents get an outcome within
    # minutes, not at the next full sync.
    services.settle_abandoned_intents(client)
    # Names for the user ids the pages show that no sign-in or event named;
    # not while Okta is failing the sync (each lookup would retry too).
    if run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
        services.refresh_people(client)
    grant_state_changed.send(sender=SyncRun, app_ids=None)
    return run.pk


@shared_task(name="grants.sync_watchdog")
def sync_watchdog() -> list[int]:
    """Re-queue the current step of full syncs that stopped making progress
    (e.g. a worker died between finishing a step and queueing the next), and
    end console-queued runs no worker started (``services.expire_queued``).
    Returns the run ids resumed."""
    services.expire_queued()
    resumed = []
    for run in services.stalled_runs():
        logger.warning("full sync #%s stalled at step %s; resuming", run.pk, run.step)
        full_sync_step.delay(run.pk, run.step)
        resumed.append(run.pk)
    return resumed


@shared_task(name="grants.verify_audit")
def verify_audit(trigger: str = "beat", queued_id: int | None = None) -> int:
    """Check the whole audit trail and store the result (a press of "Verify
    now" passes its ``queued_id``); returns the AuditVerification id."""
    return services.verify_audit_trail(trigger=trigger, queued_id=queued_id).pk


@shared_task(name="grants.audit_report")
def audit_report(trigger: str = "beat") -> int:
    """Build and store the daily audit report; returns its id."""
    return services.create_report(trigger=trigger).pk


@shared_task(bind=True, name="grants.check_token_window", max_retries=STEP_MAX_RETRIES)
def check_token_window(self, revoke_seq: int) -> int | None:
    """After a revoke's residual window (queued by the console with a countdown
    when the admin revoked the app's refresh tokens): check the System Log for
    tokens issued to the app with the revoked scope since
    (services.app_tokens.check_token_window). Transient Okta errors retry with
    backoff; after STEP_MAX_RETRIES, or on a refusal, the check is recorded as
    not done, with the reason. Returns the audit row's seq (None for an
    unknown revoke)."""
    revoke = (
        AuditEvent.objects.filter(seq=revoke_seq, action="revoke")
        .select_related("app")
        .first()
    )
    if revoke is None or revoke.app is None:
        return None
    try:
        row = app_tokens.check_token_window(
            client=worker_client(), app=revoke.app, revoke=revoke
        )
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= STEP_MAX_RETRIES:
            row = app_tokens.record_not_checked(
                revoke.app, revoke, "Okta kept failing: " + describe(exc)
            )
            return row.seq
        countdown = services.transient_wait(exc, self.request.retries + 1)
        raise self.retry(countdown=countdown, exc=None) from None
    except OktaError as exc:
        row = app_tokens.record_not_checked(revoke.app, revoke, exc.explanation)
    return row.seq


@shared_task(name="grants.sweep_token_windows")
def sweep_token_windows() -> list[int]:
    """Run the residual-window checks that are due and were never recorded
    (``app_tokens.due_window_checks``: their countdown task was lost with a
    broker or a worker), oldest first. Idempotent with that task: one audit row
    per revoke, however often either runs. A refusal is recorded as not done,
    with the reason; a transient Okta error stops the sweep (the next one
    tries again). Returns the seqs of the rows recorded."""
    due = app_tokens.due_window_checks()
    if not due:
        return []  # no Okta call, not even for a token
    client = worker_client()
    recorded = []
    for revoke in due:
        try:
            row = app_tokens.check_token_window(
                client=client, app=revoke.app, revoke=revoke
            )
        except TRANSIENT_ERRORS as exc:
            logger.info("token-window sweep stopped: %s", describe(exc))
            break
        except OktaError as exc:
            row = app_tokens.record_not_checked(revoke.app, revoke, exc.explanation)
        recorded.append(row.seq)
    return recorded

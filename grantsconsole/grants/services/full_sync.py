"""Full sync: every OIDC app and its grant collection, in short steps.

A run is driven step by step (:func:`full_sync_step`); each step is one apps
page (``GET /api/v1/apps``, every app of the org, 200 per page, of which the
OIDC ones are kept) or one batch of apps' grants (``GET
/api/v1/apps/{appId}/grants``, one transaction per app), and finishes in
seconds, far from Redis' visibility timeout. Steps are numbered: a step runs
only if its number is the run's current one and advances it when done, so a
redelivered or duplicated step message does nothing twice; an app already
synced by this run is skipped without an Okta call.

Single-flight: a run holds the ``sync:full`` lock (locks.py) from start to
finish, renewed by each step; a second run started meanwhile is recorded as
"skipped" and makes no Okta call. When the listing is complete, apps no longer
listed are marked removed with their grants closed. Errors reading one app's
grants mark that app "unknown" and never touch its grants; 401/403 on the
listing fail the run (never read as "no apps"). When Okta keeps failing (a
long run of 429s, an outage) the run ends early as "partial", keeping what it
read and listing the apps it did not read (:func:`end_run_early`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from grantsconsole.grants import audit, locks
from grantsconsole.grants.intents import reconcile_pending_intents
from grantsconsole.grants.models import LogCursor, OktaApp, SyncRun
from grantsconsole.grants.services.app_sync import (
    CREDENTIAL_ERRORS,
    TRANSIENT_ERRORS,
    AppSyncOutcome,
    sync_one_app,
)
from grantsconsole.grants.services.snapshots import (
    METADATA_COLUMNS,
    AppChange,
    mark_removed,
    mark_unreadable,
    metadata_fields,
    stored_app,
)
from grantsconsole.okta import (
    App,
    OktaClient,
    OktaError,
    OktaPermissionDenied,
    OktaRateLimited,
    SkippedApp,
)
from grantsconsole.okta.client import log_skipped
from grantsconsole.okta.errors import describe

logger = logging.getLogger(__name__)

LOCK_NAME = "sync:full"
LOCK_TTL_SECONDS = 600  # > the longest step (task hard time limit 300 s)
STEP_BUDGET_SECONDS = 15.0  # a grants step stops taking new apps after this
STEP_MAX_APPS = 25
STALL_SECONDS = 180  # a running run without a heartbeat this long is resumed
OUTAGE_STREAK = 3  # consecutive apps failing transiently = an outage
# Consecutive apps refused with 403 before any app was read: the worker itself
# may not read grants (no admin role), so the run fails instead of going on.
DENIED_STREAK = 3
SOURCE = "full_sync"


def _owner(run_id: int) -> str:
    return f"full-sync-run-{run_id}"


def start_full_sync(*, trigger: str, requested_by: str = "") -> SyncRun:
    """Create a full-sync run and take the single-flight lock. ``requested_by``
    is the Okta login of the admin who asked for it ("" for beat or a command).

    Returns the run; its status is "running" (drive it with
    :func:`full_sync_step` from step 0) or "skipped" when another full sync
    holds the lock (no Okta call is made). Until a full sync has finished, each
    run is a baseline run (``SyncRun.baseline``).
    """
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.FULL,
        trigger=trigger,
        requested_by=requested_by[:300],
        heartbeat_at=timezone.now(),
        baseline=not SyncRun.objects.filter(
            kind=SyncRun.Kind.FULL,
            status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL),
        ).exists(),
    )
    if not locks.acquire(LOCK_NAME, _owner(run.pk), LOCK_TTL_SECONDS):
        other = locks.holder(LOCK_NAME)
        run.status = SyncRun.Status.SKIPPED
        run.finished_at = timezone.now()
        run.message = (
            "Skipped: another full sync is running"
            + (f" ({other.replace('full-sync-run-', 'run #')})" if other else "")
            + "."
        )
        run.save(update_fields=["status", "finished_at", "message"])
        logger.info("full sync #%s skipped: lock held by %s", run.pk, other)
    return run


def _heartbeat(run_id: int, **counters: int) -> None:
    updates = {name: F(name) + value for name, value in counters.items() if value}
    SyncRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now(), **updates)


def _add_error(run_id: int, okta_id: str, message: str) -> None:
    with transaction.atomic():
        run = SyncRun.objects.get(pk=run_id)
        errors = dict(run.errors)
        errors[okta_id or "(no id)"] = message
        SyncRun.objects.filter(pk=run_id).update(errors=errors)


def _uncount(run_id: int, okta_ids: list[str]) -> None:
    """Take back the failures counted for apps that will be read again (an
    outage's first apps), so a run that rides it out is not "partial"."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        errors = {k: v for k, v in run.errors.items() if k not in okta_ids}
        counted = len(run.errors) - len(errors)
        if counted:
            SyncRun.objects.filter(pk=run_id).update(
                errors=errors,
                apps_done=F("apps_done") - counted,
                apps_failed=F("apps_failed") - counted,
            )


def _count_apps(run_id: int) -> None:
    total = OktaApp.objects.filter(seen_run_id=run_id).count()
    done = OktaApp.objects.filter(seen_run_id=run_id, synced_run_id=run_id).count()
    SyncRun.objects.filter(pk=run_id).update(apps_total=total, apps_done=done)


def _list_one_page(run: SyncRun, client: OktaClient) -> None:
    apps, skipped, next_url = client.list_app_page(run.list_after or None)
    now = timezone.now()
    with transaction.atomic():
        _record_listing(apps, run.pk)
        _record_skipped(skipped, run.pk)
        SyncRun.objects.filter(pk=run.pk).update(
            list_after=next_url or "",
            list_done=next_url is None,
            heartbeat_at=now,
        )
    _count_apps(run.pk)


def _record_skipped(skipped: list[SkippedApp], run_id: int) -> None:
    """Apps of a listing page that are not read as OIDC apps: another sign-on
    mode (normal: the listing has every app) or an object that did not parse.
    Each is logged (its id and why, never the object) and is no failure of the
    run. One we hold from earlier keeps its grants as last known: marked seen
    (so it is not taken for removed) and "unknown", saying why. Queries: one
    SELECT, plus one UPDATE per such app we hold (none usually)."""
    for item in skipped:
        log_skipped(item)
    reasons = {item.app_id: item.reason for item in skipped if item.app_id}
    held = OktaApp.objects.filter(okta_id__in=reasons).values_list("okta_id", flat=True)
    for okta_id in list(held):
        OktaApp.objects.filter(okta_id=okta_id).update(
            seen_run_id=run_id,
            synced_run_id=run_id,
            grants_state=OktaApp.GrantsState.UNKNOWN,
            grants_error=f"Okta's app object is not read as an OIDC app: "
            f"{reasons[okta_id]}"[:2000],
        )


def _record_listing(apps: list[App], run_id: int) -> None:
    """Record that the listing has these apps, with their current label, status
    and type (their grants are read in a later step). A new app gets a row now;
    whether it is new is decided when its grants are first applied
    (``last_synced_at`` is still empty). Queries: one SELECT of the page's
    stored apps, one UPDATE marking the unchanged ones seen, and one write per
    new or changed app (none on a page where nothing changed)."""
    listed = {app.id: metadata_fields(app) for app in apps}
    stored = {
        row["okta_id"]: row
        for row in OktaApp.objects.filter(okta_id__in=listed).values(
            "okta_id", *METADATA_COLUMNS
        )
    }
    unchanged = []
    for okta_id, fields in listed.items():
        row = stored.get(okta_id)
        if row is None:
            OktaApp.objects.create(okta_id=okta_id, seen_run_id=run_id, **fields)
        elif any(row[name] != value for name, value in fields.items()):
            OktaApp.objects.filter(okta_id=okta_id).update(seen_run_id=run_id, **fields)
        else:
            unchanged.append(okta_id)
    if unchanged:
        OktaApp.objects.filter(okta_id__in=unchanged).update(seen_run_id=run_id)


def _any_app_read(run_id: int) -> bool:
    return OktaApp.objects.filter(
        synced_run_id=run_id, grants_state=OktaApp.GrantsState.OK
    ).exists()


def _sync_grants_batch(run: SyncRun, client: OktaClient) -> bool:
    """Read grants for up to STEP_MAX_APPS apps of this run; True if more remain."""
    deadline = time.monotonic() + STEP_BUDGET_SECONDS
    pending = list(
        OktaApp.objects.filter(seen_run_id=run.pk)
        .exclude(synced_run_id=run.pk)
        .order_by("id")[: STEP_MAX_APPS + 1]
    )
    streak: list[OktaApp] = []  # apps just failed by transient errors, in a row
    denied = 0  # apps just refused with 403, in a row
    for row in pending[:STEP_MAX_APPS]:
        if time.monotonic() > deadline:
            return True
        # Re-check: a twin delivery of this step may have synced it meanwhile.
        if OktaApp.objects.filter(pk=row.pk, synced_run_id=run.pk).exists():
            continue
        try:
            outcome = sync_one_app(
                client,
                row.okta_id,
                source=SOURCE,
                listing=stored_app(row),
                run_id=run.pk,
                baseline=run.baseline,
            )
        except OktaRateLimited:
            raise  # the whole step waits for the window and retries
        except TRANSIENT_ERRORS as exc:
            # The client already retried; one app's 5xx/timeout marks that app
            # unknown. Several in a row look like an outage: retry the step later
            # and read these apps again then.
            mark_unreadable(row.okta_id, describe(exc), run_id=run.pk)
            streak.append(row)
            if len(streak) >= OUTAGE_STREAK:
                OktaApp.objects.filter(pk__in=[a.pk for a in streak]).update(
                    synced_run_id=None
                )
                _uncount(run.pk, [a.okta_id for a in streak])
                raise
            outcome = AppSyncOutcome(AppChange(), error=exc)
        else:
            streak.clear()
        change = outcome.change
        if outcome.error is not None:
            _add_error(run.pk, row.okta_id, outcome.message)
        _heartbeat(
            run.pk,
            apps_done=1,
            apps_failed=1 if outcome.error is not None else 0,
            apps_added=1 if change.discovered and not change.baseline else 0,
            grants_added=0 if change.baseline else len(change.added),
            grants_imported=len(change.added) if change.baseline else 0,
            grants_revoked=len(change.revoked),
        )
        if isinstance(outcome.error, OktaPermissionDenied):
            denied += 1
            if denied >= DENIED_STREAK and not _any_app_read(run.pk):
                raise outcome.error
        else:
            denied = 0
    return len(pending) > STEP_MAX_APPS or (
        OktaApp.objects.filter(seen_run_id=run.pk)
        .exclude(synced_run_id=run.pk)
        .exists()
    )


def _finish(run: SyncRun) -> None:
    removed = 0
    for okta_id in (
        OktaApp.objects.filter(removed_at__isnull=True)
        .exclude(seen_run_id=run.pk)
        .values_list("okta_id", flat=True)
    ):
        if mark_removed(okta_id, source=SOURCE).removed:
            removed += 1
    _count_apps(run.pk)
    # The database now mirrors Okta: settle console intents left pending.
    reconcile_pending_intents(source=SOURCE, read_since=run.started_at)
    run.refresh_from_db()
    status = SyncRun.Status.PARTIAL if run.apps_failed else SyncRun.Status.SUCCEEDED
    message = (
        f"{run.apps_done} apps read"
        + (f"; baseline: {run.grants_imported} grants imported" if run.baseline else "")
        + (
            f"; grants of {run.apps_failed} could not be read"
            if run.apps_failed
            else ""
        )
    )
    with transaction.atomic():
        ended = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
            status=status,
            finished_at=timezone.now(),
            apps_removed=F("apps_removed") + removed,
            message=message,
        )
        if not ended:
            return  # a twin delivery finished it
        cursor, _ = LogCursor.objects.get_or_create(name="system_log")
        if not cursor.next_url and cursor.since is None:
            # Seed the incremental sync: replay the System Log from this run's
            # start (changes it already saw then compare equal: no rows).
            cursor.since = run.started_at
            cursor.save(update_fields=["since", "updated_at"])
        if status == SyncRun.Status.PARTIAL:
            audit.record(
                "sync",
                actor_login="worker",
                outcome="failure",
                detail={
                    "run": run.pk,
                    "kind": "full",
                    "status": status,
                    "apps_failed": run.apps_failed,
                    "errors": dict(list(run.errors.items())[:50]),
                },
                key=f"sync-run-{run.pk}",
            )
    locks.release(LOCK_NAME, _owner(run.pk))
    audit.checkpoint()
    logger.info("full sync #%s %s: %s", run.pk, status, message)


def fail_run(run_id: int, message: str) -> None:
    """End a full-sync run as failed (no app is marked removed), release its
    lock and write a ``sync`` failure audit row. A no-op for a finished run."""
    with transaction.atomic():
        ended = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED, finished_at=timezone.now(), message=message
        )
        if ended:
            audit.record(
                "sync",
                actor_login="worker",
                outcome="failure",
                detail={"run": run_id, "kind": "full", "message": message},
                key=f"sync-run-{run_id}",
            )
    locks.release(LOCK_NAME, _owner(run_id))
    if ended:
        logger.warning("full sync #%s failed: %s", run_id, message)


def end_run_early(run_id: int, reason: str) -> None:
    """End a running full sync that cannot go on because Okta kept failing (a
    long run of 429s, an outage), keeping what it read.

    If it read at least one app's grants the run ends "partial": ``errors``
    lists every app it did not read (``reason`` in each message) and counts
    them in ``apps_failed``. If it read none it fails (:func:`fail_run`). No app
    is marked removed either way (the listing or the reads are incomplete).
    Releases the lock and writes a ``sync`` failure audit row. A no-op for a
    finished run.
    """
    if not _any_app_read(run_id):
        fail_run(run_id, f"{reason} No app's grants were read; nothing was changed.")
        return
    _count_apps(run_id)
    not_read = list(
        OktaApp.objects.filter(removed_at__isnull=True)
        .exclude(synced_run_id=run_id)
        .order_by("okta_id")
        .values_list("okta_id", flat=True)
    )
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != SyncRun.Status.RUNNING:
            return  # a twin delivery finished it
        errors = dict(run.errors)
        for okta_id in not_read:
            errors[okta_id] = f"Not read: the sync stopped early. {reason}"
        run.errors = errors
        run.apps_failed += len(not_read)
        run.status = SyncRun.Status.PARTIAL
        run.finished_at = timezone.now()
        run.message = (
            f"Stopped early: {run.apps_done} apps read, {len(not_read)} not read "
            f"(listed with the errors); no app was marked removed. {reason}"
        )
        run.save(
            update_fields=[
                "errors",
                "apps_failed",
                "status",
                "finished_at",
                "message",
            ]
        )
        audit.record(
            "sync",
            actor_login="worker",
            outcome="failure",
            detail={
                "run": run_id,
                "kind": "full",
                "status": run.status,
                "stopped_early": reason,
                "apps_failed": run.apps_failed,
                "not_read": len(not_read),
                "errors": dict(list(errors.items())[:50]),
            },
            key=f"sync-run-{run_id}",
        )
    locks.release(LOCK_NAME, _owner(run_id))
    audit.checkpoint()
    logger.warning("full sync #%s partial: %s", run_id, run.message)


def full_sync_step(run_id: int, step: int, *, client: OktaClient) -> int | None:
    """Run step ``step`` of full-sync run ``run_id``.

    Returns the next step's number, or None when there is nothing more to do
    (the run finished, failed, or this step was a stale duplicate). Raises
    TRANSIENT_ERRORS (rate limit, 5xx, timeout, connection) for the caller to
    retry the same step later; credential errors and 403 on the listing fail
    the run.
    """
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None or run.status != SyncRun.Status.RUNNING or run.step != step:
        return None
    if not locks.acquire(LOCK_NAME, _owner(run_id), LOCK_TTL_SECONDS):
        fail_run(run_id, "Another full sync took over the lock (this run had stalled).")
        return None
    before = client.request_count
    try:
        if not run.list_done:
            _list_one_page(run, client)
            more = True
        else:
            more = _sync_grants_batch(run, client)
    except TRANSIENT_ERRORS:
        raise
    except (*CREDENTIAL_ERRORS, OktaPermissionDenied) as exc:
        fail_run(run_id, "Okta refused the worker's requests: " + describe(exc))
        return None
    except OktaError as exc:
        # Only the listing raises these here (per-app errors are handled per app).
        fail_run(run_id, "The apps listing could not be read: " + describe(exc))
        return None
    finally:
        _heartbeat(run_id, okta_requests=client.request_count - before)
    if not more:
        _finish(SyncRun.objects.get(pk=run_id))
        return None
    claimed = SyncRun.objects.filter(
        pk=run_id, step=step, status=SyncRun.Status.RUNNING
    ).update(step=step + 1)
    return step + 1 if claimed else None


def transient_wait(exc: OktaError, attempt: int) -> float:
    """Seconds to wait before retrying a step after a transient error: Okta's
    ``retry_after`` (+1 s) for a rate limit, else 2**attempt capped at 60 s."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return min(max(float(retry_after), 0.0) + 1.0, 120.0)
    return float(min(2**attempt, 60))


def run_full_sync(
    *,
    client: OktaClient,
    trigger: str = "command",
    max_transient_retries: int = 6,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncRun:
    """Run a whole full sync in this process (the management command; tests).

    Same steps as the Celery tasks. Transient errors are retried with waits
    (``transient_wait``) up to ``max_transient_retries`` times per step, after
    which the run ends early (:func:`end_run_early`). Returns the finished (or
    skipped) run.
    """
    run = start_full_sync(trigger=trigger)
    step: int | None = 0
    retries = 0
    while run.status == SyncRun.Status.RUNNING and step is not None:
        try:
            step = full_sync_step(run.pk, step, client=client)
            retries = 0
        except TRANSIENT_ERRORS as exc:
            retries += 1
            if retries > max_transient_retries:
                end_run_early(run.pk, "Okta kept failing: " + describe(exc))
                break
            sleep(transient_wait(exc, retries))
        run.refresh_from_db()
    run.refresh_from_db()
    return run


def stalled_runs() -> list[SyncRun]:
    """Running full syncs whose last heartbeat is older than STALL_SECONDS."""
    limit = timezone.now() - timedelta(seconds=STALL_SECONDS)
    return list(
        SyncRun.objects.filter(
            kind=SyncRun.Kind.FULL,
            status=SyncRun.Status.RUNNING,
            heartbeat_at__lt=limit,
        )
    )

"""Full sync: every OIDC app and its grant collection, in short steps.

A run is driven step by step (:func:`full_sync_step`); each step is one apps
page (``GET /api/v1/apps``, every app of the org, 200 per page, of which the
OIDC ones are kept) or one batch of apps' grants (``GET
/api/v1/apps/{appId}/grants``, one transaction per app, with a service app's
admin roles and the credentials where they matter: ``privilege_sync``,
``controls``), and finishes in seconds, far from Redis' visibility timeout. The
last step also reads the OIN API service integrations (``services.api_services``:
``ceil(I/page)`` listing requests plus one secrets read per integration) and the
org setting. A run's minimum, per rate-limit bucket, is stated by
``tests/grants/test_full_sync.py`` and ``bench/sync_floor.py``. Steps are
numbered: a step runs only if its number is the run's current one and advances
it when done, so a redelivered or duplicated step message does nothing twice. Where the run
stands is kept on the run alone (``SyncRun.listed_app_ids``, ``grants_cursor``):
a redelivered grants step resumes from the cursor, and a sync that finds
nothing changed writes no app or grant row (an app's freshness is then the
start of the last complete run, ``SyncRun.complete``; see ``OktaApp``).

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
from grantsconsole.grants.models import LogCursor, OktaApp, ScopeGrant, SyncRun
from grantsconsole.grants.services import api_services, controls, sync_queue
from grantsconsole.grants.services.app_sync import (
    CREDENTIAL_ERRORS,
    TRANSIENT_ERRORS,
    AppSyncOutcome,
    sync_one_app,
)
from grantsconsole.grants.services.privilege_sync import sync_privilege
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


def start_full_sync(
    *, trigger: str, requested_by: str = "", run_id: int | None = None
) -> SyncRun:
    """Create a full-sync run, or start the queued run ``run_id`` (see
    ``sync_queue``), and take the single-flight lock. ``requested_by`` is the
    Okta login of the admin who asked for it ("" for beat or a command).

    Returns the run; its status is "running" (drive it with
    :func:`full_sync_step` from step 0) or "skipped" when another full sync
    holds the lock (no Okta call is made). Raises ``sync_queue.NotQueued``
    when ``run_id`` is no longer queued. Until a full sync
    has finished, each run is a baseline run (``SyncRun.baseline``).
    """
    baseline = not SyncRun.objects.filter(
        kind=SyncRun.Kind.FULL,
        status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL),
    ).exists()
    if run_id is not None:
        run = sync_queue.claim(
            run_id, SyncRun.Kind.FULL, trigger=trigger, baseline=baseline
        )
    else:
        run = SyncRun.objects.create(
            kind=SyncRun.Kind.FULL,
            trigger=trigger,
            requested_by=requested_by[:300],
            heartbeat_at=timezone.now(),
            baseline=baseline,
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


def _list_one_page(run: SyncRun, client: OktaClient) -> None:
    """Read one apps page and append its apps to the run's listing. Only the
    run's row is written, plus the apps that are new or changed; a twin
    delivery of the same step (same ``list_after``) appends nothing."""
    apps, skipped, next_url = client.list_app_page(run.list_after or None)
    with transaction.atomic():
        listed = run.listed_app_ids + _record_listing(apps)
        controls.record_listed(apps)
        kept = run.kept_app_ids + _record_skipped(skipped)
        SyncRun.objects.filter(
            pk=run.pk, list_after=run.list_after, list_done=False
        ).update(
            listed_app_ids=listed,
            kept_app_ids=kept,
            apps_total=len(listed) + len(kept),
            list_after=next_url or "",
            list_done=next_url is None,
            heartbeat_at=timezone.now(),
        )


def _record_skipped(skipped: list[SkippedApp]) -> list[int]:
    """Apps of a listing page that are not read as OIDC apps: another sign-on
    mode (normal: the listing has every app) or an object that did not parse.
    Each is logged (its id and why, never the object) and is no failure of the
    run. One we hold from earlier keeps its grants as last known: it is not
    taken for removed (its pk is returned, for ``SyncRun.kept_app_ids``) and
    becomes "unknown", saying why. Queries: one SELECT, plus one UPDATE per
    such app we hold whose state says otherwise (none usually)."""
    for item in skipped:
        log_skipped(item)
    reasons = {item.app_id: item.reason for item in skipped if item.app_id}
    held = dict(
        OktaApp.objects.filter(okta_id__in=reasons).values_list("okta_id", "pk")
    )
    for okta_id in held:
        message = f"Okta's app object is not read as an OIDC app: {reasons[okta_id]}"[
            :2000
        ]
        OktaApp.objects.filter(okta_id=okta_id).exclude(
            grants_state=OktaApp.GrantsState.UNKNOWN, grants_error=message
        ).update(grants_state=OktaApp.GrantsState.UNKNOWN, grants_error=message)
    return list(held.values())


def _record_listing(apps: list[App]) -> list[int]:
    """Record that the listing has these apps, with their current label, status
    and type (their grants are read in a later step); returns their pks in
    listing order. A new app gets a row now; whether it is new is decided when
    its grants are first applied (``last_synced_at`` is still empty). Queries:
    one SELECT of the page's stored apps, one INSERT of its new apps (none
    after the first sync) and one UPDATE per changed app (none on a page
    where nothing changed)."""
    listed = {app.id: metadata_fields(app) for app in apps}
    stored = {
        row["okta_id"]: row
        for row in OktaApp.objects.filter(okta_id__in=listed).values(
            "pk", "okta_id", *METADATA_COLUMNS
        )
    }
    new = OktaApp.objects.bulk_create(
        OktaApp(okta_id=okta_id, **fields)
        for okta_id, fields in listed.items()
        if okta_id not in stored
    )
    pks = {app.okta_id: app.pk for app in new}
    for okta_id, fields in listed.items():
        row = stored.get(okta_id)
        if row is None:
            continue
        if any(row[name] != value for name, value in fields.items()):
            OktaApp.objects.filter(pk=row["pk"]).update(**fields)
        pks[okta_id] = row["pk"]
    return [pks[okta_id] for okta_id in listed]


def _any_app_read(run_id: int) -> bool:
    """True when the run has read at least one app's grants (counters as
    last saved)."""
    return SyncRun.objects.filter(pk=run_id, apps_done__gt=F("apps_failed")).exists()


def _save_progress(
    run_id: int, cursor: int, outcomes: list[AppSyncOutcome], okta_ids: list[str]
) -> bool:
    """Move the run's grants cursor from ``cursor`` past the apps of
    ``outcomes`` (``okta_ids`` in the same order) and add their counters and
    errors, in one transaction. False (nothing written) when the cursor is no
    longer ``cursor``: a twin delivery of the step got there first."""
    counts = {
        "apps_done": len(outcomes),
        "apps_failed": 0,
        "apps_added": 0,
        "grants_added": 0,
        "grants_imported": 0,
        "grants_revoked": 0,
    }
    errors = {}
    for okta_id, outcome in zip(okta_ids, outcomes, strict=True):
        change = outcome.change
        if outcome.error is not None:
            counts["apps_failed"] += 1
            errors[okta_id or "(no id)"] = outcome.message
        counts["apps_added"] += change.discovered and not change.baseline
        counts["grants_imported" if change.baseline else "grants_added"] += len(
            change.added
        )
        counts["grants_revoked"] += len(change.revoked)
    updates = {
        "grants_cursor": cursor + len(outcomes),
        "heartbeat_at": timezone.now(),
        **{name: F(name) + n for name, n in counts.items() if n},
    }
    if not errors:  # one statement: the cursor check is its WHERE
        return bool(
            SyncRun.objects.filter(pk=run_id, grants_cursor=cursor).update(**updates)
        )
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.grants_cursor != cursor:
            return False
        SyncRun.objects.filter(pk=run_id).update(
            errors={**run.errors, **errors}, **updates
        )
    return True


def _sync_grants_batch(run: SyncRun, client: OktaClient) -> bool:
    """Read grants for up to STEP_MAX_APPS apps of this run, from its grants
    cursor on; True if more remain.

    An app whose grants are as stored costs no write: the cursor and counters
    are saved once for the step, and right after each app that changed or
    failed (so a redelivered step re-reads at most unchanged apps). Apps
    failed by transient errors are saved only once a later app is read: when
    they turn out to be an outage, the step is retried from the first of them.
    """
    deadline = time.monotonic() + STEP_BUDGET_SECONDS
    cursor = run.grants_cursor
    ids = run.listed_app_ids[cursor : cursor + STEP_MAX_APPS]
    rows = OktaApp.objects.in_bulk(ids)
    # The batch's open grants in one query: an app Okta shows as stored costs
    # no query of its own (see sync_one_app's ``stored_grants``).
    stored: dict[int, dict[str, str]] = {pk: {} for pk in ids}
    for app_id, scope_id, grant_id in ScopeGrant.objects.filter(
        app_id__in=ids, revoked_at__isnull=True
    ).values_list("app_id", "scope_id", "okta_grant_id"):
        stored[app_id][scope_id] = grant_id
    outcomes: list[AppSyncOutcome] = []  # read, not yet saved, in listing order
    okta_ids: list[str] = []
    streak = 0  # apps just failed by transient errors, in a row
    denied = 0  # apps just refused with 403, in a row

    def save(count: int) -> bool:
        nonlocal cursor
        if not _save_progress(run.pk, cursor, outcomes[:count], okta_ids[:count]):
            return False
        cursor += count
        del outcomes[:count], okta_ids[:count]
        return True

    try:
        for pk in ids:
            if time.monotonic() > deadline:
                break
            row = rows[pk]
            try:
                outcome = sync_one_app(
                    client,
                    row.okta_id,
                    source=SOURCE,
                    listing=stored_app(row),
                    run_id=run.pk,
                    baseline=run.baseline,
                    known_version=row.version,
                    stored_grants=stored[pk]
                    if row.grants_state == OktaApp.GrantsState.OK
                    and not row.grants_error
                    and row.removed_at is None
                    and row.last_synced_at is not None
                    else None,
                )
                if outcome.error is None and not outcome.change.removed:
                    sync_privilege(client, row, source=SOURCE)
            except OktaRateLimited:
                raise  # the whole step waits for the window and retries
            except TRANSIENT_ERRORS as exc:
                # The client already retried; one app's 5xx/timeout marks that
                # app unknown. Several in a row look like an outage: retry the
                # step later and read these apps again then.
                mark_unreadable(row.okta_id, describe(exc))
                streak += 1
                if streak >= OUTAGE_STREAK:
                    save(len(outcomes) - (streak - 1))
                    outcomes.clear()
                    raise
                outcomes.append(AppSyncOutcome(AppChange(), error=exc))
                okta_ids.append(row.okta_id)
                continue
            streak = 0
            outcomes.append(outcome)
            okta_ids.append(row.okta_id)
            if (outcome.error is not None or outcome.change.changed) and not save(
                len(outcomes)
            ):
                return True  # a twin delivery of this step is ahead of us
            if isinstance(outcome.error, OktaPermissionDenied):
                denied += 1
                if denied >= DENIED_STREAK and not _any_app_read(run.pk):
                    raise outcome.error
            else:
                denied = 0
            # After the app's outcome is kept: a rate limit here skips only
            # this app's credentials read (its last ages stay) for this run.
            controls.read_credentials(client, pk)
    finally:
        if outcomes:
            save(len(outcomes))
    return cursor < len(run.listed_app_ids)


def _finish(run: SyncRun) -> None:
    """End a run whose listing is complete and whose listed apps were all
    read: apps it did not list are marked removed, and the run is ``complete``
    (its start is when each of its apps with grants state "ok" was last read;
    see ``OktaApp``)."""
    listed = {*run.listed_app_ids, *run.kept_app_ids}
    removed = 0
    for pk, okta_id in OktaApp.objects.filter(removed_at__isnull=True).values_list(
        "pk", "okta_id"
    ):
        if pk not in listed and mark_removed(okta_id, source=SOURCE).removed:
            removed += 1
    # The database now mirrors Okta: settle console intents left pending.
    reconcile_pending_intents(source=SOURCE, read_since=run.started_at)
    run.refresh_from_db()
    status = SyncRun.Status.PARTIAL if run.apps_failed else SyncRun.Status.SUCCEEDED
    message = (
        f"{run.apps_total} apps read"
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
            apps_done=run.apps_total,
            apps_removed=F("apps_removed") + removed,
            complete=True,
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
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != SyncRun.Status.RUNNING:
            return  # a twin delivery finished it
        handled = {*run.listed_app_ids[: run.grants_cursor], *run.kept_app_ids}
        not_read = sorted(
            okta_id
            for pk, okta_id in OktaApp.objects.filter(
                removed_at__isnull=True
            ).values_list("pk", "okta_id")
            if pk not in handled
        )
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
        if not more:
            # Last step: the other holders of okta.* scopes. A transient error
            # retries this step, whose grants batch is then empty.
            api_services.sync_api_services(client, source=SOURCE)
            if not more:
                controls.read_org_settings(client)
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

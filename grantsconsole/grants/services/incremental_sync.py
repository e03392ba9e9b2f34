"""Incremental sync: follow the System Log and re-read only the apps it names.

Okta API reference: System Log, ``listLogEvents`` in its polling form (no
``until``, ascending; every page carries a ``next`` link, even an empty one).
The stored cursor (``LogCursor.next_url``) is saved in the same transaction as
the changes its page caused, so after a crash the page is read again (no gap)
and its changes compare equal (no double rows). Events watched:
``app.oauth2.admin.consent.grant|revoke`` (attribute the change to the event's
actor and time), ``application.lifecycle.*`` (new, changed, deleted apps),
``integration.api_service.lifecycle.*`` (``services.api_services``) and
``app.oauth2.client.privilege.grant|revoke`` (a service app's admin roles
changed: only its roles are re-read, see privilege_sync) and
``user.lifecycle.deactivate`` (told to ``signals.user_deactivated``: an
app owner may be gone).
Each named app is re-read (``GET /api/v1/apps/{appId}`` and ``/grants``): the
event only says where to look; Okta's current state is what gets applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from grantsconsole.grants import audit, locks, signals
from grantsconsole.grants.audit import NOBODY, Actor
from grantsconsole.grants.models import LogCursor, OktaApp, SyncRun
from grantsconsole.grants.services import api_services, people, sync_queue
from grantsconsole.grants.services.app_sync import (
    CREDENTIAL_ERRORS,
    GRANTS_NOT_READABLE,
    TRANSIENT_ERRORS,
    app_is_gone,
)
from grantsconsole.grants.services.privilege_sync import (
    PRIVILEGE_EVENTS,
    RolesRead,
    apply_roles,
    read_roles,
    reads_roles,
)
from grantsconsole.grants.services.snapshots import (
    AppChange,
    apply_snapshot,
    local_version,
    mark_removed,
    mark_unreadable,
    stored_app,
)
from grantsconsole.okta import (
    App,
    Grant,
    LogEvent,
    OktaClient,
    OktaError,
    OktaNotFound,
)
from grantsconsole.okta.errors import describe

logger = logging.getLogger(__name__)

LOCK_NAME = "sync:incremental"
LOCK_TTL_SECONDS = 300
CURSOR_NAME = "system_log"
FIRST_POLL_WINDOW = timedelta(minutes=5)
PAGE_LIMIT = 1000
MAX_PAGES_PER_RUN = 20
APPLY_ATTEMPTS = 3
SOURCE = "incremental_sync"

GRANT_EVENTS = {
    "app.oauth2.admin.consent.grant": "grant",
    "app.oauth2.admin.consent.revoke": "revoke",
}
USER_DEACTIVATED = "user.lifecycle.deactivate"
LIFECYCLE_PREFIXES = ("application.lifecycle.", "app.oauth2.client.lifecycle.")
LOG_FILTER = (
    'eventType eq "app.oauth2.admin.consent.grant" or '
    'eventType eq "app.oauth2.admin.consent.revoke" or '
    'eventType sw "application.lifecycle." or '
    'eventType sw "app.oauth2.client.lifecycle." or '
    'eventType sw "app.oauth2.client.privilege." or '
    f'eventType eq "{USER_DEACTIVATED}" or ' + api_services.LOG_FILTER_TERM
)
_APP_TARGET_TYPES = {"AppInstance", "PublicClientApp", "Application", "App"}
_SCOPE_TARGET_TYPES = {"Scope", "OAuth2Scope"}


def _is_relevant(event: LogEvent) -> bool:
    return (
        event.event_type in GRANT_EVENTS
        or event.event_type in PRIVILEGE_EVENTS
        or event.event_type.startswith(LIFECYCLE_PREFIXES)
    )


@dataclass(slots=True)
class _AppWork:
    """What the events of one page say about one app."""

    attribution: dict[tuple[str, str], Actor] = field(default_factory=dict)
    app_actor: Actor = NOBODY
    deleted: bool = False
    privilege_actor: Actor | None = None  # its admin roles changed

    @property
    def privilege_only(self) -> bool:
        """Only a role change: the app and its grants need no re-read."""
        return (
            self.privilege_actor is not None
            and not self.attribution
            and self.app_actor is NOBODY
            and not self.deleted
        )


def _plan(events: tuple[LogEvent, ...]) -> dict[str, _AppWork]:
    """Group the relevant, successful events by app id (later events win)."""
    work: dict[str, _AppWork] = {}
    for event in sorted(events, key=lambda e: e.published):
        if not _is_relevant(event) or event.outcome_result not in ("SUCCESS", ""):
            continue
        app_ids = [
            t.id
            for t in event.targets
            if t.id and (t.type in _APP_TARGET_TYPES or t.id.startswith("0oa"))
        ]
        scope_ids = [
            t.id or t.alternate_id
            for t in event.targets
            if t.type in _SCOPE_TARGET_TYPES or (t.id or "").startswith("okta.")
        ]
        for app_id in app_ids:
            item = work.setdefault(app_id, _AppWork())
            if event.event_type in PRIVILEGE_EVENTS:
                item.privilege_actor = Actor.of_event(event)
                continue
            kind = GRANT_EVENTS.get(event.event_type)
            if kind is not None:
                for scope_id in scope_ids:
                    item.attribution[(scope_id, kind)] = Actor.of_event(event)
            else:
                item.app_actor = Actor.of_event(event)
                item.deleted = event.event_type.endswith(".delete")
    return work


@dataclass(slots=True)
class _Fetched:
    okta_id: str
    version: int | None
    work: _AppWork
    app: App | None = None
    grants: list[Grant] | None = None
    gone: bool = False
    error: OktaError | None = None
    message: str = ""  # ``error`` in plain words when not its own explanation
    row: OktaApp | None = None  # a service app whose roles were re-read ...
    roles: RolesRead | None = None  # ... and what was read


def _known_app(okta_id: str, work: _AppWork) -> App | None:
    """The app as we already hold it, when its events were only grant events.

    A grant or revoke does not change the app object, so re-reading it would cost
    one request per change for nothing (issue 8: K changes in at most K + 2
    requests). Lifecycle events, unknown or removed apps are re-read from Okta.
    """
    if work.app_actor is not NOBODY or work.deleted:
        return None
    row = OktaApp.objects.filter(okta_id=okta_id, removed_at__isnull=True).first()
    if row is None:
        return None
    return stored_app(row)


def _fetch_roles(client: OktaClient, okta_id: str, fetched: _Fetched) -> None:
    """Re-read the roles of the app a privilege event names (by app id, or by
    client id: the event's target is the client)."""
    row = (
        OktaApp.objects.filter(okta_id=okta_id, removed_at__isnull=True).first()
        or OktaApp.objects.filter(client_id=okta_id, removed_at__isnull=True).first()
    )
    if row is not None and reads_roles(row):
        fetched.row = row
        fetched.roles = read_roles(client, row.client_id)


def _fetch(client: OktaClient, okta_id: str, work: _AppWork) -> _Fetched:
    fetched = _Fetched(okta_id, local_version(okta_id), work)
    if work.privilege_actor is not None:
        _fetch_roles(client, okta_id, fetched)
        if work.privilege_only:
            return fetched
    try:
        fetched.app = _known_app(okta_id, work) or client.get_app(okta_id)
        fetched.grants = client.list_grants(okta_id)
    except OktaNotFound as exc:
        # Only the app's own 404 proves it deleted; a 404 on its grants alone
        # leaves it and its grants as they were.
        if fetched.app is None or app_is_gone(client, okta_id):
            fetched.gone = True
        else:
            fetched.error = exc
            fetched.message = describe(exc, GRANTS_NOT_READABLE)
    except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS):
        raise
    except OktaError as exc:
        fetched.error = exc
    return fetched


class _VersionMoved(Exception):
    """An app changed locally while its Okta state was being read."""


@dataclass(slots=True)
class _PageResult:
    apps: int = 0
    added: int = 0
    revoked: int = 0
    discovered: int = 0
    removed: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def _tell_deactivations(events: tuple[LogEvent, ...]) -> None:
    """Send ``signals.user_deactivated`` for each successful
    ``user.lifecycle.deactivate`` event, naming its User target."""
    for event in events:
        if event.event_type != USER_DEACTIVATED or event.outcome_result not in (
            "SUCCESS",
            "",
        ):
            continue
        for target in event.targets:
            if target.type == "User" and target.id:
                signals.user_deactivated.send(
                    sender=LogEvent,
                    okta_user_id=target.id,
                    login=target.alternate_id,
                    at=event.published,
                    event_uuid=event.uuid,
                )


def _apply_page(
    fetched: list[_Fetched],
    cursor: LogCursor,
    next_url: str | None,
    newest: datetime | None,
    events: tuple[LogEvent, ...] = (),
) -> _PageResult:
    """Apply every app of one page and move the cursor, in one transaction."""
    result = _PageResult()
    with transaction.atomic():
        _tell_deactivations(events)
        for item in fetched:
            result.apps += 1
            change: AppChange
            if item.row is not None and item.roles is not None:
                apply_roles(
                    item.row,
                    item.roles,
                    source=SOURCE,
                    actor=item.work.privilege_actor or NOBODY,
                )
            if item.work.privilege_only:
                continue
            if item.gone:
                if OktaApp.objects.filter(okta_id=item.okta_id).exists():
                    change = mark_removed(
                        item.okta_id, source=SOURCE, actor=item.work.app_actor
                    )
                    result.removed += int(change.removed)
                continue
            if item.error is not None:
                # Not an OIDC app (malformed for us), or unreadable: keep what
                # we have; the full sync is the backstop.
                message = item.message or describe(item.error)
                if mark_unreadable(item.okta_id, message) is not None:
                    result.failed += 1
                    result.errors[item.okta_id] = message
                continue
            assert item.app is not None
            assert item.grants is not None
            change = apply_snapshot(
                item.app,
                item.grants,
                expected_version=item.version,
                source=SOURCE,
                attribution=item.work.attribution,
                app_actor=item.work.app_actor,
            )
            if not change.applied:
                raise _VersionMoved(item.okta_id)
            # A new app's grants are changes too, unless the app joins the
            # baseline (listed by the first full sync, its grants read now).
            result.discovered += int(change.discovered and not change.baseline)
            if not change.baseline:
                result.added += len(change.added)
            result.revoked += len(change.revoked)
        cursor.next_url = next_url or cursor.next_url
        if newest is not None:
            cursor.last_event_published = max(
                newest, cursor.last_event_published or newest
            )
        cursor.save()
    return result


def start_incremental_sync(
    *, trigger: str, requested_by: str = "", run_id: int | None = None
) -> SyncRun:
    """Create an incremental run, or start the queued run ``run_id`` (see
    ``sync_queue``), holding the ``sync:incremental`` lock, or a "skipped" run
    (no Okta call) when another one holds it. ``requested_by``: the Okta login
    of the admin who asked for it ("" for beat or a command). Raises
    ``sync_queue.NotQueued`` when ``run_id`` is no longer queued."""
    if run_id is not None:
        run = sync_queue.claim(run_id, SyncRun.Kind.INCREMENTAL, trigger=trigger)
    else:
        run = SyncRun.objects.create(
            kind=SyncRun.Kind.INCREMENTAL,
            trigger=trigger,
            requested_by=requested_by[:300],
            heartbeat_at=timezone.now(),
        )
    if not locks.acquire(LOCK_NAME, f"incremental-run-{run.pk}", LOCK_TTL_SECONDS):
        run.status = SyncRun.Status.SKIPPED
        run.finished_at = timezone.now()
        run.message = "Skipped: another incremental sync is running."
        run.save(update_fields=["status", "finished_at", "message"])
    return run


def run_incremental_sync(
    *,
    client: OktaClient,
    trigger: str = "command",
    requested_by: str = "",
    run_id: int | None = None,
) -> SyncRun:
    """Poll the System Log from the stored cursor and apply what it names.

    First run without a cursor: starts ``FIRST_POLL_WINDOW`` ago (or where a
    full sync seeded it). Reads pages until one is not full (caught up) or
    MAX_PAGES_PER_RUN. A transient Okta error or a credential error ends the
    run as failed with the cursor where the last applied page left it (the
    next run resumes there). ``run_id``: the queued run to start (raises
    ``sync_queue.NotQueued`` when it is no longer queued). Returns the
    finished run.
    """
    run = start_incremental_sync(
        trigger=trigger, requested_by=requested_by, run_id=run_id
    )
    if run.status == SyncRun.Status.SKIPPED:
        return run
    owner = f"incremental-run-{run.pk}"
    before = client.request_count
    totals = _PageResult()
    # Anything that escapes below (a bug, the database) leaves the run failed.
    status, message = SyncRun.Status.FAILED, "stopped by an unexpected error"
    try:
        cursor, _ = LogCursor.objects.get_or_create(name=CURSOR_NAME)
        for _page in range(MAX_PAGES_PER_RUN):
            since = None
            if not cursor.next_url:
                since = cursor.since or (timezone.now() - FIRST_POLL_WINDOW)
            for attempt in range(APPLY_ATTEMPTS):
                page = client.poll_logs(
                    cursor.next_url or None,
                    since=since,
                    filter=LOG_FILTER,
                    limit=PAGE_LIMIT,
                )
                api_services.apply_log_events(client, page.events, source=SOURCE)
                work = _plan(page.events)
                fetched = [_fetch(client, okta_id, w) for okta_id, w in work.items()]
                newest = max((e.published for e in page.events), default=None)
                try:
                    result = _apply_page(
                        fetched, cursor, page.next_url, newest, page.events
                    )
                    people.note_log_actors(page.events)
                    break
                except _VersionMoved:
                    cursor.refresh_from_db()
                    if attempt == APPLY_ATTEMPTS - 1:
                        raise
            SyncRun.objects.filter(pk=run.pk).update(
                heartbeat_at=timezone.now(),
                okta_requests=client.request_count - before,
                events_seen=F("events_seen") + len(page.events),
                apps_done=F("apps_done") + result.apps,
                apps_total=F("apps_total") + result.apps,
            )
            for name in ("added", "revoked", "discovered", "removed", "failed"):
                setattr(totals, name, getattr(totals, name) + getattr(result, name))
            totals.errors.update(result.errors)
            locks.acquire(LOCK_NAME, owner, LOCK_TTL_SECONDS)
            if len(page.events) < PAGE_LIMIT:
                break
        status = SyncRun.Status.PARTIAL if totals.failed else SyncRun.Status.SUCCEEDED
        message = (
            f"{totals.added} grants added, {totals.revoked} revoked, "
            f"{totals.discovered} apps discovered, {totals.removed} removed"
        )
    except OktaError as exc:
        status, message = SyncRun.Status.FAILED, describe(exc)
        logger.warning("incremental sync #%s failed: %s", run.pk, message)
    except _VersionMoved as exc:
        status = SyncRun.Status.FAILED
        message = f"app {exc} kept changing locally; will retry"
    finally:
        SyncRun.objects.filter(pk=run.pk).update(
            status=status,
            finished_at=timezone.now(),
            message=message,
            okta_requests=client.request_count - before,
            grants_added=totals.added,
            grants_revoked=totals.revoked,
            apps_added=totals.discovered,
            apps_removed=totals.removed,
            apps_failed=totals.failed,
            errors=totals.errors,
        )
        locks.release(LOCK_NAME, owner)
    if totals.added or totals.revoked or totals.discovered or totals.removed:
        audit.checkpoint()
    run.refresh_from_db()
    return run

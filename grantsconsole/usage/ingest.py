"""Usage ingestion: read token and write events from the System Log into evidence.

Okta API reference: System Log, ``listLogEvents`` in its polling form, filtered
server-side to the event types :mod:`.mapping` knows (``mapping.log_filter``).
The stored cursor is ``LogCursor`` "usage" (separate from the incremental
sync's). Each page is one transaction: its raw events (``UsageEvent``, unique
on the event's uuid), the daily roll-ups, the latest evidence per app and
scope, the skipped-event counts, the coverage (``Observation.observed_to``) and
the cursor. A crash before the commit leaves nothing, so the page is read
again from the old cursor; an event already recorded (a page read twice after
a refused cursor, or by two runs at once) is recognised by its uuid and counts
once, because only events whose uuid is new are rolled up.

What an event is evidence of (apps are keyed by OAuth ``client_id``):

- **issued**: an Org AS token issuance (``mapping.is_token_grant``) that
  succeeded, for each ``okta.*`` scope in ``debugData.grantedScopes``;
- **denied**: a token issuance with outcome FAILURE and reason
  ``no_matching_scope``, for each ``okta.*`` scope in ``requestedScopes``;
- **exercised**: a successful write whose event type the table maps to a
  scope, made with an OAuth token (``client.id``).

Anything else is counted in ``SkippedEvents`` per UTC day and reason, with one
example uuid, and never becomes evidence (see ``Skip``). The ``debugData``
keys come from observed payloads, not from Okta's documentation (see the
simulator's DEVIATIONS.md), so a shape we cannot read is a skip, never an
error.

Coverage and gaps: the first poll starts ``USAGE_FIRST_LOOKBACK_DAYS`` back
and coverage starts there. When the console has not read the System Log for
longer than Okta keeps events (90 days), the lost stretch is recorded as a
``Gap`` and coverage restarts at its end. A cursor Okta refuses is replaced by
a poll from shortly before ``observed_to``: nothing is lost, so no gap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from grantsconsole.grants import audit, locks
from grantsconsole.grants.models import LogCursor
from grantsconsole.okta import LogEvent, OktaClient, OktaError, UnreadableEvent
from grantsconsole.okta.errors import OktaNotFound, OktaValidationError, describe
from grantsconsole.usage import mapping
from grantsconsole.usage.models import (
    DailyUsage,
    Gap,
    Kind,
    Observation,
    ScopeUsage,
    SkippedEvents,
    UsageEvent,
)
from grantsconsole.usage.signing import closed_through

logger = logging.getLogger(__name__)

CURSOR_NAME = "usage"
LOCK_NAME = "usage:ingest"
LOCK_TTL_SECONDS = 300
PAGE_LIMIT = 1000
MAX_PAGES_PER_RUN = 60
OKTA_RETENTION = timedelta(days=90)
# How far before observed_to a poll restarts when Okta refuses the cursor: the
# overlap absorbs events persisted a little after their ``published`` time.
RESTART_OVERLAP = timedelta(minutes=5)
UUID_MAX = UsageEvent._meta.get_field("uuid").max_length
_CLIENT_ACTORS = {"PublicClientApp", "PublicClientAppEntity"}
_CLIENT_TARGETS = {"PublicClientApp", "PublicClientAppEntity", "AppInstance"}
_SUCCESS = ("SUCCESS", "")
_BATCH = 300  # rows per INSERT: within SQLite's and PostgreSQL's parameter limits


class Skip(StrEnum):
    """Why an event is not evidence (the ``SkippedEvents.reason``)."""

    MALFORMED = "malformed event"
    UNMAPPED = "unmapped event type"
    NO_CLIENT_ID = "write without client.id (not made with an OAuth token)"
    GRANTED_SHAPE = "grantedScopes in an unexpected shape"
    REQUESTED_SHAPE = "requestedScopes in an unexpected shape"
    NO_CLIENT_APP = "token event names no client app"
    NO_OKTA_SCOPE = "token without okta.* scopes"
    TOKEN_FAILED = "token request failed for another reason than no_matching_scope"
    WRITE_FAILED = "write did not succeed"


@dataclass(frozen=True, slots=True)
class Found:
    """One event read as evidence: ``kind`` of use of ``scopes`` by ``client_id``."""

    uuid: str
    published: datetime
    kind: Kind
    client_id: str
    scopes: tuple[str, ...]
    event_type: str
    grant_type: str = ""
    client_auth_type: str = ""
    actor_id: str = ""


def _okta_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for s in scopes if s.startswith("okta.")))


def _token_client(event: LogEvent) -> str:
    """The app a token event is about: ``client.id``, else the actor when it is
    the client app (``client_credentials``), else the client app target (a
    user's token names the user as actor)."""
    if event.client_id:
        return event.client_id
    if event.actor_type in _CLIENT_ACTORS and event.actor_id:
        return event.actor_id
    for target in event.targets:
        if target.type in _CLIENT_TARGETS and target.id:
            return target.id
    return ""


def read_event(event: LogEvent) -> Found | Skip:
    """What ``event`` is evidence of, or why it is none."""
    if len(event.uuid) > UUID_MAX:
        return Skip.MALFORMED  # not an Okta uuid; it could not be stored

    def found(kind: Kind, client_id: str, scopes: tuple[str, ...]) -> Found:
        return Found(
            uuid=event.uuid,
            published=event.published,
            kind=kind,
            client_id=client_id,
            scopes=scopes,
            event_type=event.event_type,
            grant_type=event.grant_type,
            client_auth_type=event.client_auth_type,
            actor_id=event.actor_id,
        )

    if mapping.is_token_grant(event.event_type):
        if event.outcome_result == "FAILURE":
            if event.outcome_reason != "no_matching_scope":
                return Skip.TOKEN_FAILED
            if "requestedScopes" in event.unreadable_fields:
                return Skip.REQUESTED_SHAPE
            scopes = _okta_scopes(event.requested_scopes)
            kind = Kind.DENIED
        elif event.outcome_result in _SUCCESS:
            if "grantedScopes" in event.unreadable_fields:
                return Skip.GRANTED_SHAPE
            scopes = _okta_scopes(event.granted_scopes)
            kind = Kind.ISSUED
        else:
            return Skip.TOKEN_FAILED
        if not scopes:
            return Skip.NO_OKTA_SCOPE
        client_id = _token_client(event)
        if not client_id:
            return Skip.NO_CLIENT_APP
        return found(kind, client_id, scopes)
    scope_id = mapping.scope_for_write(event.event_type)
    if scope_id is None:
        return Skip.UNMAPPED
    if not event.client_id:
        return Skip.NO_CLIENT_ID
    if event.outcome_result not in _SUCCESS:
        return Skip.WRITE_FAILED
    return found(Kind.EXERCISED, event.client_id, (scope_id,))


@dataclass(slots=True)
class PageTally:
    """What one page added: ``recorded`` new evidence events, ``duplicates``
    (already recorded: a page read twice), ``skipped`` events."""

    recorded: int = 0
    duplicates: int = 0
    skipped: int = 0


_KIND_COLUMN = {Kind.ISSUED: 0, Kind.EXERCISED: 1, Kind.DENIED: 2}
_LATEST_FIELDS = ("last_issued_at", "last_exercised_at", "last_denied_at")


def record_events(
    events: Iterable[LogEvent],
    unreadable: Iterable[UnreadableEvent] = (),
    *,
    today: date,
) -> PageTally:
    """Record one page's evidence and skips (call inside a transaction).

    Only the events whose ``UsageEvent`` row this call inserted are rolled up
    (the database says which: ``ON CONFLICT DO NOTHING … RETURNING``), so
    recording the same events twice, even from two runs at once, counts them
    once. ``today``: the UTC day an unreadable event without a readable
    ``published`` is counted on.
    """
    tally = PageTally()
    skips: dict[tuple[date, str], list] = {}

    def skip(day: date, reason: str, uuid: str) -> None:
        tally.skipped += 1
        item = skips.setdefault((day, reason), [0, uuid])
        item[0] += 1
        item[1] = item[1] or uuid

    for bad in unreadable:
        day = bad.published.date() if bad.published else today
        skip(day, Skip.MALFORMED, bad.uuid)
    found: dict[str, Found] = {}
    for event in events:
        result = read_event(event)
        if isinstance(result, Skip):
            skip(event.published.date(), result, event.uuid)
        elif result.uuid in found:
            tally.duplicates += 1
        else:
            found[result.uuid] = result
    if found:
        new = _store(list(found.values()))
        tally.recorded = len(new)
        tally.duplicates += len(found) - len(new)
    _count_skips(skips)
    return tally


def _store(found: list[Found]) -> list[Found]:
    """Insert the raw events and roll up those that were new; returns them."""
    inserted = _upsert(
        UsageEvent,
        [
            (
                f.uuid,
                f.published,
                f.kind.value,
                f.client_id[:200],
                f.event_type[:200],
                " ".join(f.scopes),
                f.grant_type[:64],
                f.client_auth_type[:64],
                f.actor_id[:200],
            )
            for f in found
        ],
        (
            "uuid",
            "published",
            "kind",
            "client_id",
            "event_type",
            "scopes",
            "grant_type",
            "client_auth_type",
            "actor_id",
        ),
        ("uuid",),
        None,
        returning="uuid",
    )
    new = [f for f in found if f.uuid in inserted]
    daily: dict[tuple[str, str, date], list[int]] = {}
    latest: dict[tuple[str, str], list[datetime | None]] = {}
    for f in new:
        column = _KIND_COLUMN[f.kind]
        for scope_id in f.scopes:
            key = (f.client_id[:200], scope_id[:200])
            counts = daily.setdefault((*key, f.published.date()), [0, 0, 0])
            counts[column] += 1
            times = latest.setdefault(key, [None, None, None])
            if times[column] is None or f.published > times[column]:
                times[column] = f.published
    _add_daily(daily)
    _raise_latest(latest)
    return new


def _upsert(
    model: type[Model],
    rows: list[tuple[Any, ...]],
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    updates: str | None,
    *,
    returning: str = "",
) -> set[Any]:
    """``INSERT … ON CONFLICT (conflict) DO UPDATE SET updates`` (``DO
    NOTHING`` when ``updates`` is None) of ``rows`` (values of ``columns``, by
    field name), in batches. The same SQL runs on SQLite (3.24+) and
    PostgreSQL; unlike read-modify-write, an increment done in the database
    cannot lose a concurrent one. Dates and times are adapted for the
    database; other values go as they are (strings and integers). Returns the
    ``returning`` column of the rows inserted or updated (empty set without
    it): with ``DO NOTHING``, the rows that were new."""
    fields = [model._meta.get_field(name) for name in columns]
    adapt = [
        f.get_db_prep_save
        if f.get_internal_type() in ("DateField", "DateTimeField")
        else None
        for f in fields
    ]
    action = f"UPDATE SET {updates}" if updates else "NOTHING"
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    keys = ", ".join(connection.ops.quote_name(name) for name in conflict)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {connection.ops.quote_name(returning)}" if returning else ""
    touched: set[Any] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            params = [
                value if prep is None else prep(value, connection)
                for row in batch
                for prep, value in zip(adapt, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES "
                + ", ".join([one] * len(batch))
                + f" ON CONFLICT ({keys}) DO {action}{tail}",
                params,
            )
            if returning:
                touched.update(row[0] for row in cursor.fetchall())
    return touched


def _add_daily(daily: dict[tuple[str, str, date], list[int]]) -> None:
    _upsert(
        DailyUsage,
        [(*key, *counts) for key, counts in daily.items()],
        ("client_id", "scope_id", "day", "issued", "exercised", "denied"),
        ("client_id", "scope_id", "day"),
        ", ".join(
            f"{c} = {DailyUsage._meta.db_table}.{c} + excluded.{c}"
            for c in ("issued", "exercised", "denied")
        ),
    )


def _raise_latest(latest: dict[tuple[str, str], list[datetime | None]]) -> None:
    table = ScopeUsage._meta.db_table
    _upsert(
        ScopeUsage,
        [(*key, *times) for key, times in latest.items()],
        ("client_id", "scope_id", *_LATEST_FIELDS),
        ("client_id", "scope_id"),
        # The later of the two; excluded's NULL (no such use on this page)
        # compares as unknown and keeps the stored time.
        ", ".join(
            f"{c} = CASE WHEN {table}.{c} IS NULL OR excluded.{c} > {table}.{c} "
            f"THEN excluded.{c} ELSE {table}.{c} END"
            for c in _LATEST_FIELDS
        ),
    )


def _count_skips(skips: dict[tuple[date, str], list]) -> None:
    table = SkippedEvents._meta.db_table
    _upsert(
        SkippedEvents,
        [(day, reason, n, uuid[:64]) for (day, reason), (n, uuid) in skips.items()],
        ("day", "reason", "count", "example_uuid"),
        ("day", "reason"),
        f"count = {table}.count + excluded.count, example_uuid = CASE WHEN "
        f"{table}.example_uuid = '' THEN excluded.example_uuid "
        f"ELSE {table}.example_uuid END",
    )


@dataclass(slots=True)
class IngestResult:
    """One run: ``pages`` read, events ``recorded`` / ``duplicates`` /
    ``skipped``, whether it ``caught_up`` (a page that was not full), the
    ``gap`` it found (None: none), Okta ``requests`` sent, and a ``message``
    in plain words ("" when nothing went wrong)."""

    pages: int = 0
    recorded: int = 0
    duplicates: int = 0
    skipped: int = 0
    caught_up: bool = False
    gap: Gap | None = None
    requests: int = 0
    message: str = ""
    skipped_run: bool = False


def _start(
    cursor: LogCursor, seen: Observation, now: datetime
) -> tuple[datetime | None, Gap | None]:
    """Where this run polls from: None (follow the cursor) or a ``since``; and
    the Gap recorded when the console was away longer than Okta keeps events.
    Updates (unsaved) ``cursor`` and ``seen`` to match."""
    floor = now - OKTA_RETENTION
    if seen.observed_to is None or not (cursor.next_url or cursor.since):
        since = now - timedelta(days=settings.USAGE_FIRST_LOOKBACK_DAYS)
        seen.observed_from = seen.observed_to = since
        return since, None
    if seen.observed_to < floor:
        gap = Gap(
            started_at=seen.observed_to,
            ended_at=floor,
            reason=(
                f"The System Log was not read for {(now - seen.observed_to).days} "
                f"days; Okta keeps events for {OKTA_RETENTION.days}, so usage "
                f"between {seen.observed_to:%Y-%m-%d %H:%M} and "
                f"{floor:%Y-%m-%d %H:%M} UTC is unknown. Coverage restarts at "
                "the end of the gap."
            ),
        )
        cursor.next_url = ""
        seen.observed_from = seen.observed_to = floor
        return floor, gap
    if cursor.next_url:
        return None, None
    return cursor.since, None


def ingest(client: OktaClient, *, max_pages: int = MAX_PAGES_PER_RUN) -> IngestResult:
    """Read the System Log from the usage cursor into evidence, page by page,
    until caught up (a page that is not full) or ``max_pages``.

    Holds the ``usage:ingest`` lock (a second run at the same time returns at
    once with ``skipped_run``). Okta errors end the run with the cursor after
    the last recorded page (the next run resumes there) and are described in
    ``message``; a 400/404 on a stored cursor (Okta refused it) restarts the
    poll from ``RESTART_OVERLAP`` before ``observed_to``. Pacing is the
    client's: give it the usage share of the logs bucket
    (``okta_clients.usage_client``). Signs newly closed days of roll-ups into
    an audit checkpoint when any closed.
    """
    result = IngestResult()
    owner = f"usage-ingest-{timezone.now().timestamp()}"
    if not locks.acquire(LOCK_NAME, owner, LOCK_TTL_SECONDS):
        result.skipped_run = True
        result.message = "Skipped: another usage ingestion is running."
        return result
    before = client.request_count
    closed_before = closed_through()
    try:
        _run(client, result, max_pages, owner)
    except OktaError as exc:
        result.message = describe(exc)
        logger.warning("usage ingestion stopped: %s", result.message)
    finally:
        locks.release(LOCK_NAME, owner)
        result.requests = client.request_count - before
    if closed_through() != closed_before:
        audit.checkpoint()
    return result


def _run(client: OktaClient, result: IngestResult, max_pages: int, owner: str) -> None:
    cursor, _ = LogCursor.objects.get_or_create(name=CURSOR_NAME)
    seen, _ = Observation.objects.get_or_create(name="usage")
    since, gap = _start(cursor, seen, timezone.now())
    if gap is not None:
        logger.warning("usage evidence gap: %s", gap.reason)
        with transaction.atomic():
            gap.save()
            cursor.since = since
            cursor.save()
            seen.save()
        result.gap = gap
    for _page in range(max_pages):
        asked_at = timezone.now()
        try:
            page = client.poll_logs(
                cursor.next_url or None,
                since=since,
                filter=mapping.log_filter(),
                limit=PAGE_LIMIT,
                skip_unreadable=True,
            )
        except (OktaValidationError, OktaNotFound) as exc:
            if not cursor.next_url:
                raise
            # Okta refused the stored cursor: poll again by time, from just
            # before what was read completely (uuids absorb the overlap).
            logger.warning("usage cursor refused (%s); polling by time", describe(exc))
            since = max(seen.observed_to - RESTART_OVERLAP, asked_at - OKTA_RETENTION)
            cursor.next_url = ""
            continue
        read = len(page.events) + len(page.unreadable)
        newest = max((e.published for e in page.events), default=None)
        with transaction.atomic():
            tally = record_events(page.events, page.unreadable, today=asked_at.date())
            if read < PAGE_LIMIT:
                # Caught up: everything Okta had when it answered was read.
                reached = page.served_at or asked_at
                reached = max(reached, newest) if newest else reached
            else:
                reached = newest
            if reached is not None and (
                seen.observed_to is None or reached > seen.observed_to
            ):
                seen.observed_to = reached
            seen.save()
            cursor.next_url = page.next_url or cursor.next_url
            cursor.since = None if cursor.next_url else cursor.since or since
            if newest is not None:
                cursor.last_event_published = max(
                    newest, cursor.last_event_published or newest
                )
            cursor.save()
        since = None
        result.pages += 1
        result.recorded += tally.recorded
        result.duplicates += tally.duplicates
        result.skipped += tally.skipped
        locks.renew(LOCK_NAME, owner, LOCK_TTL_SECONDS)
        if read < PAGE_LIMIT:
            result.caught_up = True
            break


def purge(now: datetime | None = None) -> tuple[int, int]:
    """Delete raw events older than ``USAGE_RAW_RETENTION_DAYS`` and daily
    roll-ups (and skip counts) older than ``USAGE_ROLLUP_RETENTION_DAYS``.
    Returns (raw events deleted, roll-up rows deleted). ``ScopeUsage`` keeps
    the latest times for good: one row per app and scope."""
    now = now or timezone.now()
    raw_floor = now - timedelta(days=settings.USAGE_RAW_RETENTION_DAYS)
    day_floor = (now - timedelta(days=settings.USAGE_ROLLUP_RETENTION_DAYS)).date()
    raw, _ = UsageEvent.objects.filter(published__lt=raw_floor).delete()
    rollups, _ = DailyUsage.objects.filter(day__lt=day_floor).delete()
    SkippedEvents.objects.filter(day__lt=day_floor).delete()
    return raw, rollups

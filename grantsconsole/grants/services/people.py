"""The people directory (``OktaPerson``): who the Okta user ids the console shows are.

Three sources fill it, each when it already talks to Okta: a console sign-in
(:func:`note_person` with the ID token's login and name), the System Log events
the incremental sync reads (:func:`note_log_actors`), and, for ids neither
named, the worker's ``GET /api/v1/users/{id}`` (:func:`refresh_people`, after
each incremental sync, at most ``LOOKUPS_PER_SYNC`` users a run, paced by the
client like every other read).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from grantsconsole.grants.models import (
    ApiServiceIntegration,
    AuditEvent,
    OktaPerson,
    ScopeGrant,
)
from grantsconsole.okta import OktaClient
from grantsconsole.okta.errors import (
    OktaError,
    OktaInsufficientScope,
    OktaNotFound,
    OktaPermissionDenied,
    describe,
)
from grantsconsole.okta.models import LogEvent

logger = logging.getLogger(__name__)

#: Okta user ids: "00u" and 17 more letters or digits.
USER_ID = re.compile(r"^00u[0-9A-Za-z]{17}$")
#: Users the worker looks up after one incremental sync (one request each).
LOOKUPS_PER_SYNC = 20
#: How long an id Okta would not let the worker read waits before another try.
RETRY_UNREADABLE = timedelta(hours=1)

SIGN_IN = "sign-in"
SYSTEM_LOG = "system-log"
OKTA = "okta"


def is_user_id(value: str) -> bool:
    """True for a string shaped like an Okta user id (``00u…``, 20 characters)."""
    return bool(USER_ID.match(value or ""))


def note_person(okta_id: str, *, login: str, display_name: str, source: str) -> None:
    """Record what ``source`` (SIGN_IN, SYSTEM_LOG or OKTA) says user
    ``okta_id`` is called. An empty login or name keeps the one already
    known; anything not shaped like a user id is ignored."""
    if not is_user_id(okta_id):
        return
    login, display_name = login.strip()[:300], display_name.strip()[:300]
    person = OktaPerson.objects.filter(okta_id=okta_id).first()
    now = timezone.now()
    if person is None:
        OktaPerson.objects.get_or_create(
            okta_id=okta_id,
            defaults={
                "login": login,
                "display_name": display_name,
                "source": source,
                "refreshed_at": now,
            },
        )
        return
    person.login = login or person.login
    person.display_name = display_name or person.display_name
    person.source = source
    person.state = OktaPerson.State.NAMED
    person.refreshed_at = now
    person.save(
        update_fields=["login", "display_name", "source", "state", "refreshed_at"]
    )


def note_log_actors(events: Iterable[LogEvent]) -> None:
    """Name the user actors of System Log events (``actor.alternateId`` is
    the login, ``actor.displayName`` the name); the last event per user wins."""
    latest: dict[str, LogEvent] = {}
    for event in sorted(events, key=lambda e: e.published):
        if event.actor_type == "User" and is_user_id(event.actor_id):
            latest[event.actor_id] = event
    for okta_id, event in latest.items():
        note_person(
            okta_id,
            login=event.actor_alternate_id,
            display_name=event.actor_display_name,
            source=SYSTEM_LOG,
        )


def unnamed_ids(limit: int = LOOKUPS_PER_SYNC) -> list[str]:
    """Up to ``limit`` user ids the pages show that the directory cannot name:
    grants' creators and "by" columns, who authorized API service
    integrations, and audit actors kept without a login
    (an actor with one signed in or came from the System Log, both of which
    name people), with no directory row (or one Okta refused to read more than
    ``RETRY_UNREADABLE`` ago)."""
    known = OktaPerson.objects.filter(okta_id=OuterRef("value")).filter(
        ~Q(state=OktaPerson.State.UNREADABLE)
        | Q(refreshed_at__gt=timezone.now() - RETRY_UNREADABLE)
    )
    found: list[str] = []
    sources = (
        (ScopeGrant.objects, "created_by_id"),
        (ScopeGrant.objects, "granted_by"),
        (ScopeGrant.objects, "revoked_by"),
        (ApiServiceIntegration.objects, "created_by_id"),
        # The (actor_login, seq) index finds these rows without a scan.
        (AuditEvent.objects.filter(actor_login=""), "actor_id"),
    )
    for rows, column in sources:
        values = (
            rows.filter(**{f"{column}__startswith": "00u"})
            .annotate(value=F(column))
            .exclude(Exists(known))
            .order_by()
            .values_list("value", flat=True)
            .distinct()[: limit * 2]
        )
        for value in values:
            if is_user_id(value) and value not in found:
                found.append(value)
                if len(found) >= limit:
                    return found
    return found


def refresh_people(client: OktaClient, limit: int = LOOKUPS_PER_SYNC) -> int:
    """Read ``GET /api/v1/users/{id}`` for up to ``limit`` of ``unnamed_ids``
    and record the answers: a user (source OKTA), 404 (state "deleted"), 403
    (state "unreadable": the worker lacks ``okta.users.read`` or an admin
    role that reads users; the rest of the batch is marked too and nothing
    more is asked for ``RETRY_UNREADABLE``). Any other Okta error ends the
    batch quietly (the next sync tries again). Never raises an OktaError.
    Returns the number of users read."""
    recent_refusal = OktaPerson.objects.filter(
        state=OktaPerson.State.UNREADABLE,
        refreshed_at__gt=timezone.now() - RETRY_UNREADABLE,
    )
    if recent_refusal.exists():
        return 0
    ids = unnamed_ids(limit)
    named = 0
    for position, okta_id in enumerate(ids):
        try:
            user = client.get_user(okta_id)
        except OktaNotFound:
            _mark(okta_id, OktaPerson.State.DELETED)
            continue
        except (OktaInsufficientScope, OktaPermissionDenied) as exc:
            logger.warning("people: Okta refused reading users: %s", describe(exc))
            for refused in ids[position:]:
                _mark(refused, OktaPerson.State.UNREADABLE)
            break
        except OktaError as exc:
            logger.info("people: stopped after %s users: %s", named, describe(exc))
            break
        note_person(
            okta_id, login=user.login, display_name=user.display_name, source=OKTA
        )
        named += 1
    return named


def _mark(okta_id: str, state: str) -> None:
    """Set ``state`` on the id's row (created without names if none)."""
    OktaPerson.objects.update_or_create(
        okta_id=okta_id,
        defaults={"state": state, "source": OKTA, "refreshed_at": timezone.now()},
    )


@dataclass(frozen=True, slots=True)
class Named:
    """What the directory says about one stored "who" value.

    ``okta_id``: the Okta user id ("" when the value names no user, e.g.
    "worker", or is a login the directory does not know); ``login`` and
    ``name`` ("" when unknown); ``state``: "named", "deleted", "unreadable"
    (Okta refused the worker the read), "unknown" (a user id not named yet) or
    "" (not a user: ``text`` is the value as stored, e.g. "worker").
    """

    okta_id: str = ""
    login: str = ""
    name: str = ""
    state: str = ""
    text: str = ""


class Directory:
    """The directory rows of one page or export batch, by id and by login
    (:func:`directory` reads them in one query)."""

    def __init__(self, rows: Iterable[OktaPerson] = ()) -> None:
        self.by_id: dict[str, OktaPerson] = {}
        self.by_login: dict[str, OktaPerson] = {}
        for row in rows:
            self.by_id[row.okta_id] = row
            if row.login:
                self.by_login[row.login.lower()] = row

    def resolve(self, who: str, okta_id: str = "") -> Named:
        """Who ``who`` (a stored login, user id or other text such as
        "worker") is; ``okta_id`` is the row's user id when it keeps one
        beside the login (audit rows, grants' ``createdBy``)."""
        who = (who or "").strip()
        if not okta_id and is_user_id(who):
            okta_id = who
        row = self.by_id.get(okta_id) if okta_id else None
        if row is None and who and not is_user_id(who):
            row = self.by_login.get(who.lower())
        if row is not None:
            return Named(
                okta_id=row.okta_id,
                login=row.login or ("" if is_user_id(who) else who),
                name=row.display_name,
                state=row.state,
            )
        if is_user_id(okta_id):
            login = "" if is_user_id(who) else who
            return Named(okta_id=okta_id, login=login, state="unknown")
        return Named(text=who or okta_id)


def directory(values: Iterable[str]) -> Directory:
    """The directory rows for these stored values (user ids and logins; other
    text is ignored). One query; none when nothing could be a person."""
    ids, logins = set(), set()
    for value in values:
        value = (value or "").strip()
        if is_user_id(value):
            ids.add(value)
        elif "@" in value:
            logins.add(value)
    if not ids and not logins:
        return Directory()
    return Directory(
        OktaPerson.objects.filter(Q(okta_id__in=ids) | Q(login__in=logins))
    )

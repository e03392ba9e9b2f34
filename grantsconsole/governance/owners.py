"""App owners: who answers for an app's grants (:class:`AppOwner`).

By default the owner is the admin who granted the app's riskiest open scope
(highest catalog risk; the earliest seen among equals), named from the grant
row (``granted_by``: the console admin or the System Log actor; Okta's
``createdBy``) and the people directory. It is worked out again whenever the
app's grants change (``grants.signals.grants_changed``, sent by the syncs and
the console's write path) and never replaces an owner a Super Admin assigned.
An owner whose Okta user is deactivated (System Log ``user.lifecycle.deactivate``,
``grants.signals.user_deactivated``) leaves the app orphaned until another
owner is set. Every change is an audit row; orphaning also raises an alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from grantsconsole.governance import alerting
from grantsconsole.governance.owners_models import AppOwner
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, OktaApp, OktaPerson, ScopeGrant
from grantsconsole.grants.services import people
from grantsconsole.okta import OktaClient
from grantsconsole.okta.errors import (
    OktaError,
    OktaInsufficientScope,
    OktaNotFound,
    OktaPermissionDenied,
)
from grantsconsole.okta.scopes import RISK_RANK

logger = logging.getLogger(__name__)

#: the risk word of each ``risk_rank`` / ``max_risk_rank`` value
RISK_WORD = {rank: word for word, rank in RISK_RANK.items()}


@dataclass(frozen=True, slots=True)
class Person:
    """An Okta user as an owner: ``okta_user_id`` ("" when only the login is
    known) and ``login`` ("" when only the id is known; never both empty)."""

    okta_user_id: str
    login: str

    @property
    def name(self) -> str:
        return self.login or self.okta_user_id


class OwnerRefused(ValueError):
    """A typed owner that cannot be set; ``str()`` says why in plain words."""


def _granter(grant: ScopeGrant) -> Person | None:
    """Who granted ``grant``: its ``granted_by`` (a login, or a user id when
    no login was known) and Okta's ``createdBy`` user id, completed from the
    people directory and the audit's logins. None when no person is named
    (e.g. a grant first seen by a sync that no System Log event explained and
    that Okta says no user created)."""
    okta_id = grant.created_by_id if people.is_user_id(grant.created_by_id) else ""
    login = grant.granted_by.strip()
    if people.is_user_id(login):
        okta_id, login = okta_id or login, ""
    if not okta_id and not login:
        return None
    if okta_id and not login:
        person = OktaPerson.objects.filter(okta_id=okta_id).exclude(login="").first()
        login = person.login if person else ""
        if not login:
            login = (
                AuditEvent.objects.filter(actor_id=okta_id)
                .exclude(actor_login="")
                .order_by("-seq")
                .values_list("actor_login", flat=True)
                .first()
                or ""
            )
    elif login and not okta_id:
        person = OktaPerson.objects.filter(login__iexact=login).first()
        okta_id = person.okta_id if person else ""
    return Person(okta_id, login)


def default_owner(app: OktaApp) -> tuple[Person, ScopeGrant] | None:
    """The admin who granted ``app``'s riskiest open scope, and that grant;
    a grant whose granter is unknown is passed over for the next riskiest.
    None when no open grant names a person."""
    grants = ScopeGrant.objects.filter(app=app, revoked_at__isnull=True).order_by(
        "-risk_rank", "first_seen_at", "pk"
    )
    for grant in grants:
        person = _granter(grant)
        if person is not None:
            return person, grant
    return None


def _same(owner: AppOwner, person: Person) -> bool:
    if owner.okta_user_id and person.okta_user_id:
        return owner.okta_user_id == person.okta_user_id
    return owner.login.lower() == person.login.lower()


def refresh_owner(app: OktaApp, *, audited: bool = True) -> AppOwner | None:
    """Set ``app``'s default owner (see the module) when it has none or its
    default owner is no longer the riskiest grant's granter; an assigned
    owner is kept as it is. Writes an ``owner_assigned`` audit row when the
    owner changes (unless ``audited`` is False: the baseline full sync).
    Returns the app's owner (None when it has none)."""
    owner = AppOwner.objects.filter(app=app).first()
    if owner is not None and owner.source == AppOwner.Source.ASSIGNED:
        return owner
    found = default_owner(app)
    if found is None:
        return owner
    person, grant = found
    if owner is not None and _same(owner, person):
        return owner
    previous = owner.login if owner else ""
    # Plain INSERT/UPDATE, no savepoint: this runs inside each synced app's
    # transaction (update_or_create would add one per app).
    owner = owner or AppOwner(app=app)
    owner.okta_user_id = person.okta_user_id
    owner.login = person.name
    owner.source = AppOwner.Source.DEFAULT
    owner.assigned_by = ""
    owner.assigned_at = timezone.now()
    owner.orphaned_at = None
    owner.save()
    if not audited:
        return owner
    audit.record(
        "owner_assigned",
        app=app,
        scope_id=grant.scope_id,
        detail={
            "owner": person.name,
            "owner_okta_id": person.okta_user_id,
            "source": "default",
            "why": "granted the app's riskiest scope",
            "previous": previous,
        },
    )
    return owner


def refresh_owners() -> int:
    """:func:`refresh_owner` for every present app holding grants (a campaign
    starts with it, so apps synced before owners existed get one). Returns
    the number of apps that have an owner."""
    count = 0
    apps = OktaApp.objects.filter(removed_at__isnull=True, grant_count__gt=0)
    for app in apps.order_by("pk").iterator():
        count += refresh_owner(app) is not None
    return count


def find_person(client: OktaClient, typed: str) -> Person:
    """The Okta user a Super Admin typed (a login or a user id), read with
    ``GET /api/v1/users/{login}`` through ``client`` (the worker's, which holds
    ``okta.users.read``) and noted in the people directory. Raises
    OwnerRefused, in plain words, when Okta has no such user, the user is
    deactivated, or Okta would not say."""
    typed = typed.strip()
    if not typed or len(typed) > 300 or "/" in typed:
        raise OwnerRefused("Type an Okta login (e.g. someone@example.com).")
    try:
        user = client.get_user(typed)
    except OktaNotFound:
        raise OwnerRefused(f"Okta has no user {typed}.") from None
    except (OktaInsufficientScope, OktaPermissionDenied):
        raise OwnerRefused(
            "Okta would not let the worker read users (it needs okta.users.read "
            "and an admin role that reads users): choose someone from the list."
        ) from None
    except OktaError as exc:
        raise OwnerRefused(f"Okta could not be asked: {exc.explanation}") from None
    if user.status in ("DEPROVISIONED", "SUSPENDED"):
        raise OwnerRefused(
            f"{user.login} is {user.status.lower()} in Okta: an owner must be active."
        )
    people.note_person(
        user.id, login=user.login, display_name=user.display_name, source=people.OKTA
    )
    return Person(user.id, user.login)


def known_person(okta_user_id: str) -> Person | None:
    """A person from the directory by Okta user id (None when unknown or
    deleted in Okta)."""
    row = (
        OktaPerson.objects.filter(okta_id=okta_user_id)
        .exclude(state=OktaPerson.State.DELETED)
        .exclude(login="")
        .first()
    )
    return Person(row.okta_id, row.login) if row else None


def assign_owner(app: OktaApp, person: Person, *, actor: Actor) -> AppOwner:
    """Make ``person`` ``app``'s owner, assigned by the Super Admin ``actor``
    (kept until another is assigned: syncs never replace it); clears the
    orphaned mark. Writes an ``owner_assigned`` audit row."""
    previous = AppOwner.objects.filter(app=app).first()
    owner, _ = AppOwner.objects.update_or_create(
        app=app,
        defaults={
            "okta_user_id": person.okta_user_id,
            "login": person.name,
            "source": AppOwner.Source.ASSIGNED,
            "assigned_by": actor.name[:300],
            "assigned_at": timezone.now(),
            "orphaned_at": None,
        },
    )
    audit.record(
        "owner_assigned",
        **actor.fields,
        app=app,
        detail={
            "owner": person.name,
            "owner_okta_id": person.okta_user_id,
            "source": "assigned",
            "previous": previous.login if previous else "",
        },
    )
    return owner


def orphan(okta_user_id: str, login: str, *, at: datetime, event_uuid: str) -> int:
    """Mark orphaned every app whose owner is this deactivated Okta user
    (matched by id, or by login when the owner's id is unknown), with an
    ``owner_orphaned`` audit row and an ``owner_orphaned`` alert each.
    Idempotent: an owner already orphaned is left alone. Returns the number
    of apps orphaned now."""
    match = Q(okta_user_id=okta_user_id) if okta_user_id else Q(pk__in=[])
    if login:
        match |= Q(okta_user_id="", login__iexact=login)
    owners = AppOwner.objects.filter(match, orphaned_at__isnull=True).select_related(
        "app"
    )
    count = 0
    for owner in owners:
        owner.orphaned_at = at
        owner.save(update_fields=["orphaned_at"])
        app = owner.app
        audit.record(
            "owner_orphaned",
            app=app,
            detail={
                "owner": owner.login,
                "owner_okta_id": owner.okta_user_id,
                "event_uuid": event_uuid,
                "deactivated_at": at.isoformat(),
            },
            key=f"owner_orphaned:{event_uuid}:{app.pk}",
        )
        alerting.raise_alert(
            "owner_orphaned",
            risk=RISK_WORD.get(app.max_risk_rank, "") or "low",
            title=(
                f"{app.label or app.okta_id} has no owner: "
                f"{owner.login} was deactivated in Okta."
            ),
            details={
                "owner": owner.login,
                "owner_okta_id": owner.okta_user_id,
                "deactivated_at": at.isoformat(),
                "grants": app.grant_count,
            },
            app=app,
        )
        count += 1
    return count


def orphaned_owners() -> QuerySet[AppOwner]:
    """Owners of present apps whose Okta user was deactivated, most recent
    first (with their apps)."""
    return (
        AppOwner.objects.filter(orphaned_at__isnull=False, app__removed_at__isnull=True)
        .select_related("app")
        .order_by("-orphaned_at")
    )


def is_owner(owner_login: str, owner_okta_id: str, *, actor: Actor) -> bool:
    """Whether ``actor`` (a signed-in console user) is the owner named by
    ``owner_okta_id`` / ``owner_login``: the same Okta user id when both are
    known, else the same login (case-insensitive)."""
    if owner_okta_id and actor.actor_id:
        return owner_okta_id == actor.actor_id
    return bool(owner_login) and owner_login.lower() == actor.login.lower()

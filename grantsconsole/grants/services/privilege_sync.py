"""Reading a service app's admin roles into ``ClientPrivilege``, recording
their changes, and keeping its stored assessment current with the app's grants
(:func:`reassess`, called by every grant write).

Okta: ``GET /oauth2/v1/clients/{clientId}/roles``, then per assignment
``…/targets/groups`` (USER_ADMIN, HELP_DESK_ADMIN, GROUP_MEMBERSHIP_ADMIN),
``…/targets/catalog/apps`` (APP_ADMIN) or ``GET /api/v1/iam/resource-sets/{id}``
(CUSTOM); needs ``okta.roles.read``. A full sync reads every OIDC service app
this way (its call budget: one roles read per service app plus one per such
assignment); the incremental sync re-reads an app named by an
``app.oauth2.client.privilege.grant|revoke`` event and attributes the change to
that event's actor.

A role list Okta refuses (403, 404, a missing scope) or cannot serve (5xx after
retries) is "roles not readable" with the reason: the app's last known roles and
every other stored fact are kept. A 401 or a rate limit is the caller's to
handle (the whole run waits or fails).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from grantsconsole.grants import audit, privilege
from grantsconsole.grants.audit import NOBODY, Actor
from grantsconsole.grants.models import ClientPrivilege, OktaApp, ScopeGrant
from grantsconsole.okta import OktaClient, OktaError, OktaRateLimited
from grantsconsole.okta.errors import OktaUnauthorized, describe

logger = logging.getLogger(__name__)

GROUP_TARGETED = frozenset({"USER_ADMIN", "HELP_DESK_ADMIN", "GROUP_MEMBERSHIP_ADMIN"})
APP_TARGETED = frozenset({"APP_ADMIN"})
PRIVILEGE_EVENTS = (
    "app.oauth2.client.privilege.grant",
    "app.oauth2.client.privilege.revoke",
)


@dataclass(frozen=True, slots=True)
class RolesRead:
    """``roles`` as ``ClientPrivilege.roles`` stores them, or None with
    ``error`` (plain words) when they could not be read."""

    roles: list[dict[str, Any]] | None
    error: str = ""


def reads_roles(row: OktaApp) -> bool:
    """True for the apps whose roles the sync reads: OIDC service apps with a
    client id (user-facing apps act with the signed-in person's role)."""
    return row.application_type == "service" and bool(row.client_id)


def read_roles(client: OktaClient, client_id: str) -> RolesRead:
    """A service app's role assignments with their targets and resource sets.

    Raises OktaRateLimited and OktaUnauthorized (the caller waits or fails the
    run); any other Okta error is returned as ``error``."""
    try:
        out = []
        for role in client.list_client_roles(client_id):
            item: dict[str, Any] = {
                "id": role.id,
                "type": role.type,
                "label": role.label,
                "status": role.status,
                "groups": [],
                "apps": [],
                "resource_set": "",
            }
            if role.type in GROUP_TARGETED:
                targets = client.list_group_target_role_for_client(client_id, role.id)
                item["groups"] = [t.name or t.id for t in targets]
            elif role.type in APP_TARGETED:
                targets = client.list_app_target_role_to_client(client_id, role.id)
                item["apps"] = [t.id or t.name for t in targets]
            elif role.type == "CUSTOM" and role.resource_set_id:
                rs = client.get_resource_set(role.resource_set_id)
                item["resource_set"] = rs.label or rs.id
            out.append(item)
        return RolesRead(out)
    except (OktaRateLimited, OktaUnauthorized):
        raise
    except OktaError as exc:
        message = describe(exc)
        logger.warning("roles of client %s not readable: %s", client_id, message)
        return RolesRead(None, message)


def _active(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored roles that give the app its reach (ACTIVE ones)."""
    return [r for r in roles if r.get("status") in ("ACTIVE", "", None)]


def held_roles(roles: list[dict[str, Any]]) -> list[privilege.HeldRole]:
    """Stored roles as the rule table takes them (ACTIVE ones only)."""
    return [
        privilege.HeldRole(
            type=r.get("type", ""),
            label=r.get("label", ""),
            groups=tuple(r.get("groups", [])),
            apps=tuple(r.get("apps", [])),
            resource_set=r.get("resource_set", ""),
        )
        for r in _active(roles)
    ]


def assessment(
    row: OktaApp, stored: ClientPrivilege | None, scope_ids: list[str]
) -> privilege.Assessment:
    """The app's effective privilege from its stored roles and ``scope_ids``."""
    if not reads_roles(row):
        roles = None if row.application_type == "service" else []
        return privilege.assess(
            row.application_type, scope_ids, roles, roles_error="no client id"
        )
    if stored is None or not stored.roles_known:
        return privilege.assess(
            row.application_type,
            scope_ids,
            None,
            roles_error=stored.error if stored else "",
        )
    a = privilege.assess(
        row.application_type,
        scope_ids,
        held_roles(stored.roles),
        okta_id=row.okta_id,
        okta_name=row.name,
    )
    if stored.error:  # read before; this time refused: say so, keep the lines
        return privilege.Assessment(
            a.lines,
            a.risk,
            a.rank,
            a.latent,
            a.self_escalation,
            f"roles not readable: {stored.error} (showing the last roles read)",
        )
    return a


def _summary(roles: list[dict[str, Any]]) -> list[str]:
    """Roles in words for audit details, e.g. "USER_ADMIN on Contractors, Sales"."""
    out = []
    for r in roles:
        on = (
            r.get("groups")
            or r.get("apps")
            or ([r["resource_set"]] if r.get("resource_set") else [])
        )
        text = (
            r.get("type", "?")
            if r.get("type") != "CUSTOM"
            else (f"CUSTOM {r.get('label', '')}".strip())
        )
        out.append(f"{text} on {', '.join(sorted(on))}" if on else text)
    return sorted(out)


def apply_roles(
    row: OktaApp,
    read: RolesRead,
    *,
    source: str,
    actor: Actor = NOBODY,
) -> bool:
    """Store ``read`` for ``row`` and refresh the stored assessment; True when
    the roles changed since the last successful read (then an audit row
    ``privilege_change`` names the before and after and ``actor``). The first
    read of an app records nothing (there is nothing to compare with). Roles,
    error and assessment as stored already: nothing is written (``read_at`` is
    when the roles were first read as they are)."""
    with transaction.atomic():
        stored = ClientPrivilege.objects.select_for_update().filter(
            app=row
        ).first() or ClientPrivilege(app=row)
        old = (stored.roles, stored.roles_known, stored.error, stored.rank)
        old += (stored.latent, stored.self_escalation)
        changed = False
        if read.roles is None:
            stored.error = read.error
        else:
            before = _summary(stored.roles) if stored.roles_known else None
            changed = before is not None and before != _summary(read.roles)
            if changed or not stored.roles_known:
                stored.read_at = timezone.now()
            if changed:
                _record_change(row, before or [], _summary(read.roles), source, actor)
            stored.roles, stored.roles_known, stored.error = read.roles, True, ""
        _assess_open_grants(row, stored)
        new = (stored.roles, stored.roles_known, stored.error, stored.rank)
        new += (stored.latent, stored.self_escalation)
        if stored.pk is None or new != old:
            stored.save()
    return changed


def _assess_open_grants(row: OktaApp, stored: ClientPrivilege) -> bool:
    """Set ``stored``'s rank, latent and self-escalation from its roles and the
    app's open grants (one query, nothing saved); True when they changed."""
    scope_ids = list(
        ScopeGrant.objects.filter(app=row, revoked_at__isnull=True).values_list(
            "scope_id", flat=True
        )
    )
    a = assessment(row, stored, scope_ids)
    old = (stored.rank, stored.latent, stored.self_escalation)
    stored.rank, stored.latent = a.rank, a.latent
    stored.self_escalation = a.self_escalation
    return old != (stored.rank, stored.latent, stored.self_escalation)


def reassess(row: OktaApp) -> None:
    """Bring the stored assessment of ``row`` (what the apps list badges and
    sorts by) up to date with its grant collection, from its stored roles: no
    Okta call. Every write that opens or closes a grant of a service app calls
    it inside its own transaction, so the rank is never older than the
    grants. Nothing for an app whose roles the sync does not read (the apps
    list ranks it by its grants) or has not read yet; otherwise two queries
    (the stored row, locked, and the open grants) and a write only when the
    assessment changed."""
    if not reads_roles(row):
        return
    stored = ClientPrivilege.objects.select_for_update().filter(app=row).first()
    if stored is not None and _assess_open_grants(row, stored):
        stored.save(update_fields=["rank", "latent", "self_escalation"])


def _record_change(
    row: OktaApp, before: list[str], after: list[str], source: str, actor: Actor
) -> None:
    detail: dict[str, Any] = {
        "detected_by": source,
        "actor_source": "system_log" if actor.known else "unknown",
        "before": before,
        "after": after,
    }
    if actor.at:
        detail["changed_at"] = actor.at.isoformat()
    if actor.event_uuid:
        detail["log_event"] = actor.event_uuid
    audit.record(
        "privilege_change",
        app=row,
        **actor.fields,
        okta_request_id=actor.request_id,
        detail=detail,
    )


def sync_privilege(
    client: OktaClient, row: OktaApp, *, source: str, actor: Actor = NOBODY
) -> bool:
    """Read and store one service app's roles (see :func:`apply_roles`); does
    nothing for other apps. Raises like :func:`read_roles`."""
    if not reads_roles(row):
        return False
    return apply_roles(
        row, read_roles(client, row.client_id), source=source, actor=actor
    )


def effective_lines(
    apps: list[OktaApp], open_scopes: dict[int, list[str]]
) -> dict[tuple[int, str], str]:
    """``{(app pk, scopeId): effective privilege in words}`` for every held
    manage scope of ``apps`` (``open_scopes``: app pk -> its open scopeIds).
    One query (the apps' stored roles)."""
    stored = {p.app_id: p for p in ClientPrivilege.objects.filter(app__in=apps)}
    out: dict[tuple[int, str], str] = {}
    for app in apps:
        a = assessment(app, stored.get(app.pk), open_scopes.get(app.pk, []))
        for line in a.lines:
            out[(app.pk, line.scope_id)] = line.text
    return out


def scope_reach(app: OktaApp, scope_id: str) -> str:
    """What holding ``scope_id`` lets ``app`` do, in words, from its stored
    roles (``OktaApp.stored``: no query when the app was read with them): the
    rule table's line for a manage scope; for any other scope, who the app
    acts as (the signed-in person, or itself with its roles)."""
    stored = app.stored("privilege") if app.application_type == "service" else None
    a = assessment(app, stored, [scope_id])
    if a.lines:
        return a.lines[0].text
    if app.application_type in privilege.USER_FACING:
        return "acts as whoever signs in, within that person's role"
    if stored is None or not stored.roles_known:
        return a.note
    roles = _summary(_active(stored.roles))
    if not roles:
        return "with no role: nothing until a role is assigned"
    return "with " + "; ".join(roles)


@dataclass(frozen=True, slots=True)
class PrivilegeView:
    """What the app page shows: the assessment, the roles as read (None: never
    read) and when, and the reason they could not be read last ("" if they
    could)."""

    assessment: privilege.Assessment
    roles: list[dict[str, Any]] | None
    read_at: Any
    error: str
    acts_as_itself: bool


def page_view(app: OktaApp, open_scope_ids: list[str]) -> PrivilegeView:
    """The app page's effective-privilege section (``OktaApp.stored``: no
    query when the app was read with it; only service apps have one)."""
    stored = app.stored("privilege") if app.application_type == "service" else None
    return PrivilegeView(
        assessment(app, stored, open_scope_ids),
        stored.roles if stored and stored.roles_known else None,
        stored.read_at if stored else None,
        stored.error if stored else "",
        app.application_type == "service",
    )

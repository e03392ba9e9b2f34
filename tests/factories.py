"""Small factories for test rows, and the demo org's people as named personas.

Rows are built the plain Django way (``objects.create``); audit rows only through
:func:`grantsconsole.grants.audit.record`, so the hash chain stays whole. The
personas' logins, Okta user ids and admin roles are the demo seed's
(:data:`grantsconsole.oktasim.seed.DEMO_USERS`; the ids are the ones the seeded
simulator gives them, stable across resets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant, SyncRun


@dataclass(frozen=True, slots=True)
class Persona:
    """One person of the demo org: Okta ``login``, Okta user id ``okta_id`` and
    admin role (``""`` for an end user)."""

    login: str
    okta_id: str
    role: str = ""

    @property
    def actor(self) -> Actor:
        """This person as the actor of audit rows."""
        return Actor(self.okta_id, self.login)


SUPER = Persona("super.admin@example.com", "00u100000001aUi7J0h7", "SUPER_ADMIN")
ORG_ADMIN = Persona("org.admin@example.com", "00u100000003AjkON0h7", "ORG_ADMIN")
APP_ADMIN = Persona("app.admin@example.com", "00u10000000506eia0h7", "APP_ADMIN")
READ_ONLY = Persona(
    "readonly.admin@example.com", "00u100000007QEh6v0h7", "READ_ONLY_ADMIN"
)
END_USER = Persona("end.user@example.com", "00u100000009Ty2440h7")
PERSONAS = (SUPER, ORG_ADMIN, APP_ADMIN, READ_ONLY, END_USER)


def make_app(okta_id: str = "0oaTESTAPP00000000x7", **fields: Any) -> OktaApp:
    """A present, synced OIDC web app (``fields`` override any column)."""
    now = timezone.now()
    values: dict[str, Any] = {
        "label": f"App {okta_id}",
        "client_id": okta_id,
        "application_type": "web",
        "status": "ACTIVE",
        "sign_on_mode": "OPENID_CONNECT",
        "grants_state": "ok",
        "last_synced_at": now,
        **fields,
    }
    return OktaApp.objects.create(okta_id=okta_id, **values)


def make_grant(
    app: OktaApp, scope_id: str, *, by: Persona = SUPER, **fields: Any
) -> ScopeGrant:
    """An open grant of ``scope_id`` to ``app``, made by ``by`` in the Admin
    Console (``fields`` override any column, e.g. ``revoked_at``)."""
    now = timezone.now()
    values: dict[str, Any] = {
        "okta_grant_id": f"oag{app.pk:06d}{scope_id.replace('.', '')[:10]}",
        "source": "ADMIN",
        "created_by_id": by.okta_id,
        "created_by_type": "ADMIN",
        "created": now,
        "first_seen_at": now,
        "last_seen_at": now,
        **fields,
    }
    return ScopeGrant.objects.create(app=app, scope_id=scope_id, **values)


def make_held_grant(app: OktaApp, scope_id: str, **fields: Any) -> ScopeGrant:
    """:func:`make_grant` of a grant Okta created 400 days ago: held for longer
    than any usage window (30-365 days), so its verdict depends on its usage
    alone."""
    since = timezone.now() - timedelta(days=400)
    return make_grant(
        app, scope_id, **{"created": since, "first_seen_at": since, **fields}
    )


def record_action(
    action: str, *, by: Persona | Actor = SUPER, **fields: Any
) -> AuditEvent:
    """An audit row for ``action`` done by ``by``, appended through
    :func:`audit.record` (``fields``: its other keywords: app, scope_id, outcome,
    detail...)."""
    actor = by.actor if isinstance(by, Persona) else by
    return audit.record(action, **actor.fields, **fields)


def make_sync_run(**fields: Any) -> SyncRun:
    """A full sync that succeeded a moment ago (``fields`` override any column:
    kind, status, finished_at, errors...)."""
    values: dict[str, Any] = {
        "kind": "full",
        "status": "succeeded",
        "finished_at": timezone.now(),
        **fields,
    }
    return SyncRun.objects.create(**values)


def make_apps(n: int, *, grants_per_app: int = 3, prefix: str = "App") -> list[OktaApp]:
    """``n`` present apps with ``grants_per_app`` open grants each, made by
    :data:`SUPER` (bulk_create: fast enough to fill pages of thousands)."""
    now = timezone.now()
    apps = OktaApp.objects.bulk_create(
        OktaApp(
            okta_id=f"0oaT{i:06d}{prefix[:4]}",
            label=f"{prefix} {i:04d}",
            client_id=f"0oaT{i:06d}{prefix[:4]}",
            application_type=("web", "service", "browser", "native")[i % 4],
            status="ACTIVE" if i % 5 else "INACTIVE",
            grants_state="ok" if i % 7 else "unknown",
            last_synced_at=now,
            last_change_at=now - timedelta(days=i % 40),
        )
        for i in range(n)
    )
    scopes = [
        "okta.apps.read",
        "okta.users.read",
        "okta.users.manage",
        "okta.groups.read",
        "okta.groups.manage",
        "okta.appGrants.manage",
        "okta.logs.read",
        "okta.roles.read",
        "okta.policies.read",
        "okta.authorizationServers.manage",
    ]
    ScopeGrant.objects.bulk_create(
        ScopeGrant(
            app=app,
            scope_id=scopes[(i + j) % len(scopes)],
            okta_grant_id=f"oag{i:06d}{j:02d}",
            source="ADMIN",
            created_by_id=SUPER.okta_id,
            created_by_type="ADMIN",
            created=now - timedelta(days=400 + i % 40),
            first_seen_at=now - timedelta(days=j),
            last_seen_at=now,
        )
        for i, app in enumerate(apps)
        for j in range(grants_per_app)
    )
    return apps

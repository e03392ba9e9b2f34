"""Comparing the local grant state with the simulator's; tampering with the
audit tables as someone with direct database access would."""

from __future__ import annotations

from typing import Any

import requests
from django.db import connection

from grantsconsole.grants import append_only
from grantsconsole.grants.models import OktaApp, ScopeGrant


def okta_state(sim: Any) -> dict[str, dict[str, Any]]:
    """{app_id: {"label", "status", "grants": {scope_id: grant_id}}} for OIDC apps."""
    return {
        app["id"]: {
            "label": app["label"],
            "status": app["status"],
            "grants": {g["scopeId"]: g["id"] for g in app["grants"]},
        }
        for app in sim.state()["apps"]
        if app["sign_on_mode"] == "OPENID_CONNECT"
    }


def db_state() -> dict[str, dict[str, Any]]:
    """The same shape from the database: live apps and their open grants."""
    state: dict[str, dict[str, Any]] = {
        app.okta_id: {"label": app.label, "status": app.status, "grants": {}}
        for app in OktaApp.objects.filter(removed_at__isnull=True)
    }
    for grant in ScopeGrant.objects.filter(
        revoked_at__isnull=True, app__removed_at__isnull=True
    ).select_related("app"):
        state[grant.app.okta_id]["grants"][grant.scope_id] = grant.okta_grant_id
    return state


def app_with_grants(sim: Any, minimum: int = 2) -> dict[str, Any]:
    """An OIDC app of the simulator holding at least ``minimum`` grants."""
    for app in sim.state()["apps"]:
        if app["sign_on_mode"] == "OPENID_CONNECT" and len(app["grants"]) >= minimum:
            return app
    raise AssertionError("the seed has no OIDC app with enough grants")


def app_without(
    sim: Any, scope_id: str, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """An OIDC (non-service) app of the simulator not holding ``scope_id``
    (other than the app ids in ``skip``)."""
    for app in sim.state()["apps"]:
        if (
            app["sign_on_mode"] == "OPENID_CONNECT"
            and app["kind"] == "web"
            and app["id"] not in skip
            and scope_id not in {g["scopeId"] for g in app["grants"]}
        ):
            return app
    raise AssertionError(f"every app holds {scope_id}")


def sim_post(sim: Any, path: str, **body: Any) -> Any:
    """POST a control request the SimControl helper has no method for."""
    response = requests.post(sim.url + path, json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def sim_clear_faults(sim: Any) -> None:
    """Remove every fault rule (``DELETE /__sim__/faults``)."""
    requests.delete(sim.url + "/__sim__/faults", timeout=10).raise_for_status()


def tamper(sql: str, params: list | None = None) -> None:
    """Tamper as someone with direct database access would: on PostgreSQL a
    superuser first switches the append-only triggers off for the session; on
    SQLite the file's owner defines the guard function to answer 0."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            connection.connection.create_function(append_only.FUNCTION, 0, lambda: 0)
        try:
            cursor.execute(sql, params or [])
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                append_only.install(None, connection)

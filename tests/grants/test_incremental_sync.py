"""Incremental sync: System Log polling against the simulator."""

from __future__ import annotations

import pytest

from grantsconsole.grants import audit, services
from grantsconsole.grants.models import (
    AuditEvent,
    LogCursor,
    OktaApp,
    ScopeGrant,
    SyncRun,
)
from tests.factories import ORG_ADMIN, SUPER
from tests.grants.helpers import (
    app_with_grants,
    app_without,
    db_state,
    okta_state,
    sim_clear_faults,
    sim_post,
)

pytestmark = pytest.mark.django_db


def _logs_requests(sim) -> list[dict]:
    return [r for r in sim.requests() if r["path"] == "/api/v1/logs"]


def test_out_of_band_grant_and_revoke_are_detected_with_their_actor(
    sim, worker_client, full_synced
):
    holder = app_with_grants(sim)
    revoked_scope = holder["grants"][0]["scopeId"]
    target = app_without(sim, "okta.groups.read")
    sim.oob_grant(
        app_id=target["id"],
        scope_id="okta.groups.read",
        actor_login=SUPER.login,
    )
    sim.oob_revoke(
        app_id=holder["id"], scope_id=revoked_scope, actor_login=ORG_ADMIN.login
    )
    before = AuditEvent.objects.count()
    calls = len(sim.requests())

    run = services.run_incremental_sync(client=worker_client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert db_state() == okta_state(sim)
    granted = AuditEvent.objects.get(seq__gt=before, action="external_grant")
    assert (granted.app_okta_id, granted.scope_id) == (target["id"], "okta.groups.read")
    assert granted.actor_login == SUPER.login
    assert granted.actor_id.startswith("00u")
    assert granted.detail["actor_source"] == "system_log"
    assert granted.detail["changed_at"]
    revoked = AuditEvent.objects.get(seq__gt=before, action="external_revoke")
    assert (revoked.app_okta_id, revoked.scope_id) == (holder["id"], revoked_scope)
    assert revoked.actor_login == ORG_ADMIN.login
    closed = ScopeGrant.objects.get(app__okta_id=holder["id"], scope_id=revoked_scope)
    assert closed.revoked_by == ORG_ADMIN.login
    # Only the grants of the two named apps were re-read: a grant event does not
    # change the app object, so the app itself is not fetched again.
    reread = [
        r["path"]
        for r in sim.requests()[calls:]
        if r["path"].startswith("/api/v1/apps/")
    ]
    assert sorted(reread) == sorted(
        [f"/api/v1/apps/{holder['id']}/grants", f"/api/v1/apps/{target['id']}/grants"]
    )
    assert audit.verify().ok


def test_a_quiet_poll_costs_one_request_and_writes_nothing(
    sim, worker_client, full_synced
):
    services.run_incremental_sync(client=worker_client)  # catch up past the seed window
    rows = AuditEvent.objects.count()
    calls = len(sim.requests())

    run = services.run_incremental_sync(client=worker_client)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert AuditEvent.objects.count() == rows
    new = sim.requests()[calls:]
    assert [r["path"] for r in new] == ["/api/v1/logs"]


def test_the_cursor_survives_and_events_are_not_processed_twice(
    sim, worker_client, full_synced
):
    target = app_without(sim, "okta.groups.read")
    sim.oob_grant(
        app_id=target["id"],
        scope_id="okta.groups.read",
        actor_login=SUPER.login,
    )
    services.run_incremental_sync(client=worker_client)
    cursor = LogCursor.objects.get()
    assert cursor.next_url.startswith(sim.url + "/api/v1/logs")
    rows = AuditEvent.objects.count()
    # A "restarted worker": a new client, the same database.
    from grantsconsole import okta_clients

    okta_clients.forget_worker_clients()
    services.run_incremental_sync(client=okta_clients.worker_client())
    assert AuditEvent.objects.count() == rows
    assert _logs_requests(sim)[-1]["query"]  # followed the stored next link


def test_an_app_created_and_deleted_in_okta_is_tracked(sim, worker_client, full_synced):
    created = sim_post(
        sim,
        "/__sim__/oob/app",
        action="create",
        label="Brand New App",
        grants=["okta.users.read"],
        actor_login=SUPER.login,
    )
    services.run_incremental_sync(client=worker_client)
    row = OktaApp.objects.get(okta_id=created["id"])
    assert row.label == "Brand New App"
    assert set(row.grants.values_list("scope_id", flat=True)) == {"okta.users.read"}
    assert AuditEvent.objects.filter(action="app_discovered", app=row).exists()

    sim_post(
        sim,
        "/__sim__/oob/app",
        action="delete",
        app_id=created["id"],
        actor_login=ORG_ADMIN.login,
    )
    services.run_incremental_sync(client=worker_client)
    row.refresh_from_db()
    assert row.removed_at is not None
    removed = AuditEvent.objects.get(action="app_removed", app=row)
    assert removed.actor_login == ORG_ADMIN.login
    assert db_state() == okta_state(sim)


def test_a_transient_error_keeps_the_cursor(sim, worker_client, full_synced):
    services.run_incremental_sync(client=worker_client)
    target = app_without(sim, "okta.groups.read")
    sim.oob_grant(
        app_id=target["id"],
        scope_id="okta.groups.read",
        actor_login=SUPER.login,
    )
    cursor = LogCursor.objects.get().next_url
    sim.fault(
        method="GET", path=f"/api/v1/apps/{target['id']}/grants$", times=50, status=503
    )

    failed = services.run_incremental_sync(client=worker_client)

    assert failed.status == SyncRun.Status.FAILED
    assert LogCursor.objects.get().next_url == cursor
    assert "okta.groups.read" not in db_state()[target["id"]]["grants"]
    sim_clear_faults(sim)
    ok = services.run_incremental_sync(client=worker_client)
    assert ok.status == SyncRun.Status.SUCCEEDED
    assert AuditEvent.objects.get(action="external_grant").actor_login == SUPER.login
    assert db_state() == okta_state(sim)


def test_a_second_incremental_sync_while_one_runs_is_skipped(
    sim, worker_client, full_synced
):
    from grantsconsole.grants import locks
    from grantsconsole.grants.services import incremental_sync

    assert locks.acquire(incremental_sync.LOCK_NAME, "someone-else", 60)
    calls = len(sim.requests())
    run = services.run_incremental_sync(client=worker_client)
    assert run.status == SyncRun.Status.SKIPPED
    assert len(sim.requests()) == calls


def test_a_deactivated_app_stays_listed_with_its_new_status(
    sim, worker_client, full_synced
):
    app = app_with_grants(sim)
    sim.oob_app("deactivate", app_id=app["id"], actor_login=ORG_ADMIN.login)
    services.run_incremental_sync(client=worker_client)
    row = OktaApp.objects.get(okta_id=app["id"])
    assert (row.status, row.removed_at) == ("INACTIVE", None)
    run = services.run_full_sync(client=worker_client)
    row.refresh_from_db()
    assert (row.status, row.removed_at) == ("INACTIVE", None)
    assert run.apps_removed == 0
    assert db_state() == okta_state(sim)


def test_several_events_for_one_app_cost_one_reread(sim, worker_client, full_synced):
    services.run_incremental_sync(client=worker_client)  # caught up
    apps = [
        a
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT" and a["kind"] == "web"
    ][:3]
    for app in apps:
        held = {g["scopeId"] for g in app["grants"]}
        for scope in ("okta.groups.read", "okta.logs.read"):
            if scope not in held:
                sim.oob_grant(app_id=app["id"], scope_id=scope)
        sim.oob_revoke(app_id=app["id"], scope_id="okta.groups.read")
    calls = len(sim.requests())

    run = services.run_incremental_sync(client=worker_client)

    new = sim.requests()[calls:]
    grants_reads = sorted(r["path"] for r in new if r["path"].endswith("/grants"))
    assert grants_reads == sorted(f"/api/v1/apps/{a['id']}/grants" for a in apps)
    assert [r["path"] for r in new].count("/api/v1/logs") == 1
    assert run.status == SyncRun.Status.SUCCEEDED
    assert db_state() == okta_state(sim)


def test_grants_answering_404_for_an_app_that_exists_do_not_remove_it(
    sim, worker_client, full_synced
):
    """A System Log event names an app whose grants read answers 404 while
    Okta still has the app: it stays, with its grants as last known, and
    says "grants not readable (404)"."""
    holder = app_with_grants(sim, minimum=3)
    held = db_state()[holder["id"]]["grants"]
    sim.oob_revoke(
        app_id=holder["id"],
        scope_id=holder["grants"][0]["scopeId"],
        actor_login=ORG_ADMIN.login,
    )
    sim.fault(
        f"/api/v1/apps/{holder['id']}/grants$", method="GET", times=-1, status=404
    )

    run = services.run_incremental_sync(client=worker_client)

    row = OktaApp.objects.get(okta_id=holder["id"])
    assert row.removed_at is None
    assert row.grants_error.startswith("Grants not readable (404)")
    assert db_state()[holder["id"]]["grants"] == held
    assert run.errors[holder["id"]].startswith("Grants not readable (404)")
    assert not AuditEvent.objects.filter(
        app_okta_id=holder["id"], action__in=("app_removed", "external_revoke")
    ).exists()

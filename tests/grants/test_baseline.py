"""The first full sync is a baseline (Okta's state when the console began
watching), not history: only what changes after it counts as a change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.console import selectors
from grantsconsole.grants import audit, services
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant, SyncRun
from grantsconsole.grants.services.reports import build_report
from grantsconsole.grants.services.snapshots import apply_snapshot
from grantsconsole.okta import App, Grant
from tests.factories import ORG_ADMIN
from tests.grants.helpers import app_with_grants, okta_state, sim_post

pytestmark = pytest.mark.django_db


def _report() -> dict:
    now = timezone.now()
    return build_report(start=now - timedelta(days=1), end=now + timedelta(seconds=1))


def test_first_full_sync_is_a_baseline_not_changes(sim, worker_client):
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    expected = okta_state(sim)
    imported = sum(len(app["grants"]) for app in expected.values())
    assert imported > 0
    assert run.baseline
    assert (run.grants_imported, run.grants_added, run.apps_added) == (imported, 0, 0)
    assert f"baseline: {imported} grants imported" in run.message
    # Okta's own creation times are kept; nothing counts as changed.
    assert not OktaApp.objects.filter(last_change_at__isnull=False).exists()
    assert not OktaApp.objects.filter(okta_created__isnull=True).exists()
    assert not ScopeGrant.objects.filter(created__isnull=True).exists()
    assert not AuditEvent.objects.filter(action="external_grant").exists()
    discovered = AuditEvent.objects.filter(action="app_discovered")
    assert discovered.count() == len(expected)
    assert all(row.detail["baseline"] is True for row in discovered)
    filters = selectors.AppFilters(changed_days=30)
    assert not selectors.app_list(filters).exists()
    report = _report()
    assert report["changes"] == report["external_changes"] == []
    # Days before the baseline are not drawn as "no grants".
    points = selectors.grant_counts_over_time(days=30)
    assert len(points) == 1
    assert points[-1][1] == imported

    again = services.run_full_sync(client=worker_client)
    assert not again.baseline
    assert again.grants_imported == 0
    assert "baseline" not in again.message


def test_app_created_after_the_baseline_is_attributed_with_its_grants(
    sim, worker_client
):
    services.run_full_sync(client=worker_client)
    created = sim_post(
        sim,
        "/__sim__/oob/app",
        action="create",
        label="Brand New App",
        grants=["okta.users.read", "okta.groups.read"],
        actor_login=ORG_ADMIN.login,
    )
    run = services.run_incremental_sync(client=worker_client)
    assert (run.apps_added, run.grants_added) == (1, 2)
    row = OktaApp.objects.get(okta_id=created["id"])
    assert row.last_change_at is not None
    discovered = AuditEvent.objects.get(action="app_discovered", app=row)
    assert discovered.actor_login == ORG_ADMIN.login
    assert "baseline" not in discovered.detail
    grants = AuditEvent.objects.filter(action="external_grant", app=row)
    assert sorted(g.scope_id for g in grants) == ["okta.groups.read", "okta.users.read"]
    assert {g.actor_login for g in grants} == {ORG_ADMIN.login}
    report = _report()
    external = [(c["action"], c["app_okta_id"]) for c in report["external_changes"]]
    assert ("app_discovered", row.okta_id) in external
    assert external.count(("external_grant", row.okta_id)) == 2
    changed = selectors.app_list(selectors.AppFilters(changed_days=1))
    assert list(changed.values_list("okta_id", flat=True)) == [row.okta_id]


def test_app_unreadable_at_the_baseline_joins_it_when_read_later(sim, worker_client):
    target = app_with_grants(sim)
    sim.fault(f"/api/v1/apps/{target['id']}/grants$", status=403, times=-1)
    first = services.run_full_sync(client=worker_client)
    assert first.status == SyncRun.Status.PARTIAL
    sim.clear_faults()
    second = services.run_full_sync(client=worker_client)
    assert not second.baseline
    row = OktaApp.objects.get(okta_id=target["id"])
    assert row.grants_state == "ok"
    assert row.last_change_at is None
    assert not AuditEvent.objects.filter(action="external_grant", app=row).exists()
    assert AuditEvent.objects.get(action="app_discovered", app=row).detail["baseline"]
    assert second.grants_added == 0


def test_the_baseline_records_each_app_once_with_its_counts_and_version(
    sim, worker_client
):
    """Each app of the baseline: version 1, counts equal to its grant rows, no
    "last change", and exactly one audit row, ``app_discovered``, naming its
    scopes; the chain verifies."""
    services.run_full_sync(client=worker_client)
    expected = okta_state(sim)
    rows = {a.okta_id: a for a in OktaApp.objects.all()}
    assert rows.keys() == expected.keys()
    for okta_id, app in rows.items():
        assert (app.version, app.last_change_at) == (1, None)
        assert app.grant_count == len(expected[okta_id]["grants"])
    assert not OktaApp.objects.miscounted().exists()
    # The API service integrations the same run inventories have rows of
    # their own (tests/grants/test_api_services.py).
    events = list(AuditEvent.objects.exclude(action="integration_discovered"))
    assert {e.action for e in events} == {"app_discovered"}
    assert sorted(e.app_okta_id for e in events) == sorted(expected)
    for event in events:
        assert event.detail == {
            "detected_by": "full_sync",
            "actor_source": "unknown",
            "scopes": sorted(expected[event.app_okta_id]["grants"]),
            "status": rows[event.app_okta_id].status,
            "baseline": True,
        }
    assert audit.verify().ok


def test_an_app_first_read_outside_the_listing_while_the_baseline_runs_joins_it():
    """An app the baseline run has not listed yet, read first by another path
    (incremental sync, refresh) while that run is running: its row is made
    during the baseline, so it is part of it (no "last change", no
    ``external_grant`` rows)."""
    SyncRun.objects.create(kind=SyncRun.Kind.FULL, baseline=True)
    now = timezone.now()
    app = App(
        id="0oa" + "9" * 17,
        label="Read first elsewhere",
        name="oidc_client",
        sign_on_mode="OPENID_CONNECT",
        status="ACTIVE",
        client_id="0oa" + "9" * 17,
        application_type="service",
        created=now,
        last_updated=now,
    )
    grant = Grant(
        id="oag" + "9" * 17,
        scope_id="okta.users.read",
        issuer="",
        client_id=app.client_id,
        source="ADMIN",
        status="ACTIVE",
        created_by_id="",
        created_by_type="",
        created=now,
        last_updated=now,
    )
    change = apply_snapshot(app, [grant], expected_version=None, source="refresh")
    assert (change.discovered, change.baseline) == (True, True)
    row = OktaApp.objects.get(okta_id=app.id)
    assert (row.version, row.last_change_at, row.grant_count) == (1, None, 1)
    assert not AuditEvent.objects.filter(action="external_grant").exists()
    assert AuditEvent.objects.get(action="app_discovered").detail["baseline"]

"""OIN API service integrations: read by the full sync, followed by the
incremental sync, removed from the console with the intent protocol."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import requests
from django.utils import timezone

from grantsconsole.grants import audit, services
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import ApiServiceIntegration, AuditEvent, SyncRun
from grantsconsole.grants.services import api_services
from grantsconsole.okta import OktaClient, OktaPermissionDenied, SswsTokenSource
from grantsconsole.oktasim.seed import DEMO_SSWS_TOKEN, WORKER_CLIENT_ID
from tests.factories import ORG_ADMIN, SUPER

pytestmark = pytest.mark.django_db

SERVICES = "/integrations/api/v1/api-services"


def okta_services(sim, ssws) -> dict[str, dict]:
    return {s["id"]: s for s in ssws.get(sim.url + SERVICES).json()}


@pytest.fixture
def admin_okta_client(sim):
    """The demo Super Admin's client (what the console uses for writes)."""
    return OktaClient(sim.url, SswsTokenSource(DEMO_SSWS_TOKEN))


@pytest.fixture
def ssws(sim):
    s = requests.Session()
    s.headers["Authorization"] = f"SSWS {DEMO_SSWS_TOKEN}"
    yield s
    s.close()


def test_full_sync_stores_every_integration_with_scopes_creator_and_secret_ages(
    sim, ssws, full_synced
):
    okta = okta_services(sim, ssws)
    rows = {r.okta_id: r for r in ApiServiceIntegration.objects.all()}
    assert set(rows) == set(okta)
    acme = next(r for r in rows.values() if r.name == "Acme Log Streaming")
    assert acme.type == "acme_log_streaming"
    assert acme.granted_scopes == ["okta.logs.read", "okta.users.read"]
    assert acme.created_by_id == okta[acme.okta_id]["createdBy"]
    assert acme.okta_created is not None
    assert acme.removed_at is None
    assert [s["status"] for s in acme.secrets] == ["INACTIVE", "ACTIVE"]
    oldest = datetime.fromisoformat(acme.secrets[0]["created"])
    assert (acme.okta_created - oldest).days < 0 < (timezone.now() - oldest).days - 1000
    assert (datetime.fromisoformat(acme.secrets[1]["created"]) - oldest).days > 600
    assert api_services.read_state().error == ""
    # The first read is the baseline: recorded, marked so, not a change.
    seen = AuditEvent.objects.filter(action="integration_discovered")
    assert seen.count() == 2
    assert all(e.detail["baseline"] for e in seen)


def test_a_worker_without_the_scope_degrades_with_a_plain_reason(
    sim, ssws, worker_client
):
    run = services.run_full_sync(client=worker_client)
    assert ApiServiceIntegration.objects.count() == 2
    sim.oob_revoke(
        app_id=WORKER_CLIENT_ID,
        scope_id="okta.oauthIntegrations.read",
        actor_login=SUPER.login,
    )
    from grantsconsole import okta_clients

    okta_clients.forget_worker_clients()
    run = services.run_full_sync(client=okta_clients.worker_client())
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert api_services.read_state().error == (
        "integrations not readable: the worker lacks okta.oauthIntegrations.read"
    )
    # What was read before is kept, not taken for removed.
    assert ApiServiceIntegration.objects.filter(removed_at__isnull=True).count() == 2
    assert not AuditEvent.objects.filter(action="integration_removed").exists()


def test_one_unreadable_secrets_list_keeps_the_integration(sim, ssws, worker_client):
    sid = next(iter(okta_services(sim, ssws)))
    sim.fault(f"{SERVICES}/{sid}/credentials/secrets$", status=403, times=-1)
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    row = ApiServiceIntegration.objects.get(okta_id=sid)
    assert row.granted_scopes  # its other data is kept
    assert row.secrets == []
    assert row.secrets_error.startswith("secrets not readable:")
    assert "HTTP 403" in row.secrets_error


def test_out_of_band_authorize_and_removal_are_detected_with_their_actor(
    sim, ssws, worker_client, full_synced
):
    gone = next(
        s
        for s in okta_services(sim, ssws).values()
        if s["name"] == "Acme Log Streaming"
    )
    sim.oob_api_service("delete", id=gone["id"], actor_login=ORG_ADMIN.login)
    new = sim.oob_api_service(
        "create",
        name="Contoso SIEM",
        type="contoso_siem",
        scopes=["okta.logs.read"],
        actor_login=SUPER.login,
    )
    run = services.run_incremental_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    removed = ApiServiceIntegration.objects.get(okta_id=gone["id"])
    assert removed.removed_at is not None
    assert removed.removed_by == ORG_ADMIN.login
    row = AuditEvent.objects.get(action="integration_removed")
    assert row.actor_login == ORG_ADMIN.login
    assert row.detail["integration"] == gone["id"]
    added = ApiServiceIntegration.objects.get(okta_id=new["id"])
    assert added.granted_scopes == ["okta.logs.read"]
    assert len(added.secrets) == 1
    seen = AuditEvent.objects.get(
        action="integration_discovered", detail__integration=new["id"]
    )
    assert seen.actor_login == SUPER.login
    assert "baseline" not in seen.detail
    # The same events read again change nothing.
    before = AuditEvent.objects.count()
    run = services.run_incremental_sync(client=worker_client)
    assert AuditEvent.objects.count() == before
    assert audit.verify().ok


def test_full_sync_notices_a_removal_the_log_did_not_show(
    sim, ssws, worker_client, full_synced
):
    sid = next(iter(okta_services(sim, ssws)))
    sim.oob_api_service("delete", id=sid)
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    row = ApiServiceIntegration.objects.get(okta_id=sid)
    assert row.removed_at is not None
    event = AuditEvent.objects.get(action="integration_removed")
    assert event.actor_login == ""  # only the comparison showed it


def test_console_removal_writes_intent_and_final_rows(sim, ssws, admin_okta_client):
    api_services.sync_api_services(admin_okta_client, source="test")
    row = ApiServiceIntegration.objects.get(name="Northwind Identity Governance")
    actor = Actor(actor_id="00uadmin", login=SUPER.login)
    final = api_services.remove_api_service(admin_okta_client, row, actor)
    assert final.action == "integration_remove"
    assert final.outcome == "success"
    intent = AuditEvent.objects.get(action="integration_remove_intent")
    assert intent.outcome == "pending"
    assert final.detail["intent_seq"] == intent.seq
    assert final.detail["scopes"] == row.granted_scopes
    row.refresh_from_db()
    assert row.removed_at is not None
    assert row.okta_id not in okta_services(sim, ssws)
    # Removing it again is success: it is already gone.
    again = api_services.remove_api_service(admin_okta_client, row, actor)
    assert again.detail["already_gone"] is True


def test_a_refused_removal_is_audited_and_changes_nothing(sim, ssws, admin_okta_client):
    api_services.sync_api_services(admin_okta_client, source="test")
    row = ApiServiceIntegration.objects.first()
    sim.fault(f"{SERVICES}/{row.okta_id}$", method="DELETE", status=403)
    with pytest.raises(OktaPermissionDenied):
        api_services.remove_api_service(
            admin_okta_client, row, Actor(login=SUPER.login)
        )
    final = AuditEvent.objects.get(action="integration_remove")
    assert final.outcome == "failure"
    assert "HTTP 403" in final.detail["error"]
    row.refresh_from_db()
    assert row.removed_at is None
    assert row.okta_id in okta_services(sim, ssws)


def test_report_and_exports_list_integrations_as_holders(
    sim, ssws, worker_client, full_synced
):
    from grantsconsole.grants.services import reports

    gone = next(
        s
        for s in okta_services(sim, ssws).values()
        if s["name"] == "Acme Log Streaming"
    )
    sim.oob_api_service("delete", id=gone["id"], actor_login=ORG_ADMIN.login)
    services.run_incremental_sync(client=worker_client)
    report = reports.create_report(trigger="test")
    data = report.data
    held = data["api_service_integrations"]
    assert held["error"] == ""
    assert [i["name"] for i in held["integrations"]] == [
        "Northwind Identity Governance"
    ]
    assert data["totals"]["api_service_integrations"] == 1
    users_manage = next(
        h for h in data["critical_holders"] if h["scope_id"] == "okta.users.manage"
    )
    assert [i["name"] for i in users_manage["integrations"]] == [
        "Northwind Identity Governance"
    ]
    # The out-of-band removal is a change made outside the console, with its
    # actor; the baseline's discoveries are not changes.
    external = [c for c in data["external_changes"] if c["action"].startswith("int")]
    assert [(c["action"], c["actor_login"]) for c in external] == [
        ("integration_removed", ORG_ADMIN.login)
    ]
    lines = list(csv.DictReader(io.StringIO(reports.report_as_csv(report))))
    rows = [r for r in lines if r["section"] == "api_service_integration"]
    assert sorted(r["scope_id"] for r in rows) == sorted(
        held["integrations"][0]["scopes"]
    )  # one row per scope it holds
    assert all(r["detail"].startswith("API service integration") for r in rows)
    assert any(
        (r["section"], r["scope_id"], r["detail"])
        == ("critical_holder", "okta.users.manage", "API service integration")
        for r in lines
    )
    removal = next(r for r in lines if r["action"] == "integration_removed")
    assert (removal["app_okta_id"], removal["app_label"]) == (
        gone["id"],
        "Acme Log Streaming",
    )
    assert '"api_service_integrations"' in reports.report_as_json(report)

"""The sync reads each OIDC service app's admin roles (with targets) into
ClientPrivilege, records changes, and degrades to "roles not readable"."""

from __future__ import annotations

import csv
import io

import pytest

from grantsconsole import okta_clients
from grantsconsole.grants import audit, services
from grantsconsole.grants.models import AuditEvent, ClientPrivilege, OktaApp, SyncRun
from grantsconsole.grants.privilege import RANK
from grantsconsole.oktasim.seed import WORKER_CLIENT_ID
from tests.factories import SUPER
from tests.grants.helpers import db_state, okta_state

pytestmark = pytest.mark.django_db


def _privilege(label: str) -> ClientPrivilege:
    return ClientPrivilege.objects.get(app__label=label)


def _client(sim, label: str) -> str:
    return next(a for a in sim.state()["apps"] if a["label"] == label)["client_id"]


def test_full_sync_stores_each_service_apps_roles_and_reach(full_synced):
    nightly = _privilege("Nightly User Sync")
    assert [(r["type"], r["groups"]) for r in nightly.roles] == [
        ("USER_ADMIN", ["Contractors", "Field Staff"])
    ]
    assert nightly.rank == RANK["high"]  # critical scope, narrowed to 2 groups
    assert not nightly.latent
    bot = _privilege("Provisioning Bot")
    assert [r["type"] for r in bot.roles] == ["SUPER_ADMIN"]
    assert bot.rank == RANK["critical"]
    assert bot.self_escalation  # okta.roles.manage with SUPER_ADMIN
    custom = _privilege("Org2Org Bridge")
    assert [(r["type"], r["label"], r["resource_set"]) for r in custom.roles] == [
        ("CUSTOM", "Partner user provisioning", "Partner org users")
    ]
    terraform = _privilege("Terraform Automation")
    assert terraform.roles[0]["apps"] == ["salesforce", "oidc_client"]
    assert terraform.self_escalation  # okta.apps.manage reaching itself
    idle = _privilege("Group Sync Worker")
    assert idle.roles == []
    assert idle.roles_known
    assert idle.latent
    assert idle.rank == RANK["latent"]
    # User-facing apps act as the signed-in person: no roles are read for them.
    assert not ClientPrivilege.objects.filter(
        app__application_type__in=["web", "browser", "native"]
    ).exists()
    # The first read is a baseline, not a change.
    assert not AuditEvent.objects.filter(action="privilege_change").exists()


@pytest.mark.parametrize("status", [403, 404])
def test_roles_not_readable_keeps_the_roles_and_every_other_fact(
    sim, worker_client, full_synced, status
):
    client = _client(sim, "Nightly User Sync")
    sim.fault(f"/oauth2/v1/clients/{client}/roles$", status=status, times=-1)
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    nightly = _privilege("Nightly User Sync")
    assert f"HTTP {status}" in nightly.error
    assert [r["type"] for r in nightly.roles] == ["USER_ADMIN"]  # kept
    app = OktaApp.objects.get(label="Nightly User Sync")
    assert app.grants_state == OktaApp.GrantsState.OK
    assert db_state() == okta_state(sim)  # grants untouched
    assert not AuditEvent.objects.filter(action="privilege_change").exists()


def test_a_worker_without_the_roles_scope_degrades_instead_of_failing(sim, settings):
    settings.OKTA_ORG_URL = sim.url
    sim.set_rate_limit("apps", 100_000)
    sim.oob_revoke(WORKER_CLIENT_ID, "okta.roles.read")
    okta_clients.forget_worker_clients()
    try:
        run = services.run_full_sync(client=okta_clients.worker_client())
    finally:
        okta_clients.forget_worker_clients()
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    bot = _privilege("Provisioning Bot")
    assert not bot.roles_known
    assert "okta.roles.read" in bot.error
    assert bot.rank == RANK["critical"]  # reach unknown: the scope's own tier
    assert db_state() == okta_state(sim)


def test_a_role_change_between_full_syncs_is_a_recorded_change(
    sim, worker_client, full_synced
):
    sim.set_client_roles(_client(sim, "Group Sync Worker"), ["SUPER_ADMIN"])
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    row = AuditEvent.objects.get(action="privilege_change")
    assert row.app_label == "Group Sync Worker"
    assert (row.detail["before"], row.detail["after"]) == ([], ["SUPER_ADMIN"])
    assert row.detail["actor_source"] == "unknown"
    idle = _privilege("Group Sync Worker")
    assert not idle.latent
    assert idle.rank == RANK["critical"]
    assert audit.verify().ok


def test_incremental_sync_names_who_changed_the_roles(sim, worker_client, full_synced):
    services.run_incremental_sync(client=worker_client)  # past the seed window
    client = _client(sim, "Group Sync Worker")
    sim.set_client_roles(client, ["SUPER_ADMIN"], actor_login=SUPER.login)
    calls = len(sim.requests())
    run = services.run_incremental_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    row = AuditEvent.objects.get(action="privilege_change")
    assert row.actor_login == SUPER.login
    assert row.actor_id == SUPER.okta_id
    assert row.detail["actor_source"] == "system_log"
    assert row.detail["after"] == ["SUPER_ADMIN"]
    # Only the System Log and the app's roles were read: not its grants.
    paths = [
        r["path"] for r in sim.requests()[calls:] if r["path"] != "/oauth2/v1/token"
    ]
    assert paths == ["/api/v1/logs", f"/oauth2/v1/clients/{client}/roles"]
    assert _privilege("Group Sync Worker").rank == RANK["critical"]


def test_the_report_and_its_csv_say_what_each_critical_grant_can_do(
    sim, worker_client, full_synced
):
    sim.set_client_roles(_client(sim, "Group Sync Worker"), ["SUPER_ADMIN"])
    services.run_full_sync(client=worker_client)
    report = services.create_report()
    holders = {
        (h["scope_id"], a["label"]): a["effective"]
        for h in report.data["critical_holders"]
        for a in h["apps"]
    }
    assert holders[("okta.users.manage", "Provisioning Bot")] == (
        "with SUPER_ADMIN: every user"
    )
    assert holders[("okta.users.manage", "Nightly User Sync")] == (
        "with USER_ADMIN on 2 groups: users of those groups"
    )
    assert holders[("okta.users.manage", "Admin Mobile")] == (
        "acts as whoever signs in, within that person's role"
    )
    rows = list(csv.DictReader(io.StringIO(services.report_as_csv(report))))
    bot = next(
        r
        for r in rows
        if r["section"] == "critical_holder"
        and r["app_label"] == "Provisioning Bot"
        and r["scope_id"] == "okta.users.manage"
    )
    assert bot["effective_privilege"] == "with SUPER_ADMIN: every user"
    change = next(r for r in rows if r["action"] == "privilege_change")
    assert change["section"] == "change"
    assert any(
        r["section"] == "external_change" and r["action"] == "privilege_change"
        for r in rows
    )

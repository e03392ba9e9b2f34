"""Effective privilege and API service integrations where the apps list
already has them: the matrix, one scope's page, the integrations page, the
report and its exports; and the stored rank kept current by console writes."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import ApiServiceIntegration, ClientPrivilege, OktaApp
from grantsconsole.grants.privilege import INTEGRATION_REACH, RANK
from grantsconsole.grants.services import api_services, create_report, people
from grantsconsole.grants.services.privilege_sync import RolesRead, apply_roles
from grantsconsole.grants.services.reports import report_as_csv
from grantsconsole.okta import OktaClient, SswsTokenSource
from grantsconsole.oktasim.seed import DEMO_SSWS_TOKEN
from tests.console.conftest import mirror_org
from tests.factories import SUPER, make_apps

pytestmark = pytest.mark.django_db


def role(type_: str, **kw) -> dict:
    return {
        "id": f"ra1{type_[:8]}",
        "type": type_,
        "label": "",
        "status": "ACTIVE",
        "groups": [],
        "apps": [],
        "resource_set": "",
        **kw,
    }


def _roles(label: str, *types: str) -> OktaApp:
    row = OktaApp.objects.get(label=label)
    apply_roles(row, RolesRead([role(t) for t in types]), source="test")
    return row


def _body(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _row(body: str, label: str) -> str:
    """The table row naming ``label``."""
    found = re.search(
        rf"<tr[ >](?:(?!<tr[ >]|</tr>).)*{re.escape(label)}(?:(?!</tr>).)*</tr>",
        body,
        re.S,
    )
    assert found, label
    return found.group(0)


def test_console_revoke_updates_the_apps_list_badge_and_sort_at_once(admin, sim):
    nightly = next(a for a in sim.state()["apps"] if a["label"] == "Nightly User Sync")
    sim.oob_revoke(nightly["id"], "okta.groups.manage")  # okta.users.manage left
    mirror_org(sim)
    _roles("Nightly User Sync", "SUPER_ADMIN")
    listing = {"type": "service", "sort": "-privilege"}
    body = _body(admin.get("/apps/", listing))
    assert 'class="badge risk-critical"' in _row(body, "Nightly User Sync")
    assert body.index("Nightly User Sync") < body.index("Backup Exporter")

    done = admin.post(
        f"/apps/{nightly['id']}/grants/revoke",
        {"scope": "okta.users.manage", "confirm": "yes"},
    )
    assert done.status_code == 302
    stored = ClientPrivilege.objects.get(app__okta_id=nightly["id"])
    assert (stored.rank, stored.latent) == (RANK[""], False)
    body = _body(admin.get("/apps/", listing))
    assert "risk-critical" not in _row(body, "Nightly User Sync")
    assert body.index("Backup Exporter") < body.index("Nightly User Sync")


@pytest.fixture
def integrations(sim, db) -> dict[str, ApiServiceIntegration]:
    """The demo org's API service integrations, as a full sync leaves them."""
    client = OktaClient(sim.url, SswsTokenSource(DEMO_SSWS_TOKEN))
    api_services.sync_api_services(client, source="test")
    return {r.name: r for r in ApiServiceIntegration.objects.all()}


def test_matrix_shows_each_apps_effective_privilege(admin, mirrored):
    _roles("Provisioning Bot", "SUPER_ADMIN")
    _roles("Group Sync Worker")
    _roles("Backup Exporter", "READ_ONLY_ADMIN")
    body = _body(admin.get("/scopes/matrix/", {"size": "all"}))
    assert ">Effective privilege</th>" in body
    bot = _row(body, "Provisioning Bot")
    assert 'class="badge risk-critical">critical' in bot
    assert "can grant itself more" in bot
    assert "latent risk" in _row(body, "Group Sync Worker")
    assert "as whoever signs in" in _row(body, "Admin Mobile")  # native, manage


def test_matrix_lists_integrations_as_holders_beside_the_apps(
    admin, mirrored, integrations
):
    northwind = integrations["Northwind Identity Governance"]
    body = _body(admin.get("/scopes/matrix/"))
    row = _row(body, "Northwind Identity Governance")
    assert "API service integration</span>" in row
    at = f"/integrations/#int-{northwind.okta_id}"
    assert f'href="{at}">Northwind Identity Governance</a>' in row
    # its families from grantedScopes; cells lead to it (it has no app page)
    assert f'class="cell-manage cell-risk-critical"><a href="{at}"' in row
    assert "#row-" not in row
    assert 'class="badge risk-critical">critical' in row
    assert "no admin role needed" in row
    assert "Acme Log Streaming" in body
    assert "2 API service integrations" in body
    # listed once, on the first page
    make_apps(60)
    second = _body(admin.get("/scopes/matrix/", {"page": 2, "size": "50"}))
    assert "Northwind Identity Governance" not in second


def test_pages_stay_within_the_query_budget_with_privilege_and_integrations(
    admin, integrations, django_assert_max_num_queries, settings
):
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 3600
    apps = make_apps(120)
    for app in apps[1::4]:  # the service apps
        apply_roles(app, RolesRead([role("SUPER_ADMIN")]), source="test")
    for url in (
        "/scopes/matrix/",
        "/scopes/matrix/?size=all",
        "/scopes/matrix/?page=2",
        "/scopes/okta.users.manage/",
        "/integrations/",
    ):
        OktaCredential.objects.update(last_used_at=timezone.now())
        with django_assert_max_num_queries(8, info=url):
            assert admin.get(url).status_code == 200


def test_scope_page_shows_each_holders_effective_privilege(
    admin, mirrored, integrations
):
    _roles("Provisioning Bot", "SUPER_ADMIN")
    _roles("Group Sync Worker")
    nightly = OktaApp.objects.get(label="Nightly User Sync")
    apply_roles(
        nightly,
        RolesRead([role("USER_ADMIN", groups=["Contractors", "Field Staff"])]),
        source="test",
    )
    body = _body(admin.get("/scopes/okta.users.manage/"))
    assert ">Effective privilege</th>" in body
    bot = _row(body, "Provisioning Bot")
    assert 'class="badge risk-critical">critical' in bot
    assert "<td>with SUPER_ADMIN: every user</td>" in bot
    row = _row(body, "Nightly User Sync")
    assert 'class="badge risk-high">high' in row
    assert "with USER_ADMIN on 2 groups: users of those groups" in row
    mobile = _row(body, "Admin Mobile")  # native
    assert "acts as whoever signs in, within that person's role" in mobile
    # a service app whose roles were never read says so
    assert "roles not read yet" in _row(body, "Org2Org Bridge")
    # the integrations holding it are marked as such
    assert (
        'Northwind Identity Governance</a> <span class="badge">API service integration'
        in body
    )
    assert "needs no admin role" in body

    groups = _body(admin.get("/scopes/okta.groups.manage/"))
    assert "with no role: nothing until a role is assigned" in _row(
        groups, "Group Sync Worker"
    )
    assert "latent risk" in _row(groups, "Group Sync Worker")
    # a read scope: who the app acts as, with its roles
    _roles("SIEM Log Shipper")
    _roles("Backup Exporter", "READ_ONLY_ADMIN")
    reads = _body(admin.get("/scopes/okta.logs.read/"))
    assert "<td>with no role: nothing until a role is assigned</td>" in _row(
        reads, "SIEM Log Shipper"
    )
    reads = _body(admin.get("/scopes/okta.users.read/"))
    assert "<td>with READ_ONLY_ADMIN</td>" in _row(reads, "Backup Exporter")


def _named_super_admin() -> str:
    people.note_person(
        SUPER.okta_id, login=SUPER.login, display_name="Sam Super", source="test"
    )
    return f"Sam Super ({SUPER.login})"


def test_integrations_page_names_who_authorized_each(admin, integrations):
    assert {i.created_by_id for i in integrations.values()} == {SUPER.okta_id}
    body = _body(admin.get("/integrations/"))
    assert (
        f'<span class="person mono" title="Okta user id">{SUPER.okta_id}</span> '
        '<span class="muted">(name not known yet)</span>' in body
    )
    named = _named_super_admin()
    body = _body(admin.get("/integrations/"))
    assert (
        f'<abbr class="person" title="Okta user id {SUPER.okta_id}">{named}</abbr>'
        in body
    )


def test_report_names_who_authorized_each_integration(admin, mirrored, integrations):
    named = _named_super_admin()
    report = create_report(trigger="test")
    body = _body(admin.get(f"/reports/{report.pk}/"))
    section = body[body.index('id="asi-h"') :]
    assert (
        f'by <abbr class="person" title="Okta user id {SUPER.okta_id}">{named}'
        in section
    )
    rows = list(csv.DictReader(io.StringIO(report_as_csv(report))))
    held = [r for r in rows if r["section"] == "api_service_integration"]
    assert held
    assert {(r["actor_login"], r["actor_id"], r["actor_name"]) for r in held} == {
        (SUPER.login, SUPER.okta_id, "Sam Super")
    }


def test_report_exports_mark_integrations_and_say_what_each_holder_can_do(
    admin, mirrored, integrations
):
    _roles("Provisioning Bot", "SUPER_ADMIN")
    northwind = integrations["Northwind Identity Governance"]
    report = create_report(trigger="test")

    exported = admin.get(f"/reports/{report.pk}/export.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert "effective_privilege" in rows[0]
    critical = [r for r in rows if r["section"] == "critical_holder"]
    assert {
        (r["app_label"], r["effective_privilege"])
        for r in critical
        if r["scope_id"] == "okta.users.manage"
    } >= {
        ("Provisioning Bot", "with SUPER_ADMIN: every user"),
        ("Northwind Identity Governance", INTEGRATION_REACH),
    }
    (held,) = [
        r
        for r in critical
        if r["app_okta_id"] == northwind.okta_id
        and r["scope_id"] == "okta.users.manage"
    ]
    assert held["detail"] == "API service integration"
    listed = {
        r["scope_id"]: r
        for r in rows
        if r["section"] == "api_service_integration"
        and r["app_okta_id"] == northwind.okta_id
    }
    assert listed["okta.groups.manage"]["effective_privilege"] == INTEGRATION_REACH
    assert listed["okta.apps.read"]["effective_privilege"] == ""  # a read: no line
    assert listed["okta.apps.read"]["detail"].startswith("API service integration")

    data = json.loads(admin.get(f"/reports/{report.pk}/export.json").content)
    (users,) = [
        h for h in data["critical_holders"] if h["scope_id"] == "okta.users.manage"
    ]
    assert {
        "okta_id": northwind.okta_id,
        "name": northwind.name,
        "effective": INTEGRATION_REACH,
    } in users["integrations"]
    assert any(a["effective"] == "with SUPER_ADMIN: every user" for a in users["apps"])

    body = " ".join(_body(admin.get(f"/reports/{report.pk}/")).split())
    assert (
        f'API service integration</span> — <span class="effective">{INTEGRATION_REACH}'
        in body
    )

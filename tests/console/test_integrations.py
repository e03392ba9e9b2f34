"""API service integrations on the pages: beside apps on the apps list, each
scope page and the scopes list; their own page; removal confirmed like a revoke."""

from __future__ import annotations

import pytest
import requests

from grantsconsole.grants.models import ApiServiceIntegration, AuditEvent
from grantsconsole.grants.services import api_services
from grantsconsole.okta import OktaClient, SswsTokenSource
from grantsconsole.oktasim.seed import DEMO_SSWS_TOKEN
from tests.factories import SUPER

SERVICES = "/integrations/api/v1/api-services"
NORTHWIND = "Northwind Identity Governance"


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


@pytest.fixture
def read(sim, db):
    """The demo org's integrations in the database, as a full sync leaves them."""
    client = OktaClient(sim.url, SswsTokenSource(DEMO_SSWS_TOKEN))
    api_services.sync_api_services(client, source="test")
    return {r.name: r for r in ApiServiceIntegration.objects.all()}


def okta_ids(sim) -> set[str]:
    s = requests.get(
        sim.url + SERVICES, headers={"Authorization": f"SSWS {DEMO_SSWS_TOKEN}"}
    )
    return {x["id"] for x in s.json()}


def test_apps_list_shows_integrations_as_holders(admin, read):
    body = _text(admin.get("/apps/"))
    assert "API service integrations" in body
    assert NORTHWIND in body
    assert "API service integration</span>" in body
    assert "okta.users.manage" in body


def test_scope_page_lists_integrations_holding_it(admin, read):
    body = _text(admin.get("/scopes/okta.groups.manage/"))
    assert f">{NORTHWIND}</a>" in body
    other = _text(admin.get("/scopes/okta.logs.read/"))
    assert "Acme Log Streaming" in other
    assert NORTHWIND not in other


def test_scopes_list_counts_integrations_separately(admin, read):
    body = _text(admin.get("/scopes/"))
    assert "Scopes held by API service integrations" in body
    assert "not in the Holders column" in body


def test_unknown_scope_of_an_integration_is_shown_by_name(admin, read):
    row = read[NORTHWIND]
    row.granted_scopes = [*row.granted_scopes, "okta.futureThing.manage"]
    row.save()
    body = _text(admin.get("/integrations/"))
    assert "okta.futureThing.manage" in body
    assert "unknown reach" in body
    assert "okta.futureThing.manage" in _text(admin.get("/apps/"))


def test_integrations_page_shows_secret_ages(admin, read):
    body = _text(admin.get("/integrations/"))
    assert "inactive: 1095 days old" in body
    assert "active: 7 days old" in body


def test_missing_worker_scope_is_a_note_not_a_failure(admin, read):
    api_services._note_read(api_services.LACKS_SCOPE)
    for url in ("/apps/", "/scopes/", "/scopes/okta.logs.read/", "/integrations/"):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert (
            "integrations not readable: the worker lacks okta.oauthIntegrations.read"
            in _text(response)
        ), url
    # What was read before stays shown.
    assert NORTHWIND in _text(admin.get("/apps/"))


def test_removal_asks_first_and_needs_the_name_typed(admin, read, sim):
    row = read[NORTHWIND]
    url = f"/integrations/{row.okta_id}/remove"
    asked = admin.post(url)
    assert asked.status_code == 200
    body = _text(asked)
    assert 'role="alertdialog"' in body
    assert "okta.users.manage" in body
    wrong = admin.post(url, {"confirm": "yes", "typed": "Northwind"})
    assert wrong.status_code == 400
    assert row.okta_id in okta_ids(sim)
    assert not AuditEvent.objects.filter(action="integration_remove_intent").exists()
    done = admin.post(url, {"confirm": "yes", "typed": NORTHWIND})
    assert done.status_code == 302
    assert row.okta_id not in okta_ids(sim)
    final = AuditEvent.objects.get(action="integration_remove")
    assert final.outcome == "success"
    assert final.actor_login == SUPER.login
    assert AuditEvent.objects.filter(action="integration_remove_intent").count() == 1
    row.refresh_from_db()
    assert row.removed_by == SUPER.login


def test_removal_is_post_only_and_steps_up(admin, read, sim, settings):
    row = read[NORTHWIND]
    url = f"/integrations/{row.okta_id}/remove"
    assert admin.get(url).status_code == 405
    settings.ACCOUNTS_STEP_UP_MAX_AGE = 0
    stepped = admin.post(url, {"confirm": "yes", "typed": NORTHWIND})
    assert stepped.status_code == 302
    assert stepped["Location"].startswith(sim.url + "/oauth2/v1/authorize")
    assert row.okta_id in okta_ids(sim)


def test_removal_takes_a_fresh_super_admin_check(admin, read, sim):
    row = read[NORTHWIND]
    sim.set_roles(SUPER.login, ["READ_ONLY_ADMIN"])
    refused = admin.post(
        f"/integrations/{row.okta_id}/remove", {"confirm": "yes", "typed": NORTHWIND}
    )
    assert refused.status_code == 403
    sim.set_roles(SUPER.login, ["SUPER_ADMIN"])  # to read Okta's side below
    assert row.okta_id in okta_ids(sim)
    assert not AuditEvent.objects.filter(action="integration_remove").exists()


def test_removal_needs_csrf(admin_csrf, read, sim):
    row = read[NORTHWIND]
    refused = admin_csrf.post(
        f"/integrations/{row.okta_id}/remove", {"confirm": "yes", "typed": NORTHWIND}
    )
    assert refused.status_code == 403
    assert row.okta_id in okta_ids(sim)


def test_report_page_shows_integrations_beside_the_critical_holders(admin, read):
    from grantsconsole.grants.services import reports

    report = reports.create_report(trigger="test")
    body = _text(admin.get(f"/reports/{report.pk}/"))
    assert 'id="asi-h"' in body
    critical = body.split('id="crit-h"')[1].split("</section>")[0]
    assert f'{NORTHWIND} <span class="badge">API service integration</span>' in (
        critical
    )
    csv_body = admin.get(f"/reports/{report.pk}/export.csv").content.decode()
    assert "api_service_integration" in csv_body


def test_health_page_says_what_a_missing_integrations_scope_disables(admin, sim):
    from grantsconsole import okta_clients
    from grantsconsole.oktasim.seed import WORKER_CLIENT_ID

    sim.oob_revoke(
        app_id=WORKER_CLIENT_ID,
        scope_id="okta.oauthIntegrations.read",
        actor_login=SUPER.login,
    )
    okta_clients.forget_worker_clients()
    response = admin.get("/health/console/")
    assert response.status_code == 200
    body = _text(response)
    assert 'data-scope="okta.oauthIntegrations.read" data-ok="no"' in body
    assert "Listing OIN API service integrations" in body
    assert 'data-scope="okta.oauthIntegrations.manage" data-ok="yes"' in body


def test_who_authorized_an_integration_is_named_not_an_id(admin, read, sim):
    # The demo's integrations were authorized by the Super Admin, whom the
    # directory knows (here: as a sign-in names them).
    from grantsconsole.grants.services import people, reports

    row = read[NORTHWIND]
    assert row.created_by_id == SUPER.okta_id
    people.note_person(
        SUPER.okta_id, login=SUPER.login, display_name="Sam Super", source="sign-in"
    )
    named = f'title="Okta user id {SUPER.okta_id}">Sam Super ({SUPER.login})</abbr>'
    assert named in _text(admin.get("/integrations/"))

    report = reports.create_report(trigger="test")
    section = _text(admin.get(f"/reports/{report.pk}/")).split('id="asi-h"')[1]
    assert named in section.split("</section>")[0]
    csv_body = admin.get(f"/reports/{report.pk}/export.csv").content.decode()
    line = next(
        x
        for x in csv_body.splitlines()
        if "api_service_integration" in x and NORTHWIND in x
    )
    assert SUPER.login in line
    assert "Sam Super" in line


def test_the_reports_integrations_total_says_api_in_capitals(admin, read):
    from grantsconsole.grants.services import reports

    report = reports.create_report(trigger="test")
    body = _text(admin.get(f"/reports/{report.pk}/"))
    assert "</div>API service integrations</div>" in body
    assert "Api service" not in body

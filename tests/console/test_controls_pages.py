"""Compensating controls on the pages: the app page's block and the line
beside its risk, the public-client admin setting flagged on Console health and
in the daily report (page and CSV)."""

from __future__ import annotations

import html
import re

import pytest

from grantsconsole.grants import services
from grantsconsole.grants.models import AppControls, OrgSetting

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(sim, worker_client):
    run = services.run_full_sync(client=worker_client)
    assert run.status == "succeeded", run.message


def app_id(sim, label: str) -> str:
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == label)


def text_of(body: bytes) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body.decode())))


def test_app_page_shows_controls_that_worsen_the_risk(admin, sim, synced):
    body = admin.get(f"/apps/{app_id(sim, 'Legacy CRM')}/").content
    text = text_of(body)
    assert "Compensating controls" in text
    assert "worsens the risk client_secret_basic, secret 3 years old, any network" in (
        text
    )
    # The line beside the risk, in the grant collection.
    collection = text_of(body.split(b'id="grant-collection"')[1])
    assert (
        "Controls: client_secret_basic, secret 3 years old, any network ( worsens )"
        in collection
    )


def test_app_page_shows_controls_that_mitigate(admin, sim, synced):
    text = text_of(admin.get(f"/apps/{app_id(sim, 'Provisioning Bot')}/").content)
    assert "mitigates the risk private_key_jwt, key 30 days old, zone-restricted" in (
        text
    )
    assert "only from network zones nzo1corpnetDEMO000x7" in text


def test_unreadable_credentials_and_unknown_values_are_shown(admin, sim, synced):
    crm = app_id(sim, "Legacy CRM")
    AppControls.objects.filter(app__okta_id=crm).update(
        credentials_state="unreadable",
        credentials_error="secrets not readable: <refused> (HTTP 403)",
        network_connection="VPN_<b>ONLY</b>",
        auth_method="tls_client_auth",
    )
    body = admin.get(f"/apps/{crm}/").content
    assert b"<refused>" not in body  # escaped
    assert b"VPN_<b>" not in body
    text = text_of(body)
    assert "not readable secrets not readable: <refused> (HTTP 403)" in text
    assert "VPN_<b>ONLY</b> (a connection the console does not know)" in text
    assert "tls_client_auth" in text
    assert "Grants read from Okta" in text  # the rest of the app is kept


def test_an_app_never_synced_says_so(admin, mirrored, sim):
    body = admin.get(f"/apps/{app_id(sim, 'Legacy CRM')}/").content
    assert "Not read yet: the next full sync reads them." in text_of(body)


def test_health_flags_the_public_client_admin_setting(admin, sim, synced):
    body = admin.get("/health/console/").content
    assert b'id="client-privileges-flag"' in body
    assert "Okta assigns the Super Admin role to every new public client app" in (
        text_of(body)
    )
    OrgSetting.objects.update(enabled=False)
    body = admin.get("/health/console/").content
    assert b'id="client-privileges-flag"' not in body
    assert "new service apps get no admin role until one is assigned" in text_of(body)


def test_daily_report_flags_the_setting_on_the_page_and_in_csv(admin, sim, synced):
    report = services.create_report(trigger="test")
    setting = report.data["org_settings"]["client_privileges_setting"]
    assert setting["enabled"] is True
    assert setting["flag"].startswith("Okta assigns the Super Admin role")
    body = admin.get(f"/reports/{report.pk}/").content
    assert b'id="report-client-privileges"' in body
    assert b"Org settings" in body
    csv_text = admin.get(f"/reports/{report.pk}/export.csv").content.decode()
    assert '"org_setting"' in csv_text
    OrgSetting.objects.update(enabled=False)
    quiet = services.create_report(trigger="test")
    assert quiet.data["org_settings"]["client_privileges_setting"]["flag"] == ""
    csv_text = admin.get(f"/reports/{quiet.pk}/export.csv").content.decode()
    assert '"org_setting"' not in csv_text


def test_health_says_what_a_missing_okta_orgs_read_disables(admin, sim):
    from grantsconsole.okta_clients import forget_worker_clients

    sim.oob_revoke("0oa1workerDEMO0000x7", "okta.orgs.read")
    forget_worker_clients()  # a fresh worker token, without the scope
    try:
        body = admin.get("/health/console/").content.decode()
    finally:
        forget_worker_clients()
    row = body.split('<tr data-scope="okta.orgs.read" data-ok="no">')[1]
    row = row.split("</tr>")[0]
    assert "Disabled: Reading whether Okta gives new public client apps" in row
    assert "Not read yet: the next full sync reads" in text_of(body.encode())

"""The alerts pages: destinations added, edited, tested and deleted by a Super
Admin (secrets kept encrypted and never shown back, each change audited), and
the delivery log."""

from __future__ import annotations

import pytest

from grantsconsole.governance.alerting import raise_alert
from grantsconsole.governance.alerts_models import AlertDelivery, AlertDestination
from grantsconsole.grants.models import AuditEvent
from tests.factories import SUPER

SECRET = "a-long-signing-secret-0001"
SLACK = "https://hooks.slack.example/services/T000/B000/XXXXSECRETXXXX"


@pytest.fixture
def admin(signed_in_as):
    return signed_in_as(SUPER)


def _add(admin, **fields):
    data = {"name": "Receiver", "kind": "webhook", "min_risk": "high", "enabled": "on"}
    return admin.post("/alerts/destinations/create", {**data, **fields})


def test_a_super_admin_adds_a_signed_webhook_whose_secret_is_never_shown(
    admin, endpoint
):
    response = _add(
        admin, url=endpoint.url + "/ok", secret=SECRET, kinds=["policy_violation"]
    )
    assert response.status_code == 302
    row = AlertDestination.objects.get()
    assert (row.kind, row.url, row.secret) == ("webhook", endpoint.url + "/ok", SECRET)
    assert SECRET not in row.secret_encrypted
    page = admin.get(f"/alerts/destinations/{row.pk}/").content.decode()
    page += admin.get("/alerts/destinations/").content.decode()
    assert SECRET not in page
    change = AuditEvent.objects.get(action="alert_destination")
    assert change.actor_login == SUPER.login
    assert change.detail["change"] == "created"
    assert SECRET not in str(change.detail)


def test_a_slack_url_is_masked(admin):
    assert _add(admin, kind="slack", url=SLACK).status_code == 302
    page = admin.get("/alerts/destinations/").content.decode()
    assert "https://hooks.slack.example/••••" in page
    assert "XXXXSECRETXXXX" not in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://example.com/hook", "secret": SECRET}, "Use an https://"),
        ({"url": "", "secret": SECRET}, "Give the webhook&#x27;s URL."),
        ({"url": "https://example.com/h", "secret": "short"}, "at least 16"),
        ({"url": "https://u:p@example.com/h", "secret": SECRET}, "Leave credentials"),
        ({"kind": "email", "emails": "sec@example.com, nope"}, "nope is not an e-mail"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_nothing_stored(
    admin, fields, message
):
    response = _add(admin, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AlertDestination.objects.exists()
    assert not AuditEvent.objects.filter(action="alert_destination").exists()


def test_production_takes_only_https(admin, settings):
    settings.ALERT_WEBHOOK_ALLOW_HTTP = False
    response = _add(admin, url="http://127.0.0.1:8001/__sim__/webhooks", secret=SECRET)
    assert response.status_code == 400
    assert "Use an https:// URL." in response.content.decode()


def test_an_edit_keeps_the_url_and_secret_left_blank(admin, endpoint):
    _add(admin, url=endpoint.url + "/ok", secret=SECRET)
    row = AlertDestination.objects.get()
    response = admin.post(
        f"/alerts/destinations/{row.pk}/edit",
        {
            "name": "Renamed",
            "kind": "webhook",
            "min_risk": "low",
            "url": "",
            "secret": "",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.name, row.min_risk, row.enabled) == ("Renamed", "low", False)
    assert (row.url, row.secret) == (endpoint.url + "/ok", SECRET)


def test_the_test_button_sends_now_and_says_what_happened(admin, endpoint):
    _add(admin, url=endpoint.url + "/ok", secret=SECRET, min_risk="critical")
    _add(admin, name="Broken", url=endpoint.url + "/gone", secret=SECRET)
    ok, broken = AlertDestination.objects.order_by("pk")
    page = admin.post(f"/alerts/destinations/{ok.pk}/test", follow=True)
    assert "Test alert delivered to Receiver (answered 200)." in page.content.decode()
    assert endpoint.bodies()[0]["kind"] == "test"  # whatever the filters say
    page = admin.post(f"/alerts/destinations/{broken.pk}/test", follow=True)
    assert "not delivered to Broken: answered 410." in page.content.decode()
    log = admin.get("/alerts/").content.decode()
    assert "HTTP 410" in log
    assert "answered 410" in log


def test_the_alerts_page_shows_alerts_and_the_delivery_log_and_keeps_it_on_delete(
    admin, endpoint
):
    _add(admin, url=endpoint.url + "/ok", secret=SECRET, min_risk="low")
    row = AlertDestination.objects.get()
    raise_alert(
        "policy_violation",
        risk="high",
        title="<b>Payroll</b> holds okta.roles.manage",
        details={"rule": "no roles.manage"},
    )
    page = admin.get("/alerts/").content.decode()
    assert "&lt;b&gt;Payroll&lt;/b&gt; holds okta.roles.manage" in page  # escaped
    assert "rule: no roles.manage" in page
    assert admin.post(f"/alerts/destinations/{row.pk}/delete").status_code == 302
    assert not AlertDestination.objects.exists()
    assert AlertDelivery.objects.get().destination_name == "Receiver"
    assert (
        'Receiver <span class="muted">(deleted)</span>'
        in admin.get("/alerts/").content.decode()
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5:8443/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
    ],
)
def test_production_refuses_webhooks_to_internal_addresses(admin, settings, url):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    response = _add(admin, url=url, secret=SECRET)
    assert response.status_code == 400
    assert "resolves to an internal address" in response.content.decode()
    assert not AlertDestination.objects.exists()

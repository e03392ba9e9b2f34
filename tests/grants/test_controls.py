"""Compensating controls: read during the full sync (auth method, network,
secret and key ages, the org's public-client admin setting), kept when Okta
refuses a read, and summed up in one line with its effect on the risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grantsconsole.grants import services
from grantsconsole.grants.models import AppControls, OktaApp, OrgSetting, SyncRun
from grantsconsole.grants.services import controls
from grantsconsole.grants.services.controls import summarize
from tests.grants.helpers import okta_state

pytestmark = pytest.mark.django_db


def app_id(sim, label: str) -> str:
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == label)


def controls_of(sim, label: str) -> AppControls:
    return AppControls.objects.get(app__okta_id=app_id(sim, label))


def days_old(when: datetime | None, sim) -> int:
    now = datetime.fromtimestamp(sim.advance_clock(0)["now"], UTC)
    return round((now - when) / timedelta(days=1))


def test_full_sync_reads_the_demo_orgs_controls(sim, worker_client):
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    crm = controls_of(sim, "Legacy CRM")  # web, okta.apps.manage
    assert (crm.auth_method, crm.network_connection) == ("client_secret_basic", "")
    assert crm.credentials_state == "read"
    assert crm.credential_count == 1
    assert days_old(crm.oldest_credential_at, sim) == 1095
    hr = controls_of(sim, "HR Onboarding")  # a rotation under way
    assert hr.credential_count == 2
    assert days_old(hr.oldest_credential_at, sim) == 400
    assert days_old(hr.newest_credential_at, sim) == 7
    bot = controls_of(sim, "Provisioning Bot")  # service, zone-restricted
    assert bot.auth_method == "private_key_jwt"
    assert (bot.network_connection, bot.network_include) == (
        "ZONE",
        ["nzo1corpnetDEMO000x7"],
    )
    assert days_old(bot.oldest_credential_at, sim) == 30
    # Not read: a web app without manage scopes, a public client, a service app
    # holding nothing.
    for label in ("Payroll Portal", "Admin Mobile", "Idle Service"):
        assert controls_of(sim, label).credentials_state == "not read", label
    assert (
        controls_of(sim, "Admin Mobile").auth_method,
        controls_of(sim, "Admin Mobile").credential_count,
    ) == ("none", 0)
    setting = OrgSetting.objects.get(name=OrgSetting.CLIENT_PRIVILEGES)
    assert (setting.enabled, setting.error) == (True, "")


@pytest.mark.parametrize("status", [403, 404])
def test_a_refused_credentials_read_says_why_and_keeps_the_rest(
    sim, worker_client, status
):
    services.run_full_sync(client=worker_client)
    crm = app_id(sim, "Legacy CRM")
    sim.fault(f"/apps/{crm}/credentials/secrets$", status=status, times=-1)
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    c = controls_of(sim, "Legacy CRM")
    assert c.credentials_state == "unreadable"
    assert c.credentials_error.startswith("secrets not readable: ")
    assert f"HTTP {status}" in c.credentials_error
    # The last ages read, the auth method and the app's grants stay.
    assert days_old(c.oldest_credential_at, sim) == 1095
    assert c.auth_method == "client_secret_basic"
    app = OktaApp.objects.get(okta_id=crm)
    assert app.grants_state == "ok"
    assert app.grant_count == len(okta_state(sim)[crm]["grants"])
    line = summarize(c, datetime.now(UTC)).text
    assert line.startswith("client_secret_basic, secrets not readable: ")
    sim.clear_faults()
    services.run_full_sync(client=worker_client)
    assert controls_of(sim, "Legacy CRM").credentials_state == "read"


def test_a_worker_without_okta_orgs_read_keeps_syncing(sim, worker_client):
    sim.oob_revoke(app_id(sim, "Grants Console Worker"), "okta.orgs.read")
    from grantsconsole import okta_clients

    okta_clients.forget_worker_clients()  # a fresh token, without the scope
    run = services.run_full_sync(client=okta_clients.worker_client())
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    setting = OrgSetting.objects.get()
    assert setting.enabled is None
    assert "does not carry the Okta API scope 'okta.orgs.read'" in setting.error
    assert controls.org_settings_report()["client_privileges_setting"]["flag"] == ""


def test_a_second_sync_reads_credentials_again_and_writes_nothing(sim, worker_client):
    services.run_full_sync(client=worker_client)
    before = list(AppControls.objects.order_by("pk").values())
    setting = OrgSetting.objects.get()
    services.run_full_sync(client=worker_client)
    assert list(AppControls.objects.order_by("pk").values()) == before
    assert OrgSetting.objects.get().changed_at == setting.changed_at


NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _controls(method: str, age_days: int | None, network: str = "", state="read"):
    when = NOW - timedelta(days=age_days) if age_days is not None else None
    return AppControls(
        auth_method=method,
        network_connection=network,
        credentials_state=state,
        credential_count=1 if when else 0,
        oldest_credential_at=when,
        newest_credential_at=when,
    )


@pytest.mark.parametrize(
    ("controls_row", "text", "effect"),
    [
        (
            _controls("client_secret_basic", 1095),
            "client_secret_basic, secret 3 years old, any network",
            "worsens",
        ),
        (
            _controls("client_secret_post", 1095, "ZONE"),
            "client_secret_post, secret 3 years old, zone-restricted",
            "worsens",
        ),
        (
            _controls("private_key_jwt", 30, "ZONE"),
            "private_key_jwt, key 30 days old, zone-restricted",
            "mitigates",
        ),
        (
            _controls("private_key_jwt", 800, "ANYWHERE"),
            "private_key_jwt, key 2 years old, any network",
            "neutral",
        ),
        (
            _controls("client_secret_basic", 7),
            "client_secret_basic, secret 7 days old, any network",
            "neutral",
        ),
        (
            _controls("none", None, "ZONE", state="not read"),
            "public client (no secret), zone-restricted",
            "mitigates",
        ),
        (
            _controls("client_secret_basic", None, state="not read"),
            "client_secret_basic, any network",
            "neutral",
        ),
        (
            _controls("tls_client_auth", None, "VPN_ONLY", state="not read"),
            "tls_client_auth, network VPN_ONLY",
            "neutral",
        ),
        (
            _controls("client_secret_jwt", None),
            "client_secret_jwt, no active secret, any network",
            "neutral",
        ),
        (None, "controls not read yet", "neutral"),
    ],
)
def test_summary_line_and_effect(controls_row, text, effect):
    summary = summarize(controls_row, NOW)
    assert (summary.text, summary.effect) == (text, effect)

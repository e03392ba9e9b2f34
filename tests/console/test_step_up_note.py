"""The confirmation before a risky change says, before the redirect to Okta,
that Okta will ask the admin to sign in again (the step-up), and only when it
will."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from tests.console.conftest import grant_writes, web_app

NOTE = "Okta will ask you to sign in again first"


@pytest.fixture
def app_id(mirrored, sim) -> str:
    return web_app(sim, without="okta.users.manage")["id"]


def _age_sign_in(minutes: int) -> None:
    OktaCredential.objects.update(auth_time=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.parametrize(("minutes", "shown"), [(16, True), (1, False)])
def test_the_grant_confirmation_explains_the_step_up(
    admin, app_id, sim, minutes, shown
):
    _age_sign_in(minutes)
    page = admin.post(
        f"/apps/{app_id}/grants/grant", {"only": "okta.users.manage"}
    ).content.decode()
    assert "Yes, grant" in page
    assert (NOTE in page) is shown
    if shown:
        assert "within the last 15 minutes" in page
    assert grant_writes(sim) == []


def test_the_bulk_confirmation_explains_the_step_up(admin, app_id, sim):
    _age_sign_in(16)
    page = admin.post(
        "/scopes/okta.users.manage/grant", {"app": app_id}
    ).content.decode()
    assert NOTE in page
    assert grant_writes(sim) == []


def test_the_line_names_mfa_when_step_up_demands_it(admin, app_id, settings):
    settings.ACCOUNTS_STEP_UP_ACR_VALUES = "urn:okta:loa:2fa:any"
    page = admin.post(
        f"/apps/{app_id}/grants/grant",
        {"only": "okta.users.manage"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert NOTE in page  # signed in without MFA: due although recent
    assert "with a second factor" in page

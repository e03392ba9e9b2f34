"""CSRF on the sign-in and sign-out buttons, and no token in any log line."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from grantsconsole.accounts.models import OktaCredential
from tests.accounts import flow

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.accounts.urls"),
]


def test_sign_in_post_needs_a_csrf_token(sim) -> None:
    client = Client(HTTP_HOST=flow.HOST, enforce_csrf_checks=True)
    assert client.post(flow.LOGIN_PATH).status_code == 403
    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(flow.LOGIN_PATH, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{sim.url}/oauth2/v1/authorize?")


def test_sign_out_post_needs_a_csrf_token(sim, admin) -> None:
    admin.handler.enforce_csrf_checks = True
    assert admin.post("/accounts/logout/").status_code == 403
    assert OktaCredential.objects.exists()


def test_no_token_in_any_log_line(sim, okta_browser, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = flow.console_client()
    assert flow.sign_in(client, flow.SUPER, browser=okta_browser).status_code == 302
    cred = OktaCredential.objects.get()
    secrets = {cred.access_token, cred.refresh_token, cred.id_token}
    sim.advance_clock(3601)  # force a refresh after a 401
    payroll = next(
        a["id"] for a in sim.state()["apps"] if a["label"] == "Payroll Portal"
    )
    assert client.get(f"/test/read/{payroll}/").status_code == 200
    cred.refresh_from_db()
    secrets |= {cred.access_token, cred.refresh_token}
    assert client.post("/accounts/logout/").status_code == 302
    text = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert "refreshed the Okta tokens" in text  # logging did happen
    for secret in secrets:
        assert secret
        assert secret not in text
        assert secret[-24:] not in text

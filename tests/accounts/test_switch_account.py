"""Switching accounts and signing out, over the real sign-in.

"Sign in with another account" asks Okta for ``prompt=login``: Okta shows its
sign-in form although the browser still holds an Okta session, so a refused
admin can sign in as someone else instead of being signed in silently as the
same person again. Sign-out ends the Okta session too (RP-initiated logout)
and the sign-in page then says so.
"""

from __future__ import annotations

import re

import pytest
import requests

from grantsconsole.accounts.models import OktaCredential
from tests.accounts import flow

pytestmark = pytest.mark.django_db(transaction=True)


def _switch(client, browser: requests.Session, data: dict[str, str]) -> str:
    """POST the switch button; return the authorize URL and assert that the
    simulator answers it with its sign-in form, not a silent redirect."""
    authorize = client.post(flow.LOGIN_PATH, data)["Location"]
    page = browser.get(authorize, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.headers.get("Location")
    assert 'id="okta-signin-username"' in page.text
    return authorize


def test_a_refused_admin_signs_in_with_another_account(sim) -> None:
    browser = requests.Session()  # keeps the Okta session of the refused admin
    client = flow.console_client()
    refused = flow.sign_in(client, flow.ORG_ADMIN, browser=browser)
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "Sign in with another account" in page
    assert re.search(r'name="prompt" value="login"', page)
    # Without prompt=login, Okta's session signs the same person in again.
    again = browser.get(flow.start(client), allow_redirects=False, timeout=10)
    assert again.status_code == 302
    authorize = _switch(client, browser, {"prompt": "login"})
    assert flow.query(authorize)["prompt"] == "login"
    landed = flow.finish(
        client, flow.okta_login(authorize, flow.SUPER, browser=browser)
    )
    assert landed.status_code == 302
    assert OktaCredential.objects.get().login == flow.SUPER


def test_the_sign_in_page_offers_the_switch(sim) -> None:
    page = flow.console_client().get("/accounts/login/").content.decode()
    assert "Sign in with another account" in page
    assert 'name="prompt" value="login"' in page


@pytest.mark.parametrize(
    "prompt", ["none", "consent", "login consent", "select_account"]
)
def test_the_browser_cannot_ask_for_any_other_prompt(sim, prompt: str) -> None:
    authorize = flow.console_client().post(flow.LOGIN_PATH, {"prompt": prompt})
    assert "prompt" not in flow.query(authorize["Location"])


def test_sign_out_ends_the_okta_session_and_says_so(sim) -> None:
    browser = requests.Session()
    client = flow.console_client()
    assert flow.sign_in(client, flow.SUPER, browser=browser).status_code == 302
    logout = client.post("/accounts/logout/")
    assert logout["Location"].startswith(f"{sim.url}/oauth2/v1/logout?")
    back = browser.get(logout["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    assert back.headers["Location"] == f"http://{flow.HOST}/"
    page = client.get("/", follow=True)
    assert page.request["PATH_INFO"] == "/accounts/login/"
    assert "You are signed out" in page.content.decode()
    # Okta's session is over too: the next sign-in shows Okta's form.
    form = browser.get(flow.start(client), allow_redirects=False, timeout=10)
    assert form.status_code == 200

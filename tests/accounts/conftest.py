"""Fixtures for the sign-in tests: a signed-in Super Admin over the real flow."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings
from django.test import Client

from tests.accounts import flow


@pytest.fixture
def okta_browser() -> requests.Session:
    """The admin's browser at Okta (keeps the simulator's session cookie)."""
    return requests.Session()


@pytest.fixture
def admin(sim, okta_browser: requests.Session) -> Client:
    """A Django test client signed in as the demo Super Admin."""
    client = flow.console_client()
    response = flow.sign_in(client, flow.SUPER, browser=okta_browser)
    assert response.status_code == 302, response.content[:800]
    return client


def introspect(token: str) -> dict:
    """Ask the simulator whether ``token`` is still active (client auth)."""
    response = requests.post(
        f"{settings.OKTA_ORG_URL}/oauth2/v1/introspect",
        data={"token": token},
        auth=(settings.OKTA_CONSOLE_CLIENT_ID, settings.OKTA_CONSOLE_CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def okta_writes(sim) -> list[dict]:
    """Every write the simulator saw to an app's grant collection."""
    return [
        r
        for r in sim.requests()
        if r["method"] in ("POST", "DELETE") and "/grants" in r["path"]
    ]

"""Drive the real sign-in over HTTP: Django test client -> simulator's
/oauth2/v1/authorize -> its login form (``requests``) -> back to the callback."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from django.http import HttpResponse
from django.test import Client

from tests import factories as personas

DEMO_PASSWORD = "Demo-Pass-2026!"
# The demo org's logins (the personas of tests/factories.py).
SUPER = personas.SUPER.login
ORG_ADMIN = personas.ORG_ADMIN.login
APP_ADMIN = personas.APP_ADMIN.login
READ_ONLY = personas.READ_ONLY.login
END_USER = personas.END_USER.login
LOGIN_PATH = "/accounts/oidc/okta/login/"
CALLBACK_PATH = "/accounts/oidc/okta/login/callback/"
# The console app's registered redirect URI uses this host (see the demo org).
HOST = "127.0.0.1:8000"


def console_client() -> Client:
    """A Django test client whose requests come to the registered host."""
    return Client(HTTP_HOST=HOST)


def start(client: Client, next_url: str = "") -> str:
    """POST the sign-in button; return the /oauth2/v1/authorize URL."""
    response = client.post(LOGIN_PATH, {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def okta_login(
    authorize_url: str,
    login: str,
    password: str = DEMO_PASSWORD,
    browser: requests.Session | None = None,
    passcode: str = "",
) -> str:
    """At the simulator: open the authorize URL and submit the login form (unless
    the browser's Okta session makes that unnecessary). Returns the redirect back
    to the console (the callback URL with ``code`` and ``state``)."""
    browser = browser or requests.Session()
    page = browser.get(authorize_url, allow_redirects=False, timeout=10)
    if page.status_code == 302:
        return page.headers["Location"]
    assert page.status_code == 200, page.text[:500]
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert form, page.text[:500]
    hidden = {
        html.unescape(k): html.unescape(v)
        for k, v in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text
        )
    }
    answer = browser.post(
        urljoin(authorize_url, html.unescape(form.group(1))),
        data={**hidden, "username": login, "password": password, "passcode": passcode},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def finish(client: Client, callback_url: str) -> HttpResponse:
    """Deliver Okta's redirect to the console's callback."""
    parts = urlsplit(callback_url)
    assert parts.path == CALLBACK_PATH, callback_url
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(
    client: Client,
    login: str,
    *,
    next_url: str = "",
    browser: requests.Session | None = None,
) -> HttpResponse:
    """The whole round trip; returns the console's answer to the callback."""
    return finish(client, okta_login(start(client, next_url), login, browser=browser))

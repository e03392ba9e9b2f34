"""Fixtures for the simulator's fidelity suite: Okta's spec (cut once per session),
an SSWS session, and token helpers. Everything goes over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import (
    RequestsOpenAPIRequest,
    RequestsOpenAPIResponse,
)

from grantsconsole.oktasim import seed as demo
from spec.cut_okta_spec import load_cut

SSWS_TOKEN = demo.DEMO_SSWS_TOKEN
PASSWORD = demo.DEMO_PASSWORD
CONSOLE_ID = demo.CONSOLE_CLIENT_ID
CONSOLE_SECRET = demo.CONSOLE_CLIENT_SECRET
CONSOLE_REDIRECT = demo.CONSOLE_REDIRECT_URIS[0]
WORKER_ID = demo.WORKER_CLIENT_ID


@pytest.fixture(scope="session")
def okta_spec(sim_server) -> OpenAPI:
    """openapi-core over the committed cut of Okta's Management API spec."""
    return OpenAPI.from_dict(load_cut(sim_server.url))


@pytest.fixture
def ssws(sim) -> requests.Session:
    """A keep-alive session authenticated as the demo Super Admin (SSWS)."""
    s = requests.Session()
    s.headers["Authorization"] = f"SSWS {SSWS_TOKEN}"
    yield s
    s.close()


def validate(spec: OpenAPI, response: requests.Response) -> None:
    """Validate a real response (status, headers, body) against Okta's spec."""
    spec.validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_token(sim, login: str, scopes: str) -> str:
    """An access token for ``login`` from the console app (control-surface mint)."""
    return sim.token(login=login, scopes=scopes)["access_token"]


def worker_assertion(url: str, **overrides) -> str:
    """A private_key_jwt client assertion signed with the demo worker key."""
    now = int(time.time())
    claims = {
        "iss": WORKER_ID,
        "sub": WORKER_ID,
        "aud": f"{url}/oauth2/v1/token",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    headers = overrides.pop("_headers", None)
    key = overrides.pop("_key", None) or demo.WORKER_KEY_FILE.read_bytes()
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def worker_token_request(
    url: str, scope: str, assertion: str | None = None
) -> requests.Response:
    return requests.post(
        f"{url}/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion or worker_assertion(url),
        },
        timeout=10,
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    return verifier, challenge


def sign_in(
    url: str,
    login: str = "super.admin@example.com",
    password: str = PASSWORD,
    scope: str = "openid profile email offline_access okta.apps.read okta.appGrants.read "
    "okta.appGrants.manage okta.roles.read",
    session: requests.Session | None = None,
    redirect_uri: str = CONSOLE_REDIRECT,
    extra: dict | None = None,
    passcode: str = "",
) -> tuple[requests.Session, dict]:
    """Run the browser half of the authorization-code flow; returns the session and the
    callback's query (code, state) plus the verifier and nonce used."""
    s = session or requests.Session()
    verifier, challenge = pkce_pair()
    params = {
        "client_id": CONSOLE_ID,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": redirect_uri,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **(extra or {}),
    }
    page = s.get(
        f"{url}/oauth2/v1/authorize", params=params, allow_redirects=False, timeout=10
    )
    if page.status_code == 302:
        location = page.headers["Location"]
    else:
        assert page.status_code == 200, page.text
        assert 'id="okta-signin-username"' in page.text
        form = dict(params.items())
        form.update(username=login, password=password, passcode=passcode)
        done = s.post(
            f"{url}/oauth2/v1/authorize/login",
            data=form,
            allow_redirects=False,
            timeout=10,
        )
        assert done.status_code == 302, done.text
        location = done.headers["Location"]
    assert location.startswith(redirect_uri)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    query.update(verifier=verifier, nonce=params["nonce"], sent_state=params["state"])
    return s, query


def exchange_code(
    url: str, query: dict, redirect_uri: str = CONSOLE_REDIRECT
) -> requests.Response:
    return requests.post(
        f"{url}/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": query["verifier"],
        },
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=10,
    )


def app_by_label(sim, label: str) -> dict:
    return next(a for a in sim.state()["apps"] if a["label"] == label)

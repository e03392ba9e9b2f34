"""Helpers for the Okta client tests: demo-org credentials, a clock that moves
the simulator's clock instead of sleeping, a scripted sign-in, client factories.

The ``sim`` / ``sim_server`` fixtures come from ``tests/conftest.py``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from grantsconsole.okta import (
    OktaClient,
    ServiceAppTokenSource,
    SswsTokenSource,
    UserTokenSource,
)

SSWS_TOKEN = "00demoSuperAdminSSWStoken0000000000000000"
CONSOLE_ID = "0oa1consoleDEMO000x7"
CONSOLE_SECRET = "demo-console-secret-not-for-production-0000000000"
WORKER_ID = "0oa1workerDEMO0000x7"
WORKER_PEM = (
    Path(__file__).resolve().parents[2] / "grantsconsole/oktasim/seed/worker-key.pem"
).read_text()
PASSWORD = "Demo-Pass-2026!"
REDIRECT_URI = "http://127.0.0.1:8000/accounts/oidc/okta/login/callback/"
CONSOLE_SCOPES = (
    "openid profile email offline_access okta.apps.read okta.appGrants.read "
    "okta.appGrants.manage okta.roles.read okta.logs.read"
)
WORKER_SCOPES = ("okta.apps.read", "okta.appGrants.read", "okta.logs.read")


class SimClock:
    """Local clock for tests: real time plus an offset; ``sleep`` advances the
    simulator's clock by the same amount instead of sleeping, so rate-limit
    windows and token lifetimes pass instantly on both sides."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self.offset = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.slept.append(seconds)
        self.offset += seconds
        self.sim.advance_clock(seconds)


def sign_in(org_url: str, login: str, scope: str = CONSOLE_SCOPES) -> dict:
    """Authorization code + PKCE against the simulator's login page, as a browser
    would; returns the token response (access_token, refresh_token, ...)."""
    http = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    params = {
        "client_id": CONSOLE_ID,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": REDIRECT_URI,
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = http.get(f"{org_url}/oauth2/v1/authorize", params=params, timeout=10)
    assert page.status_code == 200, page.text[:300]
    form = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page.text
        )
    }
    form.update(username=login, password=PASSWORD)
    answer = http.post(
        f"{org_url}/oauth2/v1/authorize/login",
        data=form,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.text[:300]
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{org_url}/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=10,
    )
    assert token.status_code == 200, token.text[:300]
    return token.json()


@pytest.fixture
def clock(sim):
    return SimClock(sim)


@pytest.fixture
def ssws_client(sim, clock):
    """Client with the Super Admin's SSWS token (no token requests)."""
    return OktaClient(sim.url, SswsTokenSource(SSWS_TOKEN), clock=clock)


@pytest.fixture
def worker_source(sim, clock):
    return ServiceAppTokenSource(
        sim.url, WORKER_ID, WORKER_PEM, scopes=WORKER_SCOPES, clock=clock
    )


@pytest.fixture
def worker_client(sim, clock, worker_source):
    """Client of the worker service app (client_credentials + private_key_jwt)."""
    return OktaClient(sim.url, worker_source, clock=clock)


@pytest.fixture
def admin_tokens(sim):
    """Tokens of the demo Super Admin for the console app, minted through the
    simulator's control surface (not in its request log, so tests can count
    token requests); ``sign_in`` does the same through the login page."""
    return sim.token(login="super.admin@example.com", scopes=CONSOLE_SCOPES)


def user_source(sim, tokens: dict, clock, **kw) -> UserTokenSource:
    return UserTokenSource(
        sim.url,
        CONSOLE_ID,
        CONSOLE_SECRET,
        tokens["access_token"],
        tokens.get("refresh_token", ""),
        kw.pop("expires_at", clock.now() + tokens["expires_in"]),
        scope=tokens.get("scope"),
        clock=clock,
        **kw,
    )


@pytest.fixture
def admin_okta(sim, clock, admin_tokens):
    """Client with the signed-in Super Admin's own token (grant/revoke allowed)."""
    return OktaClient(sim.url, user_source(sim, admin_tokens, clock), clock=clock)


@pytest.fixture
def debug_logs(caplog):
    """Capture every log record at DEBUG (ours, urllib3's, everyone's; the
    settings keep urllib3's connection pool at INFO, for alert webhooks)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    return caplog


@pytest.fixture(scope="session")
def redis_url():
    """REDIS_TEST_URL (as set by .ci/with-services), else a throwaway
    redis-server on a free loopback port for this session."""
    import os
    import shutil
    import socket
    import subprocess

    url = os.environ.get("REDIS_TEST_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (Debian package redis-server)"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()

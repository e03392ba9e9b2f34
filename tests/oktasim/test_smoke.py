"""First checks: the fixtures wire the simulator to settings, and the core calls work."""

from __future__ import annotations

import os

import requests
from django.conf import settings

SSWS = {"Authorization": "SSWS 00demoSuperAdminSSWStoken0000000000000000"}


def test_settings_point_at_the_session_simulator(sim_server):
    assert sim_server.url == settings.OKTA_ORG_URL
    # settings derived from OKTA_ORG_URL at import time follow too (re-evaluated module)
    assert sim_server.url in settings.SECURE_CSP["form-action"]
    assert os.environ["OKTA_ORG_URL"] == sim_server.url


def test_discovery_names_the_org_url_as_issuer(sim):
    for path in (
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ):
        doc = requests.get(sim.url + path, timeout=5).json()
        assert doc["issuer"] == sim.url
        assert doc["token_endpoint"] == sim.url + "/oauth2/v1/token"


def test_list_apps_pages_with_link_headers(sim):
    r = requests.get(
        sim.url + "/api/v1/apps", params={"limit": 10}, headers=SSWS, timeout=5
    )
    assert r.status_code == 200
    assert len(r.json()) == 10
    assert 'rel="next"' in r.headers["Link"]
    assert r.headers["X-Rate-Limit-Limit"] == "100"
    assert r.headers["X-Okta-Request-Id"]


def test_grant_answers_200_and_revoke_204(sim):
    apps = requests.get(
        sim.url + "/api/v1/apps", params={"q": "Expense"}, headers=SSWS, timeout=5
    ).json()
    app_id = apps[0]["id"]
    r = requests.post(
        f"{sim.url}/api/v1/apps/{app_id}/grants",
        headers=SSWS,
        timeout=5,
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
    )
    assert r.status_code == 200
    grant = r.json()
    assert grant["_embedded"]["scope"]["id"] == "okta.users.read"
    r = requests.delete(
        f"{sim.url}/api/v1/apps/{app_id}/grants/{grant['id']}", headers=SSWS, timeout=5
    )
    assert r.status_code == 204
    assert all(
        g["scopeId"] != "okta.users.read"
        for a in sim.state()["apps"]
        if a["id"] == app_id
        for g in a["grants"]
    )


def test_requests_are_recorded_with_caller(sim):
    requests.get(sim.url + "/api/v1/apps", headers=SSWS, timeout=5)
    recorded = sim.requests()
    assert [(r["method"], r["path"], r["status"], r["caller"]) for r in recorded] == [
        ("GET", "/api/v1/apps", 200, "super.admin@example.com")
    ]


def test_no_secret_in_object_reprs(sim_server):
    org = sim_server.sim.org
    text = repr(list(org.users.values())) + repr(list(org.apps.values()))
    for secret in (
        "Demo-Pass-2026!",
        "00demoSuperAdminSSWStoken0000000000000000",
        "demo-console-secret-not-for-production-0000000000",
    ):
        assert secret not in text


def test_request_log_is_bounded_and_since_stays_absolute(sim, sim_server, monkeypatch):
    from grantsconsole.oktasim import server

    monkeypatch.setattr(server, "REQUEST_LOG_MAX", 10)
    for _ in range(14):
        requests.get(sim.url + "/api/v1/apps", headers=SSWS, timeout=5)
    assert len(sim.requests()) == 9  # 5 dropped once the log passed 10
    assert len(sim.requests(since=12)) == 2

"""Access control on /api/v1: authentication, the scope each endpoint needs, then
the caller's admin role; silent downscoping reproduced."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import CONSOLE_ID, SSWS_TOKEN, bearer, user_token

ALL = (
    "okta.apps.read okta.appGrants.read okta.appGrants.manage okta.roles.read "
    "okta.logs.read"
)


def get(sim, path, headers):
    return requests.get(sim.url + path, headers=headers, timeout=5)


def test_no_credentials_is_invalid_session(sim):
    r = get(sim, "/api/v1/apps", {})
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E0000005"
    assert r.json()["errorSummary"] == "Invalid session"


@pytest.mark.parametrize(
    "header",
    ["SSWS not-a-token", "SSWSnot-a-token", "SSWS", "Basic abc", "Bearer not.a.jwt"],
)
def test_bad_credentials_are_invalid_token(sim, header):
    r = get(sim, "/api/v1/apps", {"Authorization": header})
    assert r.status_code == 401
    assert r.json()["errorCode"] == "E0000011"


def test_ssws_token_is_accepted_without_the_space(sim):
    """Okta's Python SDK 3.x sends ``SSWS<token>`` and live orgs answer it."""
    r = get(sim, "/api/v1/apps", {"Authorization": f"SSWS{SSWS_TOKEN}"})
    assert r.status_code == 200
    assert r.json()


def test_token_from_another_issuer_is_refused(sim):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {
            "ver": 1,
            "jti": "AT.x",
            "iss": sim.url,
            "aud": sim.url,
            "iat": now,
            "exp": now + 3600,
            "cid": CONSOLE_ID,
            "scp": ["okta.apps.read"],
            "sub": "super.admin@example.com",
        },
        key,
        algorithm="RS256",
    )
    r = get(sim, "/api/v1/apps", bearer(forged))
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_missing_scope_is_403_insufficient_scope(sim):
    token = user_token(sim, "super.admin@example.com", "okta.appGrants.read")
    r = get(sim, "/api/v1/apps", bearer(token))
    assert r.status_code == 403
    header = r.headers["WWW-Authenticate"]
    assert header.startswith("Bearer ")
    assert 'error="insufficient_scope"' in header
    assert 'scope="okta.apps.read"' in header
    assert 'resource="/api/v1/apps"' in header
    assert f'realm="{sim.url}"' in header


def test_manage_implies_read(sim):
    token = user_token(sim, "super.admin@example.com", "okta.appGrants.manage")
    r = get(sim, f"/api/v1/apps/{CONSOLE_ID}/grants", bearer(token))
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("login", "apps", "grants", "roles", "logs"),
    [
        ("super.admin@example.com", 200, 200, 200, 200),
        ("org.admin@example.com", 200, 403, 200, 200),
        ("app.admin@example.com", 200, 403, 200, 403),
        ("readonly.admin@example.com", 200, 403, 200, 200),
        ("end.user@example.com", 403, 403, 403, 403),
    ],
)
def test_role_matrix(sim, login, apps, grants, roles, logs):
    token = user_token(sim, login, ALL)
    me = next(u["id"] for u in sim.state()["users"] if u["login"] == login)
    got = (
        get(sim, "/api/v1/apps", bearer(token)).status_code,
        get(sim, f"/api/v1/apps/{CONSOLE_ID}/grants", bearer(token)).status_code,
        get(sim, f"/api/v1/users/{me}/roles", bearer(token)).status_code,
        get(sim, "/api/v1/logs", bearer(token)).status_code,
    )
    assert got == (apps, grants, roles, logs)


def test_silent_downscoping_read_only_admin_holds_manage_scope_but_is_refused(sim):
    body = sim.token(login="readonly.admin@example.com", scopes=ALL)
    assert "okta.appGrants.manage" in body["scope"].split()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert "okta.appGrants.manage" in claims["scp"]
    r = requests.post(
        f"{sim.url}/api/v1/apps/{CONSOLE_ID}/grants",
        headers=bearer(body["access_token"]),
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
        timeout=5,
    )
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E0000006"
    assert "WWW-Authenticate" not in r.headers  # a role refusal, not a scope one


def test_demotion_applies_on_the_next_call(sim):
    token = user_token(sim, "super.admin@example.com", ALL)
    assert (
        get(sim, f"/api/v1/apps/{CONSOLE_ID}/grants", bearer(token)).status_code == 200
    )
    sim.set_roles("super.admin@example.com", [])
    assert (
        get(sim, f"/api/v1/apps/{CONSOLE_ID}/grants", bearer(token)).status_code == 403
    )
    ssws = {"Authorization": "SSWS 00demoSuperAdminSSWStoken0000000000000000"}
    assert get(sim, f"/api/v1/apps/{CONSOLE_ID}/grants", ssws).status_code == 403


def test_roles_lookup_by_id_and_unknown_user(sim):
    token = user_token(sim, "super.admin@example.com", ALL)
    me = next(u for u in sim.state()["users"] if u["login"] == "org.admin@example.com")
    r = get(sim, f"/api/v1/users/{me['id']}/roles", bearer(token))
    assert [x["type"] for x in r.json()] == ["ORG_ADMIN"]
    assert r.json()[0]["assignmentType"] == "USER"
    assert (
        r.json()[0]["_links"]["assignee"]["href"]
        == f"{sim.url}/api/v1/users/{me['id']}"
    )
    r = get(sim, "/api/v1/users/00u1nosuchuser0000000/roles", bearer(token))
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E0000007"


def test_role_change_writes_a_system_log_event(sim):
    sim.set_roles("super.admin@example.com", ["SUPER_ADMIN", "ORG_ADMIN"])
    token = user_token(sim, "super.admin@example.com", ALL)
    events = get(sim, "/api/v1/logs", bearer(token)).json()
    assert events[-1]["eventType"] == "user.account.privilege.grant"


def test_roles_by_url_encoded_login(sim):
    token = user_token(sim, "super.admin@example.com", ALL)
    r = get(sim, "/api/v1/users/org.admin%40example.com/roles", bearer(token))
    assert [x["type"] for x in r.json()] == ["ORG_ADMIN"]

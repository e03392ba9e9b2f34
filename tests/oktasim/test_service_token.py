"""Service-app tokens: client_credentials with private_key_jwt on the Org AS, and
every client-assertion check (signature vs the app's JWKS, iss = sub = client_id,
aud = token URL, exp at most 1 h ahead, jti not reused)."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import (
    CONSOLE_ID,
    CONSOLE_SECRET,
    WORKER_ID,
    bearer,
    worker_assertion,
    worker_token_request,
)

WORKER_SCOPES = "okta.apps.read okta.appGrants.read okta.logs.read"


def test_worker_gets_a_one_hour_token_with_its_granted_scopes(sim):
    r = worker_token_request(sim.url, WORKER_SCOPES)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == WORKER_SCOPES
    assert "refresh_token" not in body
    assert "id_token" not in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == claims["cid"] == WORKER_ID
    assert "uid" not in claims
    assert claims["aud"] == claims["iss"] == sim.url
    assert claims["scp"] == WORKER_SCOPES.split()


def test_worker_token_reads_apps_grants_and_logs_with_its_super_admin_role(sim):
    token = worker_token_request(sim.url, WORKER_SCOPES).json()["access_token"]
    for path in ("/api/v1/apps", f"/api/v1/apps/{CONSOLE_ID}/grants", "/api/v1/logs"):
        r = requests.get(sim.url + path, headers=bearer(token), timeout=5)
        assert r.status_code == 200, (path, r.text)
    assert sim.requests()[-1]["caller"] == WORKER_ID


def test_worker_cannot_write_grants_without_the_manage_scope(sim):
    token = worker_token_request(sim.url, WORKER_SCOPES).json()["access_token"]
    r = requests.post(
        f"{sim.url}/api/v1/apps/{CONSOLE_ID}/grants",
        headers=bearer(token),
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
        timeout=5,
    )
    assert r.status_code == 403
    assert 'scope="okta.appGrants.manage"' in r.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]


def test_ungranted_scopes_are_dropped(sim):
    r = worker_token_request(sim.url, "okta.apps.read okta.users.manage")
    assert r.json()["scope"] == "okta.apps.read"


def test_only_ungranted_scopes_is_invalid_scope(sim):
    r = worker_token_request(sim.url, "okta.users.manage")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("scope", ["openid okta.apps.read", "okta.users.read.self"])
def test_openid_and_self_scopes_are_refused(sim, scope):
    r = worker_token_request(sim.url, scope)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"


def test_worker_without_an_admin_role_gets_403(sim):
    token = worker_token_request(sim.url, WORKER_SCOPES).json()["access_token"]
    sim.set_client_roles(WORKER_ID, [])
    for path in ("/api/v1/apps", f"/api/v1/apps/{CONSOLE_ID}/grants"):
        r = requests.get(sim.url + path, headers=bearer(token), timeout=5)
        assert r.status_code == 403
        assert r.json()["errorCode"] == "E0000006"
    sim.set_client_roles(WORKER_ID, ["READ_ONLY_ADMIN"])
    assert requests.get(f"{sim.url}/api/v1/apps", headers=bearer(token), timeout=5).ok
    r = requests.get(
        f"{sim.url}/api/v1/apps/{CONSOLE_ID}/grants", headers=bearer(token), timeout=5
    )
    assert r.status_code == 403


def _other_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"_key": "other"}, "signature"),
        ({"sub": "0oa1someoneelse000000"}, "subject"),
        ({"iss": "0oa1nosuchclient00000", "sub": "0oa1nosuchclient00000"}, "issuer"),
        ({"aud": "https://example.okta.com/oauth2/v1/token"}, "audience"),
        ({"exp": int(time.time()) + 7200}, "too far"),
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"exp": None}, "exp"),
        ({"_headers": {"kid": "not-a-registered-kid"}}, "kid"),
    ],
)
def test_bad_client_assertions_are_invalid_client(sim, overrides, why):
    if overrides.get("_key") == "other":
        overrides["_key"] = _other_key()
    r = worker_token_request(
        sim.url, WORKER_SCOPES, worker_assertion(sim.url, **overrides)
    )
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    assert why in r.json()["error_description"]


def test_assertion_jti_cannot_be_reused(sim):
    assertion = worker_assertion(sim.url)
    assert worker_token_request(sim.url, WORKER_SCOPES, assertion).status_code == 200
    again = worker_token_request(sim.url, WORKER_SCOPES, assertion)
    assert again.status_code == 401
    assert "already been used" in again.json()["error_description"]


def test_assertion_with_the_registered_kid_works(sim):
    ssws = {"Authorization": "SSWS 00demoSuperAdminSSWStoken0000000000000000"}
    app = requests.get(
        f"{sim.url}/api/v1/apps/{WORKER_ID}", headers=ssws, timeout=5
    ).json()
    kid = app["settings"]["oauthClient"]["jwks"]["keys"][0]["kid"]
    r = worker_token_request(
        sim.url, WORKER_SCOPES, worker_assertion(sim.url, _headers={"kid": kid})
    )
    assert r.status_code == 200


def test_client_credentials_needs_a_service_app(sim):
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": "okta.apps.read"},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=5,
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_client"
    assert "service" in r.json()["error_description"]


def test_token_endpoint_wants_a_form_body(sim):
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        json={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_unknown_grant_type(sim):
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "password"},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=5,
    )
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def test_the_worker_key_cannot_sign_in_as_another_service_app(sim):
    other = next(a for a in sim.state()["apps"] if a["label"] == "Nightly User Sync")
    assertion = worker_assertion(
        sim.url, iss=other["client_id"], sub=other["client_id"]
    )
    r = worker_token_request(sim.url, "okta.users.manage", assertion)
    assert r.status_code == 401
    assert "signature" in r.json()["error_description"]

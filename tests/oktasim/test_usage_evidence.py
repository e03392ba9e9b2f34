"""The System Log evidence of usage the Org AS and the write endpoints leave:
token issuance per grant type, denied and downscoped token requests, and
``client.id`` / ``requestApiTokenId`` on writes. Over real HTTP; every event read
back is also validated against the spec's ``LogEvent`` (test_spec_conformance)."""

from __future__ import annotations

import requests

from grantsconsole.oktasim.shapes import iso

from .conftest import (
    CONSOLE_ID,
    CONSOLE_SECRET,
    SSWS_TOKEN,
    WORKER_ID,
    app_by_label,
    bearer,
    exchange_code,
    sign_in,
    user_token,
    worker_token_request,
)

TOKEN_EVENTS = 'eventType sw "app.oauth2.token.grant"'


def events(sim, ssws, filt: str) -> list[dict]:
    """This test's events (the last hour) matching ``filt``, oldest first."""
    since = sim.advance_clock(0)["now"] - 3600
    r = ssws.get(f"{sim.url}/api/v1/logs", params={"since": iso(since), "filter": filt})
    assert r.status_code == 200, r.text
    return r.json()


def test_client_credentials_logs_the_app_as_actor_and_client(sim, ssws):
    assert worker_token_request(sim.url, "okta.apps.read").status_code == 200
    (ev,) = events(sim, ssws, TOKEN_EVENTS)
    assert ev["eventType"] == "app.oauth2.token.grant.access_token"
    assert ev["outcome"] == {"result": "SUCCESS", "reason": None}
    assert ev["actor"]["type"] == "PublicClientApp"
    assert ev["actor"]["id"] == WORKER_ID
    assert ev["client"]["id"] == WORKER_ID
    debug = ev["debugContext"]["debugData"]
    assert debug["requestUri"] == "/oauth2/v1/token"
    assert debug["grantType"] == "client_credentials"
    assert debug["clientAuthType"] == "private_key_jwt"
    assert debug["grantedScopes"] == "okta.apps.read"


def test_authorization_code_and_refresh_log_the_user_with_the_client(sim, ssws):
    """The code exchange issues an access and a refresh token (two events); the
    refresh issues an access token only (the refresh token is not rotated)."""
    scope = "openid offline_access okta.apps.read okta.users.manage"
    _s, query = sign_in(sim.url, scope=scope)
    r = exchange_code(sim.url, query)
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": CONSOLE_ID,
            "client_secret": CONSOLE_SECRET,
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    got = events(sim, ssws, TOKEN_EVENTS)
    assert [
        (e["eventType"], e["debugContext"]["debugData"]["grantType"]) for e in got
    ] == [
        ("app.oauth2.token.grant.access_token", "authorization_code"),
        ("app.oauth2.token.grant.refresh_token", "authorization_code"),
        ("app.oauth2.token.grant.access_token", "refresh_token"),
    ]
    for e in got:
        assert e["actor"]["type"] == "User"
        assert e["actor"]["alternateId"] == "super.admin@example.com"
        assert e["client"]["id"] == CONSOLE_ID
        assert e["target"][0]["id"] == CONSOLE_ID
        granted = "openid, offline_access, okta.apps.read"
        assert e["debugContext"]["debugData"]["grantedScopes"] == granted
    # okta.users.manage is not in the console's grant collection: asked for at
    # /authorize, silently left out; the refresh asked for no scope, so for the
    # refresh token's.
    requested = [e["debugContext"]["debugData"]["requestedScopes"] for e in got]
    assert requested == [", ".join(scope.split())] * 2 + [granted]
    auth = [e["debugContext"]["debugData"]["clientAuthType"] for e in got]
    assert auth == ["client_secret_basic", "client_secret_basic", "client_secret_post"]


def test_request_for_only_ungranted_scopes_is_denied_and_logged(sim, ssws):
    """The worker holds okta.users.read, not .manage: Okta's invalid_scope, and
    one FAILURE event with outcome.reason no_matching_scope."""
    r = worker_token_request(sim.url, "okta.users.manage okta.policies.read")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"
    (ev,) = events(sim, ssws, TOKEN_EVENTS)
    assert ev["eventType"] == "app.oauth2.token.grant.access_token"
    assert ev["outcome"] == {"result": "FAILURE", "reason": "no_matching_scope"}
    assert ev["actor"]["type"] == "PublicClientApp"
    assert ev["client"]["id"] == WORKER_ID
    debug = ev["debugContext"]["debugData"]
    assert debug["requestedScopes"] == "okta.users.manage, okta.policies.read"
    assert "grantedScopes" not in debug
    failures = events(sim, ssws, 'outcome.reason eq "no_matching_scope"')
    assert [e["uuid"] for e in failures] == [ev["uuid"]]


def test_authorize_for_only_ungranted_scopes_is_denied_and_logged(sim, ssws):
    s = requests.Session()
    page = s.get(
        f"{sim.url}/oauth2/v1/authorize",
        params={
            "client_id": CONSOLE_ID,
            "response_type": "code",
            "scope": "okta.users.manage",
            "redirect_uri": "http://127.0.0.1:8000/accounts/oidc/okta/login/callback/",
            "state": "s1",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 302
    assert "error=invalid_scope" in page.headers["Location"]
    (ev,) = events(sim, ssws, TOKEN_EVENTS)
    assert ev["outcome"]["reason"] == "no_matching_scope"
    assert ev["client"]["id"] == CONSOLE_ID
    assert ev["debugContext"]["debugData"]["requestUri"] == "/oauth2/v1/authorize"


def test_partly_granted_request_is_downscoped_without_a_failure(sim, ssws):
    r = worker_token_request(sim.url, "okta.apps.read okta.users.manage")
    assert r.status_code == 200
    assert r.json()["scope"] == "okta.apps.read"
    (ev,) = events(sim, ssws, TOKEN_EVENTS)
    assert ev["outcome"]["result"] == "SUCCESS"
    assert ev["debugContext"]["debugData"]["grantedScopes"] == "okta.apps.read"
    assert events(sim, ssws, 'outcome.result eq "FAILURE"') == []


def test_writes_with_an_access_token_name_the_oauth_client(sim, ssws):
    """Grant, revoke and an API service delete made with the console's access
    token carry client.id = the console; no requestApiTokenId."""
    token = user_token(
        sim,
        "super.admin@example.com",
        "okta.appGrants.manage okta.oauthIntegrations.manage",
    )
    app_id = app_by_label(sim, "Expense Reports")["id"]
    r = requests.post(
        f"{sim.url}/api/v1/apps/{app_id}/grants",
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
        headers=bearer(token),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    r = requests.delete(
        f"{sim.url}/api/v1/apps/{app_id}/grants/{r.json()['id']}",
        headers=bearer(token),
        timeout=10,
    )
    assert r.status_code == 204
    svc = ssws.get(f"{sim.url}/integrations/api/v1/api-services").json()[0]
    r = requests.delete(
        f"{sim.url}/integrations/api/v1/api-services/{svc['id']}",
        headers=bearer(token),
        timeout=10,
    )
    assert r.status_code == 204
    got = events(
        sim,
        ssws,
        'eventType sw "app.oauth2.admin.consent" or '
        'eventType eq "integration.api_service.lifecycle.revoke"',
    )
    assert [e["eventType"] for e in got] == [
        "app.oauth2.admin.consent.grant",
        "app.oauth2.admin.consent.revoke",
        "integration.api_service.lifecycle.revoke",
    ]
    for e in got:
        assert e["client"]["id"] == CONSOLE_ID
        assert e["transaction"]["detail"] == {}
        assert e["actor"]["alternateId"] == "super.admin@example.com"
    assert [e["uuid"] for e in events(sim, ssws, f'client.id eq "{CONSOLE_ID}"')] == [
        e["uuid"] for e in got
    ]


def test_writes_with_ssws_name_the_api_token_not_a_client(sim, ssws):
    app_id = app_by_label(sim, "Expense Reports")["id"]
    r = ssws.post(
        f"{sim.url}/api/v1/apps/{app_id}/grants",
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
    )
    assert r.status_code == 200
    assert ssws.delete(r.json()["_links"]["self"]["href"]).status_code == 204
    got = events(sim, ssws, 'eventType sw "app.oauth2.admin.consent"')
    assert len(got) == 2
    token_id = got[0]["transaction"]["detail"].get("requestApiTokenId", "")
    assert token_id.startswith("00T")
    assert len(token_id) == 20
    assert SSWS_TOKEN not in str(got)  # the token's id, never the token
    for e in got:
        assert e["client"]["id"] is None
        assert e["transaction"]["detail"] == {"requestApiTokenId": token_id}
    assert events(sim, ssws, "client.id pr") == []

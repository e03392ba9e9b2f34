"""Every simulator response the console uses, validated with openapi-core against
Okta's own spec (the committed cut in spec/okta-management.cut.yaml).

Where the simulator follows recorded Okta behaviour instead of the spec, the test
asserts the deviation is there and then validates the spec-shaped equivalent, so
each exception is explicit (grantsconsole/oktasim/DEVIATIONS.md).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from openapi_core.testing import MockRequest, MockResponse

from grantsconsole.oktasim.shapes import iso

from .conftest import (
    CONSOLE_ID,
    CONSOLE_SECRET,
    SSWS_TOKEN,
    app_by_label,
    bearer,
    user_token,
    validate,
    worker_token_request,
)

KINDS = {
    "web": "Payroll Portal",
    "browser": "Travel Booking",
    "native": "Field Sales",
    "service": "Nightly User Sync",
    "saml": "Salesforce (SAML)",
    "bookmark": "Company Handbook",
}


def validate_as(spec, response, *, status: int | None = None, body=None) -> None:
    """Validate ``response`` as if Okta had sent ``status``/``body`` instead (a
    documented deviation), keeping everything else as received."""
    u = urlsplit(response.request.url)
    request = MockRequest(
        f"{u.scheme}://{u.netloc}",
        response.request.method.lower(),
        u.path,
        args=dict(p.split("=", 1) for p in u.query.split("&") if "=" in p),
        headers={"Authorization": response.request.headers.get("Authorization", "")},
    )
    data = json.dumps(body if body is not None else response.json()).encode()
    mock = MockResponse(
        data,
        status_code=status or response.status_code,
        headers=dict(response.headers),
        content_type=response.headers["Content-Type"],
    )
    spec.validate_response(request, mock)


def accessibility_as_spec(app: dict) -> dict:
    """Deviation: recorded Okta sends null error/login redirect URLs; the spec types
    them as non-nullable strings. Assert the null, return the spec-valid form."""
    acc = app["accessibility"]
    assert acc["errorRedirectUrl"] is None
    assert acc["loginRedirectUrl"] is None
    return {
        **app,
        "accessibility": {**acc, "errorRedirectUrl": "", "loginRedirectUrl": ""},
    }


def test_list_apps_page_matches_spec(sim, ssws, okta_spec):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 200})
    assert r.status_code == 200
    apps = r.json()
    assert {a["signOnMode"] for a in apps} == {"OPENID_CONNECT", "SAML_2_0", "BOOKMARK"}
    validate_as(okta_spec, r, body=[accessibility_as_spec(a) for a in apps])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_get_app_of_every_kind_matches_spec(sim, ssws, okta_spec, kind):
    app_id = app_by_label(sim, KINDS[kind])["id"]
    r = ssws.get(f"{sim.url}/api/v1/apps/{app_id}")
    assert r.status_code == 200
    body = r.json()
    if kind in ("web", "browser", "native", "service"):
        assert body["settings"]["oauthClient"]["application_type"] == kind
        assert body["credentials"]["oauthClient"]["client_id"] == app_id
    validate_as(okta_spec, r, body=accessibility_as_spec(body))


def test_service_app_registers_public_jwks(sim, ssws, okta_spec):
    r = ssws.get(f"{sim.url}/api/v1/apps/0oa1workerDEMO0000x7")
    keys = r.json()["settings"]["oauthClient"]["jwks"]["keys"]
    assert len(keys) == 1
    assert {"kty", "kid", "use", "e", "n", "status", "id"} <= set(keys[0])
    assert "d" not in keys[0]  # public only
    assert r.json()["credentials"]["oauthClient"]["token_endpoint_auth_method"] == (
        "private_key_jwt"
    )


@pytest.mark.parametrize("expand", [None, "scope"])
def test_list_grants_matches_spec(sim, ssws, okta_spec, expand):
    app_id = app_by_label(sim, "HR Onboarding")["id"]
    params = {"expand": expand} if expand else {}
    r = ssws.get(f"{sim.url}/api/v1/apps/{app_id}/grants", params=params)
    assert r.status_code == 200
    grants = r.json()
    assert len(grants) == 3
    assert all(("_embedded" in g) == (expand == "scope") for g in grants)
    validate(okta_spec, r)


def test_get_grant_matches_spec(sim, ssws, okta_spec):
    app = app_by_label(sim, "HR Onboarding")
    grant_id = app["grants"][0]["id"]
    r = ssws.get(f"{sim.url}/api/v1/apps/{app['id']}/grants/{grant_id}")
    assert r.status_code == 200
    assert set(r.json()["_links"]) == {"app", "self", "client"}
    validate(okta_spec, r)


def test_create_grant_answers_200_not_the_spec_201(sim, ssws, okta_spec):
    """Deviation: every recorded Okta response to a grant POST is 200 (spec: 201)."""
    app_id = app_by_label(sim, "Expense Reports")["id"]
    r = ssws.post(
        f"{sim.url}/api/v1/apps/{app_id}/grants",
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
    )
    assert r.status_code == 200
    with pytest.raises(Exception, match="Unknown response http status: 200"):
        validate(okta_spec, r)
    validate_as(okta_spec, r, status=201)
    body = r.json()
    assert body["_embedded"] == {"scope": {"id": "okta.users.read"}}
    assert body["createdBy"]["type"] == "User"
    assert body["issuer"] == sim.url
    assert body["clientId"] == app_id
    assert body["created"] == body["lastUpdated"]
    assert body["created"].endswith(".000Z")


def test_revoke_grant_is_204_without_body(sim, ssws, okta_spec):
    app = app_by_label(sim, "HR Onboarding")
    r = ssws.delete(
        f"{sim.url}/api/v1/apps/{app['id']}/grants/{app['grants'][0]['id']}"
    )
    assert r.status_code == 204
    assert r.content == b""
    assert "Content-Type" not in r.headers
    op = okta_spec.spec / "paths" / "/api/v1/apps/{appId}/grants/{grantId}" / "delete"
    assert (op / "responses" / "204" / "content").read_value() == {}


def test_user_roles_match_spec(sim, ssws, okta_spec):
    users = {u["login"]: u["id"] for u in sim.state()["users"]}
    for login in ("super.admin@example.com", "end.user@example.com"):
        r = ssws.get(f"{sim.url}/api/v1/users/{users[login]}/roles")
        assert r.status_code == 200
        validate(okta_spec, r)
    assert r.json() == []


def test_client_roles_match_spec(sim, ssws, okta_spec):
    r = ssws.get(f"{sim.url}/oauth2/v1/clients/0oa1workerDEMO0000x7/roles")
    assert r.status_code == 200
    assert [x["type"] for x in r.json()] == ["SUPER_ADMIN"]
    assert r.json()[0]["assignmentType"] == "CLIENT"
    validate(okta_spec, r)


def test_system_log_page_matches_spec(sim, ssws, okta_spec):
    app_id = app_by_label(sim, "Expense Reports")["id"]
    ssws.post(
        f"{sim.url}/api/v1/apps/{app_id}/grants",
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
    )
    since = sim.advance_clock(0)["now"] - 30 * 86400
    r = ssws.get(f"{sim.url}/api/v1/logs", params={"since": iso(since)})
    assert r.status_code == 200
    events = r.json()
    assert any(e["eventType"] == "app.oauth2.admin.consent.grant" for e in events)
    # Deviation: like real events (and the spec's own ListLogs example), absent
    # values are JSON null where the schema says non-nullable; validate without them.
    assert all(e["actor"]["detailEntry"] is None for e in events)
    validate_as(okta_spec, r, body=[drop_nulls(e) for e in events])


def drop_nulls(value):
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/apps/0oa1doesnotexist00000", 404),
        ("/api/v1/apps/0oa1doesnotexist00000/grants", 404),
        ("/api/v1/apps/0oa1consoleDEMO000x7/grants/oag1doesnotexist0000", 404),
    ],
)
def test_not_found_errors_match_spec(sim, ssws, okta_spec, path, status):
    r = ssws.get(sim.url + path)
    assert r.status_code == status
    assert r.json()["errorCode"] == "E0000007"
    assert r.json()["errorId"].startswith("oae")
    assert len(r.json()["errorId"]) == 25
    validate(okta_spec, r)


def test_permission_denied_matches_spec(sim, okta_spec):
    token = user_token(sim, "readonly.admin@example.com", "okta.appGrants.read")
    r = sim_get(sim, "/api/v1/apps/0oa1consoleDEMO000x7/grants", bearer(token))
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E0000006"
    validate(okta_spec, r)


def test_rate_limited_matches_spec(sim, ssws, okta_spec):
    sim.set_rate_limit("apps", 1)
    ssws.get(f"{sim.url}/api/v1/apps")
    r = ssws.get(f"{sim.url}/api/v1/apps")
    assert r.status_code == 429
    validate(okta_spec, r)


def test_bad_cursor_400_is_okta_error_though_unlisted_in_spec(sim, ssws, okta_spec):
    """Deviation: recorded Okta answers a forged cursor with 400 E0000029; the spec
    lists no 400 for listApplications, so the body is checked against Error."""
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"after": "not-a-cursor"})
    assert r.status_code == 400
    with pytest.raises(Exception, match="Unknown response http status: 400"):
        validate(okta_spec, r)
    from openapi_schema_validator import OAS30Validator

    components = (okta_spec.spec / "components").read_value()
    OAS30Validator(
        {"$ref": "#/components/schemas/Error", "components": components}
    ).validate(r.json())
    assert r.json()["errorCode"] == "E0000029"
    assert r.json()["errorCauses"] == [{"errorSummary": "Invalid cursor."}]


def sim_get(sim, path, headers):
    import requests

    return requests.get(sim.url + path, headers=headers, timeout=10)


def test_ssws_token_is_the_demo_super_admins(sim, ssws):
    assert SSWS_TOKEN.startswith("00")
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 1})
    assert sim.requests()[-1]["caller"] == "super.admin@example.com"
    assert r.status_code == 200


def test_get_user_by_id_and_login_matches_spec(sim, ssws, okta_spec):
    user = next(
        u for u in sim.state()["users"] if u["login"] == "readonly.admin@example.com"
    )
    for key in (user["id"], user["login"], user["login"].upper()):
        r = ssws.get(f"{sim.url}/api/v1/users/{key}")
        assert r.status_code == 200
        validate(okta_spec, r)
        body = r.json()
        assert body["id"] == user["id"]
        assert body["status"] == "ACTIVE"
        profile = body["profile"]
        assert (profile["login"], profile["email"]) == (user["login"], user["login"])
        assert f"{profile['firstName']} {profile['lastName']}" == user["display_name"]
        assert body["_links"]["self"]["href"] == f"{sim.url}/api/v1/users/{user['id']}"


def test_get_unknown_user_is_okta_404(sim, ssws, okta_spec):
    r = ssws.get(f"{sim.url}/api/v1/users/00u1doesnotexist0000")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E0000007"
    assert r.json()["errorSummary"] == (
        "Not found: Resource not found: 00u1doesnotexist0000 (User)"
    )
    validate(okta_spec, r)


def test_get_user_needs_okta_users_read(sim, okta_spec):
    """A service-app token without okta.users.read (or manage) is refused with
    Okta's insufficient-scope challenge; with it, the worker reads users."""
    user_id = next(u["id"] for u in sim.state()["users"])
    without = worker_token_request(sim.url, "okta.apps.read").json()["access_token"]
    r = sim_get(sim, f"/api/v1/users/{user_id}", bearer(without))
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert 'scope="okta.users.read"' in r.headers["WWW-Authenticate"]
    validate(okta_spec, r)
    with_read = worker_token_request(sim.url, "okta.users.read").json()
    assert with_read["scope"] == "okta.users.read"
    r = sim_get(sim, f"/api/v1/users/{user_id}", bearer(with_read["access_token"]))
    assert r.status_code == 200
    validate(okta_spec, r)


def test_get_user_needs_an_admin_role_except_for_me(sim, okta_spec):
    users = {u["login"]: u["id"] for u in sim.state()["users"]}
    sim.oob_grant("0oa1consoleDEMO000x7", "okta.users.read")
    token = sim.token(login="end.user@example.com", scopes="okta.users.read")
    headers = bearer(token["access_token"])
    r = sim_get(sim, f"/api/v1/users/{users['super.admin@example.com']}", headers)
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E0000006"
    validate(okta_spec, r)
    r = sim_get(sim, "/api/v1/users/me", headers)
    assert r.status_code == 200
    assert r.json()["id"] == users["end.user@example.com"]


# --- OIN API service integrations ------------------------------------------------

SERVICES = "/integrations/api/v1/api-services"


def test_api_services_list_get_and_secrets_match_spec(sim, ssws, okta_spec):
    r = ssws.get(sim.url + SERVICES)
    assert r.status_code == 200
    validate(okta_spec, r)
    listed = {s["name"]: s for s in r.json()}
    assert set(listed) == {"Acme Log Streaming", "Northwind Identity Governance"}
    acme = listed["Acme Log Streaming"]
    assert acme["grantedScopes"] == ["okta.logs.read", "okta.users.read"]
    assert acme["createdBy"].startswith("00u")
    one = ssws.get(f"{sim.url}{SERVICES}/{acme['id']}")
    assert one.status_code == 200
    validate(okta_spec, one)
    assert one.json() == acme
    secrets = ssws.get(f"{sim.url}{SERVICES}/{acme['id']}/credentials/secrets")
    assert secrets.status_code == 200
    validate(okta_spec, secrets)
    # A rotated pair: the old secret inactive, years older than the active one.
    assert [s["status"] for s in secrets.json()] == ["INACTIVE", "ACTIVE"]
    assert secrets.json()[0]["created"] < secrets.json()[1]["created"]
    assert all(s["client_secret"].startswith("***") for s in secrets.json())


def test_api_services_list_pages_by_after_cursor(sim, ssws, okta_spec):
    for i in range(25):
        sim.oob_api_service("create", name=f"Int {i}", type=f"int_{i}", scopes=[])
    r = ssws.get(sim.url + SERVICES)
    assert len(r.json()) == 20
    nxt = r.links["next"]["url"]
    assert nxt.startswith(f"{sim.url}{SERVICES}?after=")
    rest = ssws.get(nxt)
    validate(okta_spec, rest)
    assert "next" not in rest.links
    ids = [s["id"] for s in r.json() + rest.json()]
    assert len(ids) == len(set(ids)) == 27


def test_delete_api_service_is_204_and_logs_the_revoke(sim, ssws, okta_spec):
    sid = ssws.get(sim.url + SERVICES).json()[0]["id"]
    r = ssws.delete(f"{sim.url}{SERVICES}/{sid}")
    assert r.status_code == 204
    validate(okta_spec, r)
    gone = ssws.get(f"{sim.url}{SERVICES}/{sid}")
    assert gone.status_code == 404
    assert gone.json()["errorCode"] == "E0000007"
    validate(okta_spec, gone)
    assert ssws.delete(f"{sim.url}{SERVICES}/{sid}").status_code == 404
    since = sim.advance_clock(0)["now"] - 60
    events = ssws.get(f"{sim.url}/api/v1/logs", params={"since": iso(since)}).json()
    revoke = [
        e
        for e in events
        if e["eventType"] == "integration.api_service.lifecycle.revoke"
    ]
    assert [e["target"][0]["id"] for e in revoke] == [sid]
    assert revoke[0]["actor"]["alternateId"] == "super.admin@example.com"


def test_api_services_need_oauth_integrations_scopes(sim, okta_spec):
    """Reads need okta.oauthIntegrations.read; the delete needs .manage."""
    without = worker_token_request(sim.url, "okta.apps.read").json()["access_token"]
    r = sim_get(sim, SERVICES, bearer(without))
    assert r.status_code == 403
    assert 'scope="okta.oauthIntegrations.read"' in r.headers["WWW-Authenticate"]
    validate(okta_spec, r)
    read = worker_token_request(sim.url, "okta.oauthIntegrations.read").json()
    r = sim_get(sim, SERVICES, bearer(read["access_token"]))
    assert r.status_code == 200
    import requests

    d = requests.delete(
        f"{sim.url}{SERVICES}/{r.json()[0]['id']}",
        headers=bearer(read["access_token"]),
        timeout=10,
    )
    assert d.status_code == 403
    assert 'scope="okta.oauthIntegrations.manage"' in d.headers["WWW-Authenticate"]
    validate(okta_spec, d)


REFRESH_TOKEN_APP = "Legacy CRM"  # the demo web app seeded with refresh tokens


@pytest.mark.parametrize("expand", [None, "scope"])
def test_list_app_refresh_tokens_matches_spec(sim, ssws, okta_spec, expand):
    app_id = app_by_label(sim, REFRESH_TOKEN_APP)["id"]
    params = {"expand": expand} if expand else {}
    r = ssws.get(f"{sim.url}/api/v1/apps/{app_id}/tokens", params=params)
    assert r.status_code == 200
    tokens = r.json()
    assert len(tokens) == 3
    assert all(t["id"].startswith("oar") and t["clientId"] == app_id for t in tokens)
    assert all("offline_access" in t["scopes"] for t in tokens)
    assert all(("_embedded" in t) == (expand == "scope") for t in tokens)
    validate(okta_spec, r)


def test_revoke_app_refresh_tokens_is_204_without_body(sim, ssws, okta_spec):
    app_id = app_by_label(sim, REFRESH_TOKEN_APP)["id"]
    r = ssws.delete(f"{sim.url}/api/v1/apps/{app_id}/tokens")
    assert r.status_code == 204
    assert r.content == b""
    op = okta_spec.spec / "paths" / "/api/v1/apps/{appId}/tokens" / "delete"
    assert (op / "responses" / "204" / "content").read_value() == {}
    assert ssws.get(f"{sim.url}/api/v1/apps/{app_id}/tokens").json() == []


def test_app_tokens_of_unknown_app_is_spec_404(sim, ssws, okta_spec):
    r = ssws.get(f"{sim.url}/api/v1/apps/0oa1doesnotexist00000/tokens")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E0000007"
    validate(okta_spec, r)


def test_token_grant_event_matches_spec(sim, ssws, okta_spec):
    """Issuing a token writes app.oauth2.token.grant.access_token with the
    grantedScopes seen in real events (DEVIATIONS.md: observed, undocumented)."""
    r = worker_token_request(sim.url, "okta.apps.read okta.users.manage")
    assert r.status_code == 200
    since = sim.advance_clock(0)["now"] - 60
    r = ssws.get(
        f"{sim.url}/api/v1/logs",
        params={
            "since": iso(since),
            "filter": 'eventType eq "app.oauth2.token.grant.access_token"',
        },
    )
    (event,) = r.json()
    debug = event["debugContext"]["debugData"]
    assert debug["grantedScopes"] == "okta.apps.read"  # not granted: dropped
    assert debug["requestedScopes"] == "okta.apps.read, okta.users.manage"
    assert debug["grantType"] == "client_credentials"
    assert debug["clientAuthType"] == "private_key_jwt"
    assert event["actor"]["type"] == "PublicClientApp"
    assert event["target"][0]["id"] == "0oa1workerDEMO0000x7"
    validate_as(okta_spec, r, body=[drop_nulls(e) for e in r.json()])


def test_usage_evidence_events_match_spec(sim, ssws, okta_spec):
    """Every event shape the usage evidence adds, validated as a LogEvent page:
    token issuance of each grant type (access and refresh token), a denied
    request, writes with an OAuth token and with SSWS, and each family of the
    activity generator's writes (nulls dropped: deviation 3)."""
    import requests

    from grantsconsole.oktasim.activity import WRITES

    from .conftest import exchange_code, sign_in

    assert worker_token_request(sim.url, "okta.apps.read").status_code == 200
    assert worker_token_request(sim.url, "okta.users.manage").status_code == 400
    _s, query = sign_in(sim.url, scope="openid offline_access okta.apps.read")
    refresh = exchange_code(sim.url, query).json()["refresh_token"]
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=10,
    )
    assert r.status_code == 200
    app_id = app_by_label(sim, "Expense Reports")["id"]
    token = user_token(sim, "super.admin@example.com", "okta.appGrants.manage")
    for headers in (bearer(token), {"Authorization": f"SSWS {SSWS_TOKEN}"}):
        r = requests.post(
            f"{sim.url}/api/v1/apps/{app_id}/grants",
            json={"issuer": sim.url, "scopeId": "okta.users.read"},
            headers=headers,
            timeout=10,
        )
        assert r.status_code == 200
        requests.delete(r.json()["_links"]["self"]["href"], headers=headers, timeout=10)
    sim.activity(events_per_app_per_day=4, simulate_days=2, seed=1)
    now = sim.advance_clock(0)["now"]
    r = ssws.get(
        f"{sim.url}/api/v1/logs",
        params={"since": iso(now - 3 * 86400), "limit": 1000},
    )
    assert r.status_code == 200
    events = r.json()
    kinds = {(e["eventType"], e["outcome"]["result"]) for e in events}
    assert {
        ("app.oauth2.token.grant.access_token", "SUCCESS"),
        ("app.oauth2.token.grant.access_token", "FAILURE"),
        ("app.oauth2.token.grant.refresh_token", "SUCCESS"),
    } <= kinds
    assert {w[0] for pair in WRITES.values() for w in pair} <= {k[0] for k in kinds}
    assert any(e["transaction"]["detail"] for e in events)  # requestApiTokenId
    validate_as(okta_spec, r, body=[drop_nulls(e) for e in events])


# --- compensating controls: client credentials and the org setting ---------------


def test_client_secrets_match_spec(sim, ssws, okta_spec):
    """listOAuth2ClientSecrets: the demo's "Legacy CRM" has one three-year-old
    secret, "HR Onboarding" two (400 and 7 days: a rotation under way)."""
    now = sim.advance_clock(0)["now"]
    ages = {}
    for label in ("Legacy CRM", "HR Onboarding"):
        app_id = app_by_label(sim, label)["id"]
        r = ssws.get(f"{sim.url}/api/v1/apps/{app_id}/credentials/secrets")
        assert r.status_code == 200
        validate(okta_spec, r)
        body = r.json()
        assert all(s["id"].startswith("ocs") and s["status"] == "ACTIVE" for s in body)
        assert all(s["client_secret"] for s in body)
        ages[label] = [round((now - _epoch(s["created"])) / 86400) for s in r.json()]
    assert ages == {"Legacy CRM": [1095], "HR Onboarding": [400, 7]}


def test_client_jwks_match_spec(sim, ssws, okta_spec):
    """listJwk: the service app's registered public keys, with their creation
    time, as the spec's array (its example wraps them in ``jwks``: DEVIATIONS.md)."""
    now = sim.advance_clock(0)["now"]
    app_id = app_by_label(sim, "Provisioning Bot")["id"]
    r = ssws.get(f"{sim.url}/api/v1/apps/{app_id}/credentials/jwks")
    assert r.status_code == 200
    validate(okta_spec, r)
    (key,) = r.json()
    assert key["id"].startswith("pks")
    assert key["kty"] == "RSA"
    assert "d" not in key  # public only
    assert round((now - _epoch(key["created"])) / 86400) == 30
    assert set(key["_links"]) == {"deactivate"}


def test_network_restriction_and_auth_method_on_the_app(sim, ssws, okta_spec):
    app_id = app_by_label(sim, "Provisioning Bot")["id"]
    r = ssws.get(f"{sim.url}/api/v1/apps/{app_id}")
    body = r.json()
    assert body["settings"]["oauthClient"]["network"] == {
        "connection": "ZONE",
        "include": ["nzo1corpnetDEMO000x7"],
    }
    assert body["credentials"]["oauthClient"]["token_endpoint_auth_method"] == (
        "private_key_jwt"
    )
    validate_as(okta_spec, r, body=accessibility_as_spec(body))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/apps/0oa1doesnotexist00000/credentials/secrets",
        "/api/v1/apps/0oa1doesnotexist00000/credentials/jwks",
    ],
)
def test_credentials_of_unknown_app_are_okta_404(sim, ssws, okta_spec, path):
    r = ssws.get(sim.url + path)
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E0000007"
    validate(okta_spec, r)


def test_client_privileges_setting_matches_spec(sim, ssws, okta_spec):
    r = ssws.get(f"{sim.url}/api/v1/org/settings/clientPrivilegesSetting")
    assert r.status_code == 200
    assert r.json() == {"clientPrivilegesSetting": True}  # the demo org: on
    validate(okta_spec, r)


def test_client_privileges_setting_needs_okta_orgs_read(sim, okta_spec):
    without = worker_token_request(sim.url, "okta.apps.read").json()["access_token"]
    r = sim_get(sim, "/api/v1/org/settings/clientPrivilegesSetting", bearer(without))
    assert r.status_code == 403
    assert 'scope="okta.orgs.read"' in r.headers["WWW-Authenticate"]
    validate(okta_spec, r)


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()

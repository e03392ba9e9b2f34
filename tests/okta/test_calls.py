"""Every read call over real HTTP against the simulator, and the exact request count."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from grantsconsole.okta import (
    OktaClient,
    OktaForeignLink,
    OktaInsufficientScope,
    OktaMalformedResponse,
    OktaNotFound,
    OktaPermissionDenied,
    OktaTokenRefused,
    ServiceAppTokenSource,
    User,
)

from .conftest import WORKER_ID, WORKER_PEM


def api_requests(sim, caller=None):
    """The simulator's request log, /api/v1 only (optionally of one caller)."""
    return [
        r
        for r in sim.requests()
        if r["path"].startswith("/api/v1")
        and (caller is None or r.get("caller") == caller)
    ]


def token_requests(sim):
    return [r for r in sim.requests() if r["path"] == "/oauth2/v1/token"]


def test_full_listing_makes_exactly_the_necessary_requests(sim, worker_client):
    """Every app listed (pages of 200), grants read for the OIDC ones only:
    ceil(all apps / 200) + N OIDC apps requests, one token request."""
    sim.reset(apps=450)
    apps = list(worker_client.iter_oidc_apps())
    grants = {app.id: worker_client.list_grants(app.id) for app in apps}
    n = len(apps)
    state = sim.state()
    every = len(state["apps"])
    assert n > 400
    assert every > n  # the org has non-OIDC apps the listing pages past
    assert len({app.id for app in apps}) == n  # no duplicates across pages
    assert all(app.sign_on_mode == "OPENID_CONNECT" for app in apps)
    log = api_requests(sim)
    pages = [r for r in log if r["path"] == "/api/v1/apps"]
    grant_reads = [r for r in log if r["path"].endswith("/grants")]
    assert len(pages) == math.ceil(every / 200)
    assert len(grant_reads) == n
    assert len(log) == math.ceil(every / 200) + n == worker_client.request_count
    assert len(token_requests(sim)) == 1
    stats = worker_client.stats()
    assert (stats["requests"], stats["token_requests"]) == (len(log), 1)
    assert (stats["retries"], stats["rate_limited"]) == (0, 0)
    assert all(r["status"] == 200 for r in log)
    # The listing matches the org: every OIDC app and every grant.
    oidc = {a["id"] for a in state["apps"] if a["sign_on_mode"] == "OPENID_CONNECT"}
    assert {app.id for app in apps} == oidc
    expected = {
        a["id"]: sorted(g["scopeId"] for g in a.get("grants", []))
        for a in state["apps"]
        if a["id"] in oidc
    }
    assert {k: sorted(g.scope_id for g in v) for k, v in grants.items()} == expected


def test_every_oidc_app_is_listed_whatever_its_name(sim, ssws_client):
    """No ``filter``: OIN integrations and Okta's own OAuth apps have names of
    their own, and Okta cannot filter on ``signOnMode``."""
    apps = list(ssws_client.iter_oidc_apps())
    pages = [r for r in api_requests(sim) if r["path"] == "/api/v1/apps"]
    first = pages[0]["query"]
    assert "filter" not in first
    assert "limit=200" in first
    assert all("after=" in p["query"] for p in pages[1:])
    assert len(apps) == len({a.id for a in apps})
    names = {a.name for a in apps}
    assert "oidc_client" in names
    assert len(names - {"oidc_client"}) >= 2  # OIN and Okta's own OAuth apps
    bare = [a for a in apps if a.client_id == ""]
    assert bare, "the demo org has an OIDC app without credentials.oauthClient"
    assert all(a.application_type == "" for a in bare)


def test_list_app_page_cursor_round_trip(sim, ssws_client):
    """Chunked sync: one page at a time, the opaque cursor handed back."""
    sim.reset(apps=450)
    every = [a["id"] for a in sim.state()["apps"]]  # Okta's order: by id
    seen, other = [], []
    cursor = None
    pages = 0
    while True:
        apps, skipped, cursor = ssws_client.list_app_page(cursor)
        pages += 1
        assert all(s.sign_on_mode for s in skipped)  # SAML or bookmark apps
        seen.extend(a.id for a in apps)
        other.extend(s.app_id for s in skipped)
        if cursor is None:
            break
        assert cursor.startswith(sim.url + "/api/v1/apps?")
    assert pages == math.ceil(len(every) / 200)
    assert len(seen) == len(set(seen))
    assert sorted(seen + other) == every
    # A raw `after` value works too (the same page as the link would give).
    _, _, nxt = ssws_client.list_app_page(limit=5)
    again, skipped, _ = ssws_client.list_app_page(after=every[4], limit=5)
    assert nxt is not None
    assert sorted([a.id for a in again] + [s.app_id for s in skipped]) == every[5:10]


def test_stored_cursor_to_another_host_is_refused(sim, ssws_client):
    before = ssws_client.request_count
    with pytest.raises(OktaForeignLink):
        ssws_client.list_app_page("https://evil.example.net/api/v1/apps?after=x")
    assert ssws_client.request_count == before  # nothing was sent


def test_get_app_and_its_fields(sim, ssws_client):
    first = next(ssws_client.iter_oidc_apps())
    app = ssws_client.get_app(first.id)
    assert app == first
    assert app.client_id
    assert app.created is not None
    assert app.created.tzinfo is not None
    with pytest.raises(OktaNotFound) as err:
        ssws_client.get_app("0oa1doesNotExist000x7")
    assert err.value.status == 404
    assert err.value.error_code == "E0000007"
    assert err.value.request_id


def test_list_grants_of_the_console_app(sim, ssws_client):
    grants = ssws_client.list_grants("0oa1consoleDEMO000x7")
    scopes = {g.scope_id for g in grants}
    assert {"okta.apps.read", "okta.appGrants.manage", "okta.logs.read"} <= scopes
    for grant in grants:
        assert grant.id.startswith("oag")
        assert grant.issuer == sim.url
        assert grant.client_id == "0oa1consoleDEMO000x7"
        assert grant.created is not None


def test_roles_and_super_admin(sim, ssws_client):
    roles = ssws_client.list_user_roles("super.admin@example.com")
    assert any(r.type == "SUPER_ADMIN" for r in roles)
    assert ssws_client.is_super_admin("super.admin@example.com")
    assert not ssws_client.is_super_admin("org.admin@example.com")
    assert not ssws_client.is_super_admin("end.user@example.com")
    sim.set_roles("super.admin@example.com", ["READ_ONLY_ADMIN"])
    assert not ssws_client.is_super_admin("super.admin@example.com")


def test_get_user_names_a_user_id(sim, ssws_client):
    user = next(
        u for u in sim.state()["users"] if u["login"] == "org.admin@example.com"
    )
    got = ssws_client.get_user(user["id"])
    assert got == User(
        id=user["id"],
        login="org.admin@example.com",
        display_name=user["display_name"],
        email="org.admin@example.com",
        status="ACTIVE",
    )
    assert ssws_client.get_user("org.admin@example.com") == got
    with pytest.raises(OktaNotFound):
        ssws_client.get_user("00u1nosuchuser000000")


def test_get_user_of_a_worker_without_okta_users_read(sim, clock):
    """The worker requests okta.users.read; when its app does not hold it,
    Okta leaves it out of the token and getUser is an insufficient scope."""
    sim.oob_revoke(WORKER_ID, "okta.users.read")
    source = ServiceAppTokenSource(
        sim.url,
        WORKER_ID,
        WORKER_PEM,
        scopes=("okta.apps.read", "okta.users.read"),
        clock=clock,
    )
    client = OktaClient(sim.url, source, clock=clock)
    with pytest.raises(OktaInsufficientScope) as err:
        client.get_user(sim.state()["users"][0]["id"])
    assert err.value.scope == "okta.users.read"


def test_get_user_refuses_a_body_that_is_not_a_user(sim, ssws_client):
    sim.fault("/api/v1/users/", kind="wrong_shape", body={"id": "00u1x"})
    with pytest.raises(OktaMalformedResponse, match="missing 'login'"):
        ssws_client.get_user("00u1nosuchuser000000")


def test_client_roles_of_the_worker_app(sim, ssws_client):
    assert [r.type for r in ssws_client.list_client_roles(WORKER_ID)] == ["SUPER_ADMIN"]
    sim.set_client_roles(WORKER_ID, [])
    assert ssws_client.list_client_roles(WORKER_ID) == []
    with pytest.raises(OktaNotFound):
        ssws_client.list_client_roles("0oa1nosuchclient0000")


def test_client_roles_refusal_is_a_management_api_error_not_a_token_refusal(
    sim, ssws_client
):
    """/oauth2/v1/clients/... is the management API: its 403 means the caller
    lacks an admin role, unlike a refusal by the token endpoint."""
    sim.fault("/oauth2/v1/clients/", method="GET", status=403)
    with pytest.raises(OktaPermissionDenied) as err:
        ssws_client.list_client_roles(WORKER_ID)
    assert not isinstance(err.value, OktaTokenRefused)
    assert err.value.error_code == "E0000006"


def test_system_log_polling_resumes_from_the_next_link(sim, worker_client):
    since = datetime.now(UTC) - timedelta(minutes=5)
    page = worker_client.poll_logs(None, since=since)
    assert page.next_url
    assert page.next_url.startswith(sim.url + "/api/v1/logs")
    sim.oob_grant("0oa1workerDEMO0000x7", "okta.groups.read", "super.admin@example.com")
    page2 = worker_client.poll_logs(page.next_url)
    grants = [
        e for e in page2.events if e.event_type == "app.oauth2.admin.consent.grant"
    ]
    assert len(grants) == 1
    event = grants[0]
    assert event.published.tzinfo is not None
    assert event.actor_alternate_id == "super.admin@example.com"
    assert {t.id for t in event.targets} >= {WORKER_ID} or any(
        t.alternate_id == "okta.groups.read" or t.id == "okta.groups.read"
        for t in event.targets
    )
    page3 = worker_client.poll_logs(page2.next_url)
    assert page3.events == ()  # nothing new, nothing repeated
    assert page3.next_url
    filtered = worker_client.poll_logs(
        None, since=since, filter='eventType eq "app.oauth2.admin.consent.grant"'
    )
    assert {e.event_type for e in filtered.events} == {"app.oauth2.admin.consent.grant"}
    with pytest.raises(OktaForeignLink):
        worker_client.poll_logs("https://evil.example.net/api/v1/logs?after=1")


def test_listing_survives_the_cursor_app_being_deleted(sim, ssws_client):
    """An app deleted out of band between two pages: nothing repeated, the
    rest of the org still listed."""
    sim.reset(apps=450)
    first, _, cursor = ssws_client.list_app_page()
    sim.fault("/api/v1/apps$", kind="delete_app", app_id=first[-1].id)
    rest = []
    while cursor:
        page, _, cursor = ssws_client.list_app_page(cursor)
        rest.extend(page)
    ids = [a.id for a in first + rest]
    assert len(ids) == len(set(ids))
    remaining = {
        a["id"] for a in sim.state()["apps"] if a["sign_on_mode"] == "OPENID_CONNECT"
    }
    assert remaining == set(ids) - {first[-1].id}


def test_connections_are_reused(sim, ssws_client, debug_logs):
    """Bodies are read in full and the connection goes back to the pool (a new
    TLS handshake per call would cost more than the call against real Okta)."""
    for _ in range(10):
        ssws_client.list_grants("0oa1consoleDEMO000x7")
    assert debug_logs.text.count("Starting new HTTP connection") == 1

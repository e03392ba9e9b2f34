"""The System Log: grant/revoke/app lifecycle events with actor and targets, polling
(always a next link), bounded queries, filter, q and parameter errors."""

from __future__ import annotations

from grantsconsole.oktasim.shapes import iso

from .conftest import app_by_label


def logs(sim, ssws, **params):
    r = ssws.get(f"{sim.url}/api/v1/logs", params=params)
    assert r.status_code == 200, r.text
    return r


def next_link(resp):
    for part in resp.headers["Link"].split(", <"):
        if 'rel="next"' in part:
            return part.lstrip("<").split(">")[0]
    return None


def now(sim):
    return sim.advance_clock(0)["now"]


def test_api_grant_and_revoke_write_consent_events(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    post = ssws.post(
        f"{sim.url}/api/v1/apps/{app['id']}/grants",
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
    )
    ssws.delete(f"{sim.url}/api/v1/apps/{app['id']}/grants/{post.json()['id']}")
    events = logs(sim, ssws).json()
    grant, revoke = events[-2:]
    users = {u["login"]: u["id"] for u in sim.state()["users"]}
    assert grant["eventType"] == "app.oauth2.admin.consent.grant"
    assert revoke["eventType"] == "app.oauth2.admin.consent.revoke"
    for ev in (grant, revoke):
        assert ev["actor"]["id"] == users["super.admin@example.com"]
        assert ev["actor"]["type"] == "User"
        assert ev["actor"]["alternateId"] == "super.admin@example.com"
        assert [(t["id"], t["type"]) for t in ev["target"]] == [
            (app["id"], "PublicClientApp"),
            ("okta.users.read", "Scope"),
        ]
        assert ev["target"][0]["displayName"] == "Expense Reports"
        assert ev["outcome"]["result"] == "SUCCESS"
    assert (
        grant["debugContext"]["debugData"]["requestId"]
        == post.headers["X-Okta-Request-Id"]
    )
    assert grant["transaction"]["id"] == post.headers["X-Okta-Request-Id"]
    assert grant["published"] <= revoke["published"]


def test_out_of_band_changes_name_their_actor(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    sim.oob_grant(app["id"], "okta.groups.read", actor_login="org.admin@example.com")
    sim.oob_revoke(
        app["id"], "okta.groups.read", actor_login="readonly.admin@example.com"
    )
    a, b = logs(sim, ssws).json()[-2:]
    assert (a["eventType"], a["actor"]["alternateId"]) == (
        "app.oauth2.admin.consent.grant",
        "org.admin@example.com",
    )
    assert (b["eventType"], b["actor"]["alternateId"]) == (
        "app.oauth2.admin.consent.revoke",
        "readonly.admin@example.com",
    )


def test_app_lifecycle_events(sim, ssws):
    created = sim.oob_app(
        "create", label="Brand New", kind="service", grants=["okta.users.read"]
    )
    sim.oob_app("deactivate", app_id=created["id"])
    sim.oob_app("activate", app_id=created["id"])
    sim.oob_app("delete", app_id=created["id"])
    events = logs(sim, ssws).json()
    assert [e["eventType"] for e in events[-5:]] == [
        "application.lifecycle.create",
        "app.oauth2.admin.consent.grant",
        "application.lifecycle.deactivate",
        "application.lifecycle.activate",
        "application.lifecycle.delete",
    ]
    assert events[-1]["target"][0]["id"] == created["id"]
    assert events[-1]["target"][0]["type"] == "AppInstance"


def test_polling_always_links_next_and_resumes_from_the_cursor(sim, ssws):
    first = logs(sim, ssws)
    assert first.json() == []  # seed history is older than the 7-day default window
    cursor = next_link(first)
    assert cursor.startswith(f"{sim.url}/api/v1/logs?")
    empty = ssws.get(cursor)
    assert empty.json() == []
    assert next_link(empty) is not None
    app = app_by_label(sim, "Expense Reports")
    sim.oob_grant(app["id"], "okta.groups.read")
    page = ssws.get(next_link(empty))
    assert [e["eventType"] for e in page.json()] == ["app.oauth2.admin.consent.grant"]
    after = ssws.get(next_link(page))
    assert after.json() == []
    assert next_link(after) is not None


def test_polling_pages_by_limit(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    for scope in ("okta.groups.read", "okta.users.read", "okta.logs.read"):
        sim.oob_grant(app["id"], scope)
    page1 = logs(sim, ssws, limit=2)
    page2 = ssws.get(next_link(page1))
    page3 = ssws.get(next_link(page2))
    got = [e["target"][1]["id"] for p in (page1, page2) for e in p.json()]
    assert got == ["okta.groups.read", "okta.users.read", "okta.logs.read"]
    assert page3.json() == []


def test_polling_since_returns_seed_history_in_persistence_order(sim, ssws):
    r = logs(sim, ssws, since=iso(now(sim) - 89 * 86400), limit=1000)
    assert r.json()
    # The seed's history: grants, and the API service integration authorized
    # 20 days ago.
    types = [e["eventType"] for e in r.json()]
    assert set(types) == {
        "app.oauth2.admin.consent.grant",
        "integration.api_service.lifecycle.authorize",
    }
    assert types.count("integration.api_service.lifecycle.authorize") == 1
    assert next_link(r) is not None


def test_bounded_query_is_finite_and_ordered_by_published(sim, ssws):
    t = now(sim)
    params = {"since": iso(t - 89 * 86400), "until": iso(t + 1), "limit": 5}
    pages, url = [], None
    r = logs(sim, ssws, **params)
    while True:
        pages.append(r.json())
        url = next_link(r)
        if url is None:
            break
        r = ssws.get(url)
    events = [e for p in pages for e in p]
    assert events
    assert [e["published"] for e in events] == sorted(e["published"] for e in events)
    assert len({e["uuid"] for e in events}) == len(events)


def test_descending_order(sim, ssws):
    t = now(sim)
    r = logs(sim, ssws, since=iso(t - 89 * 86400), sortOrder="DESCENDING", limit=1000)
    published = [e["published"] for e in r.json()]
    assert published == sorted(published, reverse=True)


def test_events_older_than_90_days_are_not_returned(sim, ssws):
    t = now(sim)
    r = logs(sim, ssws, since=iso(t - 179 * 86400), until=iso(t), limit=1000)
    assert all(e["published"] >= iso(t - 90 * 86400 - 1) for e in r.json())


def test_filters(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    other = app_by_label(sim, "Payroll Portal")
    sim.oob_grant(app["id"], "okta.groups.read", actor_login="org.admin@example.com")
    sim.oob_revoke(other["id"], "okta.users.read")
    sim.oob_app("deactivate", app_id=other["id"])

    def types(flt):
        return [e["eventType"] for e in logs(sim, ssws, filter=flt).json()]

    assert types('eventType eq "app.oauth2.admin.consent.revoke"') == [
        "app.oauth2.admin.consent.revoke"
    ]
    assert types(f'target.id eq "{other["id"]}"') == [
        "app.oauth2.admin.consent.revoke",
        "application.lifecycle.deactivate",
    ]
    assert types(
        'eventType eq "app.oauth2.admin.consent.grant" or '
        'eventType eq "app.oauth2.admin.consent.revoke"'
    ) == ["app.oauth2.admin.consent.grant", "app.oauth2.admin.consent.revoke"]
    assert types('actor.alternateId eq "org.admin@example.com"') == [
        "app.oauth2.admin.consent.grant"
    ]
    assert types('eventType sw "application." and not (target.id eq "x")') == [
        "application.lifecycle.deactivate"
    ]


def test_q_keywords(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    sim.oob_grant(app["id"], "okta.groups.read")
    assert len(logs(sim, ssws, q="expense GROUPS").json()) == 1
    assert logs(sim, ssws, q="payroll").json() == []


def test_parameter_errors(sim, ssws):
    t = now(sim)
    cases = [
        ({"since": iso(t - 181 * 86400)}, "E0000053"),
        ({"since": "yesterday"}, "E0000053"),
        ({"limit": "5000"}, "E0000053"),
        ({"sortOrder": "SIDEWAYS"}, "E0000053"),
        ({"filter": 'published gt "2026-01-01"'}, "E0000031"),
        ({"filter": "eventType eq"}, "E0000031"),
        ({"filter": 'nosuch.attr eq "x"'}, "E0000031"),
        ({"after": "not-a-cursor"}, "E0000029"),
    ]
    for params, code in cases:
        r = ssws.get(f"{sim.url}/api/v1/logs", params=params)
        assert r.status_code == 400, params
        assert r.json()["errorCode"] == code, params


def test_limit_zero_polls_an_empty_page_that_keeps_its_place(sim, ssws):
    """limit=0 is in the spec's 0-1000: an empty page whose next link resumes
    where the poll stood (it used to answer 500)."""
    app = app_by_label(sim, "Expense Reports")
    r = logs(sim, ssws, limit=0)
    assert r.json() == []
    ssws.post(
        f"{sim.url}/api/v1/apps/{app['id']}/grants",
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
    )
    r = ssws.get(next_link(r).replace("limit=0", "limit=10"))
    assert r.status_code == 200
    assert [e["eventType"] for e in r.json()] == ["app.oauth2.admin.consent.grant"]

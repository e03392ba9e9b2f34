"""The activity generator (oktasim/activity.py) and the demo's activity profile:
deterministic back-dated history, the evidence of each usage verdict, live
generation as the clock moves, bad input, and the System Log's speed with the
volume it makes. Over real HTTP against the session's simulator."""

from __future__ import annotations

import pytest

from grantsconsole.oktasim.activity import WRITES
from grantsconsole.oktasim.seed import DEMO_ACTIVITY
from grantsconsole.oktasim.shapes import iso
from grantsconsole.oktasim.testing import SimControlError

from .conftest import app_by_label

DAY = 86400
TOKEN = 'eventType eq "app.oauth2.token.grant.access_token"'
# Write event type -> the scope whose holders make it.
WRITE_SCOPE = {w[0]: scope for scope, pair in WRITES.items() for w in pair}


def all_events(sim, ssws, since: float, until: float, filt: str = "") -> list[dict]:
    """Every event in [since, until) matching ``filt``, following next links."""
    params = {"since": iso(since), "until": iso(until), "limit": 1000}
    if filt:
        params["filter"] = filt
    r = ssws.get(f"{sim.url}/api/v1/logs", params=params)
    out = []
    while True:
        assert r.status_code == 200, r.text
        out += r.json()
        nxt = r.links.get("next")
        if not nxt:
            return out
        r = ssws.get(nxt["url"])


def cid(sim, label: str) -> str:
    return app_by_label(sim, label)["id"]


@pytest.fixture
def history(sim, ssws):
    """120 days of the demo's activity, 2 token requests per app and day; the
    events of the 90 days the System Log keeps, and the org's apps by label."""
    sim.activity(events_per_app_per_day=2, simulate_days=120, seed=3)
    now = sim.advance_clock(0)["now"]
    events = all_events(sim, ssws, now - 90 * DAY + 60, now + 1, "client.id pr")
    apps = {a["label"]: a for a in sim.state()["apps"]}
    return events, apps


def of(events: list[dict], client_id: str) -> list[dict]:
    return [e for e in events if e["client"]["id"] == client_id]


def scopes(e: dict, key: str) -> set[str]:
    return set(filter(None, e["debugContext"]["debugData"].get(key, "").split(", ")))


def test_history_shows_used_unused_reducible_and_missing_grants(sim, history):
    events, apps = history
    assert len(events) > 3000

    # Used: issued and exercised by writes the app's grant allows.
    sync = of(events, apps["Nightly User Sync"]["id"])
    issued = [e for e in sync if e["eventType"].startswith("app.oauth2.token")]
    assert len(issued) >= 178  # 2 a day over the 90 days kept
    assert all(
        scopes(e, "grantedScopes") == {"okta.users.manage", "okta.groups.manage"}
        for e in issued
    )
    assert all(e["actor"]["type"] == "PublicClientApp" for e in sync)
    writes = {e["eventType"] for e in sync} - {"app.oauth2.token.grant.access_token"}
    assert writes == {
        "user.lifecycle.create",
        "user.lifecycle.deactivate",
        "group.user_membership.add",
        "group.user_membership.remove",
    }

    # Unused: held, never issued in the window (a whole app, and one scope).
    assert of(events, apps["Domain Manager"]["id"]) == []
    backup = of(events, apps["Backup Exporter"]["id"])
    assert backup
    assert all("okta.apps.read" not in scopes(e, "grantedScopes") for e in backup)

    # Reducible: a manage scope issued, never exercised by a write.
    group_sync = of(events, apps["Group Sync Worker"]["id"])
    assert group_sync
    assert {e["eventType"] for e in group_sync} == {TOKEN.split('"')[1]}
    assert all(scopes(e, "grantedScopes") == {"okta.groups.manage"} for e in group_sync)

    # Missing: a request naming only a scope the app lacks is denied...
    device = of(events, apps["Device Inventory"]["id"])
    denied = [e for e in device if e["outcome"]["result"] == "FAILURE"]
    assert len(denied) >= 89
    assert all(e["outcome"]["reason"] == "no_matching_scope" for e in denied)
    assert {e["debugContext"]["debugData"]["requestedScopes"] for e in denied} == {
        "okta.devices.manage"
    }
    # ... and one also naming held scopes is downscoped, with no failure.
    risk = of(events, apps["Risk Engine"]["id"])
    assert risk
    assert all(e["outcome"]["result"] == "SUCCESS" for e in risk)
    assert all(
        "okta.users.manage" in scopes(e, "requestedScopes")
        and "okta.users.manage" not in scopes(e, "grantedScopes")
        for e in risk
    )

    # A person's app: the user is the actor, the app the client.
    hr = of(events, apps["HR Onboarding"]["id"])
    assert {e["actor"]["alternateId"] for e in hr} == {"org.admin@example.com"}
    assert {e["debugContext"]["debugData"].get("grantType") for e in hr} >= {
        "refresh_token"
    }


def test_writes_only_come_from_apps_holding_their_scope(history):
    events, apps = history
    by_client = {a["id"]: a for a in apps.values()}
    written = [e for e in events if not e["eventType"].startswith("app.oauth2.token")]
    assert {e["eventType"] for e in written} == set(WRITE_SCOPE)
    for e in written:
        app = by_client[e["client"]["id"]]
        assert WRITE_SCOPE[e["eventType"]] in {g["scopeId"] for g in app["grants"]}
    # Apps without a write scope in the profile only ever request tokens.
    for label in ("SIEM Log Shipper", "Backup Exporter", "Payroll Portal"):
        assert {e["eventType"] for e in of(events, apps[label]["id"])} == {
            "app.oauth2.token.grant.access_token"
        }


def test_same_seed_same_history(sim, ssws):
    """Sessions sit on fixed slots with seeded jitter: two runs write the same
    events at the same times (compared well inside the window)."""

    def run() -> list[tuple]:
        sim.reset()
        sim.activity(events_per_app_per_day=3, simulate_days=40, seed=9)
        now = sim.advance_clock(0)["now"]
        got = all_events(sim, ssws, now - 30 * DAY, now - DAY, "client.id pr")
        return [
            (
                e["published"],
                e["eventType"],
                e["actor"]["id"],
                e["client"]["id"],
                e["outcome"]["result"],
                tuple(t["id"] for t in e["target"]),
                e["debugContext"]["debugData"].get("grantedScopes"),
                e["debugContext"]["debugData"].get("requestUri"),
            )
            for e in got
        ]

    first = run()
    assert len(first) > 1000
    assert run() == first
    sim.reset()
    sim.activity(events_per_app_per_day=3, simulate_days=40, seed=10)
    now = sim.advance_clock(0)["now"]
    other = all_events(sim, ssws, now - 30 * DAY, now - DAY, "client.id pr")
    assert [e["published"] for e in other] != [t[0] for t in first]


def test_live_mode_generates_as_the_clock_moves(sim, ssws):
    state = sim.activity(events_per_app_per_day=24, live=True, seed=1)
    assert state["live"] is True
    start = sim.advance_clock(0)["now"]
    before = all_events(sim, ssws, start - 3600, start + 1, "client.id pr")
    assert len(before) <= 12  # nothing back-filled
    sim.advance_clock(2 * DAY)
    now = sim.advance_clock(0)["now"]
    got = all_events(sim, ssws, start, now + 1, TOKEN)
    # Each app of the demo's profile, 24 requests a day, 2 days.
    apps = len(DEMO_ACTIVITY)
    assert apps * 24 * 2 - apps <= len(got) <= apps * 24 * 2 + apps
    published = [e["published"] for e in got]
    assert published == sorted(published)
    assert sim._call("GET", "/activity")["generated_until"] >= iso(now - 60)
    sim.activity(events_per_app_per_day=24, live=False)
    sim.advance_clock(DAY)
    later = sim.advance_clock(0)["now"]
    assert all_events(sim, ssws, now + 1, later + 1, TOKEN) == []


@pytest.mark.parametrize(
    "body",
    [
        {"events_per_app_per_day": 0},
        {"events_per_app_per_day": "many"},
        {"events_per_app_per_day": 2, "simulate_days": 181},
        {"simulate_days": 10},
        {"events_per_app_per_day": 2, "live": "yes"},
    ],
)
def test_bad_activity_request_is_400_and_writes_nothing(sim, body):
    before = sim.state()["events"]
    with pytest.raises(SimControlError) as e:
        sim._call("POST", "/activity", body)
    assert e.value.status == 400
    assert sim.state()["events"] == before
    assert sim._call("GET", "/activity")["live"] is False


def test_profile_naming_an_app_the_org_lacks_is_refused(sim):
    seed = {
        "users": [{"login": "a@example.com", "roles": ["SUPER_ADMIN"]}],
        "apps": [{"label": "Only App", "kind": "service", "grants": []}],
        "activity": {"Gone App": {"requests": ["okta.users.read"]}},
    }
    sim.reset(seed=seed)
    before = sim.state()["events"]
    with pytest.raises(SimControlError) as e:
        sim.activity(events_per_app_per_day=2, simulate_days=5)
    assert e.value.status == 400
    assert "Gone App" in e.value.body["error"]
    assert sim.state()["events"] == before


def test_live_mode_stops_when_a_profile_app_goes_away(sim, ssws):
    sim.activity(events_per_app_per_day=24, live=True)
    sim.oob_app("deactivate", app_id=cid(sim, "Nightly User Sync"))
    sim.advance_clock(DAY)
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 1})
    assert r.status_code == 200
    assert sim._call("GET", "/activity")["live"] is False

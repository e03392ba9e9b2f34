"""Parallel writers over keep-alive connections: no lost or duplicated grants, one
System Log event per change, and exactly one winner for a contested scope."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from .conftest import SSWS_TOKEN, app_by_label

SCOPES = [
    "okta.users.read",
    "okta.groups.read",
    "okta.logs.read",
    "okta.apps.read",
    "okta.devices.read",
    "okta.domains.read",
    "okta.brands.read",
    "okta.idps.read",
]


def session():
    s = requests.Session()
    s.headers["Authorization"] = f"SSWS {SSWS_TOKEN}"
    return s


def test_parallel_grant_and_revoke_cycles_stay_consistent(sim):
    sim.set_rate_limit("apps", 100_000)
    app_id = app_by_label(sim, "Expense Reports")["id"]
    url = f"{sim.url}/api/v1/apps/{app_id}/grants"

    def cycle(scope):
        s = session()
        for _ in range(5):
            g = s.post(url, json={"issuer": sim.url, "scopeId": scope})
            assert g.status_code == 200, g.text
            assert s.delete(f"{url}/{g.json()['id']}").status_code == 204
        s.post(url, json={"issuer": sim.url, "scopeId": scope})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(cycle, SCOPES))
    final = session().get(url).json()
    assert sorted(g["scopeId"] for g in final) == sorted(SCOPES)
    events = [
        e
        for e in session().get(f"{sim.url}/api/v1/logs", params={"limit": 1000}).json()
        if e["target"][0]["id"] == app_id
    ]
    assert len(events) == len(SCOPES) * 11
    assert len({e["uuid"] for e in events}) == len(events)


def test_contested_scope_has_exactly_one_winner(sim):
    app_id = app_by_label(sim, "Expense Reports")["id"]
    url = f"{sim.url}/api/v1/apps/{app_id}/grants"

    def attempt(_):
        return session().post(
            url, json={"issuer": sim.url, "scopeId": "okta.users.read"}
        )

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(r.status_code for r in pool.map(attempt, range(8)))
    assert codes == [200] + [400] * 7
    assert len(session().get(url).json()) == 1

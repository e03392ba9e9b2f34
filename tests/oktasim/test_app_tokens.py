"""An app's refresh tokens: issued with offline_access, listed per app with
paging, and ended with the access tokens minted from them by
``DELETE /api/v1/apps/{appId}/tokens``; access tokens issued without a refresh
token keep working until they expire."""

from __future__ import annotations

import requests

from .conftest import (
    CONSOLE_ID,
    CONSOLE_SECRET,
    bearer,
    exchange_code,
    sign_in,
    user_token,
    worker_token_request,
)


def tokens_of(ssws, sim, app_id: str, **params) -> requests.Response:
    return ssws.get(f"{sim.url}/api/v1/apps/{app_id}/tokens", params=params)


def refresh(sim, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=10,
    )


def test_sign_in_with_offline_access_is_listed_and_revoke_ends_it(sim, ssws):
    _, query = sign_in(sim.url)
    first = exchange_code(sim.url, query).json()
    again = refresh(sim, first["refresh_token"]).json()
    (listed,) = tokens_of(ssws, sim, CONSOLE_ID).json()
    assert "offline_access" in listed["scopes"]
    assert "okta.appGrants.manage" in listed["scopes"]
    # A token that never saw a refresh token (client_credentials) is untouched.
    worker = worker_token_request(sim.url, "okta.apps.read").json()["access_token"]
    apps = f"{sim.url}/api/v1/apps"
    for token in (first["access_token"], again["access_token"], worker):
        assert requests.get(apps, headers=bearer(token), timeout=10).ok

    r = ssws.delete(f"{sim.url}/api/v1/apps/{CONSOLE_ID}/tokens")

    assert r.status_code == 204
    assert tokens_of(ssws, sim, CONSOLE_ID).json() == []
    assert refresh(sim, first["refresh_token"]).json()["error"] == "invalid_grant"
    for token in (first["access_token"], again["access_token"]):
        assert requests.get(apps, headers=bearer(token), timeout=10).status_code == 401
    assert requests.get(apps, headers=bearer(worker), timeout=10).ok


def test_tokens_page_with_a_next_link(sim, ssws):
    for _ in range(3):
        sim.token(login="super.admin@example.com", scopes="openid offline_access")
    first = tokens_of(ssws, sim, CONSOLE_ID, limit=2)
    assert len(first.json()) == 2
    nxt = first.links["next"]["url"]
    rest = ssws.get(nxt).json()
    assert len(rest) == 1
    assert "next" not in ssws.get(nxt).links
    ids = [t["id"] for t in first.json() + rest]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert tokens_of(ssws, sim, CONSOLE_ID, limit=0).status_code == 400


def test_list_needs_apps_read_and_revoke_needs_apps_manage(sim):
    url = f"{sim.url}/api/v1/apps/{CONSOLE_ID}/tokens"
    reader = user_token(sim, "super.admin@example.com", "okta.apps.read")
    assert requests.get(url, headers=bearer(reader), timeout=10).status_code == 200
    r = requests.delete(url, headers=bearer(reader), timeout=10)
    assert r.status_code == 403
    assert 'scope="okta.apps.manage"' in r.headers["WWW-Authenticate"]


def test_revoke_needs_a_role_that_manages_apps(sim):
    # The demo console app holds okta.apps.manage (its refresh-token revoke).
    url = f"{sim.url}/api/v1/apps/{CONSOLE_ID}/tokens"
    ro = user_token(sim, "readonly.admin@example.com", "okta.apps.manage")
    assert requests.get(url, headers=bearer(ro), timeout=10).status_code == 200
    r = requests.delete(url, headers=bearer(ro), timeout=10)
    assert (r.status_code, r.json()["errorCode"]) == (403, "E0000006")

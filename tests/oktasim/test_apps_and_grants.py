"""Apps listing (cursor paging, Link headers, q, filter) and the grants API
(create/read/revoke and every refusal) over real HTTP."""

from __future__ import annotations

import re

import pytest
import requests

from .conftest import app_by_label

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def links(resp) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(resp.headers.get("Link", ""))}


def walk(ssws, url):
    """Follow rel=next from ``url``; returns (apps, pages)."""
    apps, pages = [], 0
    while url:
        r = ssws.get(url)
        assert r.status_code == 200, r.text
        pages += 1
        apps.extend(r.json())
        url = links(r).get("next")
    return apps, pages


def test_paging_visits_every_app_once_in_id_order(sim, ssws):
    apps, pages = walk(ssws, f"{sim.url}/api/v1/apps?limit=7")
    ids = [a["id"] for a in apps]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids)) == len(sim.state()["apps"])
    assert pages == -(-len(ids) // 7)


def test_every_page_links_self_and_only_the_last_lacks_next(sim, ssws):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 200})
    assert links(r) == {"self": f"{sim.url}/api/v1/apps?limit=200"}
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 2})
    nxt = links(r)["next"]
    assert nxt == f"{sim.url}/api/v1/apps?after={r.json()[-1]['id']}&limit=2"
    # two separate Link headers, as Okta sends them
    assert len(r.raw.headers.getlist("Link")) == 2


def test_default_page_size_is_20_and_limit_is_capped_at_200(sim, ssws):
    assert len(ssws.get(f"{sim.url}/api/v1/apps").json()) == 20
    sim.reset(apps=450)
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 1000})
    assert len(r.json()) == 200
    apps, pages = walk(ssws, f"{sim.url}/api/v1/apps?limit=200")
    assert (len(apps), pages) == (452, 3)


@pytest.mark.parametrize("limit", ["0", "-5", "abc"])
def test_bad_limit_is_400(sim, ssws, limit):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": limit})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000001"


@pytest.mark.parametrize("after", ["garbage", "0oa1short", "00u100000001sOmuQ0h7", ""])
def test_bad_cursor_is_400_e0000029(sim, ssws, after):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"after": after})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000029"
    assert r.json()["errorSummary"] == "Invalid paging request."


def test_cursor_of_a_deleted_app_still_pages_on(sim, ssws):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 5})
    last = r.json()[-1]["id"]
    sim.oob_app("delete", app_id=last)
    rest, _ = walk(ssws, links(r)["next"])
    all_ids = [a["id"] for a in sim.state()["apps"]]
    assert [a["id"] for a in r.json()[:4]] + [a["id"] for a in rest] == all_ids


def test_app_deleted_mid_listing_is_neither_duplicated_nor_skipping_others(sim, ssws):
    ids = [a["id"] for a in sim.state()["apps"]]
    first = ssws.get(f"{sim.url}/api/v1/apps", params={"limit": 10})
    victim = ids[12]
    sim.fault(path="^/api/v1/apps$", kind="delete_app", app_id=victim)
    rest, _ = walk(ssws, links(first)["next"])
    seen = [a["id"] for a in first.json()] + [a["id"] for a in rest]
    assert seen == [i for i in ids if i != victim]
    r = ssws.get(f"{sim.url}/api/v1/apps/{victim}/grants")
    assert r.status_code == 404


def test_filter_by_name_status_and_id(sim, ssws):
    state = sim.state()["apps"]
    oidc = ssws.get(
        f"{sim.url}/api/v1/apps",
        params={"filter": 'name eq "oidc_client"', "limit": 200},
    ).json()
    assert {a["signOnMode"] for a in oidc} == {"OPENID_CONNECT"}
    assert len(oidc) == sum(1 for a in state if a["name"] == "oidc_client")
    inactive = ssws.get(
        f"{sim.url}/api/v1/apps", params={"filter": 'status eq "INACTIVE"'}
    ).json()
    assert sorted(a["label"] for a in inactive) == [
        "Old Mobile Beta",
        "Retired Reporting",
    ]
    assert all("activate" in a["_links"] for a in inactive)
    both = ssws.get(
        f"{sim.url}/api/v1/apps",
        params={"filter": f'name eq "oidc_client" and id eq "{state[3]["id"]}"'},
    ).json()
    assert [a["id"] for a in both] == [state[3]["id"]]


def test_oidc_apps_that_are_not_custom_app_integrations(sim, ssws):
    """The demo org has OIDC apps with names of their own (an OIN integration,
    an OAuth app of Okta's own) and one without OAuth client settings; a
    ``name eq "oidc_client"`` filter misses them, their grants are served."""
    apps, _ = walk(ssws, f"{sim.url}/api/v1/apps?limit=200")
    oidc = [a for a in apps if a["signOnMode"] == "OPENID_CONNECT"]
    others = [a for a in oidc if a["name"] != "oidc_client"]
    assert {a["name"] for a in others} >= {"zscalerbyz", "okta_flow_oauth"}
    bare = [a for a in oidc if "oauthClient" not in a["settings"]]
    assert [a["label"] for a in bare] == ["Okta Access Requests"]
    assert "oauthClient" not in bare[0]["credentials"]
    assert "clientCredentials" not in bare[0]["_links"]
    for app in [*others, *bare]:
        grants = ssws.get(f"{sim.url}/api/v1/apps/{app['id']}/grants").json()
        assert grants
        assert all(g["scopeId"].startswith("okta.") for g in grants)
    assert grants[0]["clientId"] == bare[0]["id"]


def test_filter_is_kept_in_the_next_link(sim, ssws):
    apps, _ = walk(
        ssws, f"{sim.url}/api/v1/apps?limit=5&filter=name+eq+%22oidc_client%22"
    )
    assert {a["name"] for a in apps} == {"oidc_client"}
    assert len(apps) == sum(
        1 for a in sim.state()["apps"] if a["name"] == "oidc_client"
    )


@pytest.mark.parametrize(
    "filt", ['label eq "x"', "status eq ACTIVE", 'status gt "A"', "(("]
)
def test_unsupported_filter_is_400(sim, ssws, filt):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"filter": filt})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000031"


def test_q_is_a_case_insensitive_prefix_of_label_or_name(sim, ssws):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"q": "pAyRoll"})
    assert [a["label"] for a in r.json()] == ["Payroll Portal"]
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"q": "bookmark"})
    assert {a["name"] for a in r.json()} == {"bookmark"}


def test_expand_on_the_apps_list_is_malformed(sim, ssws):
    r = ssws.get(f"{sim.url}/api/v1/apps", params={"expand": "grants"})
    assert r.status_code == 400
    assert r.json()["errorCauses"] == [{"errorSummary": "Expand query is malformed."}]


# --- grants ----------------------------------------------------------------------------


def post_grant(sim, ssws, app_id, scope, issuer=None):
    return ssws.post(
        f"{sim.url}/api/v1/apps/{app_id}/grants",
        json={"issuer": sim.url if issuer is None else issuer, "scopeId": scope},
    )


def test_grants_list_in_creation_order_with_new_ones_last(sim, ssws):
    app = app_by_label(sim, "HR Onboarding")
    post_grant(sim, ssws, app["id"], "okta.logs.read")
    listed = ssws.get(f"{sim.url}/api/v1/apps/{app['id']}/grants").json()
    assert [g["scopeId"] for g in listed] == [
        "okta.users.manage",
        "okta.groups.manage",
        "okta.users.read",
        "okta.logs.read",
    ]


def test_duplicate_grant_is_400_already_granted(sim, ssws):
    app = app_by_label(sim, "HR Onboarding")
    r = post_grant(sim, ssws, app["id"], "okta.users.read")
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000001"
    assert "already granted" in r.json()["errorCauses"][0]["errorSummary"]


@pytest.mark.parametrize(
    ("scope", "issuer", "cause"),
    [
        ("okta.nonsense.read", None, "not a valid Okta API scope"),
        ("openid", None, "not a valid Okta API scope"),
        ("okta.users.read", "https://example.okta.com", "issuer"),
    ],
)
def test_invalid_grant_requests_are_400_with_a_cause(sim, ssws, scope, issuer, cause):
    app = app_by_label(sim, "Expense Reports")
    r = post_grant(sim, ssws, app["id"], scope, issuer)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000001"
    assert cause in r.json()["errorCauses"][0]["errorSummary"]


def test_issuer_with_trailing_slash_is_accepted(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    r = post_grant(sim, ssws, app["id"], "okta.users.read", sim.url + "/")
    assert r.status_code == 200
    assert r.json()["issuer"] == sim.url


def test_non_oidc_app_cannot_hold_grants(sim, ssws):
    app = app_by_label(sim, "Salesforce (SAML)")
    r = post_grant(sim, ssws, app["id"], "okta.users.read")
    assert r.status_code == 400
    assert "not an OAuth 2.0 client app" in r.json()["errorCauses"][0]["errorSummary"]


def test_uncatalogued_okta_scope_known_to_the_org_is_grantable(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    assert post_grant(sim, ssws, app["id"], "okta.aiAgents.read").status_code == 200


def test_missing_fields_are_named(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    r = ssws.post(f"{sim.url}/api/v1/apps/{app['id']}/grants", json={"issuer": sim.url})
    assert r.status_code == 400
    assert r.json()["errorSummary"] == "Api validation failed: scopeId"
    assert r.json()["errorCauses"] == [
        {"errorSummary": "scopeId: The field cannot be left blank."}
    ]


def test_grant_uses_the_apps_client_id(sim, ssws):
    app = app_by_label(sim, "Custom Client Id App")
    assert app["client_id"] == "custom-client-id-demo-app"
    r = post_grant(sim, ssws, app["id"], "okta.users.read")
    assert r.json()["clientId"] == "custom-client-id-demo-app"
    assert r.json()["_links"]["client"]["href"].endswith(
        "/oauth2/v1/clients/custom-client-id-demo-app"
    )


def test_revoke_twice_is_404_the_second_time(sim, ssws):
    app = app_by_label(sim, "HR Onboarding")
    url = f"{sim.url}/api/v1/apps/{app['id']}/grants/{app['grants'][0]['id']}"
    assert ssws.delete(url).status_code == 204
    again = ssws.delete(url)
    assert again.status_code == 404
    assert "(OAuth2ScopeConsentGrant)" in again.json()["errorSummary"]
    assert ssws.get(url).status_code == 404


def test_unknown_app_is_404_app_instance(sim, ssws):
    r = post_grant(sim, ssws, "0oa1doesnotexist00000", "okta.users.read")
    assert r.status_code == 404
    assert r.json()["errorSummary"] == (
        "Not found: Resource not found: 0oa1doesnotexist00000 (AppInstance)"
    )


def test_bad_expand_on_grants(sim, ssws):
    app = app_by_label(sim, "HR Onboarding")
    r = ssws.get(f"{sim.url}/api/v1/apps/{app['id']}/grants", params={"expand": "user"})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000001"


def test_oob_grant_and_revoke_change_state_like_the_admin_console(sim, ssws):
    app = app_by_label(sim, "Expense Reports")
    g = sim.oob_grant(
        app["id"], "okta.groups.read", actor_login="org.admin@example.com"
    )
    users = {u["login"]: u["id"] for u in sim.state()["users"]}
    assert g["createdBy"] == {"id": users["org.admin@example.com"], "type": "User"}
    listed = ssws.get(f"{sim.url}/api/v1/apps/{app['id']}/grants").json()
    assert [x["scopeId"] for x in listed] == ["okta.groups.read"]
    sim.oob_revoke(app["id"], "okta.groups.read")
    assert ssws.get(f"{sim.url}/api/v1/apps/{app['id']}/grants").json() == []


def test_demo_org_holds_the_contract_grants(sim):
    apps = {a["id"]: a for a in sim.state()["apps"]}
    console = {g["scopeId"] for g in apps["0oa1consoleDEMO000x7"]["grants"]}
    worker = {g["scopeId"] for g in apps["0oa1workerDEMO0000x7"]["grants"]}
    assert console == {
        "okta.apps.read",
        "okta.apps.manage",
        "okta.appGrants.read",
        "okta.appGrants.manage",
        "okta.roles.read",
        "okta.logs.read",
        "okta.oauthIntegrations.manage",
    }
    assert worker == {
        "okta.apps.read",
        "okta.appGrants.read",
        "okta.logs.read",
        "okta.users.read",
        "okta.oauthIntegrations.read",
        "okta.roles.read",
        "okta.orgs.read",
    }
    kinds = [a["kind"] for a in apps.values()]
    assert {k: kinds.count(k) for k in set(kinds)}["web"] >= 10
    assert sum(k in ("web", "browser", "native", "service") for k in kinds) >= 40
    assert {"saml", "bookmark"} <= set(kinds)


def test_ids_are_okta_shaped_and_deterministic(sim):
    def ids(state):
        return [
            (a["id"], [(g["id"], g["scopeId"]) for g in a["grants"]])
            for a in state["apps"]
        ]

    first = sim.state()
    sim.reset()
    assert ids(sim.state()) == ids(first)
    for a in first["apps"]:
        assert re.fullmatch(r"0oa[0-9A-Za-z]{17}", a["id"])
        for g in a["grants"]:
            assert re.fullmatch(r"oag[0-9A-Za-z]{17}", g["id"])
    for u in first["users"]:
        assert re.fullmatch(r"00u[0-9A-Za-z]{17}", u["id"])


def test_unreachable_get_with_keepalive_session_survives_errors(sim, ssws):
    for _ in range(3):
        assert (
            ssws.get(f"{sim.url}/api/v1/apps/0oa1doesnotexist00000").status_code == 404
        )
    assert ssws.get(f"{sim.url}/api/v1/apps").status_code == 200
    assert requests.get(f"{sim.url}/__sim__/health", timeout=5).json()["ok"] is True

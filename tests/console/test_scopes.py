"""The org-wide scope view: holders per scope, the matrix, and one scope granted
to (or revoked from) several apps in one action, with a result per app."""

from __future__ import annotations

import pytest
from django.utils import timezone

from grantsconsole.console.presenters import holders_by_scope
from grantsconsole.grants.models import OktaApp, ScopeGrant
from tests.console.conftest import grant_writes, okta_grants, web_app

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "scope-body"}


def _apps_without(sim, scope_id: str, n: int) -> list[dict]:
    found = []
    for app in sim.state()["apps"]:
        scopes = {g["scopeId"] for g in app["grants"]}
        if (
            app["sign_on_mode"] == "OPENID_CONNECT"
            and app["kind"] == "web"
            and scope_id not in scopes
            and "console" not in app["label"].lower()
        ):
            found.append(app)
    assert len(found) >= n
    return found[:n]


@pytest.mark.django_db
def test_holders_overview_counts_open_grants_of_present_apps_and_previews_by_label():
    now = timezone.now()
    apps = [
        OktaApp.objects.create(okta_id=f"0oaH{i}", label=label, last_synced_at=now)
        for i, label in enumerate(["delta", "Alpha", "charlie", "bravo", "echo", "x"])
    ]
    apps[5].removed_at = now  # removed from Okta: not a holder
    apps[5].save()

    def grant(app, scope_id, revoked=False):
        ScopeGrant.objects.create(
            app=app,
            scope_id=scope_id,
            first_seen_at=now,
            last_seen_at=now,
            revoked_at=now if revoked else None,
        )

    for app in apps:
        grant(app, "okta.users.read")
    grant(apps[0], "okta.brands.read", revoked=True)
    grant(apps[1], "okta.brands.read")

    overview = holders_by_scope(preview=4)
    users = overview["okta.users.read"]
    assert users.count == 5
    labels = sorted(a.label for a in apps[:5])  # the database's order (binary here)
    assert [label for _, label in users.preview] == labels[:4]
    assert (
        overview["okta.brands.read"].count,
        overview["okta.brands.read"].preview,
    ) == (
        1,
        [("0oaH1", "Alpha")],
    )
    assert "okta.apps.read" not in overview

    # A relabel in Okta (copied by a sync) reorders the preview; labels tie
    # broken by Okta id.
    apps[1].label = "zulu"
    apps[1].save()
    OktaApp.objects.filter(pk=apps[2].pk).update(label="bravo")
    users = holders_by_scope(preview=4)["okta.users.read"]
    assert users.preview == [
        ("0oaH2", "bravo"),
        ("0oaH3", "bravo"),
        ("0oaH0", "delta"),
        ("0oaH4", "echo"),
    ]


def test_scopes_list_counts_holders(admin, mirrored, sim):
    holders = sum(
        1
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
        and "okta.apps.read" in {g["scopeId"] for g in a["grants"]}
    )
    body = admin.get("/scopes/?held=1").content.decode()
    row = body.split('href="/scopes/okta.apps.read/"')[1].split("</tr>")[0]
    assert f'<td class="num">{holders}</td>' in row


def test_a_read_of_credentials_shows_its_risk_and_why(admin, mirrored, sim):
    """okta.apps.read reads client secrets: the scopes list and the scope's page
    rate it high and say why; a read of settings only shows no risk."""
    body = admin.get("/scopes/").content.decode()
    row = body.split('href="/scopes/okta.apps.read/"')[1].split("</tr>")[0]
    assert "high risk" in row
    assert "OAuth client secrets" in row
    plain = body.split('href="/scopes/okta.brands.read/"')[1].split("</tr>")[0]
    assert "risk" not in plain
    page = admin.get("/scopes/okta.apps.read/").content.decode()
    assert "high risk" in page
    assert "This scope reads every app&#x27;s credentials" in page


def test_scope_page_lists_the_apps_holding_it(admin, mirrored, sim):
    app = web_app(sim, holding="okta.apps.read")
    body = admin.get("/scopes/okta.apps.read/").content.decode()
    holders = body.split('id="holders-heading"')[1].split("</section>")[0]
    assert app["id"] in holders
    other = web_app(sim, without="okta.apps.read")
    candidates = body.split('id="candidates"')[1].split("</form>")[0]
    assert f'value="{other["id"]}"' in candidates
    assert f'value="{app["id"]}"' not in candidates
    searched = admin.get(
        "/scopes/okta.apps.read/?q=" + other["label"][:6],
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="candidates",
    ).content.decode()
    assert searched.lstrip().startswith('<form id="candidates"')
    assert f'value="{other["id"]}"' in searched


def test_matrix_shows_the_strongest_access_per_family(admin, mirrored, sim):
    oidc = [a for a in sim.state()["apps"] if a["sign_on_mode"] == "OPENID_CONNECT"]
    app = max(
        oidc, key=lambda a: sum(g["scopeId"].endswith(".manage") for g in a["grants"])
    )
    body = admin.get("/scopes/matrix/").content.decode()
    assert 'class="cell-manage cell-risk-critical"' in body
    assert f'href="/apps/{app["id"]}/"' in body
    assert 'class="cell-read cell-risk-' in body


def test_grant_one_scope_to_several_apps_with_a_result_per_app(admin, mirrored, sim):
    apps = _apps_without(sim, "okta.brands.read", 3)
    response = admin.post(
        "/scopes/okta.brands.read/grant", {"app": [a["id"] for a in apps]}, **HX
    )
    body = response.content.decode()
    assert response.status_code == 200
    for app in apps:
        assert "okta.brands.read" in okta_grants(sim, app["id"])
        assert f"{app['label']}: Granted." in body.replace("&#x27;", "'")


def test_revoke_one_scope_from_several_apps_by_plain_form(admin, mirrored, sim):
    apps = _apps_without(sim, "okta.brands.read", 2)
    for app in apps:
        sim.oob_grant(app["id"], "okta.brands.read")
    admin.post(f"/apps/{apps[0]['id']}/refresh")
    admin.post(f"/apps/{apps[1]['id']}/refresh")
    response = admin.post(
        "/scopes/okta.brands.read/revoke",
        {"app": [a["id"] for a in apps], "confirm": "yes"},
    )
    assert response.status_code == 302
    for app in apps:
        assert "okta.brands.read" not in okta_grants(sim, app["id"])


def test_bulk_manage_grant_asks_first(admin, mirrored, sim):
    apps = _apps_without(sim, "okta.users.manage", 2)
    ids = [a["id"] for a in apps]
    asked = admin.post("/scopes/okta.users.manage/grant", {"app": ids}, **HX)
    assert 'name="confirm" value="yes"' in asked.content.decode()
    assert grant_writes(sim) == []
    done = admin.post(
        "/scopes/okta.users.manage/grant", {"app": ids, "confirm": "yes"}, **HX
    )
    assert done.status_code == 200
    for app in apps:
        assert "okta.users.manage" in okta_grants(sim, app["id"])


def test_bulk_selection_tampering_is_refused(admin, mirrored, sim):
    app = web_app(sim)
    before = len(sim.requests())
    twice = admin.post(
        "/scopes/okta.brands.read/grant", {"app": [app["id"], app["id"]]}
    )
    empty = admin.post("/scopes/okta.brands.read/grant", {})
    assert twice.status_code == 400
    assert "more than once" in twice.content.decode()
    assert empty.status_code == 400
    assert "Choose at least one app" in empty.content.decode()
    assert sim.requests()[before:] == []


def test_a_scope_only_okta_knows_has_its_page_and_bulk_grant(admin, mirrored, sim):
    """okta.aiAgents.manage is newer than the catalog: its page warns "not in the
    catalog", and granting it to several apps is confirmed, then sent to Okta."""
    page = admin.get("/scopes/okta.aiAgents.manage/")
    assert page.status_code == 200
    assert "Not in the catalog" in page.content.decode()
    assert "Grant it to more apps" in page.content.decode()
    ids = [a["id"] for a in _apps_without(sim, "okta.aiAgents.manage", 2)]
    asked = admin.post("/scopes/okta.aiAgents.manage/grant", {"app": ids}, **HX)
    assert 'name="confirm" value="yes"' in asked.content.decode()
    assert "Not in the catalog" in asked.content.decode()
    assert grant_writes(sim) == []
    done = admin.post(
        "/scopes/okta.aiAgents.manage/grant", {"app": ids, "confirm": "yes"}, **HX
    )
    assert done.status_code == 200
    for okta_id in ids:
        assert "okta.aiAgents.manage" in okta_grants(sim, okta_id)

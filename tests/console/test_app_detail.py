"""One app's page: grant collection, grant and revoke in place (htmx) and by plain
form posts, the manage-scope confirmation, Okta's answers in plain words, refresh."""

from __future__ import annotations

import re
import time

import pytest

from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from tests.console.conftest import grant_writes, okta_grants, web_app
from tests.factories import ORG_ADMIN, SUPER

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "grant-collection"}


def _url(app_id: str, action: str = "") -> str:
    return (
        f"/apps/{app_id}/"
        + {
            "": "",
            "grant": "grants/grant",
            "revoke": "grants/revoke",
            "refresh": "refresh",
        }[action]
    )


def test_full_catalog_lists_every_scope_grouped_and_held_ones(admin, mirrored, sim):
    app = web_app(sim, holding="okta.apps.read")
    page = admin.get(_url(app["id"]) + "?show=all")
    assert page.status_code == 200
    body = page.content.decode()
    # grouped by resource, catalog descriptions, held scopes marked
    assert 'id="res-users"' in body
    assert 'id="res-groups"' in body
    assert "okta.users.manage" in body
    assert "okta.apps.read" in body
    row = body.split('id="scope-okta.apps.read"')[1].split("</tr>")[0]
    assert "granted" in row
    assert "Revoke" in row


def test_grant_in_place_with_htmx_reaches_okta_and_the_audit(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    response = admin.post(_url(app["id"], "grant"), {"only": "okta.brands.read"}, **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="grant-collection"')  # a fragment
    assert "Granted." in body
    assert 'hx-swap-oob="true"' in body  # the history is refreshed too
    assert "okta.brands.read" in okta_grants(sim, app["id"])
    assert ScopeGrant.objects.filter(
        app__okta_id=app["id"], scope_id="okta.brands.read", revoked_at=None
    ).exists()
    assert AuditEvent.objects.filter(
        action="grant",
        app_okta_id=app["id"],
        scope_id="okta.brands.read",
        outcome="success",
    ).exists()


def test_revoke_by_plain_form_redirects_with_a_message(admin, mirrored, sim):
    app = web_app(sim, holding="okta.apps.read")
    response = admin.post(
        _url(app["id"], "revoke"), {"scope": ["okta.apps.read"], "confirm": "yes"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(_url(app["id"]))
    page = admin.get(response["Location"])
    assert "okta.apps.read: Revoked." in page.content.decode()
    assert "okta.apps.read" not in okta_grants(sim, app["id"])


def test_several_scopes_at_once_give_a_result_per_scope(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    held = sorted(okta_grants(sim, app["id"]) - {"okta.brands.read"})
    scopes = ["okta.brands.read", "okta.schemas.read"]
    response = admin.post(_url(app["id"], "grant"), {"scope": scopes}, **HX)
    body = response.content.decode()
    for scope in scopes:
        assert f"<code>{scope}</code>: " in body
    assert set(scopes) <= okta_grants(sim, app["id"])
    assert set(held) <= okta_grants(sim, app["id"])


def test_a_manage_scope_needs_a_confirmation_that_states_its_risk(admin, mirrored, sim):
    app = web_app(sim, without="okta.users.manage")
    asked = admin.post(_url(app["id"], "grant"), {"scope": ["okta.users.manage"]}, **HX)
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "manage scope" in body
    assert "risk" in body
    assert 'name="confirm" value="yes"' in body
    assert grant_writes(sim) == []
    confirmed = admin.post(
        _url(app["id"], "grant"),
        {"scope": ["okta.users.manage"], "confirm": "yes"},
        **HX,
    )
    assert "Granted." in confirmed.content.decode()
    assert "okta.users.manage" in okta_grants(sim, app["id"])


@pytest.mark.parametrize(
    ("scope", "risk", "reason"),
    [
        ("okta.users.read", "high risk", "personal data"),
        ("okta.apiTokens.read", "medium risk", "standing credentials"),
    ],
)
def test_a_read_of_credentials_or_personal_data_needs_a_confirmation(
    admin, mirrored, sim, scope, risk, reason
):
    """Such a read is rated above low, says why, and is confirmed like a manage
    scope before anything reaches Okta."""
    app = web_app(sim, without=scope)
    asked = admin.post(_url(app["id"], "grant"), {"only": scope}, **HX)
    body = asked.content.decode()
    assert 'name="confirm" value="yes"' in body
    assert risk in body
    assert reason in body
    assert grant_writes(sim) == []
    confirmed = admin.post(
        _url(app["id"], "grant"), {"scope": [scope], "confirm": "yes"}, **HX
    )
    assert "Granted." in confirmed.content.decode()
    assert scope in okta_grants(sim, app["id"])


def test_a_low_risk_read_is_granted_without_a_confirmation(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    done = admin.post(_url(app["id"], "grant"), {"only": "okta.brands.read"}, **HX)
    assert "Granted." in done.content.decode()
    assert "okta.brands.read" in okta_grants(sim, app["id"])


def test_the_confirmation_works_without_javascript(admin, mirrored, sim):
    app = web_app(sim, without="okta.users.manage")
    asked = admin.post(_url(app["id"], "grant"), {"only": "okta.users.manage"})
    assert asked.status_code == 200
    assert "<html" in asked.content.decode()  # a whole page, not a fragment
    done = admin.post(
        _url(app["id"], "grant"), {"scope": "okta.users.manage", "confirm": "yes"}
    )
    assert done.status_code == 302
    assert "okta.users.manage" in okta_grants(sim, app["id"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scope": ["okta.apps.read", "okta.apps.read"]}, "more than once"),
        ({}, "Choose at least one scope"),
        ({"scope": [""]}, "Choose at least one scope"),
    ],
)
@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_tampered_or_empty_selection_is_refused_before_okta(
    admin, mirrored, sim, data, message, action
):
    app = web_app(sim)
    before = len(sim.requests())
    for extra in ({}, HX):
        response = admin.post(_url(app["id"], action), data, **extra)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert sim.requests()[before:] == []


@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_a_malformed_scope_id_is_refused_before_okta(admin, mirrored, sim, action):
    app = web_app(sim)
    before = len(sim.requests())
    response = admin.post(_url(app["id"], action), {"scope": "okta.users<b>.read"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "is not a scope id" in body
    assert "<b>" not in body
    assert sim.requests()[before:] == []
    assert (
        admin.post(_url("0oaNOPE", action), {"scope": "okta.users.read"}).status_code
        == 404
    )


def test_an_uncatalogued_scope_goes_to_okta_after_a_confirmation(admin, mirrored, sim):
    """Okta, not the catalog, judges scope names: okta.aiAgents.read is newer than
    the catalog but Okta knows it. It is confirmed as if high risk, then granted."""
    app = web_app(sim, without="okta.aiAgents.read")
    asked = admin.post(_url(app["id"], "grant"), {"scope_id": "okta.aiAgents.read"})
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "Not in the catalog" in body or "not in the catalog" in body
    assert "unknown risk" in body
    assert 'name="confirm" value="yes"' in body
    assert grant_writes(sim) == []
    done = admin.post(
        _url(app["id"], "grant"),
        {"scope": "okta.aiAgents.read", "confirm": "yes"},
        **HX,
    )
    assert "Granted." in done.content.decode()
    assert "okta.aiAgents.read" in okta_grants(sim, app["id"])
    assert AuditEvent.objects.filter(
        action="grant", scope_id="okta.aiAgents.read", outcome="success"
    ).exists()


def test_okta_refusing_an_unknown_scope_is_shown_in_plain_words(admin, mirrored, sim):
    app = web_app(sim)
    response = admin.post(
        _url(app["id"], "grant"),
        {"scope": "okta.noSuchThing.read", "confirm": "yes"},
        **HX,
    )
    body = response.content.decode()
    assert len(grant_writes(sim)) == 1  # it reached Okta
    assert "Not done" in body
    assert "is not a valid Okta API scope" in body  # Okta's own words
    assert not ScopeGrant.objects.filter(scope_id="okta.noSuchThing.read").exists()
    assert AuditEvent.objects.filter(
        action="grant", scope_id="okta.noSuchThing.read", outcome="failure"
    ).exists()


def test_403_on_a_grant_explains_silent_downscoping(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    sim.fault(
        f"/api/v1/apps/{app['id']}/grants$",
        method="POST",
        status=403,
        error_code="E0000006",
    )
    response = admin.post(_url(app["id"], "grant"), {"only": "okta.brands.read"}, **HX)
    body = response.content.decode()
    assert "refused the grant (403)" in body
    assert "silent downscoping" in body
    assert "okta.brands.read" not in okta_grants(sim, app["id"])


def test_missing_console_scope_names_the_grant_to_add(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    sim.fault(
        f"/api/v1/apps/{app['id']}/grants$",
        method="POST",
        status=403,
        error_code="E0000006",
        headers={
            "WWW-Authenticate": 'Bearer realm="IdpError", error="insufficient_scope", '
            'error_description="The access token provided does not contain the required scopes.", '
            'scope="okta.appGrants.manage"'
        },
    )
    body = admin.post(
        _url(app["id"], "grant"), {"only": "okta.brands.read"}, **HX
    ).content.decode()
    assert "okta.appGrants.manage" in body
    assert "Grant" in body
    assert "API Scopes" in body


def test_rate_limit_says_how_long_to_wait(admin, mirrored, sim):
    app = web_app(sim, without="okta.brands.read")
    now = int(sim.advance_clock(0)["now"])  # the simulator's clock
    sim.fault(
        f"/api/v1/apps/{app['id']}/grants$",
        method="POST",
        status=429,
        times=-1,
        rate_limit_headers=False,
        headers={
            "X-Rate-Limit-Limit": "50",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(now + 1),
        },
    )
    body = admin.post(
        _url(app["id"], "grant"), {"only": "okta.brands.read"}, **HX
    ).content.decode()
    assert "rate limit" in body
    assert "Try again in about" in body
    assert "okta.brands.read" not in okta_grants(sim, app["id"])


def test_refresh_reads_the_grants_once_and_records_outside_changes(
    admin, mirrored, sim
):
    app = web_app(sim, without="okta.brands.read")
    sim.oob_grant(app["id"], "okta.brands.read", actor_login=ORG_ADMIN.login)
    before = len(sim.requests())
    response = admin.post(_url(app["id"], "refresh"), **HX)
    assert response["HX-Redirect"] == _url(app["id"])  # the whole page, current
    body = admin.get(_url(app["id"])).content.decode()
    assert "okta.brands.read" in body
    assert "outside the console" in body
    grants_calls = [
        r
        for r in sim.requests()[before:]
        if r["path"] == f"/api/v1/apps/{app['id']}/grants"
    ]
    assert len(grants_calls) == 1
    assert ScopeGrant.objects.filter(
        app__okta_id=app["id"], scope_id="okta.brands.read", revoked_at=None
    ).exists()
    # who pressed "Refresh from Okta", and what it found
    pressed = AuditEvent.objects.filter(action="refresh").latest("seq")
    assert (pressed.actor_login, pressed.app_okta_id, pressed.outcome) == (
        SUPER.login,
        app["id"],
        "success",
    )
    assert pressed.actor_id.startswith("00u")
    assert pressed.detail["added"] == ["okta.brands.read"]


def test_a_removed_app_is_shown_read_only(admin, mirrored, sim):
    app = web_app(sim)
    OktaApp.objects.filter(okta_id=app["id"]).update(removed_at="2026-01-01T00:00:00Z")
    body = admin.get(_url(app["id"])).content.decode()
    assert "removed from Okta" in body
    assert "Grant selected" not in body
    assert (
        admin.post(_url(app["id"], "grant"), {"only": "okta.apps.read"}).status_code
        == 404
    )


def test_show_held_only_lists_just_the_granted_scopes(admin, mirrored, sim):
    app = web_app(sim, holding="okta.apps.read")
    held = okta_grants(sim, app["id"])
    body = admin.get(_url(app["id"]) + "?show=held").content.decode()
    listed = set(re.findall(r'name="scope" value="([^"]+)"', body))
    assert listed == held
    manage = admin.get(_url(app["id"]) + "?show=manage").content.decode()
    listed = set(re.findall(r'name="scope" value="([^"]+)"', manage))
    assert "okta.users.manage" in listed
    assert "okta.users.read" not in listed


def test_a_manage_grant_needs_a_recent_okta_sign_in(admin, mirrored, sim, settings):
    settings.ACCOUNTS_STEP_UP_MAX_AGE = 0  # every manage change asks Okta again
    app = web_app(sim, without="okta.users.manage")
    data = {"scope": "okta.users.manage", "confirm": "yes"}
    plain = admin.post(_url(app["id"], "grant"), data)
    assert plain.status_code == 302
    assert plain["Location"].startswith(sim.url + "/oauth2/v1/authorize")
    htmx = admin.post(_url(app["id"], "grant"), data, **HX)
    assert htmx["HX-Redirect"].startswith(sim.url + "/oauth2/v1/authorize")
    assert grant_writes(sim) == []


def test_refresh_that_okta_refuses_says_so_and_keeps_the_local_grants(
    admin, mirrored, sim
):
    app = web_app(sim, holding="okta.apps.read")
    sim.fault(f"/api/v1/apps/{app['id']}/grants$", method="GET", status=403, times=-1)
    body = admin.post(_url(app["id"], "refresh"), follow=True).content.decode()
    assert "Not refreshed" in body
    assert ScopeGrant.objects.filter(
        app__okta_id=app["id"], scope_id="okta.apps.read", revoked_at=None
    ).exists()
    pressed = AuditEvent.objects.filter(action="refresh").latest("seq")
    assert (pressed.actor_login, pressed.outcome) == (SUPER.login, "failure")
    assert pressed.detail["error"]


def test_a_long_rate_limit_wait_is_not_sat_out_inside_the_request(admin, mirrored, sim):
    """Okta asks for 90 s: the admin is told at once instead of the web request
    waiting past the router's 30 s timeout."""
    app = web_app(sim, without="okta.brands.read")
    now = int(sim.advance_clock(0)["now"])  # the simulator's clock
    sim.fault(
        f"/api/v1/apps/{app['id']}/grants",
        status=429,
        times=-1,
        rate_limit_headers=False,
        headers={
            "X-Rate-Limit-Limit": "50",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(now + 90),
        },
    )
    started = time.monotonic()
    body = admin.post(
        _url(app["id"], "grant"), {"only": "okta.brands.read"}, **HX
    ).content.decode()
    assert time.monotonic() - started < 20
    assert "Try again in about" in body
    assert "okta.brands.read" not in okta_grants(sim, app["id"])


def test_a_grant_naming_another_issuer_is_flagged_on_the_app_page(admin, mirrored, sim):
    app = web_app(sim, without="okta.users.read")
    sim.oob_grant(app["id"], "okta.users.read", issuer="https://login.example.com")
    admin.post(_url(app["id"], "refresh"))
    body = admin.get(_url(app["id"]) + "?show=all").content.decode()
    row = body.split('id="scope-okta.users.read"')[1].split("</tr>")[0]
    assert "https://login.example.com" in row
    assert "is not the org" in row
    other = body.split('id="scope-okta.apps.read"')[1].split("</tr>")[0]
    assert "is not the org" not in other

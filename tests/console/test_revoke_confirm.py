"""Revokes ask first: single (app page) and bulk (scope page) revokes show the app,
its type, the scope's risk and whether it is the console's or the worker's own app;
revoking a scope the console or the worker needs takes its id typed; "Undo" grants
it again within 10 minutes, through the ordinary grant path."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.health import CONSOLE_FEATURES, WORKER_FEATURES
from grantsconsole.console.views import apps as app_views
from grantsconsole.grants.models import AuditEvent, ScopeGrant
from grantsconsole.okta_clients import WORKER_SCOPES
from tests.console.conftest import grant_writes, okta_grants, web_app
from tests.factories import SUPER

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "grant-collection"}
CONSOLE = "0oa1consoleDEMO000x7"
WORKER = "0oa1workerDEMO0000x7"
LOW = "okta.brands.read"  # a low-risk read


def _revoke(app_id: str) -> str:
    return f"/apps/{app_id}/grants/revoke"


def _undo(app_id: str) -> str:
    return f"/apps/{app_id}/grants/undo"


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def _service_app(sim, holding: str) -> dict:
    for app in sim.state()["apps"]:
        scopes = {g["scopeId"] for g in app["grants"]}
        if (
            app["kind"] == "service"
            and app["id"] != WORKER
            and app["sign_on_mode"] == "OPENID_CONNECT"
            and holding in scopes
        ):
            return app
    raise AssertionError("no service app holding " + holding)


def _rows(scope_id: str) -> tuple[int, int]:
    """(audit rows, open local grants) of ``scope_id``: what a refusal must not change."""
    return (
        AuditEvent.objects.filter(scope_id=scope_id).count(),
        ScopeGrant.objects.filter(scope_id=scope_id, revoked_at=None).count(),
    )


def test_every_scope_the_console_and_the_worker_ask_for_says_what_stops():
    """The one table of needed scopes covers what the sign-in and the worker's
    token really request, so a new scope cannot be revoked without the warning."""
    from django.conf import settings

    asked = {s for s in settings.OKTA_CONSOLE_SCOPES if s.startswith("okta.")}
    assert asked <= set(CONSOLE_FEATURES)
    assert set(WORKER_SCOPES) <= set(WORKER_FEATURES)


@pytest.mark.parametrize("hx", [HX, {}])
def test_a_single_revoke_asks_first_and_names_app_type_and_risk(
    admin, mirrored, sim, hx
):
    app = web_app(sim, holding="okta.apps.read")
    before = _rows("okta.apps.read")
    asked = admin.post(_revoke(app["id"]), {"only": "okta.apps.read"}, **hx)
    assert asked.status_code == 200
    body = _text(asked)
    assert 'role="alertdialog"' in body
    assert f"from {app['label']}?" in body
    assert "a web app" in body
    assert "acts as whoever signs in to it" in body
    assert "within that person's admin role" in body
    assert "high risk" in body
    assert 'name="confirm" value="yes"' in body
    assert "own app" not in body
    assert 'name="typed"' not in body  # not a scope the console needs
    assert grant_writes(sim) == []
    assert _rows("okta.apps.read") == before
    done = admin.post(
        _revoke(app["id"]), {"scope": "okta.apps.read", "confirm": "yes"}, **HX
    )
    assert "okta.apps.read</code>: Revoked." in done.content.decode()
    assert "okta.apps.read" not in okta_grants(sim, app["id"])


def test_a_service_app_is_said_to_act_as_itself(admin, mirrored, sim):
    app = _service_app(sim, "okta.users.read")
    body = _text(admin.post(_revoke(app["id"]), {"only": "okta.users.read"}, **HX))
    assert "a service app" in body
    assert "acts as itself" in body
    assert "whoever signs in" not in body
    # the grant confirmation of a risky scope says the same
    asked = _text(
        admin.post(f"/apps/{app['id']}/grants/grant", {"only": "okta.users.manage"})
    )
    assert "acts as itself" in asked
    assert "for anyone who signs in" not in asked


def test_revoking_what_the_console_needs_takes_its_id_typed(admin, mirrored, sim):
    scope = "okta.appGrants.manage"
    before = _rows(scope)
    asked = _text(admin.post(_revoke(CONSOLE), {"only": scope}, **HX))
    assert "the console's own app" in asked
    assert "Stops working:" in asked
    assert CONSOLE_FEATURES[scope] in asked  # exactly which feature stops
    assert 'name="typed"' in asked
    # confirmed without the typed id, or with a wrong one: refused, nothing written
    for typed in ({}, {"typed": "okta.appGrants.read"}, {"typed": "yes"}):
        for hx in (HX, {}):
            refused = admin.post(
                _revoke(CONSOLE), {"scope": scope, "confirm": "yes", **typed}, **hx
            )
            assert refused.status_code == 400
            assert f"Nothing was revoked: type {scope} exactly" in _text(refused)
    assert grant_writes(sim) == []
    assert _rows(scope) == before
    assert scope in okta_grants(sim, CONSOLE)
    done = admin.post(
        _revoke(CONSOLE), {"scope": scope, "confirm": "yes", "typed": scope}, **HX
    )
    assert "Revoked." in done.content.decode()
    assert scope not in okta_grants(sim, CONSOLE)


def test_a_scope_the_console_does_not_ask_for_needs_no_typing(admin, mirrored, sim):
    """The console app holds okta.logs.read but never asks for it."""
    asked = _text(admin.post(_revoke(CONSOLE), {"only": "okta.logs.read"}, **HX))
    assert "the console's own app" in asked
    assert 'name="typed"' not in asked
    done = admin.post(
        _revoke(CONSOLE), {"scope": "okta.logs.read", "confirm": "yes"}, **HX
    )
    assert "Revoked." in done.content.decode()


def test_the_worker_app_is_marked_and_its_scopes_take_typing(admin, mirrored, sim):
    asked = _text(admin.post(_revoke(WORKER), {"only": "okta.logs.read"}, **HX))
    assert "the worker's own app" in asked
    assert "a service app" in asked
    assert WORKER_FEATURES["okta.logs.read"] in asked
    refused = admin.post(
        _revoke(WORKER), {"scope": "okta.logs.read", "confirm": "yes"}, **HX
    )
    assert refused.status_code == 400
    assert "because the worker needs it" in _text(refused)
    assert "okta.logs.read" in okta_grants(sim, WORKER)


def test_a_bulk_revoke_asks_first_and_types_for_the_console(admin, mirrored, sim):
    scope = "okta.apps.read"
    other = web_app(sim, holding=scope)
    ids = [other["id"], CONSOLE]
    url = f"/scopes/{scope}/revoke"
    before = _rows(scope)
    asked = admin.post(url, {"app": ids}, HTTP_HX_REQUEST="true")
    body = _text(asked)
    assert asked.status_code == 200
    assert 'role="alertdialog"' in body
    assert other["label"] in body
    assert "a web app" in body
    assert "the console's own app" in body
    assert CONSOLE_FEATURES[scope] in body
    assert "high risk" in body
    refused = admin.post(url, {"app": ids, "confirm": "yes"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "Nothing was revoked" in _text(refused)
    assert grant_writes(sim) == []
    assert _rows(scope) == before
    done = admin.post(
        url, {"app": ids, "confirm": "yes", "typed": scope}, HTTP_HX_REQUEST="true"
    )
    assert done.status_code == 200
    assert scope not in okta_grants(sim, other["id"])
    assert scope not in okta_grants(sim, CONSOLE)
    # each app's result offers Undo of its own revoke (a plain form: the
    # confirmation and the result are the app's)
    forms = re.findall(
        r'action="/apps/([^/]+)/grants/undo">.*?name="revoke" value="(\d+)"',
        done.content.decode(),
        re.S,
    )
    assert [app_id for app_id, _ in forms] == ids
    undone = admin.post(_undo(other["id"]), {"revoke": forms[0][1], "confirm": "yes"})
    assert undone.status_code == 302
    assert undone["Location"].startswith(f"/apps/{other['id']}/")
    assert scope in okta_grants(sim, other["id"])


def test_a_bulk_revoke_of_other_apps_needs_no_typing(admin, mirrored, sim):
    apps = [
        a
        for a in sim.state()["apps"]
        if a["id"] not in (CONSOLE, WORKER)
        and "okta.apps.read" in {g["scopeId"] for g in a["grants"]}
    ][:2]
    ids = [a["id"] for a in apps]
    asked = _text(admin.post("/scopes/okta.apps.read/revoke", {"app": ids}))
    assert 'name="typed"' not in asked
    assert grant_writes(sim) == []
    done = admin.post("/scopes/okta.apps.read/revoke", {"app": ids, "confirm": "yes"})
    assert done.status_code == 302
    assert all("okta.apps.read" not in okta_grants(sim, i) for i in ids)


def _revoked(admin, sim, scope: str) -> tuple[dict, int]:
    """A web app that held ``scope`` (granted first when it is low risk) and the
    seq of the revoke's final audit row, read from its result's Undo form."""
    if scope == LOW:
        app = web_app(sim, without=scope)
        granted = admin.post(f"/apps/{app['id']}/grants/grant", {"only": scope}, **HX)
        assert "Granted." in granted.content.decode()
    else:
        app = web_app(sim, holding=scope)
    done = admin.post(_revoke(app["id"]), {"scope": scope, "confirm": "yes"}, **HX)
    seq = re.search(r'name="revoke" value="(\d+)"', done.content.decode())
    assert seq, "a revoke's result offers Undo"
    event = AuditEvent.objects.get(seq=int(seq.group(1)))
    assert (event.action, event.scope_id, event.outcome) == ("revoke", scope, "success")
    return app, event.seq


def _undo_clock(monkeypatch, ahead: timedelta) -> None:
    """The undo view's clock only, ``ahead`` of now (audit rows cannot be aged)."""

    class Clock:
        @staticmethod
        def now():
            return timezone.now() + ahead

    monkeypatch.setattr(app_views, "timezone", Clock)


def test_undo_within_ten_minutes_grants_again_as_an_audited_grant(
    admin, mirrored, sim, monkeypatch
):
    scope = LOW  # no confirmation, no step-up
    app, seq = _revoked(admin, sim, scope)
    assert scope not in okta_grants(sim, app["id"])
    _undo_clock(monkeypatch, timedelta(minutes=9))
    undone = admin.post(_undo(app["id"]), {"revoke": str(seq)}, **HX)
    assert undone.status_code == 200
    assert f"{scope}</code>: Granted." in undone.content.decode()
    assert scope in okta_grants(sim, app["id"])
    grant = AuditEvent.objects.filter(action="grant", scope_id=scope).latest("seq")
    assert (grant.outcome, grant.actor_login, grant.app_okta_id) == (
        "success",
        SUPER.login,
        app["id"],
    )
    assert AuditEvent.objects.filter(
        action="grant_intent", scope_id=scope, seq__gt=seq
    ).exists()


def test_undo_after_ten_minutes_is_refused_and_writes_nothing(
    admin, mirrored, sim, monkeypatch
):
    scope = LOW
    app, seq = _revoked(admin, sim, scope)
    before = (len(grant_writes(sim)), _rows(scope))
    _undo_clock(monkeypatch, timedelta(minutes=10, seconds=5))
    for hx in (HX, {}):
        refused = admin.post(_undo(app["id"]), {"revoke": str(seq)}, **hx)
        assert refused.status_code == 400
        assert "10 minutes" in _text(refused)
    assert (len(grant_writes(sim)), _rows(scope)) == before
    assert scope not in okta_grants(sim, app["id"])


@pytest.mark.parametrize(
    "revoke", ["", "abc", "99999999", "-1", "1" * 40, "{seq_of_a_grant}", "{other}"]
)
def test_undo_of_anything_but_this_apps_revoke_is_refused(admin, mirrored, sim, revoke):
    scope = LOW
    app, seq = _revoked(admin, sim, scope)
    other = next(
        a
        for a in sim.state()["apps"]
        if a["kind"] == "web"
        and a["id"] not in (app["id"], CONSOLE)
        and scope not in {g["scopeId"] for g in a["grants"]}
    )
    grant = admin.post(f"/apps/{other['id']}/grants/grant", {"only": scope}, **HX)
    assert "Granted." in grant.content.decode()
    grant_seq = AuditEvent.objects.filter(action="grant").latest("seq").seq
    value = revoke.format(seq_of_a_grant=grant_seq, other=seq)
    target = other["id"] if revoke == "{other}" else app["id"]
    before = (len(grant_writes(sim)), _rows(scope))
    refused = admin.post(_undo(target), {"revoke": value}, **HX)
    assert refused.status_code == 400
    assert "no revoke of this app to undo" in _text(refused)
    assert (len(grant_writes(sim)), _rows(scope)) == before


def test_undo_is_post_only_with_csrf(admin_csrf, mirrored, sim):
    app = web_app(sim)
    assert admin_csrf.get(_undo(app["id"])).status_code == 405
    assert admin_csrf.post(_undo(app["id"]), {"revoke": "1"}).status_code == 403


def test_undo_of_a_risky_scope_asks_again_and_steps_up(admin, mirrored, sim, settings):
    scope = "okta.apps.read"  # high risk: confirmation and a recent sign-in
    app, seq = _revoked(admin, sim, scope)
    asked = admin.post(_undo(app["id"]), {"revoke": str(seq)}, **HX)
    body = _text(asked)
    assert "Undo the revoke: grant" in body
    assert f'action="{_undo(app["id"])}"' in body
    assert f'name="revoke" value="{seq}"' in body
    assert scope not in okta_grants(sim, app["id"])
    settings.ACCOUNTS_STEP_UP_MAX_AGE = 0
    data = {"revoke": str(seq), "confirm": "yes"}
    stepped = admin.post(_undo(app["id"]), data, **HX)
    assert stepped["HX-Redirect"].startswith(sim.url + "/oauth2/v1/authorize")
    assert scope not in okta_grants(sim, app["id"])
    settings.ACCOUNTS_STEP_UP_MAX_AGE = 900
    done = admin.post(_undo(app["id"]), data, **HX)
    assert "Granted." in done.content.decode()
    assert scope in okta_grants(sim, app["id"])


def test_undo_takes_a_fresh_super_admin_check(admin, mirrored, sim):
    scope = LOW
    app, seq = _revoked(admin, sim, scope)
    sim.set_roles(SUPER.login, ["READ_ONLY_ADMIN"])
    before = len(grant_writes(sim))
    refused = admin.post(_undo(app["id"]), {"revoke": str(seq)})
    assert refused.status_code == 403
    assert "READ_ONLY_ADMIN" in _text(refused)
    assert len(grant_writes(sim)) == before
    assert AuditEvent.objects.filter(action="authz_denied").exists()
    assert scope not in okta_grants(sim, app["id"])


def test_a_revoke_that_found_the_grant_gone_offers_no_undo(admin, mirrored, sim):
    app = web_app(sim, without=LOW)
    done = admin.post(_revoke(app["id"]), {"scope": LOW, "confirm": "yes"}, **HX)
    body = done.content.decode()
    assert "Already revoked" in body
    assert 'name="revoke"' not in body
    seq = AuditEvent.objects.filter(action="revoke", scope_id=LOW).latest("seq").seq
    refused = admin.post(_undo(app["id"]), {"revoke": str(seq)}, **HX)
    assert refused.status_code == 400
    assert LOW not in okta_grants(sim, app["id"])


def test_a_revoke_says_tokens_already_issued_keep_the_scope(admin, mirrored, sim):
    # A web app: the result will offer to end its refresh tokens.
    app = web_app(sim, holding="okta.apps.read")
    body = _text(admin.post(_revoke(app["id"]), {"only": "okta.apps.read"}, **HX))
    assert "Tokens already issued keep this scope until they expire" in body
    assert "offers to revoke the app's refresh tokens" in body
    # A service app has none (client credentials): only the token lifetime.
    app = _service_app(sim, "okta.users.read")
    body = _text(admin.post(_revoke(app["id"]), {"only": "okta.users.read"}, **HX))
    assert "Tokens already issued keep this scope until they expire" in body
    assert "at most 60 minutes" in body
    assert "refresh tokens" in body  # why there is nothing more to end
    assert "offers to revoke the app's refresh tokens" not in body


def test_a_service_apps_revoke_result_offers_no_refresh_token_revoke(
    admin, mirrored, sim
):
    # Client credentials never issue refresh tokens: the offer would do nothing.
    app = _service_app(sim, "okta.users.read")
    done = _text(
        admin.post(
            _revoke(app["id"]), {"scope": "okta.users.read", "confirm": "yes"}, **HX
        )
    )
    assert "okta.users.read</code>: Revoked." in done
    assert "Revoke this app's refresh tokens" not in done


def test_a_bulk_revoke_offers_the_refresh_token_revoke_only_to_apps_that_have_them(
    admin, mirrored, sim
):
    service = _service_app(sim, "okta.users.read")
    web = web_app(sim, holding="okta.users.read")
    done = _text(
        admin.post(
            "/scopes/okta.users.read/revoke",
            {"app": [service["id"], web["id"]], "confirm": "yes"},
            **HX,
        )
    )
    assert done.count("Revoked.") == 2
    assert f"/apps/{web['id']}/tokens/revoke" in done
    assert f"/apps/{service['id']}/tokens/revoke" not in done


def test_a_service_apps_page_has_no_refresh_token_section(admin, mirrored, sim):
    service = _service_app(sim, "okta.users.read")
    assert 'id="refresh-tokens"' not in _text(admin.get(f"/apps/{service['id']}/"))
    web = web_app(sim, holding="okta.users.read")
    assert 'id="refresh-tokens"' in _text(admin.get(f"/apps/{web['id']}/"))

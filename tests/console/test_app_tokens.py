"""Finishing a revoke from the console: a revoke's result offers "Revoke this
app's refresh tokens", which confirms first (naming the residual window), steps
up, revokes them with the admin's own token, audits the write and queues the
System Log check; "Refresh from Okta" stores the app's live refresh tokens,
which the app page shows (and "not readable" with the reason, keeping the last
figures, when Okta refuses)."""

from __future__ import annotations

import re

import pytest

from grantsconsole.console.views import app_tokens as token_views
from grantsconsole.grants.models import AppRefreshTokens, AuditEvent
from grantsconsole.grants.services import app_tokens
from tests.console.conftest import okta_grants
from tests.factories import SUPER

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "grant-collection"}
APP = "Legacy CRM"  # the demo web app with three live refresh tokens
SCOPE = "okta.users.read"  # held by it


def _app(sim) -> dict:
    return next(a for a in sim.state()["apps"] if a["label"] == APP)


def _tokens_url(app_id: str) -> str:
    return f"/apps/{app_id}/tokens/revoke"


def _token_calls(sim, method: str) -> list[dict]:
    return [
        r
        for r in sim.requests()
        if r["method"] == method and r["path"].endswith("/tokens")
    ]


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    """The check_token_window tasks the view queues (not sent to a broker)."""
    calls: list[dict] = []
    monkeypatch.setattr(
        token_views.tasks.check_token_window,
        "apply_async",
        lambda **kw: calls.append(kw),
    )
    return calls


def _revoked(admin, sim) -> tuple[dict, int]:
    """Revoke SCOPE from APP; the seq its result's offer names."""
    app = _app(sim)
    done = admin.post(
        f"/apps/{app['id']}/grants/revoke", {"scope": SCOPE, "confirm": "yes"}, **HX
    )
    body = done.content.decode()
    assert f'action="{_tokens_url(app["id"])}"' in body
    assert "Revoke this app's refresh tokens" in _text(done)
    seq = int(re.search(r'name="revoke" value="(\d+)"', body).group(1))
    assert AuditEvent.objects.get(seq=seq).action == "revoke"
    return app, seq


def test_offer_confirms_then_revokes_audits_and_queues_the_check(
    admin, mirrored, sim, queued
):
    app, seq = _revoked(admin, sim)
    assert SCOPE not in okta_grants(sim, app["id"])

    asked = admin.post(_tokens_url(app["id"]), {"revoke": str(seq)})
    text = _text(asked)
    assert asked.status_code == 200
    assert "Revoke every refresh token of" in text
    assert "at most 60 minutes after the revoke" in text
    assert f'name="revoke" value="{seq}"' in text
    assert _token_calls(sim, "DELETE") == []

    done = admin.post(_tokens_url(app["id"]), {"revoke": str(seq), "confirm": "yes"})

    assert done.status_code == 302
    assert done["Location"] == f"/apps/{app['id']}/#refresh-tokens"
    assert len(_token_calls(sim, "DELETE")) == 1
    assert _token_calls(sim, "DELETE")[0]["caller"] == SUPER.login
    intent, final = AuditEvent.objects.filter(
        action__in=("tokens_revoke_intent", "tokens_revoke")
    ).order_by("seq")
    assert (intent.action, intent.outcome) == ("tokens_revoke_intent", "pending")
    assert (final.action, final.outcome, final.scope_id) == (
        "tokens_revoke",
        "success",
        SCOPE,
    )
    assert final.okta_request_id
    assert final.actor_login == SUPER.login
    assert final.detail["after_revoke_seq"] == seq
    (task,) = queued
    assert task["args"] == [seq]
    assert 3600 <= task["countdown"] <= 3600 + app_tokens.CHECK_GRACE_SECONDS
    assert AppRefreshTokens.objects.get(app__okta_id=app["id"]).count == 0
    page = _text(admin.get(f"/apps/{app['id']}/"))
    assert "0 live refresh tokens" in page
    assert "revoked the refresh tokens" in page
    assert "Revoked" in page  # the message of the write


@pytest.mark.parametrize("value", ["", "abc", "99999999", "1" * 40, "{grant}"])
def test_anything_but_this_apps_revoke_is_refused(admin, mirrored, sim, value, queued):
    app, seq = _revoked(admin, sim)
    grant_seq = AuditEvent.objects.filter(action="revoke_intent").latest("seq").seq
    data = {"revoke": value.format(grant=grant_seq), "confirm": "yes"}
    refused = admin.post(_tokens_url(app["id"]), data)
    assert refused.status_code == 400
    assert "no revoke of this app to finish" in _text(refused)
    other = next(
        a
        for a in sim.state()["apps"]
        if a["kind"] == "web" and a["id"] != app["id"] and a["status"] == "ACTIVE"
    )
    assert admin.post(_tokens_url(other["id"]), {"revoke": seq}).status_code == 400
    assert _token_calls(sim, "DELETE") == []
    assert queued == []


def test_post_only_with_csrf(admin_csrf, mirrored, sim):
    app = _app(sim)
    assert admin_csrf.get(_tokens_url(app["id"])).status_code == 405
    assert admin_csrf.post(_tokens_url(app["id"]), {"revoke": "1"}).status_code == 403


def test_a_demoted_admin_is_refused_before_okta_is_called(
    admin, mirrored, sim, settings, queued
):
    app, seq = _revoked(admin, sim)
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 0
    sim.set_roles(SUPER.login, ["APP_ADMIN"])
    refused = admin.post(_tokens_url(app["id"]), {"revoke": seq, "confirm": "yes"})
    assert refused.status_code == 403
    assert _token_calls(sim, "DELETE") == []
    assert not AuditEvent.objects.filter(action="tokens_revoke").exists()


def test_it_steps_up_when_the_sign_in_is_old(admin, mirrored, sim, settings, queued):
    app, seq = _revoked(admin, sim)
    settings.ACCOUNTS_STEP_UP_MAX_AGE = 0
    stepped = admin.post(_tokens_url(app["id"]), {"revoke": seq, "confirm": "yes"})
    assert stepped.status_code == 302
    assert "/oauth2/v1/authorize" in stepped["Location"]
    assert _token_calls(sim, "DELETE") == []


def test_okta_refusal_is_audited_and_said(admin, mirrored, sim, queued):
    app, seq = _revoked(admin, sim)
    sim.fault("/tokens$", status=403, method="DELETE")
    done = admin.post(
        _tokens_url(app["id"]), {"revoke": seq, "confirm": "yes"}, follow=True
    )
    assert "Refresh tokens not revoked" in _text(done)
    final = AuditEvent.objects.get(action="tokens_revoke")
    assert (final.outcome, final.detail["status"]) == ("failure", 403)
    assert queued == []
    assert len(_sim_tokens(sim, app["id"])) == 3


def _sim_tokens(sim, app_id: str) -> list:
    import requests

    from tests.oktasim.conftest import SSWS_TOKEN

    r = requests.get(
        f"{sim.url}/api/v1/apps/{app_id}/tokens",
        headers={"Authorization": f"SSWS {SSWS_TOKEN}"},
        timeout=10,
    )
    return r.json()


def test_refresh_from_okta_stores_the_tokens_and_a_refusal_keeps_them(
    admin, mirrored, sim
):
    app = _app(sim)
    page = _text(admin.get(f"/apps/{app['id']}/"))
    assert "Not read yet" in page
    assert admin.post(f"/apps/{app['id']}/refresh").status_code == 302
    summary = AppRefreshTokens.objects.get(app__okta_id=app["id"])
    assert summary.count == 3
    assert summary.oldest < summary.newest
    assert "3 live refresh tokens" in _text(admin.get(f"/apps/{app['id']}/"))

    sim.fault("/tokens$", status=403, method="GET")
    assert admin.post(f"/apps/{app['id']}/refresh").status_code == 302
    page = _text(admin.get(f"/apps/{app['id']}/"))
    assert "Refresh tokens not readable" in page
    assert "3 live refresh tokens" in page  # the last read that worked
    assert "Grant collection" in page  # the app's other data is kept


def test_a_bulk_revoke_offers_it_on_each_apps_line(admin, mirrored, sim):
    app = _app(sim)
    done = admin.post(
        f"/scopes/{SCOPE}/revoke",
        {"app": [app["id"]], "confirm": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 200
    offer = re.search(
        rf'action="{_tokens_url(app["id"])}">.*?name="revoke" value="(\d+)"',
        done.content.decode(),
        re.S,
    )
    assert offer, "the bulk result line offers the refresh-token revoke"
    event = AuditEvent.objects.get(seq=int(offer.group(1)))
    assert (event.action, event.scope_id, event.app_okta_id) == (
        "revoke",
        SCOPE,
        app["id"],
    )


def _oob_section(body: str, section_id: str) -> str:
    """The out-of-band section ``section_id`` of an htmx answer ("" if absent)."""
    found = re.search(
        rf'<section id="{section_id}"[^>]*hx-swap-oob="true".*?</section>', body, re.S
    )
    return found.group(0) if found else ""


def test_refresh_with_htmx_lands_on_the_whole_page_with_the_tokens_it_read(
    admin, mirrored, sim
):
    # Refresh re-reads every section, so htmx is sent to the whole page rather
    # than given the grant collection alone (which kept "Not read yet").
    app = _app(sim)
    done = admin.post(f"/apps/{app['id']}/refresh", **HX)
    assert done.status_code == 204
    assert done["HX-Redirect"] == f"/apps/{app['id']}/"
    assert "3 live refresh tokens" in _text(admin.get(done["HX-Redirect"]))


def test_revoke_in_place_also_updates_the_effective_privilege(admin, mirrored, sim):
    # Legacy CRM's only manage scope goes: its effective privilege line goes too.
    app = _app(sim)
    done = admin.post(
        f"/apps/{app['id']}/grants/revoke",
        {"scope": "okta.apps.manage", "confirm": "yes"},
        **HX,
    )
    assert done.status_code == 200
    section = _oob_section(_text(done), "app-privilege")
    assert "No manage scope held." in section
    assert "okta.apps.manage" not in section


def test_the_app_page_keeps_offering_it_until_the_tokens_are_revoked(
    admin, mirrored, sim, queued, settings
):
    """Without JavaScript the revoke redirects and its result line is gone: the
    app's page offers the refresh-token revoke for each revoke of the last token
    lifetime, until one ends the tokens."""
    app = _app(sim)
    done = admin.post(
        f"/apps/{app['id']}/grants/revoke", {"scope": SCOPE, "confirm": "yes"}
    )
    assert done.status_code == 302
    revoke = AuditEvent.objects.get(action="revoke", scope_id=SCOPE)
    page = _text(admin.get(f"/apps/{app['id']}/"))
    offer = re.search(
        rf'action="{_tokens_url(app["id"])}">.*?name="revoke" value="(\d+)"',
        page,
        re.S,
    )
    assert offer
    assert int(offer.group(1)) == revoke.seq
    assert f"You revoked <code>{SCOPE}</code>" in page

    settings.OKTA_ACCESS_TOKEN_LIFETIME = 0  # the revoke's window has passed
    assert (
        _tokens_url(app["id"]) not in admin.get(f"/apps/{app['id']}/").content.decode()
    )
    settings.OKTA_ACCESS_TOKEN_LIFETIME = 3600

    admin.post(_tokens_url(app["id"]), {"revoke": str(revoke.seq), "confirm": "yes"})
    page = _text(admin.get(f"/apps/{app['id']}/"))
    assert "revoked the refresh tokens" in page
    assert _tokens_url(app["id"]) not in page

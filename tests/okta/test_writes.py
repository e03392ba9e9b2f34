"""Grant and revoke: idempotent, and never a blind POST repeat."""

import pytest

from grantsconsole.okta import (
    OktaClient,
    OktaInsufficientScope,
    OktaPermissionDenied,
    OktaServerError,
    OktaValidationError,
    scope_catalog,
)

from .conftest import CONSOLE_ID, sign_in, user_source

APP = "0oa1workerDEMO0000x7"  # the worker service app (an OIDC app of the demo org)


def grant_calls(sim, app_id=APP):
    """(method, status) of every request to the app's grants, in order."""
    return [
        (r["method"], r["status"])
        for r in sim.requests()
        if r["path"].startswith(f"/api/v1/apps/{app_id}/grants")
    ]


def held(sim, app_id=APP):
    app = next(a for a in sim.state()["apps"] if a["id"] == app_id)
    return sorted(g["scopeId"] for g in app["grants"])


def test_grant_then_grant_again_then_revoke_twice(sim, admin_okta):
    result = admin_okta.grant_scope(APP, "okta.clients.read")
    assert not result.already_present
    assert not result.recovered
    assert result.grant.scope_id == "okta.clients.read"
    assert result.grant.issuer == sim.url
    assert result.request_id
    assert "okta.clients.read" in held(sim)

    again = admin_okta.grant_scope(APP, "okta.clients.read")
    assert again.already_present
    assert again.grant.id == result.grant.id
    assert grant_calls(sim) == [("POST", 200), ("POST", 400), ("GET", 200)]

    revoked = admin_okta.revoke_grant(APP, result.grant.id)
    assert not revoked.already_gone
    assert "okta.clients.read" not in held(sim)
    gone = admin_okta.revoke_grant(APP, result.grant.id)
    assert gone.already_gone
    by_scope = admin_okta.revoke_scope(APP, "okta.clients.read")
    assert by_scope.already_gone
    assert grant_calls(sim)[3:] == [("DELETE", 204), ("DELETE", 404), ("GET", 200)]


def test_revoke_scope_finds_the_grant_by_reading_back(sim, admin_okta):
    result = admin_okta.revoke_scope(APP, "okta.logs.read")
    assert not result.already_gone
    assert result.grant_id.startswith("oag")
    assert "okta.logs.read" not in held(sim)


def test_201_is_as_good_as_200(sim, admin_okta):
    grant = admin_okta.list_grants(CONSOLE_ID)[0]
    body = {
        "id": "oag1created201000x7",
        "status": "ACTIVE",
        "issuer": sim.url,
        "clientId": APP,
        "scopeId": "okta.groups.read",
        "source": "ADMIN",
        "created": "2026-11-29T10:00:00.000Z",
        "lastUpdated": "2026-11-29T10:00:00.000Z",
        "createdBy": {"id": "00u1", "type": "User"},
    }
    assert grant.issuer == sim.url
    sim.fault(f"/api/v1/apps/{APP}/grants$", method="POST", status=201, body=body)
    result = admin_okta.grant_scope(APP, "okta.groups.read")
    assert result.grant.id == "oag1created201000x7"
    assert not result.already_present


def test_post_lost_to_5xx_is_read_back_before_it_is_sent_again(sim, admin_okta):
    sim.fault(f"/api/v1/apps/{APP}/grants$", method="POST", status=500)
    result = admin_okta.grant_scope(APP, "okta.groups.read")
    assert not result.recovered
    assert grant_calls(sim) == [("POST", 500), ("GET", 200), ("POST", 200)]
    assert held(sim).count("okta.groups.read") == 1


def test_post_whose_answer_was_cut_off_is_found_by_reading_back(sim, admin_okta):
    """Okta did the grant but the answer was lost: no second POST."""
    sim.fault(f"/api/v1/apps/{APP}/grants$", method="POST", kind="truncate")
    result = admin_okta.grant_scope(APP, "okta.groups.read")
    assert result.recovered
    assert result.grant.scope_id == "okta.groups.read"
    assert [m for m, _ in grant_calls(sim)] == ["POST", "GET"]


def test_dropped_post_is_sent_again_only_after_reading_back(sim, admin_okta):
    sim.fault(f"/api/v1/apps/{APP}/grants$", method="POST", kind="drop")
    result = admin_okta.grant_scope(APP, "okta.groups.read")
    assert not result.recovered
    assert [m for m, _ in grant_calls(sim)] == ["POST", "GET", "POST"]
    assert held(sim).count("okta.groups.read") == 1


def test_post_429_waits_reads_back_then_posts(sim, admin_okta, clock):
    sim.fault(f"/api/v1/apps/{APP}/grants$", method="POST", status=429)
    admin_okta.grant_scope(APP, "okta.groups.read")
    assert grant_calls(sim) == [("POST", 429), ("GET", 200), ("POST", 200)]
    assert clock.slept
    assert sum(clock.slept) >= 1.0  # at least the extra second after the reset


def test_persistent_5xx_gives_up_after_bounded_attempts(sim, admin_okta):
    sim.fault(f"/api/v1/apps/{APP}/grants$", method="POST", status=503, times=-1)
    with pytest.raises(OktaServerError) as err:
        admin_okta.grant_scope(APP, "okta.groups.read")
    assert err.value.status == 503
    calls = grant_calls(sim)
    assert [m for m, _ in calls] == ["POST", "GET"] * admin_okta.max_write_attempts
    assert "okta.groups.read" not in held(sim)


def test_invalid_scope_is_a_validation_error_with_okta_causes(sim, admin_okta):
    with pytest.raises(OktaValidationError) as err:
        admin_okta.grant_scope(APP, "okta.notAScope.read")
    assert err.value.status == 400
    assert err.value.error_code == "E0000001"
    assert any("okta.notAScope.read" in c for c in err.value.error_causes)
    assert grant_calls(sim) == [("POST", 400), ("GET", 200)]


def test_uncatalogued_scope_is_still_sent(sim, admin_okta):
    """The catalog is metadata, never a gate: Okta decides."""
    assert scope_catalog.get("okta.aiAgents.read") is None
    result = admin_okta.grant_scope(APP, "okta.aiAgents.read")
    assert result.grant.scope_id == "okta.aiAgents.read"
    assert not scope_catalog.describe(result.grant.scope_id).catalogued


def test_token_without_the_manage_scope_names_it(sim, clock):
    tokens = sign_in(sim.url, "super.admin@example.com", "openid okta.appGrants.read")
    client = OktaClient(sim.url, user_source(sim, tokens, clock), clock=clock)
    assert client.list_grants(APP)  # reading is fine
    with pytest.raises(OktaInsufficientScope) as err:
        client.grant_scope(APP, "okta.groups.read")
    assert err.value.scope == "okta.appGrants.manage"
    assert err.value.status == 403
    assert "okta.appGrants.manage" in err.value.explanation
    assert "okta.groups.read" not in held(sim)


def test_read_only_admin_with_the_scope_is_denied_in_plain_words(sim, clock):
    """Silent downscoping: the token carries okta.appGrants.manage, Okta still says no."""
    tokens = sign_in(sim.url, "readonly.admin@example.com")
    assert "okta.appGrants.manage" in tokens["scope"].split()
    client = OktaClient(sim.url, user_source(sim, tokens, clock), clock=clock)
    with pytest.raises(OktaPermissionDenied) as err:
        client.grant_scope(APP, "okta.groups.read")
    assert err.value.error_code == "E0000006"
    assert "Super Admin" in err.value.explanation
    assert "silent downscoping" in err.value.explanation
    assert grant_calls(sim) == [("POST", 403)]


def test_delete_by_id_is_safe_to_repeat(sim, admin_okta):
    grant = next(
        g for g in admin_okta.list_grants(APP) if g.scope_id == "okta.logs.read"
    )
    sim.fault(f"/grants/{grant.id}$", method="DELETE", status=503)
    sim.fault(f"/grants/{grant.id}$", method="DELETE", kind="drop")
    result = admin_okta.revoke_grant(APP, grant.id)
    assert not result.already_gone
    assert [s for m, s in grant_calls(sim) if m == "DELETE"] == [503, 0, 204]
    assert "okta.logs.read" not in held(sim)

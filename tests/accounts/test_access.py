"""Role re-checks: every write, and reads at least every 5 minutes; a demoted
Super Admin is refused on the next write with no Okta write made."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow
from tests.accounts.conftest import introspect, okta_writes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.accounts.urls"),
]


def _app_id(sim, label: str = "Expense Reports") -> str:
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == label)


def _roles_calls(sim) -> list[dict]:
    return [r for r in sim.requests() if r["path"].endswith("/roles")]


def test_anonymous_is_sent_to_sign_in(sim) -> None:
    client = flow.console_client()
    response = client.post("/test/grant/", {"app_id": "x", "scope_id": "y"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert client.get("/health/console/").status_code == 302
    htmx = client.get("/health/console/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx["HX-Redirect"] == "/accounts/login/"
    assert okta_writes(sim) == []


def test_super_admin_write_rechecks_role_then_writes_with_own_token(sim, admin) -> None:
    app_id = _app_id(sim)
    before = len(_roles_calls(sim))
    response = admin.post(
        "/test/grant/", {"app_id": app_id, "scope_id": "okta.users.read"}
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["granted"] == "okta.users.read"
    assert len(_roles_calls(sim)) == before + 1  # fresh check before the write
    writes = okta_writes(sim)
    assert len(writes) == 1
    assert writes[0]["status"] in (200, 201)
    OktaCredential.objects.get()
    # made with the admin's own delegated token: Okta names the admin
    assert flow.SUPER in str(writes[0]["caller"])
    app = next(a for a in sim.state()["apps"] if a["id"] == app_id)
    assert "okta.users.read" in [g["scopeId"] for g in app["grants"]]


@pytest.mark.parametrize("roles", [[], ["APP_ADMIN"], ["ORG_ADMIN"]])
def test_demoted_super_admin_is_refused_on_next_write_without_okta_write(
    sim, admin, roles: list[str]
) -> None:
    cred = OktaCredential.objects.get()
    access_token = cred.access_token
    sim.set_roles(flow.SUPER, roles)
    response = admin.post(
        "/test/grant/", {"app_id": _app_id(sim), "scope_id": "okta.users.read"}
    )
    assert response.status_code == 403
    assert okta_writes(sim) == []
    event = AuditEvent.objects.get(action="authz_denied")
    assert event.actor_login == flow.SUPER
    assert event.detail["during"] == "POST"
    assert event.detail["reason"] == ("not_super_admin" if roles else "no_admin_role")
    # the session is over and its tokens are revoked at Okta
    assert not OktaCredential.objects.exists()
    assert introspect(access_token)["active"] is False
    assert admin.get("/health/console/").status_code == 302


def test_reads_recheck_the_role_after_five_minutes(sim, admin) -> None:
    app_id = _app_id(sim, "Payroll Portal")
    calls = len(_roles_calls(sim))
    assert admin.get(f"/test/read/{app_id}/").status_code == 200
    assert len(_roles_calls(sim)) == calls  # checked at sign-in moments ago

    def age_check() -> None:
        OktaCredential.objects.update(
            role_checked_at=timezone.now() - timedelta(seconds=301)
        )

    age_check()
    assert admin.get(f"/test/read/{app_id}/").status_code == 200
    assert len(_roles_calls(sim)) == calls + 1
    assert admin.get(f"/test/read/{app_id}/").status_code == 200
    assert len(_roles_calls(sim)) == calls + 1  # fresh again for 5 minutes

    sim.set_roles(flow.SUPER, ["ORG_ADMIN"])
    age_check()
    response = admin.get(f"/test/read/{app_id}/")
    assert response.status_code == 403
    assert b'data-reason="not_super_admin"' in response.content
    assert len(_roles_calls(sim)) == calls + 2
    assert not OktaCredential.objects.exists()


def test_okta_outage_during_recheck_fails_closed_but_keeps_session(sim, admin) -> None:
    sim.fault("/roles$", status=503, times=-1)
    response = admin.post(
        "/test/grant/", {"app_id": _app_id(sim), "scope_id": "okta.users.read"}
    )
    assert response.status_code == 503
    assert b'data-reason="okta_unavailable"' in response.content
    assert okta_writes(sim) == []
    assert OktaCredential.objects.exists()  # not signed out for Okta's outage
    sim.clear_faults()
    ok = admin.post(
        "/test/grant/", {"app_id": _app_id(sim), "scope_id": "okta.users.read"}
    )
    assert ok.status_code == 200


def test_htmx_write_by_demoted_admin_swaps_in_the_explanation(sim, admin) -> None:
    sim.set_roles(flow.SUPER, ["APP_ADMIN"])
    response = admin.post(
        "/test/grant/",
        {"app_id": _app_id(sim), "scope_id": "okta.users.read"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert response["HX-Retarget"] == "#main"
    assert b'data-reason="not_super_admin"' in response.content
    assert okta_writes(sim) == []
    assert not OktaCredential.objects.exists()

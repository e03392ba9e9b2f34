"""Token custody over real HTTP: refresh before expiry and once on a 401 (new
tokens stored encrypted), sign-out revokes at Okta and ends the Okta session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow
from tests.accounts.conftest import introspect

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.accounts.urls"),
]


def _payroll(sim) -> str:
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == "Payroll Portal")


def _token_requests(sim) -> list[dict]:
    return [r for r in sim.requests() if r["path"] == "/oauth2/v1/token"]


def test_expired_token_is_refreshed_once_after_a_401_and_stored(sim, admin) -> None:
    before = OktaCredential.objects.get()
    old_access, old_refresh = before.access_token, before.refresh_token
    exchanges = len(_token_requests(sim))  # the sign-in's code exchange
    sim.advance_clock(3601)  # Okta now considers the access token expired
    response = admin.get(f"/test/read/{_payroll(sim)}/")
    assert response.status_code == 200, response.content[:500]
    assert response.json()["scopes"] == ["okta.groups.read", "okta.users.read"]

    reqs = sim.requests()
    grants_calls = [r for r in reqs if r["path"].endswith("/grants")]
    assert [r["status"] for r in grants_calls] == [401, 200]
    assert len(_token_requests(sim)) == exchanges + 1
    after = OktaCredential.objects.get()
    assert after.access_token not in (old_access, "")
    assert after.access_token_enc != before.access_token_enc
    assert old_access not in after.access_token_enc
    assert introspect(after.access_token)["active"] is True
    assert after.refresh_token  # kept (or rotated), still there
    # a second read uses the stored, refreshed token: no new refresh
    assert admin.get(f"/test/read/{_payroll(sim)}/").status_code == 200
    assert len(_token_requests(sim)) == exchanges + 1
    assert old_refresh  # the sign-in had a refresh token (offline_access)


def test_token_about_to_expire_is_refreshed_before_the_call(sim, admin) -> None:
    OktaCredential.objects.update(
        access_expires_at=timezone.now() + timedelta(seconds=30)
    )
    old = OktaCredential.objects.get().access_token
    assert admin.get(f"/test/read/{_payroll(sim)}/").status_code == 200
    reqs = sim.requests()
    token_at = max(i for i, r in enumerate(reqs) if r["path"] == "/oauth2/v1/token")
    grants_at = next(i for i, r in enumerate(reqs) if r["path"].endswith("/grants"))
    assert token_at < grants_at
    assert all(r["status"] != 401 for r in reqs)
    cred = OktaCredential.objects.get()
    assert cred.access_token != old
    assert cred.access_expires_at > timezone.now() + timedelta(minutes=50)


def test_revoked_refresh_token_ends_the_session(sim, admin) -> None:
    cred = OktaCredential.objects.get()
    from grantsconsole.accounts.custody import revoke_token

    assert revoke_token(cred.refresh_token, "refresh_token")
    assert revoke_token(cred.access_token, "access_token")
    response = admin.get(f"/test/read/{_payroll(sim)}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not OktaCredential.objects.exists()
    assert (
        AuditEvent.objects.filter(action="sign_out").latest("seq").detail["reason"]
        == "okta_token_rejected"
    )


def test_sign_out_revokes_tokens_and_ends_the_okta_session(
    sim, admin, okta_browser
) -> None:
    cred = OktaCredential.objects.get()
    access, refresh, id_token = cred.access_token, cred.refresh_token, cred.id_token
    assert introspect(access)["active"] is True

    # GET only asks for confirmation
    assert admin.get("/accounts/logout/").status_code == 200
    assert OktaCredential.objects.exists()

    response = admin.post("/accounts/logout/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{sim.url}/oauth2/v1/logout?")
    q = flow.query(location)
    assert q["id_token_hint"] == id_token
    assert q["post_logout_redirect_uri"] == f"http://{flow.HOST}/"

    assert not OktaCredential.objects.exists()
    assert "_auth_user_id" not in admin.session
    assert introspect(access)["active"] is False
    assert introspect(refresh)["active"] is False
    event = AuditEvent.objects.filter(action="sign_out").latest("seq")
    assert event.actor_login == flow.SUPER
    assert event.detail["reason"] == "user"

    # RP-initiated logout at Okta ends the Okta session of this browser
    okta = okta_browser.get(location, allow_redirects=False, timeout=10)
    assert okta.status_code == 302
    assert okta.headers["Location"].startswith(f"http://{flow.HOST}/")
    again = okta_browser.get(flow.start(admin), allow_redirects=False, timeout=10)
    assert again.status_code == 200  # the login form, not a silent SSO redirect
    assert 'name="password"' in again.text
    assert admin.get("/health/console/").status_code == 302


def test_sign_out_revokes_at_okta_even_after_a_server_error(sim, admin) -> None:
    """Revocation goes through the Okta transport: a 503 is retried, so the
    tokens of a signed-out session do not stay alive at Okta."""
    cred = OktaCredential.objects.get()
    access, refresh = cred.access_token, cred.refresh_token
    sim.fault("/oauth2/v1/revoke$", method="POST", status=503)
    assert admin.post("/accounts/logout/").status_code == 302
    revokes = [r for r in sim.requests() if r["path"] == "/oauth2/v1/revoke"]
    assert [r["status"] for r in revokes] == [503, 200, 200]
    assert introspect(refresh)["active"] is False
    assert introspect(access)["active"] is False

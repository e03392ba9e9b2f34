"""Sessions: 30 minutes idle, 12 hours absolute; an ended session's Okta tokens
are revoked and deleted."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from grantsconsole.accounts import session as sess
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import AuditEvent
from tests.accounts.conftest import introspect

pytestmark = pytest.mark.django_db(transaction=True)


def _set(client, **values: float) -> None:
    s = client.session
    for key, value in values.items():
        s[key] = value
    s.save()


def _assert_signed_out(client, response, reason: str, access_token: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in client.session
    assert not OktaCredential.objects.exists()
    assert introspect(access_token)["active"] is False
    event = AuditEvent.objects.filter(action="sign_out").latest("seq")
    assert event.detail["reason"] == reason
    page = client.get(response["Location"])
    assert b"signed out" in page.content


def test_activity_keeps_the_session_alive(sim, admin) -> None:
    _set(admin, **{sess.LAST_SEEN: time.time() - 29 * 60})
    assert admin.get("/health/console/").status_code == 200
    assert time.time() - admin.session[sess.LAST_SEEN] < 5


def test_idle_timeout_after_30_minutes(sim, admin) -> None:
    access = OktaCredential.objects.get().access_token
    _set(admin, **{sess.LAST_SEEN: time.time() - 30 * 60 - 1})
    response = admin.get("/health/console/")
    _assert_signed_out(admin, response, "idle_timeout", access)


def test_idle_session_expires_server_side_too(sim, admin) -> None:
    """Django's own expiry (SESSION_COOKIE_AGE, renewed on every request)."""
    assert admin.session.get_expiry_age() == 30 * 60
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = admin.get("/health/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # the orphaned tokens are ended by the periodic purge
    from grantsconsole.accounts.custody import purge_stale

    access = OktaCredential.objects.get().access_token
    OktaCredential.objects.update(last_used_at=timezone.now() - timedelta(minutes=31))
    assert purge_stale() == 1
    assert not OktaCredential.objects.exists()
    assert introspect(access)["active"] is False


def test_absolute_timeout_after_12_hours_despite_activity(sim, admin) -> None:
    access = OktaCredential.objects.get().access_token
    _set(
        admin,
        **{sess.LOGIN_AT: time.time() - 12 * 3600 - 1, sess.LAST_SEEN: time.time() - 5},
    )
    response = admin.get("/health/console/")
    _assert_signed_out(admin, response, "absolute_timeout", access)


def test_timeout_on_a_post_redirects_without_running_it(sim, admin) -> None:
    _set(admin, **{sess.LAST_SEEN: time.time() - 31 * 60})
    response = admin.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_htmx_request_after_timeout_gets_hx_redirect(sim, admin) -> None:
    _set(admin, **{sess.LAST_SEEN: time.time() - 31 * 60})
    response = admin.get("/health/console/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert not OktaCredential.objects.exists()


def test_purge_command_ends_only_stale_credentials(sim, admin) -> None:
    from io import StringIO

    from django.core.management import call_command

    live = OktaCredential.objects.get()
    assert admin.get("/health/console/").status_code == 200
    out = StringIO()
    call_command("purge_okta_tokens", stdout=out)
    assert "Ended 0" in out.getvalue()
    assert OktaCredential.objects.filter(pk=live.pk).exists()

    OktaCredential.objects.update(
        created_at=timezone.now() - timedelta(hours=12, seconds=1)
    )
    call_command("purge_okta_tokens", stdout=out)
    assert "Ended 1" in out.getvalue()
    assert introspect(live.access_token)["active"] is False


def test_tokens_unreadable_after_key_rotation_mean_sign_in_again(
    sim, admin, settings
) -> None:
    from cryptography.fernet import Fernet

    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    response = admin.get("/health/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not OktaCredential.objects.exists()


def test_browsing_within_a_minute_writes_no_session(sim, admin) -> None:
    """LAST_SEEN (and the session row) is renewed at most once a minute, so
    reading pages writes nothing; after a minute it is renewed."""
    from django.contrib.sessions.models import Session

    seen = time.time() - 30
    _set(admin, **{sess.LAST_SEEN: seen})
    expiry = Session.objects.get().expire_date
    assert admin.get("/health/console/").status_code == 200
    assert admin.session[sess.LAST_SEEN] == seen
    assert Session.objects.get().expire_date == expiry

    _set(admin, **{sess.LAST_SEEN: time.time() - 61})
    expiry = Session.objects.get().expire_date
    time.sleep(1.1)  # expire_date has whole-second precision on some engines
    assert admin.get("/health/console/").status_code == 200
    assert time.time() - admin.session[sess.LAST_SEEN] < 5
    assert Session.objects.get().expire_date > expiry

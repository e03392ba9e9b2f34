"""Every refused write attempt is recorded and never reaches Okta: an audit row
when an admin is signed in, a security event when nobody is."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from grantsconsole.accounts.models import SecurityEvent
from grantsconsole.grants.models import AuditEvent, SyncRun
from tests.accounts import flow
from tests.accounts.conftest import okta_writes

pytestmark = pytest.mark.django_db(transaction=True)


def _denials(reason: str) -> list[AuditEvent]:
    return [
        e
        for e in AuditEvent.objects.filter(action="authz_denied").order_by("seq")
        if e.detail.get("reason") == reason
    ]


def test_anonymous_write_is_refused_and_counted_outside_the_chain(sim):
    client = flow.console_client()
    response = client.post("/sync/start", {"kind": "full"})
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]
    assert not AuditEvent.objects.exists()
    event = SecurityEvent.objects.get()
    assert (event.kind, event.source, event.count, event.sample_path) == (
        "not_signed_in",
        "127.0.0.1",
        1,
        "/sync/start",
    )
    assert not SyncRun.objects.exists()
    assert okta_writes(sim) == []


def test_anonymous_write_without_csrf_token_is_counted_outside_the_chain(sim):
    strict = Client(enforce_csrf_checks=True, HTTP_HOST=flow.HOST)
    response = strict.post("/sync/start", {"kind": "full"})
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()
    assert SecurityEvent.objects.get().kind == "csrf"


def test_anonymous_read_leaves_no_audit_row(sim):
    flow.console_client().get("/apps/")
    assert _denials("not_signed_in") == []


def test_write_without_csrf_token_is_refused_and_audited(sim, admin):
    strict = Client(enforce_csrf_checks=True, HTTP_HOST=flow.HOST)
    strict.cookies[settings.SESSION_COOKIE_NAME] = admin.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    response = strict.post("/sync/start", {"kind": "full"})
    assert response.status_code == 403
    [denied] = _denials("csrf")
    assert denied.actor_login == flow.SUPER
    assert not SecurityEvent.objects.exists()
    assert not SyncRun.objects.exists()
    assert okta_writes(sim) == []


def test_demoted_admin_cannot_queue_a_sync(sim, admin):
    sim.set_roles(flow.SUPER, ["READ_ONLY_ADMIN"])
    response = admin.post("/sync/start", {"kind": "full"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action="authz_denied", actor_login=flow.SUPER
    ).exists()
    assert not SyncRun.objects.exists()

""" "Refresh from Okta" re-reads everything the app page shows: its grants, a
service app's admin roles, its compensating controls (secrets or keys) and its
refresh tokens; a read that fails degrades only its own section, with the
reason, and the admin lands on the whole page, current."""

from __future__ import annotations

import html
import re

import pytest

from grantsconsole.grants import services
from grantsconsole.grants.models import AppRefreshTokens, AuditEvent

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "grant-collection"}


@pytest.fixture
def synced(sim, worker_client):
    run = services.run_full_sync(client=worker_client)
    assert run.status == "succeeded", run.message


def _app(sim, label: str) -> dict:
    return next(a for a in sim.state()["apps"] if a["label"] == label)


def _text(response) -> str:
    body = response.content.decode()
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _refresh(admin, app_id: str):
    """Press "Refresh from Okta"; the page the admin lands on (as text)."""
    pressed = admin.post(f"/apps/{app_id}/refresh")
    assert pressed.status_code == 302
    assert pressed["Location"].startswith(f"/apps/{app_id}/")
    return _text(admin.get(pressed["Location"]))


def test_with_htmx_the_admin_lands_on_the_whole_page(admin, sim, synced):
    """Every section may have changed: not a fragment swapped into the old page."""
    app = _app(sim, "Backup Exporter")
    pressed = admin.post(f"/apps/{app['id']}/refresh", **HX)
    assert pressed.status_code == 204
    assert pressed["HX-Redirect"] == f"/apps/{app['id']}/"
    page = _text(admin.get(pressed["HX-Redirect"]))
    assert "Refreshed from Okta" in page  # the outcome, as a message


def test_a_role_changed_in_okta_shows_after_refresh(admin, sim, synced):
    app = _app(sim, "Backup Exporter")  # READ_ONLY_ADMIN in the demo org
    page = _text(admin.get(f"/apps/{app['id']}/"))
    assert "Admin roles READ_ONLY_ADMIN" in page
    sim.set_client_roles(app["client_id"], ["SUPER_ADMIN"])

    page = _refresh(admin, app["id"])

    assert "Admin roles SUPER_ADMIN" in page
    assert "READ_ONLY_ADMIN" not in page
    change = AuditEvent.objects.get(action="privilege_change", app_okta_id=app["id"])
    assert change.detail["after"] == ["SUPER_ADMIN"]
    assert change.detail["detected_by"] == "refresh"


def test_a_rotated_secret_shows_after_refresh(admin, sim, synced):
    app = _app(sim, "Legacy CRM")  # a secret three years old: worsens its risk
    page = _text(admin.get(f"/apps/{app['id']}/"))
    assert "worsens the risk client_secret_basic, secret 3 years old" in page
    sim.oob_app("rotate_secret", app_id=app["id"])

    page = _refresh(admin, app["id"])

    assert "client_secret_basic, secret 0 days old, any network" in page
    assert "worsens the risk" not in page
    assert "Refreshed from Okta: the local state was already current." in page
    assert "3 live refresh tokens" in page  # read by the same press


def test_each_failed_read_degrades_its_own_section(admin, sim, synced):
    """Roles and secrets refused, tokens answered: the grants and the tokens
    are current, the roles and secrets keep their last figures with the
    reason, and the message names what was not read."""
    service = _app(sim, "Backup Exporter")
    web = _app(sim, "Legacy CRM")
    sim.fault(r"/oauth2/v1/clients/.*/roles$", status=403, times=-1)
    sim.fault(r"/credentials/secrets$", status=404, times=-1)
    sim.set_client_roles(service["client_id"], ["SUPER_ADMIN"])
    sim.oob_grant(web["id"], "okta.brands.read")

    page = _refresh(admin, service["id"])
    assert "roles not readable" in page
    assert "HTTP 403" in page
    assert "Admin roles READ_ONLY_ADMIN" in page  # the last roles read
    assert "Not read this time" in page
    assert "admin roles: Okta refused" in page

    page = _refresh(admin, web["id"])
    assert "secrets not readable" in page
    assert "credentials: secrets not readable" in page  # the message
    assert "okta.brands.read" in page  # the grants were read all the same
    assert AppRefreshTokens.objects.get(app__okta_id=web["id"]).count == 3
    pressed = AuditEvent.objects.filter(action="refresh").latest("seq")
    assert pressed.outcome == "success"
    assert pressed.detail["added"] == ["okta.brands.read"]
    assert list(pressed.detail["not_read"]) == ["credentials"]

"""Effective privilege and API service integrations where the apps list
already has them: the matrix, one scope's page, the integrations page, the
report and its exports; and the stored rank kept current by console writes."""

from __future__ import annotations

import html
import re

import pytest

from grantsconsole.grants.models import ClientPrivilege, OktaApp
from grantsconsole.grants.privilege import RANK
from grantsconsole.grants.services.privilege_sync import RolesRead, apply_roles
from tests.console.conftest import mirror_org

pytestmark = pytest.mark.django_db


def role(type_: str, **kw) -> dict:
    return {
        "id": f"ra1{type_[:8]}",
        "type": type_,
        "label": "",
        "status": "ACTIVE",
        "groups": [],
        "apps": [],
        "resource_set": "",
        **kw,
    }


def _roles(label: str, *types: str) -> OktaApp:
    row = OktaApp.objects.get(label=label)
    apply_roles(row, RolesRead([role(t) for t in types]), source="test")
    return row


def _body(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _row(body: str, label: str) -> str:
    """The table row naming ``label``."""
    found = re.search(
        rf"<tr>(?:(?!</tr>).)*{re.escape(label)}(?:(?!</tr>).)*</tr>", body, re.S
    )
    assert found, label
    return found.group(0)


def test_console_revoke_updates_the_apps_list_badge_and_sort_at_once(admin, sim):
    nightly = next(a for a in sim.state()["apps"] if a["label"] == "Nightly User Sync")
    sim.oob_revoke(nightly["id"], "okta.groups.manage")  # okta.users.manage left
    mirror_org(sim)
    _roles("Nightly User Sync", "SUPER_ADMIN")
    listing = {"type": "service", "sort": "-privilege"}
    body = _body(admin.get("/apps/", listing))
    assert 'class="badge risk-critical"' in _row(body, "Nightly User Sync")
    assert body.index("Nightly User Sync") < body.index("Backup Exporter")

    done = admin.post(
        f"/apps/{nightly['id']}/grants/revoke",
        {"scope": "okta.users.manage", "confirm": "yes"},
    )
    assert done.status_code == 302
    stored = ClientPrivilege.objects.get(app__okta_id=nightly["id"])
    assert (stored.rank, stored.latent) == (RANK[""], False)
    body = _body(admin.get("/apps/", listing))
    assert "risk-critical" not in _row(body, "Nightly User Sync")
    assert body.index("Backup Exporter") < body.index("Nightly User Sync")

"""Effective privilege on the app page and the apps list (grants/privilege.py)."""

from __future__ import annotations

import html

import pytest

from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services import create_report
from grantsconsole.grants.services.privilege_sync import RolesRead, apply_roles

pytestmark = pytest.mark.django_db


def role(type_: str, **kw) -> dict:
    return {
        "id": f"ra1{type_[:8]}",
        "type": type_,
        "label": kw.pop("label", ""),
        "status": "ACTIVE",
        "groups": [],
        "apps": [],
        "resource_set": "",
        **kw,
    }


def _roles(label: str, read: RolesRead) -> OktaApp:
    row = OktaApp.objects.get(label=label)
    apply_roles(row, read, source="test")
    return row


def _page(admin, row: OktaApp) -> str:
    response = admin.get(f"/apps/{row.okta_id}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_super_admin_and_no_role_service_apps_side_by_side(admin, mirrored):
    bot = _roles("Provisioning Bot", RolesRead([role("SUPER_ADMIN")]))
    idle = _roles("Group Sync Worker", RolesRead([]))
    body = _page(admin, bot)
    assert "<code>okta.users.manage</code> — with SUPER_ADMIN: every user" in body
    assert "can grant itself more" in body  # okta.roles.manage with SUPER_ADMIN
    assert "latent risk" not in body
    body = _page(admin, idle)
    assert (
        "<code>okta.groups.manage</code> — with no role: nothing until a role is "
        "assigned" in body
    )
    assert "latent risk" in body
    assert "can grant itself more" not in body


def test_group_scoped_role_names_its_groups(admin, mirrored):
    row = _roles(
        "Nightly User Sync",
        RolesRead([role("USER_ADMIN", groups=["Contractors", "Field Staff"])]),
    )
    body = _page(admin, row)
    assert (
        "<code>okta.users.manage</code> — with USER_ADMIN on 2 groups: users of "
        "those groups" in body
    )
    assert "on 2 groups: Contractors, Field Staff" in body


def test_roles_not_readable_shows_the_reason_and_keeps_the_rest(admin, mirrored):
    reason = "Okta refused the action (HTTP 403, errorCode E0000006)"
    row = _roles("Nightly User Sync", RolesRead(None, reason))
    body = _page(admin, row)
    assert f"roles not readable: {reason}" in body
    # The grant collection is still there.
    assert 'name="scope" value="okta.users.manage"' in body
    assert "<code>okta.users.manage</code> — roles not readable" in body


def test_unknown_role_type_is_shown_by_name(admin, mirrored):
    row = _roles("Org2Org Bridge", RolesRead([role("BRAND_NEW_ADMIN")]))
    body = _page(admin, row)
    assert "with BRAND_NEW_ADMIN: unknown reach" in body
    assert "<code>BRAND_NEW_ADMIN</code>" in body


def test_role_labels_from_okta_are_escaped(admin, mirrored):
    row = _roles(
        "Org2Org Bridge",
        RolesRead([role("CUSTOM", label="<script>x()</script>", resource_set="R")]),
    )
    raw = admin.get(f"/apps/{row.okta_id}/").content.decode()
    assert "<script>x()</script>" not in raw
    assert "&lt;script&gt;x()&lt;/script&gt;" in raw


def test_user_facing_apps_act_as_whoever_signs_in(admin, mirrored):
    row = OktaApp.objects.get(label="Admin Mobile")  # native, okta.users.manage
    body = _page(admin, row)
    assert (
        "<code>okta.users.manage</code> — acts as whoever signs in, within that "
        "person's role" in body
    )
    assert "Admin roles" not in body


def test_apps_list_shows_and_sorts_by_effective_privilege(admin, mirrored):
    _roles("Provisioning Bot", RolesRead([role("SUPER_ADMIN")]))
    _roles("Group Sync Worker", RolesRead([]))
    _roles("Backup Exporter", RolesRead([role("READ_ONLY_ADMIN")]))
    body = html.unescape(
        admin.get("/apps/", {"type": "service", "sort": "-privilege"}).content.decode()
    )
    assert "Effective privilege" in body
    bot = body.index("Provisioning Bot")
    assert bot < body.index("Group Sync Worker")
    assert "latent risk" in body
    body = html.unescape(
        admin.get("/apps/", {"type": "service", "sort": "privilege"}).content.decode()
    )
    assert body.index("Group Sync Worker") < body.index("Provisioning Bot")


def test_the_report_page_says_what_each_critical_grant_can_do(admin, mirrored):
    _roles("Provisioning Bot", RolesRead([role("SUPER_ADMIN")]))
    _roles("Group Sync Worker", RolesRead([]))
    report = create_report(trigger="test")
    body = html.unescape(admin.get(f"/reports/{report.pk}/").content.decode())
    assert "with SUPER_ADMIN: every user" in body
    assert "with no role: nothing until a role is assigned" in body


def _list_row(body: str, label: str) -> str:
    """The apps list's table row of the app labelled ``label``."""
    start = body.rindex("<tr>", 0, body.index(f">{label}</a>"))
    return body[start : body.index("</tr>", start)]


def test_a_service_app_without_manage_scopes_says_so_in_the_list(admin, mirrored):
    # Roles read, no manage scope held: the cell reads like every other app's
    # "no manage scope" (—), not an empty cell that looks like missing data.
    _roles("Backup Exporter", RolesRead([role("READ_ONLY_ADMIN")]))
    _roles("Provisioning Bot", RolesRead([role("SUPER_ADMIN")]))
    body = admin.get("/apps/", {"type": "service"}).content.decode()
    cells = _list_row(body, "Backup Exporter").split("<td")
    privilege = cells[7]  # label, type, client id, status, grants, risk, privilege
    assert privilege.rstrip().endswith(">—</td>"), privilege
    assert "critical risk" in _list_row(body, "Provisioning Bot").split("<td")[7]


def test_the_matrix_shows_each_apps_effective_privilege(admin, mirrored):
    _roles("Provisioning Bot", RolesRead([role("SUPER_ADMIN")]))
    _roles("Group Sync Worker", RolesRead([]))
    body = html.unescape(admin.get("/scopes/matrix/?size=all").content.decode())
    assert "Effective privilege</th>" in body

    def row(label: str) -> str:
        start = body.index(f">{label}</a>")
        return body[start : body.index("</tr>", start)]

    assert "critical risk" in row("Provisioning Bot")
    assert "can grant itself more" in row("Provisioning Bot")
    assert "latent risk" in row("Group Sync Worker")
    assert "as whoever signs in" in row("Admin Mobile")

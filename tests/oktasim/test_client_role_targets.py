"""A service app's admin roles, their targets and a custom role's resource set,
validated against Okta's spec (``listRolesForClient``,
``listGroupTargetRoleForClient``, ``listAppTargetRoleToClient``,
``getResourceSet``)."""

from __future__ import annotations

from .conftest import app_by_label, validate


def _roles(sim, ssws, okta_spec, label: str) -> list[dict]:
    client = app_by_label(sim, label)["client_id"]
    r = ssws.get(f"{sim.url}/oauth2/v1/clients/{client}/roles")
    assert r.status_code == 200
    validate(okta_spec, r)
    return r.json()


def test_group_targeted_role_lists_its_groups(sim, ssws, okta_spec):
    (role,) = _roles(sim, ssws, okta_spec, "Nightly User Sync")
    assert role["type"] == "USER_ADMIN"
    assert role["assignmentType"] == "CLIENT"
    client = app_by_label(sim, "Nightly User Sync")["client_id"]
    base = f"{sim.url}/oauth2/v1/clients/{client}/roles/{role['id']}/targets"
    r = ssws.get(f"{base}/groups")
    assert r.status_code == 200
    validate(okta_spec, r)
    assert [g["profile"]["name"] for g in r.json()] == ["Contractors", "Field Staff"]
    assert all(g["id"].startswith("00g") for g in r.json())
    # Not scoped to apps: Okta answers an empty list.
    r = ssws.get(f"{base}/catalog/apps")
    assert r.status_code == 200
    assert r.json() == []
    validate(okta_spec, r)


def test_app_targeted_role_lists_its_catalog_apps(sim, ssws, okta_spec):
    (role,) = _roles(sim, ssws, okta_spec, "Terraform Automation")
    assert role["type"] == "APP_ADMIN"
    client = app_by_label(sim, "Terraform Automation")["client_id"]
    r = ssws.get(
        f"{sim.url}/oauth2/v1/clients/{client}/roles/{role['id']}/targets/catalog/apps"
    )
    assert r.status_code == 200
    validate(okta_spec, r)
    assert [a["name"] for a in r.json()] == ["salesforce", "oidc_client"]


def test_custom_role_names_its_role_and_resource_set(sim, ssws, okta_spec):
    (role,) = _roles(sim, ssws, okta_spec, "Org2Org Bridge")
    assert role["type"] == "CUSTOM"
    assert role["label"] == "Partner user provisioning"
    assert role["role"]
    assert role["resource-set"]
    assert set(role["_links"]) == {
        "role",
        "resource-set",
        "permissions",
        "member",
        "assignee",
    }
    r = ssws.get(role["_links"]["resource-set"]["href"])
    assert r.status_code == 200
    validate(okta_spec, r)
    assert (r.json()["id"], r.json()["label"]) == (
        role["resource-set"],
        "Partner org users",
    )


def test_no_role_and_unknown_assignment(sim, ssws, okta_spec):
    assert _roles(sim, ssws, okta_spec, "Group Sync Worker") == []
    client = app_by_label(sim, "Group Sync Worker")["client_id"]
    r = ssws.get(
        f"{sim.url}/oauth2/v1/clients/{client}/roles/ra1nosuchassignment0/targets/groups"
    )
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E0000007"
    validate(okta_spec, r)
    r = ssws.get(f"{sim.url}/api/v1/iam/resource-sets/iam1nosuchset00000h7")
    assert r.status_code == 404
    validate(okta_spec, r)


def test_role_change_writes_client_privilege_events(sim, ssws):
    client = app_by_label(sim, "Group Sync Worker")["client_id"]
    sim.set_client_roles(client, ["SUPER_ADMIN"])
    sim.set_client_roles(client, [])
    r = ssws.get(
        f"{sim.url}/api/v1/logs",
        params={"filter": 'eventType sw "app.oauth2.client.privilege"'},
    )
    events = [(e["eventType"], e["target"][0]["id"]) for e in r.json()]
    assert events[-2:] == [
        ("app.oauth2.client.privilege.grant", client),
        ("app.oauth2.client.privilege.revoke", client),
    ]

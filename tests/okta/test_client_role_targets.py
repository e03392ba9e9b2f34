"""The client's reads of a service app's role targets and custom-role resource
set (listGroupTargetRoleForClient, listAppTargetRoleToClient, getResourceSet)."""

from __future__ import annotations

import pytest

from grantsconsole.okta import OktaMalformedResponse, OktaNotFound


def _client_id(sim, label: str) -> str:
    return next(a for a in sim.state()["apps"] if a["label"] == label)["client_id"]


def test_group_targets_of_a_group_scoped_role(sim, ssws_client):
    client = _client_id(sim, "Nightly User Sync")
    (role,) = ssws_client.list_client_roles(client)
    assert role.type == "USER_ADMIN"
    targets = ssws_client.list_group_target_role_for_client(client, role.id)
    assert [(t.kind, t.name) for t in targets] == [
        ("group", "Contractors"),
        ("group", "Field Staff"),
    ]
    assert all(t.id.startswith("00g") for t in targets)
    assert ssws_client.list_app_target_role_to_client(client, role.id) == []


def test_app_targets_and_custom_role_resource_set(sim, ssws_client):
    client = _client_id(sim, "Terraform Automation")
    (role,) = ssws_client.list_client_roles(client)
    apps = ssws_client.list_app_target_role_to_client(client, role.id)
    assert [t.name for t in apps] == ["salesforce", "oidc_client"]
    (custom,) = ssws_client.list_client_roles(_client_id(sim, "Org2Org Bridge"))
    assert custom.type == "CUSTOM"
    assert custom.role_id
    rs = ssws_client.get_resource_set(custom.resource_set_id)
    assert (rs.id, rs.label) == (custom.resource_set_id, "Partner org users")


def test_unknown_assignment_is_not_found(sim, ssws_client):
    with pytest.raises(OktaNotFound):
        ssws_client.list_group_target_role_for_client(
            _client_id(sim, "Nightly User Sync"), "ra1nosuchassignment0"
        )


def test_a_target_without_an_id_is_refused_not_dropped(sim, ssws_client):
    client = _client_id(sim, "Nightly User Sync")
    (role,) = ssws_client.list_client_roles(client)
    sim.fault("/targets/groups", kind="wrong_shape", body=[{"profile": {}}])
    with pytest.raises(OktaMalformedResponse, match="missing 'id'"):
        ssws_client.list_group_target_role_for_client(client, role.id)

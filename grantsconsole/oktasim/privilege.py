"""A service app's admin roles as Okta serves them: the role assignments of a
client, their group and app targets, and the resource set a custom role is
bound to.

Okta Management API (tags ``RoleAssignmentClient``, ``RoleBTargetClient``,
``ResourceSet``): ``listRolesForClient``, ``listGroupTargetRoleForClient``,
``listAppTargetRoleToClient``, ``getResourceSet``; every read needs
``okta.roles.read`` (or ``.manage``) and an admin role. Groups have no objects
of their own in the simulator (users carry group names), so a target group's id
is derived from its name.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .shapes import iso, role_json
from .state import App, Org, RoleAssignment
from .web import HttpError, Request, Response, json_response

ROLES_SCOPES = ("okta.roles.read", "okta.roles.manage")
C = r"(?P<client>[^/]+)"
R = r"(?P<assignment>[^/]+)"


def group_id(name: str) -> str:
    """A stable, Okta-shaped group id (``00g…``, 20 chars) for a group name."""
    return "00g" + hashlib.sha256(name.encode()).hexdigest()[:14] + "0h7"


def client_role_json(org: Org, client_id: str, role: RoleAssignment) -> dict[str, Any]:
    """One item of ``listRolesForClient``: a ``StandardRole``, or for a custom
    role a ``CustomRole`` with its role id, resource set id and their links."""
    assignee = f"{org.url}/oauth2/v1/clients/{client_id}"
    data = role_json(org, role, assignee)
    if role.type == "CUSTOM":
        role_id, set_id = role.custom_role[0], role.resource_set[0]
        data["resource-set"] = set_id
        data["role"] = role_id
        iam = f"{org.url}/api/v1/iam"
        data["_links"] = {
            "role": {"href": f"{iam}/roles/{role_id}"},
            "resource-set": {"href": f"{iam}/resource-sets/{set_id}"},
            "permissions": {"href": f"{iam}/roles/{role_id}/permissions"},
            "member": {
                "href": f"{iam}/resource-sets/{set_id}/bindings/{role_id}"
                f"/members/{role.id}"
            },
            "assignee": {"href": assignee},
        }
    return data


def group_json(org: Org, name: str, created: float) -> dict[str, Any]:
    """A ``Group`` (``OKTA_GROUP``) as the targets list returns it."""
    gid = group_id(name)
    href = f"{org.url}/api/v1/groups/{gid}"
    return {
        "id": gid,
        "created": iso(created),
        "lastUpdated": iso(created),
        "lastMembershipUpdated": iso(created),
        "objectClass": ["okta:user_group"],
        "type": "OKTA_GROUP",
        "profile": {"name": name, "description": ""},
        "_links": {
            "logo": [],
            "users": {"href": f"{href}/users"},
            "apps": {"href": f"{href}/apps"},
        },
    }


def catalog_app_json(org: Org, name: str, app_id: str) -> dict[str, Any]:
    """A ``CatalogApplication`` target: an OIN app by name, or one app instance
    (``id`` set, as Okta's non-catalog example shows)."""
    if app_id:
        return {
            "name": name,
            "status": "ACTIVE",
            "id": app_id,
            "_links": {"self": {"href": f"{org.url}/api/v1/apps/{app_id}"}},
        }
    return {
        "name": name,
        "displayName": name.replace("_", " ").title(),
        "category": "SOCIAL",
        "status": "ACTIVE",
        "signOnModes": ["OPENID_CONNECT"],
        "_links": {"logo": [{"name": "medium", "href": f"{org.url}/logo/{name}.png"}]},
    }


class ClientRoles:
    """The handlers. ``api``: the ManagementApi (for ``org`` and its role
    check); ``admin_roles``: the role types that may read roles."""

    def __init__(self, api: Any, admin_roles: set[str]) -> None:
        self.api = api
        self.admin_roles = admin_roles

    def routes(self) -> list[tuple[str, dict[str, tuple[Any, tuple[str, ...]]]]]:
        base = rf"^/oauth2/v1/clients/{C}/roles/{R}/targets"
        return [
            (
                rf"{base}/groups$",
                {"GET": (self.list_group_targets, ROLES_SCOPES)},
            ),
            (
                rf"{base}/catalog/apps$",
                {"GET": (self.list_app_targets, ROLES_SCOPES)},
            ),
            (
                r"^/api/v1/iam/resource-sets/(?P<resource_set>[^/]+)$",
                {"GET": (self.get_resource_set, ROLES_SCOPES)},
            ),
        ]

    def list_client_roles(self, req: Request, caller: Any, client: str) -> Response:
        """GET /oauth2/v1/clients/{clientId}/roles: the service app's admin roles."""
        app = self._client(caller, client)
        return json_response(
            200, [client_role_json(self.api.org, client, r) for r in app.roles]
        )

    def list_group_targets(
        self, req: Request, caller: Any, client: str, assignment: str
    ) -> Response:
        """GET …/roles/{roleAssignmentId}/targets/groups: ``[]`` when the role is
        not scoped to groups (Okta's words: "isn't scoped to specific group
        targets")."""
        role = self._assignment(caller, client, assignment)
        org = self.api.org
        return json_response(
            200, [group_json(org, g, role.created) for g in role.group_targets]
        )

    def list_app_targets(
        self, req: Request, caller: Any, client: str, assignment: str
    ) -> Response:
        """GET …/roles/{roleAssignmentId}/targets/catalog/apps."""
        role = self._assignment(caller, client, assignment)
        org = self.api.org
        return json_response(
            200, [catalog_app_json(org, n, i) for n, i in role.app_targets]
        )

    def get_resource_set(
        self, req: Request, caller: Any, resource_set: str
    ) -> Response:
        """GET /api/v1/iam/resource-sets/{resourceSetIdOrLabel}."""
        self.api.require_role(caller, self.admin_roles)
        org = self.api.org
        for app in org.apps.values():
            for r in app.roles:
                set_id, label = r.resource_set
                if set_id and resource_set in (set_id, label):
                    href = f"{org.url}/api/v1/iam/resource-sets/{set_id}"
                    return json_response(
                        200,
                        {
                            "id": set_id,
                            "label": label,
                            "description": f"Resources of {label}",
                            "created": iso(r.created),
                            "lastUpdated": iso(r.created),
                            "_links": {
                                "self": {"href": href},
                                "resources": {"href": f"{href}/resources"},
                                "bindings": {"href": f"{href}/bindings"},
                            },
                        },
                    )
        raise HttpError(
            404,
            "E0000007",
            f"Not found: Resource not found: {resource_set} (ResourceSet)",
        )

    def _client(self, caller: Any, client: str) -> App:
        self.api.require_role(caller, self.admin_roles)
        app = self.api.org.apps_by_client_id.get(client)
        if app is None:
            raise HttpError(
                404,
                "E0000007",
                f"Not found: Resource not found: {client} (OAuth2Client)",
            )
        return app

    def _assignment(self, caller: Any, client: str, assignment: str) -> RoleAssignment:
        for role in self._client(caller, client).roles:
            if role.id == assignment:
                return role
        raise HttpError(
            404,
            "E0000007",
            f"Not found: Resource not found: {assignment} (RoleAssignment)",
        )


def role_from_seed(org: Org, spec: str | dict, created: float) -> RoleAssignment:
    """A client role assignment from a seed entry: a role type, or
    ``{"type", "groups"?: [name...], "apps"?: [[name, app id or ""]...],
    "role"?: [id, label], "resource_set"?: [id, label]}``."""
    if isinstance(spec, str):
        spec = {"type": spec}
    return RoleAssignment(
        org.ids.make("ra1"),
        spec["type"],
        created,
        "CLIENT",
        group_targets=list(spec.get("groups", [])),
        app_targets=[(str(n), str(i)) for n, i in spec.get("apps", [])],
        custom_role=tuple(spec.get("role", ("", ""))),  # type: ignore[arg-type]
        resource_set=tuple(spec.get("resource_set", ("", ""))),  # type: ignore[arg-type]
    )


# --- demo seed: the service apps' admin roles (begin) ---------------------------------
# Each holds a manage scope, so the difference the role makes shows.
DEMO_CLIENT_ROLES: dict[str, list[str | dict]] = {
    "Provisioning Bot": ["SUPER_ADMIN"],
    "Nightly User Sync": [
        {"type": "USER_ADMIN", "groups": ["Contractors", "Field Staff"]}
    ],
    "Org2Org Bridge": [
        {
            "type": "CUSTOM",
            "role": ["cr0sim1userprov00h7", "Partner user provisioning"],
            "resource_set": ["iam1simpartners000h7", "Partner org users"],
        }
    ],
    "Terraform Automation": [
        {"type": "APP_ADMIN", "apps": [["salesforce", ""], ["oidc_client", ""]]}
    ],
    "Backup Exporter": ["READ_ONLY_ADMIN"],
    # "Group Sync Worker" keeps no role: latent until someone assigns one.
}
# --- demo seed: the service apps' admin roles (end) -----------------------------------

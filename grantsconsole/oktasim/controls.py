"""An app's credentials and the org's public-client admin setting: the reads
behind the console's "compensating controls".

- ``GET /api/v1/apps/{appId}/credentials/secrets`` (``listOAuth2ClientSecrets``)
- ``GET /api/v1/apps/{appId}/credentials/jwks`` (``listJwk``)
- ``GET /api/v1/org/settings/clientPrivilegesSetting`` (``getClientPrivilegesSetting``)

Shapes follow the Management API spec (``OAuth2ClientSecret``,
``OAuth2ClientJsonWebKeyRsaResponse``, ``ClientPrivilegesSetting``). The
credentials reads need ``okta.apps.read`` and an admin role that may read apps;
the setting needs ``okta.orgs.read`` and a role that may read org settings.
State lives on the :class:`Org` as ``org.controls`` (:class:`ControlsState`),
created on first use, so the rest of the simulator needs no field for it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .shapes import iso
from .web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from .api import ManagementApi
    from .oauth import Caller
    from .state import App, Org

# Okta lets these admin roles read org settings (the Admin Console's Settings >
# Account page); the others get 403 E0000006.
ORG_SETTING_READERS = {"SUPER_ADMIN", "ORG_ADMIN", "READ_ONLY_ADMIN"}


@dataclass(slots=True)
class ClientSecret:
    """One OAuth 2.0 client secret (``ocs…``) of an app."""

    id: str
    secret: str
    created: float
    status: str = "ACTIVE"


@dataclass(slots=True)
class ControlsState:
    """``secrets``: app id -> its client secrets (an app with a
    ``client_secret`` and none listed here has one, created with the app);
    ``key_created``: JWK ``id`` -> creation time (default: the app's);
    ``client_privileges``: the org's "assign Super Admin to public client
    apps" setting."""

    secrets: dict[str, list[ClientSecret]] = field(default_factory=dict)
    key_created: dict[str, float] = field(default_factory=dict)
    client_privileges: bool = False


def state_of(org: Org) -> ControlsState:
    """The org's controls state (created empty on first use)."""
    st = getattr(org, "controls", None)
    if st is None:
        st = ControlsState()
        org.controls = st  # type: ignore[attr-defined]
    return st


def secrets_of(org: Org, app: App) -> list[ClientSecret]:
    """The app's client secrets: the seeded ones, else its one ``client_secret``."""
    st = state_of(org)
    listed = st.secrets.get(app.id)
    if listed is None:
        listed = []
        if app.client_secret and app.token_endpoint_auth_method.startswith(
            "client_secret"
        ):
            listed.append(
                ClientSecret("ocs" + app.id[3:], app.client_secret, app.created)
            )
        st.secrets[app.id] = listed
    return listed


def _secret_links(href: str, status: str) -> dict:
    post = {"hints": {"allow": ["POST"]}}
    if status == "ACTIVE":
        return {"deactivate": {"href": f"{href}/lifecycle/deactivate", **post}}
    return {
        "activate": {"href": f"{href}/lifecycle/activate", **post},
        "delete": {"href": href, "hints": {"allow": ["DELETE"]}},
    }


def secret_json(org: Org, app: App, s: ClientSecret) -> dict:
    """An ``OAuth2ClientSecret`` as ``listOAuth2ClientSecrets`` returns it."""
    href = f"{org.url}/api/v1/apps/{app.id}/credentials/secrets/{s.id}"
    digest = hashlib.sha256(s.secret.encode()).digest()[:16]
    return {
        "id": s.id,
        "status": s.status,
        "client_secret": s.secret,
        "secret_hash": digest.hex(),
        "created": iso(s.created),
        "lastUpdated": iso(s.created),
        "_links": _secret_links(href, s.status),
    }


def jwk_json(org: Org, app: App, key: dict) -> dict:
    """A registered public key as ``listJwk`` returns it (with ``created``)."""
    created = state_of(org).key_created.get(key.get("id", ""), app.created)
    href = f"{org.url}/api/v1/apps/{app.id}/credentials/jwks/{key.get('id', '')}"
    return {
        **key,
        "created": iso(created),
        "lastUpdated": iso(created),
        "_links": _secret_links(href, key.get("status", "ACTIVE")),
    }


class ControlsApi:
    """The three handlers, with the route table entries for ``ManagementApi``."""

    def __init__(self, api: ManagementApi) -> None:
        self.api = api

    @property
    def org(self) -> Org:
        """The org being served now (a reset replaces it)."""
        return self.api.org

    def routes(self) -> list:
        A = r"(?P<app>[^/]+)"
        read = ("okta.apps.read", "okta.apps.manage")
        return [
            (
                re.compile(rf"^/api/v1/apps/{A}/credentials/secrets$"),
                {"GET": (self.list_secrets, read)},
            ),
            (
                re.compile(rf"^/api/v1/apps/{A}/credentials/jwks$"),
                {"GET": (self.list_jwks, read)},
            ),
            (
                re.compile(r"^/api/v1/org/settings/clientPrivilegesSetting$"),
                {
                    "GET": (
                        self.get_client_privileges,
                        ("okta.orgs.read", "okta.orgs.manage"),
                    )
                },
            ),
        ]

    def _oauth_app(self, caller: Caller, app_id: str) -> App:
        from .api import ADMIN_ROLES

        self.api.require_role(caller, ADMIN_ROLES)
        app = self.org.get_app(app_id)
        if not (app.is_oidc and app.oauth_client):
            # Okta: an app that is not an OAuth 2.0 client has no client credentials.
            raise HttpError(
                404,
                "E0000007",
                f"Not found: Resource not found: {app_id} (OAuth2Client)",
            )
        return app

    def list_secrets(self, req: Request, caller: Caller, app: str) -> Response:
        """GET /api/v1/apps/{appId}/credentials/secrets: oldest first."""
        a = self._oauth_app(caller, app)
        return json_response(
            200, [secret_json(self.org, a, s) for s in secrets_of(self.org, a)]
        )

    def list_jwks(self, req: Request, caller: Caller, app: str) -> Response:
        """GET /api/v1/apps/{appId}/credentials/jwks: the app's registered keys,
        as a JSON array (the spec's schema; see DEVIATIONS.md)."""
        a = self._oauth_app(caller, app)
        return json_response(200, [jwk_json(self.org, a, k) for k in a.jwks])

    def get_client_privileges(self, req: Request, caller: Caller) -> Response:
        """GET /api/v1/org/settings/clientPrivilegesSetting."""
        self.api.require_role(caller, ORG_SETTING_READERS)
        return json_response(
            200, {"clientPrivilegesSetting": state_of(self.org).client_privileges}
        )


def seed_controls(org: Org, spec: dict) -> None:
    """Apply a seed's ``controls`` block (see seed.py) to a built org:
    ``{"client_privileges": bool, "apps": {label: {"auth_method"?, "network"?,
    "secret_ages_days"?: [days...], "key_age_days"?: days}}}``."""
    block = spec.get("controls") or {}
    st = state_of(org)
    st.client_privileges = bool(block.get("client_privileges", False))
    now = org.clock.now()
    by_label = {a.label: a for a in org.apps.values()}
    for label, conf in (block.get("apps") or {}).items():
        app = by_label.get(label)
        if app is None:
            continue
        if "auth_method" in conf:
            app.auth_method = conf["auth_method"]
        if "network" in conf:
            app.network = dict(conf["network"])
        if "secret_ages_days" in conf:
            st.secrets[app.id] = [
                ClientSecret(
                    org.ids.make("ocs"),
                    f"demo-secret-{app.id}-{i}",
                    float(int(now - days * 86400)),
                )
                for i, days in enumerate(sorted(conf["secret_ages_days"], reverse=True))
            ]
        if "key_age_days" in conf:
            for key in app.jwks:
                st.key_created[key.get("id", "")] = float(
                    int(now - conf["key_age_days"] * 86400)
                )
        app.json_cache = None

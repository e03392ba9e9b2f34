"""Console health: which Okta API scopes the console and the worker really hold,
and what each missing scope switches off.

Sources: the console app's grant collection (``GET /api/v1/apps/{appId}/grants``
with the admin's token, an auditor's with the worker's; an OIDC app's id is its
client id), the ``scope`` of
the admin's token response, the worker service app's token response (or Okta's
refusal, quoted), and the worker app's admin roles (``GET
/oauth2/v1/clients/{clientId}/roles`` with the admin's token): a service app
acts with its admin role intersected with its token's scopes, so a worker
without a role that can read grants fails every sync with 403 although its
token carries every scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from grantsconsole.okta import Grant, OktaClient, OktaError, OktaTokenRefused
from grantsconsole.okta_clients import worker_auth_kind, worker_client

#: scopes the console's sign-in requests -> what stops working without each
CONSOLE_FEATURES: dict[str, str] = {
    "okta.roles.read": (
        "Signing in: the Super Admin check and the role re-check before every write. "
        "Without it nobody can use the console."
    ),
    "okta.apps.read": "Listing apps and opening an app's page from the console.",
    "okta.appGrants.read": (
        "Reading an app's grant collection live from Okta (and this page's list of "
        "the console's own grants)."
    ),
    "okta.appGrants.manage": "Granting and revoking Okta API scopes.",
    "okta.oauthIntegrations.manage": (
        "Removing an OIN API service integration (which revokes its scopes)."
    ),
    "okta.apps.manage": (
        "Revoking an app's refresh tokens after a revoke (the rest of the console "
        "works without it)."
    ),
    "offline_access": (
        "Staying signed in longer than one hour (the refresh token); without it "
        "you must sign in again when the access token expires."
    ),
}

#: scopes the worker requests -> what stops working without each
WORKER_FEATURES: dict[str, str] = {
    "okta.apps.read": "Background sync of the app list (new and removed apps).",
    "okta.appGrants.read": (
        "Background sync of grant collections, so drift and out-of-band grants "
        "are detected."
    ),
    "okta.logs.read": (
        "Reading the System Log to name who made a change outside this console."
    ),
    "okta.users.read": (
        "Names beside the Okta user ids of people who never signed in here and "
        "appear in no System Log event the console read (pages show the id only)."
    ),
    "okta.oauthIntegrations.read": (
        "Listing OIN API service integrations, which hold okta.* scopes without "
        "being apps of the org (pages say they are not readable)."
    ),
    "okta.roles.read": (
        "Effective privilege: the admin roles of service apps and what they reach "
        '(without it, apps show "roles not readable" and their manage scopes\' '
        "reach stays unknown)."
    ),
    "okta.orgs.read": (
        "Reading whether Okta gives new public client apps the Super Admin role "
        "(clientPrivilegesSetting), flagged here and in the daily report."
    ),
}

#: admin roles with which a service app may read app grants (today Okta lets only
#: a Super Admin read them)
GRANT_READER_ROLES = frozenset({"SUPER_ADMIN"})


@dataclass(slots=True)
class ScopeRow:
    """One requested scope: granted to the app? in the token? what breaks if not."""

    scope_id: str
    feature: str
    in_grants: bool | None  # None: the grant collection could not be read
    in_token: bool | None  # None: Okta did not report the token's scopes

    @property
    def ok(self) -> bool:
        return self.in_token is not False and self.in_grants is not False


@dataclass(slots=True)
class ConsoleHealth:
    """Everything the console-health page shows; ``*_error`` is an Okta error's
    plain-words explanation ("" when the read worked).

    ``worker_failed``: the worker's token could not be had (not set for the
    legacy SSWS token, which only gets a warning). ``worker_okta_error`` /
    ``worker_okta_description``: Okta's ``error`` and ``error_description``
    when its token endpoint refused the worker. ``worker_roles``: the admin role
    types assigned to the worker app (None: not read).
    """

    console_grants: list[Grant] = field(default_factory=list)
    console_grants_error: str = ""
    console_rows: list[ScopeRow] = field(default_factory=list)
    worker_scopes: frozenset[str] | None = None
    worker_error: str = ""
    worker_failed: bool = False
    worker_okta_error: str = ""
    worker_okta_description: str = ""
    worker_rows: list[ScopeRow] = field(default_factory=list)
    worker_roles: list[str] | None = None
    worker_roles_error: str = ""

    @property
    def worker_cannot_read_grants(self) -> bool:
        """True when the worker app's roles are known and none may read grants."""
        return self.worker_roles is not None and not (
            GRANT_READER_ROLES & set(self.worker_roles)
        )

    @property
    def problems(self) -> int:
        return (
            sum(not r.ok for r in self.console_rows + self.worker_rows)
            + self.worker_failed
            + self.worker_cannot_read_grants
        )


class _SswsWorker(Exception):
    pass


def _worker_scopes() -> frozenset[str]:
    if worker_auth_kind() == "ssws":
        raise _SswsWorker
    return worker_client().token_source.granted_scopes()


def console_health(
    admin: OktaClient, token_scopes: frozenset[str], *, auditor: bool = False
) -> ConsoleHealth:
    """Collect the console-health facts. ``admin`` acts with the signed-in
    admin's token; ``token_scopes`` are that token's granted scopes (empty if
    Okta did not report them). ``auditor``: the signed-in person is an auditor,
    whose admin role cannot read app grants (only a Super Admin's can), so the
    worker, whose work is reading grants, reads the console app's. Never raises
    for Okta errors."""
    health = ConsoleHealth()
    granted: set[str] | None
    try:
        reader = admin
        if auditor:
            try:
                reader = worker_client()
            except ImproperlyConfigured:  # no worker: Okta's refusal explains
                reader = admin
        health.console_grants = reader.list_grants(settings.OKTA_CONSOLE_CLIENT_ID)
        granted = {
            g.scope_id for g in health.console_grants if g.status.upper() == "ACTIVE"
        }
    except OktaError as exc:
        health.console_grants_error = exc.explanation
        granted = None
    for scope_id, feature in CONSOLE_FEATURES.items():
        needs_grant = scope_id.startswith("okta.")
        health.console_rows.append(
            ScopeRow(
                scope_id,
                feature,
                in_grants=(scope_id in granted)
                if (granted is not None and needs_grant)
                else (True if not needs_grant else None),
                in_token=(scope_id in token_scopes) if token_scopes else None,
            )
        )
    service_app = True
    try:
        health.worker_scopes = _worker_scopes()
    except _SswsWorker:
        service_app = False
        health.worker_error = (
            "The worker uses a legacy SSWS API token: it is not limited by scopes "
            "and acts with the full rights of the admin who created it. Prefer a "
            "service app with read scopes only."
        )
    except OktaTokenRefused as exc:
        health.worker_failed = True
        health.worker_error = exc.explanation
        health.worker_okta_error = exc.error_code
        health.worker_okta_description = exc.error_summary
    except OktaError as exc:
        health.worker_failed = True
        health.worker_error = exc.explanation
    except Exception as exc:  # ImproperlyConfigured: no worker credentials
        health.worker_failed = True
        health.worker_error = str(exc)
    for scope_id, feature in WORKER_FEATURES.items():
        health.worker_rows.append(
            ScopeRow(
                scope_id,
                feature,
                in_grants=None,
                in_token=(scope_id in health.worker_scopes)
                if health.worker_scopes is not None
                else None,
            )
        )
    if service_app and settings.OKTA_WORKER_CLIENT_ID:
        try:
            health.worker_roles = sorted(
                role.type
                for role in admin.list_client_roles(settings.OKTA_WORKER_CLIENT_ID)
                if role.status in ("ACTIVE", "")
            )
        except OktaError as exc:
            health.worker_roles_error = exc.explanation
    return health

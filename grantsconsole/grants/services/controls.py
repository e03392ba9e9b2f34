"""Compensating controls per app: what limits the harm a leaked credential can
do, read during the full sync and by "Refresh from Okta" (``app_sync.refresh_app``),
and summed up in one line beside the app's risk.

Per app (``AppControls``): the token endpoint auth method and the network
restriction come with the apps listing (no extra call); the ages of its client
secrets (``client_secret_*``) or public keys (``private_key_jwt``) cost one
call, made only for the apps where they matter (:func:`credentials_to_read`).
Per org (``OrgSetting``): "assign Super Admin to new public client apps"
(``clientPrivilegesSetting``), one call per full sync.

These add to the full sync's minimum call budget one credentials read per
app that matters (``/api/v1/apps*`` bucket) and the org setting (``/api/v1/*``):
``tests/grants/test_full_sync.py`` and ``bench/sync_floor.py`` state the whole
budget, per rate-limit bucket.

Bad input: a 403/404 (or any Okta error but a rate limit) on a credentials
read marks that app's credentials "unreadable" with the reason and keeps the
rest of its data and the last ages read; a rate limit is raised for the sync
step to wait and retry, as for grants (a refresh takes it as unreadable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from grantsconsole.grants.models import AppControls, OktaApp, OrgSetting
from grantsconsole.okta import App, OktaClient, OktaError, OktaRateLimited
from grantsconsole.okta.errors import describe

logger = logging.getLogger(__name__)

# A secret or key older than this is overdue for rotation (a common yearly
# rotation policy): an old client secret worsens the app's risk line.
ROTATE_AFTER = timedelta(days=365)
ZONE = "ZONE"
SECRETS, KEYS = "secrets", "jwks"


def _network(app: App) -> tuple[str, list[str], list[str]]:
    if app.network is None:
        return "", [], []
    return app.network.connection, list(app.network.include), list(app.network.exclude)


def record_listed(apps: list[App]) -> None:
    """Keep the auth method and network restriction of these listed apps.

    Queries: one SELECT of their apps and controls, plus one write per app
    whose controls are new or changed (none on a page where nothing changed).
    """
    if not apps:
        return
    rows = {
        row.okta_id: row
        for row in OktaApp.objects.filter(okta_id__in=[a.id for a in apps])
        .select_related("controls")
        .only("pk", "okta_id", "controls")
    }
    for app in apps:
        row = rows.get(app.id)
        if row is None:
            continue
        connection, include, exclude = _network(app)
        fields = {
            "auth_method": app.token_endpoint_auth_method[:64],
            "network_connection": connection[:200],
            "network_include": include,
            "network_exclude": exclude,
        }
        current = getattr(row, "controls", None)
        if current is None:
            AppControls.objects.create(app=row, **fields)
        elif any(getattr(current, k) != v for k, v in fields.items()):
            AppControls.objects.filter(pk=current.pk).update(**fields)


def credentials_to_read(app: OktaApp, controls: AppControls | None) -> str:
    """Which credentials of this app the full sync reads: ``"secrets"``,
    ``"jwks"`` or "" (none).

    The rule: an app whose leaked credential would reach the org, i.e. one
    that holds at least one grant and is a service app (it acts as itself with
    ``client_credentials``) or holds a manage scope; of those, the secrets of
    a ``client_secret_*`` app and the keys of a ``private_key_jwt`` one. A
    public client (``none``), an app without a client id and a removed app
    have nothing to read.
    """
    if controls is None or not app.client_id or app.removed_at is not None:
        return ""
    if not app.grant_count:
        return ""
    if app.application_type != "service" and not app.manage_count:
        return ""
    if controls.auth_method.startswith("client_secret"):
        return SECRETS
    if controls.auth_method == "private_key_jwt":
        return KEYS
    return ""


def read_credentials(client: OktaClient, app_pk: int, *, wait: bool = True) -> str:
    """Read the app's secrets or keys if :func:`credentials_to_read` says so
    and store their count and ages (active ones only; no write when they are
    as stored). Returns "" (read, or nothing to read) or the reason they could
    not be read: any Okta error marks the credentials "unreadable" with the
    reason (ages as last read; the reason names Okta's request id, so it is
    written again on each refused read). A rate limit is raised instead
    (OktaRateLimited) when ``wait``: the sync step waits and retries."""
    app = OktaApp.objects.filter(pk=app_pk).select_related("controls").first()
    if app is None:
        return ""
    controls = getattr(app, "controls", None)
    which = credentials_to_read(app, controls)
    if not which:
        return ""
    read = client.list_oauth2_client_secrets if which == SECRETS else client.list_jwk
    error = ""
    try:
        items = read(app.okta_id)
    except OktaError as exc:
        if wait and isinstance(exc, OktaRateLimited):
            raise
        word = "secrets" if which == SECRETS else "keys"
        error = f"{word} not readable: {describe(exc)}"[:2000]
        fields = {
            "credentials_state": AppControls.CredentialsState.UNREADABLE,
            "credentials_error": error,
        }
    else:
        times = [i.created for i in items if i.status == "ACTIVE" and i.created]
        fields = {
            "credentials_state": AppControls.CredentialsState.READ,
            "credentials_error": "",
            "credential_count": sum(1 for i in items if i.status == "ACTIVE"),
            "newest_credential_at": max(times, default=None),
            "oldest_credential_at": min(times, default=None),
        }
    if any(getattr(controls, k) != v for k, v in fields.items()):
        AppControls.objects.filter(pk=controls.pk).update(**fields)
    return error


def read_org_settings(client: OktaClient) -> None:
    """Read the org's ``clientPrivilegesSetting`` and store it (no write when
    it is as stored). Raises OktaRateLimited; any other error (e.g. the worker
    lacks ``okta.orgs.read``) is stored as the reason, keeping the last value
    read (the reason names Okta's request id, so each refused read writes)."""
    row = client_privileges_setting()
    try:
        fields = {"enabled": client.get_client_privileges_setting(), "error": ""}
    except OktaRateLimited:
        raise
    except OktaError as exc:
        fields = {"error": describe(exc)[:2000]}
    if row is None:
        OrgSetting.objects.create(
            name=OrgSetting.CLIENT_PRIVILEGES, changed_at=timezone.now(), **fields
        )
    elif any(getattr(row, k) != v for k, v in fields.items()):
        OrgSetting.objects.filter(pk=row.pk).update(changed_at=timezone.now(), **fields)


def client_privileges_setting() -> OrgSetting | None:
    """The stored ``clientPrivilegesSetting`` (None before a sync read it)."""
    return OrgSetting.objects.filter(name=OrgSetting.CLIENT_PRIVILEGES).first()


# --- the one-line summary ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControlsSummary:
    """``text``: one line, e.g. "client_secret_basic, secret 3 years old, any
    network"; ``effect``: "worsens", "mitigates" or "neutral" (its effect on
    the app's risk)."""

    text: str
    effect: str


def _age(then: datetime, now: datetime) -> str:
    days = max(0, (now - then).days)
    if days < 365:
        return f"{days} day{'s' if days != 1 else ''}"
    years = days // 365
    return f"{years} year{'s' if years != 1 else ''}"


def summarize(controls: AppControls | None, now: datetime) -> ControlsSummary:
    """The app's compensating controls in one line, and their effect on its risk.

    | credentials                                   | network          | effect    |
    |-----------------------------------------------|------------------|-----------|
    | a ``client_secret_*`` secret older than 1 year | any              | worsens   |
    | anything else                                  | ``ZONE``         | mitigates |
    | anything else                                  | anywhere / other | neutral   |

    The line names the auth method (an unknown one by its name), the oldest
    active secret's or key's age ("not read" when the sync does not read it,
    "not readable: <reason>" when Okta refused), and the network: "any
    network", "zone-restricted", or an unknown connection by its name.
    """
    if controls is None:
        return ControlsSummary("controls not read yet", "neutral")
    method = controls.auth_method or "auth method not given"
    parts = [method]
    kind = "key" if controls.auth_method == "private_key_jwt" else "secret"
    old_secret = False
    state = controls.credentials_state
    if controls.auth_method == "none":
        parts = ["public client (no secret)"]
    elif state == AppControls.CredentialsState.UNREADABLE:
        parts.append(controls.credentials_error or "not readable")
    elif state == AppControls.CredentialsState.READ:
        if controls.oldest_credential_at is None:
            parts.append(f"no active {kind}")
        else:
            parts.append(f"{kind} {_age(controls.oldest_credential_at, now)} old")
            old_secret = kind == "secret" and (
                now - controls.oldest_credential_at > ROTATE_AFTER
            )
    connection = controls.network_connection
    if connection in ("", "ANYWHERE"):
        parts.append("any network")
    elif connection == ZONE:
        parts.append("zone-restricted")
    else:
        parts.append(f"network {connection}")
    if old_secret:
        effect = "worsens"
    elif connection == ZONE:
        effect = "mitigates"
    else:
        effect = "neutral"
    return ControlsSummary(", ".join(parts), effect)


# --- the org setting on the health page and in the daily report ------------------

CLIENT_PRIVILEGES_FLAG = (
    "Okta assigns the Super Admin role to every new public client app "
    "(clientPrivilegesSetting is on): a new service app given okta.* scopes can "
    "then change anything in the org. Okta's guide says to turn it off "
    "(Settings > Account > Public client app admins)."
)


def org_settings_report() -> dict:
    """The report's ``org_settings`` section: ``{"client_privileges_setting":
    {"enabled": true|false|null, "changed_at": ISO-8601 UTC or "", "error": "",
    "flag": the warning when enabled, else ""}}`` (``enabled`` null: never
    read, or unreadable with ``error``)."""
    row = client_privileges_setting()
    enabled = row.enabled if row else None
    return {
        "client_privileges_setting": {
            "enabled": enabled,
            "changed_at": row.changed_at.isoformat() if row else "",
            "error": row.error if row else "not read yet",
            "flag": CLIENT_PRIVILEGES_FLAG if enabled else "",
        }
    }

"""Which ``okta.*`` scope a logged write needs: the one table usage is judged by.

Okta does not log which scope authorised a call, but every write it logs names
the OAuth client whose token made it (``client.id``) and the event type says
what was changed. A write of a type below, made with an app's token, is
evidence that the app *exercised* the scope on the right. Reads are not
logged at all, so read scopes are judged only by token issuance.

Each row is an ``eventType`` prefix, matched the way Okta's System Log filter
``eventType sw "…"`` matches, so the same table filters the poll server-side
(:func:`log_filter`). Rows are tried in order; the first match wins, which is
why the ``*.privilege.*`` families come before their resource's own family.
Event types are those of Okta's event-type catalog (developer.okta.com,
"Event types"); the families were chosen to match each scope's resource.
"""

from __future__ import annotations

from dataclasses import dataclass

# Token issuance by the Org Authorization Server (the custom-AS variant,
# ``app.oauth2.as.token.grant*``, never carries okta.* scopes).
TOKEN_GRANT_PREFIX = "app.oauth2.token.grant"


@dataclass(frozen=True, slots=True)
class WriteFamily:
    """Events whose ``eventType`` starts with ``prefix`` need ``scope_id``."""

    prefix: str
    scope_id: str
    what: str


WRITE_FAMILIES: tuple[WriteFamily, ...] = (
    # Admin roles: *.privilege.* and iam.* (roles, resource sets, bindings).
    WriteFamily("user.account.privilege.", "okta.roles.manage", "a user's admin roles"),
    WriteFamily("group.privilege.", "okta.roles.manage", "a group's admin roles"),
    WriteFamily(
        "app.oauth2.client.privilege.", "okta.roles.manage", "a client's admin roles"
    ),
    WriteFamily("iam.", "okta.roles.manage", "custom roles and resource sets"),
    WriteFamily("user.lifecycle.", "okta.users.manage", "user lifecycle"),
    WriteFamily("group.user_membership.", "okta.groups.manage", "group membership"),
    WriteFamily("group.lifecycle.", "okta.groups.manage", "group lifecycle"),
    WriteFamily("application.lifecycle.", "okta.apps.manage", "app lifecycle"),
    WriteFamily("application.user_membership.", "okta.apps.manage", "app assignments"),
    WriteFamily(
        "app.oauth2.admin.consent.", "okta.appGrants.manage", "app grant collections"
    ),
    WriteFamily("policy.", "okta.policies.manage", "policies and rules"),
    WriteFamily("system.api_token.", "okta.apiTokens.manage", "API tokens"),
)


def scope_for_write(event_type: str) -> str | None:
    """The scope a logged write of ``event_type`` needs, or None when the table
    does not map it (such an event is skipped as "unmapped event type")."""
    for family in WRITE_FAMILIES:
        if event_type.startswith(family.prefix):
            return family.scope_id
    return None


def is_token_grant(event_type: str) -> bool:
    """True for the Org Authorization Server's token issuance events
    (``app.oauth2.token.grant`` and ``….access_token`` / ``.refresh_token`` /
    ``.id_token``)."""
    return event_type == TOKEN_GRANT_PREFIX or event_type.startswith(
        TOKEN_GRANT_PREFIX + "."
    )


def log_filter() -> str:
    """The ``filter`` for ``GET /api/v1/logs`` that asks Okta for exactly the
    events this table and the token issuance need (``sw`` terms joined by
    ``or``)."""
    prefixes = [TOKEN_GRANT_PREFIX, *(f.prefix for f in WRITE_FAMILIES)]
    return " or ".join(f'eventType sw "{p}"' for p in prefixes)

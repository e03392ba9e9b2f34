"""Effective privilege: what an app's manage scopes let it do, given who it acts as.

A scope is half of an app's power. A service app (``client_credentials``) acts
as itself, with the admin roles assigned to its client
(``/oauth2/v1/clients/{clientId}/roles``): Okta answers a call only when the
token carries the scope *and* the role allows the call. A web, SPA or native app
acts as whoever signs in, within that person's own admin role. So:

    effective risk = scope tier (okta/scopes.py) combined with role reach (ROLES)

The one table, per manage scope held by a service app:

=============================  ============================  ===============================
role (Okta ``RoleType``)       reach                         effective risk of the scope
=============================  ============================  ===============================
SUPER_ADMIN                    org-wide, admin roles too     the scope's tier
ORG_ADMIN                      org-wide, except admin roles  tier; low on roles/appGrants
                               and API scope grants
APP_ADMIN                      every app, or N apps          tier (one lower on N apps);
                                                             low outside apps/clients
USER_ADMIN                     every user, or users of N     tier (one lower on N groups);
                               groups                        low outside users/groups
HELP_DESK_ADMIN                users (resets), all or of N   one lower; low outside users
                               groups
GROUP_MEMBERSHIP_ADMIN         memberships, all or N groups  one lower; low outside groups
API_ACCESS_MANAGEMENT_ADMIN    authorization servers, apps'  tier on those; low elsewhere
                               OAuth settings
MOBILE_ADMIN                   devices                       tier on devices; low elsewhere
REPORT_ADMIN, READ_ONLY_ADMIN  read-only                     low (Okta refuses the writes)
CUSTOM                         the resource set it is bound  tier (its permissions are not
                               to                            read, so it may reach all of it)
any other type                 "unknown reach", by name      the scope's tier
no role                        nothing until a role is       "latent": live the moment a
                               assigned                      role is assigned
roles not readable             unknown, with the reason      the scope's tier
API service integration        its granted scopes: it needs  the scope's tier
(not an app: no role)          no admin role
=============================  ============================  ===============================

"Low outside X": the role cannot make the scope's calls at all. Several roles:
the widest wins. A user-facing app's scopes keep their tier.

Self-escalation (an app that can grant itself more): ``okta.appGrants.manage``,
``okta.roles.manage`` or ``okta.clients.manage`` with a role that allows that
call, or ``okta.apps.manage`` with a role that reaches the app itself.

Pure functions over plain values (no database), so the table's tests need none.
"""

from __future__ import annotations

from dataclasses import dataclass

from grantsconsole.okta import scopes

__all__ = [
    "RANK",
    "Assessment",
    "HeldRole",
    "ScopeLine",
    "assess",
    "assess_integration",
]

# Effective risk as a number, for storing and sorting ("" = no manage scope).
RANK = {"": 0, "latent": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_TIERS = ("low", "medium", "high", "critical")
USER_FACING = frozenset({"web", "browser", "native"})


@dataclass(frozen=True, slots=True)
class RoleRule:
    """One row of the table: the scope resources the role may change ("*": any;
    ``excluded`` never) and how it reads."""

    resources: frozenset[str]
    reach: str  # untargeted, in words
    targets: str = ""  # "groups" | "apps": the role can be scoped to these
    narrower: bool = False  # one tier lower even untargeted
    excluded: frozenset[str] = frozenset()


_ALL = frozenset({"*"})
ROLES: dict[str, RoleRule] = {
    "SUPER_ADMIN": RoleRule(_ALL, "the whole org"),
    "ORG_ADMIN": RoleRule(
        _ALL,
        "the whole org except admin roles and API scope grants",
        excluded=frozenset({"roles", "appGrants"}),
    ),
    "APP_ADMIN": RoleRule(frozenset({"apps", "clients"}), "every app", "apps"),
    "USER_ADMIN": RoleRule(
        frozenset({"users", "groups"}), "every user and group", "groups"
    ),
    "HELP_DESK_ADMIN": RoleRule(
        frozenset({"users"}), "password resets of every user", "groups", True
    ),
    "GROUP_MEMBERSHIP_ADMIN": RoleRule(
        frozenset({"groups"}), "memberships of every group", "groups", True
    ),
    "API_ACCESS_MANAGEMENT_ADMIN": RoleRule(
        frozenset({"authorizationServers", "clients"}),
        "authorization servers and apps' OAuth settings",
    ),
    "MOBILE_ADMIN": RoleRule(frozenset({"devices"}), "every device"),
    "REPORT_ADMIN": RoleRule(frozenset(), "reports and the System Log, read-only"),
    "READ_ONLY_ADMIN": RoleRule(frozenset(), "read-only: changes nothing"),
}
_ESCALATION = ("okta.appGrants.manage", "okta.roles.manage", "okta.clients.manage")
_NOUNS = {"users": "every user", "groups": "every group", "apps": "every app"}


@dataclass(frozen=True, slots=True)
class HeldRole:
    """A role assignment as stored: ``groups``/``apps`` its targets (group names;
    OIN app names or app ids), ``resource_set`` a custom role's resource set
    (label, else id)."""

    type: str
    label: str = ""
    groups: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    resource_set: str = ""


@dataclass(frozen=True, slots=True)
class ScopeLine:
    """One held manage scope: ``text`` in words, ``risk`` effective (a tier,
    "latent", or the tier when the reach is unknown)."""

    scope_id: str
    text: str
    risk: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """An app's effective privilege: a line per held manage scope, the highest
    effective ``risk`` and its ``rank`` (RANK), ``latent`` (manage scopes, no
    role), ``self_escalation``, and ``note``: how the app acts, or why its
    reach is unknown."""

    lines: tuple[ScopeLine, ...]
    risk: str
    rank: int
    latent: bool
    self_escalation: bool
    note: str


def _lower(tier: str) -> str:
    return _TIERS[max(0, _TIERS.index(tier) - 1)] if tier in _TIERS else tier


def _tier(scope_id: str) -> str:
    return scopes.describe(scope_id).risk


def _one(role: HeldRole, scope_id: str) -> tuple[str, str, bool]:
    """(reach in words, effective risk, allows the scope's calls) for one role."""
    tier = _tier(scope_id)
    resource = scopes.describe(scope_id).resource
    name = role.type
    if name == "CUSTOM":
        where = role.resource_set or "an unnamed resource set"
        label = f"custom role {role.label}" if role.label else "a custom role"
        return f"with {label} on resource set {where}: within it", tier, True
    rule = ROLES.get(name)
    if rule is None:
        return f"with {name}: unknown reach", tier, True
    allows = ("*" in rule.resources or resource in rule.resources) and (
        resource not in rule.excluded
    )
    if not allows:
        return f"with {name}: nothing (the role can't make these calls)", "low", False
    targets = role.groups if rule.targets == "groups" else role.apps
    if rule.targets and targets:
        n, kind = len(targets), rule.targets
        noun = kind if n != 1 else kind[:-1]
        what = "users of those groups" if resource == "users" else f"those {kind}"
        return (
            f"with {name} on {n} {noun}: {what}",
            _lower(tier),
            True,
        )
    reach = _NOUNS.get(resource, rule.reach) if "*" in rule.resources else rule.reach
    return f"with {name}: {reach}", _lower(tier) if rule.narrower else tier, True


def _reaches_itself(role: HeldRole, okta_id: str, okta_name: str) -> bool:
    rule = ROLES.get(role.type)
    if rule is None or not ("*" in rule.resources or "apps" in rule.resources):
        return False
    if rule.targets == "apps" and role.apps:
        return okta_id in role.apps or okta_name in role.apps
    return True


def assess(
    application_type: str,
    scope_ids: list[str] | tuple[str, ...],
    roles: list[HeldRole] | tuple[HeldRole, ...] | None,
    *,
    roles_error: str = "",
    okta_id: str = "",
    okta_name: str = "",
) -> Assessment:
    """The table applied to one app.

    ``application_type``: Okta's (service, web, browser, native); ``scope_ids``:
    its grant collection; ``roles``: its client's role assignments, None when
    not read (``roles_error`` says why, e.g. a 403). ``okta_id``/``okta_name``:
    the app's id and Okta app name, to see whether an APP_ADMIN role reaches it.
    """
    manage = sorted(s for s in set(scope_ids) if scopes.is_manage(s))
    if application_type in USER_FACING:
        lines = tuple(
            ScopeLine(
                s, "acts as whoever signs in, within that person's role", _tier(s)
            )
            for s in manage
        )
        return _result(
            lines,
            latent=False,
            escalation=False,
            note="Acts as whoever signs in, within that person's admin role.",
        )
    if roles is None:
        why = (
            f"roles not readable: {roles_error}"
            if roles_error
            else "roles not read yet"
        )
        lines = tuple(ScopeLine(s, f"{why}; reach unknown", _tier(s)) for s in manage)
        return _result(lines, latent=False, escalation=False, note=why)
    if not roles:
        lines = tuple(
            ScopeLine(s, "with no role: nothing until a role is assigned", "latent")
            for s in manage
        )
        return _result(
            lines,
            latent=bool(manage),
            escalation=False,
            note="No admin role: latent risk, live the moment someone assigns one.",
        )
    out = []
    escalation = False
    for s in manage:
        readings = [(_one(r, s), r) for r in roles]
        (text, risk, _), _ = max(readings, key=lambda x: RANK[x[0][1]])
        out.append(ScopeLine(s, text, risk))
        for (_, _, allows), role in readings:
            if (s in _ESCALATION and allows) or (
                s == "okta.apps.manage" and _reaches_itself(role, okta_id, okta_name)
            ):
                escalation = True
    return _result(
        tuple(out),
        latent=False,
        escalation=escalation,
        note="Acts as itself, with its admin roles.",
    )


INTEGRATION_REACH = "an API service integration: needs no admin role, so all of it"


def assess_integration(scope_ids: list[str] | tuple[str, ...]) -> Assessment:
    """The table applied to an OIN API service integration holding
    ``scope_ids`` (its ``grantedScopes``): each manage scope at its tier."""
    lines = tuple(
        ScopeLine(s, INTEGRATION_REACH, _tier(s))
        for s in sorted(set(scope_ids))
        if scopes.is_manage(s)
    )
    return _result(
        lines,
        latent=False,
        escalation=False,
        note="Acts as itself with its granted scopes; needs no admin role.",
    )


def _result(
    lines: tuple[ScopeLine, ...], *, latent: bool, escalation: bool, note: str
) -> Assessment:
    risk = max((ln.risk for ln in lines), key=RANK.__getitem__, default="")
    return Assessment(lines, risk, RANK[risk], latent, escalation, note)
